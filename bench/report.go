package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/reports"
)

// LoadExperiment reads a run folder: its spec copy, run.json and records.
func LoadExperiment(runDir string) (*reports.Experiment, *Spec, error) {
	raw, err := os.ReadFile(filepath.Join(runDir, "spec.yaml"))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w (not a run folder?)", runDir, err)
	}
	metas, err := LoadRunMeta(runDir)
	if err != nil {
		return nil, nil, err
	}
	specDir := metas[0].SpecDir
	if !filepath.IsAbs(specDir) {
		specDir = filepath.Join(runDir, specDir)
	}
	spec, err := ParseRunSpec(filepath.Join(runDir, "spec.yaml"), specDir, raw)
	if err != nil {
		return nil, nil, err
	}
	recs, err := ReadRunRecords(runDir)
	if err != nil {
		return nil, nil, err
	}
	e := &reports.Experiment{Name: spec.Name, Records: recs, MetricFingerprints: map[string]string{}, FixtureMethods: map[string]bool{}}
	for _, meta := range metas {
		e.IncompleteRecords += meta.IncompleteRecords
		for _, fp := range meta.Fingerprints {
			for m, v := range fp.Metrics {
				e.MetricFingerprints[m] = v
			}
			if strings.Contains(fp.Runner, models.FixtureMark) {
				e.FixtureMethods[fp.Method] = true
			}
		}
	}
	if e.Name == "" {
		e.Name = filepath.Base(runDir)
	}
	for _, d := range spec.Datasets {
		e.Datasets = append(e.Datasets, d.Name)
	}
	for _, m := range spec.Methods {
		e.Methods = append(e.Methods, reports.MethodInfo{Name: m.Name, Base: m.Base, Labels: m.Labels, Steps: m.Steps})
	}
	for _, m := range spec.Metrics {
		mm, err := metrics.New(m.Name, metrics.Config{})
		if err != nil {
			return nil, nil, err
		}
		e.Metrics = append(e.Metrics, reports.MetricRow{Name: m.Name, Direction: mm.Direction(),
			Fixture: strings.Contains(e.MetricFingerprints[m.Name], models.FixtureMark)})
	}
	imports, err := ReadImports(runDir)
	if err != nil {
		return nil, nil, err
	}
	applyImports(e, imports)
	return e, spec, nil
}

// ReportFiles lists what WriteReport wrote.
type ReportFiles struct {
	Dir   string
	Files []string
}

// WriteReport renders a run into outDir: tables (Markdown, LaTeX, the
// paper-style LaTeX table with datasets as row groups, CSV, JSON summary),
// timings, perception–distortion and quality-vs-time plots (PNG and SVG)
// and one self-contained HTML page. It also returns the
// per-dataset tables for the terminal.
func WriteReport(runDir, outDir string) (ReportFiles, []reports.Comparison, error) {
	return WriteReportTo(runDir, outDir, ReportOptions{})
}

// ReportOptions are report's flags.
type ReportOptions struct {
	// Overwrite lets report write into a non-empty folder it did not make
	// (PrepareOut).
	Overwrite bool
	// PD names the perception–distortion axes ("x", "y": metrics of the
	// run) over the spec's report: pd.
	PD map[string]string
}

// ParseAxesFlag reads report --pd's "x=psnr,y=musiq".
func ParseAxesFlag(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("--pd %q: want x=METRIC,y=METRIC", s)
		}
		out[k] = strings.ToLower(v)
	}
	return out, nil
}

