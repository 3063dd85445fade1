package metrics

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/models"
)

// MUSIQ's multi-scale patch input, built in Go as pyiqa's
// get_multiscale_patches builds it (after the official TensorFlow code).

func init() {
	register("musiq", "MUSIQ (KonIQ): multi-scale 32² patches (longer side 224, 384, native) with hashed positions", func(c Config) (Metric, error) {
		return &musiq{onnxModel: onnxModel{cfg: c, stem: "musiq-koniq", inputs: 1, outputs: 1}}, nil
	})
}

const (
	MusiqPatch = 32
	MusiqGrid  = 10 // hashed spatial positions form a 10×10 grid
	MusiqDim   = 3*MusiqPatch*MusiqPatch + 3
)

// MusiqScales are the resized scales' longer sides.
var MusiqScales = []int{224, 384}

type musiq struct {
	onnxModel
}

func (m *musiq) Name() string         { return "musiq" }
func (m *musiq) Direction() Direction { return HigherIsBetter }
func (m *musiq) NeedsReference() bool { return false }
func (m *musiq) Fingerprint() string {
	return fingerprint("musiq", "pyiqa-multiscale-224-384-native-grid10", m.cfg, m.modelID(), "v1")
}

// MusiqInput returns the tokens [seq, 3075] (each: 3072 pixel values in
// channel-row-column order, hashed position, scale id, mask) for the image:
// (x−0.5)·2; for each longer side L in 224, 384 a bicubic resize (PyTorch
// semantics, the size rounded as Python's round) padded or cut to (L/32)²
// tokens; then every patch of the image at its own size (scale id 2).
// Patches are 32×32 with stride 32 and TensorFlow 'SAME' zero padding.
func MusiqInput(m *img.Image) ([]float32, int, error) {
	// The token count is known before any pixel is touched: one buffer,
	// zeroed (padding tokens, TF-SAME's padding), which the two resized
	// scales and the native one fill at once, each its own part.
	type part struct {
		w, h, maxSeq, at int
	}
	parts := make([]part, len(MusiqScales)+1)
	seq := 0
	for id, L := range MusiqScales {
		ratio := float64(L) / float64(max(m.W, m.H))
		rh, rw := int(math.RoundToEven(float64(m.H)*ratio)), int(math.RoundToEven(float64(m.W)*ratio))
		if rh < 1 || rw < 1 {
			return nil, 0, fmt.Errorf("a %dx%d image is too thin: its %d-pixel scale would be %dx%d (pyiqa fails on it too)", m.W, m.H, L, rw, rh)
		}
		n := int(math.Ceil(float64(L)/MusiqPatch)) * int(math.Ceil(float64(L)/MusiqPatch))
		parts[id] = part{w: rw, h: rh, maxSeq: n, at: seq}
		seq += n
	}
	native := ((m.H + MusiqPatch - 1) / MusiqPatch) * ((m.W + MusiqPatch - 1) / MusiqPatch)
	parts[len(MusiqScales)] = part{w: m.W, h: m.H, maxSeq: native, at: seq}
	seq += native
	norm := img.New(m.W, m.H)
	for c := range m.Planes {
		for i, v := range m.Planes[c] {
			norm.Planes[c][i] = (v - 0.5) * 2
		}
	}
	out := make([]float32, seq*MusiqDim)
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for id, p := range parts {
		wg.Go(func() {
			src := norm
			if id < len(MusiqScales) {
				if src, errs[id] = imresize.TorchResize(norm, p.w, p.h, imresize.Bicubic, 0, 0); errs[id] != nil {
					return
				}
			}
			musiqPatches(out[p.at*MusiqDim:(p.at+p.maxSeq)*MusiqDim], src, id)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	return out, seq, nil
}

// musiqPatches writes m's 32² patches (row-major; as many as dst holds),
// with TF 'SAME' padding (the odd pixel at the bottom/right), each followed
// by its hashed position, the scale id and mask 1, into dst, which must be
// zeroed: the padding is left as it is.
func musiqPatches(dst []float32, m *img.Image, scaleID int) {
	ch, cw := (m.H+MusiqPatch-1)/MusiqPatch, (m.W+MusiqPatch-1)/MusiqPatch
	padT := ((ch-1)*MusiqPatch + MusiqPatch - m.H) / 2
	padL := ((cw-1)*MusiqPatch + MusiqPatch - m.W) / 2
	hashH, hashW := musiqHash(ch), musiqHash(cw)
	o := 0
	for py := 0; py < ch; py++ {
		for px := 0; px < cw; px++ {
			if o+MusiqDim > len(dst) {
				return
			}
			x0 := px*MusiqPatch - padL
			lo, hi := max(0, -x0), min(MusiqPatch, m.W-x0) // the patch row's columns inside the image
			for c := 0; c < 3; c++ {
				plane := m.Planes[c]
				for ky := 0; ky < MusiqPatch; ky++ {
					if y := py*MusiqPatch + ky - padT; y >= 0 && y < m.H && lo < hi {
						copy(dst[o+lo:o+hi], plane[y*m.W+x0+lo:y*m.W+x0+hi])
					}
					o += MusiqPatch
				}
			}
			dst[o], dst[o+1], dst[o+2] = float32(hashH[py]*MusiqGrid+hashW[px]), float32(scaleID), 1
			o += 3
		}
	}
}

// musiqHash maps n patch positions onto the grid as F.interpolate(mode
// 'nearest') does: position i → floor(i·grid/n).
func musiqHash(n int) []int {
	out := make([]int, n)
	scale := float32(MusiqGrid) / float32(n)
	for i := range out {
		out[i] = min(int(math.Floor(float64(float32(i)*scale))), MusiqGrid-1)
	}
	return out
}

func (m *musiq) Score(dist, _ *img.Image) (float64, error) { return scoreLearned(m, dist, nil) }
func (m *musiq) ScoreBatch(dists, _ []*img.Image) ([]float64, []error) {
	return scoreLearnedBatch(m, dists, nil)
}
func (m *musiq) model() *onnxModel { return &m.onnxModel }

func (m *musiq) input(dist, _ *img.Image) (graphInput, error) {
	d, _, err := prepare("musiq", m.cfg, dist, nil, false)
	if err != nil {
		return graphInput{}, err
	}
	if err := m.checkSize("musiq", d); err != nil {
		return graphInput{}, err
	}
	in, seq, err := MusiqInput(d)
	if err != nil {
		return graphInput{}, fmt.Errorf("musiq: %w", err)
	}
	return graphInput{tensors: []models.Tensor{{Shape: []int64{1, int64(seq), MusiqDim}, Data: in}}, w: d.W, h: d.H}, nil
}

func (m *musiq) memory(in graphInput) int64 {
	return musiqMemory(in.rows(), int(in.tensors[0].Shape[1]))
}

func (m *musiq) largestTensor(in graphInput) int64 {
	seq := in.tensors[0].Shape[1]
	return int64(in.rows()) * max(seq*musiqElementsPerToken, musiqHeads*(seq+1)*(seq+1))
}

func (m *musiq) reduce(out []models.Tensor, row0, rows, total int) (float64, error) {
	return rowValue("musiq", out, row0, rows, total)
}
