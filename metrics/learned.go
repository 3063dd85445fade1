package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	ort "github.com/yalue/onnxruntime_go"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/models"
)

// The machinery every ONNX-backed metric shares: finding and loading its
// graph, running it one image at a time or several stacked along the batch
// dimension, and errors that say what to do.

// BatchScorer is a Metric that can score several images with one inference
// per group of same-shape inputs, for throughput on GPUs. Each result equals
// what Score gives for that image (within the runtime's float rounding);
// errs[i] is that image's error.
type BatchScorer interface {
	Metric
	ScoreBatch(dists, refs []*img.Image) (vals []float64, errs []error)
}

// graphInput is one image's input to a learned metric's graph: one tensor
// per graph input, all with the same leading (batch) dimension — 1 for a
// whole image, 20 for MANIQA's crops.
type graphInput struct {
	tensors []models.Tensor
	w, h    int // the image's size, for messages
}

func (g graphInput) rows() int { return int(g.tensors[0].Shape[0]) }

// key is equal for inputs that can be stacked: the same shapes after the
// batch dimension.
func (g graphInput) key() string {
	var b strings.Builder
	for _, t := range g.tensors {
		fmt.Fprint(&b, t.Shape[1:], ";")
	}
	return b.String()
}

// learnedMetric is what each ONNX metric gives the shared scoring code.
type learnedMetric interface {
	Metric
	model() *onnxModel
	// input crops and checks one image (pair) and builds its graph input.
	input(dist, ref *img.Image) (graphInput, error)
	// reduce turns the image's rows [row0, row0+rows) of outputs that hold
	// total rows into its score.
	reduce(out []models.Tensor, row0, rows, total int) (float64, error)
	// memory estimates the activations' peak bytes for the input (memory.go).
	memory(in graphInput) int64
	// largestTensor is the element count of the largest tensor the graph
	// makes for the input, all rows together (memory.go): on a GPU it must
	// stay under cudaMaxElements.
	largestTensor(in graphInput) int64
}

// scoreLearned is every learned metric's Score: a batch of one.
func scoreLearned(l learnedMetric, dist, ref *img.Image) (float64, error) {
	vals, errs := scoreLearnedBatch(l, []*img.Image{dist}, []*img.Image{ref})
	return vals[0], errs[0]
}

// runFitted runs one image's input; when its activations would not fit the
// memory budget but its rows can go separately (MANIQA's 20 crops), it runs
// as many rows at a time as fit and joins the outputs, which gives the same
// result; otherwise an input over the budget is refused (checkMemory).
func runFitted(l learnedMetric, in graphInput) ([]models.Tensor, error) {
	m := l.model()
	budget, need, rows := m.memoryBudget(), l.memory(in), in.rows()
	limit, elems := m.elementLimit(), l.largestTensor(in)
	if (budget <= 0 || need <= budget) && (limit <= 0 || elems <= limit) {
		return m.run(l.Name(), in.tensors...)
	}
	if err := checkMemory(l, in); err != nil {
		return nil, err
	}
	if err := checkElements(l, in); err != nil {
		return nil, err
	}
	step := rows
	if budget > 0 {
		step = min(step, int(budget/max(need/int64(rows), 1)))
	}
	if limit > 0 {
		step = min(step, int(limit/max(elems/int64(rows), 1)))
	}
	step = max(step, 1)
	var out []models.Tensor
	for r := 0; r < rows; r += step {
		n := min(step, rows-r)
		part := make([]models.Tensor, len(in.tensors))
		for t, x := range in.tensors {
			per := len(x.Data) / rows
			part[t] = models.Tensor{Shape: append([]int64{int64(n)}, x.Shape[1:]...), Data: x.Data[r*per : (r+n)*per]}
		}
		o, err := m.run(l.Name(), part...)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = make([]models.Tensor, len(o))
			for t := range o {
				out[t].Shape = append([]int64{0}, o[t].Shape[1:]...)
			}
		}
		for t := range o {
			out[t].Shape[0] += o[t].Shape[0]
			out[t].Data = append(out[t].Data, o[t].Data...)
		}
	}
	return out, nil
}

