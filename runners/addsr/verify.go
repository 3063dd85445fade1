package addsr

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/addsr-bench/addsr-bench/internal/half"
	"github.com/addsr-bench/addsr-bench/models"
)

// GraphResult is one graph's check: the largest |onnx − torch| and the
// largest ratio of it to the allowed atol + rtol·|torch| (≤ 1 passes).
type GraphResult struct {
	Graph         string
	MaxAbs, Worst float64
	Output        string // the output with the worst ratio
	Pass          bool
	Err           error
}

// Verify runs each graph of the pipeline in dir on its check inputs (the
// manifest's check section, written by the exporter) on dev, and compares
// with the PyTorch module's outputs. A pipeline without a check section is
// an error.
func Verify(dir string, dev models.Device) ([]GraphResult, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if m.Check == nil {
		return nil, fmt.Errorf("%s has no check section: export the pipeline again with models/export/addsr.py", m.file)
	}
	if err := m.present(m.Check.File, m.Check.SHA256, true); err != nil {
		return nil, fmt.Errorf("%s: check: %w", m.file, err)
	}
	raw, err := os.ReadFile(m.Path(m.Check.File))
	if err != nil {
		return nil, err
	}
	read := func(t CheckTensor) (models.Tensor, error) {
		n := int64(1)
		for _, d := range t.Shape {
			n *= d
		}
		size := int64(4)
		if t.DType == "f16" {
			size = 2
		}
		if t.Offset < 0 || n < 0 || t.Offset+n*size > int64(len(raw)) {
			return models.Tensor{}, fmt.Errorf("%s: tensor %q (%v at %d) lies past the file's end", m.Path(m.Check.File), t.Name, t.Shape, t.Offset)
		}
		out := models.Tensor{Shape: t.Shape, Data: make([]float32, n)}
		b := raw[t.Offset : t.Offset+n*size]
		if t.DType == "f16" {
			half.Decode(out.Data, b)
		} else {
			for i := range out.Data {
				out.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
		return out, nil
	}
	var res []GraphResult
	for _, name := range GraphNames {
		c, ok := m.Check.Graphs[name]
		if !ok {
			continue
		}
		r := GraphResult{Graph: name}
		r.Err = func() error {
			g := m.Graphs[name]
			s, err := models.OpenVerified(m.Path(g.File), models.HashManifest(name, g.SHA256, m.file), dev)
			if err != nil {
				return err
			}
			defer s.Close()
			// find reads the check's tensor called want ("input" or "output").
			find := func(list []CheckTensor, kind, want string) (models.Tensor, error) {
				i := slices.IndexFunc(list, func(t CheckTensor) bool { return t.Name == want })
				if i < 0 {
					return models.Tensor{}, fmt.Errorf("%s: the check has no %s %q for graph %q", m.file, kind, want, name)
				}
				return read(list[i])
			}
			var ins []models.Tensor
			for _, want := range g.Inputs {
				t, err := find(c.Inputs, "input", want)
				if err != nil {
					return err
				}
				ins = append(ins, t)
			}
			outs, err := s.Run(ins...)
			if err != nil {
				return err
			}
			for j, o := range g.Outputs {
				want, err := find(c.Outputs, "output", o)
				if err != nil {
					return err
				}
				if !slices.Equal(outs[j].Shape, want.Shape) {
					return fmt.Errorf("%s: output %q has shape %v, PyTorch's %v", name, o, outs[j].Shape, want.Shape)
				}
				for k, w := range want.Data {
					d := math.Abs(float64(outs[j].Data[k]) - float64(w))
					r.MaxAbs = max(r.MaxAbs, d)
					if q := d / (c.ATol + c.RTol*math.Abs(float64(w))); q > r.Worst || math.IsNaN(q) {
						r.Worst, r.Output = q, o
					}
				}
			}
			return nil
		}()
		r.Pass = r.Err == nil && r.Worst <= 1
		res = append(res, r)
	}
	return res, nil
}
