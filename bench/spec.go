package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/runners"
	"github.com/addsr-bench/addsr-bench/runners/addsr"
)

// Spec is an experiment: datasets × methods × metrics.
//
//	name: addsr-ablation
//	crop_border: 0
//	keep_outputs: true          # save SR outputs as PNG in the run folder
//	datasets:
//	  - name: div2k-sr4
//	    path: sets/div2k-sr4    # a dataset folder; its manifest is verified
//	metrics: [psnr, ssim, niqe]
//	methods:
//	  - name: bicubic
//	    runner: bicubic
//	  - name: AddSR-psr
//	    runner: folder          # precomputed outputs, matched by file stem
//	    path: out/addsr-psr/{dataset}/step{steps}
//	    steps: [1, 2, 3, 4]
//	    base: AddSR             # variants of one model share a base
//	    labels: {psr: "on", ta: "on", teacher: hr}
type Spec struct {
	Name         string
	CropBorder   int
	MetricModels string // folder of learned metrics' ONNX models
	MetricDevice string // where learned metrics run: cpu (default), cuda, cuda:N, auto
	// ORT holds the ONNX Runtime settings that change results, for every
	// session the run opens (methods and learned metrics).
	ORT         ORTSpec
	KeepOutputs bool
	// Report is how report lays out its plots (no effect on results).
	Report   ReportSpec
	Datasets []DatasetSpec
	Metrics  []MetricSpec
	Methods  []MethodSpec

	// File is where the spec was read from; Dir resolves relative paths.
	File, Dir string
	// Raw is the spec's bytes, copied into the run folder.
	Raw []byte
}

// methodRunners are the runners a run opens from a spec: ONNX sessions
// and AddSR pipelines once per method, shared by all datasets. The spec
// stays data; the run owns these and closes them.
type methodRunners struct {
	spec  *Spec
	ort   ORTSpec // over the spec's block (run's flags)
	onnx  map[string]*runners.ONNX
	addsr map[string]*addsr.Runner
}

func newMethodRunners(s *Spec, ort ORTSpec) *methodRunners {
	return &methodRunners{spec: s, ort: ort, onnx: map[string]*runners.ONNX{}, addsr: map[string]*addsr.Runner{}}
}

// close releases the sessions.
func (mr *methodRunners) close() {
	for _, r := range mr.onnx {
		r.Close()
	}
	for _, r := range mr.addsr {
		r.Close()
	}
	mr.onnx, mr.addsr = nil, nil
}

// ORTSpec is the spec's onnxruntime: block (see models.Device).
type ORTSpec struct {
	GraphOptimization string   // all, extended, basic, none ("": ONNX Runtime's default)
	DisableOptimizers []string // graph optimizers to skip
	StaticShapes      bool     // a session per input shape, symbolic dimensions fixed
	SliceAsGather     string   // on, off or auto ("")
}

// Apply sets the block's settings on dev.
func (o ORTSpec) Apply(dev *models.Device) {
	if o.GraphOptimization != "" {
		dev.GraphOptimization = o.GraphOptimization
	}
	if len(o.DisableOptimizers) > 0 {
		dev.DisableOptimizers = o.DisableOptimizers
	}
	if o.SliceAsGather != "" && o.SliceAsGather != "auto" {
		dev.SliceAsGather = o.SliceAsGather
	}
	dev.StaticShapes = dev.StaticShapes || o.StaticShapes
}

// ORTProblem is a value of an onnxruntime: key that ONNX Runtime has no
// setting for: the key, the value, and the values there are.
type ORTProblem struct{ Key, Value, Allowed string }

// Problems lists the block's invalid values (graph_optimization,
// slice_as_gather); the spec names them by key, the flags by flag.
func (o ORTSpec) Problems() []ORTProblem {
	var out []ORTProblem
	switch o.GraphOptimization {
	case "", "all", "extended", "basic", "none":
	default:
		out = append(out, ORTProblem{"graph_optimization", o.GraphOptimization, "all, extended, basic or none"})
	}
	switch o.SliceAsGather {
	case "", "auto", "on", "off":
	default:
		out = append(out, ORTProblem{"slice_as_gather", o.SliceAsGather, "on, off or auto"})
	}
	return out
}

