package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/reports"
)

// binary is the addsr-bench command, built once for the tests that run it
// as a real process (kill -9, shards).
var binary string

func TestMain(m *testing.M) {
	// The kill-and-resume test runs this test binary as a slow run.
	if spec := os.Getenv("BENCH_TEST_SLOW_RUN"); spec != "" {
		os.Exit(slowRun(spec, os.Getenv("BENCH_TEST_SLOW_OUT")))
	}
	dir, err := os.MkdirTemp("", "addsr-bench-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "addsr-bench")
	build := exec.Command("go", "build", "-o", binary, "../cmd/addsr-bench")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building addsr-bench:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// makeSet writes a small HR/LR dataset of 192×96 crops of the sample photos
// (NIQE needs two 96-pixel blocks) and returns its folder.
func makeSet(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	s, err := datasets.Samples()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		src := s[i%len(s)].Image
		hr, err := src.Crop((i*41)%(src.W-192), (i*29)%(src.H-96), 192, 96)
		if err != nil {
			t.Fatal(err)
		}
		lr, err := imresize.Image(hr, 0.25)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			dir string
			m   interface{ SavePNG(string) error }
		}{{"HR", hr}, {"LR", lr.Quantized()}} {
			os.MkdirAll(filepath.Join(dir, p.dir), 0o755)
			if err := p.m.SavePNG(filepath.Join(dir, p.dir, fmt.Sprintf("img%02d.png", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func writeSpec(t *testing.T, dir, set string) string {
	t.Helper()
	spec := fmt.Sprintf(`name: t
datasets:
  - name: set
    path: %s
metrics: [psnr, ssim, niqe]
methods:
  - name: bicubic
    runner: bicubic
  - name: nearest
    runner: nearest
`, set)
	p := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// comparable strips what legitimately differs between runs (timings).
func comparable(recs []reports.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s %v %s %s", KeyOf(r), r.Values, r.Fingerprint, r.Error))
	}
	sort.Strings(out)
	return out
}

func TestSpecErrorsNameTheLine(t *testing.T) {
	set := makeSet(t, 1)
	cases := []struct {
		spec string
		want []string
	}{
		{"datasets:\n  - name: a\n    path: " + set + "\nmetrics: [psnr, lpipz]\nmethods:\n  - name: b\n    runner: bicubic\n",
			[]string{`:4: unknown metric "lpipz"`}},
		{"datasets:\n  - name: a\n    path: " + set + "\nmetrics: [psnr]\nmethods:\n  - name: b\n    runner: bicubic\n  - name: b\n    runner: nearest\n",
			[]string{`:8: duplicate method name "b" (first on line 6)`}},
		{"datasets:\n  - name: a\n    path: " + set + "\nmetrics: [psnr]\nmethods:\n  - name: m\n    runner: folder\n    path: nowhere/{dataset}\n",
			[]string{`:6: method "m": output folder`, "nowhere/a is missing"}},
		{"datasets:\n  - name: a\n    path: /no/such/set\nmetrics: [psnr]\nmethods:\n  - name: b\n    runner: tensorrt\n    colour: red\n",
			[]string{":2: dataset \"a\": /no/such/set is not a folder", `:6: method "b": unknown runner "tensorrt"`, `:8: unknown key "colour"`}},
		{"datasets: []\nmetrics: [psnr]\n", []string{":1: datasets is empty", `"methods" is required`}},
		{"metric_device: tpu\ndatasets:\n  - name: a\n    path: " + set + "\nmetrics: [psnr]\nmethods:\n  - name: b\n    runner: bicubic\n",
			[]string{`:1: metric_device: --device "tpu"`}},
		{"datasets: [\n", []string{"not valid YAML"}},
		{"report:\n  pd: {x: lpips, z: psnr}\ndatasets:\n  - name: a\n    path: " + set + "\nmetrics: [psnr]\nmethods:\n  - name: b\n    runner: bicubic\n",
			[]string{`:2: report: pd: `}},
		{"report:\n  pd: {x: lpips}\ndatasets:\n  - name: a\n    path: " + set + "\nmetrics: [psnr]\nmethods:\n  - name: b\n    runner: bicubic\n",
			[]string{`:2: report: pd: x=lpips is not a metric of this experiment (psnr)`}},
	}
	for i, c := range cases {
		p := filepath.Join(t.TempDir(), "spec.yaml")
		os.WriteFile(p, []byte(c.spec), 0o644)
		_, err := LoadSpec(p)
		if err == nil {
			t.Errorf("case %d: accepted", i)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("case %d: error lacks %q:\n%v", i, w, err)
			}
		}
	}
}

func TestRunResumeAndRefuse(t *testing.T) {
	dir := t.TempDir()
	spec, err := LoadSpec(writeSpec(t, dir, makeSet(t, 3)))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	sum, err := Run(context.Background(), spec, RunOptions{Out: out, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Jobs != 6 || sum.Failed != 0 {
		t.Fatalf("%+v", sum)
	}
	if _, err := Run(context.Background(), spec, RunOptions{Out: out}); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("second run without --resume: %v", err)
	}
	sum, err = Run(context.Background(), spec, RunOptions{Out: out, Resume: true})
	if err != nil || sum.Jobs != 0 || sum.Resumed != 6 {
		t.Errorf("resume of a finished run: %+v, %v", sum, err)
	}
	// A torn last line (a write cut by a kill) is cut off and redone.
	f := filepath.Join(out, "records.jsonl")
	data, _ := os.ReadFile(f)
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	torn := strings.Join(lines[:len(lines)-1], "") + lines[len(lines)-1][:20]
	os.WriteFile(f, []byte(torn), 0o644)
	sum, err = Run(context.Background(), spec, RunOptions{Out: out, Resume: true})
	if err != nil || sum.Jobs != 1 {
		t.Fatalf("resume after a torn line: %+v, %v", sum, err)
	}
	after, _, err := ReadRecords(f, false)
	if err != nil || len(after) != 6 {
		t.Fatalf("%d records after recovery, %v", len(after), err)
	}
	// A different spec into the same folder is refused.
	other := filepath.Join(dir, "other.yaml")
	os.WriteFile(other, append(spec.Raw, []byte("\n# changed\n")...), 0o644)
	spec2, err := LoadSpec(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), spec2, RunOptions{Out: out, Resume: true}); err == nil || !strings.Contains(err.Error(), "different spec") {
		t.Errorf("other spec into the run folder: %v", err)
	}
}

// TestKillAndResume kills a real run with SIGKILL mid-way, resumes it, and
// checks the records equal an uninterrupted run's: nothing lost, nothing
// duplicated.
func TestKillAndResume(t *testing.T) {
	dir := t.TempDir()
	specPath := writeSpec(t, dir, makeSet(t, 6))
	clean := filepath.Join(dir, "clean")
	if out, err := exec.Command(binary, "run", specPath, "--out", clean).CombinedOutput(); err != nil {
		t.Fatalf("clean run: %v\n%s", err, out)
	}
	want, err := ReadRunRecords(clean)
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		killed := filepath.Join(dir, fmt.Sprintf("killed%d", round))
		cmd := exec.Command(os.Args[0]) // slowRun, through TestMain
		cmd.Env = append(os.Environ(), "BENCH_TEST_SLOW_RUN="+specPath, "BENCH_TEST_SLOW_OUT="+killed)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after 2+round jobs are on disk.
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			data, _ := os.ReadFile(filepath.Join(killed, "records.jsonl"))
			if strings.Count(string(data), "\n") >= 2+round {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		part, _, _ := ReadRecords(filepath.Join(killed, "records.jsonl"), false)
		if len(part) == 0 || len(part) >= len(want) {
			t.Fatalf("round %d: killed run has %d of %d records; the kill came at the wrong time", round, len(part), len(want))
		}
		if out, err := exec.Command(binary, "run", specPath, "--out", killed, "--resume").CombinedOutput(); err != nil {
			t.Fatalf("resume: %v\n%s", err, out)
		}
		got, err := ReadRunRecords(killed)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(comparable(got), comparable(want)) {
			t.Errorf("round %d: after kill and resume %d records, clean run %d; they differ", round, len(got), len(want))
		}
	}
}

// TestShardsMergeEqualsUnsharded runs three shards as separate processes, as
// a Kubernetes Indexed Job would (JOB_COMPLETION_INDEX), merges them, and
// compares with an unsharded run.
func TestShardsMergeEqualsUnsharded(t *testing.T) {
	dir := t.TempDir()
	specPath := writeSpec(t, dir, makeSet(t, 7))
	whole := filepath.Join(dir, "whole")
	if out, err := exec.Command(binary, "run", specPath, "--out", whole).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var shardDirs []string
	for i := 0; i < 3; i++ {
		d := filepath.Join(dir, fmt.Sprintf("shard%d", i))
		cmd := exec.Command(binary, "run", specPath, "--out", d, "--shards", "3")
		cmd.Env = append(os.Environ(), fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, out)
		}
		shardDirs = append(shardDirs, d)
	}
	merged := filepath.Join(dir, "merged")
	out, err := exec.Command(binary, append(append([]string{"merge"}, shardDirs...), "--out", merged)...).CombinedOutput()
	if err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	a, _ := ReadRunRecords(whole)
	b, _ := ReadRunRecords(merged)
	if !reflect.DeepEqual(comparable(a), comparable(b)) {
		t.Fatal("shards merged differ from the unsharded run")
	}
	ea, _, _ := LoadExperiment(whole)
	eb, _, _ := LoadExperiment(merged)
	if !reflect.DeepEqual(ea.Summary().Means, eb.Summary().Means) {
		t.Error("aggregates differ")
	}
	// A missing shard is named, with the command that reruns it, exit 1,
	// and no merged run is written; --allow-incomplete writes one marked
	// incomplete, which report warns about and check refuses.
	partial := filepath.Join(dir, "partial")
	cmd := exec.Command(binary, "merge", shardDirs[0], shardDirs[1], "--out", partial)
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "missing: set/") ||
		!strings.Contains(string(out), "missing shard: 2/3 (run-shard-002-of-003.json); rerun it with addsr-bench run SPEC --out DIR --shard 2/3 --resume") {
		t.Errorf("merge without a shard: %v\n%s", err, out)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("an incomplete merge wrote %s (%v)", partial, err)
	}
	out, _ = exec.Command(binary, "merge", shardDirs[0], shardDirs[1], "--out", partial, "--allow-incomplete").CombinedOutput()
	if !strings.Contains(string(out), "merged") {
		t.Fatalf("--allow-incomplete:\n%s", out)
	}
	if out, _ := exec.Command(binary, "report", partial).CombinedOutput(); !strings.Contains(string(out), "WARNING") || !strings.Contains(string(out), "incomplete merge") {
		t.Errorf("report of an incomplete merge:\n%s", out)
	}
	if out, err := exec.Command(binary, "check", "--baseline", whole, "--run", partial).CombinedOutput(); err == nil || !strings.Contains(string(out), "incomplete merge") {
		t.Errorf("check of an incomplete merge: %v\n%s", err, out)
	}
	// A shard run with other metric settings is refused.
	odd := filepath.Join(dir, "odd")
	os.MkdirAll(odd, 0o755)
	spec, _ := os.ReadFile(filepath.Join(shardDirs[2], "spec.yaml"))
	os.WriteFile(filepath.Join(odd, "spec.yaml"), spec, 0o644)
	meta, _ := os.ReadFile(filepath.Join(shardDirs[2], "run-shard-002-of-003.json"))
	os.WriteFile(filepath.Join(odd, "run.json"), meta, 0o644)
	recs, _ := ReadRunRecords(shardDirs[2])
	for i := range recs {
		recs[i].Fingerprint = "0000000000000000"
	}
	writeRecordsFile(filepath.Join(odd, "records.jsonl"), recs)
	if _, err := Merge([]string{shardDirs[0], odd}, filepath.Join(dir, "mixed"), MergeOptions{}); err == nil || !strings.Contains(err.Error(), "two fingerprints") {
		t.Errorf("mixed fingerprints: %v", err)
	}
}

func TestShardFromEnv(t *testing.T) {
	t.Setenv("JOB_COMPLETION_INDEX", "2")
	if s, ok, err := ShardFromEnv(4); !ok || err != nil || s != (Shard{2, 4}) {
		t.Errorf("k8s: %v %v %v", s, ok, err)
	}
	if _, _, err := ShardFromEnv(0); err == nil {
		t.Error("JOB_COMPLETION_INDEX without a count accepted")
	}
	os.Unsetenv("JOB_COMPLETION_INDEX")
	// Slurm: --shards is the count, the task ID the shard; one task
	// resubmitted alone (sbatch --array=1: min 1, max 1, count 1) is still
	// shard 1 of 3.
	t.Setenv("SLURM_ARRAY_TASK_ID", "1")
	t.Setenv("SLURM_ARRAY_TASK_MIN", "1")
	t.Setenv("SLURM_ARRAY_TASK_MAX", "1")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "1")
	if s, ok, err := ShardFromEnv(3); !ok || err != nil || s != (Shard{1, 3}) {
		t.Errorf("slurm, one task resubmitted: %v %v %v", s, ok, err)
	}
	if _, _, err := ShardFromEnv(0); err == nil || !strings.Contains(err.Error(), "pass --shards N") {
		t.Errorf("slurm without --shards: %v", err)
	}
	t.Setenv("SLURM_ARRAY_TASK_MAX", "7")
	if _, _, err := ShardFromEnv(3); err == nil || !strings.Contains(err.Error(), "--array=0-2") {
		t.Errorf("an array larger than --shards: %v", err)
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "5")
	if _, _, err := ShardFromEnv(3); err == nil || !strings.Contains(err.Error(), "not a shard of --shards 3") {
		t.Errorf("task 5 of 3 shards: %v", err)
	}
	for _, k := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_COUNT"} {
		os.Unsetenv(k)
	}
	// Assignment is stable and covers every image once.
	n := 0
	for i := 0; i < 3; i++ {
		if (Shard{i, 3}).Owns("set", "img07") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("img07 owned by %d shards", n)
	}
	for _, bad := range []string{"3/3", "a/2", "1", "-1/2"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("--shard %s accepted", bad)
		}
	}
}