// WriteReportTo is WriteReport with report's flags.
func WriteReportTo(runDir, outDir string, opt ReportOptions) (ReportFiles, []reports.Comparison, error) {
	e, spec, err := LoadExperiment(runDir)
	if err != nil {
		return ReportFiles{}, nil, err
	}
	fid, perc, err := plotAxes(e, spec, opt.PD)
	if err != nil {
		return ReportFiles{}, nil, err
	}
	if err := PrepareOut(outDir, "report", opt.Overwrite); err != nil {
		return ReportFiles{}, nil, err
	}
	rf := ReportFiles{Dir: outDir}
	write := func(name string, fn func(io.Writer) error) error {
		rf.Files = append(rf.Files, name)
		return atomicfile.Write(filepath.Join(outDir, name), fn)
	}
	tables, ablations, timings := e.Tables(), e.Ablations(), e.Timings()
	if err := write("tables.md", func(w io.Writer) error {
		fmt.Fprintf(w, "# %s\n\n", e.Name)
		for _, t := range append(append([]reports.Comparison{}, tables...), ablations...) {
			if err := t.WriteMarkdown(w); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		if len(timings) > 0 {
			fmt.Fprintf(w, "### Timing\n\n")
			return reports.WriteTimingsMarkdown(w, timings)
		}
		return nil
	}); err != nil {
		return rf, nil, err
	}
	if err := write("tables.tex", func(w io.Writer) error {
		for _, t := range append(append([]reports.Comparison{}, tables...), ablations...) {
			if err := t.WriteLaTeX(w); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		return nil
	}); err != nil {
		return rf, nil, err
	}
	if err := write("paper.tex", func(w io.Writer) error {
		return reports.WritePaperLaTeX(w, e.Name, tables)
	}); err != nil {
		return rf, nil, err
	}
	if err := write("tables.csv", func(w io.Writer) error {
		return reports.WriteComparisonsCSV(w, append(append([]reports.Comparison{}, tables...), ablations...))
	}); err != nil {
		return rf, nil, err
	}
	if err := write("summary.json", e.Summary().WriteJSON); err != nil {
		return rf, nil, err
	}
	if err := write("records.json", func(w io.Writer) error {
		return writeRecordsJSON(w, e.Records, runDir)
	}); err != nil {
		return rf, nil, err
	}

	html := reports.HTMLReport{Title: e.Name, Tables: tables, Ablations: ablations, Timings: timings}
	for _, d := range e.Datasets {
		if fid != nil && perc != nil {
			name := "pd-" + safeName(d)
			if err := plotPD(e, d, *fid, *perc, filepath.Join(outDir, name)); err != nil {
				return rf, nil, err
			}
			rf.Files = append(rf.Files, name+".png", name+".svg")
			png, err := os.ReadFile(filepath.Join(outDir, name+".png"))
			if err != nil {
				return rf, nil, fmt.Errorf("reading back the plot for the HTML page: %w", err)
			}
			html.Plots = append(html.Plots, reports.Tile{Label: d + ": perception–distortion across steps", PNG: png})
		}
		if q := firstNonNil(perc, fid); q != nil {
			name := "time-" + safeName(d)
			if err := plotTime(e, d, *q, filepath.Join(outDir, name)); err != nil {
				return rf, nil, err
			}
			rf.Files = append(rf.Files, name+".png", name+".svg")
			png, err := os.ReadFile(filepath.Join(outDir, name+".png"))
			if err != nil {
				return rf, nil, fmt.Errorf("reading back the plot for the HTML page: %w", err)
			}
			html.Plots = append(html.Plots, reports.Tile{Label: d + ": quality vs time per image", PNG: png})
		}
	}
	if fid != nil {
		html.Crops = crops(e, spec, runDir, *fid, 3)
	}
	if err := write("report.html", html.Write); err != nil {
		return rf, nil, err
	}
	return rf, tables, nil
}

func firstNonNil(a, b *reports.MetricRow) *reports.MetricRow {
	if a != nil {
		return a
	}
	return b
}

// plotAxes are the perception–distortion plot's axes: flags over the spec's
// report: pd over pickAxes's defaults.
func plotAxes(e *reports.Experiment, spec *Spec, flags map[string]string) (x, y *reports.MetricRow, err error) {
	x, y = pickAxes(e.Metrics)
	var names []string
	for _, m := range e.Metrics {
		names = append(names, m.Name)
	}
	row := func(name string) *reports.MetricRow {
		for i := range e.Metrics {
			if e.Metrics[i].Name == name {
				return &e.Metrics[i]
			}
		}
		return nil
	}
	for _, src := range []struct {
		axes  map[string]string
		where string
	}{{spec.Report.PD, "spec report"}, {flags, "report --pd"}} {
		ax, ay, err := ParsePDAxes(src.axes, names)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", src.where, err)
		}
		if ax != "" {
			x = row(ax)
		}
		if ay != "" {
			y = row(ay)
		}
	}
	return x, y, nil
}

// pickAxes chooses the fidelity axis (a full-reference metric, LPIPS first)
// and the perceptual axis (a no-reference one, CLIPIQA, MANIQA, MUSIQ first).
func pickAxes(ms []reports.MetricRow) (fid, perc *reports.MetricRow) {
	pick := func(pref []string, fullRef bool) *reports.MetricRow {
		for _, p := range pref {
			for i := range ms {
				if ms[i].Name == p {
					return &ms[i]
				}
			}
		}
		for i := range ms {
			m, err := metrics.New(ms[i].Name, metrics.Config{})
			if err == nil && m.NeedsReference() == fullRef {
				return &ms[i]
			}
		}
		return nil
	}
	return pick([]string{"lpips", "psnr", "psnr-basicsr", "ssim"}, true), pick([]string{"clipiqa", "maniqa", "maniqa-pipal", "musiq", "niqe"}, false)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}

// plotPD draws one line per method through its step means.
func plotPD(e *reports.Experiment, dataset string, x, y reports.MetricRow, base string) error {
	agg := e.Aggregate()
	var series []reports.Series
	for _, m := range e.Methods {
		s := reports.Series{Name: m.Name}
		steps := m.Steps
		if len(steps) == 0 {
			steps = []int{0}
		}
		for _, st := range steps {
			vals := agg.Mean[dataset][reports.Column{Method: m.Name, Steps: st}]
			if vals == nil {
				continue
			}
			s.X = append(s.X, vals[x.Name])
			s.Y = append(s.Y, vals[y.Name])
			if st > 0 {
				s.Labels = append(s.Labels, strconv.Itoa(st))
			} else {
				s.Labels = append(s.Labels, "")
			}
		}
		series = append(series, s)
	}
	for _, ext := range []string{".png", ".svg"} {
		if err := reports.Lines(base+ext, dataset+": perception–distortion (labels: steps)",
			reports.Axis{Metric: x.Name, Direction: x.Direction}, reports.Axis{Metric: y.Name, Direction: y.Direction}, series); err != nil {
			return err
		}
	}
	return nil
}

// plotTime draws quality against the method's time per image.
func plotTime(e *reports.Experiment, dataset string, q reports.MetricRow, base string) error {
	byCol := map[reports.Column]*reports.Series{}
	var order []reports.Column
	for _, r := range e.Records {
		total, timed := r.TimingsMS["total"]
		if r.Dataset != dataset || r.Skipped() || !timed {
			continue // a folder method without timings: not measured, not plotted
		}
		c := reports.Column{Method: r.Method, Steps: r.Steps}
		s, ok := byCol[c]
		if !ok {
			s = &reports.Series{Name: c.Label()}
			byCol[c] = s
			order = append(order, c)
		}
		s.X = append(s.X, total)
		s.Y = append(s.Y, r.Values[q.Name])
	}
	var series []reports.Series
	for _, c := range order {
		series = append(series, *byCol[c])
	}
	for _, ext := range []string{".png", ".svg"} {
		if err := reports.Scatter(base+ext, dataset+": quality vs time per image",
			reports.Axis{Metric: "time per image (ms)", Direction: metrics.LowerIsBetter, Log: true}, reports.Axis{Metric: q.Name, Direction: q.Direction}, series); err != nil {
			return err
		}
	}
	return nil
}

// crops picks the n images where the columns' fidelity scores spread the
// most and, in each, the window where the kept outputs differ most; it cuts
// that window from LR (enlarged), every kept output and HR, each output
// captioned with its image's scores. Outputs are only there when the spec
// set keep_outputs.
func crops(e *reports.Experiment, spec *Spec, runDir string, fid reports.MetricRow, n int) []reports.CropSet {
	type cand struct {
		dataset, id string
		spread      float64
	}
	vals := map[[2]string][]float64{}
	for _, r := range e.Records {
		if v, ok := r.Values[fid.Name]; ok && !math.IsInf(v, 0) {
			k := [2]string{r.Dataset, r.Image}
			vals[k] = append(vals[k], v)
		}
	}
	var cs []cand
	for k, v := range vals {
		lo, hi := v[0], v[0]
		for _, x := range v {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		cs = append(cs, cand{k[0], k[1], hi - lo})
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].spread != cs[j].spread {
			return cs[i].spread > cs[j].spread
		}
		return cs[i].dataset+cs[i].id < cs[j].dataset+cs[j].id
	})
	var out []reports.CropSet
	for _, c := range cs {
		if len(out) == n {
			break
		}
		set, ok := cropSet(e, spec, runDir, c.dataset, c.id)
		if ok {
			set.Why = fmt.Sprintf("%s differs by %.4f between methods on this image; the window is where the outputs differ most. Under each crop: the whole image's scores.", fid.Name, c.spread) + set.Why
			out = append(out, set)
		}
	}
	return out
}