func ortFields(o *ORTSpec) map[string]any {
	return map[string]any{"graph_optimization": &o.GraphOptimization, "disable_optimizers": &o.DisableOptimizers,
		"static_shapes": &o.StaticShapes, "slice_as_gather": &o.SliceAsGather}
}

// ReportSpec is the spec's report: block.
type ReportSpec struct {
	// PD names the perception–distortion plot's axes: x and y, metrics of
	// the spec (report --pd overrides it).
	PD   map[string]string
	Line int
}

func reportFields(r *ReportSpec) map[string]any {
	return map[string]any{"pd": &r.PD}
}

// ParsePDAxes checks a report's axes (x and y, each a metric of metrics)
// and returns them; either may be absent.
func ParsePDAxes(axes map[string]string, metricNames []string) (x, y string, err error) {
	for k, v := range axes {
		switch {
		case k != "x" && k != "y":
			return "", "", fmt.Errorf("pd: unknown axis %q (x or y)", k)
		case !slices.Contains(metricNames, v):
			return "", "", fmt.Errorf("pd: %s=%s is not a metric of this experiment (%s)", k, v, strings.Join(metricNames, ", "))
		}
	}
	return axes["x"], axes["y"], nil
}

// DatasetSpec names a dataset folder.
type DatasetSpec struct {
	Name, Path string
	Line       int
}

// MetricSpec is one metric name and where it was written.
type MetricSpec struct {
	Name string
	Line int
}

// MethodSpec is one SR method: a runner with its options and labels.
type MethodSpec struct {
	Name   string
	Runner string
	Path   string // folder runner: outputs, with {dataset} and {steps}
	// Pattern maps a folder runner's file names to image stems
	// ("{stem}_out"; datasets.StemPattern).
	Pattern string
	Model   string // onnx runner: the .onnx file (its manifest beside it)
	Device  string // onnx runner: cpu, cuda, cuda:N, auto
	Tile    int
	Overlap int
	Batch   int
	Threads int // onnx runner: intra-op threads on the CPU (0: cores ÷ workers)
	// EPOptions go to the CUDA execution provider as they are (ep_options:
	// {prefer_nhwc: "1"}), and into the runner's fingerprint.
	EPOptions map[string]string
	// IOBinding keeps inputs and outputs in the device's memory
	// (models.Device.IOBinding); with ep_options enable_cuda_graph: "1", a
	// CUDA graph per input shape.
	IOBinding bool
	// BatchImages hands this many images of a dataset to the runner at once
	// (runners.RunBatch): same-size images share inferences, for GPU
	// throughput; records then time each image as its share (0, 1: alone).
	BatchImages int
	// Options are an addsr runner's settings (addsr.SettingKeys), over its
	// pipeline's defaults: psr, psr_weight, prompt, guidance_scale, …
	Options map[string]string
	Scale   int
	Steps   []int
	Base    string
	Labels  map[string]string
	Line    int
}

// SpecError is a problem in a spec, at a line.
type SpecError struct {
	File string
	Line int
	Msg  string
}

