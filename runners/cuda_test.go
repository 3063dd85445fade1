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
	o.Device = models.Device{Kind: "cuda"}
	r, err := NewONNX(fixture(t, name, "fp32"), o)
	if err != nil {
		if os.Getenv(models.EnvCUDAPlugin) == "" && strings.Contains(err.Error(), "CUDA is not available") {
			t.Skip("no CUDA here: ", err)
		}
		t.Fatal(err)
	}
	return r
}

// On a GPU the runner passes the shared suite, and gives the CPU's outputs
// (within float rounding), one image at a time, tiled and batched.
func TestCUDAMatchesCPU(t *testing.T) {
	for _, o := range []ONNXOptions{{}, {Tile: 8, Overlap: 2, Batch: 4}} {
		gpu := openCUDA(t, "sr2_conv", o)
		defer gpu.Close()
		if p := gpu.Placement(); !strings.Contains(p.EP, "CUDA") || !strings.Contains(gpu.Fingerprint(), "ep="+p.EP) {
			t.Errorf("placement %+v, fingerprint %s", p, gpu.Fingerprint())
		}
		runnerSuite(t, gpu)
		cpu, err := NewONNX(fixture(t, "sr2_conv", "fp32"), o)
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
}
