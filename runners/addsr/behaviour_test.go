package addsr

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/filehash"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/runners"
)

var cpu = models.Device{Kind: "cpu", Threads: 1}

func openStandin(t *testing.T, steps []int, edit func(*Settings)) *Runner {
	t.Helper()
	needORT(t)
	m, err := ReadManifest(standin)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Defaults
	s.ProcessSize = 128
	if edit != nil {
		edit(&s)
	}
	r, err := Open(standin, Options{Device: cpu, Settings: &s, Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func lrInputs(t *testing.T) []runners.Input {
	var ins []runners.Input
	for _, p := range []string{"cases/square/img0.png", "cases/batch3/img1.png", "cases/nonsquare/img0.png"} {
		m, err := img.Load(filepath.Join("testdata", p), img.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, runners.Input{ID: strings.ReplaceAll(p, "/", "_"), LR: m})
	}
	return ins
}

func sameImage(a, b *img.Image) bool {
	if a.W != b.W || a.H != b.H {
		return false
	}
	ua, ub := a.U8(), b.U8()
	for c := range 3 {
		if string(ua[c]) != string(ub[c]) {
			return false
		}
	}
	return true
}

// TestStepPrefix: a K-step run's step-k output is byte for byte a k-step
// run's, with PSR on and off (seeded noise, one stream per image and draw).
func TestStepPrefix(t *testing.T) {
	for _, psr := range []bool{true, false} {
		full := openStandin(t, []int{1, 2, 3, 4}, func(s *Settings) { s.PSR = psr })
		in := lrInputs(t)[0]
		all, err := full.Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= 3; k++ {
			part := openStandin(t, []int{k}, func(s *Settings) { s.PSR = psr })
			res, err := part.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Outputs) != 1 || res.Outputs[0].Steps != k {
				t.Fatalf("a %d-step run returned %d outputs", k, len(res.Outputs))
			}
			if !sameImage(res.Outputs[0].Image, all.Outputs[k-1].Image) {
				t.Errorf("psr %v: the %d-step output differs from step %d of a 4-step run", psr, k, k)
			}
		}
		// Each output's times are what a run of its steps takes: they grow.
		var prev float64
		for _, o := range all.Outputs {
			var sum float64
			for _, s := range o.Stages {
				sum += s.Duration.Seconds()
			}
			if sum <= prev {
				t.Errorf("step %d's cumulative time %.4f s is not above step %d's %.4f s", o.Steps, sum, o.Steps-1, prev)
			}
			prev = sum
		}
	}
}

// TestDeterministic: reruns, concurrent runs and a different seed.
func TestDeterministic(t *testing.T) {
	r := openStandin(t, []int{2}, nil)
	ins := lrInputs(t)
	first, err := r.RunBatch(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	again := make([]runners.Result, len(ins))
	errs := make([]error, len(ins))
	for i := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			again[i], errs[i] = r.Run(context.Background(), ins[i])
		}()
	}
	wg.Wait()
	for i := range ins {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !sameImage(first[i].Outputs[0].Image, again[i].Outputs[0].Image) {
			t.Errorf("%s: a concurrent rerun differs", ins[i].ID)
		}
	}
	other := openStandin(t, []int{2}, func(s *Settings) { s.Seed = 1 })
	res, err := other.Run(context.Background(), ins[0])
	if err != nil {
		t.Fatal(err)
	}
	if sameImage(res.Outputs[0].Image, first[0].Outputs[0].Image) {
		t.Error("seed 1 gave seed 0's output")
	}
	if r.Fingerprint() == other.Fingerprint() {
		t.Error("the seed is not in the fingerprint")
	}
}

// copyPipeline copies the stand-in pipeline to a temporary folder and
// applies edit to its manifest.
func copyPipeline(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.Walk(standin, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(standin, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		raw, _ := os.ReadFile(filepath.Join(dir, ManifestName))
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		raw, _ = json.Marshal(m)
		if err := os.WriteFile(filepath.Join(dir, ManifestName), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func graph(m map[string]any, name string) map[string]any {
	return m["graphs"].(map[string]any)[name].(map[string]any)
}

// TestBadPipelines: each problem is an error naming the file or key,
// before any image.
func TestBadPipelines(t *testing.T) {
	needORT(t)
	for _, c := range []struct {
		name  string
		setup func(t *testing.T) string
		opts  Options
		want  []string
	}{
		{"not a folder", func(t *testing.T) string { return filepath.Join(standin, "unet.onnx") }, Options{}, []string{"unet.onnx is a file", "pipeline.json"}},
		{"missing graph", func(t *testing.T) string {
			d := copyPipeline(t, nil)
			os.Remove(filepath.Join(d, "controlnet.onnx"))
			return d
		}, Options{}, []string{`graph "controlnet"`, "controlnet.onnx", "export the pipeline again"}},
		{"missing tokenizer file", func(t *testing.T) string {
			d := copyPipeline(t, nil)
			os.Remove(filepath.Join(d, "tokenizer", "merges.txt"))
			return d
		}, Options{}, []string{"merges.txt"}},
		{"wrong hash", func(t *testing.T) string {
			return copyPipeline(t, func(m map[string]any) { graph(m, "unet")["sha256"] = strings.Repeat("0", 64) })
		}, Options{}, []string{"unet.onnx", "SHA-256"}},
		{"tampered tag list", func(t *testing.T) string {
			d := copyPipeline(t, nil)
			os.WriteFile(filepath.Join(d, "ram", "tags.txt"), []byte("sky\n"), 0o644)
			return d
		}, Options{}, []string{"tags.txt", "SHA-256"}},
		{"graph with the wrong I/O", func(t *testing.T) string {
			return copyPipeline(t, func(m map[string]any) {
				enc, dec := graph(m, "vae_encoder"), graph(m, "vae_decoder")
				enc["file"], enc["sha256"] = dec["file"], dec["sha256"]
			})
		}, Options{}, []string{"vae_decoder.onnx", "inputs [latent]", "pipeline.json"}},
		{"missing graph entry", func(t *testing.T) string {
			return copyPipeline(t, func(m map[string]any) { delete(m["graphs"].(map[string]any), "ram") })
		}, Options{}, []string{`graph "ram" is missing`}},
		{"unknown manifest key", func(t *testing.T) string {
			return copyPipeline(t, func(m map[string]any) { m["sampler"] = "ddim" })
		}, Options{}, []string{"pipeline.json", `unknown field "sampler"`}},
		{"steps beyond the timesteps", func(t *testing.T) string { return standin }, Options{Steps: []int{2, 5}}, []string{"steps 5", "1 to 4", "pipeline.json"}},
		{"bad setting", func(t *testing.T) string { return standin }, Options{Settings: &Settings{Prompt: "ram", PSRWeight: 2, ColourFix: "adain", ProcessSize: 512, Upscale: 4}}, []string{"psr_weight 2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Device = cpu
			r, err := Open(c.setup(t), c.opts)
			if err == nil {
				r.Close()
				t.Fatal("opened")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	var s Settings
	if err := s.Set("sampler", "ddim"); err == nil || !strings.Contains(err.Error(), `unknown AddSR option "sampler"`) || !strings.Contains(err.Error(), "psr_weight") {
		t.Errorf("unknown option: %v", err)
	}
}

// TestNaNLatent: a NaN in the latents stops that image with an error
// naming the step; the next image runs.
func TestNaNLatent(t *testing.T) {
	needORT(t)
	m, _ := ReadManifest(standin)
	s := m.Defaults
	s.ProcessSize = 128
	r, err := Open(standin, Options{Device: cpu, Settings: &s, Steps: []int{1, 2}, Hooks: Hooks{Noise: func(id, kind string, n int) []float32 {
		v := make([]float32, n)
		if id == "bad" && kind == "step2" {
			v[3] = float32(math.NaN())
		}
		return v
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := lrInputs(t)[0]
	res, errs := runners.RunEach(context.Background(), r, []runners.Input{{ID: "bad", LR: in.LR}, {ID: "good", LR: in.LR}})
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "step 2 (t=749)") || !strings.Contains(errs[0].Error(), "NaN") {
		t.Errorf("bad image: %v", errs[0])
	}
	if errs[1] != nil || len(res[1].Outputs) != 2 {
		t.Errorf("the good image: %v", errs[1])
	}
}

// TestTooLarge: an image over the pixel limit is refused before inference,
// naming its size and the option.
func TestTooLarge(t *testing.T) {
	needORT(t)
	r, err := Open(standin, Options{Device: cpu, MaxOutputPixels: 256 * 256})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Run(context.Background(), runners.Input{ID: "big", LR: img.New(200, 100)})
	if err == nil || !strings.Contains(err.Error(), "200x100") || !strings.Contains(err.Error(), "max_output_pixels") {
		t.Errorf("got %v", err)
	}
}

// TestVerify: the stand-in's graphs agree with the PyTorch outputs in its
// check file; a check output changed by 1e-2 is caught, in its graph only.
func TestVerify(t *testing.T) {
	needORT(t)
	res, err := Verify(standin, cpu)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 6 {
		t.Fatalf("%d graphs checked", len(res))
	}
	for _, r := range res {
		if !r.Pass {
			t.Errorf("%s: %+v", r.Graph, r)
		}
	}
	m, _ := ReadManifest(standin)
	out := m.Check.Graphs["vae_decoder"].Outputs[0]
	dir := copyPipeline(t, nil)
	raw, _ := os.ReadFile(filepath.Join(dir, "check.bin"))
	v := math.Float32frombits(uint32(raw[out.Offset]) | uint32(raw[out.Offset+1])<<8 | uint32(raw[out.Offset+2])<<16 | uint32(raw[out.Offset+3])<<24)
	b := math.Float32bits(v + 1e-2)
	raw[out.Offset], raw[out.Offset+1], raw[out.Offset+2], raw[out.Offset+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
	os.WriteFile(filepath.Join(dir, "check.bin"), raw, 0o644)
	_, sum, _ := filehash.SHA256(filepath.Join(dir, "check.bin"))
	mj, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	os.WriteFile(filepath.Join(dir, ManifestName), []byte(strings.Replace(string(mj), m.Check.SHA256, sum, 1)), 0o644)
	res, err = Verify(dir, cpu)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Pass == (r.Graph == "vae_decoder") {
			t.Errorf("%s: pass %v (worst %.3g× the tolerance)", r.Graph, r.Pass, r.Worst)
		}
	}
}

// TestTiledDecode: decoding in overlapping tiles stays close to decoding
// whole (the stand-in decoder sees about two latent pixels around each
// output; the ramps blend across eight), and the run uses it.
func TestTiledDecode(t *testing.T) {
	r := openStandin(t, []int{1}, func(s *Settings) { s.VAEDecodeTile, s.VAEDecodeOverlap = 10, 4 })
	lat := models.Tensor{Shape: []int64{2, 4, 23, 31}, Data: make([]float32, 2*4*23*31)}
	for i := range lat.Data {
		lat.Data[i] = float32(math.Sin(float64(i)*0.37)) * 3
	}
	tiled, err := r.decode(lat)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := r.run("vae_decoder", lat)
	if err != nil {
		t.Fatal(err)
	}
	var worst, sum float64
	for i, v := range whole[0].Data {
		d := math.Abs(float64(v - tiled.Data[i]))
		worst, sum = max(worst, d), sum+d
	}
	mean := sum / float64(len(tiled.Data))
	t.Logf("tiled vs whole decode: max %.3g, mean %.3g", worst, mean)
	if worst > 0.1 || mean > 3e-3 || worst == 0 {
		t.Errorf("tiled decode: max |diff| %.3g, mean %.3g", worst, mean)
	}
	if _, err := r.Run(context.Background(), lrInputs(t)[2]); err != nil {
		t.Fatal(err)
	}
}