func (e SpecError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// LoadSpec reads and validates a spec. All problems found are reported
// together, each with its line.
func LoadSpec(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSpec(path, raw)
}

// ParseSpec parses and validates spec text; path names it in errors and
// anchors relative paths.
func ParseSpec(path string, raw []byte) (*Spec, error) {
	return parseSpec(path, filepath.Dir(path), raw, true)
}

// ParseRunSpec parses the spec copied into a run folder, whose relative
// paths are anchored at dir (the original spec's folder, from run.json). It
// checks names, not files: a report must work where the data is gone.
func ParseRunSpec(path, dir string, raw []byte) (*Spec, error) {
	return parseSpec(path, dir, raw, false)
}

func parseSpec(path, dir string, raw []byte, checkFiles bool) (*Spec, error) {
	s := &Spec{File: path, Dir: dir, Raw: raw}
	var errs []error
	bad := func(line int, format string, a ...any) {
		errs = append(errs, SpecError{path, line, fmt.Sprintf(format, a...)})
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&root); err != nil {
		return nil, SpecError{path, 0, "not valid YAML: " + err.Error()}
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, SpecError{path, root.Line, "the spec must be a mapping with datasets, metrics and methods"}
	}
	top := root.Content[0]
	seen := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		seen[k.Value] = true
		switch k.Value {
		case "name":
			s.Name = v.Value
		case "crop_border":
			if err := v.Decode(&s.CropBorder); err != nil || s.CropBorder < 0 {
				bad(v.Line, "crop_border must be a non-negative integer")
			}
		case "metric_models":
			s.MetricModels = v.Value
		case "metric_device":
			s.MetricDevice = v.Value
			if _, err := models.ParseDevice(v.Value); err != nil {
				bad(v.Line, "metric_device: %v", err)
			}
		case "onnxruntime":
			decodeMapping(v, ortFields(&s.ORT), bad)
			for _, p := range s.ORT.Problems() {
				bad(v.Line, "onnxruntime: %s %q: %s", p.Key, p.Value, p.Allowed)
			}
		case "report":
			s.Report.Line = v.Line
			decodeMapping(v, reportFields(&s.Report), bad)
		case "keep_outputs":
			if err := v.Decode(&s.KeepOutputs); err != nil {
				bad(v.Line, "keep_outputs must be true or false")
			}
		case "datasets":
			for _, n := range seqItems(v, bad, "datasets") {
				d := DatasetSpec{Line: n.Line}
				decodeMapping(n, datasetFields(&d), bad)
				s.Datasets = append(s.Datasets, d)
			}
		case "metrics":
			for _, n := range seqItems(v, bad, "metrics") {
				s.Metrics = append(s.Metrics, MetricSpec{Name: strings.ToLower(n.Value), Line: n.Line})
			}
		case "methods":
			for _, n := range seqItems(v, bad, "methods") {
				m := MethodSpec{Line: n.Line}
				decodeMapping(n, methodFields(&m), bad)
				s.Methods = append(s.Methods, m)
			}
		default:
			bad(k.Line, "unknown key %q (known: %s)", k.Value, strings.Join(specTopKeys, ", "))
		}
	}
	for _, req := range []string{"datasets", "metrics", "methods"} {
		if !seen[req] {
			bad(top.Line, "%q is required", req)
		}
	}
	errs = append(errs, s.validate(checkFiles)...)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			var a, b SpecError
			errors.As(errs[i], &a)
			errors.As(errs[j], &b)
			return a.Line < b.Line
		})
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// specTopKeys are the spec's top-level keys (docs/spec.md documents each;
// TestSpecDocs keeps the two equal).
var specTopKeys = []string{"name", "crop_border", "keep_outputs", "metric_models", "metric_device", "onnxruntime", "report", "datasets", "metrics", "methods"}

func datasetFields(d *DatasetSpec) map[string]any {
	return map[string]any{"name": &d.Name, "path": &d.Path}
}

func methodFields(m *MethodSpec) map[string]any {
	return map[string]any{"name": &m.Name, "runner": &m.Runner, "path": &m.Path, "scale": &m.Scale,
		"steps": &m.Steps, "pattern": &m.Pattern, "base": &m.Base, "labels": &m.Labels, "model": &m.Model, "device": &m.Device,
		"tile": &m.Tile, "overlap": &m.Overlap, "batch": &m.Batch, "threads": &m.Threads, "batch_images": &m.BatchImages,
		"ep_options": &m.EPOptions, "io_binding": &m.IOBinding, "options": &m.Options}
}

func seqItems(v *yaml.Node, bad func(int, string, ...any), key string) []*yaml.Node {
	if v.Kind != yaml.SequenceNode {
		bad(v.Line, "%s must be a list", key)
		return nil
	}
	if len(v.Content) == 0 {
		bad(v.Line, "%s is empty", key)
	}
	return v.Content
}

