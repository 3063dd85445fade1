package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/reports"
	"github.com/addsr-bench/addsr-bench/runners"
)

// DemoMetrics are scored by the demo: both PSNR/SSIM conventions and NIQE.
var DemoMetrics = []string{"psnr", "ssim", "psnr-basicsr", "ssim-basicsr", "niqe"}

// DemoOptions controls Demo.
type DemoOptions struct {
	OutDir  string // must not exist yet; created atomically
	Crop    int    // HR crop size (512)
	Scale   int    // 4
	Workers int
	// Progress, when set, is told the number of jobs and returns the
	// function to call after each.
	Progress func(total int) (step func())
}

// DemoResult names what the demo wrote.
type DemoResult struct {
	OutDir  string
	Table   string // Markdown
	Records string // JSON, one object per (image, method)
	Plot    string // PNG
	Summary reports.Comparison
}

// Demo runs the main job on the embedded sample photos: 512² centre crops →
// LR by MATLAB bicubic ×1/4 (saved as 8-bit PNG) → SR by each built-in
// runner → scores against the HR crop → a Markdown table, per-image records
// and a perception–distortion plot. Everything is written into a temporary
// folder beside OutDir and renamed into place at the end, so an interrupted
// demo leaves no partial output.
func Demo(ctx context.Context, opts DemoOptions) (DemoResult, error) {
	if opts.Crop == 0 {
		opts.Crop = 512
	}
	if opts.Scale == 0 {
		opts.Scale = 4
	}
	if opts.Crop%opts.Scale != 0 {
		return DemoResult{}, fmt.Errorf("crop %d must be a multiple of the scale %d", opts.Crop, opts.Scale)
	}
	if _, err := os.Stat(opts.OutDir); err == nil {
		return DemoResult{}, fmt.Errorf("%s already exists; choose a new --out folder", opts.OutDir)
	}
	if err := os.MkdirAll(filepath.Dir(opts.OutDir), 0o755); err != nil {
		return DemoResult{}, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(opts.OutDir), "."+filepath.Base(opts.OutDir)+".tmp")
	if err != nil {
		return DemoResult{}, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()

	samples, err := datasets.Samples()
	if err != nil {
		return DemoResult{}, err
	}
	ms, err := metrics.NewList(joinComma(DemoMetrics), metrics.Config{})
	if err != nil {
		return DemoResult{}, err
	}
	rs := []runners.Runner{runners.Bicubic{Factor: opts.Scale}, runners.Nearest{Factor: opts.Scale}}

	// Test set: HR crops and their bicubic LR, saved as a dataset would be.
	type pair struct {
		name   string
		hr, lr *img.Image
	}
	set := make([]pair, len(samples))
	for i, s := range samples {
		if s.Image.W < opts.Crop || s.Image.H < opts.Crop {
			return DemoResult{}, fmt.Errorf("sample %s is %dx%d, smaller than the %d² crop", s.Name, s.Image.W, s.Image.H, opts.Crop)
		}
		hr, err := s.Image.CenterCrop(opts.Crop, opts.Crop)
		if err != nil {
			return DemoResult{}, err
		}
		lr, err := imresize.Image(hr, 1/float64(opts.Scale))
		if err != nil {
			return DemoResult{}, err
		}
		set[i] = pair{s.Name, hr, lr.Quantized()}
		for _, f := range []struct {
			dir string
			m   *img.Image
		}{{"hr", hr}, {"lr", set[i].lr}} {
			if err := saveIn(tmp, f.dir, s.Name+".png", f.m); err != nil {
				return DemoResult{}, err
			}
		}
	}

	jobs := len(set) * len(rs)
	step := func() {}
	if opts.Progress != nil {
		step = opts.Progress(jobs)
	}
	recs := make([]reports.Record, jobs)
	errs := make([]error, jobs)
	perr := workpool.Run(ctx, jobs, opts.Workers, func(k int) {
		defer step()
		p, r := set[k/len(rs)], rs[k%len(rs)]
		rec := reports.Record{Dataset: "demo", Image: p.name, Method: r.Name()}
		res, err := r.Run(ctx, runners.Input{ID: p.name, Dataset: "demo", LR: p.lr})
		if err != nil {
			errs[k] = fmt.Errorf("%s on %s: %w", r.Name(), p.name, err)
			return
		}
		// Score what a user would get from disk: the 8-bit PNG.
		sr := res.Outputs[0].Image.Quantized()
		if err := saveIn(tmp, filepath.Join("sr", r.Name()), p.name+".png", sr); err != nil {
			errs[k] = err
			return
		}
		rec.Values, err = ScoreImages(sr, p.hr, ms)
		if err != nil {
			errs[k] = fmt.Errorf("%s on %s: %w", r.Name(), p.name, err)
			return
		}
		rec.TimingsMS = map[string]float64{}
		for _, s := range res.Stages {
			rec.TimingsMS[s.Name] = float64(s.Duration.Microseconds()) / 1000
		}
		recs[k] = rec
	})
	if err := errors.Join(append([]error{perr}, errs...)...); err != nil {
		return DemoResult{}, err
	}

	// Summary table: mean of each metric per method.
	cmp := reports.Comparison{Title: fmt.Sprintf("Demo: %d photos, %d² HR, bicubic ×1/%d LR", len(set), opts.Crop, opts.Scale)}
	for _, r := range rs {
		cmp.Methods = append(cmp.Methods, r.Name())
	}
	for _, m := range ms {
		cmp.Metrics = append(cmp.Metrics, reports.MetricRow{Name: m.Name(), Direction: m.Direction()})
		row := make([]float64, len(rs))
		for j, r := range rs {
			row[j] = reports.Mean(filter(recs, r.Name()), m.Name())
		}
		cmp.Values = append(cmp.Values, row)
	}
	res := DemoResult{
		OutDir:  opts.OutDir,
		Table:   filepath.Join(opts.OutDir, "table.md"),
		Records: filepath.Join(opts.OutDir, "records.json"),
		Plot:    filepath.Join(opts.OutDir, "perception-distortion.png"),
		Summary: cmp,
	}
	if err := atomicfile.Write(filepath.Join(tmp, "table.md"), cmp.WriteMarkdown); err != nil {
		return DemoResult{}, err
	}
	if err := writeRecordsJSON(filepath.Join(tmp, "records.json"), recs, ms, rs); err != nil {
		return DemoResult{}, err
	}
	var series []reports.Series
	for _, r := range rs {
		s := reports.Series{Name: r.Name()}
		for _, rec := range filter(recs, r.Name()) {
			s.X = append(s.X, rec.Values["psnr"])
			s.Y = append(s.Y, rec.Values["niqe"])
			s.Labels = append(s.Labels, rec.Image)
		}
		series = append(series, s)
	}
	if err := reports.Scatter(filepath.Join(tmp, "perception-distortion.png"), "Per-image perception–distortion",
		reports.Axis{Metric: "psnr", Direction: metrics.HigherIsBetter},
		reports.Axis{Metric: "niqe", Direction: metrics.LowerIsBetter}, series); err != nil {
		return DemoResult{}, err
	}
	if err := os.Rename(tmp, opts.OutDir); err != nil {
		return DemoResult{}, err
	}
	ok = true
	return res, nil
}

func saveIn(root, dir, name string, m *img.Image) error {
	d := filepath.Join(root, dir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return m.SavePNG(filepath.Join(d, name))
}

func filter(recs []reports.Record, method string) []reports.Record {
	var out []reports.Record
	for _, r := range recs {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

// writeRecordsJSON writes the per-image records with the fingerprints of the
// metrics and runners that produced them. ±Inf values are written as strings.
func writeRecordsJSON(path string, recs []reports.Record, ms []metrics.Metric, rs []runners.Runner) error {
	doc := struct {
		Tool        string            `json:"tool"`
		Created     string            `json:"created"`
		Metrics     map[string]string `json:"metric_fingerprints"`
		Runners     map[string]string `json:"runner_fingerprints"`
		Records     []reports.Record  `json:"records"`
		Conventions string            `json:"conventions"`
	}{
		Tool:        "addsr-bench " + Version,
		Created:     time.Now().UTC().Format(time.RFC3339),
		Metrics:     map[string]string{},
		Runners:     map[string]string{},
		Conventions: "SR outputs are scored as 8-bit PNGs (clamp, ×255, round half to even); crop border 0",
	}
	for _, m := range ms {
		doc.Metrics[m.Name()] = m.Fingerprint()
	}
	for _, r := range rs {
		doc.Runners[r.Name()] = r.Fingerprint()
	}
	doc.Records = recs
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	})
}
