package models

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/addsr-bench/addsr-bench/internal/half"
	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
	"github.com/addsr-bench/addsr-bench/internal/ortio"
)

// bound runs a graph with its inputs and outputs in the device's memory
// (Device.IOBinding, through internal/ortio): buffers allocated once per
// shape at fixed addresses, host data staged in pinned memory where the
// provider has it. With the CUDA provider's enable_cuda_graph=1 each input
// shape gets a session of its own, since a captured graph replays one shape
// at the addresses it was captured with; with static shapes each gets a
// session of the graph with its dimensions pinned to that shape, whose
// output shapes are then known (Run without them: the learned metrics).
type bound struct {
	path      string
	ins, outs []ortio.IO
	opts      ortio.Options
	perShape  bool
	graph     bool                                        // a CUDA graph per shape: its runs on a graphThread
	cache     *shapeCache[*ortio.Session]                 // per input shape, with perShape
	threads   map[*ortio.Session]*graphThread             // with graph, under mu
	graphRun  func(s *ortio.Session, tid int, alone bool) // a test's hook (Device.test)

	mu    sync.Mutex
	first *ortio.Session // opened eagerly, so that errors show at Open (nil with static shapes); the first shape takes it

	// Static shapes: the graph (Slices rewritten where they are), its
	// symbolic input dimensions, and its outputs' dimensions by name.
	model   []byte
	pin     *dimParams
	outDims map[string][]onnxpb.Dim
	shapes  map[*ortio.Session][][]int64 // outputs' shapes per session, under mu
}

// openBound creates the IO-bound session for dev of model, the graph at
// path; the placement says where it runs, as sessionOptions does for the
// onnxruntime_go path.
func openBound(path string, model []byte, ins, outs []ort.InputOutputInfo, dev Device) (*bound, Placement, error) {
	cpu := Placement{EP: "CPUExecutionProvider", Device: "cpu", Path: "cpu", ORTVersion: ort.GetVersion()}
	if set, _, err := sessionTuning(dev); err != nil || set != nil {
		return nil, cpu, fmt.Errorf("--io-binding: --ort-opt and --ort-disable are not applied to IO-bound sessions; leave them out or drop --io-binding")
	}
	static, err := staticShapes(dev)
	if err != nil {
		return nil, cpu, err
	}
	if err := ortio.Init(envLib); err != nil {
		return nil, cpu, fmt.Errorf("--io-binding: %w", err)
	}
	b := &bound{path: path, opts: ortio.Options{Threads: dev.Threads, EPOptions: dev.EPOptions}, shapes: map[*ortio.Session][][]int64{}}
	b.threads = map[*ortio.Session]*graphThread{}
	b.cache = newShapeCache(func(s *ortio.Session) error {
		b.mu.Lock()
		delete(b.shapes, s)
		t := b.threads[s]
		delete(b.threads, s)
		b.mu.Unlock()
		if t != nil {
			t.stop()
		}
		if b.opts.Device != nil { // frees device memory: not during a capture
			captureMu.RLock()
			defer captureMu.RUnlock()
		}
		return s.Close()
	})
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
	// The graph as OpenOn's sessions get it: Slices rewritten where they
	// crash (or where dev.SliceAsGather asks), dimensions pinned per shape.
	model, disable, fromBytes, err := prepareSlices(path, model, &place, dev.SliceAsGather)
	if err != nil {
		return nil, place, err
	}
	if disable != "" {
		b.opts.Config = map[string]string{disableOptimizersKey: disable}
	}
	if fromBytes {
		b.opts.Model = model
	}
	if static {
		if b.pin, err = newDimParams(path, model, ins); err != nil {
			return nil, place, err
		}
		if b.pin != nil { // symbolic input dimensions to pin
			b.model, b.opts.Model = model, nil
			if b.outDims, err = onnxpb.OutputDims(model); err != nil {
				return nil, place, fmt.Errorf("%s: %w", path, err)
			}
			place.Session = maps.Clone(place.Session)
			if place.Session == nil {
				place.Session = map[string]string{}
			}
			place.Session["static_shapes"] = "1"
		}
	}
	cudaGraph := (b.opts.Device != nil || (dev.test != nil && dev.test.perShapeOnCPU)) && b.opts.EPOptions["enable_cuda_graph"] == "1"
	if dev.test != nil {
		b.graphRun = dev.test.graphRun
	}
	b.perShape = cudaGraph || b.pin != nil
	b.graph = cudaGraph
	place.IOBinding = "device buffers"
	if b.opts.Device == nil {
		place.IOBinding = "bound buffers in CPU memory"
	}
	if b.pin == nil {
		s, err := b.open(b.opts)
		if err != nil {
			return nil, place, fmt.Errorf("%s: creating the IO-bound session on %s: %w", path, place.Device, err)
		}
		b.first = s
		if !s.OnDevice() {
			place.IOBinding = "bound buffers in CPU memory"
		}
		if s.Pinned() {
			place.IOBinding += ", pinned host staging"
		}
	}
	switch {
	case b.pin != nil && cudaGraph:
		place.IOBinding += ", a session (static shapes, CUDA graph) per input shape"
	case b.pin != nil:
		place.IOBinding += ", a session (static shapes) per input shape"
	case cudaGraph:
		place.IOBinding += ", a session (CUDA graph) per input shape"
	}
	return b, place, nil
}

