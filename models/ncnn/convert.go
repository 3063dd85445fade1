package ncnn

import (
	"bufio"
	"fmt"
	"io"

	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
)

// ConverterVersion changes whenever the graphs the converter writes change,
// so that caches of converted models know to convert again.
// 2: a symbolic batch dimension (images batched in one inference).
const ConverterVersion = 2

// maxDim bounds the .param's sizes (channels, kernel, stride, factors): far
// above any real model, low enough that products of a few cannot overflow.
const maxDim = 1 << 16

// Converted is an ONNX model made from an ncnn one.
type Converted struct {
	Model          onnxpb.Model
	Input, Output  string
	InputChannels  int
	OutputChannels int
	Layers         int
	WeightBytes    int64 // bytes of the .bin consumed
}

// Options control the conversion.
type Options struct {
	// FP16 makes a float16 graph: weights, constants, input and output in
	// float16 (ncnn's fp16 blobs keep their values exactly). ONNX Runtime's
	// CUDA provider runs it on tensor cores; its CPU provider may not run it.
	FP16 bool
}

// ConvertFiles converts paramPath + binPath.
func ConvertFiles(paramPath, binPath string, opts ...Options) (*Converted, error) {
	layers, bf, err := Open(paramPath, binPath)
	if err != nil {
		return nil, err
	}
	defer bf.Close()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	c, err := Convert(layers, bufio.NewReaderSize(bf, 1<<20), binPath, o)
	if err != nil {
		return nil, err
	}
	// All weights must have been used: a longer .bin belongs to another model.
	if st, err := bf.Stat(); err == nil && st.Size() != c.WeightBytes {
		return nil, fmt.Errorf("%s has %d bytes but %s uses %d: the .param and .bin do not belong together", binPath, st.Size(), paramPath, c.WeightBytes)
	}
	return c, nil
}

type converter struct {
	o       Options
	m       onnxpb.Model
	alias   map[string]string // ncnn blob → ONNX tensor (Split outputs)
	w       *weights
	n       int // unique-name counter
	channel map[string]int
}

func (c *converter) name(base string) string {
	c.n++
	return fmt.Sprintf("%s_%d", base, c.n)
}

func (c *converter) blob(b string) string {
	if a, ok := c.alias[b]; ok {
		return a
	}
	return b
}

func (c *converter) node(op string, ins, outs []string, attrs ...onnxpb.Attr) {
	c.m.Nodes = append(c.m.Nodes, onnxpb.Node{Name: c.name(op), Op: op, Inputs: ins, Outputs: outs, Attrs: attrs})
}

// constFloat adds a data constant in the graph's element type.
func (c *converter) constFloat(base string, dims []int64, v []float32) string {
	n := c.name(base)
	if c.o.FP16 {
		c.m.Initializers = append(c.m.Initializers, onnxpb.Float16Tensor(n, dims, v))
	} else {
		c.m.Initializers = append(c.m.Initializers, onnxpb.FloatTensor(n, dims, v))
	}
	return n
}

// constFloat32 adds a float32 constant whatever the graph's type (Resize's
// roi and scales are float32 by definition).
func (c *converter) constFloat32(base string, dims []int64, v []float32) string {
	n := c.name(base)
	c.m.Initializers = append(c.m.Initializers, onnxpb.FloatTensor(n, dims, v))
	return n
}

func (c *converter) elemType() int32 {
	if c.o.FP16 {
		return onnxpb.Float16
	}
	return onnxpb.Float
}

func (c *converter) constInt64(base string, v []int64) string {
	n := c.name(base)
	c.m.Initializers = append(c.m.Initializers, onnxpb.Int64Tensor(n, []int64{int64(len(v))}, v))
	return n
}

