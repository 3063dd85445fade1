package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/reports"
)

// Tolerance is how much worse a metric may get before it is a regression:
// an absolute amount, or a fraction of the baseline when Relative.
type Tolerance struct {
	Value    float64
	Relative bool
}

// ParseTolerances reads "psnr=0.05,lpips=2%,*=1e-6" ("*" is the default).
func ParseTolerances(s string) (map[string]Tolerance, error) {
	out := map[string]Tolerance{"*": {Value: 1e-9}}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return nil, fmt.Errorf("tolerance %q: want metric=value or metric=value%%", part)
		}
		t := Tolerance{}
		if strings.HasSuffix(v, "%") {
			t.Relative, v = true, strings.TrimSuffix(v, "%")
		}
		if k == "" {
			return nil, fmt.Errorf("tolerance %q: no metric name before =", part)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0) { // NaN too
			return nil, fmt.Errorf("tolerance %q: %q is not a non-negative number", part, v)
		}
		if t.Relative {
			f /= 100
		}
		t.Value = f
		out[strings.ToLower(k)] = t
	}
	return out, nil
}

// CheckRow is one compared value.
type CheckRow struct {
	Dataset, Column, Image, Metric string
	Baseline, Current, Allowed     float64
	Status                         string // "ok", "better", "REGRESSION", "missing", "IMAGES"
	// Note says which images a mean lacks or adds (Status "IMAGES").
	Note string
}

// CheckResult is the outcome of a comparison.
type CheckResult struct {
	Rows        []CheckRow
	Regressions int
	// Incompatible lists metrics whose configuration (convention, crop,
	// weights, device) differs between baseline and run: their values are
	// not comparable, which is an error, not a verdict. Metrics and methods
	// that are random-weight test fixtures are listed here too: they gate
	// nothing.
	Incompatible []string
}

// CheckOptions: PerImage compares every image too (the baseline must be a
// run folder); AllowMissing lets a mean over other images than the
// baseline's pass (the behaviour before image sets were compared).
type CheckOptions struct {
	PerImage, AllowMissing bool
}

// LoadSummary reads a baseline: a run folder (its records are aggregated)
// or a summary.json written by `addsr-bench report`.
func LoadSummary(path string) (reports.Summary, []reports.Record, error) {
	st, err := os.Stat(path)
	if err != nil {
		return reports.Summary{}, nil, err
	}
	if st.IsDir() {
		e, _, err := LoadExperiment(path)
		if err != nil {
			return reports.Summary{}, nil, err
		}
		return e.Summary(), e.Records, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return reports.Summary{}, nil, err
	}
	var s reports.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return reports.Summary{}, nil, fmt.Errorf("%s: not a summary.json: %w", path, err)
	}
	if s.Means == nil {
		return reports.Summary{}, nil, fmt.Errorf("%s: no \"means\": not a summary.json from addsr-bench report", filepath.Base(path))
	}
	return s, nil, nil
}

// Check compares a run with a baseline, metric by metric in each one's
// direction: a drop in PSNR or a rise in LPIPS or NIQE beyond the tolerance
// is a regression; so is a value the run lacks. With perImage, per-image
// records are compared too (the baseline must be a run folder).
//
// A mean over other images than the baseline's (lost, corrupt or skipped
// images, a single shard) is a failure naming them, unless AllowMissing.
// Metrics configured differently (Incompatible) are compared no further.
func Check(baseline, run reports.Summary, baseRecs, runRecs []reports.Record, tol map[string]Tolerance, o CheckOptions) CheckResult {
	perImage := o.PerImage
	var res CheckResult
	for name, s := range map[string]reports.Summary{"baseline": baseline, "run": run} {
		if s.IncompleteRecords > 0 {
			res.Incompatible = append(res.Incompatible, fmt.Sprintf("the %s is an incomplete merge (%d records missing): merge all shards first", name, s.IncompleteRecords))
		}
	}
	for _, m := range sortedKeysOf(baseline.MetricFingerprints) {
		if cur, ok := run.MetricFingerprints[m]; ok && cur != baseline.MetricFingerprints[m] {
			res.Incompatible = append(res.Incompatible, fmt.Sprintf("%s: baseline %s, run %s", m, baseline.MetricFingerprints[m], cur))
		}
	}
	for _, s := range []reports.Summary{baseline, run} {
		for _, m := range sortedKeysOf(s.MetricFingerprints) {
			if strings.Contains(s.MetricFingerprints[m], models.FixtureMark) {
				res.Incompatible = append(res.Incompatible, fmt.Sprintf("%s: scored by a random-weight test fixture, not the metric's model; export the real one (docs/metrics.md)", m))
			}
		}
		for _, m := range s.FixtureMethods {
			res.Incompatible = append(res.Incompatible, fmt.Sprintf("method %s: a random-weight test fixture, not the model", m))
		}
	}
	slices.Sort(res.Incompatible)
	res.Incompatible = slices.Compact(res.Incompatible)
	if len(res.Incompatible) > 0 {
		return res
	}
	if !o.AllowMissing {
		for _, d := range sortedKeysOf(baseline.Images) {
			for _, col := range sortedKeysOf(baseline.Images[d]) {
				missing, extra := setDiff(baseline.Images[d][col], run.Images[d][col]), setDiff(run.Images[d][col], baseline.Images[d][col])
				if len(missing)+len(extra) == 0 {
					continue
				}
				var note []string
				if len(missing) > 0 {
					note = append(note, fmt.Sprintf("%d of %d images missing: %s", len(missing), len(baseline.Images[d][col]), listSome(missing)))
				}
				if len(extra) > 0 {
					note = append(note, fmt.Sprintf("%d not in the baseline: %s", len(extra), listSome(extra)))
				}
				res.Rows = append(res.Rows, CheckRow{Dataset: d, Column: col, Metric: "(images)", Status: "IMAGES", Note: strings.Join(note, "; ")})
				res.Regressions++
			}
		}
	}
	dir := func(metric string) metrics.Direction {
		if baseline.Directions[metric] == "lower" || (baseline.Directions[metric] == "" && run.Directions[metric] == "lower") {
			return metrics.LowerIsBetter
		}
		return metrics.HigherIsBetter
	}
	compare := func(row CheckRow, have bool) {
		t, ok := tol[row.Metric]
		if !ok {
			t = tol["*"]
		}
		row.Allowed = t.Value
		if t.Relative {
			row.Allowed = t.Value * math.Abs(row.Baseline)
		}
		d := dir(row.Metric)
		switch {
		case !have:
			row.Status = "missing"
			res.Regressions++
		case math.IsInf(row.Baseline, 0) && row.Current == row.Baseline:
			row.Status = "ok"
		case d.Better(row.Baseline, row.Current) && math.Abs(row.Current-row.Baseline) > row.Allowed:
			row.Status = "REGRESSION"
			res.Regressions++
		case d.Better(row.Current, row.Baseline):
			row.Status = "better"
		default:
			row.Status = "ok"
		}
		res.Rows = append(res.Rows, row)
	}
	for _, d := range sortedKeysOf(baseline.Means) {
		for _, col := range sortedKeysOf(baseline.Means[d]) {
			for _, m := range sortedKeysOf(baseline.Means[d][col]) {
				cur, ok := run.Means[d][col][m]
				compare(CheckRow{Dataset: d, Column: col, Metric: m, Baseline: baseline.Means[d][col][m], Current: cur}, ok)
			}
		}
	}
	if perImage && baseRecs != nil {
		cur := map[string]reports.Record{}
		for _, r := range runRecs {
			cur[KeyOf(r).String()] = r
		}
		for _, b := range baseRecs {
			if b.Skipped() {
				continue
			}
			r, ok := cur[KeyOf(b).String()]
			col := reports.Column{Method: b.Method, Steps: b.Steps}.Label()
			for _, m := range sortedKeysOf(b.Values) {
				v, have := r.Values[m]
				compare(CheckRow{Dataset: b.Dataset, Column: col, Image: b.Image, Metric: m, Baseline: b.Values[m], Current: v}, ok && have)
			}
		}
	}
	return res
}

