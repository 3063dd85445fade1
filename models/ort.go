// Package models loads ONNX models through ONNX Runtime (via onnxruntime_go)
// and owns the one ORT environment of the process.
package models

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/addsr-bench/addsr-bench/internal/half"
	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
)

// ORTVersion is the ONNX Runtime release the harness is built and tested with.
const ORTVersion = "1.29.0"

// EnvLibraryPath names the variable that points at libonnxruntime.so.
const EnvLibraryPath = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// EnvCache overrides the project's cache folder (default: .cache at the
// repository root, found from the working directory or the executable).
const EnvCache = "ADDSR_BENCH_CACHE"

const cachedLib = "onnxruntime-" + ORTVersion + "/libonnxruntime.so"

// ErrNoRuntime is wrapped when no ONNX Runtime library can be found.
var ErrNoRuntime = errors.New("ONNX Runtime shared library not found")

// LibraryPath finds libonnxruntime.so: $ONNXRUNTIME_SHARED_LIBRARY_PATH,
// then $ADDSR_BENCH_CACHE, then a .cache folder in the working directory,
// the executable's directory or any of their parents.
func LibraryPath() (string, error) {
	if p := os.Getenv(EnvLibraryPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrNoRuntime, EnvLibraryPath, p, err)
		}
		return p, nil
	}
	if p, ok := CachedFile(cachedLib); ok {
		return p, nil
	}
	tried := []string{"$" + EnvCache, ".cache/ in the working directory, the executable's directory and their parents"}
	return "", fmt.Errorf("%w (looked in %v): run `make ort` (scripts/fetch-ort.sh) in the addsr-bench checkout, or set %s to an ONNX Runtime %s library",
		ErrNoRuntime, tried, EnvLibraryPath, ORTVersion)
}

