// Package ncnn converts ncnn models (.param + .bin, the format of
// realesrgan-ncnn-vulkan and the Upscayl model zoos) to ONNX, in Go.
//
// Supported layers: Input, Convolution and ConvolutionDepthWise (with fused
// activations), Split, Concat, Eltwise (with coefficients), BinaryOp, Interp,
// PixelShuffle, ReLU (leaky with a slope), PReLU and Padding; weight blobs in
// float32 or float16. Anything else is refused with the layer's name.
package ncnn

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/addsr-bench/addsr-bench/internal/half"
)

// Layer is one line of a .param file.
type Layer struct {
	Type, Name string
	Bottoms    []string
	Tops       []string
	Params     map[int]Value
	Line       int
}

// Value is a parameter: a number, or an array (ncnn's keys ≤ −23300).
type Value struct {
	Num   float64
	Array []float64
}

// Int returns parameter k as an integer, or def.
func (l Layer) Int(k, def int) int {
	if v, ok := l.Params[k]; ok {
		return int(v.Num)
	}
	return def
}

// Float returns parameter k, or def.
func (l Layer) Float(k int, def float64) float64 {
	if v, ok := l.Params[k]; ok {
		return v.Num
	}
	return def
}

// Array returns array parameter k (nil if absent).
func (l Layer) Array(k int) []float64 {
	if v, ok := l.Params[k]; ok {
		return v.Array
	}
	return nil
}

// ParseParam reads a text .param file (magic 7767517).
func ParseParam(r io.Reader, name string) ([]Layer, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	line := 0
	next := func() ([]string, bool) {
		for sc.Scan() {
			line++
			f := strings.Fields(sc.Text())
			if len(f) > 0 {
				return f, true
			}
		}
		return nil, false
	}
	f, ok := next()
	if !ok || f[0] != "7767517" {
		return nil, fmt.Errorf("%s: not an ncnn .param file (first line must be 7767517)", name)
	}
	f, ok = next()
	if !ok || len(f) != 2 {
		return nil, fmt.Errorf("%s:%d: expected the layer and blob counts", name, line)
	}
	nLayers, err := strconv.Atoi(f[0])
	if err != nil || nLayers <= 0 {
		return nil, fmt.Errorf("%s:%d: bad layer count %q", name, line, f[0])
	}
	var layers []Layer
	for len(layers) < nLayers {
		f, ok := next()
		if !ok {
			return nil, fmt.Errorf("%s: %d layers declared, %d found", name, nLayers, len(layers))
		}
		if len(f) < 4 {
			return nil, fmt.Errorf("%s:%d: a layer needs type, name and blob counts", name, line)
		}
		l := Layer{Type: f[0], Name: f[1], Params: map[int]Value{}, Line: line}
		nb, err1 := strconv.Atoi(f[2])
		nt, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || nb < 0 || nt < 0 || len(f) < 4+nb+nt {
			return nil, fmt.Errorf("%s:%d: bad blob counts for layer %s", name, line, l.Name)
		}
		l.Bottoms = f[4 : 4+nb]
		l.Tops = f[4+nb : 4+nb+nt]
		for _, kv := range f[4+nb+nt:] {
			k, v, ok := strings.Cut(kv, "=")
			key, err := strconv.Atoi(k)
			if !ok || err != nil {
				return nil, fmt.Errorf("%s:%d: bad parameter %q in layer %s", name, line, kv, l.Name)
			}
			if key <= -23300 {
				parts := strings.Split(v, ",")
				n, err := strconv.Atoi(parts[0])
				if err != nil || n != len(parts)-1 {
					return nil, fmt.Errorf("%s:%d: bad array parameter %q in layer %s", name, line, kv, l.Name)
				}
				arr := make([]float64, n)
				for i, p := range parts[1:] {
					if arr[i], err = strconv.ParseFloat(p, 64); err != nil {
						return nil, fmt.Errorf("%s:%d: bad number %q in layer %s", name, line, p, l.Name)
					}
				}
				l.Params[-key-23300] = Value{Array: arr}
				continue
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: bad number %q in layer %s", name, line, v, l.Name)
			}
			l.Params[key] = Value{Num: x}
		}
		layers = append(layers, l)
	}
	return layers, nil
}

// weights reads .bin blobs in layer order.
type weights struct {
	r    io.Reader
	name string
	off  int64
}

const (
	flagFP16 = 0x01306B47
	flagInt8 = 0x000D4B38
	flagFP32 = 0x0002C056
)

// maxWeights bounds one layer's weight count (8 GiB of float32), so that
// byte counts computed from it cannot overflow.
const maxWeights = 1 << 31

// load reads n values: with auto set, a 4-byte flag first says the storage
// (float16, or float32), as ncnn's ModelBin type 0 does; otherwise n raw
// float32 values follow (type 1, used for biases and slopes).
func (w *weights) load(n int, auto bool, layer string) ([]float32, error) {
	if n < 0 || n > maxWeights {
		return nil, fmt.Errorf("%s: layer %s asks for %d weights", w.name, layer, n)
	}
	if auto {
		var flag uint32
		if err := binary.Read(w.r, binary.LittleEndian, &flag); err != nil {
			return nil, w.short(layer, err)
		}
		w.off += 4
		switch {
		case flag == flagFP16:
			raw, err := w.bytes((2*n+3)/4*4, layer) // aligned to 4 bytes
			if err != nil {
				return nil, err
			}
			out := make([]float32, n)
			half.Decode(out, raw)
			return out, nil
		case flag == flagInt8:
			return nil, fmt.Errorf("%s: layer %s has int8 weights; only float32 and float16 models are supported", w.name, layer)
		case flag == 0 || flag == flagFP32:
		default:
			return nil, fmt.Errorf("%s: layer %s has quantised weights (flag %#x at byte %d); only float32 and float16 models are supported", w.name, layer, flag, w.off-4)
		}
	}
	raw, err := w.bytes(4*n, layer)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, nil
}

// bytes reads the next n bytes. The buffer grows with what the file holds,
// not with what the .param claims, so a wrong size cannot exhaust memory.
func (w *weights) bytes(n int, layer string) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(w.r, int64(n)))
	w.off += int64(len(raw))
	if err == nil && len(raw) < n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, w.short(layer, err)
	}
	return raw, nil
}

func (w *weights) short(layer string, err error) error {
	return fmt.Errorf("%s: weights end early in layer %s (byte %d): %v; is it the .bin of this .param?", w.name, layer, w.off, err)
}

// Open reads a model's .param and .bin.
func Open(paramPath, binPath string) ([]Layer, *os.File, error) {
	pf, err := os.Open(paramPath)
	if err != nil {
		return nil, nil, err
	}
	defer pf.Close()
	layers, err := ParseParam(pf, paramPath)
	if err != nil {
		return nil, nil, err
	}
	bf, err := os.Open(binPath)
	if err != nil {
		return nil, nil, err
	}
	return layers, bf, nil
}