// Convert builds the ONNX graph, reading weights from r in layer order.
func Convert(layers []Layer, r io.Reader, binName string, o Options) (*Converted, error) {
	c := &converter{o: o, alias: map[string]string{}, w: &weights{r: r, name: binName}, channel: map[string]int{}}
	c.m = onnxpb.Model{Producer: "addsr-bench models import-ncnn", Opset: 13, Graph: "ncnn"}
	out := &Converted{}
	consumed := map[string]bool{}
	for _, l := range layers {
		for _, b := range l.Bottoms {
			consumed[b] = true
		}
	}
	fail := func(l Layer, format string, a ...any) error {
		return fmt.Errorf("layer %s (%s, .param line %d): %s", l.Name, l.Type, l.Line, fmt.Sprintf(format, a...))
	}
	for _, l := range layers {
		need := func(nb, nt int) error {
			if (nb >= 0 && len(l.Bottoms) != nb) || (nt >= 0 && len(l.Tops) != nt) {
				return fail(l, "expected %d inputs and %d outputs, got %d and %d", nb, nt, len(l.Bottoms), len(l.Tops))
			}
			return nil
		}
		switch l.Type {
		case "Input":
			if err := need(0, 1); err != nil {
				return nil, err
			}
			ch := l.Int(2, 3)
			if ch <= 0 {
				ch = 3
			}
			out.Input, out.InputChannels = l.Tops[0], ch
			c.channel[l.Tops[0]] = ch
			c.m.Inputs = append(c.m.Inputs, onnxpb.ValueInfo{Name: l.Tops[0], Type: c.elemType(), Dims: []int64{-1, int64(ch), -1, -1}, Syms: []string{"batch", "height", "width"}})
		case "Split":
			if err := need(1, -1); err != nil {
				return nil, err
			}
			for _, t := range l.Tops {
				c.alias[t] = c.blob(l.Bottoms[0])
				c.channel[t] = c.channel[l.Bottoms[0]]
			}
		case "Convolution", "ConvolutionDepthWise":
			if err := need(1, 1); err != nil {
				return nil, err
			}
			if err := c.conv(l); err != nil {
				return nil, err
			}
		case "Concat":
			if err := need(-1, 1); err != nil {
				return nil, err
			}
			if len(l.Bottoms) == 0 {
				return nil, fail(l, "no inputs")
			}
			var ins []string
			ch := 0
			for _, b := range l.Bottoms {
				ins = append(ins, c.blob(b))
				ch += c.channel[b]
			}
			c.node("Concat", ins, l.Tops, onnxpb.I("axis", int64(l.Int(0, 0)+1)))
			c.channel[l.Tops[0]] = ch
		case "Eltwise":
			if err := need(-1, 1); err != nil {
				return nil, err
			}
			if len(l.Bottoms) == 0 {
				return nil, fail(l, "no inputs")
			}
			if err := c.eltwise(l); err != nil {
				return nil, fail(l, "%v", err)
			}
		case "BinaryOp":
			if err := c.binary(l); err != nil {
				return nil, fail(l, "%v", err)
			}
		case "Interp":
			if err := need(1, 1); err != nil {
				return nil, err
			}
			if err := c.interp(l); err != nil {
				return nil, fail(l, "%v", err)
			}
		case "PixelShuffle":
			if err := need(1, 1); err != nil {
				return nil, err
			}
			f := l.Int(0, 1)
			if f < 1 || f > maxDim {
				return nil, fail(l, "upscale factor %d", f)
			}
			mode := "CRD" // PyTorch's pixel_shuffle
			if l.Int(1, 0) == 1 {
				mode = "DCR"
			}
			c.node("DepthToSpace", []string{c.blob(l.Bottoms[0])}, l.Tops, onnxpb.I("blocksize", int64(f)), onnxpb.S("mode", mode))
			c.channel[l.Tops[0]] = c.channel[l.Bottoms[0]] / (f * f)
		case "ReLU":
			if err := need(1, 1); err != nil {
				return nil, err
			}
			if s := l.Float(0, 0); s != 0 {
				c.node("LeakyRelu", []string{c.blob(l.Bottoms[0])}, l.Tops, onnxpb.F("alpha", float32(s)))
			} else {
				c.node("Relu", []string{c.blob(l.Bottoms[0])}, l.Tops)
			}
			c.channel[l.Tops[0]] = c.channel[l.Bottoms[0]]
		case "PReLU":
			if err := need(1, 1); err != nil {
				return nil, err
			}
			n := l.Int(0, 0)
			if n < 1 || n > maxDim {
				return nil, fail(l, "num_slope %d", n)
			}
			slope, err := c.w.load(n, false, l.Name)
			if err != nil {
				return nil, err
			}
			dims := []int64{int64(n), 1, 1}
			if n == 1 {
				dims = []int64{1}
			}
			c.node("PRelu", []string{c.blob(l.Bottoms[0]), c.constFloat(l.Name+"_slope", dims, slope)}, l.Tops)
			c.channel[l.Tops[0]] = c.channel[l.Bottoms[0]]
		case "Padding":
			if err := need(1, 1); err != nil {
				return nil, err
			}
			if err := c.padding(l); err != nil {
				return nil, fail(l, "%v", err)
			}
		default:
			return nil, fail(l, "unsupported layer type; supported: Input, Convolution, ConvolutionDepthWise, Split, Concat, Eltwise, BinaryOp, Interp, PixelShuffle, ReLU, PReLU, Padding")
		}
		out.Layers++
	}
	// The graph output: the one produced blob nothing consumes.
	var outputs []string
	for _, l := range layers {
		for _, t := range l.Tops {
			if !consumed[t] && l.Type != "Split" {
				outputs = append(outputs, t)
			}
		}
	}
	if len(outputs) != 1 {
		return nil, fmt.Errorf("the model has %d unconsumed outputs (%v); expected exactly one", len(outputs), outputs)
	}
	out.Output, out.OutputChannels = outputs[0], c.channel[outputs[0]]
	c.m.Outputs = append(c.m.Outputs, onnxpb.ValueInfo{Name: c.blob(outputs[0]), Type: c.elemType(),
		Dims: []int64{-1, int64(max(out.OutputChannels, 0)), -1, -1}, Syms: []string{"batch", "out_height", "out_width"}})
	if out.OutputChannels <= 0 {
		c.m.Outputs[0].Dims[1] = -1
		c.m.Outputs[0].Syms = []string{"batch", "out_channels", "out_height", "out_width"}
	}
	out.Model = c.m
	out.WeightBytes = c.w.off
	return out, nil
}

