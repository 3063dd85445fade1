package onnxpb_test

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
	"github.com/addsr-bench/addsr-bench/models"
)

var update = flag.Bool("update", false, "rewrite testdata/every_field.onnx")

// everyField uses every constructor and attribute kind of the package in a
// graph ONNX Runtime can run:
//
//	a = LeakyRelu(x, alpha 0.5); m = Cast(Cast(a, fp16) · h16, fp32)
//	s = m + Constant(value_floats [1, −1]); p = Pad(s, [0,1,0,1], "constant")
//	y = p · w; z = ReduceMean(y, axes [1], keepdims 0)
func everyField() onnxpb.Model {
	return onnxpb.Model{Producer: "onnxpb test", Opset: 13, Graph: "every_field",
		Nodes: []onnxpb.Node{
			{Name: "leaky", Op: "LeakyRelu", Inputs: []string{"x"}, Outputs: []string{"a"}, Attrs: []onnxpb.Attr{onnxpb.F("alpha", 0.5)}},
			{Name: "to16", Op: "Cast", Inputs: []string{"a"}, Outputs: []string{"a16"}, Attrs: []onnxpb.Attr{onnxpb.I("to", onnxpb.Float16)}},
			{Name: "mul16", Op: "Mul", Inputs: []string{"a16", "h16"}, Outputs: []string{"m16"}},
			{Name: "to32", Op: "Cast", Inputs: []string{"m16"}, Outputs: []string{"m"}, Attrs: []onnxpb.Attr{onnxpb.I("to", onnxpb.Float)}},
			{Name: "const", Op: "Constant", Outputs: []string{"c"}, Attrs: []onnxpb.Attr{onnxpb.Fs("value_floats", 1, -1)}},
			{Name: "add", Op: "Add", Inputs: []string{"m", "c"}, Outputs: []string{"s"}},
			{Name: "pad", Op: "Pad", Inputs: []string{"s", "pads"}, Outputs: []string{"p"}, Attrs: []onnxpb.Attr{onnxpb.S("mode", "constant")}},
			{Name: "scale", Op: "Mul", Inputs: []string{"p", "w"}, Outputs: []string{"y"}},
			{Name: "mean", Op: "ReduceMean", Inputs: []string{"y"}, Outputs: []string{"z"}, Attrs: []onnxpb.Attr{onnxpb.Is("axes", 1), onnxpb.I("keepdims", 0)}},
		},
		Initializers: []onnxpb.Tensor{
			onnxpb.Float16Tensor("h16", []int64{2}, []float32{2, 0.5}),
			onnxpb.Int64Tensor("pads", []int64{4}, []int64{0, 1, 0, 1}),
			onnxpb.FloatTensor("w", []int64{4}, []float32{1, 2, 3, 4}),
		},
		Inputs: []onnxpb.ValueInfo{{Name: "x", Type: onnxpb.Float, Dims: []int64{-1, 2}, Syms: []string{"n"}}},
		Outputs: []onnxpb.ValueInfo{
			{Name: "y", Type: onnxpb.Float, Dims: []int64{-1, 4}, Syms: []string{"n"}},
			{Name: "z", Type: onnxpb.Float, Dims: []int64{-1}, Syms: []string{"n"}},
		},
	}
}

// TestEveryField: the encoding is the committed one, which Python's onnx
// reads and checks as testdata/every_field.txt shows (an independent
// decoder; testdata/every_field.py made it), and ONNX Runtime runs it to the
// values computed here.
func TestEveryField(t *testing.T) {
	b := everyField().Marshal()
	golden := filepath.Join("testdata", "every_field.onnx")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("Marshal differs from %s (go test -update, then check it with testdata/every_field.py)", golden)
	}
	s, err := models.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := []float32{1, -2, 0.25, 4, -1, -0.5}
	out, err := s.Run(models.Tensor{Shape: []int64{3, 2}, Data: x})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || len(out[0].Data) != 12 || len(out[1].Data) != 3 {
		t.Fatalf("outputs %+v", out)
	}
	h, c, w := []float32{2, 0.5}, []float32{1, -1}, []float32{1, 2, 3, 4}
	for i := 0; i < 3; i++ {
		p := []float32{0, 0, 0, 0}
		for j := 0; j < 2; j++ {
			a := x[2*i+j]
			if a < 0 {
				a *= 0.5
			}
			p[j+1] = a*h[j] + c[j] // exact in float16: the inputs are small dyadic numbers
		}
		var sum float32
		for j := range p {
			y := p[j] * w[j]
			sum += y
			if got := out[0].Data[4*i+j]; got != y {
				t.Errorf("y[%d,%d] = %v, want %v", i, j, got, y)
			}
		}
		if got := out[1].Data[i]; math.Abs(float64(got-sum/4)) > 1e-6 {
			t.Errorf("z[%d] = %v, want %v", i, got, sum/4)
		}
	}
}
