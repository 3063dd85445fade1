package models

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
)

// Device.StaticShapes (--static-shapes, static_shapes: in a spec's
// onnxruntime: block) has a session run a copy of its graph with the
// symbolic input dimensions fixed to each run's shapes. ONNX Runtime then
// folds the graph's shape arithmetic into constants: the full-size
// learned-metric stand-ins keep no Shape node after optimization (MANIQA
// 1118 → 701 nodes, MUSIQ 828 → 533, CLIP 126 → 96), so beside a GPU
// provider no shape computation is left to the CPU or copied between the
// two. (It was tried against ONNX Runtime 1.29.0's CUDA plugin crash: it
// made MUSIQ run but not MANIQA or CLIP; the crash is the plugin's Slice
// kernel, which slices.go works around.) On the CPU it gains 0–9% per
// image (docs/onnxruntime.md) and costs a session per new shape, so it is
// not a default.

// staticShapes says whether sessions on dev fix their input shapes.
func staticShapes(dev Device) (bool, error) { return dev.StaticShapes, nil }

// dimParams are a graph's symbolic input dimensions: per input, per
// dimension, its name or "".
type dimParams struct {
	path   string
	ins    []string // the inputs' names, in order
	params [][]string
}

// newDimParams reads the symbolic dimensions of the inputs ins of model
// (the graph at path); nil when it has none.
func newDimParams(path string, model []byte, ins []ort.InputOutputInfo) (*dimParams, error) {
	dims, err := onnxpb.InputDims(model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dp := &dimParams{path: path}
	symbolic := false
	for _, in := range ins {
		d, ok := dims[in.Name]
		if !ok || len(d) != len(in.Dimensions) {
			return nil, fmt.Errorf("%s: input %q: the graph's shape %v does not match ONNX Runtime's %v", path, in.Name, d, in.Dimensions)
		}
		names := make([]string, len(d))
		for j, x := range d {
			names[j] = x.Param
			symbolic = symbolic || x.Param != ""
		}
		dp.ins = append(dp.ins, in.Name)
		dp.params = append(dp.params, names)
	}
	if !symbolic {
		return nil, nil
	}
	return dp, nil
}

// values maps each symbolic dimension to its size in shapes (one per input).
func (dp *dimParams) values(shapes [][]int64) (map[string]int64, error) {
	v := map[string]int64{}
	for i, names := range dp.params {
		for j, p := range names {
			if p == "" {
				continue
			}
			if old, ok := v[p]; ok && old != shapes[i][j] {
				return nil, fmt.Errorf("%s: input %q dimension %d (%q) is %d, where an earlier input has %d: the graph needs them equal",
					dp.path, dp.ins[i], j, p, shapes[i][j], old)
			}
			v[p] = shapes[i][j]
		}
	}
	return v, nil
}

// staticSessions are one graph's sessions, one per set of values of its
// symbolic dimensions (at most maxShapeSessions kept).
type staticSessions struct {
	*dimParams
	model  []byte              // the graph as read, for pinned copies
	outs   []string            // the outputs to run
	opts   *ort.SessionOptions // shared by every session, destroyed on close
	device string
	cache  *shapeCache[*ort.DynamicAdvancedSession]

	createHook func(map[string]int64) (*ort.DynamicAdvancedSession, error) // tests
}

// newStaticSessions keeps model (the graph at path, with inputs ins) and
// the names of the outputs to run; nil when it has no symbolic input
// dimension (a plain session is the same thing).
func newStaticSessions(path string, model []byte, ins []ort.InputOutputInfo, outNames []string) (*staticSessions, error) {
	dp, err := newDimParams(path, model, ins)
	if err != nil || dp == nil {
		return nil, err
	}
	st := &staticSessions{dimParams: dp, model: model, outs: outNames}
	st.cache = newShapeCache(func(s *ort.DynamicAdvancedSession) error {
		if st.device != "cpu" { // frees device memory: not during a CUDA graph's capture
			captureMu.RLock()
			defer captureMu.RUnlock()
		}
		return s.Destroy()
	})
	return st, nil
}

func valuesKey(v map[string]int64) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		kv = append(kv, k+"="+strconv.FormatInt(v[k], 10))
	}
	return strings.Join(kv, ",")
}

// acquire returns the session for shapes, creating it on first use (other
// shapes' runs go on meanwhile); release it after the run.
func (st *staticSessions) acquire(shapes [][]int64) (*shapeEntry[*ort.DynamicAdvancedSession], error) {
	v, err := st.values(shapes)
	if err != nil {
		return nil, err
	}
	return st.cache.acquire(valuesKey(v), func() (*ort.DynamicAdvancedSession, error) { return st.create(v) })
}

// create makes the session for v, through createHook where a test set one.
func (st *staticSessions) create(v map[string]int64) (*ort.DynamicAdvancedSession, error) {
	if st.createHook != nil {
		return st.createHook(v)
	}
	return st.createSession(v)
}

func (st *staticSessions) createSession(v map[string]int64) (*ort.DynamicAdvancedSession, error) {
	data, err := onnxpb.PinDims(st.model, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", st.path, err)
	}
	var s *ort.DynamicAdvancedSession
	if _, err = withGoSignalHandlers(func() error {
		var e error
		s, e = ort.NewDynamicAdvancedSessionWithONNXData(data, st.ins, st.outs, st.opts)
		return e
	}); err != nil {
		return nil, fmt.Errorf("%s: creating the ONNX Runtime session for %s on %s: %w", st.path, valuesKey(v), st.device, err)
	}
	return s, nil
}

// release ends a run on e's session.
func (st *staticSessions) release(e *shapeEntry[*ort.DynamicAdvancedSession]) { st.cache.release(e) }

// sessions is how many sessions are open (for tests).
func (st *staticSessions) sessions() int { return st.cache.len() }

// close releases every session; no run may be in flight.
func (st *staticSessions) close() error {
	err := st.cache.close()
	st.opts.Destroy()
	return err
}
