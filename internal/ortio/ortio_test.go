package ortio_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/ortio"
	"github.com/addsr-bench/addsr-bench/models"
)

func initORT(t *testing.T) {
	t.Helper()
	info, err := models.Runtime() // loads the library through onnxruntime_go first
	if err != nil {
		t.Fatal(err)
	}
	if err := ortio.Init(info.Library); err != nil {
		t.Fatal(err)
	}
	if v := ortio.Version(); v != info.Version {
		t.Fatalf("ortio sees ONNX Runtime %s, onnxruntime_go %s", v, info.Version)
	}
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func bytesf32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestAffine runs y = 2x+1 with bound buffers on the CPU, directly and with
// separate staging buffers copied by CopyTensors (the GPU's data path), over
// a change of shape and back.
func TestAffine(t *testing.T) {
	initORT(t)
	path := filepath.Join("..", "..", "models", "testdata", "affine.onnx")
	for _, staging := range []bool{false, true} {
		o := ortio.Options{Threads: 1}
		if staging {
			o = ortio.WithStaging(o)
		}
		s, err := ortio.Open(path, []ortio.IO{{"x", ortio.Float32}}, []ortio.IO{{"y", ortio.Float32}}, o)
		if err != nil {
			t.Fatal(err)
		}
		if s.OnDevice() != staging {
			t.Errorf("staging %v: OnDevice %v", staging, s.OnDevice())
		}
		for k, sh := range [][]int64{{1, 3, 2, 2}, {1, 3, 5, 3}, {1, 3, 2, 2}} {
			n := int(sh[0] * sh[1] * sh[2] * sh[3])
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(i*(k+1)) * 0.25
			}
			out := []ortio.Tensor{{Shape: sh, Data: make([]byte, 4*n)}}
			if err := s.Run([]ortio.Tensor{{Shape: sh, Data: f32bytes(x)}}, out); err != nil {
				t.Fatalf("staging %v, shape %v: %v", staging, sh, err)
			}
			for i, y := range bytesf32(out[0].Data) {
				if y != 2*x[i]+1 {
					t.Fatalf("staging %v, shape %v: y[%d] = %v, want %v", staging, sh, i, y, 2*x[i]+1)
				}
			}
		}
		// Wrong sizes are refused before anything runs.
		err = s.Run([]ortio.Tensor{{Shape: []int64{1, 3, 2, 2}, Data: make([]byte, 8)}}, []ortio.Tensor{{Shape: []int64{1, 3, 2, 2}, Data: make([]byte, 48)}})
		if err == nil || !strings.Contains(err.Error(), "bytes for shape") {
			t.Errorf("short input: %v", err)
		}
		s.Close()
		if err := s.Run(nil, nil); err == nil {
			t.Error("Run after Close succeeded")
		}
	}
}

