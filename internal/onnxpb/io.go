package onnxpb

import "google.golang.org/protobuf/encoding/protowire"

// tensorTypeElem is TypeProto.Tensor.elem_type.
const tensorTypeElem = 1

// Value is a graph input or output: its name, its element type if it is a
// tensor (a TensorProto.DataType; 0 for other types) and its dimensions
// (nil when the graph gives no shape).
type Value struct {
	Name     string
	ElemType int64
	Dims     []Dim
}

// GraphIO reads the graph's inputs and outputs as ONNX Runtime's session
// lists them: inputs that are also initializers (defaults a run need not
// feed) are left out. Reading them here costs a parse of the protobuf's
// top levels; asking ONNX Runtime costs a session (docs/performance.md, "Figures behind design choices").
func GraphIO(model []byte) (ins, outs []Value, err error) {
	inits := map[string]bool{}
	err = eachValue(model, func(num protowire.Number, val []byte) error {
		switch num {
		case graphInitializer:
			name, err := firstBytes(val, "initializer", tensorName)
			inits[string(name)] = true
			return err
		case graphInput, graphOutput:
			v, err := readValue(val, "value info")
			if err != nil {
				return err
			}
			if num == graphInput {
				ins = append(ins, v)
			} else {
				outs = append(outs, v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	kept := ins[:0]
	for _, v := range ins {
		if !inits[v.Name] {
			kept = append(kept, v)
		}
	}
	return kept, outs, nil
}

// readValue decodes a ValueInfoProto (what names it in errors).
func readValue(vi []byte, what string) (Value, error) {
	var v Value
	name, err := firstBytes(vi, what, valueInfoName)
	if err != nil {
		return v, err
	}
	v.Name = string(name)
	t, err := firstBytes(vi, what, valueInfoType)
	if err == nil && t != nil {
		t, err = firstBytes(t, "type", typeTensor)
	}
	if err != nil || t == nil {
		return v, err
	}
	var shape []byte
	err = eachField(t, "tensor type", func(num protowire.Number, typ protowire.Type, val, whole []byte) error {
		switch {
		case num == tensorTypeElem && typ == protowire.VarintType:
			e, _ := protowire.ConsumeVarint(whole[protowire.SizeTag(num):])
			v.ElemType = int64(e)
		case num == tensorTypeShape && typ == protowire.BytesType && shape == nil:
			shape = val
		}
		return nil
	})
	if err != nil || shape == nil {
		return v, err
	}
	v.Dims = []Dim{}
	err = eachField(shape, "shape", func(num protowire.Number, typ protowire.Type, val, _ []byte) error {
		if num != shapeDim || typ != protowire.BytesType {
			return nil
		}
		d, err := readDim(val)
		v.Dims = append(v.Dims, d)
		return err
	})
	return v, err
}