func (c *converter) conv(l Layer) error {
	outC := l.Int(0, 0)
	kw := l.Int(1, 0)
	kh := l.Int(11, kw)
	dw := l.Int(2, 1)
	dh := l.Int(12, dw)
	sw := l.Int(3, 1)
	sh := l.Int(13, sw)
	pl := l.Int(4, 0)
	pt := l.Int(14, pl)
	pr := l.Int(15, pl)
	pb := l.Int(16, pt)
	bias := l.Int(5, 0) != 0
	size := l.Int(6, 0)
	group := 1
	if l.Type == "ConvolutionDepthWise" {
		group = l.Int(7, 1)
	}
	for _, v := range []int{outC, kw, kh, dw, dh, sw, sh, group} {
		if v < 1 || v > maxDim {
			return fmt.Errorf("layer %s: sizes out of range (num_output %d, kernel %dx%d, dilation %dx%d, stride %dx%d, group %d)", l.Name, outC, kw, kh, dw, dh, sw, sh, group)
		}
	}
	if size <= 0 || size%(outC*kh*kw) != 0 {
		return fmt.Errorf("layer %s: inconsistent sizes (num_output %d, kernel %dx%d, weight_data_size %d)", l.Name, outC, kw, kh, size)
	}
	inPerGroup := size / (outC * kh * kw)
	wdata, err := c.w.load(size, true, l.Name)
	if err != nil {
		return err
	}
	ins := []string{c.blob(l.Bottoms[0]), c.constFloat(l.Name+"_weight", []int64{int64(outC), int64(inPerGroup), int64(kh), int64(kw)}, wdata)}
	if bias {
		b, err := c.w.load(outC, false, l.Name)
		if err != nil {
			return err
		}
		ins = append(ins, c.constFloat(l.Name+"_bias", []int64{int64(outC)}, b))
	}
	attrs := []onnxpb.Attr{
		onnxpb.Is("kernel_shape", int64(kh), int64(kw)),
		onnxpb.Is("strides", int64(sh), int64(sw)),
		onnxpb.Is("dilations", int64(dh), int64(dw)),
		onnxpb.I("group", int64(group)),
	}
	switch {
	case pl == -233 || pl == -234:
		mode := "SAME_UPPER"
		if pl == -234 {
			mode = "SAME_LOWER"
		}
		attrs = append(attrs, onnxpb.S("auto_pad", mode))
	case pl < 0:
		return fmt.Errorf("layer %s: padding %d is not supported", l.Name, pl)
	default:
		attrs = append(attrs, onnxpb.Is("pads", int64(pt), int64(pl), int64(pb), int64(pr)))
	}
	act := l.Int(9, 0)
	convOut := l.Tops[0]
	if act != 0 {
		convOut = c.name(l.Name + "_pre")
	}
	c.node("Conv", ins, []string{convOut}, attrs...)
	c.channel[l.Tops[0]] = outC
	p := l.Array(10)
	switch act {
	case 0:
	case 1:
		c.node("Relu", []string{convOut}, l.Tops)
	case 2:
		alpha := 0.0
		if len(p) > 0 {
			alpha = p[0]
		}
		c.node("LeakyRelu", []string{convOut}, l.Tops, onnxpb.F("alpha", float32(alpha)))
	case 3:
		if len(p) < 2 {
			return fmt.Errorf("layer %s: clip activation needs min and max", l.Name)
		}
		c.node("Clip", []string{convOut, c.constFloat("clip_min", nil, []float32{float32(p[0])}), c.constFloat("clip_max", nil, []float32{float32(p[1])})}, l.Tops)
	case 4:
		c.node("Sigmoid", []string{convOut}, l.Tops)
	default:
		return fmt.Errorf("layer %s: fused activation type %d is not supported (relu, leaky relu, clip, sigmoid are)", l.Name, act)
	}
	return nil
}