// cropLR is the crops' size in LR pixels (×scale on the outputs).
const cropLR = 48

func cropSet(e *reports.Experiment, spec *Spec, runDir, dataset, id string) (reports.CropSet, bool) {
	set := reports.CropSet{Dataset: dataset, Image: id}
	var dpath string
	for _, d := range spec.Datasets {
		if d.Name == dataset {
			dpath = spec.Resolve(d.Path)
		}
	}
	ds, err := datasets.Open(dpath)
	if err != nil {
		return set, false
	}
	var item datasets.Item
	for _, it := range ds.Items {
		if it.ID == id {
			item = it
		}
	}
	if item.LR == "" {
		return set, false
	}
	lr, err := img.Load(item.LR, img.DecodeOptions{})
	if err != nil {
		return set, false
	}
	scale := 4
	if len(spec.Methods) > 0 && spec.Methods[0].Scale > 0 {
		scale = spec.Methods[0].Scale
	}
	// The kept outputs of the LR's size × scale, in column order.
	type output struct {
		col reports.Column
		m   *img.Image
	}
	var outs []output
	var planes []*img.Image
	for _, col := range e.Columns() {
		p := filepath.Join(runDir, "outputs", dataset, col.Method, "steps"+strconv.Itoa(col.Steps), id+".png")
		m, err := img.Load(p, img.DecodeOptions{})
		if err == nil && m.W == lr.W*scale && m.H == lr.H*scale {
			outs = append(outs, output{col, m})
			planes = append(planes, m)
		}
	}
	if len(outs) == 0 {
		return set, false
	}
	var hr *img.Image
	if item.HR != "" {
		if m, err := img.Load(item.HR, img.DecodeOptions{}); err == nil && m.W == lr.W*scale && m.H == lr.H*scale {
			hr = m
		}
	}
	if len(planes) < 2 && hr != nil {
		planes = append(planes, hr) // one method: where it is furthest from HR
	}
	w, h := min(cropLR, lr.W), min(cropLR, lr.H)
	x0, y0 := cropWindow(planes, scale, w, h)
	set.Why = fmt.Sprintf(" Window: %d×%d LR pixels at (%d, %d).", w, h, x0, y0)
	tile := func(label, caption string, m *img.Image, f int) {
		c, err := m.Crop(x0*f, y0*f, w*f, h*f)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := c.EncodePNG(&b); err != nil {
			return
		}
		set.Tiles = append(set.Tiles, reports.Tile{Label: label, Caption: caption, PNG: b.Bytes()})
	}
	tile("LR", "", lr, 1)
	for _, o := range outs {
		tile(o.col.Label(), scoreCaption(e, dataset, id, o.col), o.m, scale)
	}
	if hr != nil {
		tile("HR", "reference", hr, scale)
	}
	return set, true
}

