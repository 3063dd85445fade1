package degrade

import (
	"math"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// gaussian1D is the normalised 1-D Gaussian of n taps (n odd).
func gaussian1D(n int, sigma float64) []float64 {
	w := make([]float64, n)
	var s float64
	for i := range w {
		x := float64(i - n/2)
		w[i] = math.Exp(-x * x / (2 * sigma * sigma))
		s += w[i]
	}
	for i := range w {
		w[i] /= s
	}
	return w
}

// filterSeparable correlates each channel with v⊗v after reflect padding:
// the same result as Filter2D with the outer product, in O(n) per pixel.
func filterSeparable(m *img.Image, v []float64) *img.Image {
	r := len(v) / 2
	out := img.New(m.W, m.H)
	tmp := make([]float64, m.W*m.H)
	prow := make([]float64, m.W+2*r)
	acc := make([]float64, m.W)
	for c := 0; c < 3; c++ {
		src := m.Planes[c]
		for y := 0; y < m.H; y++ {
			row := src[y*m.W : (y+1)*m.W]
			for x := range prow {
				prow[x] = float64(row[reflect(x-r, m.W)])
			}
			dst := tmp[y*m.W : (y+1)*m.W]
			clear(dst)
			for k, w := range v {
				seg := prow[k : k+m.W]
				for x, p := range seg {
					dst[x] += w * p
				}
			}
		}
		for y := 0; y < m.H; y++ {
			clear(acc)
			for k, w := range v {
				seg := tmp[reflect(y+k-r, m.H)*m.W:][:m.W]
				for x, p := range seg {
					acc[x] += w * p
				}
			}
			dst := out.Planes[c][y*m.W : (y+1)*m.W]
			for x, a := range acc {
				dst[x] = float32(a)
			}
		}
	}
	return out
}

// GaussianBlur is the isotropic Gaussian of the given size and σ.
func GaussianBlur(m *img.Image, size int, sigma float64) *img.Image {
	return filterSeparable(m, gaussian1D(size, sigma))
}

// USMSharp is basicsr's USMSharp (radius 50, so a 51-tap Gaussian with
// OpenCV's default σ = 0.3·(25−1)+0.8 = 8; weight 0.5, threshold 10): the
// image plus half its high-pass residual, blended in by a softened mask of
// where the residual exceeds 10/255.
func USMSharp(m *img.Image) *img.Image {
	const size, weight, threshold = 51, 0.5, 10.0
	v := gaussian1D(size, 0.3*(float64(size-1)*0.5-1)+0.8)
	blur := filterSeparable(m, v)
	mask := img.New(m.W, m.H)
	for c := 0; c < 3; c++ {
		for i, x := range m.Planes[c] {
			if math.Abs(float64(x-blur.Planes[c][i]))*255 > threshold {
				mask.Planes[c][i] = 1
			}
		}
	}
	soft := filterSeparable(mask, v)
	out := img.New(m.W, m.H)
	for c := 0; c < 3; c++ {
		for i, x := range m.Planes[c] {
			res := float64(x) - float64(blur.Planes[c][i])
			sharp := math.Min(math.Max(float64(x)+weight*res, 0), 1)
			s := float64(soft.Planes[c][i])
			out.Planes[c][i] = float32(s*sharp + (1-s)*float64(x))
		}
	}
	return out
}