func TestReportAndCheck(t *testing.T) {
	dir := t.TempDir()
	specPath := writeSpec(t, dir, makeSet(t, 3))
	spec, err := LoadSpec(specPath)
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if _, err := Run(context.Background(), spec, RunOptions{Out: run}); err != nil {
		t.Fatal(err)
	}
	rf, tables, err := WriteReport(run, filepath.Join(run, "report"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || len(rf.Files) < 8 {
		t.Fatalf("report: %v", rf.Files)
	}
	html, _ := os.ReadFile(filepath.Join(run, "report", "report.html"))
	for _, want := range []string{"<table>", "data:image/png;base64,", "perception–distortion", "psnr ↑", "niqe ↓"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// A run checked against itself passes, per image too.
	base, baseRecs, err := LoadSummary(run)
	if err != nil {
		t.Fatal(err)
	}
	tol, _ := ParseTolerances("")
	if res := Check(base, base, baseRecs, baseRecs, tol, CheckOptions{PerImage: true}); res.Regressions != 0 {
		t.Errorf("self-check: %d regressions", res.Regressions)
	}
	// A baseline that was better: PSNR 0.5 dB higher is a regression beyond
	// 0.1 dB; NIQE 0.5 lower (better) too; a 2% tolerance on NIQE lets 0.01 pass.
	worse := base
	worse.Means = map[string]map[string]map[string]float64{}
	for d, cols := range base.Means {
		worse.Means[d] = map[string]map[string]float64{}
		for c, ms := range cols {
			worse.Means[d][c] = map[string]float64{}
			for k, v := range ms {
				worse.Means[d][c][k] = v
			}
			worse.Means[d][c]["psnr"] += 0.5
			worse.Means[d][c]["niqe"] -= 0.01
		}
	}
	tol, _ = ParseTolerances("psnr=0.1,niqe=2%")
	res := Check(worse, base, nil, nil, tol, CheckOptions{})
	if res.Regressions != 2 { // psnr of bicubic and nearest
		t.Errorf("%d regressions, want 2", res.Regressions)
	}
	var b strings.Builder
	res.WriteMarkdown(&b)
	if !strings.Contains(b.String(), "FAIL") || !strings.Contains(b.String(), "REGRESSION") {
		t.Errorf("summary:\n%s", b.String())
	}
	tol, _ = ParseTolerances("psnr=0.1")
	if res := Check(worse, base, nil, nil, tol, CheckOptions{}); res.Regressions != 4 {
		t.Errorf("default tolerance on niqe: %d regressions, want 4", res.Regressions)
	}
	// Summary JSON round trip as a baseline file.
	sj := filepath.Join(run, "report", "summary.json")
	fromFile, _, err := LoadSummary(sj)
	if err != nil {
		t.Fatal(err)
	}
	tol, _ = ParseTolerances("*=1e-9")
	if res := Check(fromFile, base, nil, nil, tol, CheckOptions{}); res.Regressions != 0 {
		t.Errorf("summary.json baseline: %d regressions", res.Regressions)
	}
	// A misspelt metric in --tol is an error, not a silent default.
	tol, _ = ParseTolerances("psnr=0.1,lpisp=2%,*=1")
	if unknown, known := UnknownTolerances(base, tol); !slices.Equal(unknown, []string{"lpisp"}) || !slices.Equal(known, []string{"niqe", "psnr", "ssim"}) {
		t.Errorf("UnknownTolerances: %v, known %v", unknown, known)
	}
	out, err := exec.Command(binary, "check", "--baseline", run, "--run", run, "--tol", "psnr=0.1,lpisp=2%").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "lpisp: not a metric of") {
		t.Errorf("check --tol lpisp=2%%: %v\n%s", err, out)
	}
}

// TestDocsRecipes runs the shard commands of docs/k8s-indexed-job.yaml and
// docs/slurm-array.sh as separate local processes, with the environment each
// scheduler sets, into one shared run folder, merges them as the docs do, and
// compares with an unsharded run.
func TestDocsRecipes(t *testing.T) {
	dir := t.TempDir()
	specPath := writeSpec(t, dir, makeSet(t, 5))
	whole := filepath.Join(dir, "whole")
	if out, err := exec.Command(binary, "run", specPath, "--out", whole).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want, _ := ReadRunRecords(whole)

	// Kubernetes: the shard container's command, JOB_COMPLETION_INDEX set.
	manifest, err := os.ReadFile("../docs/k8s-indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var shardCmd []string
	var completions int
	dec := yaml.NewDecoder(strings.NewReader(string(manifest)))
	for {
		var job struct {
			Spec struct {
				Completions int `yaml:"completions"`
				Template    struct {
					Spec struct {
						Containers []struct {
							Name    string   `yaml:"name"`
							Command []string `yaml:"command"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&job); err != nil {
			break
		}
		for _, c := range job.Spec.Template.Spec.Containers {
			if c.Name == "shard" {
				shardCmd, completions = c.Command, job.Spec.Completions
			}
		}
	}
	if len(shardCmd) < 3 || completions < 2 {
		t.Fatalf("no shard container in the manifest: %v", shardCmd)
	}
	// What issue 19 found missing: the merge ordered after the shards (a
	// suspended Job), a ReadWriteMany volume, workers matching the CPU
	// request, an image pinned by digest.
	for _, want := range []string{"suspend: true", "accessModes: [ReadWriteMany]", `"--workers", "4"`, "GOMAXPROCS", "addsr-bench@sha256:", "kubectl wait --for=condition=complete"} {
		if !strings.Contains(string(manifest), want) {
			t.Errorf("docs/k8s-indexed-job.yaml lacks %q", want)
		}
	}
	k8sRun := filepath.Join(dir, "k8s")
	for i := 0; i < completions; i++ {
		args := append([]string(nil), shardCmd[1:]...)
		for j, a := range args {
			switch a {
			case "/data/experiments/div2k.yaml":
				args[j] = specPath
			case "/data/runs/div2k":
				args[j] = k8sRun
			}
		}
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("k8s shard %d: %v\n%s", i, err, out)
		}
	}
	if out, err := exec.Command(binary, "merge", k8sRun, "--out", k8sRun+"-merged").CombinedOutput(); err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	got, _ := ReadRunRecords(k8sRun + "-merged")
	if !reflect.DeepEqual(comparable(got), comparable(want)) {
		t.Error("Kubernetes recipe: merged shards differ from the unsharded run")
	}

	// Slurm: the script submits (a stand-in sbatch records what and answers
	// a job ID), then runs as each array task and as the merge job.
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "sbatch"), []byte("#!/bin/sh\necho \"$@\" >> \"$SBATCH_LOG\"\necho 99\n"), 0o755)
	slurmRun := filepath.Join(dir, "slurm")
	env := append(os.Environ(), "ADDSR_BENCH="+binary, "PATH="+bin+":"+os.Getenv("PATH"), "SBATCH_LOG="+filepath.Join(dir, "sbatch.log"), "SHARDS=3")
	submit := exec.Command("bash", "../docs/slurm-array.sh", specPath, slurmRun)
	submit.Env = append(env, "CPUS=2", "MEM=2G")
	if out, err := submit.CombinedOutput(); err != nil || !strings.Contains(string(out), "rerun shard I: SHARDS=3 ONLY=I") {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "sbatch.log"))
	for _, want := range []string{"--array=0-2", "--cpus-per-task=2", "--mem=2G", "--dependency=afterany:99", "--task", "--merge"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("sbatch calls lack %q:\n%s", want, log)
		}
	}
	for id := 0; id < 3; id++ {
		cmd := exec.Command("bash", "../docs/slurm-array.sh", "--task", specPath, slurmRun)
		cmd.Env = append(env, fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", id), "SLURM_ARRAY_TASK_MIN=0", "SLURM_ARRAY_TASK_MAX=2", "SLURM_ARRAY_TASK_COUNT=3")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("slurm task %d: %v\n%s", id, err, out)
		}
	}
	// Shard 1 again, resubmitted alone (--array=1: count 1): still shard 1.
	again := exec.Command("bash", "../docs/slurm-array.sh", "--task", specPath, slurmRun)
	again.Env = append(env, "SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=1", "SLURM_ARRAY_TASK_COUNT=1")
	if out, err := again.CombinedOutput(); err != nil || !strings.Contains(string(out), "already recorded") {
		t.Fatalf("slurm task 1 resubmitted: %v\n%s", err, out)
	}
	mergeJob := exec.Command("bash", "../docs/slurm-array.sh", "--merge", specPath, slurmRun)
	mergeJob.Env = env
	if out, err := mergeJob.CombinedOutput(); err != nil {
		t.Fatalf("merge job: %v\n%s", err, out)
	}
	got, _ = ReadRunRecords(slurmRun + "-merged")
	if !reflect.DeepEqual(comparable(got), comparable(want)) {
		t.Error("Slurm recipe: merged shards differ from the unsharded run")
	}
}

func TestSpecONNXMethods(t *testing.T) {
	set := makeSet(t, 1)
	p := filepath.Join(t.TempDir(), "spec.yaml")
	os.WriteFile(p, []byte("datasets:\n  - name: a\n    path: "+set+"\nmetrics: [psnr]\nmethods:\n  - name: m\n    runner: onnx\n    model: nowhere.onnx\n    device: tpu\n"), 0o644)
	_, err := LoadSpec(p)
	if err == nil || !strings.Contains(err.Error(), `:6: method "m"`) || !strings.Contains(err.Error(), "--device") {
		t.Errorf("bad onnx method: %v", err)
	}
	os.WriteFile(p, []byte("datasets:\n  - name: a\n    path: "+set+"\nmetrics: [psnr]\nmethods:\n  - name: m\n    runner: onnx\n    model: nowhere.onnx\n    threads: -1\n"), 0o644)
	if _, err := LoadSpec(p); err == nil || !strings.Contains(err.Error(), `:6: method "m": tile, overlap, batch and threads must be ≥ 0`) {
		t.Errorf("negative threads: %v", err)
	}
	os.WriteFile(p, []byte("datasets:\n  - name: a\n    path: "+set+"\nmetrics: [psnr]\nmethods:\n  - name: b\n    runner: bicubic\n    io_binding: true\n"), 0o644)
	if _, err := LoadSpec(p); err == nil || !strings.Contains(err.Error(), `:6: method "b": ep_options and io_binding are for runner: onnx`) {
		t.Errorf("io_binding on bicubic: %v", err)
	}
}

// TestRunWithONNXModel runs an experiment whose method is the cached
// Real-ESRGAN x4fast (installed by make models, which make test runs).
func TestRunWithONNXModel(t *testing.T) {
	model, ok := models.CachedFile("models/realesrgan-x4fast.onnx")
	if !ok {
		t.Skip("realesrgan-x4fast not installed; run make models")
	}
	dir := t.TempDir()
	set := makeSet(t, 2)
	p := filepath.Join(dir, "spec.yaml")
	os.WriteFile(p, []byte(fmt.Sprintf("datasets:\n  - {name: s, path: %s}\nmetrics: [psnr, niqe]\nmethods:\n  - {name: bicubic, runner: bicubic}\n  - {name: esr, runner: onnx, model: %q, tile: 16, overlap: 4, threads: 1, io_binding: true, ep_options: {prefer_nhwc: \"1\"}}\n", set, model)), 0o644)
	spec, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	if m := spec.Methods[1]; m.Threads != 1 || !m.IOBinding || m.EPOptions["prefer_nhwc"] != "1" {
		t.Errorf("threads %d, io_binding %v, ep_options %v", m.Threads, m.IOBinding, m.EPOptions)
	}
	out := filepath.Join(dir, "run")
	var notes []string
	sum, err := Run(context.Background(), spec, RunOptions{Out: out, Notes: func(m, n string) { notes = append(notes, m+": "+n) }})
	if err != nil || sum.Failed != 0 || sum.Jobs != 4 {
		t.Fatalf("%+v %v", sum, err)
	}
	// The spec's CUDA option does nothing on the CPU, and the run says so once.
	if len(notes) != 1 || !strings.Contains(notes[0], "method esr: provider options prefer_nhwc=1 are for CUDA") {
		t.Errorf("notes %q", notes)
	}
	recs, _ := ReadRunRecords(out)
	for _, r := range recs {
		if r.Method == "esr" && (r.Values["psnr"] < 15 || r.TimingsMS["inference"] <= 0) {
			t.Errorf("esr record %+v", r)
		}
	}
	metas, _ := LoadRunMeta(out)
	found := false
	for _, f := range metas[0].Fingerprints {
		if f.Method == "esr" && strings.Contains(f.Runner, "sha256=") && strings.Contains(f.Runner, "ep=CPUExecutionProvider") {
			found = true
		}
	}
	if !found {
		t.Errorf("no ONNX fingerprint in run.json: %+v", metas[0].Fingerprints)
	}
}

// batch_images: the method's images share inferences; each record holds
// the same values as an unbatched run, says how many shared, and the
// fingerprint says how the method ran.
func TestRunBatchImages(t *testing.T) {
	model, ok := models.CachedFile("models/realesrgan-x4fast.onnx")
	if !ok {
		t.Skip("realesrgan-x4fast not installed; run make models")
	}
	set := makeSet(t, 3)
	values := map[string]map[string]reports.Record{}
	for _, batch := range []int{0, 2} {
		dir := t.TempDir()
		p := filepath.Join(dir, "spec.yaml")
		lp, _ := filepath.Abs(filepath.Join("..", "metrics", "testdata", "lpips"))
		os.WriteFile(p, []byte(fmt.Sprintf("metric_models: %s\ndatasets:\n  - {name: s, path: %s}\nmetrics: [psnr, ssim, lpips]\nmethods:\n  - {name: esr, runner: onnx, model: %q, batch_images: %d}\n", lp, set, model, batch)), 0o644)
		spec, err := LoadSpec(p)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "run")
		sum, err := Run(context.Background(), spec, RunOptions{Out: out, Workers: 2})
		if err != nil || sum.Failed != 0 || sum.Jobs != 3 {
			t.Fatalf("batch %d: %+v %v", batch, sum, err)
		}
		recs, _ := ReadRunRecords(out)
		values[fmt.Sprint(batch)] = map[string]reports.Record{}
		for _, r := range recs {
			values[fmt.Sprint(batch)][r.Image] = r
		}
		metas, _ := LoadRunMeta(out)
		for _, f := range metas[0].Fingerprints {
			if got := strings.Contains(f.Runner, "batch-images=2"); got != (batch == 2) {
				t.Errorf("batch %d: fingerprint %s", batch, f.Runner)
			}
		}
	}
	for img, want := range values["0"] {
		got := values["2"][img]
		if len(got.Values) != 3 {
			t.Errorf("%s: values %v", img, got.Values)
		}
		for k, v := range want.Values {
			if math.Abs(got.Values[k]-v) > 1e-6*math.Max(1e-3, math.Abs(v)) { // lpips stacked: float rounding
				t.Errorf("%s %s: %v batched, %v alone", img, k, got.Values[k], v)
			}
		}
		if want.Batch != 0 {
			t.Errorf("%s ran alone but says batch %d", img, want.Batch)
		}
	}
	// Images are taken in order: img00 and img01 share, img02 runs alone.
	if b := []int{values["2"]["img00"].Batch, values["2"]["img01"].Batch, values["2"]["img02"].Batch}; fmt.Sprint(b) != "[2 2 0]" {
		t.Errorf("batch sizes %v, want [2 2 0]", b)
	}
}

// batch_images takes a dataset's images in order of size, so that batches
// hold one size: with sizes alternating, each image still shares.
func TestRunBatchImagesBySize(t *testing.T) {
	model, ok := models.CachedFile("models/realesrgan-x4fast.onnx")
	if !ok {
		t.Skip("realesrgan-x4fast not installed; run make models")
	}
	set := makeSet(t, 4)
	for _, id := range []string{"img01", "img03"} { // 96×48 HR instead of 192×96
		for dir, scale := range map[string]float64{"HR": 1, "LR": 0.25} {
			p := filepath.Join(set, dir, id+".png")
			m, err := img.Load(p, img.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c, _ := m.Crop(0, 0, int(96*scale), int(48*scale))
			c.SavePNG(p)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "spec.yaml")
	os.WriteFile(p, []byte(fmt.Sprintf("datasets:\n  - {name: s, path: %s}\nmetrics: [psnr]\nmethods:\n  - {name: esr, runner: onnx, model: %q, batch_images: 2}\n", set, model)), 0o644)
	spec, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	if sum, err := Run(context.Background(), spec, RunOptions{Out: out}); err != nil || sum.Failed != 0 {
		t.Fatalf("%+v %v", sum, err)
	}
	recs, _ := ReadRunRecords(out)
	for _, r := range recs {
		if r.Batch != 2 {
			t.Errorf("%s shared an inference with %d images, want 2", r.Image, r.Batch)
		}
	}
}

// A batched run that lost records (a kill mid-write) resumes with the images
// that have none, once each.
func TestRunBatchImagesResume(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "spec.yaml")
	os.WriteFile(p, []byte("datasets:\n  - {name: s, path: "+makeSet(t, 5)+"}\nmetrics: [psnr]\nmethods:\n  - {name: b, runner: bicubic, batch_images: 2}\n"), 0o644)
	spec, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	if _, err := Run(context.Background(), spec, RunOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
	sum0 := RecordsFileName(Shard{})
	data, _ := os.ReadFile(filepath.Join(out, sum0))
	lines := strings.SplitAfter(strings.TrimSpace(string(data)), "\n")
	// Keep 2 whole records and half of the third.
	os.WriteFile(filepath.Join(out, sum0), []byte(lines[0]+lines[1]+lines[2][:len(lines[2])/2]), 0o644)
	sum, err := Run(context.Background(), spec, RunOptions{Out: out, Resume: true})
	if err != nil || sum.Resumed != 2 || sum.Jobs != 3 {
		t.Fatalf("resume: %+v %v", sum, err)
	}
	recs, _ := ReadRunRecords(out)
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.Image]++
	}
	if len(recs) != 5 || len(seen) != 5 {
		t.Errorf("after resume: %d records, %v", len(recs), seen)
	}
}

// An output that cannot be written (keep_outputs) is an error in its record.
func TestRunOutputWriteErrorIsRecorded(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "spec.yaml")
	os.WriteFile(p, []byte("keep_outputs: true\ndatasets:\n  - {name: s, path: "+makeSet(t, 1)+"}\nmetrics: [psnr]\nmethods:\n  - {name: b, runner: bicubic}\n"), 0o644)
	spec, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "outputs"), []byte("a file where the outputs folder goes"), 0o644)
	sum, err := Run(context.Background(), spec, RunOptions{Out: out, Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := ReadRunRecords(out)
	if sum.Failed != 1 || len(recs) != 1 || !strings.Contains(recs[0].Error, "outputs") {
		t.Errorf("%+v %+v", sum, recs)
	}
}

func TestRunStopsEarlyWithoutMetricModel(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "spec.yaml")
	os.WriteFile(p, []byte("metric_models: "+dir+"\ndatasets:\n  - {name: s, path: "+makeSet(t, 1)+"}\nmetrics: [psnr, lpips, musiq]\nmethods:\n  - {name: b, runner: bicubic}\n"), 0o644)
	spec, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), spec, RunOptions{Out: filepath.Join(dir, "run")})
	if err == nil || !strings.Contains(err.Error(), ":4:") || !strings.Contains(err.Error(), "lpips-alex.onnx") || !strings.Contains(err.Error(), "musiq-koniq.onnx") {
		t.Errorf("run without the lpips and musiq models: %v, want both named at the spec's line", err)
	}
}

// slowRun is `addsr-bench run SPEC --out OUT --workers 1` with each job
// slowed by 40 ms (RunOptions.BeforeJob), in a process of its own that the
// kill-and-resume test kills mid-way.
func slowRun(specPath, out string) int {
	spec, err := LoadSpec(specPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if _, err := Run(context.Background(), spec, RunOptions{Out: out, Workers: 1, BeforeJob: func() { time.Sleep(40 * time.Millisecond) }}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestPlotAxes: report --pd over the spec's report: pd over the defaults
// (LPIPS-like fidelity on x, a no-reference metric on y).
func TestPlotAxes(t *testing.T) {
	e := &reports.Experiment{Metrics: []reports.MetricRow{{Name: "psnr"}, {Name: "ssim"}, {Name: "niqe"}}}
	for _, c := range []struct {
		spec, flags map[string]string
		x, y        string
	}{
		{nil, nil, "psnr", "niqe"},
		{map[string]string{"x": "ssim"}, nil, "ssim", "niqe"},
		{map[string]string{"x": "ssim", "y": "psnr"}, map[string]string{"y": "ssim"}, "ssim", "ssim"},
	} {
		x, y, err := plotAxes(e, &Spec{Report: ReportSpec{PD: c.spec}}, c.flags)
		if err != nil || x.Name != c.x || y.Name != c.y {
			t.Errorf("spec %v flags %v: %v, %v, %v; want %s, %s", c.spec, c.flags, x, y, err, c.x, c.y)
		}
	}
	if _, err := ParseAxesFlag("x"); err == nil {
		t.Error("--pd x accepted")
	}
}

// TestCropWindow: the crop goes where the outputs differ, not to the
// centre; with identical outputs, to the top-left window.
func TestCropWindow(t *testing.T) {
	const scale, lrW, lrH = 4, 40, 30
	mk := func() *img.Image {
		m := img.New(lrW*scale, lrH*scale)
		for c := range m.Planes {
			for i := range m.Planes[c] {
				m.Planes[c][i] = 0.5
			}
		}
		return m
	}
	a, b, c := mk(), mk(), mk()
	if x, y := cropWindow([]*img.Image{a, b}, scale, 8, 8); x != 0 || y != 0 {
		t.Errorf("identical outputs: window at (%d, %d), want (0, 0)", x, y)
	}
	// b differs from a and c in an 8×8-LR-pixel patch at LR (29, 3).
	for y := 3 * scale; y < 11*scale; y++ {
		for x := 29 * scale; x < 37*scale; x++ {
			b.Planes[1][y*b.W+x] = 0.9
		}
	}
	if x, y := cropWindow([]*img.Image{a, b, c}, scale, 8, 8); x != 29 || y != 3 {
		t.Errorf("window at (%d, %d), want (29, 3)", x, y)
	}
}