func (c *converter) eltwise(l Layer) error {
	op := l.Int(0, 1)
	coef := l.Array(1)
	if len(coef) > 0 && len(coef) != len(l.Bottoms) {
		return fmt.Errorf("%d coefficients for %d inputs", len(coef), len(l.Bottoms))
	}
	ins := make([]string, len(l.Bottoms))
	for i, b := range l.Bottoms {
		ins[i] = c.blob(b)
		if op == 1 && len(coef) > 0 && coef[i] != 1 {
			scaled := c.name(l.Name + "_scaled")
			c.node("Mul", []string{ins[i], c.constFloat(l.Name+"_coef", nil, []float32{float32(coef[i])})}, []string{scaled})
			ins[i] = scaled
		}
	}
	ops := map[int]string{0: "Mul", 1: "Sum", 2: "Max"}
	name, ok := ops[op]
	if !ok {
		return fmt.Errorf("eltwise operation %d is not supported", op)
	}
	c.node(name, ins, l.Tops)
	c.channel[l.Tops[0]] = c.channel[l.Bottoms[0]]
	return nil
}

func (c *converter) binary(l Layer) error {
	ops := map[int]string{0: "Add", 1: "Sub", 2: "Mul", 3: "Div", 4: "Max", 5: "Min", 6: "Pow"}
	op := l.Int(0, 0)
	scalar := l.Int(1, 0) != 0
	var a, b string
	switch {
	case scalar && len(l.Bottoms) == 1:
		a, b = c.blob(l.Bottoms[0]), c.constFloat(l.Name+"_b", nil, []float32{float32(l.Float(2, 0))})
	case !scalar && len(l.Bottoms) == 2:
		a, b = c.blob(l.Bottoms[0]), c.blob(l.Bottoms[1])
	default:
		return fmt.Errorf("%d inputs with with_scalar=%v", len(l.Bottoms), scalar)
	}
	if len(l.Tops) != 1 {
		return fmt.Errorf("%d outputs, want 1", len(l.Tops))
	}
	switch op {
	case 7: // rsub: b − a
		a, b, op = b, a, 1
	case 8: // rdiv: b / a
		a, b, op = b, a, 3
	}
	name, ok := ops[op]
	if !ok {
		return fmt.Errorf("binary operation %d is not supported", op)
	}
	c.node(name, []string{a, b}, l.Tops)
	c.channel[l.Tops[0]] = max(c.channel[l.Bottoms[0]], c.channel[l.Bottoms[len(l.Bottoms)-1]])
	return nil
}