// scoreLearnedBatch is every learned metric's ScoreBatch: same-shape inputs
// are stacked into one inference when the graph's batch dimension is free;
// when a stacked inference fails (memory, most often), its images are run
// one by one so that each gets its own result or error.
func scoreLearnedBatch(l learnedMetric, dists, refs []*img.Image) ([]float64, []error) {
	n := len(dists)
	vals, errs := make([]float64, n), make([]error, n)
	ins := make([]graphInput, n)
	// The inputs are built on all cores (MUSIQ's scales and patches take
	// milliseconds an image, a GPU runs the stacked graph in fewer).
	workpool.Run(context.Background(), n, 0, func(i int) {
		var ref *img.Image
		if refs != nil {
			ref = refs[i]
		}
		ins[i], errs[i] = l.input(dists[i], ref)
	})
	m := l.model()
	if err := m.Ready(); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("%s: %w", l.Name(), err)
			}
		}
		return vals, errs
	}
	for i := range ins {
		if errs[i] == nil {
			errs[i] = checkMemory(l, ins[i])
		}
		if errs[i] == nil {
			errs[i] = checkElements(l, ins[i])
		}
	}
	one := func(i int) {
		out, err := runFitted(l, ins[i])
		if err != nil {
			errs[i] = err
			return
		}
		vals[i], errs[i] = l.reduce(out, 0, ins[i].rows(), ins[i].rows())
	}
	var order []string
	groups := map[string][]int{}
	for i := range ins {
		if errs[i] != nil {
			continue
		}
		k := ins[i].key()
		if !m.stackable() {
			k = fmt.Sprint(i)
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	// Groups cut so that each stacked inference fits the memory budget and,
	// on a GPU, keeps its tensors indexable.
	var parts [][]int
	budget, limit := m.memoryBudget(), m.elementLimit()
	for _, k := range order {
		parts = append(parts, evenParts(groups[k], func(i int) (int64, int64) {
			return l.memory(ins[i]), l.largestTensor(ins[i])
		}, budget, limit)...)
	}
	for _, idx := range parts {
		if len(idx) == 1 {
			one(idx[0])
			continue
		}
		total := 0
		for _, i := range idx {
			total += ins[i].rows()
		}
		stacked := make([]models.Tensor, len(ins[idx[0]].tensors))
		for t := range stacked {
			shape := append([]int64{int64(total)}, ins[idx[0]].tensors[t].Shape[1:]...)
			data := make([]float32, 0, len(ins[idx[0]].tensors[t].Data)*len(idx))
			for _, i := range idx {
				data = append(data, ins[i].tensors[t].Data...)
			}
			stacked[t] = models.Tensor{Shape: shape, Data: data}
		}
		out, err := m.run(l.Name(), stacked...)
		if err != nil {
			for _, i := range idx {
				one(i)
			}
			continue
		}
		row := 0
		for _, i := range idx {
			vals[i], errs[i] = l.reduce(out, row, ins[i].rows(), total)
			row += ins[i].rows()
		}
	}
	return vals, errs
}

// evenParts cuts a group of same-shape inputs into as few stacked
// inferences as the memory budget and the element limit allow (0: none),
// of even sizes: 16 MANIQA images under a limit of 11 run as 8 and 8, not
// 11 and 5 (padded to 11 on a GPU, so 22 images' work). cost gives an
// input's memory and largest tensor, the same for every input of a group.
func evenParts(group []int, cost func(i int) (mem, elems int64), budget, limit int64) [][]int {
	if len(group) == 0 {
		return nil
	}
	mem, elems := cost(group[0])
	per := len(group)
	if budget > 0 && mem > 0 {
		per = min(per, int(budget/mem))
	}
	if limit > 0 && elems > 0 {
		per = min(per, int(limit/elems))
	}
	size := workpool.EvenChunk(len(group), per) // 1 for per ≤ 1: one alone runs (or fails) by itself
	var parts [][]int
	for lo := 0; lo < len(group); lo += size {
		parts = append(parts, group[lo:min(lo+size, len(group))])
	}
	return parts
}

// rowValue is the one value per row of a graph that scores each row (LPIPS,
// MUSIQ, CLIPIQA): the value of row row0.
func rowValue(name string, out []models.Tensor, row0, rows, total int) (float64, error) {
	d := out[0].Data
	if len(d) != total || rows != 1 {
		return 0, fmt.Errorf("%s: the graph returned %d values for %d images", name, len(d), total)
	}
	return float64(d[row0]), nil
}

// ModelPath finds a metric's ONNX model: in Config.Models when set, else in
// the project's cache (models/NAME.onnx).
func ModelPath(cfg Config, stem string) (string, error) {
	if cfg.Models != "" {
		p := filepath.Join(cfg.Models, stem+".onnx")
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w; export it with models/export/ (docs/metrics.md)", p, err)
		}
		return p, nil
	}
	if p, ok := models.CachedFile(filepath.Join("models", stem+".onnx")); ok {
		return p, nil
	}
	return "", fmt.Errorf("no %s.onnx: export it with models/export/ (docs/metrics.md) and put it with its manifest in .cache/models/, or in a folder given by --models (score) or metric_models: (specs)", stem)
}

