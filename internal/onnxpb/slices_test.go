package onnxpb_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
	"github.com/addsr-bench/addsr-bench/models"
)

// sliceCase is one Slice of x [n, 5, 7, 6]; nil axes or steps leave the
// input out.
type sliceCase struct {
	name                      string
	starts, ends, axes, steps []int64
}

var sliceCases = []sliceCase{
	{"drop_first_token", []int64{1}, []int64{math.MaxInt64}, []int64{1}, nil},
	{"last_two_negative_axis", []int64{-2}, []int64{math.MaxInt64}, []int64{-1}, []int64{1}},
	{"all_but_last_two", []int64{0}, []int64{-2}, []int64{1}, nil},
	{"two_axes_strided", []int64{1, 0}, []int64{4, -1}, []int64{2, 3}, []int64{2, 1}},
	{"reversed", []int64{-1}, []int64{-math.MaxInt64}, []int64{1}, []int64{-1}},
	{"reversed_from_past_the_end", []int64{50}, []int64{0}, []int64{2}, []int64{-2}},
	{"reversed_int64_min", []int64{math.MaxInt64}, []int64{math.MinInt64}, []int64{3}, []int64{-3}},
	{"start_int64_min", []int64{math.MinInt64}, []int64{2}, []int64{1}, nil},
	{"past_the_end", []int64{10}, []int64{20}, []int64{1}, nil},
	{"start_after_end", []int64{3}, []int64{1}, []int64{2}, nil},
	{"default_axes", []int64{0, 1}, []int64{1, 3}, nil, nil},
	{"whole_axis", []int64{0}, []int64{math.MaxInt64}, []int64{1}, nil},
	{"batch_axis", []int64{1}, []int64{math.MaxInt64}, []int64{0}, nil},
}

