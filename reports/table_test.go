package reports

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/metrics"
)

func TestComparisonMarkdown(t *testing.T) {
	c := Comparison{
		Title:   "DIV2K-val",
		Metrics: []MetricRow{{Name: "psnr", Direction: metrics.HigherIsBetter}, {Name: "niqe", Direction: metrics.LowerIsBetter}, {Name: "lpips", Direction: metrics.LowerIsBetter}},
		Methods: []string{"bicubic", "AddSR-1", "AddSR-4"},
		Values: [][]float64{
			{24.1, 23.2, 22.9},
			{7.9, 4.1, 3.6},
			{0.52, math.NaN(), 0.31},
		},
	}
	var b strings.Builder
	if err := c.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "comparison.md"))
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestScatterWritesPNGAndSVG(t *testing.T) {
	dir := t.TempDir()
	s := []Series{{Name: "a", X: []float64{1, 2, math.Inf(1)}, Y: []float64{3, 4, 5}, Labels: []string{"x", "y", "z"}}}
	for _, name := range []string{"p.png", "p.svg"} {
		path := filepath.Join(dir, name)
		if err := Scatter(path, "t", Axis{Metric: "psnr", Direction: metrics.HigherIsBetter}, Axis{Metric: "niqe", Direction: metrics.LowerIsBetter}, s); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if name == "p.png" && !strings.HasPrefix(string(data), "\x89PNG") {
			t.Error("not a PNG")
		}
		if name == "p.svg" && !strings.Contains(string(data), "niqe (lower is better ↓)") {
			t.Error("SVG lacks the axis label with its direction")
		}
	}
	if err := Scatter(filepath.Join(dir, "p.xyz"), "t", Axis{}, Axis{}, s); err == nil {
		t.Error("unknown plot format accepted")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("%d files in the folder, want 2 (no temporary files left)", len(ents))
	}
}
