package onnxpb_test

import (
	"fmt"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
)

// largeModel is a graph with 64 MiB of weights in 16 initializers, a
// symbolic batch dimension and 16 Slices: the shape of an exported
// transformer (MANIQA's stand-in is 457 MB with 43 Slices), for the cost
// of the protobuf rewrites, which is copying.
func largeModel() []byte {
	m := onnxpb.Model{Producer: "onnxpb bench", Opset: 17, Graph: "large",
		Inputs:  []onnxpb.ValueInfo{{Name: "x", Type: onnxpb.Float, Dims: []int64{-1, 8}, Syms: []string{"n"}}},
		Outputs: []onnxpb.ValueInfo{{Name: "y15", Type: onnxpb.Float, Dims: []int64{-1, 8}, Syms: []string{"n"}}},
		Initializers: []onnxpb.Tensor{
			onnxpb.Int64Tensor("zero", []int64{1}, []int64{0}),
			onnxpb.Int64Tensor("eight", []int64{1}, []int64{8}),
			onnxpb.Int64Tensor("one", []int64{1}, []int64{1}),
		},
	}
	prev := "x"
	for i := range 16 {
		w, s, y := fmt.Sprintf("w%d", i), fmt.Sprintf("s%d", i), fmt.Sprintf("y%d", i)
		m.Initializers = append(m.Initializers, onnxpb.FloatTensor(w, []int64{1 << 20}, make([]float32, 1<<20)))
		m.Nodes = append(m.Nodes,
			onnxpb.Node{Name: s, Op: "Slice", Inputs: []string{prev, "zero", "eight", "one"}, Outputs: []string{s}},
			onnxpb.Node{Name: y, Op: "Identity", Inputs: []string{s}, Outputs: []string{y}})
		prev = y
	}
	return m.Marshal()
}

// go test -run '^$' -bench Rewrite ./internal/onnxpb: MB/s of model.
func BenchmarkRewrite(b *testing.B) {
	model := largeModel()
	b.Run("SliceAsGather", func(b *testing.B) {
		b.SetBytes(int64(len(model)))
		for b.Loop() {
			if _, res, err := onnxpb.SliceAsGather(model); err != nil || res.Rewritten != 16 {
				b.Fatal(res, err)
			}
		}
	})
	b.Run("PinDims", func(b *testing.B) {
		b.SetBytes(int64(len(model)))
		for b.Loop() {
			if _, err := onnxpb.PinDims(model, map[string]int64{"n": 4}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
