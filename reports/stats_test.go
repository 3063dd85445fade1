package reports

import (
	"math"
	"strings"
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

// TestRankOnlySameImages: a column whose mean is over fewer images is
// shown with its n and not ranked, even with the best value.
func TestRankOnlySameImages(t *testing.T) {
	e := &Experiment{Name: "x", Datasets: []string{"d"}, Metrics: []MetricRow{{Name: "psnr", Direction: 1}},
		Methods: []MethodInfo{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	add := func(m, img string, v float64) {
		e.Records = append(e.Records, Record{Dataset: "d", Method: m, Image: img, Values: map[string]float64{"psnr": v}})
	}
	for _, img := range []string{"1", "2", "3"} {
		add("a", img, 20)
		add("b", img, 21)
	}
	add("c", "1", 30) // c lost images 2 and 3: its mean is over one image
	var b strings.Builder
	if err := e.Tables()[0].WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"**21.0000** (n=3)", "<u>20.0000</u> (n=3)", "| 30.0000 (n=1) |", "ranked only among"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
}
