//go:build cgo

// AVX2+FMA kernels for the classical metrics, compiled for that target only
// (the target attribute) and called only when the CPU has it (vec_amd64.go
// asks golang.org/x/sys/cpu), so the binary runs on any x86-64.
//
// Arithmetic follows the portable Go code operation for operation. The
// colour conversions use no fused multiply-add (contraction is off below,
// and they use separate multiplies and adds), so they
// round exactly as the Go code and as torch/numpy do. The SSIM kernel uses
// FMA and one division per pixel instead of two; that moves the mean SSIM by
// about 1e-16 relative, and the tests hold it to 1e-12 of the portable path.

#pragma GCC optimize("fp-contract=off")

#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define TARGET __attribute__((target("avx2,fma")))
#define TAPS 11

// Portable float32 → 8-bit quantization as img.Quantize: NaN and v ≤ 0 give
// 0, v ≥ 1 gives 255, else v·255 rounded half to even.
TARGET static inline __m256 quantize8(__m256 v) {
	__m256 x = _mm256_mul_ps(v, _mm256_set1_ps(255.0f));
	x = _mm256_max_ps(x, _mm256_setzero_ps()); // NaN → 0 (second operand)
	x = _mm256_min_ps(x, _mm256_set1_ps(255.0f));
	return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// yiq_y: pyiqa's Y of YIQ in float32 (see yiqYScalar), ×scale, optionally
// rounded half to even; n8 is a multiple of 8.
TARGET void addsr_yiq_y(const float *r, const float *g, const float *b, double *out, long n8, float scale, int round) {
	const __m256 cr = _mm256_set1_ps(0.299f), cg = _mm256_set1_ps(0.587f), cb = _mm256_set1_ps(0.114f);
	const __m256 sc = _mm256_set1_ps(scale);
	for (long i = 0; i < n8; i += 8) {
		__m256 y = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(r + i), cr), _mm256_mul_ps(_mm256_loadu_ps(g + i), cg));
		y = _mm256_add_ps(y, _mm256_mul_ps(_mm256_loadu_ps(b + i), cb));
		y = _mm256_mul_ps(y, sc);
		if (round)
			y = _mm256_round_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
		_mm256_storeu_pd(out + i, _mm256_cvtps_pd(_mm256_castps256_ps128(y)));
		_mm256_storeu_pd(out + i + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)));
	}
}

// scaled255: float32(v·255) rounded half to even (channel255).
TARGET static void scaled255(const float *p, double *out, long n8) {
	const __m256 s = _mm256_set1_ps(255.0f);
	for (long i = 0; i < n8; i += 8) {
		__m256 y = _mm256_mul_ps(_mm256_loadu_ps(p + i), s);
		y = _mm256_round_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
		_mm256_storeu_pd(out + i, _mm256_cvtps_pd(_mm256_castps256_ps128(y)));
		_mm256_storeu_pd(out + i + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)));
	}
}

// u8: the 8-bit value of each sample as float64 (channelU8).
TARGET static void u8(const float *p, double *out, long n8) {
	for (long i = 0; i < n8; i += 8) {
		__m256 q = quantize8(_mm256_loadu_ps(p + i));
		_mm256_storeu_pd(out + i, _mm256_cvtps_pd(_mm256_castps256_ps128(q)));
		_mm256_storeu_pd(out + i + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(q, 1)));
	}
}

// bt601 of four quantized samples: ((65.481R + 128.553G) + 24.966B)/255 + 16.
TARGET static inline __m256d bt601(__m128 r, __m128 g, __m128 b) {
	__m256d y = _mm256_add_pd(_mm256_mul_pd(_mm256_cvtps_pd(r), _mm256_set1_pd(65.481)),
	                          _mm256_mul_pd(_mm256_cvtps_pd(g), _mm256_set1_pd(128.553)));
	y = _mm256_add_pd(y, _mm256_mul_pd(_mm256_cvtps_pd(b), _mm256_set1_pd(24.966)));
	return _mm256_add_pd(_mm256_div_pd(y, _mm256_set1_pd(255.0)), _mm256_set1_pd(16.0));
}

