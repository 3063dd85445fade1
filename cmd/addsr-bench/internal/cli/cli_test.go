package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/bench"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/models"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return o.String(), e.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestScoreFolders scores testdata/dist against testdata/ref: a and b pair,
// c has no output, d has the wrong size, e has no reference. The scored
// images are printed, the others reported on stderr, and the exit status is 1.
func TestScoreFolders(t *testing.T) {
	for _, format := range []string{"table", "jsonl", "csv", "json"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := runCLI(t, "score", "--ref", "testdata/ref", "--dist", "testdata/dist",
				"-m", "psnr,ssim,psnr-basicsr,ssim-basicsr", "--format", format, "--workers", "2")
			if code != ExitSkipped {
				t.Errorf("exit status %d, want %d (images were skipped); stderr:\n%s", code, ExitSkipped, errOut)
			}
			golden(t, "score-folders."+format, out)
			for _, want := range []string{
				"skipped c: testdata/ref/c.png: reference has no image with this stem in testdata/dist",
				"skipped d: testdata/dist/d.png is 40x40 but its reference testdata/ref/d.png is 48x40",
				"skipped e: testdata/dist/e.png: no reference with this stem in testdata/ref",
				"3 of 5 images skipped",
			} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
		})
	}
}

func TestScoreFiles(t *testing.T) {
	out, errOut, code := runCLI(t, "score", "--ref", "testdata/ref/a.png", "--dist", "testdata/dist/a.png",
		"-m", "psnr,ssim", "--format", "jsonl")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "score-file.jsonl", out)
}

// --timings adds a summary on stderr and leaves the scores as they were.
func TestScoreTimings(t *testing.T) {
	out, errOut, code := runCLI(t, "score", "--ref", "testdata/ref/a.png", "--dist", "testdata/dist/a.png",
		"-m", "psnr,ssim", "--format", "jsonl", "--timings")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "score-file.jsonl", out)
	for _, want := range []string{"timings: 1 images in", "images/s", "decode ", "psnr ", "ssim ", "ms per image"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// A learned metric whose model is missing stops the command before any
	// image is read, naming the file; every missing one is named at once.
	_, errOut, code = runCLI(t, "score", "--dist", "testdata/dist", "-m", "musiq,niqe,clipiqa", "--models", t.TempDir())
	if code != ExitError || !strings.Contains(errOut, "musiq-koniq.onnx") || !strings.Contains(errOut, "clipiqa.onnx") || strings.Contains(errOut, "niqe") {
		t.Errorf("missing models: exit %d, stderr %q", code, errOut)
	}
}

func TestScoreIdenticalBasicSRIsInf(t *testing.T) {
	out, _, code := runCLI(t, "score", "--ref", "testdata/ref/a.png", "--dist", "testdata/ref/a.png",
		"-m", "psnr-basicsr,psnr", "--format", "jsonl")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if want := `{"image":"a","psnr-basicsr":"+Inf","psnr":80}` + "\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestScoreNoReference(t *testing.T) {
	_, errOut, code := runCLI(t, "score", "--dist", "testdata/dist", "-m", "psnr")
	if code != ExitError || !strings.Contains(errOut, "pass --ref") {
		t.Errorf("full-reference metric without --ref: exit %d, stderr %q", code, errOut)
	}
	// NIQE needs two 96-pixel blocks: the 48×40 fixtures are each skipped
	// with a message that says so, and the exit status is 1.
	_, errOut, code = runCLI(t, "score", "--dist", "testdata/dist", "-m", "niqe", "--format", "jsonl")
	if code != ExitSkipped || !strings.Contains(errOut, "two 96×96 blocks") {
		t.Errorf("niqe on small images: exit %d, stderr %q", code, errOut)
	}
}