func (c *converter) interp(l Layer) error {
	hs, ws := l.Float(1, 1), l.Float(2, 1)
	if l.Int(3, 0) != 0 || l.Int(4, 0) != 0 {
		return fmt.Errorf("fixed output sizes are not supported, only scales")
	}
	roi := c.constFloat32(l.Name+"_roi", []int64{0}, nil)
	scales := c.constFloat32(l.Name+"_scales", []int64{4}, []float32{1, 1, float32(hs), float32(ws)})
	var attrs []onnxpb.Attr
	switch l.Int(0, 1) {
	case 1: // nearest, as PyTorch's F.interpolate(mode='nearest')
		attrs = []onnxpb.Attr{onnxpb.S("mode", "nearest"), onnxpb.S("coordinate_transformation_mode", "asymmetric"), onnxpb.S("nearest_mode", "floor")}
	case 2:
		ct := "half_pixel"
		if l.Int(6, 0) != 0 {
			ct = "align_corners"
		}
		attrs = []onnxpb.Attr{onnxpb.S("mode", "linear"), onnxpb.S("coordinate_transformation_mode", ct)}
	case 3:
		ct := "half_pixel"
		if l.Int(6, 0) != 0 {
			ct = "align_corners"
		}
		attrs = []onnxpb.Attr{onnxpb.S("mode", "cubic"), onnxpb.F("cubic_coeff_a", -0.75), onnxpb.S("coordinate_transformation_mode", ct)}
	default:
		return fmt.Errorf("resize type %d is not supported", l.Int(0, 1))
	}
	c.node("Resize", []string{c.blob(l.Bottoms[0]), roi, scales}, l.Tops, attrs...)
	c.channel[l.Tops[0]] = c.channel[l.Bottoms[0]]
	return nil
}

func (c *converter) padding(l Layer) error {
	t, b, left, r := l.Int(0, 0), l.Int(1, 0), l.Int(2, 0), l.Int(3, 0)
	modes := map[int]string{0: "constant", 1: "edge", 2: "reflect"}
	mode, ok := modes[l.Int(4, 0)]
	if !ok {
		return fmt.Errorf("padding type %d is not supported", l.Int(4, 0))
	}
	pads := c.constInt64(l.Name+"_pads", []int64{0, 0, int64(t), int64(left), 0, 0, int64(b), int64(r)})
	ins := []string{c.blob(l.Bottoms[0]), pads}
	if mode == "constant" {
		ins = append(ins, c.constFloat(l.Name+"_value", nil, []float32{float32(l.Float(5, 0))}))
	}
	c.node("Pad", ins, l.Tops, onnxpb.S("mode", mode))
	c.channel[l.Tops[0]] = c.channel[l.Bottoms[0]]
	return nil
}

// WriteFile writes the ONNX model, atomically (a failed write leaves no
// partial model behind).
func (c *Converted) WriteFile(path string) error {
	return atomicfile.WriteBytes(path, c.Model.Marshal())
}
