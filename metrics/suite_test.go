package metrics_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/metrics"
)

// suiteCase says what the shared suite may assume of a metric. Every
// registered metric must be listed: a new metric joins the suite or the
// suite fails.
type suiteCase struct {
	symmetric bool
	// random: the test model has random weights, so "a stronger distortion
	// scores worse" cannot be asked of it.
	random bool
	// best is the score of identical images for full-reference metrics.
	best float64
}

var suite = map[string]suiteCase{
	"psnr":             {symmetric: true, best: 80}, // 10·log10(1/1e-8)
	"psnry":            {symmetric: true, best: 80},
	"psnr-basicsr":     {symmetric: true, best: math.Inf(1)},
	"psnr-basicsr-rgb": {symmetric: true, best: math.Inf(1)},
	"ssim":             {symmetric: true, best: 1},
	"ssimc":            {symmetric: true, best: 1},
	"ssim-basicsr":     {symmetric: true, best: 1},
	"ssim-basicsr-rgb": {symmetric: true, best: 1},
	"niqe":             {},
	"niqe-basicsr":     {},
	"lpips":            {symmetric: true, best: 0}, // random-weight fixtures
	"lpips-vgg":        {symmetric: true, best: 0},
	"maniqa":           {random: true},
	"maniqa-pipal":     {random: true},
	"clipiqa":          {random: true},
	"musiq":            {random: true},
}

// noisy returns m plus seeded Gaussian noise of sigma (0–255 scale), as an
// 8-bit image.
func noisy(m *img.Image, sigma float64, seed uint64) *img.Image {
	r := rand.New(rand.NewPCG(seed, 1))
	out := img.New(m.W, m.H)
	for c := range out.Planes {
		for i, v := range m.Planes[c] {
			out.Planes[c][i] = v + float32(r.NormFloat64()*sigma/255)
		}
	}
	return out.Quantized()
}

func TestSharedSuite(t *testing.T) {
	for _, n := range metrics.Names() {
		if _, ok := suite[n]; !ok {
			t.Errorf("metric %s is not in the shared suite", n)
		}
	}
	ref := load(t, filepath.Join("testdata", "hubble-blur-ref.png"))
	mild, strong := noisy(ref, 4, 1), noisy(ref, 30, 2)
	for name, sc := range suite {
		t.Run(name, func(t *testing.T) {
			cfg := lpipsFixtures
			if sc.random {
				cfg = nrFixtures
			}
			m, err := metrics.New(name, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if m.Fingerprint() == "" || m.Name() != name {
				t.Fatalf("name %q, fingerprint %q", m.Name(), m.Fingerprint())
			}
			vMild, err := m.Score(mild, ref)
			if err != nil {
				t.Fatal(err)
			}
			vStrong, err := m.Score(strong, ref)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []float64{vMild, vStrong} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("score %v is not finite", v)
				}
			}
			if !sc.random && !m.Direction().Better(vMild, vStrong) {
				t.Errorf("noise σ=4 scores %v, σ=30 scores %v: the stronger distortion is not worse (%s is better)", vMild, vStrong, m.Direction())
			}
			if m.NeedsReference() {
				same, err := m.Score(ref, ref)
				if err != nil {
					t.Fatal(err)
				}
				if !(same == sc.best || math.Abs(same-sc.best) < 1e-9) {
					t.Errorf("identical images score %v, want the best score %v", same, sc.best)
				}
				if !m.Direction().Better(same, vMild) {
					t.Errorf("identical images (%v) do not beat a mild distortion (%v)", same, vMild)
				}
				if sc.symmetric {
					back, err := m.Score(ref, mild)
					if err != nil {
						t.Fatal(err)
					}
					if math.Abs(back-vMild) > 1e-12*math.Max(1, math.Abs(vMild)) {
						t.Errorf("not symmetric: %v vs %v", vMild, back)
					}
				}
				if _, err := m.Score(mild, nil); err == nil {
					t.Error("scored without the reference it needs")
				}
				small, _ := ref.Crop(0, 0, ref.W-1, ref.H)
				if _, err := m.Score(small, ref); err == nil {
					t.Error("scored images of different sizes")
				}
			}
			// Crop border: scoring with --crop-border 4 equals scoring the
			// images cropped by hand.
			const b = 4
			mb, err := metrics.New(name, metrics.Config{CropBorder: b, Models: cfg.Models, MaxMemory: cfg.MaxMemory})
			if err != nil {
				t.Fatal(err)
			}
			if mb.Fingerprint() == m.Fingerprint() {
				t.Error("crop border does not change the fingerprint")
			}
			got, err := mb.Score(strong, ref)
			if err != nil {
				t.Fatal(err)
			}
			sc, _ := strong.CropBorder(b)
			rc, _ := ref.CropBorder(b)
			want, err := m.Score(sc, rc)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("crop border %d: %v, cropping by hand: %v", b, got, want)
			}
			if got == vStrong {
				t.Errorf("crop border %d did not change the score %v", b, got)
			}
			if bs, ok := m.(metrics.BatchScorer); ok {
				batchSuite(t, bs, ref, mild, strong)
			}
		})
	}
}

// batchSuite: ScoreBatch gives each image what Score gives it, whatever it
// shares an inference with, in order; an image that cannot be scored alone
// (the 8×8 one, for lpips and clipiqa) gets its own error in the batch and
// the others their scores.
func batchSuite(t *testing.T, m metrics.BatchScorer, ref, mild, strong *img.Image) {
	t.Helper()
	other, _ := mild.Crop(3, 5, 260, 200) // another size: its own group
	otherRef, _ := ref.Crop(3, 5, 260, 200)
	tiny, _ := mild.Crop(0, 0, 8, 8) // too small for lpips and clipiqa
	tinyRef, _ := ref.Crop(0, 0, 8, 8)
	dists := []*img.Image{mild, other, strong, tiny, mild}
	refs := []*img.Image{ref, otherRef, ref, tinyRef, ref}
	vals, errs := m.ScoreBatch(dists, refs)
	if len(vals) != len(dists) || len(errs) != len(dists) {
		t.Fatalf("%d values and %d errors for %d images", len(vals), len(errs), len(dists))
	}
	for i := range dists {
		want, wantErr := m.Score(dists[i], refs[i])
		if (wantErr == nil) != (errs[i] == nil) {
			t.Errorf("image %d: batch error %v, alone %v", i, errs[i], wantErr)
			continue
		}
		if wantErr == nil && math.Abs(vals[i]-want) > 1e-5*math.Max(1e-3, math.Abs(want)) {
			t.Errorf("image %d: %v in a batch, %v alone", i, vals[i], want)
		}
	}
}

func TestTooSmall(t *testing.T) {
	for _, size := range [][2]int{{64, 64}, {96, 96}, {191, 96}} {
		for _, n := range []string{"niqe", "niqe-basicsr"} {
			m, _ := metrics.New(n, metrics.Config{})
			if _, err := m.Score(img.New(size[0], size[1]), nil); err == nil {
				t.Errorf("%s scored a %dx%d image: one 96-pixel block cannot fit a covariance", n, size[0], size[1])
			}
		}
	}
	m, _ := metrics.New("ssim", metrics.Config{})
	if _, err := m.Score(img.New(10, 10), img.New(10, 10)); err == nil {
		t.Error("ssim scored a 10×10 image")
	}
	if _, err := metrics.New("nope", metrics.Config{}); err == nil {
		t.Error("unknown metric accepted")
	}
	if _, err := metrics.New("psnr", metrics.Config{CropBorder: -1}); err == nil {
		t.Error("negative crop border accepted")
	}
}
