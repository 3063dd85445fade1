package metrics

import (
	"context"
	"fmt"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/models"
)

// No-reference learned metrics whose networks run as ONNX graphs exported by
// models/export/, with pyiqa's preprocessing done here in Go.

func init() {
	register("maniqa", "MANIQA (KonIQ weights, pyiqa's default): 20 of a 5×5 grid of 224² crops, token-weighted score", func(c Config) (Metric, error) {
		return &maniqa{onnxModel: onnxModel{cfg: c, stem: "maniqa-koniq", inputs: 1, outputs: 2, outputNames: maniqaOutputs}, name: "maniqa"}, nil
	})
	register("maniqa-pipal", "MANIQA (PIPAL weights, as SeeSR/AddSR report)", func(c Config) (Metric, error) {
		return &maniqa{onnxModel: onnxModel{cfg: c, stem: "maniqa-pipal", inputs: 1, outputs: 2, outputNames: maniqaOutputs}, name: "maniqa-pipal"}, nil
	})
	register("clipiqa", "CLIPIQA (CLIP RN50, 5 antonym prompt pairs), full resolution", func(c Config) (Metric, error) {
		return &clipiqa{onnxModel: onnxModel{cfg: c, stem: "clipiqa", inputs: 1, outputs: 1}}, nil
	})
}

// maniqaOutputs are the outputs models/export/maniqa.py names: per-token
// scores and weights.
var maniqaOutputs = []string{"score", "weight"}

// ManiqaCrop is the crop size and ManiqaCrops the number of crops.
const (
	ManiqaCrop  = 224
	ManiqaCrops = 20
)

type maniqa struct {
	onnxModel
	name string
}

func (m *maniqa) Name() string         { return m.name }
func (m *maniqa) Direction() Direction { return HigherIsBetter }
func (m *maniqa) NeedsReference() bool { return false }
func (m *maniqa) Fingerprint() string {
	return fingerprint(m.name, "pyiqa-uniform-crops-5x5-first20", m.cfg, m.modelID(), "v1")
}

// ManiqaInput builds the [20, 3, 224, 224] batch: (x−0.5)/0.5; when the short
// side is at most 224, a bilinear upscale by 225/short side (F.interpolate
// with that scale factor, align_corners=False); then a 5×5 grid of crops at
// steps (H−224)/4 and (W−224)/4 (integer division), the first 20 in row-major
// order.
func ManiqaInput(m *img.Image) ([]float32, error) {
	norm := img.New(m.W, m.H)
	byPlaneSlices(m.Pixels(), func(c, j, _, k int) {
		dst := norm.Planes[c][j : j+k]
		for i, v := range m.Planes[c][j : j+k] {
			dst[i] = (v - 0.5) / 0.5
		}
	})
	if short := min(m.W, m.H); short <= ManiqaCrop {
		sf := float64(ManiqaCrop+1) / float64(short)
		var err error
		norm, err = imresize.TorchResize(norm, imresize.TorchScaledSize(m.W, sf), imresize.TorchScaledSize(m.H, sf), imresize.Bilinear, sf, sf)
		if err != nil {
			return nil, err
		}
	}
	if norm.W < ManiqaCrop || norm.H < ManiqaCrop {
		return nil, fmt.Errorf("image of %dx%d is too small for 224² crops after upscaling", m.W, m.H)
	}
	sh, sw := (norm.H-ManiqaCrop)/4, (norm.W-ManiqaCrop)/4
	const crop = 3 * ManiqaCrop * ManiqaCrop
	out := make([]float32, ManiqaCrops*crop)
	workpool.Run(context.Background(), ManiqaCrops, 0, func(k int) {
		y0, x0 := (k/5)*sh, (k%5)*sw
		dst := out[k*crop:]
		for c := 0; c < 3; c++ {
			for y := 0; y < ManiqaCrop; y++ {
				copy(dst[(c*ManiqaCrop+y)*ManiqaCrop:][:ManiqaCrop], norm.Planes[c][(y0+y)*norm.W+x0:][:ManiqaCrop])
			}
		}
	})
	return out, nil
}

func (m *maniqa) Score(dist, _ *img.Image) (float64, error) { return scoreLearned(m, dist, nil) }
func (m *maniqa) ScoreBatch(dists, _ []*img.Image) ([]float64, []error) {
	return scoreLearnedBatch(m, dists, nil)
}
func (m *maniqa) model() *onnxModel { return &m.onnxModel }

