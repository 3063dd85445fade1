package metrics

import (
	"fmt"
	"math"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

func init() {
	register("ssim", "SSIM, pyiqa: Y of YIQ ×255 rounded, 11×11 Gaussian σ=1.5 'valid', cs clamped at 0", func(c Config) (Metric, error) {
		return &ssim{cfg: c, name: "ssim", conv: ssimPyiqaY}, nil
	})
	register("ssimc", "SSIM, pyiqa: each of R, G, B ×255 rounded, mean over channels", func(c Config) (Metric, error) {
		return &ssim{cfg: c, name: "ssimc", conv: ssimPyiqaRGB}, nil
	})
	register("ssim-basicsr", "SSIM, BasicSR: Y of BT.601 (16–235) on 8-bit input, OpenCV Gaussian, 5-px border dropped, no clamp", func(c Config) (Metric, error) {
		return &ssim{cfg: c, name: "ssim-basicsr", conv: ssimBasicsrY}, nil
	})
	register("ssim-basicsr-rgb", "SSIM, BasicSR: 8-bit R, G, B, averaged", func(c Config) (Metric, error) {
		return &ssim{cfg: c, name: "ssim-basicsr-rgb", conv: ssimBasicsrRGB}, nil
	})
}

type ssimConvention int

const (
	ssimPyiqaY ssimConvention = iota
	ssimPyiqaRGB
	ssimBasicsrY
	ssimBasicsrRGB
)

func (c ssimConvention) String() string {
	return [...]string{"pyiqa-yiq-round", "pyiqa-rgb-round", "basicsr-y", "basicsr-rgb"}[c]
}

type ssim struct {
	cfg  Config
	name string
	conv ssimConvention
}

func (m *ssim) Name() string         { return m.name }
func (m *ssim) Direction() Direction { return HigherIsBetter }
func (m *ssim) NeedsReference() bool { return true }
func (m *ssim) Fingerprint() string {
	return fingerprint(m.name, m.conv.String(), m.cfg, "win=gauss11,sigma=1.5", "v1")
}

// ssimWindow is the normalised 1-D Gaussian (11 taps, σ = 1.5); its outer
// product is both MATLAB's fspecial('gaussian', 11, 1.5) (pyiqa) and
// cv2.getGaussianKernel(11, 1.5)·ᵀ (BasicSR).
var ssimWindow = gaussian1D(11, 1.5)

func gaussian1D(n int, sigma float64) []float64 {
	w := make([]float64, n)
	var s float64
	for i := range w {
		x := float64(i) - float64(n-1)/2
		w[i] = math.Exp(-x * x / (2 * sigma * sigma))
		s += w[i]
	}
	for i := range w {
		w[i] /= s
	}
	return w
}

const (
	ssimC1 = (0.01 * 255) * (0.01 * 255)
	ssimC2 = (0.03 * 255) * (0.03 * 255)
)

func (m *ssim) Score(dist, ref *img.Image) (float64, error) {
	d, r, err := prepare(m.name, m.cfg, dist, ref, true)
	if err != nil {
		return 0, err
	}
	if d.W < len(ssimWindow) || d.H < len(ssimWindow) {
		return 0, fmt.Errorf("%s needs images of at least %d×%d pixels after the crop border, got %dx%d",
			m.name, len(ssimWindow), len(ssimWindow), d.W, d.H)
	}
	clamp := m.conv == ssimPyiqaY || m.conv == ssimPyiqaRGB
	switch m.conv {
	case ssimPyiqaY:
		return SSIMPlane(yiqY(d, 255, true), yiqY(r, 255, true), d.W, d.H, clamp), nil
	case ssimBasicsrY:
		return SSIMPlane(bt601Y(d), bt601Y(r), d.W, d.H, clamp), nil
	}
	var s float64
	for c := 0; c < 3; c++ {
		var a, b []float64
		if m.conv == ssimPyiqaRGB {
			a, b = channel255(d, c, true), channel255(r, c, true)
		} else {
			a, b = channelU8(d, c), channelU8(r, c)
		}
		s += SSIMPlane(a, b, d.W, d.H, clamp)
	}
	return s / 3, nil
}

// SSIMPlane is the mean SSIM map of two w×h planes on the 0–255 scale with
// the 11×11 Gaussian window over the 'valid' region. With clampCS the
// contrast-structure term is clamped at 0 (pyiqa); without it the map is
// BasicSR's.
//
// The 2-D filter is separable: each of the five moments is filtered along
// rows into an 11-row ring, then down columns, so memory stays O(11·w) and
// nothing is allocated per pixel. Arithmetic is float64 throughout: the
// variances are E[x²]−E[x]² of values up to 255², where float32 would lose
// about three digits in flat regions.
func SSIMPlane(x, y []float64, w, h int, clampCS bool) float64 {
	const n = 11
	win := ssimWindow
	ow, oh := w-n+1, h-n+1
	// ring[q][row%n] holds the horizontally filtered row for moment q.
	var ring [5][n][]float64
	for q := range ring {
		for k := range ring[q] {
			ring[q][k] = make([]float64, ow)
		}
	}
	hfilter := func(row int) {
		xr, yr := x[row*w:(row+1)*w], y[row*w:(row+1)*w]
		slot := row % n
		mx, my, mxx, myy, mxy := ring[0][slot], ring[1][slot], ring[2][slot], ring[3][slot], ring[4][slot]
		for i := 0; i < ow; i++ {
			xs, ys := xr[i:i+n:i+n], yr[i:i+n:i+n]
			var sx, sy, sxx, syy, sxy float64
			for k := 0; k < n; k++ {
				wk := win[k]
				a, b := xs[k], ys[k]
				sx += wk * a
				sy += wk * b
				sxx += wk * a * a
				syy += wk * b * b
				sxy += wk * a * b
			}
			mx[i], my[i], mxx[i], myy[i], mxy[i] = sx, sy, sxx, syy, sxy
		}
	}
	for row := 0; row < n-1; row++ {
		hfilter(row)
	}
	var total float64
	for j := 0; j < oh; j++ {
		hfilter(j + n - 1)
		var rowSum float64
		for i := 0; i < ow; i++ {
			var mu1, mu2, e11, e22, e12 float64
			for k := 0; k < n; k++ {
				slot := (j + k) % n
				wk := win[k]
				mu1 += wk * ring[0][slot][i]
				mu2 += wk * ring[1][slot][i]
				e11 += wk * ring[2][slot][i]
				e22 += wk * ring[3][slot][i]
				e12 += wk * ring[4][slot][i]
			}
			m11, m22, m12 := mu1*mu1, mu2*mu2, mu1*mu2
			cs := (2*(e12-m12) + ssimC2) / ((e11 - m11) + (e22 - m22) + ssimC2)
			if clampCS && cs < 0 {
				cs = 0
			}
			rowSum += (2*m12 + ssimC1) / (m11 + m22 + ssimC1) * cs
		}
		total += rowSum
	}
	return total / float64(ow*oh)
}
