package degrade

import (
	"bytes"
	"image/jpeg"
	"math"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// JPEG round-trips the image through Go's baseline encoder (4:2:0, the
// IJG tables scaled by quality) and decoder: a real JPEG, as the
// blur2-sr4-noise20-jpeg50 preset defines it.
func JPEG(m *img.Image, quality int) (*img.Image, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m.ToNRGBA(), &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return img.Decode(buf.Bytes(), img.DecodeOptions{MaxPixels: -1})
}

// DiffJPEG's tables, indexed [u*8+v] (u the vertical frequency): its
// luminance table is the standard one transposed (diffjpeg.py builds it with
// .T), its chrominance table is 99 everywhere but the top-left 4×4.
var (
	jpegYTable = transpose8([64]float64{
		16, 11, 10, 16, 24, 40, 51, 61,
		12, 12, 14, 19, 26, 58, 60, 55,
		14, 13, 16, 24, 40, 57, 69, 56,
		14, 17, 22, 29, 51, 87, 80, 62,
		18, 22, 37, 56, 68, 109, 103, 77,
		24, 35, 55, 64, 81, 104, 113, 92,
		49, 64, 78, 87, 103, 121, 120, 101,
		72, 92, 95, 98, 112, 100, 103, 99,
	})
	jpegCTable = func() (t [64]float64) {
		for i := range t {
			t[i] = 99
		}
		top := [4][4]float64{{17, 18, 24, 47}, {18, 21, 26, 66}, {24, 26, 56, 99}, {47, 66, 99, 99}}
		for y := 0; y < 4; y++ {
			for x := 0; x < 4; x++ {
				t[y*8+x] = top[y][x]
			}
		}
		return t
	}()
	// dctBasis[x][u] = cos((2x+1)uπ/16)
	dctBasis = func() (b [8][8]float64) {
		for x := 0; x < 8; x++ {
			for u := 0; u < 8; u++ {
				b[x][u] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / 16)
			}
		}
		return b
	}()
	dctAlpha = [8]float64{1 / math.Sqrt2, 1, 1, 1, 1, 1, 1, 1}
)

// QualityFactor is DiffJPEG's table scale: 5000/q below 50, 200−2q from 50,
// divided by 100, and — unlike libjpeg — not rounded.
func QualityFactor(q float64) float64 {
	if q < 50 {
		return 5000 / q / 100
	}
	return (200 - 2*q) / 100
}

// DiffJPEG simulates JPEG as Real-ESRGAN's DiffJPEG does: full-range YCbCr,
// 2×2 average chroma subsampling, 8×8 DCT, quantisation by the quality-scaled
// tables with DiffJPEG's rounding (round(x) + (x − round(x))³), then the
// inverse; the image is zero-padded to a multiple of 16 and cropped back.
func DiffJPEG(m *img.Image, quality float64) *img.Image {
	f := QualityFactor(quality)
	W, H := (m.W+15)/16*16, (m.H+15)/16*16
	y := make([]float64, W*H)
	cb := make([]float64, W*H)
	cr := make([]float64, W*H)
	for row := 0; row < H; row++ {
		for col := 0; col < W; col++ {
			var r, g, b float64
			if row < m.H && col < m.W {
				i := row*m.W + col
				r, g, b = 255*float64(m.Planes[0][i]), 255*float64(m.Planes[1][i]), 255*float64(m.Planes[2][i])
			}
			j := row*W + col
			y[j] = 0.299*r + 0.587*g + 0.114*b
			cb[j] = -0.168736*r - 0.331264*g + 0.5*b + 128
			cr[j] = 0.5*r - 0.418688*g - 0.081312*b + 128
		}
	}
	cw, ch := W/2, H/2
	sub := func(p []float64) []float64 {
		out := make([]float64, cw*ch)
		for row := 0; row < ch; row++ {
			for col := 0; col < cw; col++ {
				a := p[2*row*W+2*col] + p[2*row*W+2*col+1] + p[(2*row+1)*W+2*col] + p[(2*row+1)*W+2*col+1]
				out[row*cw+col] = a / 4
			}
		}
		return out
	}
	cbs, crs := sub(cb), sub(cr)
	quantise(y, W, H, &jpegYTable, f)
	quantise(cbs, cw, ch, &jpegCTable, f)
	quantise(crs, cw, ch, &jpegCTable, f)
	out := img.New(m.W, m.H)
	for row := 0; row < m.H; row++ {
		for col := 0; col < m.W; col++ {
			yy := y[row*W+col]
			cbv := cbs[(row/2)*cw+col/2] - 128
			crv := crs[(row/2)*cw+col/2] - 128
			r := yy + 1.402*crv
			g := yy - 0.344136*cbv - 0.714136*crv
			b := yy + 1.772*cbv
			i := row*m.W + col
			out.Planes[0][i] = float32(math.Min(255, math.Max(0, r)) / 255)
			out.Planes[1][i] = float32(math.Min(255, math.Max(0, g)) / 255)
			out.Planes[2][i] = float32(math.Min(255, math.Max(0, b)) / 255)
		}
	}
	return out
}

// quantise runs DCT → quantise → dequantise → IDCT on every 8×8 block of p
// (w, h multiples of 8), in place.
func quantise(p []float64, w, h int, table *[64]float64, f float64) {
	var blk, coef [64]float64
	for by := 0; by < h; by += 8 {
		for bx := 0; bx < w; bx += 8 {
			for y := 0; y < 8; y++ {
				for x := 0; x < 8; x++ {
					blk[y*8+x] = p[(by+y)*w+bx+x] - 128
				}
			}
			// Forward DCT: 0.25·α(u)α(v)·Σ blk[x][y]·cos·cos, then quantise.
			for u := 0; u < 8; u++ {
				for v := 0; v < 8; v++ {
					var s float64
					for y := 0; y < 8; y++ {
						for x := 0; x < 8; x++ {
							s += blk[y*8+x] * dctBasis[y][u] * dctBasis[x][v]
						}
					}
					q := table[u*8+v] * f
					c := 0.25 * dctAlpha[u] * dctAlpha[v] * s / q
					rc := math.RoundToEven(c)
					c = rc + (c-rc)*(c-rc)*(c-rc)
					coef[u*8+v] = c * q
				}
			}
			// Inverse DCT.
			for y := 0; y < 8; y++ {
				for x := 0; x < 8; x++ {
					var s float64
					for u := 0; u < 8; u++ {
						for v := 0; v < 8; v++ {
							s += dctAlpha[u] * dctAlpha[v] * coef[u*8+v] * dctBasis[y][u] * dctBasis[x][v]
						}
					}
					p[(by+y)*w+bx+x] = 0.25*s + 128
				}
			}
		}
	}
}

func transpose8(t [64]float64) (out [64]float64) {
	for u := 0; u < 8; u++ {
		for v := 0; v < 8; v++ {
			out[u*8+v] = t[v*8+u]
		}
	}
	return out
}