// bt601_y: BasicSR's Y of BT.601 on the 8-bit samples (bt601Y).
TARGET void addsr_bt601_y(const float *r, const float *g, const float *b, double *out, long n8) {
	for (long i = 0; i < n8; i += 8) {
		__m256 qr = quantize8(_mm256_loadu_ps(r + i)), qg = quantize8(_mm256_loadu_ps(g + i)), qb = quantize8(_mm256_loadu_ps(b + i));
		_mm256_storeu_pd(out + i, bt601(_mm256_castps256_ps128(qr), _mm256_castps256_ps128(qg), _mm256_castps256_ps128(qb)));
		_mm256_storeu_pd(out + i + 4, bt601(_mm256_extractf128_ps(qr, 1), _mm256_extractf128_ps(qg, 1), _mm256_extractf128_ps(qb, 1)));
	}
}

// bt601_sqdiff: Σ (Y(a) − Y(b))² over n8 pixels, in four lanes added
// pairwise at the end.
TARGET double addsr_bt601_sqdiff(const float *ar, const float *ag, const float *ab,
                                 const float *br, const float *bg, const float *bb, long n8) {
	__m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
	for (long i = 0; i < n8; i += 8) {
		__m256 qar = quantize8(_mm256_loadu_ps(ar + i)), qag = quantize8(_mm256_loadu_ps(ag + i)), qab = quantize8(_mm256_loadu_ps(ab + i));
		__m256 qbr = quantize8(_mm256_loadu_ps(br + i)), qbg = quantize8(_mm256_loadu_ps(bg + i)), qbb = quantize8(_mm256_loadu_ps(bb + i));
		__m256d e0 = _mm256_sub_pd(bt601(_mm256_castps256_ps128(qar), _mm256_castps256_ps128(qag), _mm256_castps256_ps128(qab)),
		                           bt601(_mm256_castps256_ps128(qbr), _mm256_castps256_ps128(qbg), _mm256_castps256_ps128(qbb)));
		__m256d e1 = _mm256_sub_pd(bt601(_mm256_extractf128_ps(qar, 1), _mm256_extractf128_ps(qag, 1), _mm256_extractf128_ps(qab, 1)),
		                           bt601(_mm256_extractf128_ps(qbr, 1), _mm256_extractf128_ps(qbg, 1), _mm256_extractf128_ps(qbb, 1)));
		acc0 = _mm256_add_pd(acc0, _mm256_mul_pd(e0, e0));
		acc1 = _mm256_add_pd(acc1, _mm256_mul_pd(e1, e1));
	}
	double l[4];
	_mm256_storeu_pd(l, _mm256_add_pd(acc0, acc1));
	return (l[0] + l[1]) + (l[2] + l[3]);
}

// u8_sqdiff: Σ (q(a) − q(b))² of the 8-bit values of n8 samples (BasicSR's
// RGB PSNR); each square is an integer below 2^16, so the sum is exact in
// any order up to 2^37 samples.
TARGET double addsr_u8_sqdiff(const float *a, const float *b, long n8) {
	__m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
	for (long i = 0; i < n8; i += 8) {
		const __m256 e = _mm256_sub_ps(quantize8(_mm256_loadu_ps(a + i)), quantize8(_mm256_loadu_ps(b + i)));
		const __m256d e0 = _mm256_cvtps_pd(_mm256_castps256_ps128(e)), e1 = _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1));
		acc0 = _mm256_add_pd(acc0, _mm256_mul_pd(e0, e0));
		acc1 = _mm256_add_pd(acc1, _mm256_mul_pd(e1, e1));
	}
	double l[4];
	_mm256_storeu_pd(l, _mm256_add_pd(acc0, acc1));
	return (l[0] + l[1]) + (l[2] + l[3]);
}

// Scalar forms of the conversions, for the last pixels of a row: the same
// float32 and float64 operations as the Go code's (yiqYScalar, bt601Y,
// channel255, channelU8), rounding half to even with the default rounding
// mode.
static inline float quantize8_scalar(float v) {
	if (!(v > 0))
		return 0;
	if (v >= 1)
		return 255;
	return nearbyintf(v * 255.0f);
}

