package onnxpb

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Dim is one dimension of a graph input: a fixed size (Value > 0), a named
// symbolic one (Param), or neither (unknown and unnamed).
type Dim struct {
	Value int64
	Param string
}

// Field numbers of onnx/onnx.proto on the path from a model to the
// dimensions of its graph's inputs, outputs and value_info.
const (
	modelGraph      = 7  // ModelProto.graph
	graphInput      = 11 // GraphProto.input
	graphOutput     = 12 // GraphProto.output
	graphValueInfo  = 13 // GraphProto.value_info
	valueInfoName   = 1  // ValueInfoProto.name
	valueInfoType   = 2  // ValueInfoProto.type
	typeTensor      = 1  // TypeProto.tensor_type
	tensorTypeShape = 2  // TypeProto.Tensor.shape
	shapeDim        = 1  // TensorShapeProto.dim
	dimValue        = 1  // TensorShapeProto.Dimension.dim_value
	dimParam        = 2  // TensorShapeProto.Dimension.dim_param
)

// errMalformed is what a byte slice that is not protobuf gets.
func errMalformed(what string, at int) error {
	return fmt.Errorf("not an ONNX model: malformed %s at byte %d", what, at)
}

// eachField calls f with every field of msg: its number, wire type, the
// bytes of a length-delimited value (nil for others) and the field's whole
// encoding (tag included).
func eachField(msg []byte, what string, f func(num protowire.Number, typ protowire.Type, val, whole []byte) error) error {
	for at := 0; at < len(msg); {
		num, typ, n := protowire.ConsumeTag(msg[at:])
		if n < 0 {
			return errMalformed(what, at)
		}
		m := protowire.ConsumeFieldValue(num, typ, msg[at+n:])
		if m < 0 {
			return errMalformed(what, at)
		}
		var val []byte
		if typ == protowire.BytesType {
			val, _ = protowire.ConsumeBytes(msg[at+n:])
		}
		if err := f(num, typ, val, msg[at:at+n+m]); err != nil {
			return err
		}
		at += n + m
	}
	return nil
}

// rewrite copies msg with the value of each length-delimited field whose
// number is in fields replaced by edit(value); other fields are copied as
// they are, in their order.
func rewrite(msg []byte, what string, edit func(val []byte) ([]byte, error), fields ...protowire.Number) ([]byte, error) {
	r, err := rewriteRope(msg, what, func(val []byte) (*rope, error) {
		v, err := edit(val)
		if err != nil {
			return nil, err
		}
		return ropeOf(v), nil
	}, fields...)
	if err != nil {
		return nil, err
	}
	return r.bytes(), nil
}

// rope is a message being built as pieces, most of them slices of the
// message being rewritten: a model's initializers (hundreds of megabytes)
// are then copied once, when the outermost rewrite flattens the rope, not
// once per level of nesting (BenchmarkRewrite).
type rope struct {
	parts [][]byte
	n     int
}

func ropeOf(b []byte) *rope { r := &rope{}; r.add(b); return r }

func (r *rope) add(b []byte) {
	if len(b) > 0 {
		r.parts = append(r.parts, b)
		r.n += len(b)
	}
}

// field adds a length-delimited field num whose value is v.
func (r *rope) field(num protowire.Number, v *rope) {
	hdr := protowire.AppendTag(nil, num, protowire.BytesType)
	r.add(protowire.AppendVarint(hdr, uint64(v.n)))
	r.parts = append(r.parts, v.parts...)
	r.n += v.n
}

// bytes flattens the rope into one new slice.
func (r *rope) bytes() []byte {
	out := make([]byte, 0, r.n)
	for _, p := range r.parts {
		out = append(out, p...)
	}
	return out
}

// rewriteRope is rewrite with edit's values, and the result, as ropes.
func rewriteRope(msg []byte, what string, edit func(val []byte) (*rope, error), fields ...protowire.Number) (*rope, error) {
	r := &rope{}
	err := eachField(msg, what, func(num protowire.Number, typ protowire.Type, val, whole []byte) error {
		if typ == protowire.BytesType && slices.Contains(fields, num) {
			v, err := edit(val)
			if err != nil {
				return err
			}
			r.field(num, v)
			return nil
		}
		r.add(whole)
		return nil
	})
	return r, err
}

