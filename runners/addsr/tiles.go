package addsr

import (
	"math"

	"github.com/addsr-bench/addsr-bench/models"
)

// crop copies the [y0, y0+th) × [x0, x0+tw) window of an NCHW tensor.
func crop(t models.Tensor, x0, y0, tw, th int) models.Tensor {
	n, c, h, w := int(t.Shape[0]), int(t.Shape[1]), int(t.Shape[2]), int(t.Shape[3])
	out := models.Tensor{Shape: []int64{int64(n), int64(c), int64(th), int64(tw)}, Data: make([]float32, n*c*th*tw)}
	for p := range n * c {
		for y := range th {
			copy(out.Data[(p*th+y)*tw:][:tw], t.Data[(p*h+y0+y)*w+x0:][:tw])
		}
	}
	return out
}

// gaussianWeights is the official pipeline's _gaussian_weights(w, h): a
// separable Gaussian of variance 0.01 in units of the tile's size, its x
// centre at (w−1)/2 and its y centre at h/2 (as upstream has them).
func gaussianWeights(w, h int) []float64 {
	const v = 0.01
	f := func(x, mid float64, n int) float64 {
		return math.Exp(-(x-mid)*(x-mid)/float64(n*n)/(2*v)) / math.Sqrt(2*math.Pi*v)
	}
	out := make([]float64, w*h)
	for y := range h {
		py := f(float64(y), float64(h)/2, h)
		for x := range w {
			out[y*w+x] = py * f(float64(x), float64(w-1)/2, w)
		}
	}
	return out
}

// latentTiles are the official pipeline's tile offsets for an h×w latent
// and tile size ts, overlap ov: rows step ts−ov from 0, the last flush with
// the end.
func latentTiles(w, h, ts, ov int) [][2]int {
	count := func(n int) int {
		k, cur := 0, 0
		for cur < n {
			cur = max(k*ts-ov*k, 0) + ts
			k++
		}
		return k
	}
	rows, cols := count(w), count(h) // upstream's "rows" run along x
	var out [][2]int
	for r := range rows {
		for c := range cols {
			x, y := max(r*ts-ov*r, 0), max(c*ts-ov*c, 0)
			if r == rows-1 {
				x = w - ts
			}
			if c == cols-1 {
				y = h - ts
			}
			out = append(out, [2]int{x, y})
		}
	}
	return out
}

// predict is ε for the latents sample (ControlNet, then the UNet), in
// Gaussian-weighted tiles when the latent is larger than latent_tile².
func (r *Runner) predict(sample, tt, text, cond, ram models.Tensor) (models.Tensor, error) {
	h, w := int(sample.Shape[2]), int(sample.Shape[3])
	ts := r.set.LatentTile
	if ts == 0 || h*w <= ts*ts {
		return r.predictWhole(sample, tt, text, cond, ram)
	}
	ts = min(ts, h, w)
	f := r.m.VAE.Downscale
	wt := gaussianWeights(ts, ts)
	n, c := int(sample.Shape[0]), int(sample.Shape[1])
	sum := make([]float32, len(sample.Data))
	contrib := make([]float32, len(sample.Data))
	for _, o := range latentTiles(w, h, ts, r.set.LatentTileOverlap) {
		eps, err := r.predictWhole(crop(sample, o[0], o[1], ts, ts), tt, text, crop(cond, o[0]*f, o[1]*f, ts*f, ts*f), ram)
		if err != nil {
			return eps, err
		}
		// float32 sums of float64 products, as upstream's in-place adds of
		// a float64 weight tensor into float32 ones.
		for p := range n * c {
			for y := range ts {
				for x := range ts {
					i := (p*h+o[1]+y)*w + o[0] + x
					k := y*ts + x
					sum[i] = float32(float64(sum[i]) + float64(eps.Data[(p*ts+y)*ts+x])*wt[k])
					contrib[i] = float32(float64(contrib[i]) + wt[k])
				}
			}
		}
	}
	for i := range sum {
		sum[i] /= contrib[i]
	}
	return models.Tensor{Shape: sample.Shape, Data: sum}, nil
}

func (r *Runner) predictWhole(sample, tt, text, cond, ram models.Tensor) (models.Tensor, error) {
	res, err := r.run("controlnet", sample, tt, text, cond, ram)
	if err != nil {
		return models.Tensor{}, err
	}
	out, err := r.run("unet", append([]models.Tensor{sample, tt, text, ram}, res...)...)
	if err != nil {
		return models.Tensor{}, err
	}
	return out[0], nil
}

// tileStarts covers [0, n) with windows of size t overlapping by ov, the
// last flush with the end.
func tileStarts(n, t, ov int) []int {
	if t >= n {
		return []int{0}
	}
	var s []int
	for x := 0; ; x += t - ov {
		if x+t >= n {
			return append(s, n-t)
		}
		s = append(s, x)
	}
}

// decode runs the VAE decoder, in overlapping tiles blended with linear
// ramps when the latent is larger than vae_decode_tile.
func (r *Runner) decode(lat models.Tensor) (models.Tensor, error) {
	h, w := int(lat.Shape[2]), int(lat.Shape[3])
	ts, ov := r.set.VAEDecodeTile, r.set.VAEDecodeOverlap
	if ts == 0 || (h <= ts && w <= ts) {
		out, err := r.run("vae_decoder", lat)
		if err != nil {
			return models.Tensor{}, err
		}
		return out[0], nil
	}
	f := r.m.VAE.Downscale
	n := int(lat.Shape[0])
	H, W := h*f, w*f
	sum := make([]float32, n*3*H*W)
	wsum := make([]float32, H*W)
	ys, xs := tileStarts(h, min(ts, h), ov), tileStarts(w, min(ts, w), ov)
	// A pixel's weight rises across the middle half of the overlap from
	// each side that borders another tile: the outer quarter, computed
	// beside the tile's padding, counts for nothing.
	opx := float32(ov * f)
	ramp := func(d int) float32 {
		return min(1, max(0, (float32(d)+0.5-opx/4)/(opx/2)))
	}
	// edge is the weight of pixel i of a tile n pixels long along one axis,
	// whose start and end may border other tiles.
	edge := func(i, n int, atStart, atEnd bool) float32 {
		w := float32(1)
		if atStart && ov > 0 {
			w = min(w, ramp(i))
		}
		if atEnd && ov > 0 {
			w = min(w, ramp(n-1-i))
		}
		return w
	}
	for _, y0 := range ys {
		for _, x0 := range xs {
			th, tw := min(ts, h), min(ts, w)
			out, err := r.run("vae_decoder", crop(lat, x0, y0, tw, th))
			if err != nil {
				return models.Tensor{}, err
			}
			img := out[0]
			TH, TW := th*f, tw*f
			for y := range TH {
				wy := edge(y, TH, y0 > 0, y0+th < h)
				for x := range TW {
					wgt := wy * edge(x, TW, x0 > 0, x0+tw < w)
					o := (y0*f+y)*W + x0*f + x
					wsum[o] += wgt
					for p := range n * 3 {
						sum[p*H*W+o] += wgt * img.Data[(p*TH+y)*TW+x]
					}
				}
			}
		}
	}
	for p := range n * 3 {
		for i := range H * W {
			sum[p*H*W+i] /= wsum[i]
		}
	}
	return models.Tensor{Shape: []int64{int64(n), 3, int64(H), int64(W)}, Data: sum}, nil
}
