package metrics

import (
	"math"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

func init() {
	register("psnr", "PSNR, pyiqa: RGB on [0,1], 10·log10(1/(MSE+1e-8))", func(c Config) (Metric, error) {
		return &psnr{cfg: c, name: "psnr", conv: "pyiqa-rgb"}, nil
	})
	register("psnry", "PSNR, pyiqa: Y of YIQ on [0,1], not rounded", func(c Config) (Metric, error) {
		return &psnr{cfg: c, name: "psnry", conv: "pyiqa-yiq"}, nil
	})
	register("psnr-basicsr", "PSNR, BasicSR: Y of BT.601 (16–235) on 8-bit input, 20·log10(255/√MSE)", func(c Config) (Metric, error) {
		return &psnr{cfg: c, name: "psnr-basicsr", conv: "basicsr-y"}, nil
	})
	register("psnr-basicsr-rgb", "PSNR, BasicSR: 8-bit RGB, 20·log10(255/√MSE)", func(c Config) (Metric, error) {
		return &psnr{cfg: c, name: "psnr-basicsr-rgb", conv: "basicsr-rgb"}, nil
	})
}

type psnr struct {
	cfg  Config
	name string
	conv string
}

func (m *psnr) Name() string         { return m.name }
func (m *psnr) Direction() Direction { return HigherIsBetter }
func (m *psnr) NeedsReference() bool { return true }
func (m *psnr) Fingerprint() string  { return fingerprint(m.name, m.conv, m.cfg, "v1") }

func (m *psnr) Score(dist, ref *img.Image) (float64, error) {
	d, r, err := prepare(m.name, m.cfg, dist, ref, true)
	if err != nil {
		return 0, err
	}
	switch m.conv {
	case "pyiqa-rgb":
		var s float64
		for c := 0; c < 3; c++ {
			s += sqDiffSum32(d.Planes[c], r.Planes[c])
		}
		mse := s / float64(3*d.Pixels())
		return 10 * math.Log10(1/(mse+1e-8)), nil
	case "pyiqa-yiq":
		vec := m.cfg.vector()
		a, b := yiqY(d, 1, false, vec), yiqY(r, 1, false, vec)
		defer putPlane(a, b)
		mse := sqDiffSum64(a, b) / float64(d.Pixels())
		return 10 * math.Log10(1/(mse+1e-8)), nil
	case "basicsr-y":
		return basicsrPSNR(bt601SqDiffSum(d, r, m.cfg.vector()) / float64(d.Pixels())), nil
	default: // basicsr-rgb
		var s float64
		for c := 0; c < 3; c++ {
			s += u8SqDiffSum(d.Planes[c], r.Planes[c], m.cfg.vector())
		}
		return basicsrPSNR(s / float64(3*d.Pixels())), nil
	}
}

// basicsrPSNR is BasicSR's 20·log10(255/√MSE); identical images give +Inf.
func basicsrPSNR(mse float64) float64 {
	if mse == 0 {
		return math.Inf(1)
	}
	return 20 * math.Log10(255/math.Sqrt(mse))
}

// sqDiffSum32 sums squared differences of float32 samples in float64.
func sqDiffSum32(a, b []float32) float64 {
	var s float64
	for i, v := range a {
		e := float64(v) - float64(b[i])
		s += e * e
	}
	return s
}

func sqDiffSum64(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		e := v - b[i]
		s += e * e
	}
	return s
}

// u8SqDiffSum sums the squared differences of the samples' 8-bit values.
// Each term is an integer below 2¹⁶, so the sum is exact in either order.
func u8SqDiffSum(a, b []float32, vec bool) float64 {
	var s float64
	start := 0
	if vec {
		s, start = u8SqDiffVector(a, b)
	}
	for i := start; i < len(a); i++ {
		e := float64(img.Quantize(a[i])) - float64(img.Quantize(b[i]))
		s += e * e
	}
	return s
}

// bt601SqDiffSum is sqDiffSum64(bt601Y(a), bt601Y(b)) in one pass, without
// the 8-bit planes and Y arrays; the arithmetic per pixel is bt601Y's. The
// vector kernel adds the squares in other order (about 1e-16 relative).
func bt601SqDiffSum(a, b *img.Image, vec bool) float64 {
	var s float64
	start := 0
	if vec {
		s, start = bt601SqDiffVector([3][]float32(a.Planes), [3][]float32(b.Planes))
	}
	ap, bp := a.Planes, b.Planes
	for i := start; i < len(ap[0]); i++ {
		e := bt601Pixel(img.Quantize(ap[0][i]), img.Quantize(ap[1][i]), img.Quantize(ap[2][i])) -
			bt601Pixel(img.Quantize(bp[0][i]), img.Quantize(bp[1][i]), img.Quantize(bp[2][i]))
		s += e * e
	}
	return s
}
