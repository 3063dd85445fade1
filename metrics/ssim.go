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
	// The vector kernel converts each row as it reads it; the portable
	// loops convert the planes first.
	vec := m.cfg.vector()
	plane := func(c int) float64 {
		if vec {
			return ssimPlaneConv(d, r, c, m.conv.kernelConversion(), clamp)
		}
		a, b := m.conv.plane(d, c), m.conv.plane(r, c)
		defer putPlane(a, b)
		return ssimPlane(false, a, b, d.W, d.H, clamp)
	}
	if m.conv == ssimPyiqaY || m.conv == ssimBasicsrY {
		return plane(0), nil
	}
	return (plane(0) + plane(1) + plane(2)) / 3, nil
}

// plane is channel c of m as the convention compares it (the Y
// conventions have one channel), by the portable code.
func (c ssimConvention) plane(m *img.Image, ch int) []float64 {
	switch c {
	case ssimPyiqaY:
		return yiqY(m, 255, true, false)
	case ssimBasicsrY:
		return bt601Y(m, false)
	case ssimPyiqaRGB:
		return channel255(m, ch)
	}
	return channelU8(m, ch)
}

// kernelConversion is the vector kernel's conversion for the convention.
func (c ssimConvention) kernelConversion() int {
	return [...]int{convYIQ255, convScaled255, convBT601, convU8}[c]
}
