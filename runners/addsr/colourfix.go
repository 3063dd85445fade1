package addsr

import "math"

// The colour fixes of SeeSR's utils/wavelet_color_fix.py, applied as the
// official script applies them: to the 8-bit output and the 8-bit upscaled
// LR, in float32 (torchvision's ToTensor), clamped and truncated back to 8
// bits (ToPILImage multiplies by 255 and casts: no rounding).

func toFloat(p []uint8) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(v) / 255
	}
	return out
}

func toU8Trunc(p []float32) []uint8 {
	out := make([]uint8, len(p))
	for i, v := range p {
		v = min(max(v, 0), 1)
		out[i] = uint8(v * 255)
	}
	return out
}

// meanStd is calc_mean_std: the mean and √(unbiased variance + 1e-5).
func meanStd(p []float32) (mean, std float32) {
	var s float64
	for _, v := range p {
		s += float64(v)
	}
	m := s / float64(len(p))
	var ss float64
	for _, v := range p {
		d := float64(v) - m
		ss += d * d
	}
	v := float32(ss/float64(len(p)-1)) + 1e-5
	return float32(m), float32(math.Sqrt(float64(v)))
}

// adain gives target the per-channel mean and standard deviation of source.
func adain(target, source [3][]uint8) [3][]uint8 {
	var out [3][]uint8
	for c := range 3 {
		t := toFloat(target[c])
		sm, ss := meanStd(toFloat(source[c]))
		cm, cs := meanStd(t)
		for i, v := range t {
			t[i] = (v-cm)/cs*ss + sm
		}
		out[c] = toU8Trunc(t)
	}
	return out
}

// wavelet keeps target's high frequencies (five levels of a dilated 3×3
// binomial blur) over source's low ones.
func wavelet(target, source [3][]uint8, w, h int) [3][]uint8 {
	var out [3][]uint8
	for c := range 3 {
		high, _ := waveletDecompose(toFloat(target[c]), w, h)
		_, low := waveletDecompose(toFloat(source[c]), w, h)
		for i := range high {
			high[i] += low[i]
		}
		out[c] = toU8Trunc(high)
	}
	return out
}

func waveletDecompose(x []float32, w, h int) (high, low []float32) {
	high = make([]float32, len(x))
	for i := range 5 {
		low = waveletBlur(x, w, h, 1<<i)
		for j := range x {
			high[j] += x[j] - low[j]
		}
		x = low
	}
	return high, low
}

// waveletBlur is F.conv2d with [[1,2,1],[2,4,2],[1,2,1]]/16 at dilation r
// over the image padded by r with its edge values.
func waveletBlur(x []float32, w, h, r int) []float32 {
	k := [3][3]float32{{0.0625, 0.125, 0.0625}, {0.125, 0.25, 0.125}, {0.0625, 0.125, 0.0625}}
	at := func(y, xx int) float32 {
		return x[min(max(y, 0), h-1)*w+min(max(xx, 0), w-1)]
	}
	out := make([]float32, len(x))
	for y := range h {
		for xx := range w {
			var s float32
			for i := range 3 {
				for j := range 3 {
					s += k[i][j] * at(y+(i-1)*r, xx+(j-1)*r)
				}
			}
			out[y*w+xx] = s
		}
	}
	return out
}
