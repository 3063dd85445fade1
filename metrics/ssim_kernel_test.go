package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

func randomPlanes(w, h int, seed uint64) ([]float64, []float64) {
	r := rand.New(rand.NewPCG(seed, 9))
	x, y := make([]float64, w*h), make([]float64, w*h)
	for i := range x {
		x[i] = math.Round(r.Float64() * 255)
		y[i] = math.Min(255, math.Max(0, math.Round(x[i]+r.NormFloat64()*20)))
	}
	return x, y
}

func needVector(t testing.TB) {
	t.Helper()
	if !hasVector {
		t.Skip("this CPU or build has no vector kernels (AVX2+FMA with cgo on amd64); the portable path is what every other test ran")
	}
}

// TestSSIMKernelsAgree: the vector SSIM equals the portable one to 1e-12
// relative, on widths and heights that exercise the 4-pixel loops, their
// scalar tails and the smallest valid size.
func TestSSIMKernelsAgree(t *testing.T) {
	needVector(t)
	for _, size := range [][2]int{{11, 11}, {12, 13}, {14, 20}, {15, 17}, {18, 11}, {64, 40}, {67, 33}, {301, 29}, {1034, 12}, {1035, 12}, {1100, 15}} {
		x, y := randomPlanes(size[0], size[1], uint64(size[0]))
		for _, clamp := range []bool{false, true} {
			a := ssimPlane(false, x, y, size[0], size[1], clamp)
			b := ssimPlane(true, x, y, size[0], size[1], clamp)
			if math.Abs(a-b) > 1e-12*math.Abs(a) {
				t.Errorf("%v clamp=%v: portable %.17g, vector %.17g", size, clamp, a, b)
			}
		}
	}
	// Anticorrelated planes make cs negative, so the clamp matters.
	x, _ := randomPlanes(40, 30, 5)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = 255 - v
	}
	for _, clamp := range []bool{false, true} {
		a, b := ssimPlane(false, x, y, 40, 30, clamp), ssimPlane(true, x, y, 40, 30, clamp)
		if math.Abs(a-b) > 1e-12*math.Abs(a) {
			t.Errorf("anticorrelated clamp=%v: portable %.17g, vector %.17g", clamp, a, b)
		}
	}
}

// colourCorpus is every 8-bit value, each value's neighbours one float32
// step either side (where rounding ×255 changes), halves, and out-of-range
// samples (negative, above 1, NaN, ±Inf), in an order that puts unlike
// values in the same vector; its length is not a multiple of 8.
func colourCorpus() *img.Image {
	var vals []float32
	for v := 0; v < 256; v++ {
		f := float32(v) / 255
		h := (float32(v) + 0.5) / 255
		vals = append(vals, f, math.Nextafter32(f, 2), math.Nextafter32(f, -1), h, math.Nextafter32(h, 2), math.Nextafter32(h, -1))
	}
	vals = append(vals, -0.5, -1e-30, 0, 1, 1.5, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 3)
	r := rand.New(rand.NewPCG(7, 7))
	n := len(vals)*3 + 5
	m := &img.Image{W: n, H: 1}
	for c := range m.Planes {
		m.Planes[c] = make([]float32, n)
		for i := range m.Planes[c] {
			m.Planes[c][i] = vals[r.IntN(len(vals))]
		}
	}
	return m
}

// TestColourVectorExact: the vector colour conversions give the portable
// ones' values bit for bit.
func TestColourVectorExact(t *testing.T) {
	needVector(t)
	m := colourCorpus()
	same := func(name string, a, b []float64) {
		t.Helper()
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				t.Fatalf("%s pixel %d (R,G,B %v %v %v): vector %v, portable %v", name, i, m.Planes[0][i], m.Planes[1][i], m.Planes[2][i], a[i], b[i])
			}
		}
	}
	for _, round := range []bool{true, false} {
		for _, scale := range []float32{1, 255} {
			same("yiqY", yiqY(m, scale, round, true), yiqY(m, scale, round, false))
		}
	}
	same("bt601Y", bt601Y(m, true), bt601Y(m, false))
	// channel255 and channelU8 have no vector form of their own: the SSIM
	// kernel converts rows itself, which TestSSIMConvertedOnTheFly checks
	// against them.
	for c := range 3 {
		u := m.U8()[c]
		got := channelU8(m, c)
		for i, v := range u {
			if got[i] != float64(v) {
				t.Fatalf("channelU8 pixel %d: %v, img.Quantize %d", i, got[i], v)
			}
		}
	}
	other := colourCorpus()
	other.Planes[0], other.Planes[1], other.Planes[2] = m.Planes[1], m.Planes[2], m.Planes[0]
	a, b := bt601SqDiffSum(m, other, true), bt601SqDiffSum(m, other, false)
	if math.Abs(a-b) > 1e-13*b {
		t.Errorf("bt601SqDiffSum: vector %.17g, portable %.17g", a, b)
	}
	for c := range 3 {
		if a, b := u8SqDiffSum(m.Planes[c], other.Planes[c], true), u8SqDiffSum(m.Planes[c], other.Planes[c], false); a != b {
			t.Errorf("u8SqDiffSum channel %d: vector %v, portable %v", c, a, b)
		}
	}
}

