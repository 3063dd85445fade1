package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/addsr-bench/addsr-bench/metrics"
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
	Status                         string // "ok", "better", "REGRESSION", "missing"
}

// CheckResult is the outcome of a comparison.
type CheckResult struct {
	Rows        []CheckRow
	Regressions int
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
func Check(baseline, run reports.Summary, baseRecs, runRecs []reports.Record, tol map[string]Tolerance, perImage bool) CheckResult {
	var res CheckResult
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
	if r.Regressions == 0 {
		fmt.Fprintf(&b, "## Quality check: PASS\n\n%d values compared, no regression.\n\n", len(r.Rows))
	} else {
		fmt.Fprintf(&b, "## Quality check: FAIL\n\n%d of %d values regressed.\n\n", r.Regressions, len(r.Rows))
	}
	b.WriteString("| Dataset | Method | Image | Metric | Baseline | Current | Δ | Allowed | Status |\n|---|---|---|---|---:|---:|---:|---:|---|\n")
	rows := append([]CheckRow(nil), r.Rows...)
	sort.SliceStable(rows, func(i, j int) bool {
		return (rows[i].Status == "REGRESSION" || rows[i].Status == "missing") && !(rows[j].Status == "REGRESSION" || rows[j].Status == "missing")
	})
	for _, x := range rows {
		image := x.Image
		if image == "" {
			image = "(mean)"
		}
		cur, delta := reports.FormatValue(x.Current), reports.FormatValue(x.Current-x.Baseline)
		if x.Status == "missing" {
			cur, delta = "–", "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %.4g | %s |\n", x.Dataset, x.Column, image, x.Metric,
			reports.FormatValue(x.Baseline), cur, delta, x.Allowed, x.Status)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
