package models

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/addsr-bench/addsr-bench/datasets"
)

// TestRunTinyGraph loads the real ONNX Runtime and runs affine.onnx
// (y = 2x+1, made by testdata/make_fixtures.py). It fails, not skips, when the
// runtime is missing: `make test` installs it, so a broken install must show.
func TestRunTinyGraph(t *testing.T) {
	s, err := Open(filepath.Join("testdata", "affine.onnx"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	in := Tensor{Shape: []int64{1, 3, 2, 2}, Data: make([]float32, 12)}
	for i := range in.Data {
		in.Data[i] = float32(i) * 0.5
	}
	out, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || len(out[0].Data) != 12 {
		t.Fatalf("got %d outputs", len(out))
	}
	for i, v := range out[0].Data {
		if want := 2*in.Data[i] + 1; v != want {
			t.Errorf("y[%d] = %v, want %v", i, v, want)
		}
	}
	info, err := Runtime()
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != ORTVersion {
		t.Errorf("loaded ONNX Runtime %s from %s, want %s", info.Version, info.Library, ORTVersion)
	}
}

// A CPU session with its own thread count gives the same result.
func TestThreads(t *testing.T) {
	for _, n := range []int{1, 3} {
		s, err := OpenOn(filepath.Join("testdata", "affine.onnx"), Device{Kind: "cpu", Threads: n})
		if err != nil {
			t.Fatalf("%d threads: %v", n, err)
		}
		out, err := s.Run(Tensor{Shape: []int64{1, 3, 1, 1}, Data: []float32{0, 1, 2}})
		s.Close()
		if err != nil || out[0].Data[2] != 5 {
			t.Errorf("%d threads: %v %v", n, out, err)
		}
	}
}

func TestRunRejectsWrongShape(t *testing.T) {
	s, err := Open(filepath.Join("testdata", "affine.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Run(Tensor{Shape: []int64{1, 4, 2, 2}, Data: make([]float32, 16)}); err == nil {
		t.Fatal("a 4-channel input was accepted by a 3-channel graph")
	}
	if _, err := s.Run(); err == nil {
		t.Fatal("a call without inputs was accepted")
	}
}

func TestOpenMissingOrCorrupt(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "none.onnx")); err == nil {
		t.Fatal("missing model opened")
	}
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	if err := os.WriteFile(bad, []byte("not a protobuf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad); err == nil {
		t.Fatal("corrupt model opened")
	}
}

func TestLibraryPathErrors(t *testing.T) {
	t.Setenv(EnvLibraryPath, filepath.Join(t.TempDir(), "nope.so"))
	if _, err := LibraryPath(); !errors.Is(err, ErrNoRuntime) {
		t.Fatalf("err = %v, want ErrNoRuntime", err)
	}
}

func TestIsOutOfMemory(t *testing.T) {
	for msg, want := range map[string]bool{
		"Failed to allocate memory for requested buffer of size 123": true,
		"CUDA failure 2: out of memory ; GPU=0":                      true,
		"CUDA error cudaErrorMemoryAllocation:out of memory":         true,
		"std::bad_alloc":                       true,
		"Got invalid dimensions for input: lr": false,
	} {
		if got := IsOutOfMemory(errors.New(msg)); got != want {
			t.Errorf("%q: %v", msg, got)
		}
	}
	if IsOutOfMemory(nil) {
		t.Error("nil")
	}
}

func TestLogLevel(t *testing.T) {
	for _, v := range []string{"", "error", "WARNING", "info", "verbose", "fatal"} {
		if o, err := logLevel(v); err != nil || o == nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if _, err := logLevel("loud"); err == nil || !strings.Contains(err.Error(), EnvORTLog) {
		t.Errorf("loud: %v", err)
	}
}

// Telemetry is switched through the loaded library (it must answer both
// ways), and a value that is neither 0 nor 1 is refused with the fix.
func TestSetTelemetry(t *testing.T) {
	if err := Init(); err != nil {
		t.Skip(err)
	}
	for _, v := range []string{"1", "", "0"} {
		if err := setTelemetry(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if err := setTelemetry("yes"); err == nil || !strings.Contains(err.Error(), EnvORTTelemetry) {
		t.Errorf("yes: %v", err)
	}
}

// Device.GraphOptimization and DisableOptimizers (--ort-opt,
// --ort-disable) reach the session, are recorded in its placement, and bad
// values are refused with the fix.
func TestSessionTuning(t *testing.T) {
	path := filepath.Join("testdata", "affine.onnx")
	var dev Device
	run := func() (Placement, error) {
		s, err := OpenOn(path, dev)
		if err != nil {
			return Placement{}, err
		}
		defer s.Close()
		out, err := s.Run(Tensor{Shape: []int64{1, 3, 1, 1}, Data: []float32{0, 1, 2}})
		if err == nil && out[0].Data[2] != 5 {
			err = errors.New("wrong output")
		}
		return s.Placement(), err
	}
	dev = Device{Kind: "cpu"}
	p, err := run()
	if err != nil || p.Session != nil || p.Tuning() != "" {
		t.Fatalf("defaults: %+v %v", p, err)
	}
	for _, c := range []struct{ opt, disable, tuning, fails string }{
		{"none", "", "graph_optimization_level=none", ""},
		{"Basic", "", "graph_optimization_level=basic", ""},
		{"extended", "ConstantFolding; BiasGeluFusion;", "graph_optimization_level=extended,optimization.disable_specified_optimizers=ConstantFolding;BiasGeluFusion", ""},
		{"", "GeluFusion", "optimization.disable_specified_optimizers=GeluFusion", ""},
		{"fast", "", "", `graph optimization "fast": use all, extended, basic or none`},
		{"", " ; ", "", "name ONNX Runtime graph optimizers"},
	} {
		dev = Device{Kind: "cpu", GraphOptimization: c.opt}
		if c.disable != "" {
			dev.DisableOptimizers = []string{c.disable}
		}
		p, err := run()
		if c.fails != "" {
			if err == nil || !strings.Contains(err.Error(), c.fails) {
				t.Errorf("%q %q: err %v, want %q", c.opt, c.disable, err, c.fails)
			}
			continue
		}
		if err != nil || p.Tuning() != c.tuning {
			t.Errorf("%q %q: tuning %q (err %v), want %q", c.opt, c.disable, p.Tuning(), err, c.tuning)
		}
	}
	if _, err := OpenOn(path, Device{Kind: "cpu", IOBinding: true, GraphOptimization: "basic"}); err == nil || !strings.Contains(err.Error(), "not applied to IO-bound sessions") {
		t.Errorf("io-binding with a tuning: %v", err)
	}
}

// ADDSR_BENCH_ORT_PROFILE writes the session's profile when it closes.
func TestSessionProfile(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "prof")
	t.Setenv(EnvORTProfile, prefix)
	s, err := OpenOn(filepath.Join("testdata", "affine.onnx"), Device{Kind: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(Tensor{Shape: []int64{1, 3, 1, 1}, Data: []float32{0, 1, 2}}); err != nil {
		t.Fatal(err)
	}
	if p := s.Placement(); p.Tuning() != "" {
		t.Errorf("profiling is in the placement's tuning: %q", p.Tuning())
	}
	s.Close()
	files, _ := filepath.Glob(prefix + "_*.json")
	if len(files) != 1 {
		t.Fatalf("profile files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), `"model_run"`) {
		t.Errorf("profile without a run: %.200s", b)
	}
}

// The inputs and outputs read from the protobuf are ONNX Runtime's own, for
// every graph in the repository: names and order, element types, fixed and
// symbolic (-1) dimensions, initializer-backed inputs left out.
func TestIOInfoMatchesORT(t *testing.T) {
	if err := Init(); err != nil {
		t.Fatal(err)
	}
	var paths []string
	filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".onnx") && !strings.Contains(p, ".cache") {
			paths = append(paths, p)
		}
		return nil
	})
	if len(paths) < 10 {
		t.Fatalf("only %d graphs found: %v", len(paths), paths)
	}
	for _, p := range paths {
		wantIn, wantOut, err := ort.GetInputOutputInfo(p)
		if err != nil {
			continue // not a graph ONNX Runtime loads (a corrupt-file fixture)
		}
		model, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		gotIn, gotOut, err := ioInfo(model)
		if err != nil || !reflect.DeepEqual(gotIn, wantIn) || !reflect.DeepEqual(gotOut, wantOut) {
			t.Errorf("%s: %v\n got %v / %v\nwant %v / %v", p, err, gotIn, gotOut, wantIn, wantOut)
		}
	}
}

// TestOpenVerified: the bytes a session loads are checked against the
// manifest's SHA-256 on every path (plain, static shapes, IO-bound); a
// file that does not match fails with ErrModelHash, naming the model and
// its manifest, also where the changed bytes no longer parse.
func TestOpenVerified(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "affine.onnx")
	good, err := os.ReadFile(filepath.Join("testdata", "affine.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(good)
	_, sum, err := datasets.HashFile(p)
	if err != nil {
		t.Fatal(err)
	}
	man := `{"name":"affine","kind":"sr","scale":1,"dtype":"fp32","sha256":"` + sum + `","license":"test","source":"testdata",
		"input":{"name":"x","layout":"NCHW","range":[0,1]},"output":{"name":"y","layout":"NCHW","range":[0,1]}}`
	if err := os.WriteFile(filepath.Join(dir, "affine.json"), []byte(man), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(p)
	if err != nil {
		t.Fatal(err)
	}
	devs := map[string]Device{
		"plain":  {Kind: "cpu"},
		"static": {Kind: "cpu", StaticShapes: true},
		"bound":  {Kind: "cpu", IOBinding: true, StaticShapes: true},
	}
	for name, dev := range devs {
		s, err := OpenVerified(p, m, dev)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		out, err := s.Run(Tensor{Shape: []int64{1, 3, 1, 1}, Data: []float32{0, 1, 2}})
		if err != nil || out[0].Data[2] != 5 {
			t.Errorf("%s: %v %v", name, out, err)
		}
		s.Close()
	}
	tampered := map[string][]byte{
		"changed weight": bytes.Replace(good, []byte{0, 0, 0, 64}, []byte{0, 0, 64, 64}, 1), // 2.0 → 3.0
		"cut short":      good[:len(good)/2],
	}
	if bytes.Equal(tampered["changed weight"], good) {
		t.Fatal("affine.onnx has no float 2.0 to change")
	}
	for what, data := range tampered {
		write(data)
		for name, dev := range devs {
			s, err := OpenVerified(p, m, dev)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, ErrModelHash) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "affine.json") {
				t.Errorf("%s, %s: %v, want ErrModelHash naming the model and its manifest", what, name, err)
			}
		}
	}
}
