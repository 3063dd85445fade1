package degrade

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/internal/rng"
)

// Options say how to build one pair.
type Options struct {
	Preset   string
	Scale    int    // 4
	CropSize int    // 512
	Crop     string // "center" or "random"
	Small    string // images smaller than the crop: "pad" (reflect) or "skip"
	USM      bool   // sharpen the saved HR (realesrgan), as SeeSR's test-set script does
	Seed     uint64
}

// ErrTooSmall is returned for images smaller than the crop when Small is "skip".
var ErrTooSmall = errors.New("image is smaller than the crop")

// Pair is one built HR/LR pair and the random choices that made it.
type Pair struct {
	HR, LR *img.Image
	Log    map[string]any
}

type preset struct {
	summary string
	build   func(hr *img.Image, r *rng.Source, scale int, log map[string]any) (*img.Image, error)
}

var presets = map[string]preset{
	"sr4": {"MATLAB bicubic ×1/4", func(hr *img.Image, _ *rng.Source, s int, _ map[string]any) (*img.Image, error) {
		return imresize.Image(hr, 1/float64(s))
	}},
	"blur2-sr4": {"isotropic Gaussian blur σ=2 (21×21, reflect), then MATLAB bicubic ×1/4", func(hr *img.Image, _ *rng.Source, s int, _ map[string]any) (*img.Image, error) {
		return imresize.Image(GaussianBlur(hr, 21, 2), 1/float64(s))
	}},
	"sr4-noise40": {"MATLAB bicubic ×1/4, then Gaussian noise σ=40 (0–255 scale, per channel), clipped", func(hr *img.Image, r *rng.Source, s int, _ map[string]any) (*img.Image, error) {
		lr, err := imresize.Image(hr, 1/float64(s))
		if err != nil {
			return nil, err
		}
		return AddGaussianNoise(lr, r, 40, false), nil
	}},
	"blur2-sr4-noise20-jpeg50": {"blur σ=2, MATLAB bicubic ×1/4, Gaussian noise σ=20, JPEG quality 50", func(hr *img.Image, r *rng.Source, s int, _ map[string]any) (*img.Image, error) {
		lr, err := imresize.Image(GaussianBlur(hr, 21, 2), 1/float64(s))
		if err != nil {
			return nil, err
		}
		return JPEG(AddGaussianNoise(lr, r, 20, false).Quantized(), 50)
	}},
	"realesrgan": {"Real-ESRGAN x4plus second-order degradation (LR from the USM-sharpened HR)", realESRGAN},
}