// firstBytes is the value of msg's first length-delimited field num (nil
// when there is none).
func firstBytes(msg []byte, what string, num protowire.Number) ([]byte, error) {
	var got []byte
	err := eachField(msg, what, func(n protowire.Number, typ protowire.Type, val, _ []byte) error {
		if n == num && typ == protowire.BytesType && got == nil {
			got = val
		}
		return nil
	})
	return got, err
}

// readDim decodes a TensorShapeProto.Dimension.
func readDim(b []byte) (Dim, error) {
	var d Dim
	err := eachField(b, "dimension", func(num protowire.Number, typ protowire.Type, val, whole []byte) error {
		switch {
		case num == dimValue && typ == protowire.VarintType:
			v, _ := protowire.ConsumeVarint(whole[protowire.SizeTag(num):])
			d.Value = int64(v)
		case num == dimParam && typ == protowire.BytesType:
			d.Param = string(val)
		}
		return nil
	})
	return d, err
}

// InputDims reads the dimensions of the model's graph inputs, by name.
// A graph input with no tensor shape (rank unknown) maps to nil.
func InputDims(model []byte) (map[string][]Dim, error) {
	return graphDims(model, graphInput, "graph input")
}

// OutputDims reads the dimensions of the model's graph outputs, by name, as
// InputDims does the inputs'.
func OutputDims(model []byte) (map[string][]Dim, error) {
	return graphDims(model, graphOutput, "graph output")
}

// graphDims reads the dimensions of the graph's value infos in field.
func graphDims(model []byte, field protowire.Number, what string) (map[string][]Dim, error) {
	dims := map[string][]Dim{}
	err := eachValue(model, func(num protowire.Number, val []byte) error {
		if num != field {
			return nil
		}
		v, err := readValue(val, what)
		dims[v.Name] = v.Dims
		return err
	})
	return dims, err
}

// eachValue calls f with the graph's length-delimited fields (its inputs,
// outputs, initializers …): their numbers and values.
func eachValue(model []byte, f func(num protowire.Number, val []byte) error) error {
	graph, err := firstBytes(model, "model", modelGraph)
	if err != nil {
		return err
	}
	if graph == nil {
		return fmt.Errorf("not an ONNX model: no graph")
	}
	return eachField(graph, "graph", func(num protowire.Number, typ protowire.Type, val, _ []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		return f(num, val)
	})
}

// PinDims returns a copy of model in which every symbolic dimension of the
// graph's inputs, outputs and value_info named in values is fixed to its
// value. With the inputs' shapes fixed, ONNX Runtime's constant folding
// turns the graph's shape arithmetic (Shape, Gather, Concat … feeding
// Reshape) into constants, so none of it runs, or is placed on the CPU
// beside a GPU provider, at inference time. The initializers are copied
// as they are; dimensions without a name (rare: exporters name their
// dynamic axes) are left unknown.
func PinDims(model []byte, values map[string]int64) ([]byte, error) {
	for p, v := range values {
		if v <= 0 {
			return nil, fmt.Errorf("pinning %q to %d: a dimension must be positive", p, v)
		}
	}
	pinDim := func(b []byte) ([]byte, error) {
		d, err := readDim(b)
		if err != nil || d.Param == "" {
			return b, err
		}
		v, ok := values[d.Param]
		if !ok {
			return b, nil
		}
		// The dimension's other fields (denotation) stay; dim_param goes,
		// as dim_value and dim_param are a oneof.
		out := protowire.AppendTag(nil, dimValue, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(v))
		err = eachField(b, "dimension", func(num protowire.Number, _ protowire.Type, _, whole []byte) error {
			if num != dimValue && num != dimParam {
				out = append(out, whole...)
			}
			return nil
		})
		return out, err
	}
	shape := func(b []byte) ([]byte, error) { return rewrite(b, "shape", pinDim, shapeDim) }
	tensor := func(b []byte) ([]byte, error) { return rewrite(b, "tensor type", shape, tensorTypeShape) }
	typ := func(b []byte) ([]byte, error) { return rewrite(b, "type", tensor, typeTensor) }
	valueInfo := func(b []byte) (*rope, error) {
		v, err := rewrite(b, "value info", typ, valueInfoType)
		return ropeOf(v), err
	}
	graph := func(b []byte) (*rope, error) {
		return rewriteRope(b, "graph", valueInfo, graphInput, graphOutput, graphValueInfo)
	}
	r, err := rewriteRope(model, "model", graph, modelGraph)
	if err != nil {
		return nil, err
	}
	return r.bytes(), nil
}
