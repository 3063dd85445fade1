package reports

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/metrics"
)

// Axis names a metric on a plot axis and which way it improves; Log draws
// it on a logarithmic scale (times that span milliseconds to minutes).
type Axis struct {
	Metric    string
	Direction metrics.Direction
	Log       bool
}

func (a Axis) label() string {
	s := fmt.Sprintf("%s (%s is better %s)", a.Metric, a.Direction, a.Direction.Arrow())
	if a.Log {
		s += ", log scale"
	}
	return s
}

// Series is one method's points on a scatter plot.
type Series struct {
	Name   string
	X, Y   []float64
	Labels []string // optional per-point labels
}

// plotSize is every plot's size: 6×4.5 inches (576×432 pixels in PNG).
const plotWidth, plotHeight = 6 * vg.Inch, 4.5 * vg.Inch

// figure is a plot whose legend sits in a column to the right of the data,
// never over a point, and whose axes are padded beyond the data so that no
// marker or label is cut at the frame.
type figure struct {
	p        *plot.Plot
	x, y     Axis
	legend   plot.Legend
	xs, ys   []float64 // every point drawn
	labelled bool      // some points carry a label to their right
}

func newFigure(title string, x, y Axis) *figure {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x.label()
	p.Y.Label.Text = y.label()
	if x.Log {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	p.Add(plotter.NewGrid())
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	return &figure{p: p, x: x, y: y, legend: l}
}

// logTicks labels a log axis at 1, 2 and 5 times each power of ten, so that
// a range within one decade (2–15 ms) still has labelled ticks; the other
// integers times a power of ten are unlabelled minor ticks.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	if !(min > 0) || !(max > min) {
		return ticks
	}
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		p := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * p
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// points returns the series' points that can be drawn (finite, and
// positive on a log axis), and their labels when every point has one.
func (f *figure) points(s Series) (plotter.XYs, []string) {
	var pts plotter.XYs
	var labels []string
	for k := range s.X {
		if isFinite(s.X[k]) && isFinite(s.Y[k]) && (!f.x.Log || s.X[k] > 0) {
			pts = append(pts, plotter.XY{X: s.X[k], Y: s.Y[k]})
			if k < len(s.Labels) {
				labels = append(labels, s.Labels[k])
			}
		}
	}
	for _, p := range pts {
		f.xs, f.ys = append(f.xs, p.X), append(f.ys, p.Y)
	}
	if len(labels) != len(pts) {
		labels = nil
	}
	return pts, labels
}

func (f *figure) addLabels(pts plotter.XYs, labels []string, grey uint8, xalign bool) error {
	if labels == nil {
		return nil
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
	if err != nil {
		return err
	}
	for k := range l.TextStyle {
		l.TextStyle[k].Color = color.Gray{Y: grey}
		if xalign {
			l.TextStyle[k].XAlign = draw.XLeft
		}
	}
	l.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(3)}
	f.p.Add(l)
	for _, s := range labels {
		f.labelled = f.labelled || s != ""
	}
	return nil
}

// frame sets each axis to the data's range and a margin: 8% of the span
// each side, 20% on the right when points are labelled (a factor of 1.4 and
// 2 on a log axis).
func (f *figure) frame() {
	if len(f.xs) == 0 {
		return
	}
	right := 0.08
	if f.labelled {
		right = 0.2
	}
	f.p.X.Min, f.p.X.Max = paddedRange(f.xs, 0.08, right, f.x.Log)
	f.p.Y.Min, f.p.Y.Max = paddedRange(f.ys, 0.08, 0.08, false)
}

