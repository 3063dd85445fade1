// Package onnxpb writes ONNX models (onnx.proto3, IR version 8) directly as
// protobuf, with the field numbers of onnx/onnx.proto. It covers what the
// ncnn importer needs: a graph of nodes with attributes, float/float16/int64
// initializers, and typed inputs and outputs. It also reads a model's input
// dimensions and fixes its symbolic ones (dims.go), editing the protobuf
// in place of decoding it, so any model, however large, goes through.
package onnxpb

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/addsr-bench/addsr-bench/internal/half"
)

// Tensor element types (TensorProto.DataType).
const (
	Float   = 1
	Int64   = 7
	Float16 = 10
)

// Tensor is an initializer.
type Tensor struct {
	Name string
	Dims []int64
	Type int32
	Raw  []byte // little-endian values
}

// FloatTensor builds a float32 initializer.
func FloatTensor(name string, dims []int64, v []float32) Tensor {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, Dims: dims, Type: Float, Raw: raw}
}

// Float16Tensor builds a float16 initializer from float32 values (rounded
// to nearest even).
func Float16Tensor(name string, dims []int64, v []float32) Tensor {
	return Tensor{Name: name, Dims: dims, Type: Float16, Raw: half.Encode(v)}
}

// Int64Tensor builds an int64 initializer.
func Int64Tensor(name string, dims []int64, v []int64) Tensor {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return Tensor{Name: name, Dims: dims, Type: Int64, Raw: raw}
}

// Attr is a node attribute; set exactly one of the value fields.
type Attr struct {
	Name   string
	Int    *int64
	Float  *float32
	String *string
	Ints   []int64
	Floats []float32
	Tensor *Tensor // a Constant node's value
}

// I, F, S and Is build attributes.
func I(name string, v int64) Attr       { return Attr{Name: name, Int: &v} }
func F(name string, v float32) Attr     { return Attr{Name: name, Float: &v} }
func S(name, v string) Attr             { return Attr{Name: name, String: &v} }
func Is(name string, v ...int64) Attr   { return Attr{Name: name, Ints: v} }
func Fs(name string, v ...float32) Attr { return Attr{Name: name, Floats: v} }

// Node is one operator.
type Node struct {
	Name, Op string
	Inputs   []string
	Outputs  []string
	Attrs    []Attr
}

// ValueInfo is a graph input or output: a tensor with a shape whose unknown
// dimensions are named (dim_param) instead of fixed.
type ValueInfo struct {
	Name string
	Type int32
	Dims []int64  // −1 for a symbolic dimension
	Syms []string // names of the symbolic dimensions, in order
}

// Model is a single-graph model.
type Model struct {
	Producer     string
	Opset        int64
	Graph        string
	Nodes        []Node
	Initializers []Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// Marshal encodes the model.
func (m Model) Marshal() []byte {
	var g []byte
	for _, n := range m.Nodes {
		g = protowire.AppendTag(g, 1, protowire.BytesType)
		g = protowire.AppendBytes(g, n.marshal())
	}
	g = appendString(g, 2, m.Graph)
	for _, t := range m.Initializers {
		g = protowire.AppendTag(g, 5, protowire.BytesType)
		g = protowire.AppendBytes(g, t.marshal())
	}
	for _, v := range m.Inputs {
		g = protowire.AppendTag(g, 11, protowire.BytesType)
		g = protowire.AppendBytes(g, v.marshal())
	}
	for _, v := range m.Outputs {
		g = protowire.AppendTag(g, 12, protowire.BytesType)
		g = protowire.AppendBytes(g, v.marshal())
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType) // ir_version
	b = protowire.AppendVarint(b, 8)
	b = appendString(b, 2, m.Producer)
	b = protowire.AppendTag(b, 7, protowire.BytesType) // graph
	b = protowire.AppendBytes(b, g)
	var op []byte
	op = appendString(op, 1, "")
	op = protowire.AppendTag(op, 2, protowire.VarintType)
	op = protowire.AppendVarint(op, uint64(m.Opset))
	b = protowire.AppendTag(b, 8, protowire.BytesType) // opset_import
	b = protowire.AppendBytes(b, op)
	return b
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func (n Node) marshal() []byte {
	var b []byte
	for _, in := range n.Inputs {
		b = appendString(b, 1, in)
	}
	for _, out := range n.Outputs {
		b = appendString(b, 2, out)
	}
	b = appendString(b, 3, n.Name)
	b = appendString(b, 4, n.Op)
	for _, a := range n.Attrs {
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendBytes(b, a.marshal())
	}
	return b
}

// AttributeProto.AttributeType values.
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrTensor = 4
	attrFloats = 6
	attrInts   = 7
)

func (a Attr) marshal() []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	var typ uint64
	switch {
	case a.Float != nil:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(*a.Float))
		typ = attrFloat
	case a.Int != nil:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(*a.Int))
		typ = attrInt
	case a.String != nil:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, []byte(*a.String))
		typ = attrString
	case a.Tensor != nil:
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendBytes(b, a.Tensor.marshal())
		typ = attrTensor
	case a.Floats != nil:
		var p []byte
		for _, f := range a.Floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = protowire.AppendTag(b, 7, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
		typ = attrFloats
	default:
		var p []byte
		for _, v := range a.Ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = protowire.AppendTag(b, 8, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
		typ = attrInts
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, typ)
}

func (t Tensor) marshal() []byte {
	var b []byte
	if len(t.Dims) > 0 {
		var p []byte
		for _, d := range t.Dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.Type))
	b = appendString(b, 8, t.Name)
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, t.Raw)
}

func (v ValueInfo) marshal() []byte {
	var shape []byte
	sym := 0
	for _, d := range v.Dims {
		var dim []byte
		if d >= 0 {
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
		} else {
			name := "d"
			if sym < len(v.Syms) {
				name = v.Syms[sym]
			}
			sym++
			dim = appendString(dim, 2, name)
		}
		shape = protowire.AppendTag(shape, 1, protowire.BytesType)
		shape = protowire.AppendBytes(shape, dim)
	}
	var tensor []byte
	tensor = protowire.AppendTag(tensor, 1, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, uint64(v.Type))
	tensor = protowire.AppendTag(tensor, 2, protowire.BytesType)
	tensor = protowire.AppendBytes(tensor, shape)
	var typ []byte
	typ = protowire.AppendTag(typ, 1, protowire.BytesType)
	typ = protowire.AppendBytes(typ, tensor)
	var b []byte
	b = appendString(b, 1, v.Name)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, typ)
}
