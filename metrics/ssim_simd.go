//go:build goexperiment.simd && amd64

package metrics

import "simd/archsimd"

// Vector SSIM kernels: four float64 pixels per AVX2 register with fused
// multiply-adds. They add the same terms in the same order as the portable
// kernels; only FMA's single rounding differs (≈1e-16 relative).

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		kernels = vectorKernels
	}
}

var vectorKernels = ssimKernels{vpassVec, hpassSumVec}

// vpassVec pairs the symmetric taps (rows k and 10−k share a weight) and
// keeps the six weights in registers.
func vpassVec(x, y []float64, w, top int, win *[ssimTaps]float64, out moments) {
	w0, w1, w2 := archsimd.BroadcastFloat64x4(win[0]), archsimd.BroadcastFloat64x4(win[1]), archsimd.BroadcastFloat64x4(win[2])
	w3, w4, w5 := archsimd.BroadcastFloat64x4(win[3]), archsimd.BroadcastFloat64x4(win[4]), archsimd.BroadcastFloat64x4(win[5])
	var xr, yr [ssimTaps][]float64
	for k := range xr {
		xr[k] = x[(top+k)*w : (top+k+1)*w]
		yr[k] = y[(top+k)*w : (top+k+1)*w]
	}
	o0, o1, o2, o3, o4 := out[0][:w], out[1][:w], out[2][:w], out[3][:w], out[4][:w]
	var a, ap, b, bp archsimd.Float64x4
	i := 0
	for ; i+4 <= w; i += 4 {
		a5, b5 := ld(xr[5][i:i+4]), ld(yr[5][i:i+4])
		sx, sy := a5.Mul(w5), b5.Mul(w5)
		sxx, syy, sxy := a5.Mul(a5).Mul(w5), b5.Mul(b5).Mul(w5), a5.Mul(b5).Mul(w5)
		a, ap, b, bp = ld(xr[0][i:i+4]), ld(xr[10][i:i+4]), ld(yr[0][i:i+4]), ld(yr[10][i:i+4])
		sx = a.Add(ap).MulAdd(w0, sx)
		sy = b.Add(bp).MulAdd(w0, sy)
		sxx = ap.MulAdd(ap, a.Mul(a)).MulAdd(w0, sxx)
		syy = bp.MulAdd(bp, b.Mul(b)).MulAdd(w0, syy)
		sxy = ap.MulAdd(bp, a.Mul(b)).MulAdd(w0, sxy)
		a, ap, b, bp = ld(xr[1][i:i+4]), ld(xr[9][i:i+4]), ld(yr[1][i:i+4]), ld(yr[9][i:i+4])
		sx = a.Add(ap).MulAdd(w1, sx)
		sy = b.Add(bp).MulAdd(w1, sy)
		sxx = ap.MulAdd(ap, a.Mul(a)).MulAdd(w1, sxx)
		syy = bp.MulAdd(bp, b.Mul(b)).MulAdd(w1, syy)
		sxy = ap.MulAdd(bp, a.Mul(b)).MulAdd(w1, sxy)
		a, ap, b, bp = ld(xr[2][i:i+4]), ld(xr[8][i:i+4]), ld(yr[2][i:i+4]), ld(yr[8][i:i+4])
		sx = a.Add(ap).MulAdd(w2, sx)
		sy = b.Add(bp).MulAdd(w2, sy)
		sxx = ap.MulAdd(ap, a.Mul(a)).MulAdd(w2, sxx)
		syy = bp.MulAdd(bp, b.Mul(b)).MulAdd(w2, syy)
		sxy = ap.MulAdd(bp, a.Mul(b)).MulAdd(w2, sxy)
		a, ap, b, bp = ld(xr[3][i:i+4]), ld(xr[7][i:i+4]), ld(yr[3][i:i+4]), ld(yr[7][i:i+4])
		sx = a.Add(ap).MulAdd(w3, sx)
		sy = b.Add(bp).MulAdd(w3, sy)
		sxx = ap.MulAdd(ap, a.Mul(a)).MulAdd(w3, sxx)
		syy = bp.MulAdd(bp, b.Mul(b)).MulAdd(w3, syy)
		sxy = ap.MulAdd(bp, a.Mul(b)).MulAdd(w3, sxy)
		a, ap, b, bp = ld(xr[4][i:i+4]), ld(xr[6][i:i+4]), ld(yr[4][i:i+4]), ld(yr[6][i:i+4])
		sx = a.Add(ap).MulAdd(w4, sx)
		sy = b.Add(bp).MulAdd(w4, sy)
		sxx = ap.MulAdd(ap, a.Mul(a)).MulAdd(w4, sxx)
		syy = bp.MulAdd(bp, b.Mul(b)).MulAdd(w4, syy)
		sxy = ap.MulAdd(bp, a.Mul(b)).MulAdd(w4, sxy)
		sx.StoreSlice(o0[i:])
		sy.StoreSlice(o1[i:])
		sxx.StoreSlice(o2[i:])
		syy.StoreSlice(o3[i:])
		sxy.StoreSlice(o4[i:])
	}
	if i < w {
		var tail moments
		for q := range tail {
			tail[q] = out[q][i:]
		}
		vpassScalar(x[i:], y[i:], w, top, win, tail)
	}
}

