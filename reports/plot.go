package reports

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/metrics"
)

// Axis names a metric on a plot axis and which way it improves.
type Axis struct {
	Metric    string
	Direction metrics.Direction
}

func (a Axis) label() string {
	return fmt.Sprintf("%s (%s is better %s)", a.Metric, a.Direction, a.Direction.Arrow())
}

// Series is one method's points on a scatter plot.
type Series struct {
	Name   string
	X, Y   []float64
	Labels []string // optional per-point labels
}

// Scatter draws one marker set per series, e.g. per-image PSNR against NIQE
// (a perception–distortion view). Points with a non-finite coordinate are
// left out. The file type follows the extension (.png, .svg, .pdf); the file
// is written atomically.
func Scatter(path, title string, x, y Axis, series []Series) error {
	p := newPlot(title, x, y)
	for i, s := range series {
		pts, labels := s.finite()
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color = plotutil.Color(i)
		sc.GlyphStyle.Shape = plotutil.Shape(i)
		sc.GlyphStyle.Radius = vg.Points(4)
		p.Add(sc)
		p.Legend.Add(s.Name, sc)
		if len(labels) == len(pts) {
			l, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
			if err != nil {
				return err
			}
			for k := range l.TextStyle {
				l.TextStyle[k].Color = color.Gray{Y: 90}
				l.TextStyle[k].XAlign = draw.XLeft
			}
			l.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(2)}
			p.Add(l)
		}
	}
	return savePlot(p, path)
}

// newPlot starts a plot with its title, direction-labelled axes, a grid and
// the legend at the top.
func newPlot(title string, x, y Axis) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x.label()
	p.Y.Label.Text = y.label()
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// finite returns the series' points with both coordinates finite, and their
// labels when every point has one.
func (s Series) finite() (plotter.XYs, []string) {
	var pts plotter.XYs
	var labels []string
	for k := range s.X {
		if isFinite(s.X[k]) && isFinite(s.Y[k]) {
			pts = append(pts, plotter.XY{X: s.X[k], Y: s.Y[k]})
			if k < len(s.Labels) {
				labels = append(labels, s.Labels[k])
			}
		}
	}
	return pts, labels
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Lines draws one line per series through its points in order, each point
// marked and labelled (for example by step count): the perception–distortion
// view of a multi-step method. Single-point series are drawn as markers.
func Lines(path, title string, x, y Axis, series []Series) error {
	p := newPlot(title, x, y)
	for i, s := range series {
		pts, labels := s.finite()
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		sc.Color = plotutil.Color(i)
		sc.Shape = plotutil.Shape(i)
		sc.Radius = vg.Points(3.5)
		p.Add(l, sc)
		p.Legend.Add(s.Name, l, sc)
		if len(labels) == len(pts) {
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
			if err != nil {
				return err
			}
			for k := range lb.TextStyle {
				lb.TextStyle[k].Color = color.Gray{Y: 60}
			}
			lb.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(3)}
			p.Add(lb)
		}
	}
	return savePlot(p, path)
}

func savePlot(p *plot.Plot, path string) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	wt, err := p.WriterTo(6*vg.Inch, 4.5*vg.Inch, format)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}
