package metrics

import "github.com/addsr-bench/addsr-bench/internal/img"

// SSIM kernel. The 11×11 Gaussian is separable. For each output row the
// vertical pass filters the 11 input rows below it into five moment rows
// (x, y, x², y², xy) of the full width, which stay in L1 cache; the
// horizontal pass then filters those rows and applies the SSIM formula in the
// same loop, so the filtered maps are never stored. The portable loops below
// are the reference; vec_amd64.c has the same passes four pixels at a time
// with AVX2+FMA, chosen at run time where the CPU has them. Arithmetic is
// float64 throughout: the variances are E[x²]−E[x]² of values up to 255²,
// where float32 would lose about three digits in flat regions.

const ssimTaps = 11

// moments holds five rows: x, y, x², y², xy, each filtered.
type moments [5][]float64

func newMoments(n int) moments {
	var m moments
	for q := range m {
		m[q] = make([]float64, n)
	}
	return m
}

// ssimPlane is the mean SSIM map of two w×h planes on the 0–255 scale with
// the 11×11 Gaussian window (σ = 1.5) over the 'valid' region, by the vector
// kernels when vec is set (and the CPU has them). With clampCS the
// contrast-structure term is clamped at 0 (pyiqa); without it the map is
// BasicSR's.
func ssimPlane(vec bool, x, y []float64, w, h int, clampCS bool) float64 {
	var win [ssimTaps]float64
	copy(win[:], ssimWindow)
	ow, oh := w-ssimTaps+1, h-ssimTaps+1
	if vec && hasVector {
		return ssimSumVector(x, y, w, h, &win, clampCS) / float64(ow*oh)
	}
	m := newMoments(w)
	var total float64
	for j := 0; j < oh; j++ {
		vpassScalar(x, y, w, j, &win, m)
		total += hpassSumScalar(m, &win, clampCS)
	}
	return total / float64(ow*oh)
}

// ssimPlaneConv is ssimPlane of two images' planes converted as kind says
// (convYIQ255: yiqY(·, 255, true); convBT601: bt601Y; convScaled255:
// channel255(·, channel); convU8: channelU8) by the vector kernel,
// which converts each row as it reads it.
func ssimPlaneConv(a, b *img.Image, channel, kind int, clampCS bool) float64 {
	var win [ssimTaps]float64
	copy(win[:], ssimWindow)
	ow, oh := a.W-ssimTaps+1, a.H-ssimTaps+1
	return ssimSumVectorConv(a, b, channel, kind, &win, clampCS) / float64(ow*oh)
}

// vpassScalar accumulates row by row (k outer), so every loop streams
// through contiguous memory.
func vpassScalar(x, y []float64, w, top int, win *[ssimTaps]float64, out moments) {
	n := len(out[0])
	mx, my, mxx, myy, mxy := out[0], out[1][:n], out[2][:n], out[3][:n], out[4][:n]
	for k := 0; k < ssimTaps; k++ {
		wk := win[k]
		xr, yr := x[(top+k)*w:][:n], y[(top+k)*w:][:n]
		if k == 0 {
			for i, a := range xr {
				b := yr[i]
				wa, wb := wk*a, wk*b
				mx[i], my[i], mxx[i], myy[i], mxy[i] = wa, wb, wa*a, wb*b, wa*b
			}
			continue
		}
		for i, a := range xr {
			b := yr[i]
			wa, wb := wk*a, wk*b
			mx[i] += wa
			my[i] += wb
			mxx[i] += wa * a
			myy[i] += wb * b
			mxy[i] += wa * b
		}
	}
}

// hpassSumScalar pairs the symmetric taps: six multiplies per moment.
func hpassSumScalar(m moments, win *[ssimTaps]float64, clampCS bool) float64 {
	n := len(m[0]) - ssimTaps + 1
	w0, w1, w2, w3, w4, w5 := win[0], win[1], win[2], win[3], win[4], win[5]
	filt := func(r []float64) float64 {
		r = r[:ssimTaps]
		return w0*(r[0]+r[10]) + w1*(r[1]+r[9]) + w2*(r[2]+r[8]) + w3*(r[3]+r[7]) + w4*(r[4]+r[6]) + w5*r[5]
	}
	var s float64
	for i := 0; i < n; i++ {
		s += ssimPixel(filt(m[0][i:]), filt(m[1][i:]), filt(m[2][i:]), filt(m[3][i:]), filt(m[4][i:]), clampCS)
	}
	return s
}

// ssimPixel is the SSIM map at one pixel from its five local moments.
func ssimPixel(mu1, mu2, e11, e22, e12 float64, clampCS bool) float64 {
	m11, m22, m12 := mu1*mu1, mu2*mu2, mu1*mu2
	cs := (2*(e12-m12) + ssimC2) / ((e11 - m11) + (e22 - m22) + ssimC2)
	if clampCS && cs < 0 {
		cs = 0
	}
	return (2*m12 + ssimC1) / (m11 + m22 + ssimC1) * cs
}
