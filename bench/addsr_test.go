package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/models"
)

const standinPipeline = "../runners/addsr/testdata/pipeline"

// TestRunAddSR runs the stand-in AddSR pipeline from a spec, PSR on and
// off at steps 1–4: records for every step with the prompt and cumulative
// stage times, and a report with the perception–distortion curves and the
// PSR ablation at equal steps.
func TestRunAddSR(t *testing.T) {
	if err := models.Init(); err != nil {
		t.Skipf("ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	set := makeSet(t, 2)
	pipe, _ := filepath.Abs(standinPipeline)
	p := filepath.Join(dir, "spec.yaml")
	nr, _ := filepath.Abs("../metrics/testdata/nr")
	os.WriteFile(p, []byte(fmt.Sprintf(`datasets:
  - {name: s, path: %s}
metrics: [psnr, niqe, clipiqa]
metric_models: `+nr+`
methods:
  - {name: bicubic, runner: bicubic}
  - name: AddSR
    runner: addsr
    model: %s
    steps: [1, 2, 3, 4]
    base: AddSR
    labels: {psr: "on"}
    options: {process_size: 128, psr: true}
  - name: AddSR-noPSR
    runner: addsr
    model: %s
    steps: [1, 2, 3, 4]
    base: AddSR
    labels: {psr: "off"}
    options: {process_size: 128, psr: false, colour_fix: wavelet}
`, set, pipe, pipe)), 0o644)
	spec, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	sum, err := Run(context.Background(), spec, RunOptions{Out: out})
	if err != nil || sum.Failed != 0 {
		t.Fatalf("%+v %v", sum, err)
	}
	recs, err := ReadRunRecords(out)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]map[int]int{}
	for _, r := range recs {
		if !strings.HasPrefix(r.Method, "AddSR") {
			continue
		}
		if steps[r.Method] == nil {
			steps[r.Method] = map[int]int{}
		}
		steps[r.Method][r.Steps]++
		if !strings.HasSuffix(r.Prompt, ", ,clean, high-resolution, 8k, extremely detailed, best quality, sharp") {
			t.Errorf("%s step %d prompt %q", r.Method, r.Steps, r.Prompt)
		}
		if r.TimingsMS[fmt.Sprintf("denoise_%d", r.Steps)] <= 0 || r.TimingsMS[fmt.Sprintf("denoise_%d", r.Steps+1)] != 0 {
			t.Errorf("%s step %d timings %v", r.Method, r.Steps, r.TimingsMS)
		}
		if (r.Method == "AddSR" && r.Steps > 1) != (r.TimingsMS["ram_psr"] > 0) {
			t.Errorf("%s step %d: ram_psr %v", r.Method, r.Steps, r.TimingsMS["ram_psr"])
		}
		if _, ok := r.Values["psnr"]; !ok {
			t.Errorf("%s step %d not scored: %+v", r.Method, r.Steps, r)
		}
	}
	for _, m := range []string{"AddSR", "AddSR-noPSR"} {
		for k := 1; k <= 4; k++ {
			if steps[m][k] != 2 {
				t.Errorf("%s step %d: %d records, want 2", m, k, steps[m][k])
			}
		}
	}
	metas, _ := LoadRunMeta(out)
	var fps []string
	for _, f := range metas[0].Fingerprints {
		fps = append(fps, f.Runner)
	}
	if j := strings.Join(fps, "\n"); !strings.Contains(j, "addsr;pipeline=addsr-standin;test-fixture") || !strings.Contains(j, "psr=false") || !strings.Contains(j, "colour_fix=wavelet") {
		t.Errorf("fingerprints:\n%s", j)
	}
	rf, _, err := WriteReport(out, filepath.Join(out, "report"))
	if err != nil {
		t.Fatal(err)
	}
	var pd bool
	for _, f := range rf.Files {
		pd = pd || strings.HasPrefix(filepath.Base(f), "pd-")
	}
	html, _ := os.ReadFile(filepath.Join(out, "report", "report.html"))
	if !pd || !strings.Contains(string(html), "perception–distortion") || !strings.Contains(string(html), "psr") {
		t.Errorf("report files %v", rf.Files)
	}
	// Random-weight fixtures are labelled wherever they appear, and gate
	// nothing: the AddSR stand-in and the CLIPIQA fixture; psnr is real.
	md, _ := os.ReadFile(filepath.Join(out, "report", "tables.md"))
	tex, _ := os.ReadFile(filepath.Join(out, "report", "tables.tex"))
	for name, text := range map[string]string{"tables.md": string(md), "tables.tex": string(tex), "report.html": string(html)} {
		for _, want := range []string{"AddSR-4 [test fixture]", "clipiqa [test fixture]", "not the real model"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if strings.Contains(text, "psnr [test fixture]") || strings.Contains(text, "bicubic [test fixture]") {
			t.Errorf("%s labels a real metric or method as a fixture", name)
		}
	}
	paper, _ := os.ReadFile(filepath.Join(out, "report", "paper.tex"))
	for _, want := range []string{"AddSR-4 [test fixture]", "CLIPIQA [test fixture]", "not the real model", `\multirow`} {
		if !strings.Contains(string(paper), want) {
			t.Errorf("paper.tex lacks %q:\n%s", want, paper)
		}
	}
	base, recs, err := LoadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	tol, _ := ParseTolerances("")
	res := Check(base, base, recs, recs, tol, CheckOptions{})
	if j := strings.Join(res.Incompatible, "\n"); !strings.Contains(j, "clipiqa: scored by a random-weight test fixture") || !strings.Contains(j, "method AddSR: a random-weight test fixture") || strings.Contains(j, "bicubic") {
		t.Errorf("check on fixtures: %q", res.Incompatible)
	}
}

// TestSpecAddSRErrors: options and steps are checked at the method's line.
func TestSpecAddSRErrors(t *testing.T) {
	dir := t.TempDir()
	set := makeSet(t, 1)
	pipe, _ := filepath.Abs(standinPipeline)
	for _, c := range []struct{ method, want string }{
		{"{name: a, runner: addsr, model: %s, options: {sampler: ddim}}", `spec.yaml:5: method "a": options: unknown AddSR option "sampler"`},
		{"{name: a, runner: addsr, model: %s, options: {psr_weight: 1.5}}", "psr_weight 1.5 must be in [0, 1]"},
		{"{name: a, runner: addsr, model: %s, steps: [1, 5]}", "steps 5, but the pipeline has 4 timesteps"},
		{"{name: a, runner: addsr, model: %s/nowhere}", "nowhere"},
		{"{name: a, runner: bicubic, options: {psr: true}}%s", "options are for runner: addsr"},
	} {
		p := filepath.Join(dir, "spec.yaml")
		method := c.method
		if strings.Contains(method, "%s") {
			if strings.HasSuffix(method, "%s") && !strings.Contains(method, "model") {
				method = strings.TrimSuffix(method, "%s")
			} else {
				method = fmt.Sprintf(method, pipe)
			}
		}
		os.WriteFile(p, []byte(fmt.Sprintf("datasets:\n  - {name: s, path: %s}\nmetrics: [psnr]\nmethods:\n  - %s\n", set, method)), 0o644)
		_, err := LoadSpec(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.method, err, c.want)
		}
	}
}

// TestRunAddSRWorkers: seeded AddSR runs give the same records whatever
// --workers is, and on a rerun.
func TestRunAddSRWorkers(t *testing.T) {
	if err := models.Init(); err != nil {
		t.Skipf("ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	set := makeSet(t, 3)
	pipe, _ := filepath.Abs(standinPipeline)
	text := fmt.Sprintf("datasets:\n  - {name: s, path: %s}\nmetrics: [psnr, ssim]\nmethods:\n  - {name: AddSR, runner: addsr, model: %s, steps: [1, 2], options: {process_size: 128}}\n", set, pipe)
	values := func(workers int, out string) map[string]float64 {
		recs, _ := ReadRunRecords(runSpecText(t, dir, out, text, RunOptions{Workers: workers}))
		v := map[string]float64{}
		for _, r := range recs {
			for m, x := range r.Values {
				v[fmt.Sprintf("%s/%d/%s", r.Image, r.Steps, m)] = x
			}
		}
		return v
	}
	one, two, again := values(1, "w1"), values(2, "w2"), values(2, "w2b")
	if len(one) != 12 {
		t.Fatalf("%d values", len(one))
	}
	for k, v := range one {
		if two[k] != v || again[k] != v {
			t.Errorf("%s: workers 1 %v, workers 2 %v, rerun %v", k, v, two[k], again[k])
		}
	}
}

// TestSpecONNXRuntimeBlock: the onnxruntime: block reaches every session
// of the run and its fingerprint; bad values are refused at their line.
func TestSpecONNXRuntimeBlock(t *testing.T) {
	if err := models.Init(); err != nil {
		t.Skipf("ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	set := makeSet(t, 1)
	pipe, _ := filepath.Abs(standinPipeline)
	out := runSpecText(t, dir, "run", fmt.Sprintf("onnxruntime: {graph_optimization: basic, disable_optimizers: [GeluFusion], static_shapes: true}\ndatasets:\n  - {name: s, path: %s}\nmetrics: [psnr]\nmethods:\n  - {name: AddSR, runner: addsr, model: %s, steps: [1], options: {process_size: 128}}\n", set, pipe), RunOptions{})
	metas, _ := LoadRunMeta(out)
	var fp string
	for _, f := range metas[0].Fingerprints {
		fp = f.Runner
	}
	for _, want := range []string{"graph_optimization_level=basic", "GeluFusion", "static_shapes=1"} {
		if !strings.Contains(fp, want) {
			t.Errorf("fingerprint lacks %q: %s", want, fp)
		}
	}
	p := filepath.Join(dir, "bad.yaml")
	os.WriteFile(p, []byte("onnxruntime: {graph_optimization: fast, slice_as_gather: maybe}\ndatasets:\n  - {name: s, path: "+set+"}\nmetrics: [psnr]\nmethods:\n  - {name: b, runner: bicubic}\n"), 0o644)
	if _, err := LoadSpec(p); err == nil || !strings.Contains(err.Error(), `graph_optimization "fast"`) || !strings.Contains(err.Error(), `slice_as_gather "maybe"`) {
		t.Errorf("bad onnxruntime block: %v", err)
	}
}
