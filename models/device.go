package models

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/addsr-bench/addsr-bench/internal/ortio"
)

// EnvCUDAPlugin names the CUDA execution provider plugin library to load into
// a CPU build of ONNX Runtime (the npm GPU package ships it this way).
const EnvCUDAPlugin = "ORT_CUDA_EP_LIBRARY"

// Device is where sessions run: "cpu", "cuda" or "cuda:N", or "auto" (CUDA
// when it works, else CPU, saying so).
type Device struct {
	Kind  string // "cpu", "cuda" or "auto"
	Index int
	// EPOptions are passed to the CUDA execution provider as they are, e.g.
	// prefer_nhwc=1 or cudnn_conv_algo_search=EXHAUSTIVE; they become part
	// of the placement, and so of every fingerprint.
	EPOptions map[string]string
	// CUDADefaults are CUDA provider options a caller picks for its graphs
	// where EPOptions does not set the same key (the learned metrics'
	// cudnn_conv_algo_search=HEURISTIC). Unlike EPOptions, they go unsaid
	// when the session runs on the CPU; on CUDA they are in the placement.
	CUDADefaults map[string]string
	// Threads is ONNX Runtime's intra-op thread count for the work on the
	// CPU (0: its default, one per physical core). With several images in
	// flight at once (--workers), 1 avoids their thread pools competing.
	Threads int
	// IOBinding keeps inputs and outputs in the device's memory, bound once
	// per shape (internal/ortio): no per-run allocations, pinned staging,
	// and the fixed addresses a CUDA graph (enable_cuda_graph=1) needs.
	// Needs the outputs' shapes (Session.RunShaped) or static shapes, which
	// give them, and, for CUDA, the plugin execution provider.
	IOBinding bool
	// The settings below change results (fused and unfused graphs round
	// differently): they are flags (--ort-opt, --ort-disable,
	// --static-shapes, --slice-as-gather) and keys of a spec's onnxruntime:
	// block, and every placement, so every fingerprint, records them.
	//
	// GraphOptimization is ONNX Runtime's graph optimization level: all
	// (its default), extended, basic or none ("": the default).
	GraphOptimization string
	// DisableOptimizers names graph optimizers to skip (ONNX Runtime's
	// names, e.g. BiasGeluFusion): for narrowing a provider's failure down
	// to one fusion, and for working around it.
	DisableOptimizers []string
	// SliceAsGather turns the Slice rewrite (onnxpb.SliceAsGather) "on" or
	// "off"; "" (auto): on where Slices crash (ONNX Runtime 1.29.0's CUDA
	// plugin provider) only.
	SliceAsGather string
	// StaticShapes runs, for each set of input shapes, a copy of the graph
	// with its symbolic dimensions fixed to them (--static-shapes). Sessions
	// are made at a shape's first run, so a graph the provider cannot load
	// fails there, not in OpenOn. IO-bound ones get each output's shape
	// from the pinned graph, so Run needs none given.
	StaticShapes bool

	// test, set by this package's tests only: per-shape sessions of CUDA
	// graphs on the CPU, where the option itself does nothing, and a hook
	// that sees every run of a graph session (its OS thread, and whether it
	// had the device alone).
	test *deviceTestHooks
}

type deviceTestHooks struct {
	perShapeOnCPU bool
	graphRun      func(s *ortio.Session, tid int, alone bool)
}

// cudaOptions are the provider options a CUDA session gets: CUDADefaults,
// then EPOptions over them.
func (d Device) cudaOptions() map[string]string {
	if len(d.CUDADefaults) == 0 {
		return d.EPOptions
	}
	o := maps.Clone(d.CUDADefaults)
	maps.Copy(o, d.EPOptions)
	return o
}

func (d Device) String() string {
	if d.Kind == "" {
		return "cpu"
	}
	if d.Kind == "cuda" {
		return fmt.Sprintf("cuda:%d", d.Index)
	}
	return d.Kind
}

// ParseDevice reads --device.
func ParseDevice(s string) (Device, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "" || s == "cpu":
		return Device{Kind: "cpu"}, nil
	case s == "auto":
		return Device{Kind: "auto"}, nil
	case s == "cuda":
		return Device{Kind: "cuda"}, nil
	case strings.HasPrefix(s, "cuda:"):
		n, err := strconv.Atoi(s[5:])
		if err != nil || n < 0 {
			return Device{}, fmt.Errorf("--device %q: want cuda:N with N ≥ 0", s)
		}
		return Device{Kind: "cuda", Index: n}, nil
	}
	return Device{}, fmt.Errorf("--device %q: use cpu, cuda, cuda:N or auto", s)
}

// Placement records where a session actually runs, for result fingerprints.
type Placement struct {
	EP         string            `json:"ep"`     // CPUExecutionProvider, CUDAExecutionProvider
	Device     string            `json:"device"` // "cpu", "cuda:0"
	Path       string            `json:"path"`   // "cpu", "plugin", "legacy"
	ORTVersion string            `json:"ort_version"`
	Note       string            `json:"note,omitempty"` // e.g. why auto fell back to the CPU
	Options    map[string]string `json:"options,omitempty"`
	IOBinding  string            `json:"io_binding,omitempty"` // how inputs and outputs are bound, when they are
	// Session holds the graph-optimization settings (Device's
	// GraphOptimization and DisableOptimizers, the Slice rewrite, static
	// shapes); nil when ONNX Runtime's defaults apply.
	Session map[string]string `json:"session,omitempty"`
}

// Tuning is Session as sorted key=value pairs joined by commas, for
// fingerprints ("" when ONNX Runtime's defaults apply).
func (p Placement) Tuning() string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(p.Session)) {
		kv = append(kv, k+"="+p.Session[k])
	}
	return strings.Join(kv, ",")
}

