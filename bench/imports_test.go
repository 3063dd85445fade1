package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/reports"
)

// TestImportScores: pyiqa's --save_file output for a metric the run does
// not compute joins the run's records, labelled imported in the tables,
// with its file's hash as the metric's fingerprint; bad files change
// nothing and say why.
func TestImportScores(t *testing.T) {
	dir := t.TempDir()
	spec, err := LoadSpec(writeSpec(t, dir, makeSet(t, 3)))
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if _, err := Run(context.Background(), spec, RunOptions{Out: run}); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	opts := ImportOptions{Metric: "musiq", Dataset: "set", Method: "bicubic", Source: "pyiqa 0.1.13 musiq, CUDA"}
	// pyiqa: image name with extension, a tab, the score.
	tsv := write("musiq.txt", "/data/out/img00_out.png\t61.5\n/data/out/img01_out.png\t40.25\n/data/out/img02_out.png\t55\n")
	if _, err := ImportScores(run, tsv, opts); err == nil || !strings.Contains(err.Error(), "img00_out") || !strings.Contains(err.Error(), "--dist-pattern") {
		t.Errorf("names with a suffix and no pattern: %v", err)
	}
	opts.Pattern, _ = datasets.ParseStemPattern("{stem}_out")
	im, err := ImportScores(run, tsv, opts)
	if err != nil {
		t.Fatal(err)
	}
	if im.Direction != "higher" || len(im.Values) != 3 || im.SHA256 == "" {
		t.Errorf("import %+v", im)
	}
	e, _, err := LoadExperiment(run)
	if err != nil {
		t.Fatal(err)
	}
	agg := e.Aggregate()
	if got := agg.Mean["set"][reportsColumn("bicubic")]["musiq"]; math.Abs(got-(61.5+40.25+55)/3) > 1e-12 {
		t.Errorf("musiq mean %v", got)
	}
	if _, ok := agg.Mean["set"][reportsColumn("nearest")]["musiq"]; ok {
		t.Error("nearest got bicubic's imported scores")
	}
	if !strings.HasPrefix(e.MetricFingerprints["musiq"], "imported;set/bicubic/0:") {
		t.Errorf("fingerprint %q", e.MetricFingerprints["musiq"])
	}
	var md strings.Builder
	for _, c := range e.Tables() {
		c.WriteMarkdown(&md)
	}
	if !strings.Contains(md.String(), "musiq [imported] ↑") || !strings.Contains(md.String(), "imports.json") {
		t.Errorf("table:\n%s", md.String())
	}
	before, _ := os.ReadFile(filepath.Join(run, ImportsFile))
	for _, c := range []struct {
		name, text string
		o          ImportOptions
		want       string
	}{
		{"again.txt", "img00\t1\nimg01\t2\nimg02\t3\n", ImportOptions{Metric: "musiq", Dataset: "set", Method: "bicubic"}, "--replace"},
		{"short.csv", "image,musiq\nimg00.png,1\n", ImportOptions{Metric: "musiq", Dataset: "set", Method: "nearest"}, "no score for 2 of the 3 images"},
		{"extra.json", `{"img00": 1, "img01": 2, "img02": 3, "img09": 4}`, ImportOptions{Metric: "musiq", Dataset: "set", Method: "nearest"}, "img09"},
		{"psnr.txt", "img00\t1\n", ImportOptions{Metric: "psnr", Dataset: "set", Method: "nearest"}, "computed by this run itself"},
		{"topiq.txt", "img00\t1\n", ImportOptions{Metric: "topiq_nr", Dataset: "set", Method: "nearest"}, "--direction"},
		{"nan.txt", "img00\t1\nimg01\tfast\n", ImportOptions{Metric: "musiq", Dataset: "set", Method: "nearest"}, `nan.txt:2: score "fast" is not a number`},
		{"cols.csv", "image,clipiqa,maniqa\nimg00,1,2\n", ImportOptions{Metric: "musiq", Dataset: "set", Method: "nearest"}, "no column named musiq"},
		{"m.txt", "img00\t1\n", ImportOptions{Metric: "musiq", Dataset: "set", Method: "AddSR", Steps: 4}, "no records of method AddSR at steps 4"},
	} {
		if _, err := ImportScores(run, write(c.name, c.text), c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(run, ImportsFile)); string(after) != string(before) {
		t.Error("a refused import changed imports.json")
	}
	// A CSV with a column per metric, and an unknown metric with its
	// direction given.
	if _, err := ImportScores(run, write("multi.csv", "image,clipiqa,musiq\nimg00,0.1,50\nimg01,0.2,51\nimg02,0.3,52\n"),
		ImportOptions{Metric: "musiq", Dataset: "set", Method: "nearest"}); err != nil {
		t.Error(err)
	}
	if _, err := ImportScores(run, write("topiq.json", `{"img00": 0.5, "img01": 0.6, "img02": 0.7}`),
		ImportOptions{Metric: "topiq_nr", Direction: "higher", Dataset: "set", Method: "nearest"}); err != nil {
		t.Error(err)
	}
	// check: the same imports compare; another file for the same column is
	// not comparable.
	base, baseRecs, err := LoadSummary(run)
	if err != nil {
		t.Fatal(err)
	}
	tol, _ := ParseTolerances("")
	if res := Check(base, base, baseRecs, baseRecs, tol, CheckOptions{}); res.Regressions != 0 || len(res.Incompatible) != 0 {
		t.Errorf("self-check: %+v", res)
	}
	opts.Replace = true
	if _, err := ImportScores(run, write("musiq2.txt", "img00_out.png\t60\nimg01_out.png\t40\nimg02_out.png\t55\n"), opts); err != nil {
		t.Fatal(err)
	}
	cur, curRecs, _ := LoadSummary(run)
	if res := Check(base, cur, baseRecs, curRecs, tol, CheckOptions{}); !strings.Contains(strings.Join(res.Incompatible, "\n"), "musiq") {
		t.Errorf("check across different imported files: %+v", res.Incompatible)
	}
}

func reportsColumn(method string) reports.Column { return reports.Column{Method: method} }

// TestResumeAddsMetrics: a spec that only adds metrics resumes its run,
// scoring the kept outputs with them (no method runs again); where outputs
// were not kept, those jobs run again. Either way the records equal a fresh
// run's of the new spec, fingerprints included. Other changes are refused.
func TestResumeAddsMetrics(t *testing.T) {
	set := makeSet(t, 3)
	for _, keep := range []bool{true, false} {
		dir := t.TempDir()
		text := func(metrics string) string {
			return fmt.Sprintf("keep_outputs: %v\ndatasets:\n  - {name: s, path: %s}\nmetrics: [%s]\nmethods:\n  - {name: b, runner: bicubic}\n  - {name: n, runner: nearest}\n", keep, set, metrics)
		}
		p := filepath.Join(dir, "spec.yaml")
		load := func(s string) *Spec {
			os.WriteFile(p, []byte(s), 0o644)
			spec, err := LoadSpec(p)
			if err != nil {
				t.Fatal(err)
			}
			return spec
		}
		run := filepath.Join(dir, "run")
		if _, err := Run(context.Background(), load(text("psnr")), RunOptions{Out: run}); err != nil {
			t.Fatal(err)
		}
		spec := load(text("psnr, ssim, niqe"))
		if _, err := Run(context.Background(), spec, RunOptions{Out: run}); err == nil || !strings.Contains(err.Error(), "without ssim, niqe; pass --resume") {
			t.Errorf("keep=%v: added metrics without --resume: %v", keep, err)
		}
		sum, err := Run(context.Background(), spec, RunOptions{Out: run, Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		wantRescored, wantJobs := 6, 0
		if !keep {
			wantRescored, wantJobs = 0, 6
		}
		if sum.Rescored != wantRescored || sum.Jobs != wantJobs || strings.Join(sum.Added, ",") != "ssim,niqe" {
			t.Errorf("keep=%v: %+v", keep, sum)
		}
		fresh := filepath.Join(dir, "fresh")
		if _, err := Run(context.Background(), spec, RunOptions{Out: fresh}); err != nil {
			t.Fatal(err)
		}
		got, _ := ReadRunRecords(run)
		want, _ := ReadRunRecords(fresh)
		if g, w := strings.Join(comparable(got), "\n"), strings.Join(comparable(want), "\n"); g != w {
			t.Errorf("keep=%v: resumed records\n%s\nfresh run's\n%s", keep, g, w)
		}
		if raw, _ := os.ReadFile(filepath.Join(run, "spec.yaml")); string(raw) != text("psnr, ssim, niqe") {
			t.Errorf("keep=%v: the run's spec copy was not updated", keep)
		}
		// Resuming again does nothing; changing anything but the metrics is refused.
		if sum, err := Run(context.Background(), spec, RunOptions{Out: run, Resume: true}); err != nil || sum.Jobs != 0 || sum.Rescored != 0 {
			t.Errorf("keep=%v: second resume %+v %v", keep, sum, err)
		}
		if _, err := Run(context.Background(), load("crop_border: 2\n"+text("psnr, ssim, niqe, psnry")), RunOptions{Out: run, Resume: true}); err == nil || !strings.Contains(err.Error(), "different spec") {
			t.Errorf("keep=%v: crop_border changed: %v", keep, err)
		}
	}
}

// TestResumeAddsMetricsShards: shards sharing a run folder each resume with
// the added metrics, the second after the first has rewritten the spec copy.
func TestResumeAddsMetricsShards(t *testing.T) {
	dir := t.TempDir()
	set := makeSet(t, 4)
	p := filepath.Join(dir, "spec.yaml")
	load := func(metrics string) *Spec {
		os.WriteFile(p, []byte(fmt.Sprintf("keep_outputs: true\ndatasets:\n  - {name: s, path: %s}\nmetrics: [%s]\nmethods:\n  - {name: b, runner: bicubic}\n", set, metrics)), 0o644)
		spec, err := LoadSpec(p)
		if err != nil {
			t.Fatal(err)
		}
		return spec
	}
	run := filepath.Join(dir, "run")
	old := load("psnr")
	for i := range 2 {
		if _, err := Run(context.Background(), old, RunOptions{Out: run, Shard: Shard{Index: i, Count: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	spec := load("psnr, ssim")
	total := 0
	for i := range 2 {
		sum, err := Run(context.Background(), spec, RunOptions{Out: run, Shard: Shard{Index: i, Count: 2}, Resume: true})
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
		total += sum.Rescored
		if sum.Jobs != 0 {
			t.Errorf("shard %d ran %d jobs", i, sum.Jobs)
		}
	}
	recs, _ := ReadRunRecords(run)
	for _, r := range recs {
		if _, ok := r.Values["ssim"]; !ok {
			t.Errorf("%s has no ssim", r.Image)
		}
	}
	if total != 4 || len(recs) != 4 {
		t.Errorf("%d rescored, %d records", total, len(recs))
	}
}
