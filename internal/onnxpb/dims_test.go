package onnxpb_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
	"github.com/addsr-bench/addsr-bench/models"
)

func TestInputDims(t *testing.T) {
	got, err := onnxpb.InputDims(everyField().Marshal())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]onnxpb.Dim{"x": {{Param: "n"}, {Value: 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InputDims = %+v, want %+v", got, want)
	}
	ins, outs, err := onnxpb.GraphIO(everyField().Marshal())
	wantIns := []onnxpb.Value{{Name: "x", ElemType: onnxpb.Float, Dims: []onnxpb.Dim{{Param: "n"}, {Value: 2}}}}
	wantOuts := []onnxpb.Value{{Name: "y", ElemType: onnxpb.Float, Dims: []onnxpb.Dim{{Param: "n"}, {Value: 4}}}, {Name: "z", ElemType: onnxpb.Float, Dims: []onnxpb.Dim{{Param: "n"}}}}
	if err != nil || !reflect.DeepEqual(ins, wantIns) || !reflect.DeepEqual(outs, wantOuts) {
		t.Errorf("GraphIO = %+v, %+v, %v", ins, outs, err)
	}
	// An input that is also an initializer is a default, not listed.
	m := everyField()
	m.Inputs = append(m.Inputs, onnxpb.ValueInfo{Name: "w", Type: onnxpb.Float, Dims: []int64{4}})
	if ins, _, err := onnxpb.GraphIO(m.Marshal()); err != nil || !reflect.DeepEqual(ins, wantIns) {
		t.Errorf("GraphIO with an initializer input = %+v, %v", ins, err)
	}
	got, err = onnxpb.OutputDims(everyField().Marshal())
	want = map[string][]onnxpb.Dim{"y": {{Param: "n"}, {Value: 4}}, "z": {{Param: "n"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("OutputDims = %+v, %v; want %+v", got, err, want)
	}
}

// TestPinDims: pinning "n" fixes it in the inputs and outputs ONNX Runtime
// reads back, the pinned graph computes what the original does for that
// shape and refuses others; pinning nothing, or a name the graph does not
// have, leaves the bytes as they were.
func TestPinDims(t *testing.T) {
	if err := models.Init(); err != nil {
		t.Skip(err)
	}
	orig := everyField().Marshal()
	for _, values := range []map[string]int64{nil, {"m": 3}} {
		same, err := onnxpb.PinDims(orig, values)
		if err != nil || !bytes.Equal(same, orig) {
			t.Errorf("PinDims(%v) changed the model (err %v)", values, err)
		}
	}
	pinned, err := onnxpb.PinDims(orig, map[string]int64{"n": 3})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := onnxpb.InputDims(pinned); err != nil || !reflect.DeepEqual(d["x"], []onnxpb.Dim{{Value: 3}, {Value: 2}}) {
		t.Errorf("pinned InputDims = %+v, %v", d, err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(pinned)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		io   ort.InputOutputInfo
		want ort.Shape
	}{{ins[0], ort.Shape{3, 2}}, {outs[0], ort.Shape{3, 4}}, {outs[1], ort.Shape{3}}} {
		if !reflect.DeepEqual(c.io.Dimensions, c.want) {
			t.Errorf("%s: dims %v, want %v", c.io.Name, c.io.Dimensions, c.want)
		}
	}
	run := func(model []byte, rows int) ([]models.Tensor, error) {
		x := make([]float32, 2*rows)
		for i := range x {
			x[i] = float32(i) - 2.5
		}
		return runModel(t, model, models.Tensor{Shape: []int64{int64(rows), 2}, Data: x})
	}
	a, err := run(orig, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := run(pinned, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("pinned graph: %v, original: %v", b, a)
	}
	if _, err := run(pinned, 4); err == nil {
		t.Error("the graph pinned to 3 rows ran 4")
	}
}

// runModel writes model to a file, opens it on the CPU and runs it once on
// in (a model that fails to open fails the test; the run's error is the
// caller's to judge).
func runModel(t *testing.T, model []byte, in models.Tensor) ([]models.Tensor, error) {
	return runModelOn(t, model, models.Device{Kind: "cpu"}, in)
}

func runModelOn(t *testing.T, model []byte, dev models.Device, in models.Tensor) ([]models.Tensor, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(p, model, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := models.OpenOn(p, dev)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return s.Run(in)
}

func TestPinDimsErrors(t *testing.T) {
	orig := everyField().Marshal()
	if _, err := onnxpb.PinDims(orig, map[string]int64{"n": 0}); err == nil {
		t.Error("pinning to 0 worked")
	}
	for _, bad := range [][]byte{{0xff}, orig[:len(orig)/2], {0x3a, 0x05, 0x5a, 0x10}} {
		if _, err := onnxpb.InputDims(bad); err == nil {
			t.Errorf("InputDims(% x…) worked", bad[:min(len(bad), 8)])
		}
		if _, err := onnxpb.PinDims(bad, map[string]int64{"n": 1}); err == nil {
			t.Errorf("PinDims(% x…) worked", bad[:min(len(bad), 8)])
		}
	}
	if _, err := onnxpb.InputDims(nil); err == nil {
		t.Error("InputDims(nil) worked")
	}
}

// FuzzPinDims: any bytes give a model or an error, never a panic, and a
// model's pinned copy reads back with the pinned value; GraphIO agrees with
// InputDims on every input it lists.
func FuzzPinDims(f *testing.F) {
	f.Add(everyField().Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := onnxpb.InputDims(b)
		if ins, _, gerr := onnxpb.GraphIO(b); gerr == nil && err == nil {
			for _, v := range ins {
				if v.Dims != nil && !reflect.DeepEqual(v.Dims, d[v.Name]) {
					t.Fatalf("GraphIO %s: %+v, InputDims %+v", v.Name, v.Dims, d[v.Name])
				}
			}
		}
		pinned, perr := onnxpb.PinDims(b, map[string]int64{"n": 5})
		if err != nil || perr != nil {
			return
		}
		d2, err := onnxpb.InputDims(pinned)
		if err != nil {
			t.Fatalf("the pinned copy does not read back: %v", err)
		}
		for name, ds := range d {
			for i, x := range ds {
				if x.Param == "n" && (len(d2[name]) <= i || d2[name][i].Value != 5) {
					t.Fatalf("%s[%d] not pinned: %+v", name, i, d2[name])
				}
			}
		}
	})
}