func TestScoreBadInput(t *testing.T) {
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "a.png"), []byte("\x89PNG\r\n\x1a\ntruncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "score", "--ref", "testdata/ref/a.png", "--dist", filepath.Join(tmp, "a.png"))
	if code != ExitSkipped || !strings.Contains(errOut, filepath.Join(tmp, "a.png")) {
		t.Errorf("corrupt file: exit %d, stderr %q", code, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"score", "--ref", "testdata/ref"}, "--dist is required"},
		{[]string{"score", "--dist", "testdata/dist", "--ref", "testdata/ref", "-m", "psnr,bogus"}, `unknown metric "bogus"`},
		{[]string{"score", "--dist", "testdata/dist", "--ref", "testdata/ref", "--format", "xml"}, "--format"},
		{[]string{"score", "--dist", "testdata/dist", "--ref", "testdata/ref/a.png"}, "both be files or both be folders"},
		{[]string{"score", "--dist", "testdata/nope", "--ref", "testdata/ref"}, "testdata/nope"},
		{[]string{"score", "--dist", "testdata/dist/a.png", "--ref", "testdata/ref/a.png", "--max-pixels", "100"}, "pixel limit"},
	} {
		_, errOut, code := runCLI(t, c.args...)
		if code == ExitOK || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to mention %q", c.args, code, errOut, c.want)
		}
	}
}

// TestMetricsList: names, directions, conventions, and for learned metrics
// where the model is or how to export it (an empty folder: none installed;
// the random-weight fixtures: found).
func TestMetricsList(t *testing.T) {
	out, _, code := runCLI(t, "metrics", "--models", t.TempDir())
	if code != ExitOK {
		t.Fatal(code)
	}
	golden(t, "metrics.txt", out)
	nr := filepath.Join("..", "..", "..", "..", "metrics", "testdata", "nr")
	out, _, _ = runCLI(t, "metrics", "--models", nr)
	if !strings.Contains(out, "model: "+filepath.Join(nr, "maniqa-koniq.onnx")) || !strings.Contains(out, "model: not installed (lpips-alex.onnx") {
		t.Errorf("with the fixtures:\n%s", out)
	}
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, errOut, code := runCLI(t, "demo", "--out", dir, "--no-models")
	if code != ExitOK {
		t.Fatalf("demo exit %d: %s", code, errOut)
	}
	for _, f := range []string{"report/tables.md", "report/records.json", "report/pd-demo.png", "report/report.html",
		"dataset/LR/astronaut.png", "dataset/HR/astronaut.png", "dataset/manifest.json", "run/records.jsonl",
		"run/outputs/demo/bicubic/steps0/astronaut.png", "experiment.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("demo did not write %s: %v", f, err)
		}
		if !strings.Contains(out, "table:") {
			t.Error("demo does not say where its table is")
		}
	}
	// Nothing but the run folder is left beside it.
	ents, _ := os.ReadDir(filepath.Dir(dir))
	if len(ents) != 1 {
		t.Errorf("demo left %d entries beside its output", len(ents))
	}
	if _, errOut, code := runCLI(t, "demo", "--out", dir); code == ExitOK || !strings.Contains(errOut, "already exists") {
		t.Errorf("demo over an existing folder: exit %d, %s", code, errOut)
	}
}

