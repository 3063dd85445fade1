package bench

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/internal/filehash"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/reports"
)

// Scores computed elsewhere (pyiqa's output for metrics whose weights a
// user cannot export) are kept beside a run's own records, in
// RUN/imports.json, with where they came from. LoadExperiment joins them to
// the records as values of their metric, labelled imported in every table,
// and their files' hashes become the metric's fingerprint for check.

// ImportsFile is the run folder's list of imported scores.
const ImportsFile = "imports.json"

// Import is one file of scores for one metric of one method at one step
// count on one dataset.
type Import struct {
	Metric    string             `json:"metric"`
	Direction string             `json:"direction"` // higher or lower
	Dataset   string             `json:"dataset"`
	Method    string             `json:"method"`
	Steps     int                `json:"steps,omitempty"`
	Source    string             `json:"source"` // what computed them, in the user's words
	File      string             `json:"file"`
	SHA256    string             `json:"sha256"`
	Imported  string             `json:"imported"` // RFC 3339
	Tool      string             `json:"tool"`
	Values    map[string]float64 `json:"values"` // image stem → score
}

// ImportOptions say which column of a run a score file belongs to.
type ImportOptions struct {
	Metric    string
	Direction string // higher or lower; from the metric when it is one of addsr-bench's
	Dataset   string
	Method    string
	Steps     int
	Source    string
	Pattern   datasets.StemPattern // file names in the scores → image stems
	// Replace lets an import take the place of an earlier one of the same
	// metric and column.
	Replace bool
	// AllowMissing accepts a file without a score for some scored image
	// (those images then lack the metric and check fails them).
	AllowMissing bool
}

// ReadImports reads a run's imports (none when the file is absent).
func ReadImports(runDir string) ([]Import, error) {
	data, err := os.ReadFile(filepath.Join(runDir, ImportsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Import
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(runDir, ImportsFile), err)
	}
	return out, nil
}

// ImportScores adds the scores in file to the run. Every image in the file
// must be one the run scored for that column, and (unless AllowMissing)
// every image the run scored must have a score; the metric must not be one
// the run computes itself. Nothing is written when any of that fails.
func ImportScores(runDir, file string, o ImportOptions) (Import, error) {
	o.Metric = strings.ToLower(strings.TrimSpace(o.Metric))
	if o.Metric == "" || o.Dataset == "" || o.Method == "" {
		return Import{}, errors.New("import needs --metric, --dataset and --method")
	}
	dir := o.Direction
	if m, err := metrics.New(o.Metric, metrics.Config{}); err == nil {
		if dir != "" && dir != m.Direction().String() {
			return Import{}, fmt.Errorf("--direction %s: %s is %s-is-better", dir, o.Metric, m.Direction())
		}
		dir = m.Direction().String()
	}
	if dir != "higher" && dir != "lower" {
		return Import{}, fmt.Errorf("%s is not one of addsr-bench's metrics: say which way it improves with --direction higher or lower", o.Metric)
	}
	e, spec, err := LoadExperiment(runDir)
	if err != nil {
		return Import{}, err
	}
	for _, m := range spec.Metrics {
		if m.Name == o.Metric {
			return Import{}, fmt.Errorf("%s is computed by this run itself; import scores only for metrics it does not compute", o.Metric)
		}
	}
	scored := map[string]bool{}
	known := false
	for _, r := range e.Records {
		if r.Dataset == o.Dataset && r.Method == o.Method && r.Steps == o.Steps {
			known = true
			if !r.Skipped() {
				scored[r.Image] = true
			}
		}
	}
	if !known {
		return Import{}, fmt.Errorf("%s has no records of method %s at steps %d on dataset %s (see its report's columns)", runDir, o.Method, o.Steps, o.Dataset)
	}
	values, err := readScores(file, o.Metric, o.Pattern)
	if err != nil {
		return Import{}, err
	}
	var unknown, missing []string
	for id := range values {
		if !scored[id] {
			unknown = append(unknown, id)
		}
	}
	for id := range scored {
		if _, ok := values[id]; !ok {
			missing = append(missing, id)
		}
	}
	slices.Sort(unknown)
	slices.Sort(missing)
	if len(unknown) > 0 {
		return Import{}, fmt.Errorf("%s: %d images are not scored images of %s at steps %d on %s: %s (a suffix in the names? use --dist-pattern)",
			file, len(unknown), o.Method, o.Steps, o.Dataset, listSome(unknown))
	}
	if len(missing) > 0 && !o.AllowMissing {
		return Import{}, fmt.Errorf("%s has no score for %d of the %d images the run scored: %s (--allow-missing imports it anyway)",
			file, len(missing), len(scored), listSome(missing))
	}
	_, sum, err := filehash.SHA256(file)
	if err != nil {
		return Import{}, err
	}
	abs, _ := filepath.Abs(file)
	im := Import{Metric: o.Metric, Direction: dir, Dataset: o.Dataset, Method: o.Method, Steps: o.Steps, Source: o.Source,
		File: abs, SHA256: sum, Imported: time.Now().UTC().Format(time.RFC3339), Tool: "addsr-bench " + Version, Values: values}
	all, err := ReadImports(runDir)
	if err != nil {
		return Import{}, err
	}
	for i, old := range all {
		if old.Metric == im.Metric && old.Dataset == im.Dataset && old.Method == im.Method && old.Steps == im.Steps {
			if !o.Replace {
				return Import{}, fmt.Errorf("%s at steps %d on %s already has imported %s scores (from %s); --replace takes their place",
					o.Method, o.Steps, o.Dataset, o.Metric, old.File)
			}
			all = slices.Delete(all, i, i+1)
			break
		}
	}
	for _, old := range all {
		if old.Metric == im.Metric && old.Direction != im.Direction {
			return Import{}, fmt.Errorf("%s was imported before as %s-is-better", im.Metric, old.Direction)
		}
	}
	all = append(all, im)
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return Import{}, err
	}
	return im, atomicfile.WriteBytes(filepath.Join(runDir, ImportsFile), append(data, '\n'))
}