static inline double bt601_scalar(float r, float g, float b) {
	return (65.481 * (double)quantize8_scalar(r) + 128.553 * (double)quantize8_scalar(g) + 24.966 * (double)quantize8_scalar(b)) / 255 + 16;
}

// ---- SSIM ----

// The rows under the window live in a ring laid out by groups of four
// columns: group g holds 22 slots of eight doubles (four of x, then four of
// y, one cache line), and input row r is written to slots r mod 11 and
// r mod 11 + 11. The window's 11 rows are then 11 consecutive slots, at
// constant offsets from one pointer, whatever the image width; a plane's own
// rows would be a multiple of 4 KiB apart at 512² and fight over one L1
// cache set.
#define SLOT 8
#define GROUP (2 * TAPS * SLOT)

// ring_put writes input row r (x and y, w wide) into the ring; columns past
// w in the last group are zero.
TARGET static void ring_put(double *ring, const double *x, const double *y, long w, long r) {
	const long s = r % TAPS, groups = (w + 3) / 4;
	for (long g = 0; g < groups; g++) {
		double *lo = ring + g * GROUP + s * SLOT, *hi = lo + TAPS * SLOT;
		__m256d a, b;
		if (4 * g + 4 <= w) {
			a = _mm256_loadu_pd(x + 4 * g), b = _mm256_loadu_pd(y + 4 * g);
		} else {
			double ta[4] = {0}, tb[4] = {0};
			for (long c = 4 * g; c < w; c++)
				ta[c - 4 * g] = x[c], tb[c - 4 * g] = y[c];
			a = _mm256_loadu_pd(ta), b = _mm256_loadu_pd(tb);
		}
		_mm256_store_pd(lo, a), _mm256_store_pd(lo + 4, b);
		_mm256_store_pd(hi, a), _mm256_store_pd(hi + 4, b);
	}
}

// vpass filters the window's rows (from slot s0) vertically into the five
// moment rows m[0..4] (x, y, x², y², xy) for every group of four columns.
// Rows k and 10−k share a weight, so they are added first.
TARGET static void vpass(const double *ring, long s0, long groups, const double *win, double *const m[5]) {
	const __m256d w0 = _mm256_set1_pd(win[0]), w1 = _mm256_set1_pd(win[1]), w2 = _mm256_set1_pd(win[2]);
	const __m256d w3 = _mm256_set1_pd(win[3]), w4 = _mm256_set1_pd(win[4]), w5 = _mm256_set1_pd(win[5]);
	const __m256d wk[5] = {w0, w1, w2, w3, w4};
	for (long g = 0; g < groups; g++) {
		const double *p = ring + g * GROUP + s0 * SLOT;
		__m256d a = _mm256_load_pd(p + 5 * SLOT), b = _mm256_load_pd(p + 5 * SLOT + 4);
		__m256d sx = _mm256_mul_pd(a, w5), sy = _mm256_mul_pd(b, w5);
		__m256d sxx = _mm256_mul_pd(_mm256_mul_pd(a, a), w5);
		__m256d syy = _mm256_mul_pd(_mm256_mul_pd(b, b), w5);
		__m256d sxy = _mm256_mul_pd(_mm256_mul_pd(a, b), w5);
#pragma GCC unroll 5
		for (int k = 0; k < 5; k++) {
			const __m256d a0 = _mm256_load_pd(p + k * SLOT), a1 = _mm256_load_pd(p + (10 - k) * SLOT);
			const __m256d b0 = _mm256_load_pd(p + k * SLOT + 4), b1 = _mm256_load_pd(p + (10 - k) * SLOT + 4);
			sx = _mm256_fmadd_pd(_mm256_add_pd(a0, a1), wk[k], sx);
			sy = _mm256_fmadd_pd(_mm256_add_pd(b0, b1), wk[k], sy);
			sxx = _mm256_fmadd_pd(_mm256_fmadd_pd(a1, a1, _mm256_mul_pd(a0, a0)), wk[k], sxx);
			syy = _mm256_fmadd_pd(_mm256_fmadd_pd(b1, b1, _mm256_mul_pd(b0, b0)), wk[k], syy);
			sxy = _mm256_fmadd_pd(_mm256_fmadd_pd(a1, b1, _mm256_mul_pd(a0, b0)), wk[k], sxy);
		}
		_mm256_storeu_pd(m[0] + 4 * g, sx);
		_mm256_storeu_pd(m[1] + 4 * g, sy);
		_mm256_storeu_pd(m[2] + 4 * g, sxx);
		_mm256_storeu_pd(m[3] + 4 * g, syy);
		_mm256_storeu_pd(m[4] + 4 * g, sxy);
	}
}

