package runners

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// runnerSuite is the contract every Runner must meet; each implementation
// is listed in TestRunnerSuite.
func runnerSuite(t *testing.T, r Runner) {
	rng := rand.New(rand.NewPCG(42, 0))
	lr := img.New(17, 11)
	for c := range lr.Planes {
		for i := range lr.Planes[c] {
			lr.Planes[c][i] = rng.Float32()
		}
	}
	ctx := context.Background()
	res, err := r.Run(ctx, Input{ID: "x", LR: lr})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Outputs) == 0 {
		t.Fatal("no outputs")
	}
	for _, o := range res.Outputs {
		if o.Image.W != lr.W*r.Scale() || o.Image.H != lr.H*r.Scale() {
			t.Fatalf("output %dx%d for a %dx%d input at ×%d", o.Image.W, o.Image.H, lr.W, lr.H, r.Scale())
		}
		for c := range o.Image.Planes {
			for _, v := range o.Image.Planes[c] {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatal("non-finite output")
				}
			}
		}
	}
	if len(res.Stages) == 0 || res.Total() < 0 {
		t.Error("no stage timings")
	}
	// Deterministic: the same input gives the same output.
	again, err := r.Run(ctx, Input{ID: "x", LR: lr})
	if err != nil {
		t.Fatal(err)
	}
	for c := range again.Outputs[0].Image.Planes {
		for i, v := range again.Outputs[0].Image.Planes[c] {
			if v != res.Outputs[0].Image.Planes[c][i] {
				t.Fatal("two runs on the same input differ")
			}
		}
	}
	// A batch of images gives each image's own output, in order, whatever
	// shares an inference: two of lr's size and one of another size.
	other := img.New(9, 13)
	for c := range other.Planes {
		for i := range other.Planes[c] {
			other.Planes[c][i] = rng.Float32()
		}
	}
	alone, err := r.Run(ctx, Input{ID: "y", LR: other})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := RunBatch(ctx, r, []Input{{ID: "x", LR: lr}, {ID: "y", LR: other}, {ID: "x", LR: lr}})
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != 3 {
		t.Fatalf("%d results for 3 inputs", len(batch))
	}
	for i, want := range []*img.Image{res.Outputs[0].Image, alone.Outputs[0].Image, res.Outputs[0].Image} {
		got := batch[i].Outputs[0].Image
		if got.W != want.W || got.H != want.H {
			t.Fatalf("batch output %d is %dx%d, want %dx%d", i, got.W, got.H, want.W, want.H)
		}
		for c := range got.Planes {
			for j, v := range got.Planes[c] {
				if d := math.Abs(float64(v - want.Planes[c][j])); d > 1e-6 {
					t.Fatalf("batch output %d differs from its single run by %g", i, d)
				}
			}
		}
		if len(batch[i].Stages) == 0 {
			t.Errorf("batch output %d has no stage timings", i)
		}
	}
	if r.Fingerprint() == "" || r.Name() == "" {
		t.Error("empty name or fingerprint")
	}
	// A cancelled context stops the run.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Run(cctx, Input{ID: "x", LR: lr}); err == nil {
		t.Error("ran with a cancelled context")
	}
}

func TestRunnerSuite(t *testing.T) {
	for _, r := range []Runner{Bicubic{Factor: 4}, Bicubic{Factor: 2}, Nearest{Factor: 4}} {
		t.Run(r.Fingerprint(), func(t *testing.T) { runnerSuite(t, r) })
	}
}

// Interpolating runners keep a constant image constant.
func TestInterpolationKeepsConstant(t *testing.T) {
	lr := img.New(9, 7)
	for c := range lr.Planes {
		for i := range lr.Planes[c] {
			lr.Planes[c][i] = 0.25 * float32(c+1)
		}
	}
	for _, r := range []Runner{Bicubic{Factor: 4}, Nearest{Factor: 3}} {
		res, err := r.Run(context.Background(), Input{ID: "x", LR: lr})
		if err != nil {
			t.Fatal(err)
		}
		for c, p := range res.Outputs[0].Image.Planes {
			for _, v := range p {
				if math.Abs(float64(v)-0.25*float64(c+1)) > 1e-6 {
					t.Fatalf("%s: constant %v became %v", r.Name(), 0.25*float64(c+1), v)
				}
			}
		}
	}
	if _, err := New("lanczos", 4); err == nil {
		t.Error("unknown runner accepted")
	}
	if _, err := New("bicubic", 0); err == nil {
		t.Error("scale 0 accepted")
	}
}

// failingBatcher is bicubic ×2 whose batches always fail and which refuses
// the input "bad" alone, as a model out of memory for a batch would.
type failingBatcher struct{ Bicubic }

func (f failingBatcher) Run(ctx context.Context, in Input) (Result, error) {
	if in.ID == "bad" {
		return Result{}, errors.New("cannot take this one")
	}
	return f.Bicubic.Run(ctx, in)
}

func (failingBatcher) RunBatch(context.Context, []Input) ([]Result, error) {
	return nil, errors.New("out of memory")
}

// RunEach: a failed batch is retried input by input, so each gets its own
// result or error; a done context fails what has not run.
func TestRunEach(t *testing.T) {
	lr := img.New(5, 4)
	ins := []Input{{ID: "a", LR: lr}, {ID: "bad", LR: lr}, {ID: "c", LR: lr}}
	for _, r := range []Runner{failingBatcher{Bicubic{Factor: 2}}, Bicubic{Factor: 2}} {
		res, errs := RunEach(context.Background(), r, ins)
		for i, in := range ins {
			_, picky := r.(failingBatcher)
			wantErr := in.ID == "bad" && picky
			if (errs[i] != nil) != wantErr || (errs[i] == nil && res[i].Outputs[0].Image.W != 10) {
				t.Errorf("%T input %s: %v", r, in.ID, errs[i])
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, errs := RunEach(ctx, Bicubic{Factor: 2}, ins)
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("input %d with a done context: %v", i, err)
		}
	}
}
