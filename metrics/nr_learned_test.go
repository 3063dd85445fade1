package metrics_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/metrics"
)

// testdata/nr holds random-weight networks with the I/O of the real MANIQA
// and CLIPIQA exports (make_fixtures.py): Go's preprocessing plus ONNX must
// give what PyTorch's preprocessing (F.interpolate, slicing) plus the same
// module gives.
var nrFixtures = metrics.Config{Models: filepath.Join("testdata", "nr"), MaxMemory: -1}

func TestLearnedNRAgainstPyTorch(t *testing.T) {
	var cases []struct {
		Image string
		Box   []int // x0, y0, x1, y1 (PIL's crop box)
		Vals  map[string]float64
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "nr", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rawCases []map[string]any
	json.Unmarshal(raw, &rawCases)
	for _, c := range rawCases {
		var x struct {
			Image string
			Box   []int
			Vals  map[string]float64
		}
		x.Image = c["image"].(string)
		if b, ok := c["box"].([]any); ok {
			for _, v := range b {
				x.Box = append(x.Box, int(v.(float64)))
			}
		}
		x.Vals = map[string]float64{}
		for _, k := range []string{"maniqa", "maniqa-pipal", "clipiqa"} {
			x.Vals[k] = c[k].(float64)
		}
		cases = append(cases, x)
	}
	for _, c := range cases {
		m := load(t, filepath.Join("..", c.Image))
		if c.Box != nil {
			m, _ = m.Crop(c.Box[0], c.Box[1], c.Box[2]-c.Box[0], c.Box[3]-c.Box[1])
		}
		for name, want := range c.Vals {
			mt, err := metrics.New(name, nrFixtures)
			if err != nil {
				t.Fatal(err)
			}
			got, err := mt.Score(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > 1e-4*math.Abs(want) {
				t.Errorf("%s on %s %v (%dx%d): Go+ONNX %.7f, PyTorch %.7f", name, c.Image, c.Box, m.W, m.H, got, want)
			}
		}
	}
}

// TestManiqaCrops checks the crop grid by hand: on a 264×304 image (no
// upscale) the steps are 10 and 20, and crop k starts at (k%5·20, k/5·10).
func TestManiqaCrops(t *testing.T) {
	m := load(t, filepath.Join("..", "datasets", "samples", "astronaut.png"))
	m, _ = m.Crop(0, 0, 304, 264)
	in, err := metrics.ManiqaInput(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 20*3*224*224 {
		t.Fatalf("%d values", len(in))
	}
	for _, k := range []int{0, 6, 19} {
		x0, y0 := (k%5)*20, (k/5)*10
		for _, c := range []int{0, 2} {
			got := in[((k*3+c)*224+5)*224+7]
			want := (m.Planes[c][(y0+5)*m.W+x0+7] - 0.5) / 0.5
			if got != want {
				t.Errorf("crop %d channel %d: %v, want %v", k, c, got, want)
			}
		}
	}
	// A short side of at most 224 is upscaled by 225/short.
	small, _ := m.Crop(0, 0, 200, 150)
	if in, err := metrics.ManiqaInput(small); err != nil || len(in) != 20*3*224*224 {
		t.Errorf("upscaled input: %d values, %v", len(in), err)
	}
}

// TestMusiqAgainstPyTorch: tokens built in Go equal those built in PyTorch
// (sequence length and a checksum), and the random-weight fixture scores
// them alike (testdata/nr/make_musiq.py).
func TestMusiqAgainstPyTorch(t *testing.T) {
	var cases []struct {
		Image    string
		Box      []int
		Seq      int
		Musiq    float64
		Checksum float64 `json:"token_checksum"`
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "nr", "musiq_expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	mt, err := metrics.New("musiq", nrFixtures)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		m := load(t, filepath.Join("..", c.Image))
		if c.Box != nil {
			m, _ = m.Crop(c.Box[0], c.Box[1], c.Box[2]-c.Box[0], c.Box[3]-c.Box[1])
		}
		in, seq, err := metrics.MusiqInput(m)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, v := range in {
			sum += float64(v)
		}
		if seq != c.Seq || math.Abs(sum-c.Checksum) > 1e-5*math.Abs(c.Checksum)+1e-3 {
			t.Errorf("%s %v: %d tokens (checksum %.4f), PyTorch %d (%.4f)", c.Image, c.Box, seq, sum, c.Seq, c.Checksum)
		}
		got, err := mt.Score(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.Musiq) > 1e-4*math.Abs(c.Musiq) {
			t.Errorf("%s %v: Go+ONNX %.7f, PyTorch %.7f", c.Image, c.Box, got, c.Musiq)
		}
	}
}

// Hashed positions by hand: 7 patches over a 10-cell grid take cells
// floor(i·10/7) = 0 1 2 4 5 7 8; 12 patches repeat cells.
// Degenerate sizes get errors, not panics: a 1-pixel-high strip has no
// 224-pixel scale; tiny images are fine for MUSIQ and MANIQA, too small for
// CLIPIQA.
func TestLearnedTinyAndThinImages(t *testing.T) {
	if _, _, err := metrics.MusiqInput(img.New(500, 1)); err == nil || !strings.Contains(err.Error(), "500x1 image is too thin") {
		t.Errorf("musiq on 500x1: %v", err)
	}
	for _, sz := range [][2]int{{1, 1}, {2, 3}, {224, 1}} {
		if _, _, err := metrics.MusiqInput(img.New(sz[0], sz[1])); err != nil {
			t.Errorf("musiq on %v: %v", sz, err)
		}
		if _, err := metrics.ManiqaInput(img.New(sz[0], sz[1])); err != nil {
			t.Errorf("maniqa on %v: %v", sz, err)
		}
	}
	c, _ := metrics.New("clipiqa", nrFixtures)
	if _, err := c.Score(img.New(31, 33), nil); err == nil || !strings.Contains(err.Error(), "at least 32×32") {
		t.Errorf("clipiqa on 31x33: %v", err)
	}
}

func TestMusiqHashGrid(t *testing.T) {
	m := load(t, filepath.Join("..", "datasets", "samples", "astronaut.png"))
	m, _ = m.Crop(0, 0, 224, 32) // native scale: 7×1 patches
	in, _, err := metrics.MusiqInput(m)
	if err != nil {
		t.Fatal(err)
	}
	// Skip the two resized scales (49 + 144 tokens).
	native := in[(49+144)*metrics.MusiqDim:]
	want := []float32{0, 1, 2, 4, 5, 7, 8}
	for i, w := range want {
		tok := native[i*metrics.MusiqDim:]
		if pos, scale, mask := tok[3072], tok[3073], tok[3074]; pos != w || scale != 2 || mask != 1 {
			t.Errorf("native patch %d: position %v scale %v mask %v, want %v 2 1", i, pos, scale, mask, w)
		}
	}
	// The 224 scale of a 224×32 image is 224×32 again: 7 real tokens, then
	// 42 zero tokens (mask 0) up to 49.
	if mask := in[6*metrics.MusiqDim+3074]; mask != 1 {
		t.Errorf("token 6 mask %v", mask)
	}
	if mask := in[7*metrics.MusiqDim+3074]; mask != 0 {
		t.Errorf("padding token mask %v", mask)
	}
}

// A graph with the wrong I/O for the metric is refused with a message that
// says what the metric expects.
func TestLearnedWrongGraph(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile(filepath.Join("testdata", "lpips", "lpips-alex.onnx"))
	os.WriteFile(filepath.Join(dir, "maniqa-koniq.onnx"), data, 0o644)
	var man map[string]any
	raw, _ := os.ReadFile(filepath.Join("testdata", "lpips", "lpips-alex.json"))
	json.Unmarshal(raw, &man)
	b, _ := json.Marshal(man)
	os.WriteFile(filepath.Join(dir, "maniqa-koniq.json"), b, 0o644)
	m, _ := metrics.New("maniqa", metrics.Config{Models: dir, MaxMemory: -1})
	img := load(t, filepath.Join("testdata", "hubble-blur-ref.png"))
	_, err := m.Score(img, nil)
	if err == nil || !strings.Contains(err.Error(), "2 inputs and 1 outputs; this metric's graph has 1 and 2") {
		t.Errorf("wrong graph: %v", err)
	}
}

// TestLoadAll: the metrics' models load at once, each with its own result
// in the order given: a missing model is that metric's error and the
// others still load; a metric without a model loads at once with no note.
func TestLoadAll(t *testing.T) {
	var ms []metrics.Metric
	for _, c := range []struct {
		name string
		cfg  metrics.Config
	}{
		{"lpips", lpipsFixtures},
		{"musiq", nrFixtures},
		{"maniqa", metrics.Config{Models: t.TempDir()}},
		{"psnr", metrics.Config{}},
		{"clipiqa", nrFixtures},
	} {
		m, err := metrics.New(c.name, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	defer metrics.Close(ms)
	got := metrics.LoadAll(ms)
	if len(got) != len(ms) {
		t.Fatalf("%d results for %d metrics", len(got), len(ms))
	}
	for i, m := range ms {
		wantErr := m.Name() == "maniqa"
		if (got[i].Err != nil) != wantErr || got[i].Note != "" {
			t.Errorf("%s: note %q, error %v", m.Name(), got[i].Note, got[i].Err)
		}
	}
	if err := got[2].Err; err == nil || !strings.Contains(err.Error(), "maniqa-koniq.onnx") {
		t.Errorf("missing MANIQA model: %v, want its file named", err)
	}
	for _, i := range []int{0, 1, 4} { // loaded: they score
		if _, err := ms[i].Score(img.New(64, 48), img.New(64, 48)); err != nil {
			t.Errorf("%s after LoadAll: %v", ms[i].Name(), err)
		}
	}
}

// TestManiqaOutputsByName: a graph listing weight before score scores the
// same as the fixture; one whose outputs have other names is refused,
// naming them.
func TestManiqaOutputsByName(t *testing.T) {
	m := load(t, filepath.Join("testdata", "astronaut-noise-dist.png"))
	want := score(t, "maniqa", nrFixtures, m, nil)
	swapped := nrFixtures
	swapped.Models = filepath.Join("testdata", "nr", "bad", "swapped")
	if got := score(t, "maniqa", swapped, m, nil); got != want {
		t.Errorf("outputs listed weight first: %v, want %v", got, want)
	}
	renamed := nrFixtures
	renamed.Models = filepath.Join("testdata", "nr", "bad", "renamed")
	met, err := metrics.New("maniqa", renamed)
	if err != nil {
		t.Fatal(err)
	}
	_, err = met.Score(m, nil)
	if err == nil || !strings.Contains(err.Error(), `["out0" "out1"]`) || !strings.Contains(err.Error(), `["score" "weight"]`) {
		t.Errorf("renamed outputs: %v", err)
	}
}
