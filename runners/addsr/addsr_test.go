package addsr

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/half"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/runners"
)

// The stand-in pipeline (testdata/standin.py) and the reference runs of
// it (testdata/reference.py, PyTorch): noise, x̂0 per step and outputs.
const standin = "testdata/pipeline"

type refCase struct {
	Name    string
	Sizes   [][2]int
	K       int
	PSR     bool
	Fix     string
	Prompt  string
	G       float64
	PS      int
	Tile    int
	Overlap int
	Images  []string
	Prompts []string
	Tags    []string
	Latent  [2]int
	Outputs map[string]map[string]string
}

type reference struct {
	AlphasCumprod map[string]float64 `json:"alphas_cumprod"`
	Cases         []refCase
}

func readReference(t testing.TB) reference {
	t.Helper()
	raw, err := os.ReadFile("testdata/cases/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func needORT(t testing.TB) {
	t.Helper()
	if err := models.Init(); err != nil {
		t.Skipf("ONNX Runtime: %v", err)
	}
}

// TestAlphasCumprod: the schedule is PyTorch's to within 1e-6 relative at
// every timestep, and exactly its bits where the manifest gives them.
func TestAlphasCumprod(t *testing.T) {
	ref := readReference(t)
	m, err := ReadManifest(standin)
	if err != nil {
		t.Fatal(err)
	}
	sched := scheduleAlphas(m.Scheduler)
	ac, err := alphasCumprod(m.Scheduler)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range ref.AlphasCumprod {
		i, _ := strconv.Atoi(k)
		if d := math.Abs(float64(sched[i]) - want); d > 1e-6*want {
			t.Errorf("schedule ᾱ[%d] = %v, PyTorch's %v", i, sched[i], want)
		}
		if _, listed := m.Scheduler.AlphasCumprod[k]; listed && float64(ac[i]) != want {
			t.Errorf("ᾱ[%d] = %v, the manifest's (PyTorch's) %v", i, ac[i], want)
		}
	}
	bad := m.Scheduler
	bad.AlphasCumprod = map[string]float64{"999": 0.01}
	if _, err := alphasCumprod(bad); err == nil {
		t.Error("an ᾱ from another schedule was accepted")
	}
}

// caseSettings are the pipeline's defaults with a reference case's options.
func caseSettings(t testing.TB, c refCase) Settings {
	m, err := ReadManifest(standin)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Defaults
	s.PSR, s.ColourFix, s.Prompt, s.GuidanceScale, s.ProcessSize = c.PSR, c.Fix, c.Prompt, c.G, c.PS
	if c.Tile > 0 {
		s.LatentTile, s.LatentTileOverlap = c.Tile, c.Overlap
	}
	return s
}

// refNoise serves noise.bin: per image, encode, start, then step2…stepK,
// each a latent's worth of float16 values.
func refNoise(t testing.TB, c refCase) func(id, kind string, n int) []float32 {
	raw, err := os.ReadFile(filepath.Join("testdata/cases", c.Name, "noise.bin"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{"encode", "start"}
	for k := 2; k <= c.K; k++ {
		kinds = append(kinds, "step"+strconv.Itoa(k))
	}
	per := 4 * c.Latent[0] * c.Latent[1]
	return func(id, kind string, n int) []float32 {
		b := slices.Index(c.Images, id)
		k := slices.Index(kinds, kind)
		if b < 0 || k < 0 || n != per {
			panic(fmt.Sprintf("noise for %s %s (%d values): not in the reference", id, kind, n))
		}
		off := (b*len(kinds) + k) * per * 2
		out := make([]float32, n)
		half.Decode(out, raw[off:off+2*n])
		return out
	}
}

func refLatents(t testing.TB, c refCase) []float32 {
	raw, err := os.ReadFile(filepath.Join("testdata/cases", c.Name, "latents.bin"))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

func loadLRs(t testing.TB, c refCase) []runners.Input {
	var ins []runners.Input
	for _, id := range c.Images {
		m, err := img.Load(filepath.Join("testdata/cases", c.Name, id+".png"), img.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, runners.Input{ID: id, LR: m})
	}
	return ins
}

// TestParity runs every reference case through the ONNX stand-ins with
// the reference's noise: x̂0 within 1e-4 of PyTorch's at every step, the
// prompt identical, outputs within one 8-bit level. The cases cover K = 1…4
// (each step's output of one K-step run), PSR on and off, guidance, each
// colour fix, a non-square LR, an LR below process_size/4, a batch of 3,
// and latent tiling with guidance on a batch of 2.
func TestParity(t *testing.T) {
	needORT(t)
	parity(t, models.Device{Kind: "cpu"}, readReference(t).Cases)
}

// TestParitySliceRewrite: with every Slice rewritten, as on ONNX Runtime
// 1.29.0's CUDA plugin provider (where --slice-as-gather's auto turns it
// on), the graphs load and the runner still equals PyTorch.
func TestParitySliceRewrite(t *testing.T) {
	needORT(t)
	var cases []refCase
	for _, c := range readReference(t).Cases {
		if c.Name == "small" || c.Name == "tiled" {
			cases = append(cases, c)
		}
	}
	parity(t, models.Device{Kind: "cpu", SliceAsGather: "on"}, cases)
}

func parity(t *testing.T, dev models.Device, cases []refCase) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			set := caseSettings(t, c)
			var mu sync.Mutex
			got := map[string][]float32{}
			var steps []int
			for k := 1; k <= c.K; k++ {
				steps = append(steps, k)
			}
			r, err := Open(standin, Options{Device: dev, Settings: &set, Steps: steps,
				Hooks: Hooks{Noise: refNoise(t, c), Latent: func(id string, step int, z0 []float32) {
					mu.Lock()
					got[fmt.Sprintf("%s/%d", id, step)] = append([]float32(nil), z0...)
					mu.Unlock()
				}}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ins := loadLRs(t, c)
			res, err := r.RunBatch(context.Background(), ins)
			if err != nil {
				t.Fatal(err)
			}
			want := refLatents(t, c)
			per := 4 * c.Latent[0] * c.Latent[1]
			for k := 1; k <= c.K; k++ {
				for b, id := range c.Images {
					w := want[((k-1)*len(c.Images)+b)*per:][:per]
					g := got[fmt.Sprintf("%s/%d", id, k)]
					if len(g) != per {
						t.Fatalf("%s step %d: %d latent values, want %d", id, k, len(g), per)
					}
					var worst float64
					for i := range w {
						worst = max(worst, math.Abs(float64(g[i]-w[i])))
					}
					if worst > 1e-4 {
						t.Errorf("%s step %d: x̂0 differs from PyTorch's by up to %.3g (> 1e-4)", id, k, worst)
					}
					t.Logf("%s step %d: x̂0 within %.2g of PyTorch's", id, k, worst)
				}
			}
			for b, id := range c.Images {
				if len(res[b].Outputs) != c.K {
					t.Fatalf("%s: %d outputs, want %d", id, len(res[b].Outputs), c.K)
				}
				for _, o := range res[b].Outputs {
					if o.Prompt != c.Prompts[b] {
						t.Errorf("%s: prompt %q, reference %q", id, o.Prompt, c.Prompts[b])
					}
					wantImg, err := img.Load(filepath.Join("testdata/cases", c.Name, c.Outputs[id][strconv.Itoa(o.Steps)]), img.DecodeOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if o.Image.W != wantImg.W || o.Image.H != wantImg.H {
						t.Fatalf("%s step %d: %dx%d, reference %dx%d", id, o.Steps, o.Image.W, o.Image.H, wantImg.W, wantImg.H)
					}
					gu, wu := o.Image.U8(), wantImg.U8()
					var worst, off int
					for ch := range 3 {
						for i := range gu[ch] {
							d := int(gu[ch][i]) - int(wu[ch][i])
							if d != 0 {
								off++
							}
							worst = max(worst, d, -d)
						}
					}
					if worst > 1 {
						t.Errorf("%s step %d: output differs by up to %d levels (%d samples differ)", id, o.Steps, worst, off)
					}
					t.Logf("%s step %d: %d of %d samples one level off", id, o.Steps, off, 3*len(gu[0]))
				}
			}
		})
	}
}
