// Package degrade builds synthetic low-resolution test sets: the harness's
// four DIV2K-val presets and the Real-ESRGAN second-order pipeline. Every
// random choice is drawn from a stream seeded by (seed, file stem), so a
// seed gives byte-identical outputs whatever the worker count.
package degrade

import (
	"fmt"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// Kernel is a square, odd-sized 2-D filter, row-major.
type Kernel struct {
	Size int
	W    []float64
}

// Sum of the weights.
func (k Kernel) Sum() float64 {
	var s float64
	for _, v := range k.W {
		s += v
	}
	return s
}

// PadTo centres the kernel in a size×size one of zeros (size ≥ k.Size, odd).
func (k Kernel) PadTo(size int) Kernel {
	if size <= k.Size {
		return k
	}
	out := Kernel{Size: size, W: make([]float64, size*size)}
	off := (size - k.Size) / 2
	for y := 0; y < k.Size; y++ {
		copy(out.W[(y+off)*size+off:], k.W[y*k.Size:(y+1)*k.Size])
	}
	return out
}

// reflect maps i into [0, n) as PyTorch's 'reflect' padding does
// (…, 2, 1 | 0, 1, 2, … n−1 | n−2, …): the edge sample is not repeated.
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// Filter2D correlates each channel with k after reflect padding by k.Size/2,
// as basicsr's filter2D does (F.pad mode='reflect', then conv2d). Where the
// padding is wider than the image, which PyTorch refuses, the reflection
// repeats periodically, so small crops still degrade.
func Filter2D(m *img.Image, k Kernel) (*img.Image, error) {
	r := k.Size / 2
	if m.W < 1 || m.H < 1 || k.Size%2 != 1 || len(k.W) != k.Size*k.Size {
		return nil, fmt.Errorf("cannot filter a %dx%d image with a %d×%d kernel", m.W, m.H, k.Size, k.Size)
	}
	out := img.New(m.W, m.H)
	pw, ph := m.W+2*r, m.H+2*r
	padded := make([]float64, pw*ph)
	acc := make([]float64, m.W)
	for c := 0; c < 3; c++ {
		src := m.Planes[c]
		for y := 0; y < ph; y++ {
			row := src[reflect(y-r, m.H)*m.W:][:m.W]
			dst := padded[y*pw : (y+1)*pw]
			for x := range dst {
				dst[x] = float64(row[reflect(x-r, m.W)])
			}
		}
		// Row by row: every inner loop streams through one padded row.
		for y := 0; y < m.H; y++ {
			clear(acc)
			for ky := 0; ky < k.Size; ky++ {
				prow := padded[(y+ky)*pw : (y+ky+1)*pw]
				for kx, w := range k.W[ky*k.Size : (ky+1)*k.Size] {
					if w == 0 {
						continue
					}
					seg := prow[kx : kx+m.W]
					for x, v := range seg {
						acc[x] += w * v
					}
				}
			}
			dst := out.Planes[c][y*m.W : (y+1)*m.W]
			for x, v := range acc {
				dst[x] = float32(v)
			}
		}
	}
	return out, nil
}

// Trim drops all-zero border rings (a padded kernel's zeros), which changes
// no output of Filter2D but saves its work.
func (k Kernel) Trim() Kernel {
	for k.Size > 1 {
		zero := true
		n := k.Size
		for i := 0; i < n && zero; i++ {
			zero = k.W[i] == 0 && k.W[(n-1)*n+i] == 0 && k.W[i*n] == 0 && k.W[i*n+n-1] == 0
		}
		if !zero {
			break
		}
		inner := Kernel{Size: n - 2, W: make([]float64, (n-2)*(n-2))}
		for y := 1; y < n-1; y++ {
			copy(inner.W[(y-1)*(n-2):], k.W[y*n+1:y*n+n-1])
		}
		k = inner
	}
	return k
}