// UnknownTolerances lists the tolerance names (other than "*") that are no
// metric of the baseline, and the baseline's metrics: a misspelt name would
// otherwise leave its metric at the strict default, unnoticed.
func UnknownTolerances(baseline reports.Summary, tol map[string]Tolerance) (unknown, known []string) {
	have := map[string]bool{}
	for _, cols := range baseline.Means {
		for _, ms := range cols {
			for m := range ms {
				have[m] = true
			}
		}
	}
	for _, k := range sortedKeysOf(tol) {
		if k != "*" && !have[k] {
			unknown = append(unknown, k)
		}
	}
	return unknown, sortedKeysOf(have)
}

// setDiff is a \ b for sorted or unsorted lists.
func setDiff(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// listSome names up to 10 items and how many more.
func listSome(v []string) string {
	if len(v) <= 10 {
		return strings.Join(v, ", ")
	}
	return strings.Join(v[:10], ", ") + fmt.Sprintf(" and %d more", len(v)-10)
}

func sortedKeysOf[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// WriteMarkdown summarises the check for a CI log: regressions first, then
// the full comparison.
func (r CheckResult) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	if len(r.Incompatible) > 0 {
		fmt.Fprintf(&b, "## Quality check: NOT COMPARABLE\n\nThe metrics are configured differently in the baseline and the run; their values cannot be compared:\n\n")
		for _, x := range r.Incompatible {
			fmt.Fprintf(&b, "- %s\n", x)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	if r.Regressions == 0 {
		fmt.Fprintf(&b, "## Quality check: PASS\n\n%d values compared, no regression.\n\n", len(r.Rows))
	} else {
		fmt.Fprintf(&b, "## Quality check: FAIL\n\n%d of %d values regressed.\n\n", r.Regressions, len(r.Rows))
	}
	b.WriteString("| Dataset | Method | Image | Metric | Baseline | Current | Δ | Allowed | Status |\n|---|---|---|---|---:|---:|---:|---:|---|\n")
	rows := append([]CheckRow(nil), r.Rows...)
	bad := func(x CheckRow) bool {
		return x.Status == "REGRESSION" || x.Status == "missing" || x.Status == "IMAGES"
	}
	sort.SliceStable(rows, func(i, j int) bool { return bad(rows[i]) && !bad(rows[j]) })
	for _, x := range rows {
		image := x.Image
		if image == "" {
			image = "(mean)"
		}
		cur, delta := reports.FormatValue(x.Current), reports.FormatValue(x.Current-x.Baseline)
		if x.Status == "missing" {
			cur, delta = "–", "–"
		}
		if x.Status == "IMAGES" {
			fmt.Fprintf(&b, "| %s | %s | (mean) | – | – | – | – | – | IMAGES: %s |\n", x.Dataset, x.Column, x.Note)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %.4g | %s |\n", x.Dataset, x.Column, image, x.Metric,
			reports.FormatValue(x.Baseline), cur, delta, x.Allowed, x.Status)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
