package reports

import (
	"math"
	"testing"
)

// TestQuantile: numpy.percentile's values (linear) for a few cases.
func TestQuantile(t *testing.T) {
	v := []float64{7, 1, 3, 10}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.5, 5}, {0.9, 9.1}, {1, 10}, {0.25, 2.5}} {
		if got := Quantile(v, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, numpy %v", v, c.p, got, c.want)
		}
	}
	if v[0] != 7 {
		t.Error("Quantile sorted its input")
	}
	if MeanOf(v) != 5.25 || !math.IsNaN(MeanOf(nil)) || !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("MeanOf")
	}
}