// hfilt filters one moment row horizontally into out[0, n4), n4 a multiple
// of 4. One row at a time keeps the six weights and the sum in registers.
TARGET static void hfilt(const double *r, double *out, long n4, const double *win) {
	const __m256d w0 = _mm256_set1_pd(win[0]), w1 = _mm256_set1_pd(win[1]), w2 = _mm256_set1_pd(win[2]);
	const __m256d w3 = _mm256_set1_pd(win[3]), w4 = _mm256_set1_pd(win[4]), w5 = _mm256_set1_pd(win[5]);
	for (long i = 0; i < n4; i += 4, r += 4) {
		__m256d f = _mm256_mul_pd(_mm256_add_pd(_mm256_loadu_pd(r), _mm256_loadu_pd(r + 10)), w0);
		f = _mm256_fmadd_pd(_mm256_add_pd(_mm256_loadu_pd(r + 1), _mm256_loadu_pd(r + 9)), w1, f);
		f = _mm256_fmadd_pd(_mm256_add_pd(_mm256_loadu_pd(r + 2), _mm256_loadu_pd(r + 8)), w2, f);
		f = _mm256_fmadd_pd(_mm256_add_pd(_mm256_loadu_pd(r + 3), _mm256_loadu_pd(r + 7)), w3, f);
		f = _mm256_fmadd_pd(_mm256_add_pd(_mm256_loadu_pd(r + 4), _mm256_loadu_pd(r + 6)), w4, f);
		_mm256_storeu_pd(out + i, _mm256_fmadd_pd(_mm256_loadu_pd(r + 5), w5, f));
	}
}

static inline double hfilt_scalar(const double *r, const double *w) {
	return w[0] * (r[0] + r[10]) + w[1] * (r[1] + r[9]) + w[2] * (r[2] + r[8]) + w[3] * (r[3] + r[7]) +
	       w[4] * (r[4] + r[6]) + w[5] * r[5];
}

static inline double ssim_pixel(double mu1, double mu2, double e11, double e22, double e12, int clamp, double c1, double c2) {
	const double m11 = mu1 * mu1, m22 = mu2 * mu2, m12 = mu1 * mu2;
	double cs = (2 * (e12 - m12) + c2) / ((e11 - m11) + (e22 - m22) + c2);
	if (clamp && cs < 0)
		cs = 0;
	return (2 * m12 + c1) / (m11 + m22 + c1) * cs;
}

// hpass_sum filters the moment rows horizontally ('valid': w−10 outputs)
// into the rows f and returns the sum of the SSIM map along the row. The
// variance terms' sum plus C2 is positive, so clamping cs at 0 is clamping
// its numerator, and luminance × cs takes one division.
TARGET static double hpass_sum(double *const m[5], double *const f[5], long w, const double *win, int clamp, double c1, double c2) {
	const long n = w - TAPS + 1, n4 = n / 4 * 4;
	for (int q = 0; q < 5; q++)
		hfilt(m[q], f[q], n4, win);
	const __m256d vc1 = _mm256_set1_pd(c1), vc2 = _mm256_set1_pd(c2), two = _mm256_set1_pd(2), zero = _mm256_setzero_pd();
	__m256d acc = _mm256_setzero_pd();
	for (long i = 0; i < n4; i += 4) {
		const __m256d f0 = _mm256_loadu_pd(f[0] + i), f1 = _mm256_loadu_pd(f[1] + i);
		const __m256d m11 = _mm256_mul_pd(f0, f0), m22 = _mm256_mul_pd(f1, f1), m12 = _mm256_mul_pd(f0, f1);
		__m256d num = _mm256_fmadd_pd(_mm256_sub_pd(_mm256_loadu_pd(f[4] + i), m12), two, vc2);
		const __m256d den = _mm256_add_pd(_mm256_add_pd(_mm256_sub_pd(_mm256_loadu_pd(f[2] + i), m11),
		                                                _mm256_sub_pd(_mm256_loadu_pd(f[3] + i), m22)), vc2);
		if (clamp)
			num = _mm256_max_pd(num, zero);
		const __m256d lnum = _mm256_fmadd_pd(m12, two, vc1);
		const __m256d lden = _mm256_add_pd(_mm256_add_pd(m11, m22), vc1);
		acc = _mm256_add_pd(acc, _mm256_div_pd(_mm256_mul_pd(lnum, num), _mm256_mul_pd(lden, den)));
	}
	double l[4];
	_mm256_storeu_pd(l, acc);
	double s = (l[0] + l[1]) + (l[2] + l[3]);
	for (long i = n4; i < n; i++)
		s += ssim_pixel(hfilt_scalar(m[0] + i, win), hfilt_scalar(m[1] + i, win), hfilt_scalar(m[2] + i, win),
		                hfilt_scalar(m[3] + i, win), hfilt_scalar(m[4] + i, win), clamp, c1, c2);
	return s;
}