// decodeMapping decodes the keys of n into fields, reporting unknown keys and
// type errors at their lines.
func decodeMapping(n *yaml.Node, fields map[string]any, bad func(int, string, ...any)) {
	if n.Kind != yaml.MappingNode {
		bad(n.Line, "expected a mapping with %s", strings.Join(sortedFieldNames(fields), ", "))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		dst, ok := fields[k.Value]
		if !ok {
			bad(k.Line, "unknown key %q (known: %s)", k.Value, strings.Join(sortedFieldNames(fields), ", "))
			continue
		}
		if err := v.Decode(dst); err != nil {
			bad(v.Line, "%s: %v", k.Value, err)
		}
	}
}

func sortedFieldNames(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Resolve makes a spec-relative path absolute-or-cwd-relative.
func (s *Spec) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir, p)
}

func (s *Spec) validate(checkFiles bool) []error {
	var errs []error
	bad := func(line int, format string, a ...any) {
		errs = append(errs, SpecError{s.File, line, fmt.Sprintf(format, a...)})
	}
	// unique reports an empty or repeated name of a kind ("dataset",
	// "method"), remembering each name's first line in seen.
	unique := func(seen map[string]int, kind, name string, line int) {
		switch {
		case name == "":
			bad(line, "%s needs a name", kind)
		case seen[name] > 0:
			bad(line, "duplicate %s name %q (first on line %d)", kind, name, seen[name])
		default:
			seen[name] = line
		}
	}
	names := map[string]int{}
	for _, d := range s.Datasets {
		unique(names, "dataset", d.Name, d.Line)
		if d.Path == "" {
			bad(d.Line, "dataset %q needs a path", d.Name)
		} else if st, err := os.Stat(s.Resolve(d.Path)); checkFiles && (err != nil || !st.IsDir()) {
			bad(d.Line, "dataset %q: %s is not a folder", d.Name, s.Resolve(d.Path))
		}
	}
	var metricNames []string
	for _, m := range s.Metrics {
		metricNames = append(metricNames, m.Name)
	}
	if _, _, err := ParsePDAxes(s.Report.PD, metricNames); err != nil {
		bad(s.Report.Line, "report: %v", err)
	}
	seenMetric := map[string]int{}
	for _, m := range s.Metrics {
		if _, err := metrics.New(m.Name, metrics.Config{CropBorder: s.CropBorder}); err != nil {
			bad(m.Line, "%v", err)
		} else if seenMetric[m.Name] > 0 {
			bad(m.Line, "metric %q listed twice (first on line %d)", m.Name, seenMetric[m.Name])
		}
		seenMetric[m.Name] = m.Line
	}
	methods := map[string]int{}
	for i := range s.Methods {
		m := &s.Methods[i]
		unique(methods, "method", m.Name, m.Line)
		if m.Scale == 0 {
			m.Scale = 4
		}
		switch m.Runner {
		case "bicubic", "nearest":
			if len(m.Steps) > 0 {
				bad(m.Line, "method %q: runner %s has no steps", m.Name, m.Runner)
			}
		case "folder":
			if m.Path == "" {
				bad(m.Line, "method %q: a folder runner needs path (use {dataset} and {steps} as needed)", m.Name)
				continue
			}
			if len(m.Steps) > 0 && !strings.Contains(m.Path, "{steps}") {
				bad(m.Line, "method %q: steps are listed but path has no {steps}", m.Name)
			}
			if _, err := datasets.ParseStemPattern(m.Pattern); err != nil {
				bad(m.Line, "method %q: %v", m.Name, err)
			}
			for _, d := range s.Datasets {
				if !checkFiles {
					break
				}
				for _, st := range stepsOrZero(m.Steps) {
					p := s.Resolve(expandPath(m.Path, d.Name, st))
					if st, err := os.Stat(p); err != nil || !st.IsDir() {
						bad(m.Line, "method %q: output folder %s is missing", m.Name, p)
					}
				}
			}
		case "onnx":
			if m.Model == "" {
				bad(m.Line, "method %q: an onnx runner needs model (an .onnx file with its manifest)", m.Name)
			} else if checkFiles {
				if mf, err := models.LoadManifest(s.Resolve(m.Model)); err != nil {
					bad(m.Line, "method %q: %v", m.Name, err)
				} else if m.Scale == 4 && mf.Scale != 0 {
					m.Scale = mf.Scale
				}
			}
			if _, err := models.ParseDevice(m.Device); err != nil {
				bad(m.Line, "method %q: %v", m.Name, err)
			}
			if len(m.Steps) > 0 {
				bad(m.Line, "method %q: an onnx runner has no steps", m.Name)
			}
			if m.Tile < 0 || m.Overlap < 0 || m.Batch < 0 || m.Threads < 0 {
				bad(m.Line, "method %q: tile, overlap, batch and threads must be ≥ 0", m.Name)
			}
		case "addsr":
			s.validateAddSR(m, checkFiles, bad)
		case "":
			bad(m.Line, "method %q needs a runner (bicubic, nearest, folder, onnx, addsr)", m.Name)
		default:
			bad(m.Line, "method %q: unknown runner %q (known: bicubic, nearest, folder, onnx, addsr)", m.Name, m.Runner)
		}
		if m.Runner != "addsr" && len(m.Options) > 0 {
			bad(m.Line, "method %q: options are for runner: addsr", m.Name)
		}
		if m.Runner != "onnx" && (len(m.EPOptions) > 0 || m.IOBinding) {
			bad(m.Line, "method %q: ep_options and io_binding are for runner: onnx", m.Name)
		}
		if m.BatchImages < 0 {
			bad(m.Line, "method %q: batch_images must be ≥ 0", m.Name)
		}
		for _, st := range m.Steps {
			if st < 1 {
				bad(m.Line, "method %q: steps must be positive", m.Name)
			}
		}
	}
	return errs
}