var (
	pluginOnce sync.Once
	pluginErr  error
)

// registerCUDAPlugin loads $ORT_CUDA_EP_LIBRARY once.
func registerCUDAPlugin() error {
	pluginOnce.Do(func() {
		lib := os.Getenv(EnvCUDAPlugin)
		if lib == "" {
			pluginErr = errNoPlugin
			return
		}
		var changed int
		changed, pluginErr = withGoSignalHandlers(func() error {
			return ort.RegisterExecutionProviderLibrary("cuda", lib)
		})
		if pluginErr != nil {
			pluginErr = fmt.Errorf("loading the CUDA execution provider %s=%s: %w", EnvCUDAPlugin, lib, pluginErr)
		}
		_ = changed
	})
	return pluginErr
}

var errNoPlugin = errors.New(EnvCUDAPlugin + " is not set")

// sessionOptions builds options for dev (deviceOptions) and records its
// graph-optimization settings in the placement.
func sessionOptions(dev Device) (*ort.SessionOptions, Placement, error) {
	opts, place, err := deviceOptions(dev)
	if err == nil {
		place.Session, _, _ = sessionTuning(dev) // newOptions has checked it
	}
	return opts, place, err
}

// deviceOptions builds options for dev: the plugin path first (a CPU core
// plus the CUDA EP library), then the legacy path (an official GPU build).
func deviceOptions(dev Device) (*ort.SessionOptions, Placement, error) {
	cpu := Placement{EP: "CPUExecutionProvider", Device: "cpu", Path: "cpu", ORTVersion: ort.GetVersion()}
	opts, err := newOptions(dev)
	if err != nil {
		return nil, cpu, err
	}
	if dev.Kind == "cpu" || dev.Kind == "" { // the zero Device is the CPU
		cpu.Note = cpuOptionsNote("", dev.EPOptions)
		return opts, cpu, nil
	}
	idx, eo := dev.Index, dev.cudaOptions()
	var tried []string
	if err := registerCUDAPlugin(); err == nil {
		devices, err := ort.GetEpDevices()
		var names []string
		for _, d := range devices {
			names = append(names, d.EpName())
		}
		var k int
		if err == nil {
			k, err = cudaDevice(names, idx)
		}
		if err == nil {
			cuda := devices[k]
			if _, err = withGoSignalHandlers(func() error { return opts.AppendExecutionProviderV2([]ort.EpDevice{cuda}, eo) }); err == nil {
				return opts, Placement{EP: cuda.EpName(), Device: fmt.Sprintf("cuda:%d (%s)", idx, cuda.EpVendor()), Path: "plugin", ORTVersion: ort.GetVersion(), Options: eo}, nil
			}
		}
		tried = append(tried, "plugin: "+err.Error())
	} else {
		tried = append(tried, "plugin: "+err.Error())
	}
	if co, err := ort.NewCUDAProviderOptions(); err == nil {
		defer co.Destroy()
		o := map[string]string{"device_id": strconv.Itoa(idx)}
		maps.Copy(o, eo)
		err = co.Update(o)
		if err == nil {
			_, err = withGoSignalHandlers(func() error { return opts.AppendExecutionProviderCUDA(co) })
		}
		if err == nil {
			return opts, Placement{EP: "CUDAExecutionProvider", Device: fmt.Sprintf("cuda:%d", idx), Path: "legacy", ORTVersion: ort.GetVersion(), Options: eo}, nil
		}
		tried = append(tried, "legacy: "+err.Error())
	} else {
		tried = append(tried, "legacy: "+err.Error())
	}
	why := strings.Join(tried, "; ")
	if dev.Kind == "auto" {
		opts.Destroy()
		opts, err = newOptions(dev)
		if err != nil {
			return nil, cpu, err
		}
		cpu.Note = cpuOptionsNote(autoCPUNote(why), dev.EPOptions)
		return opts, cpu, nil
	}
	opts.Destroy()
	return nil, cpu, fmt.Errorf("--device %s: CUDA is not available (%s); set %s to the CUDA EP plugin, use a GPU build of ONNX Runtime %s, or pass --device cpu or auto",
		dev, why, EnvCUDAPlugin, ORTVersion)
}

// cudaDevice is the position among the execution providers' devices (their
// names, in GetEpDevices order) of the idx-th CUDA one: cuda:N.
func cudaDevice(names []string, idx int) (int, error) {
	n := 0
	for k, name := range names {
		if strings.Contains(name, "CUDA") {
			if n == idx {
				return k, nil
			}
			n++
		}
	}
	return 0, fmt.Errorf("%d CUDA devices, asked for cuda:%d", n, idx)
}

// autoCPUNote says why --device auto runs on the CPU.
func autoCPUNote(why string) string {
	return "auto: CUDA unavailable (" + why + "), running on the CPU"
}

// cpuOptionsNote adds to note that provider options were given to a session
// that runs on the CPU, where they do nothing (a spec written for a GPU
// machine and run on another).
func cpuOptionsNote(note string, opts map[string]string) string {
	if len(opts) == 0 {
		return note
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		kv = append(kv, k+"="+opts[k])
	}
	n := "provider options " + strings.Join(kv, ", ") + " are for CUDA and are not used on the CPU"
	if note == "" {
		return n
	}
	return note + "; " + n
}

// newOptions is a fresh set of session options with dev's thread count.
func newOptions(dev Device) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	if dev.Threads > 0 {
		if err := opts.SetIntraOpNumThreads(dev.Threads); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("setting %d intra-op threads: %w", dev.Threads, err)
		}
	}
	if _, err := applyTuning(opts, dev); err != nil {
		opts.Destroy()
		return nil, err
	}
	return opts, nil
}
