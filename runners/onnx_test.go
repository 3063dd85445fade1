package runners

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/models"
)

// fixture copies models/testdata/NAME.onnx into a temporary folder with a
// manifest (scale 2, input "lr", output "sr") and returns its path.
func fixture(t testing.TB, name, dtype string) string {
	t.Helper()
	dir := t.TempDir()
	dst := filepath.Join(dir, name+".onnx")
	src, err := os.Open(filepath.Join("..", "models", "testdata", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, _ := os.Create(dst)
	io.Copy(f, src)
	f.Close()
	_, sum, err := datasets.HashFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	m := models.Manifest{Name: name, Kind: "sr", Scale: 2, DType: dtype, SHA256: sum, License: "test fixture", Source: "models/testdata/make_fixtures.py",
		Input:  models.IO{Name: "lr", Layout: "NCHW", Range: [2]float64{0, 1}},
		Output: models.IO{Name: "sr", Layout: "NCHW", Range: [2]float64{0, 1}}}
	if err := models.WriteManifest(dst, m); err != nil {
		t.Fatal(err)
	}
	return dst
}

func randomImage(w, h int, seed uint64) *img.Image {
	r := rand.New(rand.NewPCG(seed, 3))
	m := img.New(w, h)
	for c := range m.Planes {
		for i := range m.Planes[c] {
			m.Planes[c][i] = r.Float32()
		}
	}
	return m
}

func run(t *testing.T, r Runner, lr *img.Image) *img.Image {
	t.Helper()
	res, err := r.Run(context.Background(), Input{ID: "x", LR: lr})
	if err != nil {
		t.Fatal(err)
	}
	return res.Outputs[0].Image
}

func maxDiff(a, b *img.Image) float64 {
	var d float64
	for c := range a.Planes {
		for i := range a.Planes[c] {
			d = math.Max(d, math.Abs(float64(a.Planes[c][i]-b.Planes[c][i])))
		}
	}
	return d
}

func TestONNXRunnerSuite(t *testing.T) {
	for _, c := range []struct {
		name, dtype string
		o           ONNXOptions
	}{
		{"sr2_nearest", "fp32", ONNXOptions{}},
		{"sr2_conv", "fp32", ONNXOptions{Tile: 8, Overlap: 2, Batch: 4}},
		{"sr2_fixed", "fp32", ONNXOptions{Overlap: 2}},
		{"sr2_fp16", "fp16", ONNXOptions{Tile: 6, Overlap: 1}},
		// inputs and outputs bound in place (internal/ortio), as on a GPU
		{"sr2_conv", "fp32", ONNXOptions{Tile: 8, Overlap: 2, Batch: 4, Device: models.Device{Kind: "cpu", IOBinding: true}}},
		{"sr2_fp16", "fp16", ONNXOptions{Device: models.Device{Kind: "cpu", IOBinding: true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewONNX(fixture(t, c.name, c.dtype), c.o)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			runnerSuite(t, r)
		})
	}
}

// Tiling: a pointwise model gives the same output tiled or not; a 3×3 conv
// with an overlap of 2 LR pixels differs only where a tile's zero padding
// reached inside the ramp, by little; fixed-size models tile by themselves.
func TestONNXTiling(t *testing.T) {
	lr := randomImage(37, 23, 1)
	whole, err := NewONNX(fixture(t, "sr2_nearest", "fp32"), ONNXOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tiled, _ := NewONNX(fixture(t, "sr2_nearest", "fp32"), ONNXOptions{Tile: 10, Overlap: 3, Batch: 3})
	if d := maxDiff(run(t, whole, lr), run(t, tiled, lr)); d > 1e-6 {
		t.Errorf("pointwise model: tiled differs by %v", d)
	}
	want := run(t, whole, lr)
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			if want.Planes[0][y*want.W+x] != lr.Planes[0][(y/2)*lr.W+x/2] {
				t.Fatal("nearest ×2 output is not pixel replication")
			}
		}
	}
	convWhole, _ := NewONNX(fixture(t, "sr2_conv", "fp32"), ONNXOptions{})
	convTiled, _ := NewONNX(fixture(t, "sr2_conv", "fp32"), ONNXOptions{Tile: 12, Overlap: 3, Batch: 2})
	fixed, _ := NewONNX(fixture(t, "sr2_fixed", "fp32"), ONNXOptions{Overlap: 3})
	ref := run(t, convWhole, lr)
	for name, r := range map[string]Runner{"tiled": convTiled, "fixed 16×16": fixed} {
		if d := maxDiff(ref, run(t, r, lr)); d > 1e-5 {
			t.Errorf("conv model %s differs by %v: the blend let a tile's border through", name, d)
		}
	}
	// An image smaller than a fixed input is padded by edge replication, then
	// cropped back: inside the conv's reach of the border, identical.
	small := randomImage(9, 7, 2)
	a, b := run(t, convWhole, small), run(t, fixed, small)
	if a.W != 18 || b.W != 18 || b.H != 14 {
		t.Fatalf("sizes %dx%d and %dx%d", a.W, a.H, b.W, b.H)
	}
	ai, _ := a.Crop(0, 0, 16, 12) // away from the padded right and bottom edges
	bi, _ := b.Crop(0, 0, 16, 12)
	if d := maxDiff(ai, bi); d > 1e-5 {
		t.Errorf("padded small image differs inside by %v", d)
	}
	// fp16 model: within float16 precision of the fp32 one.
	f16, _ := NewONNX(fixture(t, "sr2_fp16", "fp16"), ONNXOptions{})
	if d := maxDiff(want, run(t, f16, lr)); d > 1e-3 {
		t.Errorf("fp16 model differs by %v", d)
	}
	if !strings.Contains(tiled.Fingerprint(), "tile=10;overlap=3") || !strings.Contains(tiled.Fingerprint(), "ep=CPUExecutionProvider") {
		t.Errorf("fingerprint %s", tiled.Fingerprint())
	}
}

// Same-size images share inferences up to the batch size, and an image's
// result does not depend on what it shared them with.
func TestONNXBatchAcrossImages(t *testing.T) {
	r, err := NewONNX(fixture(t, "sr2_conv", "fp32"), ONNXOptions{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ins []Input
	for i := range 5 {
		ins = append(ins, Input{ID: fmt.Sprint(i), LR: randomImage(12, 10, uint64(i))})
	}
	ins = append(ins, Input{ID: "odd", LR: randomImage(7, 10, 9)})
	res, err := r.RunBatch(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	// 5 images of 12×10: batches {0,1} {2,3} {4}; the 7×10 one alone.
	for i, want := range []int{2, 2, 2, 2, 1, 1} {
		if res[i].Batch != want {
			t.Errorf("image %d shared an inference with %d images, want %d", i, res[i].Batch, want)
		}
		if d := maxDiff(res[i].Outputs[0].Image, run(t, r, ins[i].LR)); d > 1e-6 {
			t.Errorf("image %d: batched output differs from its single run by %g", i, d)
		}
	}
	// Tiled images batch their tiles together across images too.
	tiled, _ := NewONNX(fixture(t, "sr2_conv", "fp32"), ONNXOptions{Tile: 8, Overlap: 2, Batch: 16})
	res, err = tiled.RunBatch(context.Background(), ins[:3])
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if res[i].Batch != 3 {
			t.Errorf("tiled image %d shared with %d images, want 3", i, res[i].Batch)
		}
		if d := maxDiff(res[i].Outputs[0].Image, run(t, tiled, ins[i].LR)); d > 1e-6 {
			t.Errorf("tiled image %d: batched output differs by %g", i, d)
		}
	}
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.RunBatch(cctx, ins); err == nil {
		t.Error("ran a batch with a cancelled context")
	}
}

func TestONNXBadModels(t *testing.T) {
	p := fixture(t, "sr2_nearest", "fp32")
	// Wrong hash.
	os.WriteFile(p, append(mustRead(t, p), 0), 0o644)
	if _, err := NewONNX(p, ONNXOptions{}); !errors.Is(err, models.ErrModelHash) {
		t.Errorf("tampered model: %v", err)
	}
	// No manifest.
	q := filepath.Join(t.TempDir(), "m.onnx")
	os.WriteFile(q, mustRead(t, filepath.Join("..", "models", "testdata", "sr2_nearest.onnx")), 0o644)
	if _, err := NewONNX(q, ONNXOptions{}); err == nil || !strings.Contains(err.Error(), "no manifest") {
		t.Errorf("no manifest: %v", err)
	}
	// Manifest naming the wrong tensors.
	_, sum, _ := datasets.HashFile(q)
	models.WriteManifest(q, models.Manifest{Name: "m", Kind: "sr", Scale: 2, DType: "fp32", SHA256: sum,
		Input: models.IO{Name: "input", Range: [2]float64{0, 1}}, Output: models.IO{Name: "sr", Range: [2]float64{0, 1}}})
	if _, err := NewONNX(q, ONNXOptions{}); err == nil || !strings.Contains(err.Error(), "does not match the manifest") {
		t.Errorf("wrong I/O names: %v", err)
	}
	// CUDA asked for on a machine without it: an error, not a CPU run.
	if _, err := NewONNX(fixture(t, "sr2_nearest", "fp32"), ONNXOptions{Device: models.Device{Kind: "cuda"}}); err == nil {
		t.Log("CUDA is available here; skipping the no-CUDA check")
	} else if !strings.Contains(err.Error(), "CUDA is not available") {
		t.Errorf("cuda without CUDA: %v", err)
	}
	auto, err := NewONNX(fixture(t, "sr2_nearest", "fp32"), ONNXOptions{Device: models.Device{Kind: "auto"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := auto.Placement(); p.EP == "CPUExecutionProvider" && !strings.Contains(p.Note, "running on the CPU") {
		t.Errorf("auto fell back without saying so: %+v", p)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkONNXOverhead times the Go side of the ONNX runner (tensor
// building, blending, conversions) around a trivial ×2 model on 256² LR
// images, one at a time and 16 in one inference (the GPU throughput path,
// where the Go share competes with a few milliseconds of inference), and a
// float16 graph (×2 nearest between casts) whose I/O Go converts:
// go test -run '^$' -bench ONNXOverhead ./runners
func BenchmarkONNXOverhead(b *testing.B) {
	for _, c := range []struct {
		name   string
		dev    models.Device
		images int
		dtype  string
	}{
		{"onnxruntime_go", models.Device{}, 1, "fp32"}, {"io-binding", models.Device{IOBinding: true}, 1, "fp32"},
		{"onnxruntime_go/batch16", models.Device{}, 16, "fp32"}, {"io-binding/batch16", models.Device{IOBinding: true}, 16, "fp32"},
		{"onnxruntime_go/fp16/batch16", models.Device{}, 16, "fp16"}, {"io-binding/fp16/batch16", models.Device{IOBinding: true}, 16, "fp16"},
	} {
		b.Run(c.name, func(b *testing.B) {
			model := map[string]string{"fp32": "sr2_nearest", "fp16": "sr2_fp16"}[c.dtype]
			r, err := NewONNX(fixture(b, model, c.dtype), ONNXOptions{Device: c.dev, Batch: c.images})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			var ins []Input
			for i := range c.images {
				ins = append(ins, Input{ID: fmt.Sprint(i), LR: randomImage(256, 256, uint64(i+1))})
			}
			var infer time.Duration
			for b.Loop() {
				res, err := r.RunBatch(context.Background(), ins)
				if err != nil {
					b.Fatal(err)
				}
				for _, x := range res {
					infer += x.Stages[1].Duration
				}
			}
			b.ReportMetric(float64((b.Elapsed()-infer).Microseconds())/float64(b.N*c.images)/1000, "ms-go/image")
		})
	}
}

// A failed allocation names the device, the batch and the ways out; other
// errors pass through.
func TestRunErrorOutOfMemory(t *testing.T) {
	for _, msg := range []string{
		"Failed to allocate memory for requested buffer of size 4294967296",
		"CUDA failure 2: out of memory ; GPU=0",
		"std::bad_alloc",
	} {
		oom := errors.New(msg)
		err := runError("cuda:0 (NVIDIA)", 32, 128, 128, oom)
		if !errors.Is(err, oom) || !strings.Contains(err.Error(), "out of memory on cuda:0 (NVIDIA) for 32 tile(s) of 128x128") || !strings.Contains(err.Error(), "--tile") {
			t.Errorf("%q: %v", msg, err)
		}
	}
	other := errors.New("invalid input shape")
	if err := runError("cpu", 1, 8, 8, other); err != other {
		t.Errorf("other error: %v", err)
	}
}

// On a GPU a batch smaller than one already run for its tile size is padded
// to that size (a new shape costs seconds of kernel selection there); the
// padding rows' outputs are dropped, so results are those of an unpadded run.
func TestONNXPadsSmallerBatches(t *testing.T) {
	plain, err := NewONNX(fixture(t, "sr2_conv", "fp32"), ONNXOptions{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if plain.padBatches {
		t.Error("pads batches on the CPU, where padding only costs")
	}
	r, err := NewONNX(fixture(t, "sr2_conv", "fp32"), ONNXOptions{Batch: 4, padOnCPU: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ins []Input
	for i := range 6 {
		ins = append(ins, Input{ID: fmt.Sprint(i), LR: randomImage(12, 10, uint64(i))})
	}
	// 4 then 2 images of 12×10: the second batch runs as 4 rows.
	res, err := r.RunBatch(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.batchRows(12, 10, 2); got != 4 {
		t.Errorf("a batch of 2 after one of 4 runs as %d rows, want 4", got)
	}
	if got := r.batchRows(7, 10, 1); got != 1 {
		t.Errorf("a first batch of a new tile size runs as %d rows, want 1", got)
	}
	one, err := r.RunBatch(context.Background(), ins[5:]) // 1 image, padded to 4
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{4, 4, 4, 4, 2, 2} {
		if res[i].Batch != want {
			t.Errorf("image %d shared an inference with %d images, want %d (padding rows are not images)", i, res[i].Batch, want)
		}
		if d := maxDiff(res[i].Outputs[0].Image, run(t, plain, ins[i].LR)); d > 1e-6 {
			t.Errorf("image %d: output differs from an unpadded single run by %g", i, d)
		}
	}
	if d := maxDiff(one[0].Outputs[0].Image, run(t, plain, ins[5].LR)); d > 1e-6 || one[0].Batch != 1 {
		t.Errorf("padded single image: differs by %g, shared with %d", d, one[0].Batch)
	}
}