// Presets lists the preset names.
func Presets() []string {
	var n []string
	for k := range presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Summary describes a preset.
func Summary(name string) string { return presets[name].summary }

// Build crops src and degrades the crop. The image's randomness comes from
// the stream (Seed, stem), so it does not depend on other images or workers.
func Build(src *img.Image, stem string, o Options) (Pair, error) {
	p, ok := presets[o.Preset]
	if !ok {
		return Pair{}, fmt.Errorf("unknown preset %q; known: %v", o.Preset, Presets())
	}
	if o.Scale <= 0 || o.CropSize <= 0 || o.CropSize%o.Scale != 0 {
		return Pair{}, fmt.Errorf("crop size %d must be a positive multiple of the scale %d", o.CropSize, o.Scale)
	}
	r := rng.New(o.Seed, stem)
	log := map[string]any{}
	hr, err := crop(src, r, o, log)
	if err != nil {
		return Pair{}, err
	}
	lr, err := p.build(hr, r, o.Scale, log)
	if err != nil {
		return Pair{}, err
	}
	if lr.W != hr.W/o.Scale || lr.H != hr.H/o.Scale {
		return Pair{}, fmt.Errorf("preset %s made a %dx%d LR from a %dx%d HR", o.Preset, lr.W, lr.H, hr.W, hr.H)
	}
	if o.USM {
		hr = USMSharp(hr)
	}
	return Pair{HR: hr.Quantized(), LR: lr.Quantized(), Log: log}, nil
}

func crop(src *img.Image, r *rng.Source, o Options, log map[string]any) (*img.Image, error) {
	n := o.CropSize
	if src.W < n || src.H < n {
		if o.Small != "pad" {
			return nil, fmt.Errorf("%w: %dx%d < %d² (use --small pad to reflect-pad it)", ErrTooSmall, src.W, src.H, n)
		}
		src = reflectPad(src, max(n, src.W), max(n, src.H))
		log["padded"] = true
	}
	x0, y0 := (src.W-n)/2, (src.H-n)/2
	if o.Crop == "random" {
		x0, y0 = r.IntN(src.W-n+1), r.IntN(src.H-n+1)
	}
	log["crop"] = [2]int{x0, y0}
	return src.Crop(x0, y0, n, n)
}

// reflectPad grows m to w×h, mirroring (without repeating the edge) to the
// right and bottom.
func reflectPad(m *img.Image, w, h int) *img.Image {
	out := img.New(w, h)
	for c := 0; c < 3; c++ {
		for y := 0; y < h; y++ {
			sy := reflect(y, m.H)
			for x := 0; x < w; x++ {
				out.Planes[c][y*w+x] = m.Planes[c][sy*m.W+reflect(x, m.W)]
			}
		}
	}
	return out
}

// Real-ESRGAN x4plus settings (options/train_realesrnet_x4plus.yml).
var (
	RealESRGANStage1 = KernelParams{Probs: [6]float64{0.45, 0.25, 0.12, 0.03, 0.12, 0.03}, Sigma: [2]float64{0.2, 3}, BetaG: [2]float64{0.5, 4}, BetaP: [2]float64{1, 2}, SincProb: 0.1}
	RealESRGANStage2 = KernelParams{Probs: [6]float64{0.45, 0.25, 0.12, 0.03, 0.12, 0.03}, Sigma: [2]float64{0.2, 1.5}, BetaG: [2]float64{0.5, 4}, BetaP: [2]float64{1, 2}, SincProb: 0.1}
)

type stageNoise struct {
	resizeProb            [3]float64 // up, down, keep
	resizeRange           [2]float64
	gaussProb, greyProb   float64
	sigma, poisson, jpegQ [2]float64
}

var (
	esrganNoise1 = stageNoise{[3]float64{0.2, 0.7, 0.1}, [2]float64{0.15, 1.5}, 0.5, 0.4, [2]float64{1, 30}, [2]float64{0.05, 3}, [2]float64{30, 95}}
	esrganNoise2 = stageNoise{[3]float64{0.3, 0.4, 0.3}, [2]float64{0.3, 1.2}, 0.5, 0.4, [2]float64{1, 25}, [2]float64{0.05, 2.5}, [2]float64{30, 95}}
)

func randomMode(r *rng.Source) imresize.TorchMode {
	return imresize.TorchModes[r.IntN(len(imresize.TorchModes))]
}

func (n stageNoise) scale(r *rng.Source) (string, float64) {
	switch r.Choice(n.resizeProb[:]) {
	case 0:
		return "up", r.Uniform(1, n.resizeRange[1])
	case 1:
		return "down", r.Uniform(n.resizeRange[0], 1)
	}
	return "keep", 1
}

func (n stageNoise) noise(m *img.Image, r *rng.Source, log map[string]any, key string) *img.Image {
	gauss := r.Float64() < n.gaussProb
	grey := r.Float64() < n.greyProb
	if gauss {
		s := r.Uniform(n.sigma[0], n.sigma[1])
		log[key] = map[string]any{"type": "gaussian", "sigma": s, "grey": grey}
		return AddGaussianNoise(m, r, s, grey)
	}
	s := r.Uniform(n.poisson[0], n.poisson[1])
	log[key] = map[string]any{"type": "poisson", "scale": s, "grey": grey}
	return AddPoissonNoise(m, r, s, grey)
}

// realESRGAN is RealESRGANModel.feed_data's degradation with the x4plus
// options, drawn from our own random stream.
func realESRGAN(hr *img.Image, r *rng.Source, s int, log map[string]any) (*img.Image, error) {
	k1, c1 := RandomKernel(r, RealESRGANStage1)
	k2, c2 := RandomKernel(r, RealESRGANStage2)
	sinc := Pulse(21)
	finalSinc := map[string]any{"kind": "pulse"}
	if r.Float64() < 0.8 {
		size := KernelSizes[r.IntN(len(KernelSizes))]
		omega := r.Uniform(math.Pi/3, math.Pi)
		sinc = Sinc(size, omega).PadTo(21)
		finalSinc = map[string]any{"kind": "sinc", "size": size, "omega": omega}
	}
	log["kernel1"], log["kernel2"], log["final_sinc"] = c1, c2, finalSinc
	oriW, oriH := hr.W, hr.H

	out, err := Filter2D(USMSharp(hr), k1.Trim())
	if err != nil {
		return nil, err
	}
	// First resize, noise, JPEG.
	kind, sc := esrganNoise1.scale(r)
	mode := randomMode(r)
	log["resize1"] = map[string]any{"type": kind, "scale": sc, "mode": mode}
	if out, err = imresize.TorchResize(out, imresize.TorchScaledSize(out.W, sc), imresize.TorchScaledSize(out.H, sc), mode, sc, sc); err != nil {
		return nil, err
	}
	out = esrganNoise1.noise(out, r, log, "noise1")
	q := r.Uniform(esrganNoise1.jpegQ[0], esrganNoise1.jpegQ[1])
	log["jpeg1"] = q
	out = DiffJPEG(out, q)

	// Second stage.
	if r.Float64() < 0.8 {
		if out, err = Filter2D(out, k2.Trim()); err != nil {
			return nil, err
		}
		log["blur2"] = true
	}
	kind, sc = esrganNoise2.scale(r)
	mode = randomMode(r)
	log["resize2"] = map[string]any{"type": kind, "scale": sc, "mode": mode}
	w2, h2 := int(float64(oriW)/float64(s)*sc), int(float64(oriH)/float64(s)*sc)
	if w2 < 1 || h2 < 1 {
		w2, h2 = max(w2, 1), max(h2, 1)
	}
	if out, err = imresize.TorchResize(out, w2, h2, mode, 0, 0); err != nil {
		return nil, err
	}
	out = esrganNoise2.noise(out, r, log, "noise2")

	// Final: resize back to HR/scale and sinc, JPEG before or after.
	finalResize := func() error {
		m := randomMode(r)
		log["resize_final_mode"] = m
		var err error
		out, err = imresize.TorchResize(out, oriW/s, oriH/s, m, 0, 0)
		if err != nil {
			return err
		}
		out, err = Filter2D(out, sinc.Trim())
		return err
	}
	jpeg := func() {
		q := r.Uniform(esrganNoise2.jpegQ[0], esrganNoise2.jpegQ[1])
		log["jpeg2"] = q
		out = DiffJPEG(clampImage(out), q)
	}
	if r.Float64() < 0.5 {
		log["final_order"] = "resize+sinc, jpeg"
		if err := finalResize(); err != nil {
			return nil, err
		}
		jpeg()
	} else {
		log["final_order"] = "jpeg, resize+sinc"
		jpeg()
		if err := finalResize(); err != nil {
			return nil, err
		}
	}
	return clampImage(out), nil
}

func clampImage(m *img.Image) *img.Image {
	out := img.New(m.W, m.H)
	for c := range m.Planes {
		for i, v := range m.Planes[c] {
			out.Planes[c][i] = float32(math.Min(math.Max(float64(v), 0), 1))
		}
	}
	return out
}
