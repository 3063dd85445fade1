package metrics

import (
	"math"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// The two Y channels of the field, each reproduced with the arithmetic its
// reference uses, because rounding happens on their results.

// yiqY returns pyiqa's Y of YIQ, 0.299R+0.587G+0.114B, computed in float32 on
// [0,1] samples (torchvision ToTensor values) and multiplied by scale in
// float32. With round set, the result is rounded half to even (torch.round),
// as pyiqa does whenever its data range is 255.
func yiqY(m *img.Image, scale float32, round bool) []float64 {
	r, g, b := m.Planes[0], m.Planes[1], m.Planes[2]
	out := make([]float64, len(r))
	yiqYScalar(r, g, b, out, scale, round, yiqYVector(r, g, b, out, scale, round))
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
func bt601Y(m *img.Image) []float64 {
	u := m.U8()
	out := make([]float64, len(u[0]))
	for i := range out {
		out[i] = (65.481*float64(u[0][i])+128.553*float64(u[1][i])+24.966*float64(u[2][i]))/255 + 16
	}
	return out
}

// channel255 returns one channel ×255 in float32, rounded half to even when
// asked (pyiqa's preprocess for colour SSIM).
func channel255(m *img.Image, c int, round bool) []float64 {
	p := m.Planes[c]
	out := make([]float64, len(p))
	for i, v := range p {
		y := float32(v * 255)
		if round {
			out[i] = math.RoundToEven(float64(y))
		} else {
			out[i] = float64(y)
		}
	}
	return out
}

// channelU8 returns one channel's 8-bit samples as float64 (BasicSR's RGB path).
func channelU8(m *img.Image, c int) []float64 {
	u := m.U8()[c]
	out := make([]float64, len(u))
	for i, v := range u {
		out[i] = float64(v)
	}
	return out
}
