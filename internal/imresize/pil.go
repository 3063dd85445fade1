package imresize

import "math"

// PIL's Image.resize with Resampling.BICUBIC on 8-bit RGB images (Pillow's
// Resample.c): Keys' kernel with a = −0.5, the support widened by the scale
// when reducing (antialiasing), edge samples dropped rather than mirrored
// (weights renormalised), coefficients in 22-bit fixed point and an 8-bit
// image between the horizontal and the vertical pass. AddSR's and SeeSR's
// test scripts upscale the LR with it, so the ControlNet condition must
// match it bit for bit; a float resize differs by one level in places.

const pilPrecisionBits = 32 - 8 - 2

func pilBicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return ((a+2)*x-(a+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// pilCoeffs is precompute_coeffs plus normalize_coeffs_8bpc for a resize of
// a length-in line to out samples: output i reads in[bounds[2i]:][:bounds[2i+1]]
// with the fixed-point weights k[i*ksize:].
func pilCoeffs(in, out int) (ksize int, bounds []int, k []int32) {
	scale := float64(in) / float64(out)
	filterscale := max(scale, 1)
	support := 2 * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, 2*out)
	k = make([]int32, out*ksize)
	w := make([]float64, ksize)
	for xx := 0; xx < out; xx++ {
		center := (float64(xx) + 0.5) * scale
		ss := 1 / filterscale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), in) - xmin
		var ww float64
		for x := 0; x < xmax; x++ {
			w[x] = pilBicubic((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[xx*ksize+x] = int32(-0.5 + v*(1<<pilPrecisionBits))
			} else {
				k[xx*ksize+x] = int32(0.5 + v*(1<<pilPrecisionBits))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return ksize, bounds, k
}

func pilClip8(v int32) uint8 {
	if v >= 1<<pilPrecisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> pilPrecisionBits)
}

// PILBicubic resizes 8-bit planes of a w×h image to ow×oh as Pillow's
// Image.resize((ow, oh), Image.BICUBIC) does; same-size is a copy.
func PILBicubic(planes [3][]uint8, w, h, ow, oh int) [3][]uint8 {
	var out [3][]uint8
	for c := range planes {
		out[c] = pilPlane(planes[c], w, h, ow, oh)
	}
	return out
}

func pilPlane(p []uint8, w, h, ow, oh int) []uint8 {
	src, sw, sh := p, w, h
	if ow != w {
		ksize, bounds, k := pilCoeffs(w, ow)
		tmp := make([]uint8, ow*h)
		for y := 0; y < h; y++ {
			row := src[y*w : (y+1)*w]
			for xx := 0; xx < ow; xx++ {
				xmin, n := bounds[2*xx], bounds[2*xx+1]
				kk := k[xx*ksize:]
				ss := int32(1 << (pilPrecisionBits - 1))
				for x := 0; x < n; x++ {
					ss += int32(row[xmin+x]) * kk[x]
				}
				tmp[y*ow+xx] = pilClip8(ss)
			}
		}
		src, sw = tmp, ow
	}
	if oh != h {
		ksize, bounds, k := pilCoeffs(sh, oh)
		tmp := make([]uint8, sw*oh)
		for yy := 0; yy < oh; yy++ {
			ymin, n := bounds[2*yy], bounds[2*yy+1]
			kk := k[yy*ksize:]
			for x := 0; x < sw; x++ {
				ss := int32(1 << (pilPrecisionBits - 1))
				for y := 0; y < n; y++ {
					ss += int32(src[(ymin+y)*sw+x]) * kk[y]
				}
				tmp[yy*sw+x] = pilClip8(ss)
			}
		}
		src = tmp
	}
	if &src[0] == &p[0] {
		return append([]uint8(nil), p...)
	}
	return src
}