// A session made from the graph's bytes (Options.Model, the path then only
// a name) with a configuration entry runs as the file's does; bytes that
// are no model fail with ONNX Runtime's message.
func TestModelBytesAndConfig(t *testing.T) {
	initORT(t)
	model, err := os.ReadFile(filepath.Join("..", "..", "models", "testdata", "affine.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	o := ortio.Options{Threads: 1, Model: model, Config: map[string]string{"optimization.disable_specified_optimizers": "ConstantFolding"}}
	s, err := ortio.Open("in-memory affine", []ortio.IO{{"x", ortio.Float32}}, []ortio.IO{{"y", ortio.Float32}}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sh := []int64{1, 3, 1, 2}
	x := []float32{-1, 0, 0.5, 1, 2, 3}
	out := []ortio.Tensor{{Shape: sh, Data: make([]byte, 4*len(x))}}
	if err := s.Run([]ortio.Tensor{{Shape: sh, Data: f32bytes(x)}}, out); err != nil {
		t.Fatal(err)
	}
	for i, y := range bytesf32(out[0].Data) {
		if y != 2*x[i]+1 {
			t.Errorf("y[%d] = %v, want %v", i, y, 2*x[i]+1)
		}
	}
	if sh, err := s.OutputShape("y"); err != nil || len(sh) != 4 || sh[1] != 3 {
		t.Errorf("OutputShape(y) = %v, %v; want 4 dimensions, 3 channels", sh, err)
	}
	if _, err := s.OutputShape("nope"); err == nil || !strings.Contains(err.Error(), `no tensor output "nope"`) {
		t.Errorf("OutputShape(nope): %v", err)
	}
	o.Model = []byte("not a model")
	if _, err := ortio.Open("junk", []ortio.IO{{"x", ortio.Float32}}, []ortio.IO{{"y", ortio.Float32}}, o); err == nil {
		t.Error("bytes that are no model opened")
	}
}

// TestFloat16AndErrors: a float16 graph through bound buffers equals the
// onnxruntime_go session; a missing file and a wrong input name fail with
// ONNX Runtime's message.
func TestFloat16AndErrors(t *testing.T) {
	initORT(t)
	path := filepath.Join("..", "..", "models", "testdata", "sr2_fp16.onnx")
	s, err := ortio.Open(path, []ortio.IO{{"lr", ortio.Float16}}, []ortio.IO{{"sr", ortio.Float16}}, ortio.WithStaging(ortio.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := make([]byte, 2*2*3*3*4)
	for i := 0; i < len(in); i += 2 {
		binary.LittleEndian.PutUint16(in[i:], uint16(0x3c00+i)) // 1.0 and up
	}
	out := []ortio.Tensor{{Shape: []int64{2, 3, 6, 8}, Data: make([]byte, 2*2*3*6*8)}}
	if err := s.Run([]ortio.Tensor{{Shape: []int64{2, 3, 3, 4}, Data: in}}, out); err != nil {
		t.Fatal(err)
	}
	// Nearest ×2: output (n,c,y,x) is input (n,c,y/2,x/2), bit for bit.
	for n := 0; n < 2*3; n++ {
		for y := 0; y < 6; y++ {
			for x := 0; x < 8; x++ {
				got := binary.LittleEndian.Uint16(out[0].Data[2*(n*48+y*8+x):])
				want := binary.LittleEndian.Uint16(in[2*(n*12+(y/2)*4+x/2):])
				if got != want {
					t.Fatalf("plane %d (%d,%d): %#x, want %#x", n, y, x, got, want)
				}
			}
		}
	}
	if _, err := ortio.Open("no-such.onnx", []ortio.IO{{"x", ortio.Float32}}, []ortio.IO{{"y", ortio.Float32}}, ortio.Options{}); err == nil {
		t.Error("opening a missing file succeeded")
	}
	bad, err := ortio.Open(path, []ortio.IO{{"nope", ortio.Float16}}, []ortio.IO{{"sr", ortio.Float16}}, ortio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	err = bad.Run([]ortio.Tensor{{Shape: []int64{1, 3, 1, 1}, Data: make([]byte, 6)}}, []ortio.Tensor{{Shape: []int64{1, 3, 2, 2}, Data: make([]byte, 24)}})
	if err == nil {
		t.Error("binding an unknown input succeeded")
	}
}

// TestEpDevices lists at least the CPU provider.
func TestEpDevices(t *testing.T) {
	initORT(t)
	devs, err := ortio.EpDevices()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range devs {
		names = append(names, d.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "CPUExecutionProvider") {
		t.Errorf("EP devices %v: no CPU", names)
	}
}

func TestParallelCopy(t *testing.T) {
	for _, n := range []int{0, 1, 4<<20 - 1, 9<<20 + 3, 33 << 20} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*7 + i>>11)
		}
		dst := make([]byte, n+5)
		ortio.ParallelCopy(dst, src)
		if !bytes.Equal(dst[:n], src) || !bytes.Equal(dst[n:], make([]byte, 5)) {
			t.Errorf("n=%d: copy differs", n)
		}
	}
}