// paddedRange is the range of vs widened by lo and hi of its span (on a log
// axis by factors of 1+5·lo and 1+5·hi). A single value gets a span of its
// own tenth (or 1 at zero).
func paddedRange(vs []float64, lo, hi float64, log bool) (float64, float64) {
	mn, mx := vs[0], vs[0]
	for _, v := range vs {
		mn, mx = math.Min(mn, v), math.Max(mx, v)
	}
	if log {
		return mn / (1 + 5*lo), mx * (1 + 5*hi)
	}
	span := mx - mn
	if span == 0 {
		span = math.Abs(mx) / 10
		if span == 0 {
			span = 1
		}
	}
	return mn - lo*span, mx + hi*span
}

// legendWidth is the legend column's width: its widest entry and a margin
// each side (0 without entries).
func (f *figure) legendWidth() vg.Length {
	w := f.legend.Rectangle(draw.Canvas{}).Size().X // the size needs no canvas
	if w == 0 {
		return 0
	}
	return w + 2*legendPad
}

var legendPad = vg.Points(8)

// layout splits a canvas into the plot's area, plotWidth wide, and the
// legend's column to its right.
func (f *figure) layout(dc draw.Canvas) (plotArea, legendArea draw.Canvas) {
	w := dc.Size().X - plotWidth
	return draw.Crop(dc, 0, -w, 0, 0), draw.Crop(dc, plotWidth+legendPad, -legendPad, 0, -legendPad)
}

// areas lays the canvas out (layout) and, on a log x axis, draws the axis's
// label itself: gonum/plot places a centred axis label at the mean of the
// axis's range in data units when it makes room for glyphs, which on a log
// scale is near the right end, and then shrinks the data area by half the
// label's width.
func (f *figure) areas(dc draw.Canvas) (plotArea, legendArea draw.Canvas) {
	plotArea, legendArea = f.layout(dc)
	if f.x.Log {
		plotArea = f.drawXLabel(plotArea)
	}
	return plotArea, legendArea
}

// save writes the plot, plotWidth × plotHeight, with the legend's column
// added to the right, so that however long the method names are, the data
// area keeps its size and no entry covers a point.
func (f *figure) save(path string) error {
	f.frame()
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	c, err := draw.NewFormattedCanvas(plotWidth+f.legendWidth(), plotHeight, format)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	plotArea, legendArea := f.areas(draw.New(c))
	f.p.Draw(plotArea)
	f.legend.Draw(legendArea)
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := c.WriteTo(w)
		return err
	})
}

// drawXLabel draws the x axis's label centred under the plot area and
// returns the area left above it, the label taken off the axis.
func (f *figure) drawXLabel(area draw.Canvas) draw.Canvas {
	l := f.p.X.Label
	sty := l.TextStyle
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
	descent := sty.FontExtents().Descent
	h := sty.Height(l.Text) + descent + l.Padding
	area.FillText(sty, vg.Point{X: (area.Min.X + area.Max.X) / 2, Y: area.Min.Y + descent}, l.Text)
	f.p.X.Label.Text = ""
	return draw.Crop(area, 0, 0, h, 0)
}

// Scatter draws one marker set per series, e.g. per-image quality against
// time. Points with a non-finite coordinate (or a non-positive one on a log
// axis) are left out. The file type follows the extension (.png, .svg,
// .pdf); the file is written atomically.
func Scatter(path, title string, x, y Axis, series []Series) error {
	f := newFigure(title, x, y)
	for i, s := range series {
		pts, labels := f.points(s)
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
		f.p.Add(sc)
		f.legend.Add(s.Name, sc)
		if err := f.addLabels(pts, labels, 90, true); err != nil {
			return err
		}
	}
	return f.save(path)
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Lines draws one line per series through its points in order, each point
// marked and labelled (for example by step count): the perception–distortion
// view of a multi-step method. Single-point series are drawn as markers.
func Lines(path, title string, x, y Axis, series []Series) error {
	f := newFigure(title, x, y)
	for i, s := range series {
		pts, labels := f.points(s)
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
		f.p.Add(l, sc)
		f.legend.Add(s.Name, l, sc)
		if err := f.addLabels(pts, labels, 60, false); err != nil {
			return err
		}
	}
	return f.save(path)
}