// TestClassicalMetricsBothPaths scores every classical metric with the
// vector kernels and with the portable loops on the same pairs.
func TestClassicalMetricsBothPaths(t *testing.T) {
	needVector(t)
	for _, size := range [][2]int{{197, 203}, {256, 192}} {
		xr, yr := randomPlanes(size[0], size[1], 11)
		ref, dist := &img.Image{W: size[0], H: size[1]}, &img.Image{W: size[0], H: size[1]}
		for c := range 3 {
			ref.Planes[c], dist.Planes[c] = make([]float32, len(xr)), make([]float32, len(xr))
			for i := range xr {
				ref.Planes[c][i] = float32(xr[(i+c*37)%len(xr)]) / 255
				dist.Planes[c][i] = float32(yr[(i+c*37)%len(yr)]) / 255
			}
		}
		for _, name := range []string{"psnr", "psnry", "psnr-basicsr", "psnr-basicsr-rgb", "ssim", "ssimc", "ssim-basicsr", "ssim-basicsr-rgb", "niqe", "niqe-basicsr"} {
			score := func(cfg Config) float64 {
				m, err := New(name, cfg)
				if err != nil {
					t.Fatal(err)
				}
				v, err := m.Score(dist, ref)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			v, p := score(Config{}), score(Config{portable: true})
			if math.Abs(v-p) > 1e-12*math.Abs(p) {
				t.Errorf("%v %s: vector %.17g, portable %.17g", size, name, v, p)
			}
		}
	}
}

// BenchmarkSSIMPlane times the kernel alone on a 512² plane: portable, then
// vector (where the CPU has it).
func BenchmarkSSIMPlane(b *testing.B) {
	x, y := randomPlanes(512, 512, 1)
	for _, c := range []struct {
		name string
		vec  bool
	}{{"portable", false}, {"vector", true}} {
		b.Run(c.name, func(b *testing.B) {
			if c.vec {
				needVector(b)
			}
			for b.Loop() {
				ssimPlane(c.vec, x, y, 512, 512, true)
			}
			b.ReportMetric(512*512*float64(b.N)/b.Elapsed().Seconds()/1e6, "MPix/s")
		})
	}
}

// TestSSIMConvertedOnTheFly: the kernel that converts each row as it reads
// it gives exactly (bit for bit) the SSIM of the planes the portable code
// converts, for every convention, on a 3-strip width whose rows end in
// scalar tails, with out-of-range samples and ones where rounding ×255
// matters; NaN and ±Inf too where the conversion quantizes them (8-bit
// values), since elsewhere they make every SSIM NaN, equal bit for bit.
func TestSSIMConvertedOnTheFly(t *testing.T) {
	needVector(t)
	corpus := colourCorpus()
	const w, h = 1100, 14
	mk := func(seed uint64, nonFinite bool) *img.Image {
		r := rand.New(rand.NewPCG(seed, 1))
		m := &img.Image{W: w, H: h}
		for c := range m.Planes {
			m.Planes[c] = make([]float32, w*h)
			for i := range m.Planes[c] {
				v := corpus.Planes[c][r.IntN(corpus.W)]
				finite := !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
				if r.IntN(3) == 0 && (finite || nonFinite) {
					m.Planes[c][i] = v
				} else {
					m.Planes[c][i] = float32(r.IntN(256)) / 255
				}
			}
		}
		return m
	}
	for _, clamp := range []bool{false, true} {
		for _, c := range []struct {
			name      string
			kind, c   int
			nonFinite bool
			conv      func(m *img.Image) []float64
		}{
			{"yiq", convYIQ255, 0, false, func(m *img.Image) []float64 { return yiqY(m, 255, true, false) }},
			{"bt601", convBT601, 0, true, func(m *img.Image) []float64 { return bt601Y(m, false) }},
			{"scaled255 G", convScaled255, 1, false, func(m *img.Image) []float64 { return channel255(m, 1) }},
			{"u8 B", convU8, 2, true, func(m *img.Image) []float64 { return channelU8(m, 2) }},
		} {
			a, b := mk(1, c.nonFinite), mk(2, c.nonFinite)
			got := ssimPlaneConv(a, b, c.c, c.kind, clamp)
			want := ssimPlane(true, c.conv(a), c.conv(b), w, h, clamp)
			if math.Float64bits(got) != math.Float64bits(want) || math.IsNaN(got) {
				t.Errorf("%s clamp=%v: on the fly %.17g, converted first %.17g", c.name, clamp, got, want)
			}
		}
	}
}
