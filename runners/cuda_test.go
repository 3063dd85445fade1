package runners

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/models"
)

// openCUDA opens a fixture on CUDA, or skips the test where there is none
// (CI, and any machine without the CUDA execution provider). Where
// ORT_CUDA_EP_LIBRARY names the plugin, CUDA must work: a failure there is
// a test failure, not a skip.
func openCUDA(t *testing.T, name string, o ONNXOptions) *ONNX {
	t.Helper()
	o.Device.Kind = "cuda"
	r, err := NewONNX(fixture(t, name, "fp32"), o)
	if err != nil {
		if os.Getenv(models.EnvCUDAPlugin) == "" && (strings.Contains(err.Error(), "CUDA is not available") ||
			strings.Contains(err.Error(), "no CUDA execution provider device")) {
			t.Skip("no CUDA here: ", err)
		}
		t.Fatal(err)
	}
	return r
}

// On a GPU the runner passes the shared suite, and gives the CPU's outputs
// (within float rounding), one image at a time, tiled and batched; also with
// inputs and outputs bound in the GPU's memory, and with a CUDA graph per
// input shape on top.
func TestCUDAMatchesCPU(t *testing.T) {
	bound := models.Device{IOBinding: true}
	graph := models.Device{IOBinding: true, EPOptions: map[string]string{"enable_cuda_graph": "1"}}
	for _, c := range []struct {
		name string
		o    ONNXOptions
	}{
		{"plain", ONNXOptions{}},
		{"tiled-batched", ONNXOptions{Tile: 8, Overlap: 2, Batch: 4}},
		{"io-binding", ONNXOptions{Device: bound}},
		{"io-binding-tiled-batched", ONNXOptions{Tile: 8, Overlap: 2, Batch: 4, Device: bound}},
		{"cuda-graph", ONNXOptions{Batch: 4, Device: graph}},
	} {
		t.Run(c.name, func(t *testing.T) { cudaMatchesCPU(t, c.o) })
	}
}

func cudaMatchesCPU(t *testing.T, o ONNXOptions) {
	gpu := openCUDA(t, "sr2_conv", o)
	defer gpu.Close()
	if p := gpu.Placement(); !strings.Contains(p.EP, "CUDA") || !strings.Contains(gpu.Fingerprint(), "ep="+p.EP) {
		t.Errorf("placement %+v, fingerprint %s", p, gpu.Fingerprint())
	}
	if o.Device.IOBinding && !strings.Contains(gpu.Placement().IOBinding, "device buffers") {
		t.Errorf("placement %+v: not IO-bound", gpu.Placement())
	}
	runnerSuite(t, gpu)
	cpuOpts := o
	cpuOpts.Device = models.Device{}
	cpu, err := NewONNX(fixture(t, "sr2_conv", "fp32"), cpuOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer cpu.Close()
	var ins []Input
	for i := range 5 {
		ins = append(ins, Input{ID: "x", LR: randomImage(24, 16, uint64(i))})
	}
	batched, err := gpu.RunBatch(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range ins {
		want := run(t, cpu, in.LR)
		if d := maxDiff(want, run(t, gpu, in.LR)); d > 1e-4 {
			t.Errorf("%+v image %d: CUDA differs from the CPU by %g", o, i, d)
		}
		if d := maxDiff(want, batched[i].Outputs[0].Image); d > 1e-4 {
			t.Errorf("%+v image %d: CUDA batched differs from the CPU by %g", o, i, d)
		}
	}
}