func TestDegradeInspectVerify(t *testing.T) {
	root := t.TempDir()
	var outs []string
	for _, w := range []string{"1", "2"} {
		out := filepath.Join(root, "set"+w)
		stdout, errOut, code := runCLI(t, "degrade", "--preset", "realesrgan", "--in", "testdata/ref", "--out", out,
			"--seed", "3", "--crop-size", "32", "--crop", "random", "--workers", w)
		if code != ExitOK {
			t.Fatalf("degrade: exit %d: %s", code, errOut)
		}
		if !strings.Contains(stdout, "built 4 pairs") {
			t.Errorf("degrade said %q", stdout)
		}
		outs = append(outs, out)
	}
	for _, f := range []string{"manifest.json", "LR/a.png", "HR/d.png"} {
		a, _ := os.ReadFile(filepath.Join(outs[0], f))
		b, _ := os.ReadFile(filepath.Join(outs[1], f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between 1 and 2 workers", f)
		}
	}
	stdout, _, code := runCLI(t, "datasets", "inspect", outs[0])
	if code != ExitOK {
		t.Fatalf("inspect exit %d: %s", code, stdout)
	}
	for _, want := range []string{"layout:   hr-lr", "images:   4", "scale:    ×4", "HR sizes: 32x32 (4)", "LR sizes: 8x8 (4)", "manifest: verified", "problems: none"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect lacks %q:\n%s", want, stdout)
		}
	}
	if _, errOut, code := runCLI(t, "datasets", "verify", outs[0]); code != ExitOK {
		t.Fatalf("verify: %s", errOut)
	}
	// Tamper: score against the set stops with the manifest error; --no-verify goes on.
	os.WriteFile(filepath.Join(outs[0], "HR", "a.png"), []byte("changed"), 0o644)
	_, errOut, code := runCLI(t, "score", "--ref", filepath.Join(outs[0], "HR"), "--dist", filepath.Join(outs[1], "HR"))
	if code != ExitError || !strings.Contains(errOut, "HR/a.png: changed") {
		t.Errorf("score on a tampered set: exit %d, %s", code, errOut)
	}
	if _, _, code := runCLI(t, "score", "--no-verify", "--ref", filepath.Join(outs[1], "HR"), "--dist", filepath.Join(outs[1], "HR")); code != ExitOK {
		t.Errorf("score --no-verify: exit %d", code)
	}
	if _, errOut, code := runCLI(t, "datasets", "manifest", outs[0]); code == ExitOK || !strings.Contains(errOut, "--rebuild") {
		t.Errorf("manifest over an existing one: %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "degrade", "--preset", "bogus", "--in", "testdata/ref", "--out", filepath.Join(root, "x")); code == ExitOK || !strings.Contains(errOut, "unknown preset") {
		t.Errorf("bogus preset: %d %s", code, errOut)
	}
	// Images smaller than the crop are skipped and listed, exit 1.
	_, errOut, code = runCLI(t, "degrade", "--preset", "sr4", "--in", "testdata/ref", "--out", filepath.Join(root, "big"), "--crop-size", "512")
	if code == ExitOK || !strings.Contains(errOut, "smaller than the crop") {
		t.Errorf("crop larger than every image: %d %s", code, errOut)
	}
}

func TestRunReportCheckCommands(t *testing.T) {
	root := t.TempDir()
	demo := filepath.Join(root, "demo")
	if _, errOut, code := runCLI(t, "demo", "--out", demo, "--no-models"); code != ExitOK {
		t.Fatalf("demo: %s", errOut)
	}
	spec := filepath.Join(demo, "experiment.yaml")
	run2 := filepath.Join(root, "run2")
	out, errOut, code := runCLI(t, "run", spec, "--out", run2)
	if code != ExitOK || !strings.Contains(out, "8 jobs run") {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "run", spec, "--out", run2); code != ExitError || !strings.Contains(errOut, "--resume") {
		t.Errorf("rerun without --resume: %d %s", code, errOut)
	}
	out, _, code = runCLI(t, "run", spec, "--out", run2, "--resume")
	if code != ExitOK || !strings.Contains(out, "0 jobs run, 8 already recorded") {
		t.Errorf("resume: %d %s", code, out)
	}
	out, errOut, code = runCLI(t, "report", run2)
	if code != ExitOK || !strings.Contains(out, "psnr ↑") || !strings.Contains(out, "report.html") {
		t.Errorf("report: %d %s %s", code, out, errOut)
	}
	// Plot axes from the flag: the perception–distortion SVG's x axis is
	// SSIM; a metric the run lacks is refused, naming the ones it has.
	out, errOut, code = runCLI(t, "report", run2, "--out", filepath.Join(root, "r-pd"), "--pd", "x=ssim,y=psnr")
	svg, _ := os.ReadFile(filepath.Join(root, "r-pd", "pd-demo.svg"))
	if code != ExitOK || !strings.Contains(string(svg), "ssim (higher is better ↑)") || !strings.Contains(string(svg), "psnr (higher is better ↑)") {
		t.Errorf("report --pd: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "report", run2, "--out", filepath.Join(root, "r-bad"), "--pd", "x=musiq"); code != ExitError || !strings.Contains(errOut, "x=musiq is not a metric of this experiment") {
		t.Errorf("report --pd with a metric the run lacks: %d %s", code, errOut)
	}
	page, _ := os.ReadFile(filepath.Join(root, "r-pd", "report.html"))
	for _, want := range []string{"the window is where the outputs differ most", "<small>psnr ", " · ssim 0."} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html's crops lack %q", want)
		}
	}
	timeSVG, _ := os.ReadFile(filepath.Join(root, "r-pd", "time-demo.svg"))
	if !strings.Contains(string(timeSVG), "log scale") {
		t.Errorf("quality-vs-time plot has no log time axis")
	}
	// Scores from pyiqa for a metric the run does not compute.
	recs, _ := bench.ReadRunRecords(run2)
	var tsv strings.Builder
	for _, r := range recs {
		if r.Method == "bicubic" {
			fmt.Fprintf(&tsv, "%s.png\t%d\n", r.Image, 40+len(r.Image))
		}
	}
	scores := filepath.Join(root, "musiq.txt")
	os.WriteFile(scores, []byte(tsv.String()), 0o644)
	out, errOut, code = runCLI(t, "import", run2, scores, "--metric", "musiq", "--dataset", "demo", "--method", "bicubic", "--source", "pyiqa")
	if code != ExitOK || !strings.Contains(out, "musiq scores (higher is better) for bicubic") {
		t.Errorf("import: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "import", run2, scores, "--metric", "musiq", "--dataset", "demo", "--method", "bicubic"); code != ExitError || !strings.Contains(errOut, "--replace") {
		t.Errorf("second import: %d %s", code, errOut)
	}
	os.RemoveAll(filepath.Join(run2, bench.ImportsFile)) // the checks below compare with the demo run
	// The two runs agree; a baseline that claims more PSNR fails the gate.
	out, _, code = runCLI(t, "check", "--baseline", filepath.Join(demo, "run"), "--run", run2, "--per-image")
	if code != ExitOK || !strings.Contains(out, "PASS") {
		t.Errorf("check against an equal run: %d\n%s", code, out)
	}
	summary := filepath.Join(run2, "report", "summary.json")
	data, _ := os.ReadFile(summary)
	inflated := strings.Replace(string(data), `"psnr": 3`, `"psnr": 4`, 1)
	os.WriteFile(filepath.Join(root, "baseline.json"), []byte(inflated), 0o644)
	out, _, code = runCLI(t, "check", "--baseline", filepath.Join(root, "baseline.json"), "--run", run2, "--tol", "psnr=0.1")
	if code != ExitSkipped || !strings.Contains(out, "REGRESSION") {
		t.Errorf("check against a better baseline: exit %d\n%s", code, out)
	}
	if _, _, code := runCLI(t, "check", "--baseline", filepath.Join(root, "nope.json"), "--run", run2); code != ExitError {
		t.Errorf("check with a missing baseline: exit %d", code)
	}
	// A spec error names the file and line.
	bad := filepath.Join(root, "bad.yaml")
	os.WriteFile(bad, []byte("datasets:\n  - name: d\n    path: "+filepath.Join(demo, "dataset")+"\nmetrics: [psnr, nope]\nmethods:\n  - {name: a, runner: bicubic}\n"), 0o644)
	if _, errOut, code := runCLI(t, "run", bad); code != ExitError || !strings.Contains(errOut, bad+":4: unknown metric") {
		t.Errorf("bad spec: %d %s", code, errOut)
	}
}

func TestSRCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sr")
	stdout, errOut, code := runCLI(t, "sr", "--model", "bicubic", "--in", "testdata/dist", "--out", out)
	if code != ExitOK || !strings.Contains(stdout, "4 images") {
		t.Fatalf("sr bicubic: %d %s %s", code, stdout, errOut)
	}
	if _, err := os.Stat(filepath.Join(out, "a.png")); err != nil {
		t.Error(err)
	}
	if _, errOut, code := runCLI(t, "sr", "--model", "x.pth", "--in", "testdata/dist", "--out", out); code == ExitOK || !strings.Contains(errOut, ".onnx file") {
		t.Errorf("bad model: %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "sr", "--model", "bicubic", "--in", "testdata/dist", "--out", out, "--device", "tpu"); code == ExitOK || !strings.Contains(errOut, "--device") {
		t.Errorf("bad device: %d %s", code, errOut)
	}
	// The real model, when installed: an ONNX SR run through the CLI.
	if m, ok := models.CachedFile("models/realesrgan-x4fast.onnx"); ok {
		stdout, errOut, code := runCLI(t, "sr", "--model", m, "--in", "testdata/dist", "--out", filepath.Join(t.TempDir(), "esr"), "--tile", "16", "--overlap", "4")
		if code != ExitOK || !strings.Contains(stdout, "4 images") {
			t.Errorf("sr realesrgan-x4fast: %d %s %s", code, stdout, errOut)
		}
		// Whole images batched: a, b and e are 48×40 and share an inference.
		stdout, errOut, code = runCLI(t, "sr", "--model", m, "--in", "testdata/dist", "--out", filepath.Join(t.TempDir(), "esr"), "--batch", "4", "--warmup", "1", "--threads", "1")
		if code != ExitOK || !strings.Contains(stdout, "4 images") || !strings.Contains(stdout, "up to 3 images per inference") ||
			!strings.Contains(stdout, "medians: pre/post ") || !strings.Contains(stdout, " ms, inference ") {
			t.Errorf("sr realesrgan-x4fast --batch 4: %d %s %s", code, stdout, errOut)
		}
		// Two batches at the runner at once: the same outputs, said so.
		one, two := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "two")
		runCLI(t, "sr", "--model", m, "--in", "testdata/dist", "--out", one, "--batch", "2", "--threads", "1")
		stdout, errOut, code = runCLI(t, "sr", "--model", m, "--in", "testdata/dist", "--out", two, "--batch", "2", "--threads", "1", "--inflight", "2")
		if code != ExitOK || !strings.Contains(stdout, "2 batches in flight") {
			t.Errorf("sr --inflight 2: %d %s %s", code, stdout, errOut)
		}
		for _, f := range []string{"a.png", "b.png", "e.png"} {
			x, _ := os.ReadFile(filepath.Join(one, f))
			y, _ := os.ReadFile(filepath.Join(two, f))
			if len(x) == 0 || !bytes.Equal(x, y) {
				t.Errorf("%s differs with --inflight 2", f)
			}
		}
	}
	if _, errOut, code := runCLI(t, "sr", "--model", "bicubic", "--in", "testdata/dist", "--out", out, "--inflight", "0"); code == ExitOK || !strings.Contains(errOut, "--inflight 0") {
		t.Errorf("--inflight 0: %d %s", code, errOut)
	}
}

