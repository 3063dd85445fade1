// Package imresize reproduces MATLAB's imresize with the bicubic kernel
// (a = −0.5), antialiasing on downscale and symmetric edge handling — the
// resize that NIQE's second scale, BasicSR's test-set scripts and the paper's
// bicubic degradation all assume. PyTorch's bicubic (a = −0.75, no antialias)
// is a different function and lives elsewhere.
package imresize

import (
	"fmt"
	"math"
)

// Plane is one channel of float64 samples, row-major.
type Plane struct {
	W, H int
	Pix  []float64
}

// NewPlane allocates a zero plane.
func NewPlane(w, h int) Plane { return Plane{W: w, H: h, Pix: make([]float64, w*h)} }

// cubic is Keys' kernel with a = −0.5, MATLAB's "bicubic".
func cubic(x float64) float64 {
	ax := math.Abs(x)
	ax2 := ax * ax
	ax3 := ax2 * ax
	switch {
	case ax <= 1:
		return 1.5*ax3 - 2.5*ax2 + 1
	case ax <= 2:
		return -0.5*ax3 + 2.5*ax2 - 4*ax + 2
	}
	return 0
}

// Contributions are the taps of a 1-D resize: output i is
// Σ_k Weights[i*Taps+k] · in[Index[i*Taps+k]].
type Contributions struct {
	In, Out int
	Taps    int
	Index   []int
	Weights []float64
}

// OutputSize is MATLAB's ceil(in·scale).
func OutputSize(in int, scale float64) int {
	return int(math.Ceil(float64(in) * scale))
}

// Weights computes MATLAB's contributions for resizing a length-in signal to
// length out with the given scale (out/in when a size was asked for).
// Indices outside [0, in) are mirrored as MATLAB does (…, 1, 0 | 0, 1, …).
func Weights(in, out int, scale float64, antialias bool) Contributions {
	kernelWidth := 4.0
	kscale := 1.0
	if scale < 1 && antialias {
		kernelWidth /= scale
		kscale = scale
	}
	taps := int(math.Ceil(kernelWidth)) + 2
	c := Contributions{In: in, Out: out, Taps: taps, Index: make([]int, out*taps), Weights: make([]float64, out*taps)}
	for i := 0; i < out; i++ {
		// MATLAB is 1-based: x = i+1 maps to u in input coordinates.
		x := float64(i + 1)
		u := x/scale + 0.5*(1-1/scale)
		left := math.Floor(u - kernelWidth/2)
		sum := 0.0
		w := c.Weights[i*taps : (i+1)*taps]
		for k := 0; k < taps; k++ {
			idx := left + float64(k)
			w[k] = kscale * cubic((u-idx)*kscale)
			sum += w[k]
			c.Index[i*taps+k] = mirror(int(idx)-1, in)
		}
		for k := range w {
			w[k] /= sum
		}
	}
	return c
}

// mirror maps a 0-based index into [0, n) with symmetric padding that repeats
// the edge sample, like MATLAB's aux = [1:n, n:-1:1].
func mirror(i, n int) int {
	period := 2 * n
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - 1 - i
	}
	return i
}

// Scale resizes p by s in both directions; the output is ceil(W·s)×ceil(H·s).
func Scale(p Plane, s float64, antialias bool) (Plane, error) {
	if !(s > 0) || math.IsInf(s, 0) {
		return Plane{}, fmt.Errorf("imresize: scale %v must be positive and finite", s)
	}
	return resize(p, OutputSize(p.W, s), OutputSize(p.H, s), s, s, antialias)
}

// Size resizes p to w×h, the scale of each direction being out/in.
func Size(p Plane, w, h int, antialias bool) (Plane, error) {
	if w <= 0 || h <= 0 {
		return Plane{}, fmt.Errorf("imresize: output size %dx%d must be positive", w, h)
	}
	return resize(p, w, h, float64(w)/float64(p.W), float64(h)/float64(p.H), antialias)
}

func resize(p Plane, outW, outH int, sx, sy float64, antialias bool) (Plane, error) {
	if p.W <= 0 || p.H <= 0 || len(p.Pix) != p.W*p.H {
		return Plane{}, fmt.Errorf("imresize: bad input plane %dx%d with %d samples", p.W, p.H, len(p.Pix))
	}
	if outW <= 0 || outH <= 0 {
		return Plane{}, fmt.Errorf("imresize: output would be %dx%d", outW, outH)
	}
	cy := Weights(p.H, outH, sy, antialias)
	cx := Weights(p.W, outW, sx, antialias)
	// MATLAB resizes the dimension with the smaller scale first, rows on a tie.
	if sx < sy {
		return resizeV(resizeH(p, cx), cy), nil
	}
	return resizeH(resizeV(p, cy), cx), nil
}

