package models

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
)

// dropFirst writes y = x[:, 1:] · 2 for x [n, 5] (a class token dropped),
// plus, with computed, a Slice whose start is computed (Identity of a
// constant: the rewrite keeps it) giving z = x[:, 1:].
func dropFirst(t *testing.T, computed bool) string {
	m := onnxpb.Model{Producer: "slice test", Opset: 17, Graph: "drop_first",
		Nodes: []onnxpb.Node{
			{Name: "slice", Op: "Slice", Inputs: []string{"x", "one", "end", "one"}, Outputs: []string{"s"}},
			{Name: "scale", Op: "Mul", Inputs: []string{"s", "two"}, Outputs: []string{"y"}},
		},
		Initializers: []onnxpb.Tensor{
			onnxpb.Int64Tensor("one", []int64{1}, []int64{1}),
			onnxpb.Int64Tensor("end", []int64{1}, []int64{math.MaxInt64}),
			onnxpb.FloatTensor("two", nil, []float32{2}),
		},
		Inputs:  []onnxpb.ValueInfo{{Name: "x", Type: onnxpb.Float, Dims: []int64{-1, 5}, Syms: []string{"n"}}},
		Outputs: []onnxpb.ValueInfo{{Name: "y", Type: onnxpb.Float, Dims: []int64{-1, 4}, Syms: []string{"n"}}},
	}
	if computed {
		m.Nodes = append(m.Nodes,
			onnxpb.Node{Name: "start", Op: "Identity", Inputs: []string{"one"}, Outputs: []string{"start"}},
			onnxpb.Node{Name: "computed", Op: "Slice", Inputs: []string{"x", "start", "end", "one"}, Outputs: []string{"z"}})
		m.Outputs = append(m.Outputs, onnxpb.ValueInfo{Name: "z", Type: onnxpb.Float, Dims: []int64{-1, 4}, Syms: []string{"n"}})
	}
	p := filepath.Join(t.TempDir(), "drop_first.onnx")
	if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// profiledOps runs the graph at path once on 3 rows and returns its output
// and the operators ONNX Runtime's profile says ran.
func profiledOps(t *testing.T, path string, dev Device) (Tensor, Placement, []string) {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "prof")
	t.Setenv(EnvORTProfile, prefix)
	s, err := OpenOn(path, dev)
	if err != nil {
		t.Fatal(err)
	}
	x := Tensor{Shape: []int64{3, 5}, Data: make([]float32, 15)}
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	out, err := s.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	place := s.Placement()
	s.Close()
	files, _ := filepath.Glob(prefix + "_*.json")
	if len(files) != 1 {
		t.Fatalf("profile files %v", files)
	}
	prof, _ := os.ReadFile(files[0])
	var ran []string
	for _, m := range regexp.MustCompile(`"op_name"\s*:\s*"([A-Za-z]+)"`).FindAllStringSubmatch(string(prof), -1) {
		if !slices.Contains(ran, m[1]) {
			ran = append(ran, m[1])
		}
	}
	return out[0], place, ran
}

// TestSliceAsGatherSession: with SliceAsGather on ("1") the session runs
// Gathers, no Slice (so ONNX Runtime's GatherToSliceFusion is off, even with
// DisableOptimizers naming another optimizer), computes what the Slice does, and
// says so in its placement; with static shapes too, the index arithmetic is
// folded away and only the Gather runs. With 0 (and by default on the CPU)
// the Slice runs as it is.
func TestSliceAsGatherSession(t *testing.T) {
	path := dropFirst(t, false)
	want := []float32{2, 4, 6, 8, 12, 14, 16, 18, 22, 24, 26, 28}
	for _, c := range []struct {
		env            string
		static         bool
		ran, notRan    []string
		sliceAsGather  string
		staticRecorded bool
	}{
		{"", false, []string{"Slice"}, []string{"Gather"}, "", false},
		{"0", false, []string{"Slice"}, []string{"Gather"}, "", false},
		{"1", false, []string{"Gather", "Range"}, []string{"Slice"}, "1", false},
		{"1", true, []string{"Gather"}, []string{"Slice", "Range", "Shape"}, "1", true},
	} {
		y, place, ran := profiledOps(t, path, Device{Kind: "cpu", StaticShapes: c.static, SliceAsGather: c.env, DisableOptimizers: []string{"GeluFusion"}})
		if !slices.Equal(y.Data, want) || !slices.Equal(y.Shape, []int64{3, 4}) {
			t.Errorf("%q static %v: y %v %v, want [3 4] %v", c.env, c.static, y.Shape, y.Data, want)
		}
		for _, op := range c.ran {
			if !slices.Contains(ran, op) {
				t.Errorf("%q static %v: %s did not run (ran %v)", c.env, c.static, op, ran)
			}
		}
		for _, op := range c.notRan {
			if slices.Contains(ran, op) {
				t.Errorf("%q static %v: %s ran (ran %v)", c.env, c.static, op, ran)
			}
		}
		if got := place.Session["slice_as_gather"]; got != c.sliceAsGather {
			t.Errorf("%q static %v: placement slice_as_gather=%q, want %q", c.env, c.static, got, c.sliceAsGather)
		}
		if _, ok := place.Session["static_shapes"]; ok != c.staticRecorded {
			t.Errorf("%q static %v: placement %v", c.env, c.static, place.Session)
		}
		if place.Session[disableOptimizersKey] != "GeluFusion" {
			t.Errorf("%q: the disabled optimizers became %q", c.env, place.Session[disableOptimizersKey])
		}
	}
	if _, err := OpenOn(path, Device{Kind: "cpu", SliceAsGather: "yes"}); err == nil || !strings.Contains(err.Error(), "use on, off or auto") {
		t.Errorf("SliceAsGather yes: %v", err)
	}
}