// sliceModel has one output per case, plus Slices whose bounds come from
// Constant nodes (int32 tensors; value_ints) and one whose starts are
// computed (kept: not a constant).
func sliceModel(opset int64) onnxpb.Model {
	m := onnxpb.Model{Producer: "onnxpb slice test", Opset: opset, Graph: "slices",
		Inputs: []onnxpb.ValueInfo{{Name: "x", Type: onnxpb.Float, Dims: []int64{-1, 5, 7, 6}, Syms: []string{"n"}}}}
	out := func(name string) {
		m.Outputs = append(m.Outputs, onnxpb.ValueInfo{Name: name, Type: onnxpb.Float, Dims: []int64{-1, -1, -1, -1},
			Syms: []string{name + "_0", name + "_1", name + "_2", name + "_3"}})
	}
	for _, c := range sliceCases {
		ins := []string{"x", c.name + "_starts", c.name + "_ends"}
		m.Initializers = append(m.Initializers,
			onnxpb.Int64Tensor(c.name+"_starts", []int64{int64(len(c.starts))}, c.starts),
			onnxpb.Int64Tensor(c.name+"_ends", []int64{int64(len(c.ends))}, c.ends))
		if c.axes != nil || c.steps != nil {
			ins = append(ins, "")
			if c.axes != nil {
				ins[3] = c.name + "_axes"
				m.Initializers = append(m.Initializers, onnxpb.Int64Tensor(ins[3], []int64{int64(len(c.axes))}, c.axes))
			}
		}
		if c.steps != nil {
			ins = append(ins, c.name+"_steps")
			m.Initializers = append(m.Initializers, onnxpb.Int64Tensor(ins[4], []int64{int64(len(c.steps))}, c.steps))
		}
		m.Nodes = append(m.Nodes, onnxpb.Node{Name: c.name, Op: "Slice", Inputs: ins, Outputs: []string{c.name}})
		out(c.name)
	}
	int32s := make([]byte, 8)
	for i, v := range []int32{-3, -1} {
		binary.LittleEndian.PutUint32(int32s[4*i:], uint32(v))
	}
	m.Nodes = append(m.Nodes,
		onnxpb.Node{Name: "c_starts", Op: "Constant", Outputs: []string{"c_starts"},
			Attrs: []onnxpb.Attr{{Name: "value", Tensor: &onnxpb.Tensor{Name: "v", Dims: []int64{2}, Type: 6, Raw: int32s}}}},
		onnxpb.Node{Name: "c_ends", Op: "Constant", Outputs: []string{"c_ends"},
			Attrs: []onnxpb.Attr{{Name: "value", Tensor: &onnxpb.Tensor{Name: "v", Dims: []int64{2}, Type: 6, Raw: []byte{0xff, 0xff, 0xff, 0x7f, 2, 0, 0, 0}}}}},
		onnxpb.Node{Name: "c_axes", Op: "Constant", Outputs: []string{"c_axes"},
			Attrs: []onnxpb.Attr{{Name: "value", Tensor: &onnxpb.Tensor{Name: "v", Dims: []int64{2}, Type: 6, Raw: []byte{2, 0, 0, 0, 0, 0, 0, 0}}}}},
		onnxpb.Node{Name: "from_constants", Op: "Slice", Inputs: []string{"x", "c_starts", "c_ends", "c_axes"}, Outputs: []string{"from_constants"}},
		onnxpb.Node{Name: "c_ints", Op: "Constant", Outputs: []string{"c_ints"}, Attrs: []onnxpb.Attr{onnxpb.Is("value_ints", 2)}},
		onnxpb.Node{Name: "from_value_ints", Op: "Slice", Inputs: []string{"x", "c_ints", "drop_first_token_ends", "drop_first_token_axes"}, Outputs: []string{"from_value_ints"}},
		onnxpb.Node{Name: "computed", Op: "Identity", Inputs: []string{"drop_first_token_starts"}, Outputs: []string{"computed_starts"}},
		onnxpb.Node{Name: "computed_slice", Op: "Slice", Inputs: []string{"x", "computed_starts", "drop_first_token_ends", "drop_first_token_axes"}, Outputs: []string{"computed_slice"}},
	)
	m.Initializers = append(m.Initializers, onnxpb.Int64Tensor("drop_first_token_axes", []int64{1}, []int64{1}))
	// An initializer that is also a graph input is a default a run may
	// override: not a constant (kept).
	m.Nodes = append(m.Nodes, onnxpb.Node{Name: "overridable_slice", Op: "Slice",
		Inputs: []string{"x", "overridable", "drop_first_token_ends", "drop_first_token_axes"}, Outputs: []string{"overridable_slice"}})
	m.Initializers = append(m.Initializers, onnxpb.Int64Tensor("overridable", []int64{1}, []int64{2}))
	m.Inputs = append(m.Inputs, onnxpb.ValueInfo{Name: "overridable", Type: onnxpb.Int64, Dims: []int64{1}})
	out("from_constants")
	out("from_value_ints")
	out("computed_slice")
	out("overridable_slice")
	return m
}

// ops counts a model's nodes by operator (a decoder of its own, beside the
// package's).
func ops(t *testing.T, model []byte) map[string]int {
	t.Helper()
	count := map[string]int{}
	graph := field(t, model, 7)
	for len(graph) > 0 {
		num, typ, n := protowire.ConsumeTag(graph)
		m := protowire.ConsumeFieldValue(num, typ, graph[n:])
		if n < 0 || m < 0 {
			t.Fatal("malformed graph")
		}
		if num == 1 {
			node, _ := protowire.ConsumeBytes(graph[n:])
			count[string(field(t, node, 4))]++
		}
		graph = graph[n+m:]
	}
	return count
}

func field(t *testing.T, msg []byte, want protowire.Number) []byte {
	t.Helper()
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		m := protowire.ConsumeFieldValue(num, typ, msg[n:])
		if n < 0 || m < 0 {
			t.Fatal("malformed message")
		}
		if num == want && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(msg[n:])
			return v
		}
		msg = msg[n+m:]
	}
	return nil
}

