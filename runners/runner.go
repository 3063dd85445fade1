// Package runners turns one low-resolution image into one or more
// super-resolved outputs: single-pass models give one, diffusion models one
// per sampling step.
package runners

import (
	"context"
	"fmt"
	"time"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// Output is one SR result. Steps is the number of sampling steps that produced
// it for step-wise runners, 0 for single-pass ones.
type Output struct {
	Steps int
	Image *img.Image
	// Stages, when set, are this output's own timings: for step-wise
	// runners, what a run of Steps steps takes (cumulative), where the
	// Result's stages are those of the whole run.
	Stages []Stage
	// Prompt is the text prompt the output was made with, if any.
	Prompt string
	// Err says why this output could not be had (a folder method's missing
	// step file) while the others could: its record fails alone.
	Err error
}

// LRFree is a Runner that does not need the LR image (it reads outputs
// made elsewhere): a run gives it a nil LR when the LR cannot be decoded,
// so that a corrupt LR fails only the methods that read it.
type LRFree interface {
	NeedsLR() bool
}

// Stage is the wall time of one named part of a run ("resize", "unet", …).
type Stage struct {
	Name     string
	Duration time.Duration
}

// Result is what a runner returns for one image.
type Result struct {
	Outputs []Output
	Stages  []Stage
	// Batch is the most images that shared one inference with this one (0
	// or 1: it ran alone); its stage times are then its share of the calls.
	Batch int
}

// Total is the sum of the stage times.
func (r Result) Total() time.Duration {
	var t time.Duration
	for _, s := range r.Stages {
		t += s.Duration
	}
	return t
}

// Input is one test image: its id (file stem) and dataset name, which
// runners that read precomputed outputs need, and the LR image.
type Input struct {
	ID, Dataset string
	LR          *img.Image
}

// Runner is an SR method. Implementations are safe for concurrent use.
type Runner interface {
	// Name identifies the method in tables ("bicubic", "realesrgan-x4plus").
	Name() string
	// Scale is the upscaling factor.
	Scale() int
	// Fingerprint identifies the model and options exactly: results with
	// different fingerprints must not be merged.
	Fingerprint() string
	Run(ctx context.Context, in Input) (Result, error)
}

// Batcher is a Runner that can run several images in one call, for
// throughput: same-size inputs share inferences.
type Batcher interface {
	Runner
	RunBatch(ctx context.Context, ins []Input) ([]Result, error)
}

// RunBatch runs ins through r, in one call when r is a Batcher and one by
// one otherwise. Results are in the order of ins.
func RunBatch(ctx context.Context, r Runner, ins []Input) ([]Result, error) {
	if b, ok := r.(Batcher); ok {
		return b.RunBatch(ctx, ins)
	}
	res := make([]Result, len(ins))
	for i, in := range ins {
		var err error
		if res[i], err = r.Run(ctx, in); err != nil {
			return nil, fmt.Errorf("%s: %w", in.ID, err)
		}
	}
	return res, nil
}

// RunEach runs ins through r with a result or an error for each input: a
// Batcher gets them in one call, and when that whole batch fails (memory,
// one input the model cannot take) they are run one at a time so that each
// gets its own; other runners run them one at a time. Once ctx is done, the
// inputs not yet run get its error.
func RunEach(ctx context.Context, r Runner, ins []Input) ([]Result, []error) {
	res, errs := make([]Result, len(ins)), make([]error, len(ins))
	if b, ok := r.(Batcher); ok && len(ins) > 1 {
		if out, err := b.RunBatch(ctx, ins); err == nil {
			return out, errs
		}
	}
	for i, in := range ins {
		if errs[i] = ctx.Err(); errs[i] == nil {
			res[i], errs[i] = r.Run(ctx, in)
		}
	}
	return res, errs
}