// No pixel limit: MANIQA sees 20 fixed-size crops whatever the size.
func (m *maniqa) input(dist, _ *img.Image) (graphInput, error) {
	d, _, err := prepare(m.name, m.cfg, dist, nil, false)
	if err != nil {
		return graphInput{}, err
	}
	in, err := ManiqaInput(d)
	if err != nil {
		return graphInput{}, fmt.Errorf("%s: %w", m.name, err)
	}
	return graphInput{tensors: []models.Tensor{{Shape: []int64{ManiqaCrops, 3, ManiqaCrop, ManiqaCrop}, Data: in}}, w: d.W, h: d.H}, nil
}

func (m *maniqa) memory(in graphInput) int64 { return int64(in.rows()) * maniqaBytesPerCrop }

func (m *maniqa) largestTensor(in graphInput) int64 { return int64(in.rows()) * maniqaElementsPerCrop }

// reduce is Σ(w·s)/(Σw + 1e-8) over every token of the image's crops, as
// pyiqa's MANIQA does after flattening the crops into one sample.
func (m *maniqa) reduce(out []models.Tensor, row0, rows, total int) (float64, error) {
	s, w := out[0].Data, out[1].Data
	if len(s) != len(w) || len(s) == 0 || len(s)%total != 0 {
		return 0, fmt.Errorf("%s: the graph returned %d scores and %d weights for %d crops", m.name, len(s), len(w), total)
	}
	t := len(s) / total // tokens per crop
	var num, den float64
	for i := row0 * t; i < (row0+rows)*t; i++ {
		num += float64(w[i]) * float64(s[i])
		den += float64(w[i])
	}
	return num / (den + 1e-8), nil
}

// CLIP's normalisation (OPENAI_CLIP_MEAN, OPENAI_CLIP_STD).
var (
	clipMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	clipStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

type clipiqa struct {
	onnxModel
}

func (m *clipiqa) Name() string         { return "clipiqa" }
func (m *clipiqa) Direction() Direction { return HigherIsBetter }
func (m *clipiqa) NeedsReference() bool { return false }
func (m *clipiqa) Fingerprint() string {
	return fingerprint("clipiqa", "pyiqa-rn50-full-res-clip-norm", m.cfg, m.modelID(), "v1")
}

// ClipInput is the image as [1, 3, H, W], normalised with CLIP's mean and
// std (divided, as torchvision's Normalize does). By plane slices on all
// cores, as toSigned.
func ClipInput(m *img.Image) []float32 {
	n := m.Pixels()
	out := make([]float32, 3*n)
	byPlaneSlices(n, func(c, j, at, k int) {
		mean, std, dst := clipMean[c], clipStd[c], out[at:at+k]
		for i, v := range m.Planes[c][j : j+k] {
			dst[i] = (v - mean) / std
		}
	})
	return out
}

func (m *clipiqa) Score(dist, _ *img.Image) (float64, error) { return scoreLearned(m, dist, nil) }
func (m *clipiqa) ScoreBatch(dists, _ []*img.Image) ([]float64, []error) {
	return scoreLearnedBatch(m, dists, nil)
}
func (m *clipiqa) model() *onnxModel { return &m.onnxModel }

func (m *clipiqa) input(dist, _ *img.Image) (graphInput, error) {
	d, _, err := prepare("clipiqa", m.cfg, dist, nil, false)
	if err != nil {
		return graphInput{}, err
	}
	if d.W < 32 || d.H < 32 {
		return graphInput{}, fmt.Errorf("clipiqa needs at least 32×32 pixels, got %dx%d", d.W, d.H)
	}
	if err := m.checkSize("clipiqa", d); err != nil {
		return graphInput{}, err
	}
	return graphInput{tensors: []models.Tensor{{Shape: []int64{1, 3, int64(d.H), int64(d.W)}, Data: ClipInput(d)}}, w: d.W, h: d.H}, nil
}

func (m *clipiqa) memory(in graphInput) int64 {
	return int64(in.rows()) * int64(in.w) * int64(in.h) * clipBytesPerPixel
}

func (m *clipiqa) largestTensor(in graphInput) int64 {
	return int64(len(in.tensors[0].Data)) / 3 * clipElementsPerPixel
}

func (m *clipiqa) reduce(out []models.Tensor, row0, rows, total int) (float64, error) {
	return rowValue("clipiqa", out, row0, rows, total)
}
