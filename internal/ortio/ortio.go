// Package ortio runs ONNX graphs with their inputs and outputs kept in the
// execution provider's own memory (ONNX Runtime's IO binding): buffers are
// allocated once per shape and stay at the same addresses, host data is
// staged through pinned memory where the provider offers it, and the copies
// go through the provider's data transfer (OrtApi CopyTensors). That is what
// onnxruntime_go v1.35.0 cannot do (its tensors live in host memory), and
// what CUDA graphs (the CUDA provider's enable_cuda_graph) require.
//
// It calls ONNX Runtime's C API itself, through the function table layout in
// ortapi.h (generated from the header onnxruntime_go ships), on the library
// and environment that onnxruntime_go loaded: call Init after
// onnxruntime_go's InitializeEnvironment, with the same library path.
package ortio

//go:generate go run ./genapi

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "ortio.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"unsafe"

	"github.com/addsr-bench/addsr-bench/internal/workpool"
)

// ElemType is a tensor element type.
type ElemType int

const (
	Float32 ElemType = C.ORTIO_ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
	Float16 ElemType = C.ORTIO_ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16
)

// Size is the element's size in bytes.
func (t ElemType) Size() int {
	if t == Float16 {
		return 2
	}
	return 4
}

var (
	initOnce sync.Once
	initErr  = errors.New("ortio: Init has not been called")
)

// Init loads the C API from lib, the library onnxruntime_go already loaded.
func Init(lib string) error {
	initOnce.Do(func() {
		c := C.CString(lib)
		defer C.free(unsafe.Pointer(c))
		if initErr = status(C.ortio_init(c)); initErr != nil {
			initErr = fmt.Errorf("ortio: %s: %w", lib, initErr)
		}
	})
	return initErr
}

// Version is the loaded ONNX Runtime's version string.
func Version() string { return C.GoString(C.ortio_version()) }

func status(e *C.char) error {
	if e == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(e))
	return errors.New(C.GoString(e))
}

// EpDevice is an execution provider's device, as ONNX Runtime lists them
// (GetEpDevices): the CPU, and the devices of registered plugin providers.
type EpDevice struct {
	p            *C.OrtEpDevice
	Name, Vendor string
}

// EpDevices lists the environment's execution provider devices.
func EpDevices() ([]EpDevice, error) {
	if initErr != nil {
		return nil, initErr
	}
	var devs **C.OrtEpDevice
	var n C.size_t
	if err := status(C.ortio_ep_devices(&devs, &n)); err != nil {
		return nil, err
	}
	var out []EpDevice
	for _, d := range unsafe.Slice(devs, int(n)) {
		out = append(out, EpDevice{p: d, Name: C.GoString(C.ortio_ep_name(d)), Vendor: C.GoString(C.ortio_ep_vendor(d))})
	}
	return out, nil
}

// Options say where and how a session runs.
type Options struct {
	Threads   int               // intra-op threads for CPU work (0: ORT's default)
	Device    *EpDevice         // nil: the CPU provider, buffers in CPU memory
	EPOptions map[string]string // provider options, such as enable_cuda_graph=1
	// Config are session configuration entries, such as
	// optimization.disable_specified_optimizers.
	Config map[string]string
	// Model, when set, is the graph's bytes (a rewritten or pinned copy);
	// the path then only names it in messages.
	Model []byte

	// staging (tests): separate host and "device" buffers on the CPU,
	// copied by memmove, since ONNX Runtime has no CPU-to-CPU transfer for
	// CopyTensors.
	staging bool
}

// IO names a graph input or output and its element type.
type IO struct {
	Name string
	Type ElemType
}

// slot is one bound tensor: its device buffer and, when the device is not
// the host, a host staging buffer of the same shape.
type slot struct {
	IO
	cname      *C.char
	shape      []int64
	dev, host  *C.OrtValue
	hostData   unsafe.Pointer
	devData    unsafe.Pointer // cpuStaging only
	bytes      int
	hostIsSelf bool
}

// Session is a graph with bound device buffers. Run is serialised: the bound
// buffers are shared.
type Session struct {
	mu         sync.Mutex
	s          *C.OrtSession
	b          *C.OrtIoBinding
	devAlloc   *C.OrtAllocator
	hostAlloc  *C.OrtAllocator
	sameMemory bool // the device's memory is the host's: no copies
	pinned     bool
	cpuStaging bool
	ins, outs  []*slot
}

