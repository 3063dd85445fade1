package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
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

// TestKernelsAgree checks that the kernels in use (vector ones in a
// GOEXPERIMENT=simd build on AVX2 hardware) equal the portable ones, on
// widths that exercise the 4-pixel loop and its scalar tail.
func TestKernelsAgree(t *testing.T) {
	for _, size := range [][2]int{{11, 11}, {12, 13}, {14, 20}, {15, 17}, {64, 40}, {67, 33}} {
		x, y := randomPlanes(size[0], size[1], uint64(size[0]))
		for _, clamp := range []bool{false, true} {
			a := ssimPlane(scalarKernels, x, y, size[0], size[1], clamp)
			b := SSIMPlane(x, y, size[0], size[1], clamp)
			if math.Abs(a-b) > 1e-13 {
				t.Errorf("%v clamp=%v: portable %.17g, in use %.17g", size, clamp, a, b)
			}
		}
	}
}

// BenchmarkSSIMPlane times the kernel alone on a 512² plane: portable
// kernels, then those in use (go test -bench SSIMPlane; with
// GOEXPERIMENT=simd for the vector ones).
func BenchmarkSSIMPlane(b *testing.B) {
	x, y := randomPlanes(512, 512, 1)
	for _, c := range []struct {
		name string
		k    ssimKernels
	}{{"portable", scalarKernels}, {"in-use", kernels}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ssimPlane(c.k, x, y, 512, 512, true)
			}
			b.ReportMetric(512*512*float64(b.N)/b.Elapsed().Seconds()/1e6, "MPix/s")
		})
	}
}

// TestYIQVectorMatchesScalar: the vector Y conversion (GOEXPERIMENT=simd)
// rounds exactly as the scalar one, on every 8-bit RGB triple class.
func TestYIQVectorMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	n := 1<<16 + 5
	rp, gp, bp := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range rp {
		rp[i], gp[i], bp[i] = float32(r.IntN(256))/255, float32(r.IntN(256))/255, float32(r.IntN(256))/255
	}
	for _, round := range []bool{true, false} {
		want := make([]float64, n)
		yiqYScalar(rp, gp, bp, want, 255, round, 0)
		got := make([]float64, n)
		yiqYScalar(rp, gp, bp, got, 255, round, yiqYVector(rp, gp, bp, got, 255, round))
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round=%v pixel %d: %v, scalar %v", round, i, got[i], want[i])
			}
		}
	}
}
