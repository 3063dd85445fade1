package metrics

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/addsr-bench/addsr-bench/internal/img"
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

// ModelPath finds a metric's ONNX model: in Config.Models when set, else in
// the project's cache (models/NAME.onnx).
func ModelPath(cfg Config, stem string) (string, error) {
	if cfg.Models != "" {
		p := filepath.Join(cfg.Models, stem+".onnx")
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w; export it with models/export/ (see README, Learned metrics)", p, err)
		}
		return p, nil
	}
	if p, ok := models.CachedFile(filepath.Join("models", stem+".onnx")); ok {
		return p, nil
	}
	return "", fmt.Errorf("no %s.onnx: export it with models/export/ and put it with its manifest in .cache/models/ or a folder given by --models", stem)
}

func (m *lpips) Score(dist, ref *img.Image) (float64, error) {
	d, r, err := prepare(m.name, m.cfg, dist, ref, true)
	if err != nil {
		return 0, err
	}
	if err := m.Ready(); err != nil {
		return 0, fmt.Errorf("%s: %w", m.name, err)
	}
	if d.W < 16 || d.H < 16 {
		return 0, fmt.Errorf("%s needs images of at least 16×16 pixels, got %dx%d", m.name, d.W, d.H)
	}
	if err := m.checkSize(m.name, d); err != nil {
		return 0, err
	}
	shape := []int64{1, 3, int64(d.H), int64(d.W)}
	return m.runScalar(m.name, models.Tensor{Shape: shape, Data: toSigned(d)}, models.Tensor{Shape: shape, Data: toSigned(r)})
}

// toSigned is the image as a planar tensor in [−1, 1]: ToTensor's v/255,
// then ×2−1, as pyiqa and the lpips package normalise.
func toSigned(m *img.Image) []float32 {
	out := make([]float32, 0, 3*m.Pixels())
	for c := 0; c < 3; c++ {
		for _, v := range m.Planes[c] {
			out = append(out, v*2-1)
		}
	}
	return out
}

// onnxModel is the ONNX graph behind a learned metric, loaded on first use
// (listing metrics must not need their models) and checked against its
// manifest.
type onnxModel struct {
	cfg             Config
	stem            string // file stem: lpips-alex, maniqa-koniq, …
	inputs, outputs int

	once sync.Once
	s    *models.Session
	man  *models.Manifest
	err  error
}

// Ready loads the model, so that a run fails before it starts, not on every
// image, when the model is missing or wrong.
func (m *onnxModel) Ready() error {
	m.once.Do(func() {
		p, err := ModelPath(m.cfg, m.stem)
		if err != nil {
			m.err = err
			return
		}
		if m.man, err = models.LoadManifest(p); err != nil {
			m.err = err
			return
		}
		if m.man.Kind != "metric" {
			m.err = fmt.Errorf("%s is a %q model, not a metric", p, m.man.Kind)
			return
		}
		s, err := models.OpenOn(p, m.cfg.Device)
		if err != nil {
			m.err = err
			return
		}
		if len(s.Inputs()) != m.inputs || len(s.Outputs()) != m.outputs {
			s.Close()
			m.err = fmt.Errorf("%s has %d inputs and %d outputs; this metric's graph has %d and %d (see models/export/)", p, len(s.Inputs()), len(s.Outputs()), m.inputs, m.outputs)
			return
		}
		m.s = s
	})
	return m.err
}

// modelID names the model file and its SHA-256 for fingerprints.
func (m *onnxModel) modelID() string {
	m.Ready()
	sum := "missing"
	if m.man != nil {
		sum = m.man.SHA256
	}
	id := "model=" + m.stem + ".onnx;sha256=" + sum
	if m.s != nil {
		// Scores from different execution providers differ in the last
		// digits: runs scored on a GPU and on a CPU must not be merged.
		p := m.s.Placement()
		id += ";ep=" + p.EP + ";ort=" + p.ORTVersion
	}
	return id
}

// prepareNR crops a no-reference metric's image, loads the model and checks
// the image against the pixel limit.
func (m *onnxModel) prepareNR(name string, dist *img.Image) (*img.Image, error) {
	d, _, err := prepare(name, m.cfg, dist, nil, false)
	if err != nil {
		return nil, err
	}
	if err := m.Ready(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, m.checkSize(name, d)
}

// runScalar runs the graph for one image (pair) and returns its one value.
func (m *onnxModel) runScalar(name string, in ...models.Tensor) (float64, error) {
	out, err := m.run(name, in...)
	if err != nil {
		return 0, err
	}
	if len(out[0].Data) != 1 {
		return 0, fmt.Errorf("%s: the graph returned %d values for one image", name, len(out[0].Data))
	}
	return float64(out[0].Data[0]), nil
}

// run runs the graph; when the runtime could not allocate the activations,
// the error says what to do about it.
func (m *onnxModel) run(name string, in ...models.Tensor) ([]models.Tensor, error) {
	out, err := m.s.Run(in...)
	if err != nil {
		return nil, runError(name, m.s.Placement().Device, in[0].Shape, err)
	}
	return out, nil
}

// runError names the metric, and for a failed allocation the device, the
// input's shape and the ways out.
func runError(name, device string, shape []int64, err error) error {
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "allocate") || strings.Contains(msg, "out of memory") {
		return fmt.Errorf("%s: out of memory on %s for an input of shape %v (%w); crop or downscale the image, score fewer images at once (--workers 1), lower --metric-max-pixels, or use a device with more memory",
			name, device, shape, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// checkSize refuses images over the pixel limit for full-resolution networks.
func (m *onnxModel) checkSize(name string, d *img.Image) error {
	if lim := m.cfg.MaxPixels; lim > 0 && int64(d.Pixels()) > lim {
		return fmt.Errorf("%s: a %dx%d image is over the %d-pixel limit for full-resolution networks (activations grow with the area); crop it, or raise the limit (--metric-max-pixels) if the memory is there",
			name, d.W, d.H, lim)
	}
	return nil
}
