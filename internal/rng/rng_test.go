package rng

import (
	"math"
	"testing"
)

func TestStreamsAreIndependentAndRepeatable(t *testing.T) {
	a, b := New(1, "0801"), New(1, "0801")
	for i := 0; i < 100; i++ {
		if a.Uint64() != b.Uint64() {
			t.Fatal("same seed and stream differ")
		}
	}
	if New(1, "0801").Uint64() == New(1, "0802").Uint64() {
		t.Error("streams 0801 and 0802 start alike")
	}
	if New(1, "0801").Uint64() == New(2, "0801").Uint64() {
		t.Error("seeds 1 and 2 start alike")
	}
	// A regression pin, recorded from this code: the first values for
	// (seed 42, "x") must never change, or every synthetic test set built
	// before would change with them.
	s := New(42, "x")
	got := []uint64{s.Uint64(), s.Uint64()}
	want := []uint64{0xe4cfc85c72e29a06, 0x90c360d96d620b09}
	if got[0] != want[0] || got[1] != want[1] {
		t.Errorf("sequence changed: %#x", got)
	}
}

// Statistical checks with bounds far outside sampling error (n = 200 000).
func TestDistributions(t *testing.T) {
	s := New(7, "stats")
	const n = 200000
	var sum, sq, usum float64
	counts := make([]int, 3)
	var psum float64
	for i := 0; i < n; i++ {
		z := s.Normal()
		sum += z
		sq += z * z
		usum += s.Float64()
		counts[s.Choice([]float64{0.2, 0.7, 0.1})]++
		psum += s.Poisson(3)
	}
	if m := sum / n; math.Abs(m) > 0.015 {
		t.Errorf("normal mean %v", m)
	}
	if v := sq / n; math.Abs(v-1) > 0.02 {
		t.Errorf("normal variance %v", v)
	}
	if m := usum / n; math.Abs(m-0.5) > 0.005 {
		t.Errorf("uniform mean %v", m)
	}
	for i, p := range []float64{0.2, 0.7, 0.1} {
		if f := float64(counts[i]) / n; math.Abs(f-p) > 0.01 {
			t.Errorf("choice %d frequency %v, want %v", i, f, p)
		}
	}
	if m := psum / n; math.Abs(m-3) > 0.03 {
		t.Errorf("poisson(3) mean %v", m)
	}
	for i := 0; i < 1000; i++ {
		if v := s.IntN(7); v < 0 || v >= 7 {
			t.Fatalf("IntN(7) = %d", v)
		}
	}
}
