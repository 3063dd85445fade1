package imresize

import (
	"fmt"
	"math"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// PyTorch's F.interpolate, which the Real-ESRGAN pipeline and pyiqa's
// learned metrics use, is not MATLAB's imresize: no antialiasing, bicubic
// with a = −0.75, and 'area' as adaptive average pooling. These reproduce
// torch's CPU kernels for align_corners=False.

// TorchMode is an F.interpolate mode.
type TorchMode string

const (
	Area     TorchMode = "area"
	Bilinear TorchMode = "bilinear"
	Bicubic  TorchMode = "bicubic"
)

// TorchModes in Real-ESRGAN's order of choice.
var TorchModes = []TorchMode{Area, Bilinear, Bicubic}

// TorchResize resizes to w×h. scale is the scale_factor passed to
// F.interpolate (0 when a size was passed: then torch maps coordinates with
// in/out instead).
func TorchResize(m *img.Image, w, h int, mode TorchMode, scaleX, scaleY float64) (*img.Image, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("resize to %dx%d", w, h)
	}
	out := img.New(w, h)
	for c := 0; c < 3; c++ {
		var tmp []float32
		switch mode {
		case Area:
			tmp = areaH(m.Planes[c], m.W, m.H, w)
			out.Planes[c] = areaV(tmp, w, m.H, h)
		case Bilinear, Bicubic:
			sx := coordScale(m.W, w, scaleX)
			sy := coordScale(m.H, h, scaleY)
			tmp = interpH(m.Planes[c], m.W, m.H, w, sx, mode)
			out.Planes[c] = interpV(tmp, w, m.H, h, sy, mode)
		default:
			return nil, fmt.Errorf("unknown resize mode %q", mode)
		}
	}
	return out, nil
}

// coordScale is torch's area_pixel_compute_scale for align_corners=False:
// 1/scale_factor when one was given, in/out otherwise.
func coordScale(in, out int, scaleFactor float64) float64 {
	if scaleFactor > 0 {
		return 1 / scaleFactor
	}
	return float64(in) / float64(out)
}

// TorchScaledSize is floor(in·scale), torch's output size for scale_factor.
func TorchScaledSize(in int, scale float64) int {
	return int(math.Floor(float64(in) * scale))
}

func torchCubic(x float64) float64 {
	const a = -0.75
	ax := math.Abs(x)
	switch {
	case ax <= 1:
		return ((a+2)*ax-(a+3))*ax*ax + 1
	case ax < 2:
		return ((a*ax-5*a)*ax+8*a)*ax - 4*a
	}
	return 0
}

type taps struct {
	idx [4]int
	w   [4]float64
	n   int
}

func interpTaps(in, out int, scale float64, mode TorchMode) []taps {
	t := make([]taps, out)
	for i := range t {
		src := (float64(i)+0.5)*scale - 0.5
		if mode == Bilinear {
			if src < 0 {
				src = 0
			}
			i0 := int(src)
			i1 := min(i0+1, in-1)
			l := src - float64(i0)
			t[i] = taps{idx: [4]int{i0, i1}, w: [4]float64{1 - l, l}, n: 2}
			continue
		}
		f := math.Floor(src)
		d := src - f
		i0 := int(f)
		for k := 0; k < 4; k++ {
			t[i].idx[k] = min(max(i0-1+k, 0), in-1)
		}
		t[i].w = [4]float64{torchCubic(d + 1), torchCubic(d), torchCubic(1 - d), torchCubic(2 - d)}
		t[i].n = 4
	}
	return t
}

func interpH(p []float32, w, h, ow int, scale float64, mode TorchMode) []float32 {
	t := interpTaps(w, ow, scale, mode)
	out := make([]float32, ow*h)
	for y := 0; y < h; y++ {
		row := p[y*w : (y+1)*w]
		dst := out[y*ow : (y+1)*ow]
		// The sums are the general loop's, term by term in the same order
		// (so the same bits), with the tap count known to the compiler.
		if mode == Bicubic {
			for x := range dst {
				tp := &t[x]
				var s float64
				s += tp.w[0] * float64(row[tp.idx[0]])
				s += tp.w[1] * float64(row[tp.idx[1]])
				s += tp.w[2] * float64(row[tp.idx[2]])
				s += tp.w[3] * float64(row[tp.idx[3]])
				dst[x] = float32(s)
			}
			continue
		}
		for x := range dst {
			tp := &t[x]
			var s float64
			for k := 0; k < tp.n; k++ {
				s += tp.w[k] * float64(row[tp.idx[k]])
			}
			dst[x] = float32(s)
		}
	}
	return out
}

func interpV(p []float32, w, h, oh int, scale float64, mode TorchMode) []float32 {
	t := interpTaps(h, oh, scale, mode)
	out := make([]float32, w*oh)
	for y := range t {
		tp := &t[y]
		dst := out[y*w : (y+1)*w]
		if mode == Bicubic {
			r0, r1 := p[tp.idx[0]*w:][:w], p[tp.idx[1]*w:][:w]
			r2, r3 := p[tp.idx[2]*w:][:w], p[tp.idx[3]*w:][:w]
			w0, w1, w2, w3 := tp.w[0], tp.w[1], tp.w[2], tp.w[3]
			for x := range dst {
				var s float64
				s += w0 * float64(r0[x])
				s += w1 * float64(r1[x])
				s += w2 * float64(r2[x])
				s += w3 * float64(r3[x])
				dst[x] = float32(s)
			}
			continue
		}
		for x := range dst {
			var s float64
			for k := 0; k < tp.n; k++ {
				s += tp.w[k] * float64(p[tp.idx[k]*w+x])
			}
			dst[x] = float32(s)
		}
	}
	return out
}

// area: output i averages input [floor(i·in/out), ceil((i+1)·in/out)).
func areaRange(i, in, out int) (int, int) {
	start := (i * in) / out
	end := ((i+1)*in + out - 1) / out
	return start, end
}

func areaH(p []float32, w, h, ow int) []float32 {
	out := make([]float32, ow*h)
	for y := 0; y < h; y++ {
		row := p[y*w : (y+1)*w]
		for x := 0; x < ow; x++ {
			a, b := areaRange(x, w, ow)
			var s float64
			for _, v := range row[a:b] {
				s += float64(v)
			}
			out[y*ow+x] = float32(s / float64(b-a))
		}
	}
	return out
}

func areaV(p []float32, w, h, oh int) []float32 {
	out := make([]float32, w*oh)
	for y := 0; y < oh; y++ {
		a, b := areaRange(y, h, oh)
		dst := out[y*w : (y+1)*w]
		for x := range dst {
			var s float64
			for k := a; k < b; k++ {
				s += float64(p[k*w+x])
			}
			dst[x] = float32(s / float64(b-a))
		}
	}
	return out
}