// CachedFile finds rel (such as "models/realesrgan-x4plus.onnx") in the
// project's cache: $ADDSR_BENCH_CACHE, then .cache in the working directory,
// the executable's directory or their parents.
func CachedFile(rel string) (string, bool) {
	if c := os.Getenv(EnvCache); c != "" {
		if p := filepath.Join(c, rel); fileExists(p) {
			return p, true
		}
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if p := filepath.Join(d, ".cache", rel); fileExists(p) {
				return p, true
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", false
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

var (
	envOnce sync.Once
	envErr  error
	envLib  string
)

// Init loads ONNX Runtime and creates the process's environment, once.
func Init() error {
	envOnce.Do(func() {
		envLib, envErr = LibraryPath()
		if envErr != nil {
			return
		}
		ort.SetSharedLibraryPath(envLib)
		level, err := logLevel(os.Getenv(EnvORTLog))
		if err != nil {
			envErr = err
			return
		}
		if err := ort.InitializeEnvironment(level); err != nil {
			envErr = fmt.Errorf("loading ONNX Runtime from %s: %w (it must be release %s for this CPU and OS)", envLib, err, ORTVersion)
			return
		}
		envErr = setTelemetry(os.Getenv(EnvORTTelemetry))
	})
	return envErr
}

// EnvORTTelemetry=1 leaves ONNX Runtime's telemetry events on; by default
// they are off: a benchmark has no use for them, and they are one more
// place where a provider's failure can take the process down. With
// release 1.29.0's CUDA plugin provider a failing Slice kernel hands back
// a broken status; the telemetry event for the failed Run was the first
// code to read it (SIGSEGV at address 0x5 in LogRuntimeError, found by
// disassembling libonnxruntime.so at the crash's offset). With the events
// off the executor's own error report reads it next and crashes the same
// way, which models avoids by rewriting Slices (Device.SliceAsGather).
const EnvORTTelemetry = "ADDSR_BENCH_ORT_TELEMETRY"

func setTelemetry(v string) error {
	switch v {
	case "", "0":
		if err := ort.DisableTelemetry(); err != nil {
			return fmt.Errorf("turning ONNX Runtime's telemetry off: %w", err)
		}
	case "1":
		if err := ort.EnableTelemetry(); err != nil {
			return fmt.Errorf("turning ONNX Runtime's telemetry on: %w", err)
		}
	default:
		return fmt.Errorf("%s=%q: use 0 (the default: off) or 1", EnvORTTelemetry, v)
	}
	return nil
}

// EnvORTLog sets ONNX Runtime's log level: error (the default), warning
// (shows, for one, nodes a GPU provider left to the CPU and CUDA-graph
// problems), info, verbose (node by node placement) or fatal.
const EnvORTLog = "ADDSR_BENCH_ORT_LOG"

func logLevel(v string) (ort.EnvironmentOption, error) {
	switch strings.ToLower(v) {
	case "", "error":
		return ort.WithLogLevelError(), nil
	case "warning":
		return ort.WithLogLevelWarning(), nil
	case "info":
		return ort.WithLogLevelInfo(), nil
	case "verbose":
		return ort.WithLogLevelVerbose(), nil
	case "fatal":
		return ort.WithLogLevelFatal(), nil
	}
	return nil, fmt.Errorf("%s=%q: use error, warning, info, verbose or fatal", EnvORTLog, v)
}

// RuntimeInfo describes the loaded runtime for result fingerprints.
type RuntimeInfo struct {
	Library string `json:"library"`
	Version string `json:"version"`
}

// Runtime returns what Init loaded.
func Runtime() (RuntimeInfo, error) {
	if err := Init(); err != nil {
		return RuntimeInfo{}, err
	}
	return RuntimeInfo{Library: envLib, Version: ort.GetVersion()}, nil
}

// Session is a loaded ONNX graph with float32 or float16 tensors (float16
// ones are converted at the boundary, so callers always see float32).
// Sessions are created once and reused; Run is safe for concurrent use.
type Session struct {
	path      string
	inputs    []ort.InputOutputInfo
	outputs   []ort.InputOutputInfo
	s         *ort.DynamicAdvancedSession
	bound     *bound          // Device.IOBinding: runs go through internal/ortio instead of s
	static    *staticSessions // Device.StaticShapes: runs go to the session for their shapes instead of s
	placement Placement
}

// Open loads the graph at path on the CPU.
func Open(path string) (*Session, error) { return OpenOn(path, Device{Kind: "cpu"}) }

// OpenOn loads the graph at path on dev. A graph that would run Slice
// nodes where they crash the process is refused with a *SliceCrashError
// (unless EnvAllowSliceCrash=1).
func OpenOn(path string, dev Device) (*Session, error) { return open(path, nil, dev) }

// OpenVerified is OpenOn for a model with its manifest man (ReadManifest):
// the bytes it loads are hashed, alongside reading the graph's inputs and
// rewriting it, and checked against man's SHA-256 before any session is
// made — one read of the file where LoadManifest and OpenOn make two
// (docs/performance.md, "Figures behind design choices"). Sessions made from the bytes (static shapes, IO
// binding, the Slice rewrite) run exactly what was hashed; a plain one is
// made from the file, where ONNX Runtime finds external weights.
func OpenVerified(path string, man *Manifest, dev Device) (*Session, error) {
	return open(path, man, dev)
}

func open(path string, man *Manifest, dev Device) (_ *Session, err error) {
	if err := Init(); err != nil {
		return nil, err
	}
	// The graph is read once: its hash, its inputs and outputs, the Slice
	// rewrite and static shapes' pinned copies all come from these bytes.
	model, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	verify := func() error { return nil }
	if man != nil {
		sum := make(chan string, 1)
		go func(read []byte) { // the rewrites below read it and write new buffers
			h := sha256.Sum256(read)
			sum <- hex.EncodeToString(h[:])
		}(model)
		verify = sync.OnceValue(func() error { return man.checkSum(path, <-sum) })
		// A file that is not what its manifest says fails as that, even
		// where it failed to parse first.
		defer func() {
			if v := verify(); err != nil && v != nil {
				err = v
			}
		}()
	}
	ins, outs, err := ioInfo(model)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable ONNX model (%w); export or convert it again", path, err)
	}
	for _, io := range append(append([]ort.InputOutputInfo{}, ins...), outs...) {
		if io.DataType != ort.TensorElementDataTypeFloat && io.DataType != ort.TensorElementDataTypeFloat16 {
			return nil, fmt.Errorf("%s: tensor %q is %v; only float32 and float16 graphs are supported", path, io.Name, io.DataType)
		}
	}
	names := func(infos []ort.InputOutputInfo) []string {
		var n []string
		for _, i := range infos {
			n = append(n, i.Name)
		}
		return n
	}
	if dev.IOBinding {
		if err := verify(); err != nil {
			return nil, err
		}
		b, place, err := openBound(path, model, ins, outs, dev)
		if err != nil {
			return nil, err
		}
		return &Session{path: path, inputs: ins, outputs: outs, bound: b, placement: place}, nil
	}
	static, err := staticShapes(dev)
	if err != nil {
		return nil, err
	}
	opts, place, err := sessionOptions(dev)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Session, error) {
		opts.Destroy()
		return nil, err
	}
	model, disable, fromBytes, err := prepareSlices(path, model, &place, dev.SliceAsGather)
	if err != nil {
		return fail(err)
	}
	if err := verify(); err != nil {
		return fail(err)
	}
	if disable != "" {
		if err := opts.AddSessionConfigEntry(disableOptimizersKey, disable); err != nil {
			return fail(fmt.Errorf("%s: disabling %s: %w", path, gatherToSlice, err))
		}
	}
	var st *staticSessions
	if static {
		if st, err = newStaticSessions(path, model, ins, names(outs)); err != nil {
			return fail(err)
		}
	}
	if st != nil { // sessions are made per shape, on first use, with these options
		st.opts, st.device = opts, place.Device
		place.Session = maps.Clone(place.Session)
		if place.Session == nil {
			place.Session = map[string]string{}
		}
		place.Session["static_shapes"] = "1"
		return &Session{path: path, inputs: ins, outputs: outs, static: st, placement: place}, nil
	}
	defer opts.Destroy()
	if !fromBytes && !static {
		model = nil // made from the file: the bytes need not stay for it
	}
	var s *ort.DynamicAdvancedSession
	if _, err = withGoSignalHandlers(func() error {
		var e error
		if fromBytes || static {
			s, e = ort.NewDynamicAdvancedSessionWithONNXData(model, names(ins), names(outs), opts)
		} else {
			s, e = ort.NewDynamicAdvancedSession(path, names(ins), names(outs), opts)
		}
		return e
	}); err != nil {
		return nil, fmt.Errorf("%s: creating the ONNX Runtime session on %s: %w", path, place.Device, err)
	}
	return &Session{path: path, inputs: ins, outputs: outs, s: s, placement: place}, nil
}

// ioInfo is the graph's inputs and outputs as ONNX Runtime lists them,
// read from the protobuf; ONNX Runtime is asked (a session made and
// dropped, which costs far more) only when a value is not a tensor or has
// no shape.
func ioInfo(model []byte) (ins, outs []ort.InputOutputInfo, err error) {
	pins, pouts, err := onnxpb.GraphIO(model)
	if err != nil {
		return nil, nil, err
	}
	conv := func(vs []onnxpb.Value) ([]ort.InputOutputInfo, bool) {
		out := make([]ort.InputOutputInfo, len(vs))
		for i, v := range vs {
			if v.ElemType == 0 || v.Dims == nil {
				return nil, false
			}
			dims := make(ort.Shape, len(v.Dims))
			for j, d := range v.Dims {
				dims[j] = d.Value
				if d.Value <= 0 {
					dims[j] = -1
				}
			}
			out[i] = ort.InputOutputInfo{Name: v.Name, OrtValueType: ort.ONNXTypeTensor, Dimensions: dims, DataType: ort.TensorElementDataType(v.ElemType)}
		}
		return out, true
	}
	ins, ok1 := conv(pins)
	outs, ok2 := conv(pouts)
	if ok1 && ok2 && len(ins) > 0 && len(outs) > 0 {
		return ins, outs, nil
	}
	return ort.GetInputOutputInfoWithONNXData(model)
}

// Placement says where the session runs.
func (s *Session) Placement() Placement { return s.placement }

// runPlain runs a session that is not IO-bound; on a GPU beside, never
// during, a CUDA graph's capture (captureMu).
func (s *Session) runPlain(run *ort.DynamicAdvancedSession, vals, outs []ort.Value) error {
	if s.placement.Device != "cpu" {
		captureMu.RLock()
		defer captureMu.RUnlock()
	}
	return run.Run(vals, outs)
}

// AddNote appends to the placement's note (why a caller moved the session
// elsewhere, say); call it before the session is shared.
func (s *Session) AddNote(n string) {
	if s.placement.Note != "" {
		n = s.placement.Note + "; " + n
	}
	s.placement.Note = n
}

// Inputs and Outputs describe the graph's I/O.
func (s *Session) Inputs() []ort.InputOutputInfo  { return s.inputs }
func (s *Session) Outputs() []ort.InputOutputInfo { return s.outputs }

// Tensor is a dense float32 tensor.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// Run feeds one tensor per graph input, in order, and returns every output.
// ONNX Runtime allocates the outputs; use RunShaped for float16 outputs.
func (s *Session) Run(in ...Tensor) ([]Tensor, error) { return s.RunShaped(nil, in...) }

// RunShaped is Run with the outputs' shapes given, so they are allocated
// here: onnxruntime_go v1.35.0 mis-sizes the float16 outputs it wraps
// ("not enough space: expected 2n, got n").
func (s *Session) RunShaped(outShapes [][]int64, in ...Tensor) ([]Tensor, error) {
	if len(in) != len(s.inputs) {
		return nil, fmt.Errorf("%s takes %d inputs, got %d", s.path, len(s.inputs), len(in))
	}
	for i, t := range in {
		if err := checkShape(s.inputs[i], t.Shape); err != nil {
			return nil, fmt.Errorf("%s: input %q: %w", s.path, s.inputs[i].Name, err)
		}
		if int64(len(t.Data)) != ort.NewShape(t.Shape...).FlattenedSize() {
			return nil, fmt.Errorf("%s: input %q: %d values for shape %v", s.path, s.inputs[i].Name, len(t.Data), t.Shape)
		}
	}
	if s.bound != nil {
		res, err := s.bound.run(outShapes, in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		if err := checkNaN(s, res); err != nil {
			return nil, err
		}
		return res, nil
	}
	vals := make([]ort.Value, len(in))
	for i, t := range in {
		var v ort.Value
		var err error
		if s.inputs[i].DataType == ort.TensorElementDataTypeFloat16 {
			v, err = ort.NewCustomDataTensor(ort.NewShape(t.Shape...), half.Encode(t.Data), ort.TensorElementDataTypeFloat16)
		} else {
			v, err = ort.NewTensor(ort.NewShape(t.Shape...), t.Data)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: input %q: %w", s.path, s.inputs[i].Name, err)
		}
		defer v.Destroy()
		vals[i] = v
	}
	outs := make([]ort.Value, len(s.outputs))
	if outShapes != nil {
		if len(outShapes) != len(outs) {
			return nil, fmt.Errorf("%s has %d outputs, %d shapes given", s.path, len(outs), len(outShapes))
		}
		for i, sh := range outShapes {
			n := ort.NewShape(sh...).FlattenedSize()
			var v ort.Value
			var err error
			if s.outputs[i].DataType == ort.TensorElementDataTypeFloat16 {
				v, err = ort.NewCustomDataTensor(ort.NewShape(sh...), make([]byte, 2*n), ort.TensorElementDataTypeFloat16)
			} else {
				v, err = ort.NewEmptyTensor[float32](ort.NewShape(sh...))
			}
			if err != nil {
				return nil, fmt.Errorf("%s: output %q: %w", s.path, s.outputs[i].Name, err)
			}
			outs[i] = v
		}
	}
	run := s.s
	if s.static != nil {
		shapes := make([][]int64, len(in))
		for i, t := range in {
			shapes[i] = t.Shape
		}
		e, err := s.static.acquire(shapes)
		if err != nil {
			return nil, err
		}
		defer s.static.release(e)
		run = e.s
	}
	if err := s.runPlain(run, vals, outs); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	res := make([]Tensor, len(outs))
	for i, o := range outs {
		defer o.Destroy()
		switch t := o.(type) {
		case *ort.Tensor[float32]:
			data := t.GetData()
			if outShapes == nil { // ORT's own memory: copy before Destroy
				data = append([]float32(nil), data...)
			} // else: our Go slice, which outlives the OrtValue
			res[i] = Tensor{Shape: t.GetShape(), Data: data}
		case *ort.CustomDataTensor:
			raw := t.GetData()
			data := make([]float32, len(raw)/2)
			half.Decode(data, raw)
			res[i] = Tensor{Shape: t.GetShape(), Data: data}
		default:
			return nil, fmt.Errorf("%s: output %q has an unsupported type", s.path, s.outputs[i].Name)
		}
	}
	if err := checkNaN(s, res); err != nil {
		return nil, err
	}
	return res, nil
}

// IsOutOfMemory says whether err is the runtime failing to allocate (the
// CPU arena, or CUDA's memory), the error whose fix is a smaller input.
func IsOutOfMemory(err error) bool {
	if err == nil {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "failed to allocate") || strings.Contains(msg, "out of memory") ||
		strings.Contains(msg, "cudaerrormemoryallocation") || strings.Contains(msg, "bad_alloc")
}

func checkNaN(s *Session, res []Tensor) error {
	for i := range res {
		if hasNaN(res[i].Data) {
			return fmt.Errorf("%s: output %q contains NaN; the model or its input is broken", s.path, s.outputs[i].Name)
		}
	}
	return nil
}

// hasNaN scans v, on all cores when it is large (a batch of SR outputs is
// tens of millions of values).
func hasNaN(v []float32) bool {
	var found atomic.Bool
	workpool.Split(len(v), 1<<20, func(lo, hi int) {
		for _, x := range v[lo:hi] {
			if x != x {
				found.Store(true)
				return
			}
		}
	})
	return found.Load()
}

func checkShape(info ort.InputOutputInfo, shape []int64) error {
	want := info.Dimensions
	if len(want) != len(shape) {
		return fmt.Errorf("shape %v has rank %d, the graph wants %v", shape, len(shape), want)
	}
	for i, d := range want {
		if d >= 0 && d != shape[i] {
			return fmt.Errorf("shape %v does not fit the graph's %v", shape, want)
		}
	}
	return nil
}

// Close releases the session.
func (s *Session) Close() error {
	if s.bound != nil {
		s.bound.close()
		return nil
	}
	if s.static != nil {
		return s.static.close()
	}
	return s.s.Destroy()
}
