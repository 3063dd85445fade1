package runners

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/addsr-bench/addsr-bench/models"
)

// BenchmarkSR times an ONNX SR model on 128² LR images, whole images batched
// 1, 8 and 32 per inference, through onnxruntime_go's host tensors, through
// IO binding in the device's memory, and (on CUDA) with a CUDA graph per
// shape: ms per image (a batch's time over its images, host copies and Go's
// conversions included) and images/s. The model is $ADDSR_BENCH_SR_MODEL
// (an .onnx with its manifest; default: the tiny ×2 test fixture, which
// only exercises the path), the device $ADDSR_BENCH_DEVICE (default cpu):
//
//	ADDSR_BENCH_SR_MODEL=/tmp/m/random-x4plus.onnx ADDSR_BENCH_DEVICE=cuda \
//	  go test -run '^$' -bench SR -benchtime 20x ./runners
func BenchmarkSR(b *testing.B) {
	dev, err := models.ParseDevice(os.Getenv("ADDSR_BENCH_DEVICE"))
	if err != nil {
		b.Fatal(err)
	}
	model := os.Getenv("ADDSR_BENCH_SR_MODEL")
	if model == "" {
		model = fixture(b, "sr2_conv", "fp32")
	}
	modes := []struct {
		name string
		dev  func(models.Device) models.Device
	}{
		{"host-tensors", func(d models.Device) models.Device { return d }},
		{"io-binding", func(d models.Device) models.Device { d.IOBinding = true; return d }},
	}
	if dev.Kind == "cuda" {
		modes = append(modes, struct {
			name string
			dev  func(models.Device) models.Device
		}{"cuda-graph", func(d models.Device) models.Device {
			d.IOBinding, d.EPOptions = true, map[string]string{"enable_cuda_graph": "1"}
			return d
		}})
	}
	for _, mode := range modes {
		for _, batch := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/batch%d", mode.name, batch), func(b *testing.B) {
				r, err := NewONNX(model, ONNXOptions{Device: mode.dev(dev), Batch: batch})
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				var ins []Input
				for i := range batch {
					ins = append(ins, Input{ID: fmt.Sprint(i), LR: randomImage(128, 128, uint64(i))})
				}
				for range 3 { // warm-up: kernel choice, arena growth, graph capture
					if _, err := r.RunBatch(context.Background(), ins); err != nil {
						b.Fatal(err)
					}
				}
				n := 0
				for b.Loop() {
					if _, err := r.RunBatch(context.Background(), ins); err != nil {
						b.Fatal(err)
					}
					n += batch
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(n), "ms/image")
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