// ModelStem is the file stem of a learned metric's graph ("maniqa-koniq"),
// for listing what is installed.
func (m *onnxModel) ModelStem() string { return m.stem }

// onnxModel is the ONNX graph behind a learned metric, loaded on first use
// (listing metrics must not need their models) and checked against its
// manifest.
type onnxModel struct {
	cfg             Config
	stem            string // file stem: lpips-alex, maniqa-koniq, …
	inputs, outputs int
	// outputNames, when set, are the outputs the metric reads, in its
	// order: they are taken by name (a graph that lists them in another
	// order scores the same), and a graph without them is refused.
	outputNames []string
	outOrder    []int // graph output index of each of outputNames

	once sync.Once
	runs atomic.Int64 // inferences, for tests of batching
	rows atomic.Int64 // rows run, padding included, for the same
	s    *models.Session
	man  *models.Manifest
	err  error

	// On a GPU a stacked input with fewer rows than one already run with
	// the same trailing shape is padded to it with copies of its last row,
	// and the outputs are cut back (models.RowPadder).
	pad models.RowPadder
}

// EnvAllowKnownCrash=1 runs a metric on a provider known to crash on its
// graph, for trying workarounds and newer providers (models'
// EnvAllowSliceCrash).
const EnvAllowKnownCrash = models.EnvAllowSliceCrash

// knownCrash says why the graph must not run where models.OpenOn would put
// it, from OpenOn's error, or "". ONNX Runtime 1.29.0's CUDA plugin
// provider kills the process on any Slice node it runs (docs/onnxruntime.md). models
// rewrites a graph's Slices into Gathers there (models.Device.SliceAsGather)
// and refuses a graph that would still run one (its bounds computed, or
// the rewrite turned off), which would end a whole experiment: a metric
// then fails up front (--device cuda) or moves to the CPU (--device auto).
func knownCrash(err error) string {
	var sc *models.SliceCrashError
	if errors.As(err, &sc) {
		return sc.Reason() + " (docs/onnxruntime.md)"
	}
	return ""
}

// learnedCUDADefaults are the learned metrics' CUDA provider options unless
// --ep-option sets them. cuDNN's HEURISTIC algorithm choice instead of ONNX
// Runtime's EXHAUSTIVE search: first images of new shapes come sooner and
// scoring is as fast (docs/performance.md, "Figures behind design choices"). The search only
// covers convolutions: all of LPIPS's and CLIP's ResNet, the stems of
// MANIQA and MUSIQ, whose transformers it leaves alone.
var learnedCUDADefaults = map[string]string{"cudnn_conv_algo_search": "HEURISTIC"}