// Open creates a session for the graph at path with the given inputs and
// outputs (all of the graph's, in any order).
func Open(path string, ins, outs []IO, o Options) (*Session, error) {
	if initErr != nil {
		return nil, initErr
	}
	if len(ins) == 0 || len(outs) == 0 {
		return nil, errors.New("ortio: a session needs inputs and outputs")
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	kp, vp, nkv, freeEP := cStrings(o.EPOptions)
	defer freeEP()
	ckp, cvp, nc, freeConfig := cStrings(o.Config)
	defer freeConfig()
	var dev *C.OrtEpDevice
	if o.Device != nil {
		dev = o.Device.p
	}
	var model unsafe.Pointer
	if len(o.Model) > 0 {
		// Go memory for the call only: ONNX Runtime parses the bytes while
		// it makes the session and keeps none of them (unless
		// session.use_ort_model_bytes_directly is set, which it is not).
		model = unsafe.Pointer(&o.Model[0])
	}
	s := &Session{}
	if err := status(C.ortio_session(cpath, model, C.size_t(len(o.Model)), C.int(o.Threads), dev, kp, vp, nkv, ckp, cvp, nc, &s.s)); err != nil {
		return nil, err
	}
	var pinned C.int
	if err := status(C.ortio_allocators(dev, &s.devAlloc, &s.hostAlloc, &pinned)); err != nil {
		s.Close()
		return nil, err
	}
	s.pinned = pinned != 0
	s.sameMemory = s.devAlloc == s.hostAlloc && !o.staging
	s.cpuStaging = s.devAlloc == s.hostAlloc && o.staging
	if err := status(C.ortio_binding(s.s, &s.b)); err != nil {
		s.Close()
		return nil, err
	}
	for _, io := range ins {
		s.ins = append(s.ins, &slot{IO: io, cname: C.CString(io.Name)})
	}
	for _, io := range outs {
		s.outs = append(s.outs, &slot{IO: io, cname: C.CString(io.Name)})
	}
	return s, nil
}

// cStrings is m's keys and values, in key order, as C string arrays, and
// the function that frees them (nil arrays for an empty m).
func cStrings(m map[string]string) (keys, vals **C.char, n C.size_t, free func()) {
	if len(m) == 0 {
		return nil, nil, 0, func() {}
	}
	ks := slices.Sorted(maps.Keys(m))
	// C memory for the pointer arrays too: cgo forbids passing Go memory
	// that holds pointers.
	size := C.size_t(len(ks)) * C.size_t(unsafe.Sizeof(uintptr(0)))
	keys, vals = (**C.char)(C.malloc(size)), (**C.char)(C.malloc(size))
	kz, vz := unsafe.Slice(keys, len(ks)), unsafe.Slice(vals, len(ks))
	for i, k := range ks {
		kz[i], vz[i] = C.CString(k), C.CString(m[k])
	}
	return keys, vals, C.size_t(len(ks)), func() {
		for i := range ks {
			C.free(unsafe.Pointer(kz[i]))
			C.free(unsafe.Pointer(vz[i]))
		}
		C.free(unsafe.Pointer(keys))
		C.free(unsafe.Pointer(vals))
	}
}

// OutputShape is the shape ONNX Runtime gives the session's output name,
// after its shape inference (-1 for a dimension it does not know): of a
// graph pinned to one input shape, usually every dimension.
func (s *Session) OutputShape(name string) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s == nil {
		return nil, errors.New("ortio: session closed")
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	const most = 16
	dims := (*C.int64_t)(C.malloc(most * 8))
	defer C.free(unsafe.Pointer(dims))
	var rank C.long
	if err := status(C.ortio_output_shape(s.s, cname, dims, most, &rank)); err != nil {
		return nil, err
	}
	if rank < 0 {
		return nil, fmt.Errorf("ortio: the graph has no tensor output %q", name)
	}
	out := make([]int64, int(rank))
	for i, d := range unsafe.Slice(dims, int(rank)) {
		out[i] = int64(d)
	}
	return out, nil
}

// Pinned says whether host data is staged in the provider's pinned memory.
func (s *Session) Pinned() bool { return s.pinned }

// OnDevice says whether the buffers live apart from host memory (copies
// happen on every run).
func (s *Session) OnDevice() bool { return !s.sameMemory }

// ensure (re)allocates sl's buffers for shape and binds them; the same shape
// keeps the same buffers, so the device addresses stay fixed across runs.
func (s *Session) ensure(sl *slot, shape []int64, output bool) error {
	if sl.dev != nil && slices.Equal(sl.shape, shape) {
		return nil
	}
	s.free(sl)
	n := sl.Type.Size()
	for _, d := range shape {
		if d <= 0 {
			return fmt.Errorf("ortio: %s: shape %v", sl.Name, shape)
		}
		n *= int(d)
	}
	cs := (*C.int64_t)(C.malloc(C.size_t(8 * len(shape))))
	defer C.free(unsafe.Pointer(cs))
	for i, d := range shape {
		unsafe.Slice(cs, len(shape))[i] = C.int64_t(d)
	}
	if err := status(C.ortio_tensor(s.hostAlloc, cs, C.size_t(len(shape)), C.int(sl.Type), &sl.host, &sl.hostData)); err != nil {
		return fmt.Errorf("ortio: %s: host buffer %v: %w", sl.Name, shape, err)
	}
	sl.dev, sl.hostIsSelf = sl.host, true
	if !s.sameMemory {
		sl.hostIsSelf = false
		var data *unsafe.Pointer
		if s.cpuStaging {
			data = &sl.devData
		}
		if err := status(C.ortio_tensor(s.devAlloc, cs, C.size_t(len(shape)), C.int(sl.Type), &sl.dev, data)); err != nil {
			sl.dev = nil
			s.free(sl)
			return fmt.Errorf("ortio: %s: device buffer %v: %w", sl.Name, shape, err)
		}
	}
	out := C.int(0)
	if output {
		out = 1
	}
	if err := status(C.ortio_bind(s.b, out, sl.cname, sl.dev)); err != nil {
		s.free(sl)
		return fmt.Errorf("ortio: binding %s: %w", sl.Name, err)
	}
	sl.shape, sl.bytes = slices.Clone(shape), n
	return nil
}

func (s *Session) free(sl *slot) {
	if sl.dev != nil && !sl.hostIsSelf {
		C.ortio_release_value(sl.dev)
	}
	C.ortio_release_value(sl.host)
	sl.dev, sl.host, sl.hostData, sl.devData, sl.shape, sl.bytes = nil, nil, nil, nil, nil, 0
}

// Tensor is one input or output: its shape and raw little-endian data of
// the slot's element type.
type Tensor struct {
	Shape []int64
	Data  []byte
}

// Run copies the inputs (in Open's order) to the device, runs the graph and
// copies the outputs back into outs[i].Data, whose shapes the caller gives
// (they size the bound output buffers).
func (s *Session) Run(ins, outs []Tensor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s == nil {
		return errors.New("ortio: session closed")
	}
	if len(ins) != len(s.ins) || len(outs) != len(s.outs) {
		return fmt.Errorf("ortio: %d inputs and %d outputs for a graph of %d and %d", len(ins), len(outs), len(s.ins), len(s.outs))
	}
	for i, t := range ins {
		sl := s.ins[i]
		if err := s.fit(sl, t, false); err != nil {
			return err
		}
		parallelCopy(unsafe.Slice((*byte)(sl.hostData), sl.bytes), t.Data)
		if !sl.hostIsSelf {
			if err := s.copy(sl, true); err != nil {
				return fmt.Errorf("ortio: copying %s to the device: %w", sl.Name, err)
			}
		}
	}
	for i, t := range outs {
		if err := s.fit(s.outs[i], t, true); err != nil {
			return err
		}
	}
	if err := status(C.ortio_run(s.s, s.b)); err != nil {
		return err
	}
	for i, t := range outs {
		sl := s.outs[i]
		if !sl.hostIsSelf {
			if err := s.copy(sl, false); err != nil {
				return fmt.Errorf("ortio: copying %s from the device: %w", sl.Name, err)
			}
		}
		parallelCopy(t.Data, unsafe.Slice((*byte)(sl.hostData), sl.bytes))
	}
	return nil
}

// fit binds sl's buffers for t's shape (ensure) and checks that t's data
// is that shape's size.
func (s *Session) fit(sl *slot, t Tensor, output bool) error {
	if err := s.ensure(sl, t.Shape, output); err != nil {
		return err
	}
	if len(t.Data) != sl.bytes {
		return fmt.Errorf("ortio: %s: %d bytes for shape %v", sl.Name, len(t.Data), t.Shape)
	}
	return nil
}

// parallelCopy is copy(dst, src), split across cores when it is large: one
// core's memory bandwidth is a fraction of a server's, and a batch of SR
// outputs is hundreds of megabytes staged while the GPU waits.
func parallelCopy(dst, src []byte) {
	n := min(len(dst), len(src))
	workpool.Split(n, 4<<20, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
}

// copy moves sl's data between its host and device buffers.
func (s *Session) copy(sl *slot, toDevice bool) error {
	if s.cpuStaging {
		h, d := unsafe.Slice((*byte)(sl.hostData), sl.bytes), unsafe.Slice((*byte)(sl.devData), sl.bytes)
		if toDevice {
			copy(d, h)
		} else {
			copy(h, d)
		}
		return nil
	}
	if toDevice {
		return status(C.ortio_copy(sl.host, sl.dev))
	}
	return status(C.ortio_copy(sl.dev, sl.host))
}

// Close releases the session and its buffers.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range append(slices.Clone(s.ins), s.outs...) {
		s.free(sl)
		C.free(unsafe.Pointer(sl.cname))
	}
	s.ins, s.outs = nil, nil
	C.ortio_release_binding(s.b)
	C.ortio_release_session(s.s)
	s.b, s.s = nil, nil
	return nil
}