func stepsOrZero(s []int) []int {
	if len(s) == 0 {
		return []int{0}
	}
	return s
}

func expandPath(p, dataset string, steps int) string {
	p = strings.ReplaceAll(p, "{dataset}", dataset)
	return strings.ReplaceAll(p, "{steps}", fmt.Sprint(steps))
}

// CPUThreads is the ONNX Runtime thread count for a session on dev when
// workers images are in flight at once: cores ÷ workers on the CPU (ORT's
// default, one pool per session as big as the machine, makes the workers'
// pools compete), and ORT's default for CUDA.
func CPUThreads(dev models.Device, workers int) int {
	if dev.Kind == "cuda" {
		return 0
	}
	return max(1, runtime.GOMAXPROCS(0)/workpool.Workers(workers))
}

// validateAddSR checks an addsr method: its pipeline folder (manifest,
// files, small files' hashes), steps within the pipeline's timesteps, and
// options it knows with valid values.
func (s *Spec) validateAddSR(m *MethodSpec, checkFiles bool, bad func(int, string, ...any)) {
	if m.Model == "" {
		bad(m.Line, "method %q: an addsr runner needs model (a pipeline folder with %s)", m.Name, addsr.ManifestName)
		return
	}
	if _, err := models.ParseDevice(m.Device); err != nil {
		bad(m.Line, "method %q: %v", m.Name, err)
	}
	if m.Tile != 0 || m.Overlap != 0 || m.Batch != 0 || m.IOBinding || len(m.EPOptions) > 0 {
		bad(m.Line, "method %q: tile, overlap, batch, io_binding and ep_options are for runner: onnx (addsr batches with batch_images)", m.Name)
	}
	set := addsr.Settings{PSRWeight: 0.4, Prompt: "ram", ColourFix: "adain", ProcessSize: 512, Upscale: 4}
	timesteps := 4
	if checkFiles {
		man, err := addsr.ReadManifest(s.Resolve(m.Model))
		if err != nil {
			bad(m.Line, "method %q: %v", m.Name, err)
			return
		}
		set, timesteps = man.Defaults, len(man.Scheduler.Timesteps)
		m.Scale = man.Defaults.Upscale
	}
	for _, k := range sortedKeysOf(m.Options) {
		if err := set.Set(k, m.Options[k]); err != nil {
			bad(m.Line, "method %q: options: %v", m.Name, err)
		}
	}
	for _, st := range m.Steps {
		if st > timesteps {
			bad(m.Line, "method %q: steps %d, but the pipeline has %d timesteps", m.Name, st, timesteps)
		}
	}
}

