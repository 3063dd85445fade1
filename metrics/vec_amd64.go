//go:build cgo

package metrics

// #cgo CFLAGS: -O2
// void addsr_yiq_y(const float *r, const float *g, const float *b, double *out, long n8, float scale, int round);
// void addsr_bt601_y(const float *r, const float *g, const float *b, double *out, long n8);
// double addsr_bt601_sqdiff(const float *ar, const float *ag, const float *ab, const float *br, const float *bg, const float *bb, long n8);
// double addsr_u8_sqdiff(const float *a, const float *b, long n8);
// double addsr_ssim_sum_conv(const float *xr, const float *xg, const float *xb, const float *yr, const float *yg, const float *yb, int kind, long w, long h, const double *win, int clamp, double c1, double c2, double *scratch);
// long addsr_ssim_scratch(long w);
// double addsr_ssim_sum(const double *x, const double *y, long w, long h, const double *win, int clamp, double c1, double c2, double *scratch);
import "C"

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// hasVector: the AVX2+FMA kernels in vec_amd64.c run on this CPU (and the
// OS saves the YMM registers, which cpu checks).
var hasVector = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func f32p(s []float32) *C.float  { return (*C.float)(unsafe.Pointer(unsafe.SliceData(s))) }
func f64p(s []float64) *C.double { return (*C.double)(unsafe.Pointer(unsafe.SliceData(s))) }
func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Each conversion below handles the largest multiple of 8 pixels and
// returns how many it did; the caller's portable loop does the rest.

func yiqYVector(r, g, b []float32, out []float64, scale float32, round bool) int {
	n := len(out) / 8 * 8
	if n > 0 {
		_, _, _ = r[n-1], g[n-1], b[n-1]
		C.addsr_yiq_y(f32p(r), f32p(g), f32p(b), f64p(out), C.long(n), C.float(scale), cbool(round))
	}
	return n
}

func bt601YVector(r, g, b []float32, out []float64) int {
	n := len(out) / 8 * 8
	if n > 0 {
		_, _, _ = r[n-1], g[n-1], b[n-1]
		C.addsr_bt601_y(f32p(r), f32p(g), f32p(b), f64p(out), C.long(n))
	}
	return n
}

// bt601SqDiffVector returns the sum over the first n pixels and n.
func bt601SqDiffVector(a, b [3][]float32) (float64, int) {
	n := len(a[0]) / 8 * 8
	if n == 0 {
		return 0, 0
	}
	for c := range 3 {
		_, _ = a[c][n-1], b[c][n-1]
	}
	s := C.addsr_bt601_sqdiff(f32p(a[0]), f32p(a[1]), f32p(a[2]), f32p(b[0]), f32p(b[1]), f32p(b[2]), C.long(n))
	return float64(s), n
}

// u8SqDiffVector returns Σ (q(a)−q(b))² of the 8-bit values over the first
// n samples and n.
func u8SqDiffVector(a, b []float32) (float64, int) {
	n := len(a) / 8 * 8
	if n == 0 {
		return 0, 0
	}
	_, _ = a[n-1], b[n-1]
	return float64(C.addsr_u8_sqdiff(f32p(a), f32p(b), C.long(n))), n
}

// ssimSumVector is the sum of the 'valid' SSIM map (ssimPlane's total).
func ssimSumVector(x, y []float64, w, h int, win *[ssimTaps]float64, clampCS bool) float64 {
	_, _ = x[w*h-1], y[w*h-1]
	scratch := make([]float64, int(C.addsr_ssim_scratch(C.long(w))))
	return float64(C.addsr_ssim_sum(f64p(x), f64p(y), C.long(w), C.long(h), (*C.double)(unsafe.Pointer(win)),
		cbool(clampCS), ssimC1, ssimC2, f64p(scratch)))
}

// The conversions the SSIM kernel can apply to an image's planes as it
// reads them (vec_amd64.c's CONV_ values).
const (
	convYIQ255    = 1 // yiqY(m, 255, true)
	convBT601     = 2 // bt601Y
	convScaled255 = 3 // channel255(m, c)
	convU8        = 4 // channelU8
)

// ssimSumVectorConv is ssimSumVector of two images' planes converted as
// kind says while the kernel reads them, row by row; channel picks the
// plane for the one-channel conversions.
func ssimSumVectorConv(a, b *img.Image, channel, kind int, win *[ssimTaps]float64, clampCS bool) float64 {
	pa, pb := a.Planes, b.Planes
	if kind == convScaled255 || kind == convU8 {
		pa = [3][]float32{pa[channel], pa[channel], pa[channel]}
		pb = [3][]float32{pb[channel], pb[channel], pb[channel]}
	}
	n := a.W * a.H
	for c := range 3 {
		_, _ = pa[c][n-1], pb[c][n-1]
	}
	scratch := make([]float64, int(C.addsr_ssim_scratch(C.long(a.W))))
	return float64(C.addsr_ssim_sum_conv(f32p(pa[0]), f32p(pa[1]), f32p(pa[2]), f32p(pb[0]), f32p(pb[1]), f32p(pb[2]),
		C.int(kind), C.long(a.W), C.long(a.H), (*C.double)(unsafe.Pointer(win)), cbool(clampCS), ssimC1, ssimC2, f64p(scratch)))
}
