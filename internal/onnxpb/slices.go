package onnxpb

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of onnx/onnx.proto for reading nodes and constants.
const (
	modelOpset       = 8  // ModelProto.opset_import
	opsetDomain      = 1  // OperatorSetIdProto.domain
	opsetVersion     = 2  // OperatorSetIdProto.version
	graphNode        = 1  // GraphProto.node
	graphInitializer = 5  // GraphProto.initializer
	nodeInput        = 1  // NodeProto.input
	nodeOutput       = 2  // NodeProto.output
	nodeName         = 3  // NodeProto.name
	nodeOp           = 4  // NodeProto.op_type
	nodeAttribute    = 5  // NodeProto.attribute
	nodeDomain       = 7  // NodeProto.domain
	attrName         = 1  // AttributeProto.name
	attrI            = 3  // AttributeProto.i
	attrT            = 5  // AttributeProto.t
	attrIntsField    = 8  // AttributeProto.ints
	tensorDims       = 1  // TensorProto.dims
	tensorDataType   = 2  // TensorProto.data_type
	tensorInt32Data  = 5  // TensorProto.int32_data
	tensorInt64Data  = 7  // TensorProto.int64_data
	tensorName       = 8  // TensorProto.name
	tensorRawData    = 9  // TensorProto.raw_data
	tensorLocation   = 14 // TensorProto.data_location (1: external)
	int32Type        = 6  // TensorProto.DataType INT32
	maxConstInts     = 64 // longer integer tensors are not a Slice's bounds
	minSliceAsGather = 13 // Min, Max (int64 from 12), Range (11)
	minShapeSlice    = 15 // Shape's start and end attributes
)

// node is the part of a NodeProto the rewrite reads.
type node struct {
	name, op, domain string
	inputs, outputs  []string
	attrs            [][]byte
}

// baseName names the nodes that replace n: its name, or its first output's
// where it has none.
func (n node) baseName() string {
	if n.name == "" {
		return n.outputs[0]
	}
	return n.name
}

func readNode(b []byte) (node, error) {
	var n node
	err := eachField(b, "node", func(num protowire.Number, typ protowire.Type, val, _ []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case nodeInput:
			n.inputs = append(n.inputs, string(val))
		case nodeOutput:
			n.outputs = append(n.outputs, string(val))
		case nodeName:
			n.name = string(val)
		case nodeOp:
			n.op = string(val)
		case nodeDomain:
			n.domain = string(val)
		case nodeAttribute:
			n.attrs = append(n.attrs, val)
		}
		return nil
	})
	return n, err
}

// appendVarints appends the values of a repeated varint field, packed or
// not (whole is the field's encoding, for the unpacked form).
func appendVarints(dst []int64, typ protowire.Type, val, whole []byte, num protowire.Number) ([]int64, error) {
	if typ == protowire.VarintType {
		v, n := protowire.ConsumeVarint(whole[protowire.SizeTag(num):])
		if n < 0 {
			return nil, errMalformed("varint", 0)
		}
		return append(dst, int64(v)), nil
	}
	for len(val) > 0 {
		v, n := protowire.ConsumeVarint(val)
		if n < 0 {
			return nil, errMalformed("packed varints", 0)
		}
		dst = append(dst, int64(v))
		val = val[n:]
	}
	return dst, nil
}