// TestSliceAsGather: every constant Slice becomes Gathers that give ONNX
// Runtime's Slice output exactly (empty ones included), for two batch
// sizes from one rewritten graph and for a copy with its shapes pinned; the
// computed Slice is kept and counted.
func TestSliceAsGather(t *testing.T) {
	if err := models.Init(); err != nil {
		t.Skip(err)
	}
	// As models does for a rewritten graph: ONNX Runtime's fusion would make
	// Range → Gather a Slice again, and a wrong one where a negative step's
	// range ends at −1 (before the first element for Range, the last for
	// Slice): the reversed cases came out empty with it.
	dev := models.Device{Kind: "cpu", DisableOptimizers: []string{"GatherToSliceFusion"}}
	orig := sliceModel(17).Marshal()
	got, res, err := onnxpb.SliceAsGather(orig)
	if err != nil {
		t.Fatal(err)
	}
	if want := (onnxpb.SliceRewrite{Rewritten: len(sliceCases) + 2, Kept: 2}); res != want {
		t.Errorf("SliceAsGather = %+v, want %+v", res, want)
	}
	if n := ops(t, got)["Slice"]; n != 2 {
		t.Errorf("%d Slice nodes left, want the computed and the overridable one", n)
	}
	run := func(model []byte, n int) []models.Tensor {
		t.Helper()
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		x := make([]float32, n*5*7*6)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		out, err := runModelOn(t, model, dev, models.Tensor{Shape: []int64{int64(n), 5, 7, 6}, Data: x})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, n := range []int{2, 3} {
		want := run(orig, n)
		pinned, err := onnxpb.PinDims(got, map[string]int64{"n": int64(n)})
		if err != nil {
			t.Fatal(err)
		}
		for label, model := range map[string][]byte{"rewritten": got, "rewritten and pinned": pinned} {
			out := run(model, n)
			for i, o := range want {
				if !reflect.DeepEqual(out[i].Shape, o.Shape) || !slicesEqual(out[i].Data, o.Data) {
					t.Errorf("n=%d, %s, output %d: shape %v, want %v (Slice's)", n, label, i, out[i].Shape, o.Shape)
				}
			}
		}
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// A model without a Slice comes back as it was; below opset 13 (no int64
// Min and Max) every Slice is kept.
func TestSliceAsGatherUnchanged(t *testing.T) {
	orig := everyField().Marshal()
	got, res, err := onnxpb.SliceAsGather(orig)
	if err != nil || !bytes.Equal(got, orig) || res != (onnxpb.SliceRewrite{}) {
		t.Errorf("no Slice: changed, %+v, %v", res, err)
	}
	old := sliceModel(12).Marshal()
	got, res, err = onnxpb.SliceAsGather(old)
	if err != nil || !bytes.Equal(got, old) || res.Rewritten != 0 || res.Kept != len(sliceCases)+4 {
		t.Errorf("opset 12: %+v, %v", res, err)
	}
	for _, bad := range [][]byte{{0xff}, old[:len(old)/2], {0x3a, 0x05, 0x5a, 0x10}} {
		if _, _, err := onnxpb.SliceAsGather(bad); err == nil {
			t.Errorf("SliceAsGather(% x…) worked", bad[:min(len(bad), 8)])
		}
	}
	if _, _, err := onnxpb.SliceAsGather(nil); err == nil || !strings.Contains(err.Error(), "no graph") {
		t.Errorf("nil: %v", err)
	}
}

// FuzzSliceAsGather: any bytes give a model or an error, never a panic, and
// a rewritten model has no more Slice nodes than it kept.
func FuzzSliceAsGather(f *testing.F) {
	f.Add(sliceModel(17).Marshal())
	f.Add(everyField().Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		out, res, err := onnxpb.SliceAsGather(b)
		if err != nil || res.Rewritten == 0 {
			return
		}
		if _, res2, err := onnxpb.SliceAsGather(out); err != nil || res2.Rewritten != 0 || res2.Kept != res.Kept {
			t.Fatalf("rewriting again: %+v, %v (first: %+v)", res2, err, res)
		}
	})
}

// TestShapeSliceFold: a Slice of a Shape's output (constant bounds, axis 0,
// step 1) becomes one Shape with start and end — no Slice, Gather or Range
// left — with the same values for bounds in and out of range, negative,
// to the end and empty; and a Resize whose sizes come from Shape → Slice →
// Concat, which failed ONNX Runtime's shape inference after the Gather
// rewrite, loads and gives the same output.
func TestShapeSliceFold(t *testing.T) {
	if err := models.Init(); err != nil {
		t.Skip(err)
	}
	m := onnxpb.Model{Producer: "onnxpb shape-slice test", Opset: 17, Graph: "shape_slices",
		Inputs: []onnxpb.ValueInfo{{Name: "x", Type: onnxpb.Float, Dims: []int64{-1, 5, 7, 6}, Syms: []string{"n"}}},
		Nodes:  []onnxpb.Node{{Name: "shape", Op: "Shape", Inputs: []string{"x"}, Outputs: []string{"s"}}}}
	cases := []struct {
		name       string
		start, end int64
	}{{"first_two", 0, 2}, {"last_two", -2, math.MaxInt64}, {"middle", 1, -1}, {"empty", 3, 1}, {"clamped", -10, 10}}
	for _, c := range cases {
		m.Initializers = append(m.Initializers,
			onnxpb.Int64Tensor(c.name+"_s", []int64{1}, []int64{c.start}), onnxpb.Int64Tensor(c.name+"_e", []int64{1}, []int64{c.end}))
		m.Nodes = append(m.Nodes,
			onnxpb.Node{Name: c.name, Op: "Slice", Inputs: []string{"s", c.name + "_s", c.name + "_e"}, Outputs: []string{c.name}},
			onnxpb.Node{Name: c.name + "_f", Op: "Cast", Inputs: []string{c.name}, Outputs: []string{c.name + "_f"}, Attrs: []onnxpb.Attr{onnxpb.I("to", 1)}})
		m.Outputs = append(m.Outputs, onnxpb.ValueInfo{Name: c.name + "_f", Type: onnxpb.Float, Dims: []int64{-1}, Syms: []string{c.name + "_len"}})
	}
	// Resize to (N, C) of x and a fixed 14×12: sizes = Concat(Slice(Shape(x), 0, 2), [14, 12]).
	m.Initializers = append(m.Initializers, onnxpb.Int64Tensor("hw", []int64{2}, []int64{14, 12}))
	m.Nodes = append(m.Nodes,
		onnxpb.Node{Name: "sizes", Op: "Concat", Inputs: []string{"first_two", "hw"}, Outputs: []string{"sizes"}, Attrs: []onnxpb.Attr{onnxpb.I("axis", 0)}},
		onnxpb.Node{Name: "resize", Op: "Resize", Inputs: []string{"x", "", "", "sizes"}, Outputs: []string{"y"}})
	m.Outputs = append(m.Outputs, onnxpb.ValueInfo{Name: "y", Type: onnxpb.Float, Dims: []int64{-1, -1, -1, -1}, Syms: []string{"a", "b", "c", "d"}})
	orig := m.Marshal()
	got, res, err := onnxpb.SliceAsGather(orig)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewritten != len(cases) || res.Kept != 0 {
		t.Errorf("SliceAsGather = %+v", res)
	}
	if o := ops(t, got); o["Slice"] != 0 || o["Gather"] != 0 || o["Range"] != 0 || o["Shape"] != 1+len(cases) {
		t.Errorf("ops after the rewrite: %v", o)
	}
	x := make([]float32, 2*5*7*6)
	for i := range x {
		x[i] = float32(i%13) / 13
	}
	in := models.Tensor{Shape: []int64{2, 5, 7, 6}, Data: x}
	want, err := runModel(t, orig, in)
	if err != nil {
		t.Fatal(err)
	}
	have, err := runModel(t, got, in)
	if err != nil {
		t.Fatalf("the rewritten graph: %v", err)
	}
	for i := range want {
		if !slices.Equal(want[i].Shape, have[i].Shape) || !slices.Equal(want[i].Data, have[i].Data) {
			t.Errorf("output %d: %v %v, want %v %v", i, have[i].Shape, head(have[i].Data), want[i].Shape, head(want[i].Data))
		}
	}
	if !slices.Equal(want[0].Data, []float32{2, 5}) || !slices.Equal(want[len(cases)].Shape, []int64{2, 5, 14, 12}) {
		t.Errorf("reference outputs %v, %v", want[0].Data, want[len(cases)].Shape)
	}
	// Below opset 15 Shape has no start and end: the Gather rewrite.
	m.Opset = 14
	old, _, err := onnxpb.SliceAsGather(m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if o := ops(t, old); o["Range"] == 0 || o["Gather"] == 0 {
		t.Errorf("opset 14: %v", o)
	}
}

func head(v []float32) []float32 { return v[:min(len(v), 6)] }