// scoreCaption is a column's scores on one image, in the spec's metric
// order, with each metric's paper digits.
func scoreCaption(e *reports.Experiment, dataset, id string, col reports.Column) string {
	for _, r := range e.Records {
		if r.Dataset != dataset || r.Image != id || r.Method != col.Method || r.Steps != col.Steps || r.Skipped() {
			continue
		}
		var parts []string
		for _, m := range e.Metrics {
			if v, ok := r.Values[m.Name]; ok {
				parts = append(parts, m.Name+" "+strconv.FormatFloat(v, 'f', reports.MetricDigits(m.Name), 64))
			}
		}
		return strings.Join(parts, " · ")
	}
	return ""
}

// cropWindow returns the top-left corner, in LR pixels, of the w×h LR
// window whose outputs (images scale times the LR's size) differ most: the
// largest sum over the window of each pixel's spread, max − min of the
// images' luma there. A summed-area table makes every position one lookup;
// ties go to the topmost, then leftmost window.
func cropWindow(outs []*img.Image, scale, w, h int) (int, int) {
	W, H := outs[0].W, outs[0].H
	sat := make([]float64, (W+1)*(H+1)) // sat[(y)*(W+1)+x]: sum over [0,x)×[0,y)
	for y := 0; y < H; y++ {
		var row float64
		for x := 0; x < W; x++ {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, m := range outs {
				i := y*W + x
				l := 0.299*float64(m.Planes[0][i]) + 0.587*float64(m.Planes[1][i]) + 0.114*float64(m.Planes[2][i])
				lo, hi = math.Min(lo, l), math.Max(hi, l)
			}
			row += hi - lo
			sat[(y+1)*(W+1)+x+1] = sat[y*(W+1)+x+1] + row
		}
	}
	ww, wh := w*scale, h*scale
	bestX, bestY, best := 0, 0, math.Inf(-1)
	for y0 := 0; (y0+h)*scale <= H; y0++ {
		for x0 := 0; (x0+w)*scale <= W; x0++ {
			X, Y := x0*scale, y0*scale
			s := sat[(Y+wh)*(W+1)+X+ww] - sat[Y*(W+1)+X+ww] - sat[(Y+wh)*(W+1)+X] + sat[Y*(W+1)+X]
			if s > best+1e-9 {
				bestX, bestY, best = x0, y0, s
			}
		}
	}
	return bestX, bestY
}

// writeRecordsJSON writes the per-image records as one JSON document with
// the run's fingerprints spelled out.
func writeRecordsJSON(w io.Writer, recs []reports.Record, runDir string) error {
	metas, err := LoadRunMeta(runDir)
	if err != nil {
		return err
	}
	fps := map[string]Fingerprint{}
	for _, m := range metas {
		for h, f := range m.Fingerprints {
			fps[h] = f
		}
	}
	sorted := append([]reports.Record(nil), recs...)
	sort.Slice(sorted, func(i, j int) bool { return KeyOf(sorted[i]).String() < KeyOf(sorted[j]).String() })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Tool         string                 `json:"tool"`
		Fingerprints map[string]Fingerprint `json:"fingerprints"`
		Records      []reports.Record       `json:"records"`
	}{metas[0].Tool, fps, sorted})
}
