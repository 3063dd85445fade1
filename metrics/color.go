package metrics

import (
	"math"
	"sync"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// The two Y channels of the field, each reproduced with the arithmetic its
// reference uses, because rounding happens on their results.

// yiqY returns pyiqa's Y of YIQ, 0.299R+0.587G+0.114B, computed in float32 on
// [0,1] samples (torchvision ToTensor values) and multiplied by scale in
// float32. With round set, the result is rounded half to even (torch.round),
// as pyiqa does whenever its data range is 255.
func yiqY(m *img.Image, scale float32, round, vec bool) []float64 {
	r, g, b := m.Planes[0], m.Planes[1], m.Planes[2]
	out := getPlane(len(r))
	start := 0
	if vec {
		start = yiqYVector(r, g, b, out, scale, round)
	}
	yiqYScalar(r, g, b, out, scale, round, start)
	return out
}

// yiqYScalar computes Y from index start on.
func yiqYScalar(r, g, b []float32, out []float64, scale float32, round bool, start int) {
	for i := start; i < len(out); i++ {
		// Explicit float32 conversions keep the compiler from fusing
		// multiply-adds, so the result rounds exactly as torch's float32 does.
		y := float32(float32(r[i]*0.299) + float32(g[i]*0.587))
		y = float32(y + float32(b[i]*0.114))
		y = float32(y * scale)
		if round {
			out[i] = math.RoundToEven(float64(y))
		} else {
			out[i] = float64(y)
		}
	}
}

// bt601Y returns BasicSR's Y of BT.601 on 8-bit samples:
// (65.481R + 128.553G + 24.966B)/255 + 16, in [16, 235], float64, not rounded.
func bt601Y(m *img.Image, vec bool) []float64 {
	r, g, b := m.Planes[0], m.Planes[1], m.Planes[2]
	out := getPlane(len(r))
	start := 0
	if vec {
		start = bt601YVector(r, g, b, out)
	}
	for i := start; i < len(out); i++ {
		out[i] = bt601Pixel(img.Quantize(r[i]), img.Quantize(g[i]), img.Quantize(b[i]))
	}
	return out
}

func bt601Pixel(r, g, b uint8) float64 {
	return (65.481*float64(r)+128.553*float64(g)+24.966*float64(b))/255 + 16
}

// channel255 returns one channel ×255 in float32, rounded half to even
// (pyiqa's preprocess for colour SSIM). The vector SSIM kernel converts rows
// itself (vec_amd64.c's source_row).
func channel255(m *img.Image, c int) []float64 {
	p := m.Planes[c]
	out := getPlane(len(p))
	for i, v := range p {
		out[i] = math.RoundToEven(float64(float32(v * 255)))
	}
	return out
}

// channelU8 returns one channel's 8-bit samples as float64 (BasicSR's RGB path).
func channelU8(m *img.Image, c int) []float64 {
	p := m.Planes[c]
	out := getPlane(len(p))
	for i := range p {
		out[i] = float64(img.Quantize(p[i]))
	}
	return out
}

// planePool recycles the float64 planes the conversions above write: a fresh
// slice of 2 MB (a 512² plane) is zeroed by the runtime first, which took a
// fifth of ssim's time, and every conversion overwrites all of it anyway.
// Callers hand planes back with putPlane once nothing refers to them.
var planePool sync.Pool

func getPlane(n int) []float64 {
	if p, ok := planePool.Get().(*[]float64); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float64, n)
}

func putPlane(planes ...[]float64) {
	for _, p := range planes {
		planePool.Put(&p)
	}
}