// What the SSIM kernel reads: float64 planes as they are, or an image's
// float32 planes converted row by row as the metric's convention says, so
// that no converted plane is ever stored (at 2040×1356 those planes were
// 44 MB streamed through memory twice).
enum { CONV_NONE, CONV_YIQ255, CONV_BT601, CONV_SCALED255, CONV_U8 };

typedef struct {
	const double *plane; // CONV_NONE
	const float *p[3];   // R, G, B; one channel in p[0] for CONV_SCALED255 and CONV_U8
} source;

// source_row returns row r's columns [c0, c0+n) as float64, converted into
// buf when the source needs converting.
TARGET static const double *source_row(const source *s, int kind, long stride, long r, long c0, long n, double *buf) {
	const long o = r * stride + c0, n8 = n / 8 * 8;
	if (kind == CONV_NONE)
		return s->plane + o;
	const float *const p0 = s->p[0] + o;
	const float *const p1 = kind == CONV_YIQ255 || kind == CONV_BT601 ? s->p[1] + o : NULL;
	const float *const p2 = kind == CONV_YIQ255 || kind == CONV_BT601 ? s->p[2] + o : NULL;
	switch (kind) {
	case CONV_YIQ255:
		addsr_yiq_y(p0, p1, p2, buf, n8, 255.0f, 1);
		for (long i = n8; i < n; i++) {
			float y = p0[i] * 0.299f + p1[i] * 0.587f;
			y = y + p2[i] * 0.114f;
			buf[i] = nearbyintf(y * 255.0f);
		}
		break;
	case CONV_BT601:
		addsr_bt601_y(p0, p1, p2, buf, n8);
		for (long i = n8; i < n; i++)
			buf[i] = bt601_scalar(p0[i], p1[i], p2[i]);
		break;
	case CONV_SCALED255:
		scaled255(p0, buf, n8);
		for (long i = n8; i < n; i++)
			buf[i] = nearbyintf(p0[i] * 255.0f);
		break;
	case CONV_U8:
		u8(p0, buf, n8);
		for (long i = n8; i < n; i++)
			buf[i] = quantize8_scalar(p0[i]);
		break;
	}
	return buf;
}

// prefetch_row asks for row r's columns [c0, c0+n) of the source's planes
// ahead of use: a strip reads a short run of each row and then jumps a
// whole image row, which the hardware prefetcher does not follow.
static void prefetch_row(const source *s, int kind, long stride, long r, long c0, long n) {
	const long o = r * stride + c0;
	if (kind == CONV_NONE) {
		for (long i = 0; i < n; i += 8)
			__builtin_prefetch(s->plane + o + i);
		return;
	}
	const int planes = kind == CONV_YIQ255 || kind == CONV_BT601 ? 3 : 1;
	for (int c = 0; c < planes; c++)
		for (long i = 0; i < n; i += 16)
			__builtin_prefetch(s->p[c] + o + i);
}

// Wide images are done in strips of STRIP output columns (plus the
// window's 10), so that a strip's ring and rows stay in L2 cache.
#define STRIP 512