// resizeV resizes along the height.
func resizeV(p Plane, c Contributions) Plane {
	out := NewPlane(p.W, c.Out)
	for i := 0; i < c.Out; i++ {
		dst := out.Pix[i*p.W : (i+1)*p.W]
		for k := 0; k < c.Taps; k++ {
			w := c.Weights[i*c.Taps+k]
			if w == 0 {
				continue
			}
			src := p.Pix[c.Index[i*c.Taps+k]*p.W:][:p.W]
			for x, v := range src {
				dst[x] += w * v
			}
		}
	}
	return out
}

// resizeH resizes along the width.
func resizeH(p Plane, c Contributions) Plane {
	out := NewPlane(c.Out, p.H)
	for y := 0; y < p.H; y++ {
		src := p.Pix[y*p.W : (y+1)*p.W]
		dst := out.Pix[y*c.Out : (y+1)*c.Out]
		for i := range dst {
			idx := c.Index[i*c.Taps : (i+1)*c.Taps]
			w := c.Weights[i*c.Taps : (i+1)*c.Taps]
			s := 0.0
			for k, j := range idx {
				s += w[k] * src[j]
			}
			dst[i] = s
		}
	}
	return out
}

// ScaleFloat32 is Scale computed the way pyiqa's imresize computes it: its
// input is cast to float32 whatever its type, the kernel is evaluated and
// normalised in float32 (without MATLAB's scale factor, which normalising
// cancels only up to rounding), products and sums are float32, rows first.
// NIQE is sensitive to these rounding differences in flat image regions, so
// the pyiqa convention needs them reproduced.
func ScaleFloat32(p Plane, s float64, antialias bool) (Plane, error) {
	if !(s > 0) || math.IsInf(s, 0) {
		return Plane{}, fmt.Errorf("imresize: scale %v must be positive and finite", s)
	}
	outW, outH := OutputSize(p.W, s), OutputSize(p.H, s)
	if p.W <= 0 || p.H <= 0 || len(p.Pix) != p.W*p.H || outW <= 0 || outH <= 0 {
		return Plane{}, fmt.Errorf("imresize: bad input plane %dx%d with %d samples", p.W, p.H, len(p.Pix))
	}
	cy := weights32(p.H, outH, s, antialias)
	cx := weights32(p.W, outW, s, antialias)
	src := make([]float32, len(p.Pix))
	for i, v := range p.Pix {
		src[i] = float32(v)
	}
	// Rows.
	tmp := make([]float32, p.W*outH)
	for i := 0; i < outH; i++ {
		dst := tmp[i*p.W : (i+1)*p.W]
		for x := range dst {
			var acc float32
			for k := 0; k < cy.taps; k++ {
				acc = float32(acc + float32(src[cy.index[i*cy.taps+k]*p.W+x]*cy.weights[i*cy.taps+k]))
			}
			dst[x] = acc
		}
	}
	// Columns.
	out := NewPlane(outW, outH)
	for y := 0; y < outH; y++ {
		row := tmp[y*p.W : (y+1)*p.W]
		for i := 0; i < outW; i++ {
			var acc float32
			for k := 0; k < cx.taps; k++ {
				acc = float32(acc + float32(row[cx.index[i*cx.taps+k]]*cx.weights[i*cx.taps+k]))
			}
			out.Pix[y*outW+i] = float64(acc)
		}
	}
	return out, nil
}

type contributions32 struct {
	taps    int
	index   []int
	weights []float32
}

func cubic32(x float32) float32 {
	const a = float32(-0.5)
	ax := x
	if ax < 0 {
		ax = -ax
	}
	ax2 := float32(ax * ax)
	ax3 := float32(ax * ax2)
	switch {
	case ax <= 1:
		return float32(float32(float32((a+2)*ax3)-float32((a+3)*ax2)) + 1)
	case ax <= 2:
		return float32(float32(float32(float32(a*ax3)-float32(5*a*ax2))+float32(8*a*ax)) - 4*a)
	}
	return 0
}

func weights32(in, out int, scale float64, antialias bool) contributions32 {
	kernel := 4
	factor := float32(1)
	if antialias && scale < 1 {
		factor = float32(scale)
		kernel = int(math.Ceil(float64(kernel) / scale))
	}
	taps := kernel + 2
	c := contributions32{taps: taps, index: make([]int, out*taps), weights: make([]float32, out*taps)}
	s32 := float32(scale)
	for i := 0; i < out; i++ {
		pos := float32(float32(float32(i)+0.5)/s32) - 0.5
		base := float32(math.Floor(float64(pos))) - float32(taps/2) + 1
		dist := float32(pos - base)
		w := c.weights[i*taps : (i+1)*taps]
		var sum float32
		for k := range w {
			w[k] = cubic32(float32(float32(dist-float32(k)) * factor))
			sum = float32(sum + w[k])
		}
		for k := range w {
			w[k] = float32(w[k] / sum)
			c.index[i*taps+k] = mirror(int(base)+k, in)
		}
	}
	return c
}