// Ready loads the model, so that a run fails before it starts, not on every
// image, when the model is missing or wrong.
func (m *onnxModel) Ready() error {
	m.once.Do(func() {
		p, err := ModelPath(m.cfg, m.stem)
		if err != nil {
			m.err = err
			return
		}
		// OpenVerified checks the model's hash on the bytes it loads.
		if m.man, err = models.ReadManifest(p); err != nil {
			m.err = err
			return
		}
		if m.man.Kind != "metric" {
			m.err = fmt.Errorf("%s is a %q model, not a metric", p, m.man.Kind)
			return
		}
		dev := m.cfg.Device
		dev.CUDADefaults = learnedCUDADefaults
		// IO binding needs the outputs' shapes, which the graph pinned to
		// each input shape gives.
		dev.StaticShapes = dev.StaticShapes || dev.IOBinding
		s, err := models.OpenVerified(p, m.man, dev)
		why := knownCrash(err)
		if err != nil && why == "" {
			m.err = err
			return
		}
		if why == "" {
			if m.cfg.knownCrash != nil {
				why = m.cfg.knownCrash(m.stem)
			}
			if why != "" {
				s.Close()
			}
		}
		if why != "" {
			if m.cfg.Device.Kind != "auto" {
				m.err = fmt.Errorf("%s: %s; use --device auto (this metric on the CPU, the others on CUDA) or cpu, leave --slice-as-gather at auto (the rewrite on) if it is off, or set %s=1 to run it there anyway", p, why, EnvAllowKnownCrash)
				return
			}
			cpu := m.cfg.Device
			cpu.Kind, cpu.EPOptions, cpu.IOBinding = "cpu", nil, false
			if s, err = models.OpenVerified(p, m.man, cpu); err != nil {
				m.err = err
				return
			}
			s.AddNote("auto: " + why + "; running it on the CPU (" + EnvAllowKnownCrash + "=1 runs it on CUDA)")
		}
		if len(s.Inputs()) != m.inputs || len(s.Outputs()) != m.outputs {
			s.Close()
			m.err = fmt.Errorf("%s has %d inputs and %d outputs; this metric's graph has %d and %d (see models/export/)", p, len(s.Inputs()), len(s.Outputs()), m.inputs, m.outputs)
			return
		}
		m.outOrder = nil
		for _, want := range m.outputNames {
			i := slices.IndexFunc(s.Outputs(), func(o ort.InputOutputInfo) bool { return o.Name == want })
			if i < 0 {
				var got []string
				for _, o := range s.Outputs() {
					got = append(got, o.Name)
				}
				s.Close()
				m.err = fmt.Errorf("%s has outputs %q; this metric reads %q by name: export it again with models/export/", p, got, m.outputNames)
				return
			}
			m.outOrder = append(m.outOrder, i)
		}
		m.s = s
	})
	return m.err
}

// close releases the session (ONNX Runtime then writes its profile, when
// one was asked for).
func (m *onnxModel) close() {
	m.once.Do(func() { m.err = errors.New("closed") }) // never opened: stays so
	if m.s != nil {
		m.s.Close()
		m.s, m.err = nil, fmt.Errorf("%s: closed", m.stem)
	}
}

// Close releases the sessions of the learned metrics among ms; they fail
// from then on.
func Close(ms []Metric) {
	for _, m := range ms {
		if l, ok := m.(learnedMetric); ok {
			l.model().close()
		}
	}
}

// Placement is where the model's session runs (the zero Placement before
// Ready has succeeded), with its note when auto fell back to the CPU.
func (m *onnxModel) Placement() models.Placement {
	if m.s == nil {
		return models.Placement{}
	}
	return m.s.Placement()
}