// ld loads four float64s; the slice must hold exactly four.
func ld(s []float64) archsimd.Float64x4 { return archsimd.LoadFloat64x4((*[4]float64)(s)) }

// hpassSumVec uses the window's symmetry (w[k] = w[10−k]): six multiplies
// per moment instead of eleven. The taps are unrolled so that the loads have
// constant offsets into a 14-element window and need no bounds checks.
func hpassSumVec(m moments, win *[ssimTaps]float64, clampCS bool) float64 {
	n := len(m[0]) - ssimTaps + 1
	w0, w1, w2 := archsimd.BroadcastFloat64x4(win[0]), archsimd.BroadcastFloat64x4(win[1]), archsimd.BroadcastFloat64x4(win[2])
	w3, w4, w5 := archsimd.BroadcastFloat64x4(win[3]), archsimd.BroadcastFloat64x4(win[4]), archsimd.BroadcastFloat64x4(win[5])
	c1 := archsimd.BroadcastFloat64x4(ssimC1)
	c2 := archsimd.BroadcastFloat64x4(ssimC2)
	two := archsimd.BroadcastFloat64x4(2)
	zero := archsimd.BroadcastFloat64x4(0)
	var acc archsimd.Float64x4
	i := 0
	for ; i+4 <= n; i += 4 {
		r0 := m[0][i : i+14 : i+14]
		r1 := m[1][i : i+14 : i+14]
		r2 := m[2][i : i+14 : i+14]
		r3 := m[3][i : i+14 : i+14]
		r4 := m[4][i : i+14 : i+14]
		f0 := ld(r0[0:4]).Add(ld(r0[10:14])).Mul(w0)
		f0 = ld(r0[1:5]).Add(ld(r0[9:13])).MulAdd(w1, f0)
		f0 = ld(r0[2:6]).Add(ld(r0[8:12])).MulAdd(w2, f0)
		f0 = ld(r0[3:7]).Add(ld(r0[7:11])).MulAdd(w3, f0)
		f0 = ld(r0[4:8]).Add(ld(r0[6:10])).MulAdd(w4, f0)
		f0 = ld(r0[5:9]).MulAdd(w5, f0)
		f1 := ld(r1[0:4]).Add(ld(r1[10:14])).Mul(w0)
		f1 = ld(r1[1:5]).Add(ld(r1[9:13])).MulAdd(w1, f1)
		f1 = ld(r1[2:6]).Add(ld(r1[8:12])).MulAdd(w2, f1)
		f1 = ld(r1[3:7]).Add(ld(r1[7:11])).MulAdd(w3, f1)
		f1 = ld(r1[4:8]).Add(ld(r1[6:10])).MulAdd(w4, f1)
		f1 = ld(r1[5:9]).MulAdd(w5, f1)
		f2 := ld(r2[0:4]).Add(ld(r2[10:14])).Mul(w0)
		f2 = ld(r2[1:5]).Add(ld(r2[9:13])).MulAdd(w1, f2)
		f2 = ld(r2[2:6]).Add(ld(r2[8:12])).MulAdd(w2, f2)
		f2 = ld(r2[3:7]).Add(ld(r2[7:11])).MulAdd(w3, f2)
		f2 = ld(r2[4:8]).Add(ld(r2[6:10])).MulAdd(w4, f2)
		f2 = ld(r2[5:9]).MulAdd(w5, f2)
		f3 := ld(r3[0:4]).Add(ld(r3[10:14])).Mul(w0)
		f3 = ld(r3[1:5]).Add(ld(r3[9:13])).MulAdd(w1, f3)
		f3 = ld(r3[2:6]).Add(ld(r3[8:12])).MulAdd(w2, f3)
		f3 = ld(r3[3:7]).Add(ld(r3[7:11])).MulAdd(w3, f3)
		f3 = ld(r3[4:8]).Add(ld(r3[6:10])).MulAdd(w4, f3)
		f3 = ld(r3[5:9]).MulAdd(w5, f3)
		f4 := ld(r4[0:4]).Add(ld(r4[10:14])).Mul(w0)
		f4 = ld(r4[1:5]).Add(ld(r4[9:13])).MulAdd(w1, f4)
		f4 = ld(r4[2:6]).Add(ld(r4[8:12])).MulAdd(w2, f4)
		f4 = ld(r4[3:7]).Add(ld(r4[7:11])).MulAdd(w3, f4)
		f4 = ld(r4[4:8]).Add(ld(r4[6:10])).MulAdd(w4, f4)
		f4 = ld(r4[5:9]).MulAdd(w5, f4)

		m11, m22, m12 := f0.Mul(f0), f1.Mul(f1), f0.Mul(f1)
		num := f4.Sub(m12).MulAdd(two, c2)
		den := f2.Sub(m11).Add(f3.Sub(m22)).Add(c2)
		cs := num.Div(den)
		if clampCS {
			cs = cs.Max(zero)
		}
		l := m12.MulAdd(two, c1).Div(m11.Add(m22).Add(c1))
		acc = l.MulAdd(cs, acc)
	}
	var lanes [4]float64
	acc.Store(&lanes)
	s := (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
	if i < n {
		var tail moments
		for q := range tail {
			tail[q] = m[q][i:]
		}
		s += hpassSumScalar(tail, win, clampCS)
	}
	return s
}

// clearUpper executes VZEROUPPER. In GOEXPERIMENT=simd builds the runtime's
// own AVX code can leave the upper halves of the vector registers dirty, and
// on AMD EPYC every scalar SSE instruction after that runs several times
// slower (docs/performance.md, "Figures behind design choices"). Metrics call it before their scalar loops.
func clearUpper() { archsimd.ClearAVXUpperBits() }

// yiqYVector converts eight pixels at a time with the same float32 operations
// as yiqY (separate multiplies and adds, no fused multiply-add, so the
// rounding is the scalar code's), and returns how many it converted.
func yiqYVector(r, g, b []float32, out []float64, scale float32, round bool) int {
	if !archsimd.X86.AVX2() {
		return 0
	}
	cr, cg, cb := archsimd.BroadcastFloat32x8(0.299), archsimd.BroadcastFloat32x8(0.587), archsimd.BroadcastFloat32x8(0.114)
	sc := archsimd.BroadcastFloat32x8(scale)
	n := len(out) / 8 * 8
	for i := 0; i < n; i += 8 {
		y := archsimd.LoadFloat32x8Slice(r[i:]).Mul(cr).Add(archsimd.LoadFloat32x8Slice(g[i:]).Mul(cg))
		y = y.Add(archsimd.LoadFloat32x8Slice(b[i:]).Mul(cb)).Mul(sc)
		if round {
			y = y.RoundToEven()
		}
		y.GetLo().ConvertToFloat64().StoreSlice(out[i:])
		y.GetHi().ConvertToFloat64().StoreSlice(out[i+4:])
	}
	clearUpper()
	return n
}
