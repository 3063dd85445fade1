package models

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/addsr-bench/addsr-bench/internal/half"
	"github.com/addsr-bench/addsr-bench/internal/ortio"
)

// bound runs a graph with its inputs and outputs in the device's memory
// (Device.IOBinding, through internal/ortio): buffers allocated once per
// shape at fixed addresses, host data staged in pinned memory where the
// provider has it. With the CUDA provider's enable_cuda_graph=1 each input
// shape gets a session of its own, since a captured graph replays one shape
// at the addresses it was captured with.
type bound struct {
	path      string
	ins, outs []ortio.IO
	opts      ortio.Options
	perShape  bool
	mu        sync.Mutex
	sessions  map[string]*ortio.Session
	first     *ortio.Session // opened eagerly, so that errors show at Open
}

// perShapeOnCPU lets tests run the per-shape sessions of CUDA graphs on
// the CPU, where the option itself does nothing.
var perShapeOnCPU bool

// openBound creates the IO-bound session for dev; the placement says where
// it runs, as sessionOptions does for the onnxruntime_go path.
func openBound(path string, ins, outs []ort.InputOutputInfo, dev Device) (*bound, Placement, error) {
	cpu := Placement{EP: "CPUExecutionProvider", Device: "cpu", Path: "cpu", ORTVersion: ort.GetVersion()}
	if set, _, err := sessionTuning(); err != nil || set != nil {
		return nil, cpu, fmt.Errorf("--io-binding: %s and %s are not applied to IO-bound sessions; unset them or drop --io-binding", EnvORTOpt, EnvORTDisable)
	}
	if static, err := staticShapes(dev); err != nil || static {
		return nil, cpu, fmt.Errorf("--io-binding: static shapes (%s, Device.StaticShapes) are not applied to IO-bound sessions; unset it or drop --io-binding", EnvStaticShapes)
	}
	if err := ortio.Init(envLib); err != nil {
		return nil, cpu, fmt.Errorf("--io-binding: %w", err)
	}
	b := &bound{path: path, opts: ortio.Options{Threads: dev.Threads, EPOptions: dev.EPOptions}, sessions: map[string]*ortio.Session{}}
	for _, io := range ins {
		b.ins = append(b.ins, ortio.IO{Name: io.Name, Type: elemType(io)})
	}
	for _, io := range outs {
		b.outs = append(b.outs, ortio.IO{Name: io.Name, Type: elemType(io)})
	}
	place := cpu
	if dev.Kind == "cuda" || dev.Kind == "auto" {
		var devs []ortio.EpDevice
		var k int
		err := registerCUDAPlugin()
		if err == nil {
			devs, err = ortio.EpDevices()
		}
		if err == nil {
			var names []string
			for _, d := range devs {
				names = append(names, d.Name)
			}
			k, err = cudaDevice(names, dev.Index)
		}
		switch {
		case err == nil:
			d := devs[k]
			b.opts.Device, b.opts.EPOptions = &d, dev.cudaOptions()
			place = Placement{EP: d.Name, Device: fmt.Sprintf("cuda:%d (%s)", dev.Index, d.Vendor), Path: "plugin", ORTVersion: ort.GetVersion(), Options: b.opts.EPOptions}
		case dev.Kind == "cuda":
			return nil, cpu, fmt.Errorf("--device %s with --io-binding: no CUDA execution provider device (%v); IO binding takes the plugin path: set %s to the CUDA EP plugin, or drop --io-binding", dev, err, EnvCUDAPlugin)
		default:
			cpu.Note = autoCPUNote(err.Error())
			place = cpu
		}
	}
	if b.opts.Device == nil {
		place.Note = cpuOptionsNote(place.Note, dev.EPOptions)
	}
	if err := boundSlices(path, place); err != nil {
		return nil, place, err
	}
	b.perShape = (b.opts.Device != nil || perShapeOnCPU) && b.opts.EPOptions["enable_cuda_graph"] == "1"
	s, err := b.open()
	if err != nil {
		return nil, place, fmt.Errorf("%s: creating the IO-bound session on %s: %w", path, place.Device, err)
	}
	b.first = s
	place.IOBinding = "device buffers"
	if !s.OnDevice() {
		place.IOBinding = "bound buffers in CPU memory"
	}
	if s.Pinned() {
		place.IOBinding += ", pinned host staging"
	}
	if b.perShape {
		place.IOBinding += ", a session (CUDA graph) per input shape"
	}
	return b, place, nil
}

// open creates one ortio session, with Go's signal handlers kept (the CUDA
// provider may install its own while it starts).
func (b *bound) open() (*ortio.Session, error) {
	var s *ortio.Session
	_, err := withGoSignalHandlers(func() error {
		var e error
		s, e = ortio.Open(b.path, b.ins, b.outs, b.opts)
		return e
	})
	return s, err
}

func elemType(io ort.InputOutputInfo) ortio.ElemType {
	if io.DataType == ort.TensorElementDataTypeFloat16 {
		return ortio.Float16
	}
	return ortio.Float32
}

// session is the session for these input shapes.
func (b *bound) session(in []Tensor) (*ortio.Session, error) {
	if !b.perShape {
		return b.first, nil
	}
	var key strings.Builder
	for _, t := range in {
		fmt.Fprint(&key, t.Shape, ";")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.sessions[key.String()]; ok {
		return s, nil
	}
	s := b.first
	if len(b.sessions) > 0 { // the first shape takes the eager session
		var err error
		if s, err = b.open(); err != nil {
			return nil, fmt.Errorf("a session for input shape %s: %w", key.String(), err)
		}
	}
	b.sessions[key.String()] = s
	return s, nil
}

// run is Session.RunShaped on the bound path.
func (b *bound) run(outShapes [][]int64, in []Tensor) ([]Tensor, error) {
	if outShapes == nil {
		return nil, fmt.Errorf("IO binding needs the outputs' shapes (RunShaped)")
	}
	s, err := b.session(in)
	if err != nil {
		return nil, err
	}
	ins := make([]ortio.Tensor, len(in))
	for i, t := range in {
		ins[i] = ortio.Tensor{Shape: t.Shape, Data: toBytes(t.Data, b.ins[i].Type)}
	}
	res := make([]Tensor, len(outShapes))
	outs := make([]ortio.Tensor, len(outShapes))
	for i, sh := range outShapes {
		n := 1
		for _, d := range sh {
			n *= int(d)
		}
		res[i] = Tensor{Shape: slices.Clone(sh), Data: make([]float32, n)}
		if b.outs[i].Type == ortio.Float32 {
			outs[i] = ortio.Tensor{Shape: sh, Data: f32view(res[i].Data)}
		} else {
			outs[i] = ortio.Tensor{Shape: sh, Data: make([]byte, 2*n)}
		}
	}
	if err := s.Run(ins, outs); err != nil {
		return nil, err
	}
	for i := range res {
		if b.outs[i].Type == ortio.Float16 {
			half.Decode(res[i].Data, outs[i].Data)
		}
	}
	return res, nil
}

// toBytes is v as t's little-endian bytes (a view for float32).
func toBytes(v []float32, t ortio.ElemType) []byte {
	if t == ortio.Float32 {
		return f32view(v)
	}
	return half.Encode(v)
}

// f32view is v's memory as bytes (little-endian machines only: amd64, arm64).
func f32view(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

func (b *bound) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[*ortio.Session]bool{}
	for _, s := range b.sessions {
		seen[s] = true
	}
	seen[b.first] = true
	for s := range seen {
		s.Close()
	}
}
