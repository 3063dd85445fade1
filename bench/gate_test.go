package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckGate: the CI gate on the findings of issue 19. A run where one
// LR is corrupt averages over fewer images than the baseline: check fails
// (exit 1) naming the image, unless --allow-missing. A run with another
// crop border is not comparable: exit 2, naming the change, no verdict.
func TestCheckGate(t *testing.T) {
	dir := t.TempDir()
	set := makeSet(t, 3)
	run := func(name, spec string) string { return runSpecText(t, dir, name, spec, RunOptions{}) }
	spec := "datasets:\n  - {name: set, path: " + set + "}\nmetrics: [psnr, ssim]\nmethods:\n  - {name: bicubic, runner: bicubic}\n"
	base := run("base", spec)
	cropped := run("cropped", "crop_border: 4\n"+spec)
	if err := os.WriteFile(filepath.Join(set, "LR", "img01.png"), []byte("not a PNG"), 0o644); err != nil {
		t.Fatal(err)
	}
	lost := run("lost", spec)

	check := func(args ...string) (int, string) {
		out, err := exec.Command(binary, append([]string{"check"}, args...)...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := check("--baseline", base, "--run", base); code != 0 {
		t.Errorf("self-check exit %d:\n%s", code, out)
	}
	code, out := check("--baseline", base, "--run", lost)
	if code != 1 || !strings.Contains(out, "1 of 3 images missing: img01") {
		t.Errorf("a lost image: exit %d:\n%s", code, out)
	}
	if code, out := check("--baseline", base, "--run", lost, "--allow-missing", "--tol", "psnr=0.1,ssim=0.1"); code != 0 {
		t.Errorf("--allow-missing: exit %d:\n%s", code, out)
	}
	// The summary.json of a report carries the image sets too.
	if _, _, err := WriteReport(base, filepath.Join(base, "report")); err != nil {
		t.Fatal(err)
	}
	if code, out := check("--baseline", filepath.Join(base, "report", "summary.json"), "--run", lost); code != 1 || !strings.Contains(out, "img01") {
		t.Errorf("summary.json baseline, lost image: exit %d:\n%s", code, out)
	}
	code, out = check("--baseline", base, "--run", cropped)
	if code != 2 || !strings.Contains(out, "NOT COMPARABLE") || !strings.Contains(out, "crop=0") || !strings.Contains(out, "crop=4") || strings.Contains(out, "regressed") {
		t.Errorf("another crop border: exit %d:\n%s", code, out)
	}
}

// TestFolderFingerprintByContent: touching a folder method's outputs (or
// copying them elsewhere) keeps its fingerprint, so --resume continues; a
// changed output is another version of the method, and --resume refuses to
// mix its records with the earlier ones, saying what changed.
func TestFolderFingerprintByContent(t *testing.T) {
	dir := t.TempDir()
	set := makeSet(t, 2)
	outs := filepath.Join(dir, "outs")
	os.MkdirAll(outs, 0o755)
	for _, id := range []string{"img00", "img01"} {
		b, err := os.ReadFile(filepath.Join(set, "HR", id+".png"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(outs, id+".png"), b, 0o644)
	}
	p := filepath.Join(dir, "spec.yaml")
	os.WriteFile(p, []byte("datasets:\n  - {name: set, path: "+set+"}\nmetrics: [psnr]\nmethods:\n  - {name: theirs, runner: folder, path: "+outs+"}\n"), 0o644)
	runOnce := func() error {
		s, err := LoadSpec(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(context.Background(), s, RunOptions{Out: filepath.Join(dir, "run"), Resume: true})
		return err
	}
	if err := runOnce(); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(outs, "img00.png"), later, later)
	if err := runOnce(); err != nil {
		t.Fatalf("resume after touch: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(set, "HR", "img01.png"))
	os.WriteFile(filepath.Join(outs, "img00.png"), b, 0o644) // another output
	err := runOnce()
	if err == nil || !strings.Contains(err.Error(), "theirs's records on set were made with fingerprint") || !strings.Contains(err.Error(), "content=") {
		t.Errorf("resume with changed outputs: %v", err)
	}
}

// TestFailuresStayLocal: a folder method missing one step's output fails
// that step's record only; a corrupt LR fails the methods that read it
// (bicubic), not folder methods, which never do.
func TestFailuresStayLocal(t *testing.T) {
	dir := t.TempDir()
	set := makeSet(t, 2)
	outs := folderOutputs(t, set, dir, []int{1, 2, 3}, []string{"img00", "img01"},
		func(st int, id string) bool { return st == 3 && id == "img01" }) // step 3 of img01 is missing
	os.WriteFile(filepath.Join(set, "LR", "img00.png"), []byte("not a PNG"), 0o644)
	out := runSpecText(t, dir, "spec", "datasets:\n  - {name: s, path: "+set+"}\nmetrics: [psnr]\nmethods:\n  - {name: bicubic, runner: bicubic}\n  - {name: theirs, runner: folder, path: \""+outs+"\", steps: [1, 2, 3]}\n", RunOptions{})
	recs, _ := ReadRunRecords(out)
	failed := map[string]bool{}
	for _, r := range recs {
		failed[fmt.Sprintf("%s/%s/%d", r.Method, r.Image, r.Steps)] = r.Skipped()
	}
	want := map[string]bool{
		"bicubic/img00/0": true, "bicubic/img01/0": false, // the corrupt LR
		"theirs/img00/1": false, "theirs/img00/2": false, "theirs/img00/3": false,
		"theirs/img01/1": false, "theirs/img01/2": false, "theirs/img01/3": true, // the missing output
	}
	for k, w := range want {
		if got, ok := failed[k]; !ok || got != w {
			t.Errorf("%s: failed %v (recorded %v), want failed %v", k, got, ok, w)
		}
	}
}

// TestFolderTimings: a folder method's records carry the time its own
// framework took (timings.json or .csv beside the outputs), and none (not
// the PNG read) where it gave none; bad timings files are refused.
func TestFolderTimings(t *testing.T) {
	dir := t.TempDir()
	set := makeSet(t, 2)
	outs := folderOutputs(t, set, dir, []int{1, 2}, []string{"img00", "img01"}, nil)
	os.WriteFile(filepath.Join(dir, "outs", "step1", "timings.json"), []byte(`{"img00": 0.25, "img01": 0.5}`), 0o644)
	os.WriteFile(filepath.Join(dir, "outs", "step2", "timings.csv"), []byte("image,seconds\nimg00,0.75\n"), 0o644)
	text := "datasets:\n  - {name: s, path: " + set + "}\nmetrics: [psnr]\nmethods:\n  - {name: theirs, runner: folder, path: \"" + outs + "\", steps: [1, 2]}\n"
	out := runSpecText(t, dir, "spec", text, RunOptions{})
	recs, _ := ReadRunRecords(out)
	got := map[string]map[string]float64{}
	for _, r := range recs {
		got[fmt.Sprintf("%s/%d", r.Image, r.Steps)] = r.TimingsMS
	}
	if got["img00/1"]["external"] != 250 || got["img01/1"]["total"] != 500 || got["img00/2"]["total"] != 750 {
		t.Errorf("timings %v", got)
	}
	if len(got["img01/2"]) != 0 {
		t.Errorf("img01 step 2 has no timing given, yet records %v", got["img01/2"])
	}
	os.WriteFile(filepath.Join(dir, "outs", "step2", "timings.csv"), []byte("img00,0.1\nimg01,fast\n"), 0o644)
	s, err := LoadSpec(filepath.Join(dir, "spec.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), s, RunOptions{Out: filepath.Join(dir, "run2")}); err == nil || !strings.Contains(err.Error(), "timings.csv") {
		t.Errorf("bad timings: %v", err)
	}
}

// runSpecText writes spec text to dir/name.yaml, runs it into dir/name
// with o (Out set here) and returns the run folder.
func runSpecText(t *testing.T, dir, name, text string, o RunOptions) string {
	t.Helper()
	p := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	o.Out = filepath.Join(dir, name)
	if _, err := Run(context.Background(), s, o); err != nil {
		t.Fatal(err)
	}
	return o.Out
}

// folderOutputs writes dir/outs/stepK/ID.png for each step and image of
// set (the HR image, as a perfect method would give it), but those skip
// names, and returns the folder runner's path pattern.
func folderOutputs(t *testing.T, set, dir string, steps []int, ids []string, skip func(step int, id string) bool) string {
	t.Helper()
	for _, st := range steps {
		d := filepath.Join(dir, "outs", fmt.Sprintf("step%d", st))
		os.MkdirAll(d, 0o755)
		for _, id := range ids {
			if skip != nil && skip(st, id) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(set, "HR", id+".png"))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(d, id+".png"), b, 0o644)
		}
	}
	return filepath.Join(dir, "outs") + "/step{steps}"
}

// TestFolderPattern: a folder method whose framework names outputs
// img00_x4_SR.png reads them as img00 through pattern:, with the values of
// plainly named outputs; the pattern is in the fingerprint.
func TestFolderPattern(t *testing.T) {
	dir := t.TempDir()
	set := makeSet(t, 2)
	outs := folderOutputs(t, set, dir, []int{1}, []string{"img00", "img01"}, nil)
	renamed := filepath.Join(dir, "renamed")
	os.MkdirAll(renamed, 0o755)
	for _, id := range []string{"img00", "img01"} {
		b, _ := os.ReadFile(filepath.Join(dir, "outs", "step1", id+".png"))
		os.WriteFile(filepath.Join(renamed, id+"_x4_SR.png"), b, 0o644)
	}
	os.WriteFile(filepath.Join(renamed, "img00_x4_LR.png"), []byte("not an output"), 0o644)
	text := "datasets:\n  - {name: s, path: " + set + "}\nmetrics: [psnr, ssim]\nmethods:\n" +
		"  - {name: plain, runner: folder, path: \"" + outs + "\", steps: [1]}\n" +
		"  - {name: theirs, runner: folder, path: \"" + renamed + "\", pattern: \"{stem}_x4_SR\"}\n"
	out := runSpecText(t, dir, "spec", text, RunOptions{})
	recs, _ := ReadRunRecords(out)
	vals := map[string]map[string]float64{}
	for _, r := range recs {
		if r.Error != "" {
			t.Errorf("%s %s: %s", r.Method, r.Image, r.Error)
		}
		vals[r.Method+"/"+r.Image] = r.Values
	}
	metas, err := LoadRunMeta(out)
	if err != nil {
		t.Fatal(err)
	}
	var runnerFP string
	for _, f := range metas[0].Fingerprints {
		if f.Method == "theirs" {
			runnerFP = f.Runner
		}
	}
	if !strings.Contains(runnerFP, "pattern={stem}_x4_SR") {
		t.Errorf("fingerprint of the pattern method: %q", runnerFP)
	}
	for _, id := range []string{"img00", "img01"} {
		if p, q := vals["plain/"+id], vals["theirs/"+id]; p == nil || fmt.Sprint(p) != fmt.Sprint(q) {
			t.Errorf("%s: plain %v, by pattern %v", id, p, q)
		}
	}
	bad := "datasets:\n  - {name: s, path: " + set + "}\nmetrics: [psnr]\nmethods:\n  - {name: theirs, runner: folder, path: \"" + renamed + "\", pattern: out}\n"
	p := filepath.Join(dir, "bad.yaml")
	os.WriteFile(p, []byte(bad), 0o644)
	if _, err := LoadSpec(p); err == nil || !strings.Contains(err.Error(), `:5: method "theirs": pattern "out"`) {
		t.Errorf("bad pattern: %v", err)
	}
}
