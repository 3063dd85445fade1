package models

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
)

// shapeArithmetic writes a graph whose Reshape takes a shape computed from
// its input's, the pattern of the transformer graphs:
//
//	y = Reshape(a, Concat(Slice(Shape(a), 0, 1), [−1])) · 2 + b
//
// with a [n, 2, 3] and b [n, 6] sharing the symbolic n.
func shapeArithmetic(t *testing.T) string {
	m := onnxpb.Model{Producer: "static shapes test", Opset: 13, Graph: "shape_arithmetic",
		Nodes: []onnxpb.Node{
			{Name: "shape", Op: "Shape", Inputs: []string{"a"}, Outputs: []string{"sa"}},
			{Name: "slice", Op: "Slice", Inputs: []string{"sa", "zero", "one"}, Outputs: []string{"n"}},
			{Name: "concat", Op: "Concat", Inputs: []string{"n", "minus1"}, Outputs: []string{"target"}, Attrs: []onnxpb.Attr{onnxpb.I("axis", 0)}},
			{Name: "reshape", Op: "Reshape", Inputs: []string{"a", "target"}, Outputs: []string{"flat"}},
			{Name: "scale", Op: "Mul", Inputs: []string{"flat", "two"}, Outputs: []string{"scaled"}},
			{Name: "add", Op: "Add", Inputs: []string{"scaled", "b"}, Outputs: []string{"y"}},
		},
		Initializers: []onnxpb.Tensor{
			onnxpb.Int64Tensor("zero", []int64{1}, []int64{0}),
			onnxpb.Int64Tensor("one", []int64{1}, []int64{1}),
			onnxpb.Int64Tensor("minus1", []int64{1}, []int64{-1}),
			onnxpb.FloatTensor("two", []int64{1}, []float32{2}),
		},
		Inputs: []onnxpb.ValueInfo{
			{Name: "a", Type: onnxpb.Float, Dims: []int64{-1, 2, 3}, Syms: []string{"n"}},
			{Name: "b", Type: onnxpb.Float, Dims: []int64{-1, 6}, Syms: []string{"n"}},
		},
		Outputs: []onnxpb.ValueInfo{{Name: "y", Type: onnxpb.Float, Dims: []int64{-1, 6}, Syms: []string{"n"}}},
	}
	p := filepath.Join(t.TempDir(), "shape_arithmetic.onnx")
	if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func arithmeticInputs(n int) (a, b Tensor, want []float32) {
	a = Tensor{Shape: []int64{int64(n), 2, 3}, Data: make([]float32, 6*n)}
	b = Tensor{Shape: []int64{int64(n), 6}, Data: make([]float32, 6*n)}
	want = make([]float32, 6*n)
	for i := range a.Data {
		a.Data[i] = float32(i%7) - 3
		b.Data[i] = float32(n) + float32(i)/8
		want[i] = 2*a.Data[i] + b.Data[i]
	}
	return a, b, want
}

// runOnce opens the graph at path (with static shapes or not), runs it on
// n rows and closes it: the session writes what the environment asks for.
func runOnce(t *testing.T, path string, static bool, n int) {
	t.Helper()
	s, err := OpenOn(path, Device{Kind: "cpu", StaticShapes: static})
	if err != nil {
		t.Fatal(err)
	}
	a, b, _ := arithmeticInputs(n)
	if _, err := s.Run(a, b); err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestStaticShapes: a session per set of shapes, each computing what the
// graph does, at most maxShapeSessions kept, recorded in the placement;
// shapes the graph cannot take are refused with the dimension named.
func TestStaticShapes(t *testing.T) {
	path := shapeArithmetic(t)
	s, err := OpenOn(path, Device{Kind: "cpu", StaticShapes: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.static == nil || s.Placement().Tuning() != "static_shapes=1" {
		t.Fatalf("static %v, tuning %q", s.static != nil, s.Placement().Tuning())
	}
	check := func(n int) {
		t.Helper()
		a, b, want := arithmeticInputs(n)
		out, err := s.Run(a, b)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if fmt.Sprint(out[0].Shape) != fmt.Sprint([]int64{int64(n), 6}) || fmt.Sprint(out[0].Data) != fmt.Sprint(want) {
			t.Errorf("n=%d: %v %v, want %v", n, out[0].Shape, out[0].Data, want)
		}
	}
	for n := 1; n <= 3; n++ {
		check(n)
		check(n) // the second run reuses the session
	}
	if got := s.static.sessions(); got != 3 {
		t.Errorf("%d sessions after 3 shapes", got)
	}
	for n := 1; n <= maxShapeSessions+4; n++ {
		check(n)
	}
	if got := s.static.sessions(); got != maxShapeSessions {
		t.Errorf("%d sessions after %d shapes, want at most %d", got, maxShapeSessions+4, maxShapeSessions)
	}
	check(1) // closed as the least recently used: made again
	a, _, _ := arithmeticInputs(2)
	_, b, _ := arithmeticInputs(3)
	if _, err := s.Run(a, b); err == nil || !strings.Contains(err.Error(), `input "b" dimension 0 ("n") is 3, where an earlier input has 2`) {
		t.Errorf("inputs disagreeing on n: %v", err)
	}
}

// Concurrent runs of several shapes share and create sessions safely (go
// test -race) and each gets its own shape's result.
func TestStaticShapesConcurrent(t *testing.T) {
	s, err := OpenOn(shapeArithmetic(t), Device{Kind: "cpu", StaticShapes: true, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Go(func() {
			for i := 0; i < 8; i++ {
				n := 1 + (g+i)%(maxShapeSessions+3)
				a, b, want := arithmeticInputs(n)
				out, err := s.Run(a, b)
				if err == nil && fmt.Sprint(out[0].Data) != fmt.Sprint(want) {
					err = fmt.Errorf("n=%d: %v, want %v", n, out[0].Data, want)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The point of static shapes: ONNX Runtime's profile of the same run shows
// the shape nodes running in the plain session and folded away in the
// static one.
func TestStaticShapesFoldShapeNodes(t *testing.T) {
	path := shapeArithmetic(t)
	for _, static := range []bool{false, true} {
		prefix := filepath.Join(t.TempDir(), "prof")
		t.Setenv(EnvORTProfile, prefix)
		runOnce(t, path, static, 4)
		files, _ := filepath.Glob(prefix + "_*.json")
		if len(files) != 1 {
			t.Fatalf("static %v: profile files %v", static, files)
		}
		prof, _ := os.ReadFile(files[0])
		ran := strings.Contains(string(prof), `"op_name" : "Shape"`) || strings.Contains(string(prof), `"op_name":"Shape"`)
		if ran == static {
			t.Errorf("static %v: Shape ran: %v (profile %.300s)", static, ran, prof)
		}
	}
}

// Device.StaticShapes (--static-shapes) fixes the shapes; a graph with no
// symbolic dimension gets a plain session, IO-bound too.
func TestStaticShapesOption(t *testing.T) {
	s, err := OpenOn(shapeArithmetic(t), Device{Kind: "cpu", StaticShapes: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.static == nil || s.Placement().Session["static_shapes"] != "1" {
		t.Errorf("StaticShapes did not turn static shapes on: %+v", s.Placement())
	}
	s.Close()
	if s, err = OpenOn(shapeArithmetic(t), Device{Kind: "cpu"}); err != nil {
		t.Fatal(err)
	}
	if s.static != nil {
		t.Error("static shapes without being asked for")
	}
	s.Close()
	fixed := filepath.Join("testdata", "sr2_fixed.onnx")
	if s, err = OpenOn(fixed, Device{Kind: "cpu", StaticShapes: true}); err != nil {
		t.Fatal(err)
	}
	if s.static != nil || s.Placement().Tuning() != "" {
		t.Errorf("%s has no symbolic dimension but got static sessions (%q)", fixed, s.Placement().Tuning())
	}
	s.Close()
	if s, err = OpenOn(fixed, Device{Kind: "cpu", IOBinding: true}); err != nil || s.bound.pin != nil || s.Placement().Session["static_shapes"] != "" {
		t.Errorf("io-binding, %s, no symbolic dimension: %v, %+v", fixed, err, s.Placement())
	}
	s.Close()
}

// A shape whose session cannot be made fails every run of it with the same
// error, tried once; other shapes go on.
func TestStaticShapesCreateError(t *testing.T) {
	s, err := OpenOn(shapeArithmetic(t), Device{Kind: "cpu", StaticShapes: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tries := 0
	s.static.createHook = func(v map[string]int64) (*ort.DynamicAdvancedSession, error) {
		if v["n"] == 5 {
			tries++
			return nil, errors.New("cannot take 5")
		}
		return s.static.createSession(v)
	}
	for range 3 {
		a, b, _ := arithmeticInputs(5)
		if _, err := s.Run(a, b); err == nil || !strings.Contains(err.Error(), "cannot take 5") {
			t.Errorf("n=5: %v", err)
		}
	}
	if tries != 1 {
		t.Errorf("%d attempts at the failing shape, want 1", tries)
	}
	a, b, want := arithmeticInputs(2)
	if out, err := s.Run(a, b); err != nil || fmt.Sprint(out[0].Data) != fmt.Sprint(want) {
		t.Errorf("n=2 after the failure: %v %v", out, err)
	}
}

// ADDSR_BENCH_ORT_SAVE_OPTIMIZED writes the optimized graph: with static
// shapes it has no Shape node left, without them it keeps its one.
func TestSaveOptimized(t *testing.T) {
	path := shapeArithmetic(t)
	for _, static := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "opt.onnx")
		t.Setenv(EnvORTSaveOptimized, out)
		runOnce(t, path, static, 3)
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("static %v: %v", static, err)
		}
		if has := bytes.Contains(raw, []byte("Shape")); has == static {
			t.Errorf("static %v: optimized graph has a Shape node: %v", static, has)
		}
	}
}
