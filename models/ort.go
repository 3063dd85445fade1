// Package models loads ONNX models through ONNX Runtime (via onnxruntime_go)
// and owns the one ORT environment of the process.
package models

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
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
	var tried []string
	if c := os.Getenv(EnvCache); c != "" {
		p := filepath.Join(c, cachedLib)
		if fileExists(p) {
			return p, nil
		}
		tried = append(tried, p)
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
			p := filepath.Join(d, ".cache", cachedLib)
			if fileExists(p) {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
		tried = append(tried, filepath.Join(dir, ".cache", cachedLib)+" (and parents)")
	}
	return "", fmt.Errorf("%w (looked in %v): run `make ort` (scripts/fetch-ort.sh) in the addsr-bench checkout, or set %s to an ONNX Runtime %s library",
		ErrNoRuntime, tried, EnvLibraryPath, ORTVersion)
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
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			envErr = fmt.Errorf("loading ONNX Runtime from %s: %w (it must be release %s for this CPU and OS)", envLib, err, ORTVersion)
		}
	})
	return envErr
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

// Session is a loaded ONNX graph with float32 inputs and outputs. Sessions are
// created once and reused; Run is safe for concurrent use.
type Session struct {
	path    string
	inputs  []ort.InputOutputInfo
	outputs []ort.InputOutputInfo
	s       *ort.DynamicAdvancedSession
}

// Open loads the graph at path on the CPU.
func Open(path string) (*Session, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable ONNX model: %w", path, err)
	}
	names := func(infos []ort.InputOutputInfo) []string {
		var n []string
		for _, i := range infos {
			n = append(n, i.Name)
		}
		return n
	}
	s, err := ort.NewDynamicAdvancedSession(path, names(ins), names(outs), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: creating the ONNX Runtime session: %w", path, err)
	}
	return &Session{path: path, inputs: ins, outputs: outs, s: s}, nil
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
func (s *Session) Run(in ...Tensor) ([]Tensor, error) {
	if len(in) != len(s.inputs) {
		return nil, fmt.Errorf("%s takes %d inputs, got %d", s.path, len(s.inputs), len(in))
	}
	vals := make([]ort.Value, len(in))
	for i, t := range in {
		if err := checkShape(s.inputs[i], t.Shape); err != nil {
			return nil, fmt.Errorf("%s: input %q: %w", s.path, s.inputs[i].Name, err)
		}
		if s.inputs[i].DataType != ort.TensorElementDataTypeFloat {
			return nil, fmt.Errorf("%s: input %q is %v; only float32 inputs are supported here", s.path, s.inputs[i].Name, s.inputs[i].DataType)
		}
		v, err := ort.NewTensor(ort.NewShape(t.Shape...), t.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: input %q: %w", s.path, s.inputs[i].Name, err)
		}
		defer v.Destroy()
		vals[i] = v
	}
	outs := make([]ort.Value, len(s.outputs))
	if err := s.s.Run(vals, outs); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	res := make([]Tensor, len(outs))
	for i, o := range outs {
		defer o.Destroy()
		t, ok := o.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("%s: output %q is not a float32 tensor", s.path, s.outputs[i].Name)
		}
		res[i] = Tensor{Shape: t.GetShape(), Data: append([]float32(nil), t.GetData()...)}
	}
	return res, nil
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
func (s *Session) Close() error { return s.s.Destroy() }