static long strip_geometry(long w, long *groups, long *st) {
	const long sw = w < STRIP + TAPS - 1 ? w : STRIP + TAPS - 1;
	*groups = (sw + 3) / 4;
	*st = (*groups * 4 + 15) / 16 * 16 + 8;
	return sw;
}

// ssim_scratch is the number of doubles addsr_ssim_sum needs for width w:
// a strip's ring, then five moment rows of whole groups, five filtered rows
// and two converted input rows, an odd number of cache lines apart; plus
// four for aligning the ring to 32 bytes.
long addsr_ssim_scratch(long w) {
	long groups, st;
	strip_geometry(w, &groups, &st);
	return groups * GROUP + 12 * st + 4;
}

// ssim_strip returns the sum of the 'valid' SSIM map of the sw columns
// from c0 of sources x and y (rows stride apart, h of them).
TARGET static double ssim_strip(const source *x, const source *y, int kind, long stride, long c0, long sw, long h, const double *win,
                                int clamp, double c1, double c2, double *scratch, long st) {
	const long groups = (sw + 3) / 4;
	double *const ring = (double *)(((uintptr_t)scratch + 31) & ~(uintptr_t)31);
	double *const mom = ring + groups * GROUP;
	double *const m[5] = {mom, mom + st, mom + 2 * st, mom + 3 * st, mom + 4 * st};
	double *const f[5] = {mom + 5 * st, mom + 6 * st, mom + 7 * st, mom + 8 * st, mom + 9 * st};
	double *const bx = mom + 10 * st, *const by = mom + 11 * st;
	double total = 0;
	for (long r = 0; r < TAPS - 1 && r < h; r++)
		ring_put(ring, source_row(x, kind, stride, r, c0, sw, bx), source_row(y, kind, stride, r, c0, sw, by), sw, r);
	for (long j = 0; j + TAPS <= h; j++) {
		const long in = j + TAPS - 1;
		ring_put(ring, source_row(x, kind, stride, in, c0, sw, bx), source_row(y, kind, stride, in, c0, sw, by), sw, in);
		if (in + 2 < h) {
			prefetch_row(x, kind, stride, in + 2, c0, sw);
			prefetch_row(y, kind, stride, in + 2, c0, sw);
		}
		vpass(ring, j % TAPS, groups, win, m);
		total += hpass_sum(m, f, sw, win, clamp, c1, c2);
	}
	return total;
}

TARGET static double ssim_sum(const source *x, const source *y, int kind, long w, long h, const double *win, int clamp,
                              double c1, double c2, double *scratch) {
	long groups, st;
	strip_geometry(w, &groups, &st);
	double total = 0;
	for (long c0 = 0; c0 + TAPS <= w; c0 += STRIP) {
		const long sw = w - c0 < STRIP + TAPS - 1 ? w - c0 : STRIP + TAPS - 1;
		total += ssim_strip(x, y, kind, w, c0, sw, h, win, clamp, c1, c2, scratch, st);
	}
	return total;
}

// ssim_sum returns the sum of the 'valid' SSIM map of two w×h float64
// planes; scratch holds addsr_ssim_scratch(w) doubles.
TARGET double addsr_ssim_sum(const double *x, const double *y, long w, long h, const double *win, int clamp,
                             double c1, double c2, double *scratch) {
	const source sx = {.plane = x}, sy = {.plane = y};
	return ssim_sum(&sx, &sy, CONV_NONE, w, h, win, clamp, c1, c2, scratch);
}

// ssim_sum_conv is addsr_ssim_sum of two images' float32 planes (x: xr, xg,
// xb; y: yr, yg, yb; one channel in xr and yr for CONV_SCALED255 and
// CONV_U8) converted as kind says.
TARGET double addsr_ssim_sum_conv(const float *xr, const float *xg, const float *xb, const float *yr, const float *yg, const float *yb,
                                  int kind, long w, long h, const double *win, int clamp, double c1, double c2, double *scratch) {
	const source sx = {.p = {xr, xg, xb}}, sy = {.p = {yr, yg, yb}};
	return ssim_sum(&sx, &sy, kind, w, h, win, clamp, c1, c2, scratch);
}
