package reports

import (
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/addsr-bench/addsr-bench/metrics"
)

// TestFigureLayout: every point, including those at the data's extremes,
// lies inside the data area with room for its label, and the legend's
// column is to the right of the data area, on linear and log axes.
func TestFigureLayout(t *testing.T) {
	for _, log := range []bool{false, true} {
		f := newFigure("t", Axis{Metric: "time per image (ms)", Direction: metrics.LowerIsBetter, Log: log}, Axis{Metric: "musiq", Direction: metrics.HigherIsBetter})
		s := Series{Name: "a rather long method name [test fixture]", X: []float64{0.05, 3, 4000}, Y: []float64{20, 75, 41}, Labels: []string{"1", "2", "4"}}
		pts, labels := f.points(s)
		sc, _ := plotter.NewScatter(pts)
		f.p.Add(sc)
		f.legend.Add(s.Name, sc)
		if err := f.addLabels(pts, labels, 0, false); err != nil {
			t.Fatal(err)
		}
		f.frame()
		dc := draw.New(vgimg.New(plotWidth+f.legendWidth(), plotHeight))
		plotArea, legendArea := f.areas(dc)
		data := f.p.DataCanvas(plotArea)
		tx, ty := f.p.Transforms(&data)
		if data.Max.X > legendArea.Min.X {
			t.Errorf("log=%v: data area ends at %v, legend starts at %v", log, data.Max.X, legendArea.Min.X)
		}
		if data.Max.X < plotArea.Max.X-vg.Points(30) || data.Size().X < plotWidth*3/4 {
			t.Errorf("log=%v: the data area %v leaves the plot area %v unused", log, data.Rectangle, plotArea.Rectangle)
		}
		if w := f.legend.Rectangle(legendArea).Size().X; legendArea.Min.X+w > dc.Max.X {
			t.Errorf("log=%v: legend %v wide from %v overflows the canvas %v", log, w, legendArea.Min.X, dc.Max.X)
		}
		for _, p := range pts {
			x, y := tx(p.X), ty(p.Y)
			// A marker's radius and a one-character label fit inside.
			if x-vg.Points(4) < data.Min.X || x+vg.Points(15) > data.Max.X || y-vg.Points(4) < data.Min.Y || y+vg.Points(12) > data.Max.Y {
				t.Errorf("log=%v: point %v at (%v, %v) is at the frame of %v", log, p, x, y, data.Rectangle)
			}
		}
	}
	// A non-positive time cannot be drawn on a log axis: it is left out.
	f := newFigure("t", Axis{Metric: "time", Log: true}, Axis{Metric: "q"})
	if pts, _ := f.points(Series{X: []float64{0, -1, 2}, Y: []float64{1, 1, 1}}); len(pts) != 1 {
		t.Errorf("log axis kept %d points, want 1", len(pts))
	}
	var labels []string
	for _, tk := range (logTicks{}).Ticks(1.4, 60) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if strings.Join(labels, " ") != "2 5 10 20 50" {
		t.Errorf("log ticks on [1.4, 60]: %v", labels)
	}
	if lo, hi := paddedRange([]float64{5}, 0.1, 0.1, false); !(lo < 5 && hi > 5) {
		t.Errorf("single value range [%v, %v]", lo, hi)
	}
}