// TestModelsVerify runs `models verify` on the random-weight LPIPS fixture
// with calibration scores that the same PyTorch module gave (from
// metrics/testdata/lpips/expected.json) on the metrics test pairs.
func TestModelsVerify(t *testing.T) {
	dir, pairs := t.TempDir(), t.TempDir()
	fix := filepath.Join("..", "..", "..", "..", "metrics", "testdata")
	var exp struct {
		Pairs []struct {
			Name  string
			Crop  []int
			Value float64
		}
	}
	raw, _ := os.ReadFile(filepath.Join(fix, "lpips", "expected.json"))
	json.Unmarshal(raw, &exp)
	cal := map[string]float64{}
	for _, p := range exp.Pairs {
		if p.Crop != nil {
			continue
		}
		for _, side := range []string{"ref", "dist"} {
			data, _ := os.ReadFile(filepath.Join(fix, p.Name+"-"+side+".png"))
			os.MkdirAll(filepath.Join(pairs, side), 0o755)
			os.WriteFile(filepath.Join(pairs, side, p.Name+".png"), data, 0o644)
		}
		cal[p.Name+".png"] = p.Value
	}
	model, _ := os.ReadFile(filepath.Join(fix, "lpips", "lpips-alex.onnx"))
	os.WriteFile(filepath.Join(dir, "lpips-alex.onnx"), model, 0o644)
	var man map[string]any
	raw, _ = os.ReadFile(filepath.Join(fix, "lpips", "lpips-alex.json"))
	json.Unmarshal(raw, &man)
	man["metric"], man["calibration"] = "lpips", cal
	write := func() {
		b, _ := json.Marshal(man)
		os.WriteFile(filepath.Join(dir, "lpips-alex.json"), b, 0o644)
	}
	write()
	out, errOut, code := runCLI(t, "models", "verify", dir, "--pairs", pairs)
	if code != ExitOK || !strings.Contains(out, "3 checks agree") {
		t.Fatalf("verify: %d\n%s%s", code, out, errOut)
	}
	cal["ihc-jpeg.png"] *= 1.5
	write()
	out, _, code = runCLI(t, "models", "verify", dir, "--pairs", pairs)
	if code != ExitSkipped || !strings.Contains(out, "MISMATCH") {
		t.Errorf("verify with a wrong score: %d\n%s", code, out)
	}
	// A model that is not what its manifest says fails once, as that.
	tampered := filepath.Join(t.TempDir(), "lpips-alex.onnx")
	os.WriteFile(tampered, append(append([]byte{}, model...), 0), 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(tampered), "lpips-alex.json"), mustJSON(t, man), 0o644)
	out, errOut, code = runCLI(t, "models", "verify", filepath.Dir(tampered), "--pairs", pairs)
	if code != ExitSkipped || strings.Count(errOut, "does not match its manifest") != 1 || !strings.Contains(errOut, "could not be loaded (above): 1") || strings.Contains(out, "MISMATCH") {
		t.Errorf("verify a tampered model: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	// score with a learned metric from a models folder.
	out, errOut, code = runCLI(t, "score", "--ref", filepath.Join(pairs, "ref"), "--dist", filepath.Join(pairs, "dist"), "-m", "lpips,psnr", "--models", dir, "--format", "csv")
	if code != ExitOK || !strings.Contains(out, "image,lpips,psnr") {
		t.Errorf("score -m lpips: %d %s %s", code, out, errOut)
	}
	// --device auto without CUDA says where the metric runs.
	if os.Getenv(models.EnvCUDAPlugin) == "" {
		_, errOut, code = runCLI(t, "score", "--ref", filepath.Join(pairs, "ref"), "--dist", filepath.Join(pairs, "dist"), "-m", "lpips", "--models", dir, "--device", "auto")
		if code != ExitOK || !strings.Contains(errOut, "metric lpips: auto: CUDA unavailable") {
			t.Errorf("score --device auto: %d %s", code, errOut)
		}
	}
}

// score passes --ep-option to the learned metrics' provider (on the CPU it
// says they do nothing) and refuses one that is not key=value.
func TestScoreEPOptions(t *testing.T) {
	models := filepath.Join("..", "..", "..", "..", "metrics", "testdata", "lpips")
	args := []string{"score", "--ref", "testdata/ref/a.png", "--dist", "testdata/dist/a.png", "-m", "lpips", "--models", models, "--no-verify", "--format", "jsonl"}
	plain, errOut, code := runCLI(t, args...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out, errOut, code := runCLI(t, append(args, "--ep-option", "cudnn_conv_algo_search=HEURISTIC")...)
	if code != ExitOK || out != plain || !strings.Contains(errOut, "provider options cudnn_conv_algo_search=HEURISTIC are for CUDA and are not used on the CPU") {
		t.Errorf("exit %d, stdout %q (without: %q), stderr %q", code, out, plain, errOut)
	}
	if _, errOut, code = runCLI(t, append(args, "--ep-option", "=1")...); code == ExitOK || !strings.Contains(errOut, `--ep-option "=1": want key=value`) {
		t.Errorf("bad option: exit %d, stderr %q", code, errOut)
	}
	// --io-binding: the same scores through bound buffers and a session of
	// the graph pinned to the image's shape.
	if out, errOut, code = runCLI(t, append(args, "--io-binding")...); code != ExitOK || out != plain {
		t.Errorf("--io-binding: exit %d, stdout %q (without: %q), stderr %q", code, out, plain, errOut)
	}
}

// --warmup scores the first pair, stacked as the batches will be, before
// the clock starts; the records and scores stay those of the run alone.
func TestScoreWarmup(t *testing.T) {
	models := filepath.Join("..", "..", "..", "..", "metrics", "testdata", "lpips")
	// testdata pairs a.png and b.png; the other three are skipped (and
	// reported) both times.
	args := []string{"score", "--ref", "testdata/ref", "--dist", "testdata/dist", "-m", "lpips,psnr", "--models", models,
		"--no-verify", "--format", "jsonl", "--batch", "2"}
	plain, _, code0 := runCLI(t, args...)
	if !strings.Contains(plain, `"image":"a"`) || !strings.Contains(plain, `"lpips"`) {
		t.Fatalf("no scores for a: %s", plain)
	}
	out, errOut, code := runCLI(t, append(args, "--warmup", "2", "--timings")...)
	if code != code0 || out != plain {
		t.Fatalf("with --warmup 2: exit %d (without: %d), stdout %q, want %q; stderr %s", code, code0, out, plain, errOut)
	}
	if !strings.Contains(errOut, "timings: 2 images in") || !strings.Contains(errOut, "2 warm-up passes") {
		t.Errorf("stderr lacks the 2 images timed and the warm-up passes:\n%s", errOut)
	}
	// --timings also says how long the models took to load (learned ones
	// only) and the warm-up.
	for _, re := range []string{`(?m)^models loaded in [0-9.]+ s, at once: lpips [0-9.]+ s$`, `(?m)^warm-up: 2 passes over a in [0-9.]+ s, metrics at once$`} {
		if !regexp.MustCompile(re).MatchString(errOut) {
			t.Errorf("stderr does not match %s:\n%s", re, errOut)
		}
	}
}

// models probe runs any float graph on seeded inputs: y = 2x+1 on x in
// [-1, 1) stays in [-1, 3), the same on every call; wrong shapes are refused.
func TestModelsProbe(t *testing.T) {
	affine := filepath.Join("..", "..", "..", "..", "models", "testdata", "affine.onnx")
	out, errOut, code := runCLI(t, "models", "probe", affine, "--shape", "1x3x5x7", "--runs", "2")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var stats string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "output y [1 3 5 7]: min ") {
			stats = line
		}
	}
	var lo, hi, mean float64
	if _, err := fmt.Sscanf(stats, "output y [1 3 5 7]: min %g max %g mean %g", &lo, &hi, &mean); err != nil || lo < -1 || hi >= 3 || lo > -0.5 || hi < 2.5 {
		t.Errorf("output line %q (%v): min %g max %g", stats, err, lo, hi)
	}
	for _, want := range []string{"on cpu (CPUExecutionProvider", "input x [1 3 5 7]", "run 1: ", "run 2: "} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	again, _, _ := runCLI(t, "models", "probe", affine, "--shape", "1x3x5x7", "--runs", "1")
	if !strings.Contains(again, stats) {
		t.Errorf("another call gave other outputs:\n%s\nwant %q", again, stats)
	}
	// the graph fixed to the shape: same outputs, said
	static, _, _ := runCLI(t, "models", "probe", affine, "--shape", "1x3x5x7", "--runs", "1", "--static-shapes")
	if !strings.Contains(static, stats) || !strings.Contains(static, "session: static_shapes=1") {
		t.Errorf("with --static-shapes:\n%s\nwant %q and the session line", static, stats)
	}
	if _, _, code := runCLI(t, "models", "probe", affine, "--ort-opt", "fast"); code != ExitError {
		t.Errorf("--ort-opt fast: exit %d", code)
	}
	opt, _, _ := runCLI(t, "models", "probe", affine, "--shape", "1x3x5x7", "--runs", "1", "--ort-opt", "none", "--ort-disable", "GeluFusion")
	if !strings.Contains(opt, "graph_optimization_level=none") || !strings.Contains(opt, "GeluFusion") {
		t.Errorf("--ort-opt none --ort-disable GeluFusion:\n%s", opt)
	}
	for _, c := range [][]string{{"--shape", "1x3x0x7"}, {"--shape", "1x3x5x7", "--shape", "1x3x5x7"}, {"--runs", "0"}} {
		if _, errOut, code := runCLI(t, append([]string{"models", "probe", affine}, c...)...); code == ExitOK {
			t.Errorf("%v: exit 0, stderr %q", c, errOut)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUnknownCommand: an unknown subcommand is an error (exit 2), at the
// top and in groups; a group alone prints its help.
func TestUnknownCommand(t *testing.T) {
	for _, args := range [][]string{{"nosuch"}, {"models", "nosuch"}, {"datasets", "nosuch"}} {
		_, stderr, code := runCLI(t, args...)
		if code != ExitError || !strings.Contains(stderr, `unknown command "nosuch"`) {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
	if stdout, _, code := runCLI(t, "models"); code != 0 || !strings.Contains(stdout, "tokenize") {
		t.Errorf("models alone: exit %d\n%s", code, stdout)
	}
}

// TestModelsTokenize prints the ids of the stand-in pipeline's tokenizer,
// as text and JSON.
func TestModelsTokenize(t *testing.T) {
	pipe := filepath.Join("..", "..", "..", "..", "runners", "addsr", "testdata", "pipeline")
	stdout, stderr, code := runCLI(t, "models", "tokenize", "--tokenizer", pipe, "--format", "json", "sky, tree")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []struct {
		IDs    []int
		Tokens []string
	}
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(rows[0].IDs) != 77 || rows[0].IDs[76] != 0 || strings.ReplaceAll(strings.Join(rows[0].Tokens, ""), "</w>", "") != "sky,tree" {
		t.Errorf("%s", stdout)
	}
	if _, _, code := runCLI(t, "models", "tokenize", "--tokenizer", t.TempDir(), "x"); code != ExitError {
		t.Errorf("a folder without a tokenizer: exit %d", code)
	}
}

// TestSROverwrite: sr refuses a non-empty folder it did not make.
func TestSROverwrite(t *testing.T) {
	in := t.TempDir()
	os.WriteFile(filepath.Join(in, "x.png"), mustPNG(t), 0o644)
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)
	if _, stderr, code := runCLI(t, "sr", "--model", "bicubic", "--in", in, "--out", out); code != ExitError || !strings.Contains(stderr, "--overwrite") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "sr", "--model", "bicubic", "--in", in, "--out", out, "--overwrite"); code != 0 {
		t.Errorf("--overwrite: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "sr", "--model", "bicubic", "--in", in, "--out", out); code != 0 {
		t.Errorf("again into its own folder: exit %d: %s", code, stderr)
	}
}

func mustPNG(t *testing.T) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.png")
	m := img.New(8, 6)
	if err := m.SavePNG(p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScoreDistPattern: outputs named a_x4_SR.png score as image a, with
// the same values as the plain names; a name that does not fit is skipped
// with the reason.
func TestScoreDistPattern(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		data, _ := os.ReadFile(filepath.Join("testdata", "dist", n+".png"))
		os.WriteFile(filepath.Join(dir, n+"_x4_SR.png"), data, 0o644)
	}
	data, _ := os.ReadFile(filepath.Join("testdata", "dist", "e.png"))
	os.WriteFile(filepath.Join(dir, "e.png"), data, 0o644)
	out, errOut, code := runCLI(t, "score", "--ref", "testdata/ref", "--dist", dir, "--dist-pattern", "{stem}_x4_SR", "-m", "psnr,ssim", "--format", "jsonl")
	plain, _, _ := runCLI(t, "score", "--ref", "testdata/ref", "--dist", "testdata/dist", "-m", "psnr,ssim", "--format", "jsonl")
	var want []string
	for _, l := range strings.Split(plain, "\n") {
		if strings.Contains(l, `"a"`) || strings.Contains(l, `"b"`) {
			want = append(want, strings.ReplaceAll(l, "testdata/dist/", ""))
		}
	}
	if len(want) != 2 {
		t.Fatalf("plain scores:\n%s", plain)
	}
	got := strings.ReplaceAll(strings.ReplaceAll(out, dir+"/", ""), "_x4_SR", "")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("scores by pattern:\n%s\nlack\n%s", out, w)
		}
	}
	if code != ExitSkipped || !strings.Contains(errOut, "e.png: name does not fit --dist-pattern {stem}_x4_SR") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "score", "--ref", "testdata/ref", "--dist", dir, "--dist-pattern", "out", "-m", "psnr"); code != ExitError || !strings.Contains(errOut, "--dist-pattern") {
		t.Errorf("bad pattern: %d %s", code, errOut)
	}
}