// intTensor reads a TensorProto holding at most maxConstInts int64 or int32
// values stored in the model: its name and values (ok false otherwise).
func intTensor(b []byte) (name string, vals []int64, ok bool, err error) {
	var dtype int64
	var n int64 = 1
	var raw []byte
	var listed []int64
	external := false
	err = eachField(b, "tensor", func(num protowire.Number, typ protowire.Type, val, whole []byte) error {
		var e error
		switch num {
		case tensorDims:
			var ds []int64
			if ds, e = appendVarints(nil, typ, val, whole, num); e == nil {
				for _, d := range ds {
					n *= d
				}
			}
		case tensorDataType:
			if typ == protowire.VarintType {
				v, _ := protowire.ConsumeVarint(whole[protowire.SizeTag(num):])
				dtype = int64(v)
			}
		case tensorName:
			name = string(val)
		case tensorRawData:
			raw = val
		case tensorInt64Data, tensorInt32Data:
			listed, e = appendVarints(listed, typ, val, whole, num)
		case tensorLocation:
			if typ == protowire.VarintType {
				v, _ := protowire.ConsumeVarint(whole[protowire.SizeTag(num):])
				external = v == 1
			}
		}
		return e
	})
	if err != nil || external || (dtype != Int64 && dtype != int32Type) || n < 0 || n > maxConstInts {
		return name, nil, false, err
	}
	switch {
	case raw != nil && dtype == Int64 && int64(len(raw)) == 8*n:
		for i := int64(0); i < n; i++ {
			vals = append(vals, int64(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case raw != nil && dtype == int32Type && int64(len(raw)) == 4*n:
		for i := int64(0); i < n; i++ {
			vals = append(vals, int64(int32(binary.LittleEndian.Uint32(raw[4*i:]))))
		}
	case raw == nil && int64(len(listed)) == n:
		for _, v := range listed {
			if dtype == int32Type {
				v = int64(int32(v))
			}
			vals = append(vals, v)
		}
	default:
		return name, nil, false, nil
	}
	return name, vals, true, nil
}

// constantValue is the integer value a Constant node gives (ok false when
// it is not a small integer tensor).
func constantValue(n node) ([]int64, bool, error) {
	for _, a := range n.attrs {
		var name string
		var t []byte
		var ints []int64
		haveInts := false
		err := eachField(a, "attribute", func(num protowire.Number, typ protowire.Type, val, whole []byte) error {
			var e error
			switch num {
			case attrName:
				name = string(val)
			case attrT:
				t = val
			case attrI:
				ints, e = appendVarints(nil, typ, val, whole, num)
				haveInts = true
			case attrIntsField:
				ints, e = appendVarints(ints, typ, val, whole, num)
				haveInts = true
			}
			return e
		})
		if err != nil {
			return nil, false, err
		}
		switch {
		case name == "value" && t != nil:
			_, v, ok, err := intTensor(t)
			return v, ok, err
		case (name == "value_ints" || name == "value_int") && haveInts:
			return ints, true, nil
		}
	}
	return nil, false, nil
}

// opset is the model's default-domain opset version (0 when it names none).
func opset(model []byte) (int64, error) {
	var v int64
	err := eachField(model, "model", func(num protowire.Number, typ protowire.Type, val, _ []byte) error {
		if num != modelOpset || typ != protowire.BytesType {
			return nil
		}
		var domain string
		var ver int64
		err := eachField(val, "opset", func(n protowire.Number, t protowire.Type, b, whole []byte) error {
			switch {
			case n == opsetDomain && t == protowire.BytesType:
				domain = string(b)
			case n == opsetVersion && t == protowire.VarintType:
				x, _ := protowire.ConsumeVarint(whole[protowire.SizeTag(n):])
				ver = int64(x)
			}
			return nil
		})
		if domain == "" || domain == "ai.onnx" {
			v = ver
		}
		return err
	})
	return v, err
}

// SliceRewrite says what SliceAsGather did.
type SliceRewrite struct {
	Rewritten int // Slice nodes replaced
	Kept      int // Slice nodes left: bounds not constant, or an opset below 13
}

// SliceAsGather returns a copy of model in which every Slice node of the
// main graph whose starts, ends, axes and steps are constants (initializers
// or Constant nodes) is replaced by Gathers of the same elements: per
// sliced axis, the bounds clamped to the axis's size as Slice clamps them
// (computed from Shape, so any input size works), Range, then Gather along
// the axis. The output is the same tensor, element for element.
//
// Why: ONNX Runtime 1.29.0's CUDA plugin provider crashes the process on
// every Slice node it runs (docs/onnxruntime.md; the same slice as a Gather
// or a Split runs), which is most transformer
// graphs (a class token dropped, a window shifted). With static shapes
// (PinDims) constant folding turns each Shape → … → Range into a constant
// index list, so only the Gathers run. ONNX Runtime's GatherToSliceFusion
// would turn Range → Gather back into a Slice: sessions of a rewritten graph
// must disable it.
//
// The initializers are copied as they are; a model without a Slice comes
// back unchanged (the same slice).
func SliceAsGather(model []byte) ([]byte, SliceRewrite, error) {
	var res SliceRewrite
	graph, err := firstBytes(model, "model", modelGraph)
	if err != nil {
		return nil, res, err
	}
	if graph == nil {
		return nil, res, fmt.Errorf("not an ONNX model: no graph")
	}
	// The integer constants and every name in use (new names must not clash).
	consts := map[string][]int64{}
	// shapeOf maps the output of a plain Shape node (no start or end) to
	// its input: a Slice of it becomes a Shape with start and end.
	shapeOf := map[string]string{}
	used := map[string]bool{}
	var inputs []string
	slices := 0
	err = eachField(graph, "graph", func(num protowire.Number, typ protowire.Type, val, _ []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case graphNode:
			n, err := readNode(val)
			if err != nil {
				return err
			}
			for _, o := range n.outputs {
				used[o] = true
			}
			used[n.name] = true
			if n.domain == "" || n.domain == "ai.onnx" {
				switch n.op {
				case "Constant":
					if v, ok, err := constantValue(n); err != nil {
						return err
					} else if ok && len(n.outputs) == 1 {
						consts[n.outputs[0]] = v
					}
				case "Slice":
					slices++
				case "Shape":
					if len(n.attrs) == 0 && len(n.inputs) == 1 && len(n.outputs) == 1 {
						shapeOf[n.outputs[0]] = n.inputs[0]
					}
				}
			}
		case graphInitializer:
			name, v, ok, err := intTensor(val)
			if err != nil {
				return err
			}
			used[name] = true
			if ok {
				consts[name] = v
			}
		case graphInput, graphOutput, graphValueInfo:
			name, err := firstBytes(val, "value info", valueInfoName)
			if err != nil {
				return err
			}
			used[string(name)] = true
			if num == graphInput {
				inputs = append(inputs, string(name))
			}
		}
		return nil
	})
	if err != nil || slices == 0 {
		return model, res, err
	}
	// An initializer that is also a graph input is only a default: a run
	// may feed another value.
	for _, in := range inputs {
		delete(consts, in)
	}
	ver, err := opset(model)
	if err != nil {
		return nil, res, err
	}
	if ver < minSliceAsGather {
		res.Kept = slices
		return model, res, nil
	}
	b := &gatherBuilder{used: used, scalars: map[int64]string{}, shapeOf: shapeOf, shapeAttrs: ver >= minShapeSlice}
	newGraph := &rope{} // the graph's fields as they are, but for its Slices
	err = eachField(graph, "graph", func(num protowire.Number, typ protowire.Type, val, whole []byte) error {
		if num != graphNode || typ != protowire.BytesType {
			newGraph.add(whole)
			return nil
		}
		n, err := readNode(val)
		if err != nil {
			return err
		}
		if n.op != "Slice" || (n.domain != "" && n.domain != "ai.onnx") {
			newGraph.add(whole)
			return nil
		}
		nodes, ok := b.shapeSlice(n, consts)
		if !ok {
			nodes, ok = b.sliceNodes(n, consts)
		}
		if !ok {
			res.Kept++
			newGraph.add(whole)
			return nil
		}
		res.Rewritten++
		for _, m := range nodes {
			newGraph.field(graphNode, ropeOf(m.marshal()))
		}
		return nil
	})
	if err != nil {
		return nil, SliceRewrite{}, err
	}
	for _, t := range b.inits {
		newGraph.field(graphInitializer, ropeOf(t.marshal()))
	}
	out, err := rewriteRope(model, "model", func([]byte) (*rope, error) { return newGraph, nil }, modelGraph)
	if err != nil {
		return nil, SliceRewrite{}, err
	}
	return out.bytes(), res, nil
}

// gatherBuilder makes the replacement nodes, with fresh names and shared
// scalar constants.
type gatherBuilder struct {
	used    map[string]bool
	scalars map[int64]string
	inits   []Tensor
	// shapeOf: the inputs of plain Shape nodes, by output; shapeAttrs: the
	// model's opset has Shape's start and end.
	shapeOf    map[string]string
	shapeAttrs bool
}

func (b *gatherBuilder) fresh(base string) string {
	for i := 0; ; i++ {
		n := base + "/as_gather_" + strconv.Itoa(i)
		if !b.used[n] {
			b.used[n] = true
			return n
		}
	}
}

// scalar is the name of an int64 scalar initializer holding v.
func (b *gatherBuilder) scalar(v int64) string {
	if n, ok := b.scalars[v]; ok {
		return n
	}
	n := b.fresh("slice_as_gather_const_" + strconv.FormatInt(v, 10))
	b.scalars[v] = n
	b.inits = append(b.inits, Int64Tensor(n, nil, []int64{v}))
	return n
}

// toEnd says whether an end bound means "to the end" for a positive step
// (exporters write INT64_MAX, or INT32_MAX from int32 bounds).
func toEnd(e int64) bool { return e >= math.MaxInt32 }

// sliceBounds reads a Slice node's starts, ends, axes and steps from the
// constants; axes and steps are nil where absent. ok is false when a given
// bound is not a constant, or starts and ends are missing or differ in
// length.
func sliceBounds(n node, consts map[string][]int64) (starts, ends, axes, steps []int64, ok bool) {
	if len(n.inputs) < 3 || len(n.inputs) > 5 || len(n.outputs) != 1 {
		return nil, nil, nil, nil, false
	}
	get := func(i int) ([]int64, bool) {
		if i >= len(n.inputs) || n.inputs[i] == "" {
			return nil, true // optional, absent
		}
		v, ok := consts[n.inputs[i]]
		return v, ok && v != nil
	}
	starts, ok1 := get(1)
	ends, ok2 := get(2)
	axes, ok3 := get(3)
	steps, ok4 := get(4)
	ok = ok1 && ok2 && ok3 && ok4 && starts != nil && ends != nil && len(starts) == len(ends)
	return starts, ends, axes, steps, ok
}

// shapeSlice is a Slice of a Shape's output, with constant bounds along
// axis 0 and step 1, as one Shape node with start and end (opset 15):
// the same values, since Shape clamps start and end as Slice does, and a
// length ONNX Runtime's shape inference knows, where Gather(Range(…)) left
// it unknown (a Resize whose sizes came from Shape → Slice → Concat then
// failed to load: "Number of elements of input 'sizes' (0)").
func (b *gatherBuilder) shapeSlice(n node, consts map[string][]int64) ([]Node, bool) {
	src, ok := b.shapeOf[n.inputs[0]]
	if !ok || !b.shapeAttrs {
		return nil, false
	}
	starts, ends, axes, steps, ok := sliceBounds(n, consts)
	if !ok || len(starts) != 1 ||
		(axes != nil && (len(axes) != 1 || (axes[0] != 0 && axes[0] != -1))) || (steps != nil && (len(steps) != 1 || steps[0] != 1)) {
		return nil, false
	}
	attrs := []Attr{I("start", starts[0])}
	if !toEnd(ends[0]) {
		attrs = append(attrs, I("end", ends[0]))
	}
	return []Node{{Name: b.fresh(n.baseName() + "/Shape"), Op: "Shape", Inputs: []string{src}, Outputs: []string{n.outputs[0]}, Attrs: attrs}}, true
}

// sliceNodes is n as Gathers, or ok false when its bounds are not constants.
func (b *gatherBuilder) sliceNodes(n node, consts map[string][]int64) (nodes []Node, ok bool) {
	starts, ends, axes, steps, ok := sliceBounds(n, consts)
	if !ok {
		return nil, false
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if steps == nil {
		for range starts {
			steps = append(steps, 1)
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, false
	}
	for _, k := range steps {
		if k == 0 {
			return nil, false // invalid: left for ONNX Runtime to refuse
		}
	}
	x, y, base := n.inputs[0], n.outputs[0], n.baseName()
	add := func(op string, ins []string, attrs ...Attr) string {
		out := b.fresh(base)
		nodes = append(nodes, Node{Name: b.fresh(base + "/" + op), Op: op, Inputs: ins, Outputs: []string{out}, Attrs: attrs})
		return out
	}
	shape := ""
	cur := x
	for i := range starts {
		s, e, a, k := starts[i], ends[i], axes[i], steps[i]
		if s == 0 && k == 1 && toEnd(e) {
			continue // the whole axis
		}
		if shape == "" {
			shape = add("Shape", []string{x})
		}
		d := add("Gather", []string{shape, b.scalar(a)}, I("axis", 0))
		// Slice's clamping: a negative bound counts from the end; then
		// starts and ends to [0, d] for a positive step, starts to [0, d−1]
		// and ends to [−1, d−1] for a negative one.
		hi, loEnd := d, b.scalar(0)
		if k < 0 {
			hi, loEnd = add("Sub", []string{d, b.scalar(1)}), b.scalar(-1)
		}
		bound := func(v int64, lo string) string {
			if k > 0 && toEnd(v) {
				return d
			}
			var from string
			if v < 0 {
				if v == math.MinInt64 { // d + v must not overflow
					v = -math.MaxInt64
				}
				from = add("Add", []string{d, b.scalar(v)})
			} else {
				from = b.scalar(v)
			}
			return add("Min", []string{add("Max", []string{from, lo}), hi})
		}
		st := bound(s, b.scalar(0))
		en := bound(e, loEnd)
		idx := add("Range", []string{st, en, b.scalar(k)})
		cur = add("Gather", []string{cur, idx}, I("axis", a))
	}
	if cur == x { // every axis whole
		nodes = append(nodes, Node{Name: b.fresh(base + "/Identity"), Op: "Identity", Inputs: []string{x}, Outputs: []string{y}})
		return nodes, true
	}
	// The last node writes the Slice's own output.
	nodes[len(nodes)-1].Outputs = []string{y}
	return nodes, true
}
