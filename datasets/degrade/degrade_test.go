package degrade

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/internal/rng"
	"github.com/addsr-bench/addsr-bench/metrics"
)

type reference struct {
	Input struct {
		W, H int
		Pix  []float64
	}
	Resize []struct {
		Mode  imresize.TorchMode
		Scale float64
		W, H  int
		Pix   []float64
	}
	Sinc []struct {
		Size  int
		Omega float64
		W     []float64
	}
}

func loadReference(t *testing.T) reference {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTorchResize compares with torch.nn.functional.interpolate (values in
// testdata/reference.json, made by make_reference.py with torch 1.13).
func TestTorchResize(t *testing.T) {
	ref := loadReference(t)
	in := img.New(ref.Input.W, ref.Input.H)
	for c := range in.Planes {
		for i, v := range ref.Input.Pix {
			in.Planes[c][i] = float32(v)
		}
	}
	for _, c := range ref.Resize {
		out, err := imresize.TorchResize(in, c.W, c.H, c.Mode, c.Scale, c.Scale)
		if err != nil {
			t.Fatal(err)
		}
		if c.Scale > 0 && (imresize.TorchScaledSize(in.W, c.Scale) != c.W || imresize.TorchScaledSize(in.H, c.Scale) != c.H) {
			t.Errorf("%s ×%v: size %dx%d, torch %dx%d", c.Mode, c.Scale, imresize.TorchScaledSize(in.W, c.Scale), imresize.TorchScaledSize(in.H, c.Scale), c.W, c.H)
		}
		for i, v := range out.Planes[1] {
			if math.Abs(float64(v)-c.Pix[i]) > 2e-6 {
				t.Fatalf("%s ×%v → %dx%d: pixel %d = %v, torch %v", c.Mode, c.Scale, c.W, c.H, i, v, c.Pix[i])
			}
		}
	}
}

func TestKernelsClosedForms(t *testing.T) {
	ref := loadReference(t)
	for _, s := range ref.Sinc {
		k := Sinc(s.Size, s.Omega)
		for i, v := range k.W {
			if math.Abs(v-s.W[i]) > 1e-12 {
				t.Fatalf("sinc %d ω=%v: weight %d = %v, scipy j1 gives %v", s.Size, s.Omega, i, v, s.W[i])
			}
		}
	}
	r := rng.New(3, "kernels")
	for i := 0; i < 200; i++ {
		for _, p := range []KernelParams{RealESRGANStage1, RealESRGANStage2} {
			k, ch := RandomKernel(r, p)
			if k.Size != 21 || math.Abs(k.Sum()-1) > 1e-12 {
				t.Fatalf("%+v: size %d, sum %v", ch, k.Size, k.Sum())
			}
			// Every kernel is point-symmetric, so correlation = convolution.
			for j := range k.W {
				if math.Abs(k.W[j]-k.W[len(k.W)-1-j]) > 1e-15 {
					t.Fatalf("%+v is not point-symmetric", ch)
				}
			}
		}
	}
	// An isotropic Gaussian is the outer product of the 1-D one.
	g := Gaussian(21, 2, 2, 0)
	v := gaussian1D(21, 2)
	for y := 0; y < 21; y++ {
		for x := 0; x < 21; x++ {
			if math.Abs(g.W[y*21+x]-v[y]*v[x]) > 1e-15 {
				t.Fatal("isotropic Gaussian is not separable")
			}
		}
	}
	// Rotating an anisotropic kernel by π/2 transposes it.
	a, b := Gaussian(9, 1, 2.5, 0.3), Gaussian(9, 1, 2.5, 0.3+math.Pi/2)
	for y := 0; y < 9; y++ {
		for x := 0; x < 9; x++ {
			if math.Abs(a.W[y*9+x]-b.W[x*9+(8-y)]) > 1e-12 && math.Abs(a.W[y*9+x]-b.W[(8-x)*9+y]) > 1e-12 {
				t.Fatalf("rotation by π/2 is not a transpose at (%d,%d)", x, y)
			}
		}
	}
	// β = 1 generalised Gaussian with q^1 is exp(−q/2): the Gaussian.
	gg := GeneralizedGaussian(11, 1.3, 0.8, 0.5, 1)
	ga := Gaussian(11, 1.3, 0.8, 0.5)
	for i := range gg.W {
		if math.Abs(gg.W[i]-ga.W[i]) > 1e-15 {
			t.Fatal("generalised Gaussian with β=1 differs from the Gaussian")
		}
	}
	if p := Pulse(21).Trim(); p.Size != 1 || p.W[0] != 1 {
		t.Errorf("trimmed pulse is %+v", p)
	}
}

// TestRandomKernelFrequencies: over many draws the kinds appear with
// Real-ESRGAN's probabilities (sinc 0.1, the rest 0.9 × their weights) and
// sizes are uniform over 7…21; bounds are ≥ 5 standard errors.
func TestRandomKernelFrequencies(t *testing.T) {
	r := rng.New(1, "freq")
	const n = 40000
	kinds := map[string]int{}
	sizes := map[int]int{}
	for i := 0; i < n; i++ {
		_, ch := RandomKernel(r, RealESRGANStage1)
		kinds[ch.Kind]++
		sizes[ch.Size]++
		if ch.Kind != "sinc" && (ch.SigX < 0.2 || ch.SigX > 3) {
			t.Fatalf("σ %v outside [0.2, 3]", ch.SigX)
		}
	}
	want := map[string]float64{"sinc": 0.1, "iso": 0.9 * 0.45, "aniso": 0.9 * 0.25, "generalized_iso": 0.9 * 0.12,
		"generalized_aniso": 0.9 * 0.03, "plateau_iso": 0.9 * 0.12, "plateau_aniso": 0.9 * 0.03}
	for k, p := range want {
		got := float64(kinds[k]) / n
		if se := math.Sqrt(p * (1 - p) / n); math.Abs(got-p) > 5*se {
			t.Errorf("%s: frequency %.4f, want %.4f", k, got, p)
		}
	}
	for _, s := range KernelSizes {
		got := float64(sizes[s]) / n
		if math.Abs(got-0.125) > 5*math.Sqrt(0.125*0.875/n) {
			t.Errorf("size %d: frequency %.4f", s, got)
		}
	}
}

func constant(w, h int, v float32) *img.Image {
	m := img.New(w, h)
	for c := range m.Planes {
		for i := range m.Planes[c] {
			m.Planes[c][i] = v
		}
	}
	return m
}

func TestDiffJPEG(t *testing.T) {
	for q, f := range map[float64]float64{10: 5, 30: 5000.0 / 30 / 100, 50: 1, 75: 0.5, 95: 0.1} {
		if got := QualityFactor(q); math.Abs(got-f) > 1e-15 {
			t.Errorf("QualityFactor(%v) = %v, want %v", q, got, f)
		}
	}
	// Mid grey (128) has no AC energy and a zero DC after the level shift:
	// it comes back exactly. (A size that is not a multiple of 16 is padded
	// with black, as DiffJPEG does, and its edge blocks then change.)
	if out := DiffJPEG(constant(19, 21, 128.0/255), 40); out.W != 19 || out.H != 21 {
		t.Fatalf("19x21 came back %dx%d", out.W, out.H)
	}
	out := DiffJPEG(constant(32, 48, 128.0/255), 40)
	for c := range out.Planes {
		for _, v := range out.Planes[c] {
			if math.Abs(float64(v)*255-128) > 1e-4 { // float32 input
				t.Fatalf("grey 128 became %v", float64(v)*255)
			}
		}
	}
	// A flat grey of 100 keeps its level within a quantisation step.
	out = DiffJPEG(constant(32, 32, 100.0/255), 50)
	if v := float64(out.Planes[0][100]) * 255; math.Abs(v-100) > 1 {
		t.Errorf("grey 100 became %v", v)
	}
	// On a photo, higher quality is closer to the input.
	s := photo(t)
	psnr, _ := metrics.New("psnr", metrics.Config{})
	p30, _ := psnr.Score(DiffJPEG(s, 30).Quantized(), s)
	p90, _ := psnr.Score(DiffJPEG(s, 90).Quantized(), s)
	if !(p90 > p30 && p30 > 25) {
		t.Errorf("DiffJPEG PSNR q30 %.2f, q90 %.2f", p30, p90)
	}
}

func photo(t *testing.T) *img.Image {
	t.Helper()
	s, err := datasets.Samples()
	if err != nil {
		t.Fatal(err)
	}
	m, err := s[0].Image.CenterCrop(128, 128)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNoise(t *testing.T) {
	grey := constant(200, 200, 0.5)
	r := rng.New(1, "noise")
	out := AddGaussianNoise(grey, r, 20, false)
	var s, sq float64
	for _, v := range out.Planes[0] {
		d := (float64(v) - 0.5) * 255
		s += d
		sq += d * d
	}
	n := float64(len(out.Planes[0]))
	if sd := math.Sqrt(sq/n - (s/n)*(s/n)); math.Abs(sd-20) > 0.5 {
		t.Errorf("noise σ %v, want 20", sd)
	}
	g := AddGaussianNoise(grey, r, 20, true)
	for i := range g.Planes[0] {
		if g.Planes[0][i] != g.Planes[1][i] || g.Planes[1][i] != g.Planes[2][i] {
			t.Fatal("grey noise differs between channels")
		}
	}
	// Poisson noise on a two-level image (0 and 64/255): two distinct values,
	// so v = 2 and the noise Poisson(x·2)/2 − x has mean 0; clipping at 1 is
	// too rare (P(k ≥ 4) < 0.2%) to bias it.
	two := constant(100, 100, 0)
	for i := 0; i < len(two.Planes[0]); i += 2 {
		for c := range two.Planes {
			two.Planes[c][i] = 64.0 / 255
		}
	}
	p := AddPoissonNoise(two, rng.New(2, "p"), 1, false)
	var mean float64
	for i, v := range p.Planes[0] {
		mean += float64(v) - float64(two.Planes[0][i])
	}
	if mean /= float64(len(p.Planes[0])); math.Abs(mean) > 0.02 {
		t.Errorf("Poisson noise mean %v", mean)
	}
}

// TestPresetsDeterministic: every preset gives byte-identical LR for the same
// (seed, stem), a different one for another seed, and the right sizes.
func TestPresetsDeterministic(t *testing.T) {
	s, err := datasets.Samples()
	if err != nil {
		t.Fatal(err)
	}
	src, _ := s[0].Image.CenterCrop(256, 256)
	for _, name := range Presets() {
		o := Options{Preset: name, Scale: 4, CropSize: 128, Crop: "random", Small: "skip", Seed: 9}
		a, err := Build(src, "x", o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := Build(src, "x", o)
		if a.LR.W != 32 || a.LR.H != 32 || a.HR.W != 128 {
			t.Fatalf("%s: HR %dx%d, LR %dx%d", name, a.HR.W, a.HR.H, a.LR.W, a.LR.H)
		}
		if !samePixels(a.LR, b.LR) || !samePixels(a.HR, b.HR) {
			t.Errorf("%s: two builds with one seed differ", name)
		}
		o.Seed = 10
		c, _ := Build(src, "x", o)
		if name != "sr4" && name != "blur2-sr4" && samePixels(a.LR, c.LR) {
			t.Errorf("%s: seeds 9 and 10 give the same LR", name)
		}
	}
	if _, err := Build(src, "x", Options{Preset: "nope", Scale: 4, CropSize: 128}); err == nil {
		t.Error("unknown preset accepted")
	}
	if _, err := Build(src, "x", Options{Preset: "sr4", Scale: 4, CropSize: 512, Small: "skip"}); err == nil {
		t.Error("a 256² image was cropped to 512² with small=skip")
	}
	p, err := Build(src, "x", Options{Preset: "sr4", Scale: 4, CropSize: 512, Small: "pad", Crop: "center"})
	if err != nil || p.HR.W != 512 {
		t.Errorf("pad: %v", err)
	}
}

func samePixels(a, b *img.Image) bool {
	ua, ub := a.U8(), b.U8()
	for c := range ua {
		if !bytes.Equal(ua[c], ub[c]) {
			return false
		}
	}
	return true
}

// TestBuildSetWorkersAndManifest builds the same set with 1 and 3 workers:
// byte-identical files and manifests; then tampering breaks verification.
func TestBuildSetWorkersAndManifest(t *testing.T) {
	in := t.TempDir()
	s, err := datasets.Samples()
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range s {
		m, _ := x.Image.CenterCrop(200, 160)
		if err := m.SavePNG(filepath.Join(in, x.Name+".png")); err != nil {
			t.Fatal(err)
		}
	}
	tiny, _ := s[0].Image.CenterCrop(64, 64)
	tiny.SavePNG(filepath.Join(in, "tiny.png"))
	os.WriteFile(filepath.Join(in, "broken.png"), []byte("\x89PNG\r\n\x1a\nxx"), 0o644)

	root := t.TempDir()
	var manifests [][]byte
	for _, w := range []int{1, 3} {
		out := filepath.Join(root, "w"+string(rune('0'+w)))
		res, err := BuildSet(context.Background(), SetOptions{
			Options: Options{Preset: "realesrgan", Scale: 4, CropSize: 128, Crop: "random", Small: "skip", Seed: 5},
			In:      in, Out: out, Workers: w, Tool: "test",
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Built != 4 || len(res.Skipped) != 2 {
			t.Fatalf("built %d, skipped %v", res.Built, res.Skipped)
		}
		data, err := os.ReadFile(filepath.Join(out, datasets.ManifestFile))
		if err != nil {
			t.Fatal(err)
		}
		manifests = append(manifests, data)
		if err := datasets.Verify(out); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(manifests[0], manifests[1]) {
		t.Error("1 and 3 workers built different sets")
	}
	out := filepath.Join(root, "w1")
	ds, err := datasets.Open(out)
	if err != nil || ds.Layout != datasets.LayoutHRLR || len(ds.Items) != 4 {
		t.Fatalf("built set opens as %+v, %v", ds, err)
	}
	if in := ds.Inspect(); in.Scale != 4 || len(in.Problems) != 0 {
		t.Errorf("inspect: %+v", in)
	}
	// Tamper with one LR image: verification names it.
	lr := filepath.Join(out, "LR", "astronaut.png")
	m, _ := img.Load(lr, img.DecodeOptions{})
	m.Planes[0][0] = 1 - m.Planes[0][0]
	m.SavePNG(lr)
	if err := datasets.Verify(out); err == nil || !bytes.Contains([]byte(err.Error()), []byte("LR/astronaut.png: changed")) {
		t.Errorf("tampered set: %v", err)
	}
	if _, err := BuildSet(context.Background(), SetOptions{Options: Options{Preset: "sr4", Scale: 4, CropSize: 128, Crop: "center", Small: "skip"}, In: in, Out: out}); err == nil {
		t.Error("built over an existing set")
	}
}

func BenchmarkRealESRGAN100(b *testing.B) {
	s, err := datasets.Samples()
	if err != nil {
		b.Fatal(err)
	}
	in := b.TempDir()
	for i := 0; i < 100; i++ {
		src := s[i%len(s)].Image
		m, _ := src.Crop((i*37)%(src.W-512+1), (i*53)%(src.H-512+1), 512, 512)
		if err := m.SavePNG(filepath.Join(in, "img"+string(rune('A'+i/26))+string(rune('a'+i%26))+".png")); err != nil {
			b.Fatal(err)
		}
	}
	root := b.TempDir()
	n := 0
	for b.Loop() {
		n++
		out := filepath.Join(root, "set"+string(rune('a'+n)))
		if _, err := BuildSet(context.Background(), SetOptions{
			Options: Options{Preset: "realesrgan", Scale: 4, CropSize: 512, Crop: "center", Small: "skip", Seed: 1},
			In:      in, Out: out,
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(100*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func TestFilterPaths(t *testing.T) {
	// PyTorch 'reflect': … 2 1 | 0 1 2 3 | 2 1 0 …
	for i, want := range map[int]int{-3: 3, -2: 2, -1: 1, 0: 0, 3: 3, 4: 2, 5: 1, 6: 0, 7: 1} {
		if got := reflect(i, 4); got != want {
			t.Errorf("reflect(%d, 4) = %d, want %d", i, got, want)
		}
	}
	m := photo(t)
	k := Gaussian(21, 2, 2, 0)
	a, err := Filter2D(m, k)
	if err != nil {
		t.Fatal(err)
	}
	b := GaussianBlur(m, 21, 2)
	for c := range a.Planes {
		for i := range a.Planes[c] {
			if math.Abs(float64(a.Planes[c][i]-b.Planes[c][i])) > 1e-6 {
				t.Fatalf("2-D and separable Gaussian differ at %d: %v vs %v", i, a.Planes[c][i], b.Planes[c][i])
			}
		}
	}
	// Trimming a padded kernel changes no output.
	s := Sinc(9, 1.7)
	p1, _ := Filter2D(m, s.PadTo(21))
	p2, _ := Filter2D(m, s.PadTo(21).Trim())
	if !samePixels(p1, p2) {
		t.Error("trimmed kernel filters differently")
	}
	// A kernel wider than the image: the reflection repeats, a constant
	// image stays constant.
	small, err := Filter2D(constant(5, 3, 0.25), k)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range small.Planes[0] {
		if math.Abs(float64(v)-0.25) > 1e-6 {
			t.Fatalf("constant 0.25 became %v", v)
		}
	}
}

func TestJPEGTablesAndUSM(t *testing.T) {
	// DiffJPEG's luminance table is the standard one transposed: entry
	// (u=0, v=1) is the standard (1, 0) = 12, and (1, 0) is 11.
	if jpegYTable[1] != 12 || jpegYTable[8] != 11 || jpegYTable[63] != 99 || jpegYTable[0] != 16 {
		t.Errorf("Y table starts %v", jpegYTable[:9])
	}
	if jpegCTable[0] != 17 || jpegCTable[3] != 47 || jpegCTable[4] != 99 || jpegCTable[27] != 99 {
		t.Errorf("C table %v", jpegCTable[:8])
	}
	// USM leaves a flat image alone and steepens an edge.
	flat := USMSharp(constant(64, 64, 0.3))
	if math.Abs(float64(flat.Planes[0][500])-0.3) > 1e-6 {
		t.Errorf("USM changed a flat image: %v", flat.Planes[0][500])
	}
	edge := constant(64, 64, 0.2)
	for c := range edge.Planes {
		for y := 0; y < 64; y++ {
			for x := 32; x < 64; x++ {
				edge.Planes[c][y*64+x] = 0.8
			}
		}
	}
	s := USMSharp(edge)
	if !(s.Planes[0][32*64+30] < 0.2 && s.Planes[0][32*64+33] > 0.8) {
		t.Errorf("USM did not steepen the edge: %v | %v", s.Planes[0][32*64+30], s.Planes[0][32*64+33])
	}
}