// open creates one ortio session with o, with Go's signal handlers kept
// (the CUDA provider may install its own while it starts).
func (b *bound) open(o ortio.Options) (*ortio.Session, error) {
	var s *ortio.Session
	_, err := withGoSignalHandlers(func() error {
		var e error
		s, e = ortio.Open(b.path, b.ins, b.outs, o)
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

// acquire returns the session for these input shapes and the function
// that ends the run on it: with perShape, each shape's own (made on first
// use, at most maxShapeSessions kept), else the one session.
func (b *bound) acquire(in []Tensor) (*ortio.Session, func(), error) {
	if !b.perShape {
		return b.first, func() {}, nil
	}
	var key strings.Builder
	for _, t := range in {
		fmt.Fprint(&key, t.Shape, ";")
	}
	e, err := b.cache.acquire(key.String(), func() (*ortio.Session, error) {
		b.mu.Lock()
		s := b.first
		b.first = nil
		b.mu.Unlock()
		if s != nil {
			return s, nil
		}
		o := b.opts
		if b.pin != nil {
			v, err := b.pin.values(shapesOf(in))
			if err != nil {
				return nil, err
			}
			if o.Model, err = onnxpb.PinDims(b.model, v); err != nil {
				return nil, fmt.Errorf("%s: %w", b.path, err)
			}
		}
		s, err := b.open(o)
		if err != nil {
			return nil, fmt.Errorf("a session for input shape %s: %w", key.String(), err)
		}
		return s, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return e.s, func() { b.cache.release(e) }, nil
}

func shapesOf(in []Tensor) [][]int64 {
	shapes := make([][]int64, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	return shapes
}

// outShapes are the outputs' shapes of s, the session for these inputs,
// where static shapes fix them: as ONNX Runtime infers them for the pinned
// graph, and where it leaves a dimension unknown, the graph's own name for
// it if the inputs fix that.
func (b *bound) outShapes(s *ortio.Session, in []Tensor) ([][]int64, error) {
	if b.pin == nil {
		return nil, fmt.Errorf("IO binding needs the outputs' shapes (RunShaped), or static shapes (--static-shapes) to know them")
	}
	b.mu.Lock()
	known, ok := b.shapes[s]
	b.mu.Unlock()
	if ok {
		return known, nil
	}
	v, err := b.pin.values(shapesOf(in))
	if err != nil {
		return nil, err
	}
	shapes := make([][]int64, len(b.outs))
	for i, o := range b.outs {
		sh, err := s.OutputShape(o.Name)
		if err != nil {
			return nil, err
		}
		ds := b.outDims[o.Name]
		for j, n := range sh {
			if n <= 0 && j < len(ds) && ds[j].Param != "" {
				sh[j] = v[ds[j].Param]
			}
			if sh[j] <= 0 {
				return nil, fmt.Errorf("output %q dimension %d is not fixed by the inputs' shapes %v; IO binding needs it known (drop --io-binding)", o.Name, j, shapesOf(in))
			}
		}
		shapes[i] = sh
	}
	b.mu.Lock()
	b.shapes[s] = shapes
	b.mu.Unlock()
	return shapes, nil
}

// run is Session.RunShaped on the bound path.
func (b *bound) run(outShapes [][]int64, in []Tensor) ([]Tensor, error) {
	s, done, err := b.acquire(in)
	if err != nil {
		return nil, err
	}
	defer done()
	if outShapes == nil {
		if outShapes, err = b.outShapes(s, in); err != nil {
			return nil, err
		}
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
	if err := b.runOn(s, ins, outs); err != nil {
		return nil, err
	}
	for i := range res {
		if b.outs[i].Type == ortio.Float16 {
			half.Decode(res[i].Data, outs[i].Data)
		}
	}
	return res, nil
}

// runOn runs s: a CUDA graph's session on its own OS thread (graphThread),
// any other on the device beside the captures that need it alone.
func (b *bound) runOn(s *ortio.Session, ins, outs []ortio.Tensor) error {
	if !b.graph {
		if b.opts.Device != nil {
			captureMu.RLock()
			defer captureMu.RUnlock()
		}
		return s.Run(ins, outs)
	}
	b.mu.Lock()
	t := b.threads[s]
	if t == nil {
		t = newGraphThread(b.graphRun)
		b.threads[s] = t
	}
	b.mu.Unlock()
	return t.run(s, ins, outs)
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
	b.cache.close() // stops the sessions' threads too
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first != nil {
		b.first.Close()
		b.first = nil
	}
}