// device is where a method's sessions run: its device, threads (cores ÷
// workers on the CPU unless set), provider options and IO binding, and the
// run's ONNX Runtime settings (the spec's block, then run's flags).
func (mr *methodRunners) device(m MethodSpec, workers int) (models.Device, error) {
	dev, err := models.ParseDevice(m.Device)
	if err != nil {
		return dev, err
	}
	dev.Threads, dev.EPOptions, dev.IOBinding = m.Threads, m.EPOptions, m.IOBinding
	if dev.Threads == 0 {
		dev.Threads = CPUThreads(dev, workers)
	}
	mr.spec.ORT.Apply(&dev)
	mr.ort.Apply(&dev)
	return dev, nil
}

// runner builds the method's runner for one dataset. ONNX sessions are
// created once per method and shared by all datasets. With workers images in
// flight at once, a CPU session gets cores ÷ workers threads unless the
// method sets threads: the workers' thread pools would otherwise compete
// (docs/performance.md, "Figures behind design choices").
func (mr *methodRunners) runner(m MethodSpec, dataset string, workers int) (runners.Runner, error) {
	s := mr.spec
	switch m.Runner {
	case "onnx":
		if r, ok := mr.onnx[m.Name]; ok {
			return r, nil
		}
		dev, err := mr.device(m, workers)
		if err != nil {
			return nil, err
		}
		// Images handed over together must be allowed to share an inference.
		r, err := runners.NewONNX(s.Resolve(m.Model), runners.ONNXOptions{Device: dev, Tile: m.Tile, Overlap: m.Overlap, Batch: max(m.Batch, m.BatchImages)})
		if err != nil {
			return nil, err
		}
		mr.onnx[m.Name] = r
		return r, nil
	case "addsr":
		if r, ok := mr.addsr[m.Name]; ok {
			return r, nil
		}
		dev, err := mr.device(m, workers)
		if err != nil {
			return nil, err
		}
		dir := s.Resolve(m.Model)
		man, err := addsr.ReadManifest(dir)
		if err != nil {
			return nil, err
		}
		set := man.Defaults
		for _, k := range sortedKeysOf(m.Options) {
			if err := set.Set(k, m.Options[k]); err != nil {
				return nil, err
			}
		}
		r, err := addsr.Open(dir, addsr.Options{Device: dev, Settings: &set, Steps: m.Steps})
		if err != nil {
			return nil, err
		}
		mr.addsr[m.Name] = r
		return r, nil
	case "folder":
		dirs := map[int]string{}
		for _, st := range stepsOrZero(m.Steps) {
			dirs[st] = s.Resolve(expandPath(m.Path, dataset, st))
		}
		pat, err := datasets.ParseStemPattern(m.Pattern)
		if err != nil {
			return nil, err
		}
		return runners.NewFolder(m.Name, m.Scale, dirs, pat)
	default:
		return runners.New(m.Runner, m.Scale)
	}
}

// OpenDatasets opens and verifies every dataset of the spec.
func (s *Spec) OpenDatasets() ([]*datasets.Dataset, error) {
	var out []*datasets.Dataset
	for _, d := range s.Datasets {
		dir := s.Resolve(d.Path)
		if err := datasets.Verify(dir); err != nil {
			return nil, SpecError{s.File, d.Line, err.Error()}
		}
		ds, err := datasets.Open(dir)
		if err != nil {
			return nil, SpecError{s.File, d.Line, err.Error()}
		}
		if len(ds.Items) == 0 {
			return nil, SpecError{s.File, d.Line, fmt.Sprintf("dataset %q has no images", d.Name)}
		}
		out = append(out, ds)
	}
	return out, nil
}

// Hash identifies the spec's text.
func (s *Spec) Hash() string {
	h := sha256.Sum256(s.Raw)
	return hex.EncodeToString(h[:])
}