// modelID names the model file and its SHA-256 for fingerprints.
func (m *onnxModel) modelID() string {
	m.Ready()
	sum := "missing"
	if m.man != nil {
		sum = m.man.SHA256
	}
	id := "model=" + m.stem + ".onnx;sha256=" + sum
	if m.man != nil && m.man.IsTestFixture() {
		id += models.FixtureMark
	}
	if m.s != nil {
		// Scores from different execution providers differ in the last
		// digits: runs scored on a GPU and on a CPU must not be merged.
		p := m.s.Placement()
		id += ";ep=" + p.EP + ";ort=" + p.ORTVersion
		if len(p.Options) > 0 { // only when set: earlier fingerprints stay valid
			var kv []string
			for _, k := range slices.Sorted(maps.Keys(p.Options)) {
				kv = append(kv, k+"="+p.Options[k])
			}
			id += ";ep-options=" + strings.Join(kv, ",")
		}
		if t := p.Tuning(); t != "" { // fused and unfused graphs round differently
			id += ";session=" + t
		}
	}
	return id
}

// run runs the graph; when the runtime could not allocate the activations,
// the error says what to do about it.
func (m *onnxModel) run(name string, in ...models.Tensor) ([]models.Tensor, error) {
	m.runs.Add(1)
	n := in[0].Shape[0]
	rows := m.padRows(in)
	if rows > n {
		in = padRowsTo(in, rows)
	}
	m.rows.Add(rows)
	out, err := m.s.Run(in...)
	if err != nil {
		return nil, runError(name, m.s.Placement().Device, in[0].Shape, err)
	}
	if m.outOrder != nil {
		byName := make([]models.Tensor, len(m.outOrder))
		for i, j := range m.outOrder {
			byName[i] = out[j]
		}
		out = byName
	}
	if rows > n { // drop the padding rows' outputs
		for t := range out {
			if len(out[t].Shape) == 0 || out[t].Shape[0] != rows {
				return nil, fmt.Errorf("%s: output %d has shape %v for %d input rows; want the rows first", name, t, out[t].Shape, rows)
			}
			per := int64(len(out[t].Data)) / rows
			out[t].Shape = append([]int64{n}, out[t].Shape[1:]...)
			out[t].Data = out[t].Data[:n*per]
		}
	}
	return out, nil
}

// padRows is how many rows the inputs run as: their own, or on a GPU the
// most already run with the same trailing shapes when that is more.
func (m *onnxModel) padRows(in []models.Tensor) int64 {
	n := in[0].Shape[0]
	if !m.stackable() || (m.s.Placement().EP == "CPUExecutionProvider" && !m.cfg.padOnCPU) {
		return n
	}
	var key strings.Builder
	for _, t := range in {
		if len(t.Shape) == 0 || t.Shape[0] != n {
			return n // not rows first: leave it as it is
		}
		fmt.Fprint(&key, t.Shape[1:], ";")
	}
	return int64(m.pad.Rows(key.String(), int(n)))
}

// padRowsTo extends each input to rows rows with copies of its last row.
func padRowsTo(in []models.Tensor, rows int64) []models.Tensor {
	out := make([]models.Tensor, len(in))
	for t, x := range in {
		n := x.Shape[0]
		per := int64(len(x.Data)) / n
		data := make([]float32, rows*per)
		copy(data, x.Data)
		for r := n; r < rows; r++ {
			copy(data[r*per:(r+1)*per], x.Data[(n-1)*per:])
		}
		out[t] = models.Tensor{Shape: append([]int64{rows}, x.Shape[1:]...), Data: data}
	}
	return out
}

// runError names the metric, and for a failed allocation the device, the
// input's shape and the ways out.
func runError(name, device string, shape []int64, err error) error {
	if models.IsOutOfMemory(err) {
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

// stackable says whether the graph's batch dimension is free, so that
// several images' inputs can go in one inference (exports before this was
// supported have a fixed batch of 1, or of MANIQA's 20 crops).
func (m *onnxModel) stackable() bool {
	for _, in := range m.s.Inputs() {
		if len(in.Dimensions) == 0 || in.Dimensions[0] >= 0 {
			return false
		}
	}
	return true
}
