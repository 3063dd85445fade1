package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/reports"
)

// DemoMetrics are scored by the demo: both PSNR/SSIM conventions and NIQE.
var DemoMetrics = []string{"psnr", "ssim", "psnr-basicsr", "ssim-basicsr", "niqe"}

// DemoOptions controls Demo.
type DemoOptions struct {
	OutDir  string // must not exist yet; created atomically
	Crop    int    // HR crop size (512)
	Scale   int    // 4
	Workers int
	// Models are ONNX SR models (with manifests) added as methods beside
	// the built-in runners, e.g. the cached Real-ESRGAN x4plus.
	Models []string
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
	Report  string // HTML
	Summary reports.Comparison
}

// Demo runs the main job on the embedded sample photos through the same path
// as `addsr-bench run`: it builds a test set (512² centre crops, LR by MATLAB
// bicubic ×1/4 saved as 8-bit PNG, with a manifest), writes an experiment
// spec comparing the built-in runners, runs it and renders its report.
// Everything goes into a temporary folder beside OutDir, renamed into place
// at the end, so an interrupted demo leaves no partial output.
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
	if err := os.Chmod(tmp, atomicfile.DirMode()); err != nil { // MkdirTemp makes it 0700
		return DemoResult{}, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()

	// The test set.
	samples, err := datasets.Samples()
	if err != nil {
		return DemoResult{}, err
	}
	set := filepath.Join(tmp, "dataset")
	for _, s := range samples {
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
		for dir, m := range map[string]interface{ SavePNG(string) error }{"HR": hr, "LR": lr.Quantized()} {
			if err := os.MkdirAll(filepath.Join(set, dir), 0o755); err != nil {
				return DemoResult{}, err
			}
			if err := m.SavePNG(filepath.Join(set, dir, s.Name+".png")); err != nil {
				return DemoResult{}, err
			}
		}
	}
	ds, err := datasets.Open(set)
	if err != nil {
		return DemoResult{}, err
	}
	man, err := datasets.NewManifest(ds)
	if err != nil {
		return DemoResult{}, err
	}
	man.Recipe = &datasets.Recipe{Preset: "sr4", Params: map[string]any{"crop_size": opts.Crop, "crop": "center", "scale": opts.Scale},
		Tool: "addsr-bench " + Version, Source: "embedded samples (datasets/samples)"}
	if err := man.Write(set); err != nil {
		return DemoResult{}, err
	}

	// The experiment.
	specText := fmt.Sprintf(`# Written by addsr-bench demo; rerun with: addsr-bench run experiment.yaml --out run2
name: demo
keep_outputs: true
datasets:
  - name: demo
    path: dataset
metrics: [%s]
methods:
  - name: bicubic
    runner: bicubic
    scale: %d
  - name: nearest
    runner: nearest
    scale: %d
`, strings.Join(DemoMetrics, ", "), opts.Scale, opts.Scale)
	for _, m := range opts.Models {
		abs, err := filepath.Abs(m)
		if err != nil {
			return DemoResult{}, err
		}
		specText += fmt.Sprintf("  - name: %s\n    runner: onnx\n    model: %q\n", strings.TrimSuffix(filepath.Base(m), filepath.Ext(m)), abs)
	}
	specPath := filepath.Join(tmp, "experiment.yaml")
	if err := os.WriteFile(specPath, []byte(specText), 0o644); err != nil {
		return DemoResult{}, err
	}
	spec, err := LoadSpec(specPath)
	if err != nil {
		return DemoResult{}, err
	}
	ro := RunOptions{Out: filepath.Join(tmp, "run"), Workers: opts.Workers}
	if opts.Progress != nil {
		ro.Progress = func(total int) func(string) {
			step := opts.Progress(total)
			return func(string) { step() }
		}
	}
	sum, err := Run(ctx, spec, ro)
	if err != nil {
		return DemoResult{}, err
	}
	if sum.Failed > 0 {
		return DemoResult{}, fmt.Errorf("demo: %d records failed; see %s", sum.Failed, sum.RecordsFile)
	}
	_, tables, err := WriteReport(filepath.Join(tmp, "run"), filepath.Join(tmp, "report"))
	if err != nil {
		return DemoResult{}, err
	}
	if err := os.Rename(tmp, opts.OutDir); err != nil {
		return DemoResult{}, err
	}
	ok = true
	rep := filepath.Join(opts.OutDir, "report")
	res := DemoResult{
		OutDir:  opts.OutDir,
		Table:   filepath.Join(rep, "tables.md"),
		Records: filepath.Join(rep, "records.json"),
		Plot:    filepath.Join(rep, "pd-demo.png"),
		Report:  filepath.Join(rep, "report.html"),
	}
	if len(tables) > 0 {
		res.Summary = tables[0]
		res.Summary.Title = fmt.Sprintf("Demo: %d photos, %d² HR, MATLAB bicubic ×1/%d LR", len(samples), opts.Crop, opts.Scale)
	}
	return res, nil
}