// The policy: on by default exactly for ONNX Runtime 1.29.0's CUDA plugin
// provider; SlicesKept reads what a session there still runs.
func TestSliceAsGatherPolicy(t *testing.T) {
	plugin := Placement{Path: "plugin", ORTVersion: "1.29.0"}
	for _, c := range []struct {
		env  string
		p    Placement
		want bool
	}{
		{"", plugin, true},
		{"", Placement{Path: "plugin", ORTVersion: "1.30.0"}, false},
		{"", Placement{Path: "legacy", ORTVersion: "1.29.0"}, false},
		{"", Placement{Path: "cpu", ORTVersion: "1.29.0"}, false},
		{"0", plugin, false},
		{"1", Placement{Path: "cpu", ORTVersion: "1.29.0"}, true},
	} {
		if got, err := sliceAsGather(c.p, c.env); err != nil || got != c.want {
			t.Errorf("%q %+v: %v, %v; want %v", c.env, c.p, got, err, c.want)
		}
	}
	kept := plugin
	kept.Session = map[string]string{"slices_kept": "3"}
	if n := SlicesKept(kept); n != 3 {
		t.Errorf("SlicesKept = %d, want 3", n)
	}
	kept.Path = "legacy"
	if n := SlicesKept(kept); n != 0 {
		t.Errorf("SlicesKept on the legacy path = %d, want 0", n)
	}
}

// On the plugin path (a placement made up here: the CPU has none) the
// rewrite is on by default and keeps count of what it cannot rewrite;
// turned off, every Slice is counted as kept and the model is left alone.
func TestRewriteSlicesOnPlugin(t *testing.T) {
	if err := Init(); err != nil {
		t.Skip(err)
	}
	model, err := os.ReadFile(dropFirst(t, true))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env       string
		changed   bool
		recorded  map[string]string
		slicesRun int
		disable   string
	}{
		{"", true, map[string]string{"slice_as_gather": "1", "slices_kept": "1"}, 1, gatherToSlice},
		{"0", false, map[string]string{"slices_kept": "2"}, 2, ""},
	} {
		place := Placement{Path: "plugin", ORTVersion: "1.29.0"}
		on, err := sliceAsGather(place, c.env)
		if err != nil {
			t.Fatal(err)
		}
		out, disable, err := rewriteSlices("m.onnx", model, on, &place)
		if err != nil {
			t.Fatal(err)
		}
		if disable != c.disable {
			t.Errorf("%q: optimizers to disable %q, want %q", c.env, disable, c.disable)
		}
		if changed := !bytes.Equal(out, model); changed != c.changed {
			t.Errorf("%q: model changed %v, want %v", c.env, changed, c.changed)
		}
		for k, v := range c.recorded {
			if place.Session[k] != v {
				t.Errorf("%q: placement %v, want %s=%s", c.env, place.Session, k, v)
			}
		}
		if n := SlicesKept(place); n != c.slicesRun {
			t.Errorf("%q: SlicesKept = %d, want %d", c.env, n, c.slicesRun)
		}
	}
}

// A session that would still run Slice nodes on ONNX Runtime 1.29.0's CUDA
// plugin is refused, naming the ways out (unless EnvAllowSliceCrash=1);
// one whose Slices were all rewritten, other paths and other versions are
// not.
func TestSliceCrash(t *testing.T) {
	kept := map[string]string{"slices_kept": "2"}
	plugin := Placement{EP: "CUDAExecutionProvider", Path: "plugin", ORTVersion: "1.29.0", Session: kept}
	rewritten, legacy, newer := plugin, plugin, plugin
	rewritten.Session = map[string]string{"slice_as_gather": "40"}
	legacy.Path, newer.ORTVersion = "legacy", "1.30.0"
	cpu := Placement{EP: "CPUExecutionProvider", Path: "cpu", ORTVersion: "1.29.0", Session: kept}
	for _, c := range []struct {
		name  string
		p     Placement
		crash bool
	}{
		{"plugin, slices kept", plugin, true}, {"plugin, slices rewritten", rewritten, false},
		{"plugin, no slices", Placement{Path: "plugin", ORTVersion: "1.29.0"}, false},
		{"legacy", legacy, false}, {"newer", newer, false}, {"cpu", cpu, false},
	} {
		if got := sliceCrash("m.onnx", c.p) != nil; got != c.crash {
			t.Errorf("%s: refused %v, want %v", c.name, got, c.crash)
		}
	}
	err := sliceCrash("m.onnx", plugin)
	var sc *SliceCrashError
	if !errors.As(err, &sc) || sc.Kept != 2 || !strings.Contains(err.Error(), "m.onnx: 2 Slice node(s)") ||
		!strings.Contains(err.Error(), "--device cpu,") || !strings.Contains(err.Error(), EnvAllowSliceCrash+"=1") {
		t.Errorf("the refusal: %v", err)
	}
	t.Setenv(EnvAllowSliceCrash, "1")
	if err := sliceCrash("m.onnx", plugin); err != nil {
		t.Errorf("with %s=1: %v", EnvAllowSliceCrash, err)
	}
}
