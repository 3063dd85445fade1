package degrade

import (
	"math"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/rng"
)

// AddGaussianNoise adds N(0, (sigma/255)²) noise, one draw per pixel shared by
// the three channels when grey, one per channel otherwise, then clips to [0,1].
func AddGaussianNoise(m *img.Image, r *rng.Source, sigma float64, grey bool) *img.Image {
	out := img.New(m.W, m.H)
	s := sigma / 255
	n := m.Pixels()
	if grey {
		for i := 0; i < n; i++ {
			z := s * r.Normal()
			for c := 0; c < 3; c++ {
				out.Planes[c][i] = clip01(float64(m.Planes[c][i]) + z)
			}
		}
		return out
	}
	for c := 0; c < 3; c++ {
		for i := 0; i < n; i++ {
			out.Planes[c][i] = clip01(float64(m.Planes[c][i]) + s*r.Normal())
		}
	}
	return out
}

// AddPoissonNoise follows Real-ESRGAN's generate_poisson_noise_pt: the image
// (or its BT.601 grey version) is rounded to 8 bits, the number of distinct
// values v is raised to the next power of two, the noise is
// Poisson(x·v)/v − x, and image + scale·noise is clipped to [0,1].
func AddPoissonNoise(m *img.Image, r *rng.Source, scale float64, grey bool) *img.Image {
	n := m.Pixels()
	var planes [][]float32
	if grey {
		g := make([]float32, n)
		for i := range g {
			g[i] = float32(0.299*float64(m.Planes[0][i]) + 0.587*float64(m.Planes[1][i]) + 0.114*float64(m.Planes[2][i]))
		}
		planes = [][]float32{g}
	} else {
		planes = [][]float32{m.Planes[0], m.Planes[1], m.Planes[2]}
	}
	// Round to 8 bits and count distinct values over the whole image.
	var seen [256]bool
	rounded := make([][]float64, len(planes))
	for c, p := range planes {
		rounded[c] = make([]float64, n)
		for i, v := range p {
			q := math.RoundToEven(math.Min(math.Max(float64(v)*255, 0), 255))
			seen[int(q)] = true
			rounded[c][i] = q / 255
		}
	}
	distinct := 0
	for _, s := range seen {
		if s {
			distinct++
		}
	}
	vals := math.Pow(2, math.Ceil(math.Log2(float64(distinct))))
	noise := make([][]float64, len(planes))
	for c := range rounded {
		noise[c] = make([]float64, n)
		for i, x := range rounded[c] {
			noise[c][i] = r.Poisson(x*vals)/vals - x
		}
	}
	out := img.New(m.W, m.H)
	for c := 0; c < 3; c++ {
		nc := noise[0]
		if !grey {
			nc = noise[c]
		}
		for i := 0; i < n; i++ {
			out.Planes[c][i] = clip01(float64(m.Planes[c][i]) + scale*nc[i])
		}
	}
	return out
}

func clip01(v float64) float32 {
	return float32(math.Min(math.Max(v, 0), 1))
}
