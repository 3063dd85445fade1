package metrics

import (
	"fmt"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/models"
)

// LPIPS runs an exported LPIPS graph (models/export/lpips.py): inputs img0
// and img1, N×3×H×W in [−1, 1] (pyiqa's and the lpips package's
// normalisation), output the N distances. Any image size.

func init() {
	register("lpips", "LPIPS v0.1, AlexNet (pyiqa's default); ONNX model lpips-alex.onnx", func(c Config) (Metric, error) {
		return newLPIPS(c, "lpips", "lpips-alex")
	})
	register("lpips-vgg", "LPIPS v0.1, VGG16; ONNX model lpips-vgg.onnx", func(c Config) (Metric, error) {
		return newLPIPS(c, "lpips-vgg", "lpips-vgg")
	})
}

type lpips struct {
	onnxModel
	name string
}

func newLPIPS(c Config, name, model string) (Metric, error) {
	return &lpips{onnxModel: onnxModel{cfg: c, stem: model, inputs: 2, outputs: 1}, name: name}, nil
}

func (m *lpips) Name() string         { return m.name }
func (m *lpips) Direction() Direction { return LowerIsBetter }
func (m *lpips) NeedsReference() bool { return true }

// Fingerprint names the weights by their SHA-256 (or says they are missing).
func (m *lpips) Fingerprint() string {
	return fingerprint(m.name, "pyiqa-v0.1", m.cfg, m.modelID(), "v1")
}

func (m *lpips) Score(dist, ref *img.Image) (float64, error) { return scoreLearned(m, dist, ref) }
func (m *lpips) ScoreBatch(dists, refs []*img.Image) ([]float64, []error) {
	return scoreLearnedBatch(m, dists, refs)
}
func (m *lpips) model() *onnxModel { return &m.onnxModel }

func (m *lpips) input(dist, ref *img.Image) (graphInput, error) {
	d, r, err := prepare(m.name, m.cfg, dist, ref, true)
	if err != nil {
		return graphInput{}, err
	}
	if d.W < 16 || d.H < 16 {
		return graphInput{}, fmt.Errorf("%s needs images of at least 16×16 pixels, got %dx%d", m.name, d.W, d.H)
	}
	if err := m.checkSize(m.name, d); err != nil {
		return graphInput{}, err
	}
	shape := []int64{1, 3, int64(d.H), int64(d.W)}
	return graphInput{tensors: []models.Tensor{{Shape: shape, Data: toSigned(d)}, {Shape: shape, Data: toSigned(r)}}, w: d.W, h: d.H}, nil
}

func (m *lpips) memory(in graphInput) int64 {
	per := int64(lpipsAlexBytesPerPixel)
	if m.stem == "lpips-vgg" {
		per = lpipsVGGBytesPerPixel
	}
	return int64(in.rows()) * int64(in.w) * int64(in.h) * per
}

func (m *lpips) largestTensor(in graphInput) int64 {
	x := in.tensors[0] // [rows, 3, H, W]; the reference is the same size
	rows, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	if m.stem == "lpips-vgg" {
		return rows * lpipsVGGElementsPerPix * h * w
	}
	return rows * 64 * (h/4 + 1) * (w/4 + 1)
}

func (m *lpips) reduce(out []models.Tensor, row0, rows, total int) (float64, error) {
	return rowValue(m.name, out, row0, rows, total)
}

// toSigned is the image as a planar tensor in [−1, 1]: ToTensor's v/255,
// then ×2−1, as pyiqa and the lpips package normalise. Plane slices and all
// cores: on a GPU this runs in turn with the inferences (BenchmarkToSigned;
// (docs/performance.md, "Figures behind design choices")).
func toSigned(m *img.Image) []float32 {
	n := m.Pixels()
	out := make([]float32, 3*n)
	byPlaneSlices(n, func(c, j, at, k int) {
		dst := out[at : at+k]
		for i, v := range m.Planes[c][j : j+k] {
			dst[i] = v*2 - 1
		}
	})
	return out
}

// byPlaneSlices calls fn on all cores for the pieces of a planar 3×n tensor
// (three planes of n pixels, one after another): fn(c, j, at, k) gets k
// values of plane c from its pixel j, which sit at index at of the tensor.
// The per-value work stays in the caller's loop, without a call per value.
func byPlaneSlices(n int, fn func(c, j, at, k int)) {
	workpool.Split(3*n, 1<<16, func(lo, hi int) {
		for lo < hi { // a piece may straddle planes: one plane at a time
			c, j := lo/n, lo%n
			k := min(hi-lo, n-j)
			fn(c, j, lo, k)
			lo += k
		}
	})
}
