package runners

import (
	"context"
	"fmt"
	"time"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
)

// Bicubic upsamples with MATLAB's imresize (bicubic, a = −0.5): the
// baseline every SR table carries.
type Bicubic struct{ Factor int }

func (b Bicubic) Name() string { return "bicubic" }
func (b Bicubic) Scale() int   { return b.Factor }
func (b Bicubic) Fingerprint() string {
	return fmt.Sprintf("bicubic;matlab-imresize;a=-0.5;x%d;v1", b.Factor)
}

func (b Bicubic) Run(ctx context.Context, in Input) (Result, error) {
	lr := in.LR
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	t := time.Now()
	out, err := imresize.Image(lr, float64(b.Factor))
	if err != nil {
		return Result{}, err
	}
	return Result{Outputs: []Output{{Image: out}}, Stages: []Stage{{"resize", time.Since(t)}}}, nil
}

// Nearest repeats each pixel Factor×Factor times: the floor any method must beat.
type Nearest struct{ Factor int }

func (n Nearest) Name() string        { return "nearest" }
func (n Nearest) Scale() int          { return n.Factor }
func (n Nearest) Fingerprint() string { return fmt.Sprintf("nearest;x%d;v1", n.Factor) }

func (n Nearest) Run(ctx context.Context, in Input) (Result, error) {
	lr := in.LR
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	t := time.Now()
	f := n.Factor
	out := img.New(lr.W*f, lr.H*f)
	for c := 0; c < 3; c++ {
		src, dst := lr.Planes[c], out.Planes[c]
		for y := 0; y < out.H; y++ {
			row := src[(y/f)*lr.W:]
			for x := 0; x < out.W; x++ {
				dst[y*out.W+x] = row[x/f]
			}
		}
	}
	return Result{Outputs: []Output{{Image: out}}, Stages: []Stage{{"resize", time.Since(t)}}}, nil
}

// New returns a built-in runner by name.
func New(name string, scale int) (Runner, error) {
	if scale < 1 {
		return nil, fmt.Errorf("scale %d must be at least 1", scale)
	}
	switch name {
	case "bicubic":
		return Bicubic{Factor: scale}, nil
	case "nearest":
		return Nearest{Factor: scale}, nil
	}
	return nil, fmt.Errorf("unknown runner %q; built in: bicubic, nearest", name)
}