// readScores reads a score file: JSON {"name": score}, or text rows of
// name and score separated by a tab (pyiqa's inference_iqa.py --save_file)
// or a comma, with an optional header; a CSV with several score columns
// needs a header with the metric's name. Names may carry folders and
// extensions; pat maps the rest to image stems.
func readScores(path, metric string, pat datasets.StemPattern) (map[string]float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw := map[string]float64{}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("%s: want {\"image\": score, …}: %w", path, err)
		}
	} else if raw, err = readScoreRows(path, string(data), metric); err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for name, v := range raw {
		stem := datasets.Stem(strings.ReplaceAll(name, `\`, "/"))
		id, ok := pat.Match(stem)
		if !ok {
			return nil, fmt.Errorf("%s: %s does not fit --dist-pattern %s", path, name, pat)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("%s: two scores for image %s", path, id)
		}
		out[id] = v
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no scores", path)
	}
	return out, nil
}

func readScoreRows(path, text, metric string) (map[string]float64, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = ','
	if first, _, _ := strings.Cut(text, "\n"); strings.Contains(first, "\t") {
		r.Comma = '\t'
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	out := map[string]float64{}
	col := 1
	for line := 1; ; line++ {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		row = slices.DeleteFunc(row, func(s string) bool { return s == "" })
		if len(row) == 0 {
			continue
		}
		if line == 1 && len(row) >= 2 {
			if _, err := strconv.ParseFloat(row[len(row)-1], 64); err != nil { // a header
				if len(row) > 2 {
					col = slices.IndexFunc(row, func(s string) bool { return strings.EqualFold(s, metric) })
					if col < 1 {
						return nil, fmt.Errorf("%s:1: no column named %s among %v", path, metric, row)
					}
				}
				continue
			}
		}
		if len(row) <= col {
			return nil, fmt.Errorf("%s:%d: want an image name and a score, got %q", path, line, strings.Join(row, " "))
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(row[col]), 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: score %q is not a number", path, line, row[col])
		}
		if _, dup := out[row[0]]; dup {
			return nil, fmt.Errorf("%s:%d: %s is scored twice", path, line, row[0])
		}
		out[row[0]] = v
	}
	return out, nil
}

// applyImports joins a run's imports to its experiment: the values go into
// the matching scored records, each imported metric gets a row (labelled
// imported) and a fingerprint made of its files' hashes.
func applyImports(e *reports.Experiment, imports []Import) {
	fps := map[string][]string{}
	for _, im := range imports {
		if !slices.ContainsFunc(e.Metrics, func(m reports.MetricRow) bool { return m.Name == im.Metric }) {
			d := metrics.HigherIsBetter
			if im.Direction == "lower" {
				d = metrics.LowerIsBetter
			}
			e.Metrics = append(e.Metrics, reports.MetricRow{Name: im.Metric, Direction: d, Imported: true})
		}
		fps[im.Metric] = append(fps[im.Metric], fmt.Sprintf("%s/%s/%d:%s", im.Dataset, im.Method, im.Steps, im.SHA256[:16]))
		for i := range e.Records {
			r := &e.Records[i]
			if r.Dataset != im.Dataset || r.Method != im.Method || r.Steps != im.Steps || r.Skipped() {
				continue
			}
			if v, ok := im.Values[r.Image]; ok {
				if r.Values == nil {
					r.Values = map[string]float64{}
				}
				r.Values[im.Metric] = v
			}
		}
	}
	for m, list := range fps {
		slices.Sort(list)
		e.MetricFingerprints[m] = "imported;" + strings.Join(list, ";")
	}
}
