package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/addsr-bench/addsr-bench/metrics"
)

// MethodInfo describes a method of an experiment.
type MethodInfo struct {
	Name   string
	Base   string
	Labels map[string]string
	Steps  []int // 0 for single-output methods
}

// Experiment is everything a report needs: the layout from the spec and the
// per-image records.
type Experiment struct {
	Name     string
	Datasets []string
	Methods  []MethodInfo
	Metrics  []MetricRow
	Records  []Record
	// MetricFingerprints spell out each metric's configuration (convention,
	// crop, weights' hash, device): check compares them before any value.
	MetricFingerprints map[string]string
	// FixtureMethods are the methods run by random-weight test fixtures.
	FixtureMethods map[string]bool
	// IncompleteRecords: a merge written with records missing.
	IncompleteRecords int
}

// Column is one table column: a method at one step count.
type Column struct {
	Method string
	Steps  int
}

// Label is "AddSR" for single-output methods and "AddSR-4" at 4 steps, as
// the paper names its columns.
func (c Column) Label() string {
	if c.Steps == 0 {
		return c.Method
	}
	return fmt.Sprintf("%s-%d", c.Method, c.Steps)
}

// Columns lists the experiment's columns in spec order.
func (e *Experiment) Columns() []Column {
	var cols []Column
	for _, m := range e.Methods {
		steps := m.Steps
		if len(steps) == 0 {
			steps = []int{0}
		}
		for _, s := range steps {
			cols = append(cols, Column{m.Name, s})
		}
	}
	return cols
}

// Aggregate is the mean of every metric per dataset and column, over the
// scored records (never an average of partial means), with counts.
type Aggregate struct {
	Mean   map[string]map[Column]map[string]float64 // dataset → column → metric
	Count  map[string]map[Column]int
	Failed map[string]map[Column]int
	// Images are the scored images each column's means are over, sorted.
	Images map[string]map[Column][]string
}

// Aggregate computes the means. Values are summed in image order, not in
// the order the records were written (which follows the workers' timing),
// so that a run, its resumed or sharded-and-merged twin and a rerun give
// the same means to the last bit.
func (e *Experiment) Aggregate() Aggregate {
	a := Aggregate{Mean: map[string]map[Column]map[string]float64{}, Count: map[string]map[Column]int{}, Failed: map[string]map[Column]int{},
		Images: map[string]map[Column][]string{}}
	sums := map[string]map[Column]map[string][2]float64{}
	recs := slices.Clone(e.Records)
	slices.SortStableFunc(recs, CompareRecords)
	for _, r := range recs {
		c := Column{r.Method, r.Steps}
		if sums[r.Dataset] == nil {
			sums[r.Dataset] = map[Column]map[string][2]float64{}
			a.Count[r.Dataset] = map[Column]int{}
			a.Failed[r.Dataset] = map[Column]int{}
		}
		if r.Skipped() {
			a.Failed[r.Dataset][c]++
			continue
		}
		a.Count[r.Dataset][c]++
		if a.Images[r.Dataset] == nil {
			a.Images[r.Dataset] = map[Column][]string{}
		}
		if imgs := a.Images[r.Dataset][c]; len(imgs) == 0 || imgs[len(imgs)-1] != r.Image { // sorted by image: duplicates are adjacent
			a.Images[r.Dataset][c] = append(imgs, r.Image)
		}
		if sums[r.Dataset][c] == nil {
			sums[r.Dataset][c] = map[string][2]float64{}
		}
		for k, v := range r.Values {
			s := sums[r.Dataset][c][k]
			sums[r.Dataset][c][k] = [2]float64{s[0] + v, s[1] + 1}
		}
	}
	for d, cols := range sums {
		a.Mean[d] = map[Column]map[string]float64{}
		for c, ms := range cols {
			a.Mean[d][c] = map[string]float64{}
			for k, s := range ms {
				a.Mean[d][c][k] = s[0] / s[1]
			}
		}
	}
	return a
}

// Tables returns one paper-style comparison per dataset.
func (e *Experiment) Tables() []Comparison {
	agg := e.Aggregate()
	cols := e.Columns()
	var out []Comparison
	for _, d := range e.Datasets {
		out = append(out, e.comparison(d, cols, agg, d))
	}
	return out
}

func (e *Experiment) comparison(dataset string, cols []Column, agg Aggregate, title string) Comparison {
	c := Comparison{Title: title, Metrics: e.Metrics}
	for _, col := range cols {
		l := col.Label()
		if e.FixtureMethods[col.Method] {
			l += FixtureLabel
		}
		c.Methods = append(c.Methods, l)
	}
	// Which images each column's means are over: columns that differ from
	// the set most columns share are shown with n and not ranked.
	sets := map[Column]string{}
	votes := map[string]int{}
	for _, col := range cols {
		sets[col] = strings.Join(agg.Images[dataset][col], "\x00")
		votes[sets[col]]++
	}
	common, most := "", 0
	for _, col := range cols { // the set most columns share; ties to the larger set
		if k := sets[col]; votes[k] > most || (votes[k] == most && len(k) > len(common)) {
			common, most = k, votes[k]
		}
	}
	if len(votes) > 1 {
		for _, col := range cols {
			c.N = append(c.N, agg.Count[dataset][col])
			c.Ranked = append(c.Ranked, sets[col] == common)
		}
	}
	for _, m := range e.Metrics {
		row := make([]float64, len(cols))
		for j, col := range cols {
			v, ok := agg.Mean[dataset][col][m.Name]
			if !ok {
				v = math.NaN()
			}
			row[j] = v
		}
		c.Values = append(c.Values, row)
	}
	return c
}

// Ablations returns, per dataset and step count: for each base shared by
// two or more methods, a table of its variants; and for each label key on
// which methods differ, a table of the labelled methods ordered by the
// label's value, the column names carrying the label ("AddSR-4 [psr=off]").
// Variants are compared at equal step counts (PSR on against off at 4
// steps), never one method's 1 step against another's 4; a step count at
// which fewer than two variants ran has no table.
func (e *Experiment) Ablations() []Comparison {
	return append(e.variantTables(), e.labelTables()...)
}

// stepGroups splits the methods' columns by step count, in ascending order
// (single-output methods' 0 first); label names each column.
func stepGroups(ms []MethodInfo, label func(MethodInfo, Column) string) (steps []int, cols map[int][]Column, labels map[int][]string) {
	cols, labels = map[int][]Column{}, map[int][]string{}
	for _, m := range ms {
		st := m.Steps
		if len(st) == 0 {
			st = []int{0}
		}
		for _, s := range st {
			if _, ok := cols[s]; !ok {
				steps = append(steps, s)
			}
			c := Column{m.Name, s}
			cols[s] = append(cols[s], c)
			labels[s] = append(labels[s], label(m, c))
		}
	}
	slices.Sort(steps)
	return steps, cols, labels
}

func atSteps(s int) string {
	switch s {
	case 0:
		return ""
	case 1:
		return " at 1 step"
	}
	return fmt.Sprintf(" at %d steps", s)
}

func (e *Experiment) variantTables() []Comparison {
	bases := map[string][]MethodInfo{}
	var order []string
	for _, m := range e.Methods {
		if m.Base == "" {
			continue
		}
		if _, ok := bases[m.Base]; !ok {
			order = append(order, m.Base)
		}
		bases[m.Base] = append(bases[m.Base], m)
	}
	agg := e.Aggregate()
	var out []Comparison
	for _, d := range e.Datasets {
		for _, b := range order {
			if len(bases[b]) < 2 {
				continue
			}
			steps, cols, _ := stepGroups(bases[b], func(MethodInfo, Column) string { return "" })
			for _, st := range steps {
				if len(cols[st]) < 2 {
					continue
				}
				out = append(out, e.comparison(d, cols[st], agg, fmt.Sprintf("%s — variants of %s%s", d, b, atSteps(st))))
			}
		}
	}
	return out
}

func (e *Experiment) labelTables() []Comparison {
	keys := map[string]map[string]bool{}
	for _, m := range e.Methods {
		for k, v := range m.Labels {
			if keys[k] == nil {
				keys[k] = map[string]bool{}
			}
			keys[k][v] = true
		}
	}
	var names []string
	for k, vals := range keys {
		if len(vals) > 1 {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	agg := e.Aggregate()
	var out []Comparison
	for _, d := range e.Datasets {
		for _, k := range names {
			var ms []MethodInfo
			for _, m := range e.Methods {
				if _, ok := m.Labels[k]; ok {
					ms = append(ms, m)
				}
			}
			sort.SliceStable(ms, func(i, j int) bool { return ms[i].Labels[k] < ms[j].Labels[k] })
			steps, cols, labels := stepGroups(ms, func(m MethodInfo, c Column) string {
				return fmt.Sprintf("%s [%s=%s]", c.Label(), k, m.Labels[k])
			})
			for _, st := range steps {
				if len(cols[st]) < 2 {
					continue
				}
				c := e.comparison(d, cols[st], agg, fmt.Sprintf("%s — ablation: %s%s", d, k, atSteps(st)))
				c.Methods = labels[st]
				out = append(out, c)
			}
		}
	}
	return out
}

// TimingRow is one method's stage times over its images, in milliseconds.
type TimingRow struct {
	Method, Stage string
	Mean, P90     float64
	N             int
	// Batch is the most images that shared an inference (0: all alone);
	// the times are then per-image shares.
	Batch int
}

// Timings returns mean and 90th percentile of each stage per method (one
// sample per image: all step outputs of one run share its timings).
func (e *Experiment) Timings() []TimingRow {
	samples := map[string]map[string][]float64{}
	seen := map[string]bool{}
	batch := map[string]int{}
	for _, r := range e.Records {
		k := r.Dataset + "\x00" + r.Image + "\x00" + r.Method
		if seen[k] || len(r.TimingsMS) == 0 {
			continue
		}
		seen[k] = true
		batch[r.Method] = max(batch[r.Method], r.Batch)
		if samples[r.Method] == nil {
			samples[r.Method] = map[string][]float64{}
		}
		for st, v := range r.TimingsMS {
			samples[r.Method][st] = append(samples[r.Method][st], v)
		}
	}
	var out []TimingRow
	for _, m := range e.Methods {
		var stages []string
		for st := range samples[m.Name] {
			if st != "total" {
				stages = append(stages, st)
			}
		}
		sort.Strings(stages)
		stages = append(stages, "total")
		for _, st := range stages {
			v := samples[m.Name][st]
			if len(v) == 0 {
				continue
			}
			out = append(out, TimingRow{m.Name, st, MeanOf(v), Quantile(v, 0.9), len(v), batch[m.Name]})
		}
	}
	return out
}

// WriteLaTeX renders the table for a paper: \textbf for the best,
// \underline for the second, $\uparrow$/$\downarrow$ on metrics.
func (c Comparison) WriteLaTeX(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%% %s\n\\begin{tabular}{l%s}\n\\toprule\nMetric", c.Title, strings.Repeat("c", len(c.Methods)))
	for _, m := range c.Methods {
		fmt.Fprintf(&b, " & %s", latexEscape(m))
	}
	b.WriteString(" \\\\\n\\midrule\n")
	for i, row := range c.Metrics {
		arrow := "$\\uparrow$"
		if row.Direction == metrics.LowerIsBetter {
			arrow = "$\\downarrow$"
		}
		fmt.Fprintf(&b, "%s %s", latexEscape(row.Label()), arrow)
		for _, s := range c.latexCells(i) {
			fmt.Fprintf(&b, " & %s", s)
		}
		b.WriteString(" \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n")
	writeLaTeXNotes(&b, c.notes())
	_, err := io.WriteString(w, b.String())
	return err
}

// latexCells formats row i with the metric's paper digits.
func (c Comparison) latexCells(i int) []string {
	digits := MetricDigits(c.Metrics[i].Name)
	format := func(v float64) string {
		switch {
		case math.IsInf(v, 1):
			return "$\\infty$"
		case math.IsInf(v, -1):
			return "$-\\infty$"
		}
		return strconv.FormatFloat(v, 'f', digits, 64)
	}
	return c.cells(i, format, "--", func(s string) string { return "\\textbf{" + s + "}" }, func(s string) string { return "\\underline{" + s + "}" })
}

// writeLaTeXNotes puts each note under a table, as a comment and as text.
func writeLaTeXNotes(b *strings.Builder, notes []string) {
	for _, note := range notes {
		b.WriteString("% " + note + "\n\\\\{\\footnotesize " + latexEscape(note) + "}\n")
	}
}

// WritePaperLaTeX writes one table in the AddSR paper's layout: method
// columns, the datasets as row groups (the dataset's name spanning its
// metric rows), ↑/↓ on each metric, best bold and second underlined within
// each dataset, each metric with its paper digits (MetricDigits). The
// tables are Tables()'s, one per dataset, with the same columns. It needs
// \usepackage{booktabs,multirow}.
func WritePaperLaTeX(w io.Writer, title string, tables []Comparison) error {
	if len(tables) == 0 {
		return nil
	}
	methods := tables[0].Methods
	var b strings.Builder
	fmt.Fprintf(&b, "%% %s: datasets as row groups; needs \\usepackage{booktabs,multirow}\n", title)
	fmt.Fprintf(&b, "\\begin{tabular}{ll%s}\n\\toprule\nDataset & Metric", strings.Repeat("c", len(methods)))
	for _, m := range methods {
		fmt.Fprintf(&b, " & %s", latexEscape(m))
	}
	b.WriteString(" \\\\\n")
	notes := map[string]bool{}
	var noteOrder []string
	for _, c := range tables {
		if !slices.Equal(c.Methods, methods) {
			return fmt.Errorf("paper table: %s has columns %v, the first dataset %v", c.Title, c.Methods, methods)
		}
		b.WriteString("\\midrule\n")
		for i, row := range c.Metrics {
			arrow := "$\\uparrow$"
			if row.Direction == metrics.LowerIsBetter {
				arrow = "$\\downarrow$"
			}
			group := ""
			if i == 0 {
				group = fmt.Sprintf("\\multirow{%d}{*}{%s}", len(c.Metrics), latexEscape(c.Title))
			}
			fmt.Fprintf(&b, "%s & %s %s", group, latexEscape(paperName(row)), arrow)
			for _, s := range c.latexCells(i) {
				fmt.Fprintf(&b, " & %s", s)
			}
			b.WriteString(" \\\\\n")
		}
		for _, n := range c.notes() {
			if !notes[n] {
				notes[n] = true
				noteOrder = append(noteOrder, n)
			}
		}
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n")
	writeLaTeXNotes(&b, noteOrder)
	_, err := io.WriteString(w, b.String())
	return err
}

// paperName spells a metric as papers do: "PSNR", "CLIPIQA", and a
// convention suffix kept ("PSNR-basicsr").
func paperName(r MetricRow) string {
	base, rest, found := strings.Cut(r.Label(), "-")
	if found {
		return strings.ToUpper(base) + "-" + rest
	}
	name, fixture, _ := strings.Cut(r.Label(), " ")
	if fixture != "" {
		return strings.ToUpper(name) + " " + fixture
	}
	return strings.ToUpper(name)
}

func latexEscape(s string) string {
	r := strings.NewReplacer(`\`, `\textbackslash{}`, "_", `\_`, "%", `\%`, "&", `\&`, "#", `\#`, "$", `\$`, "{", `\{`, "}", `\}`)
	return r.Replace(s)
}

// WriteCSV writes dataset,metric,direction,<columns…> rows.
func WriteComparisonsCSV(w io.Writer, cs []Comparison) error {
	cw := csv.NewWriter(w)
	for i, c := range cs {
		if i == 0 || strings.Join(c.Methods, ",") != strings.Join(cs[i-1].Methods, ",") {
			if err := cw.Write(append([]string{"table", "metric", "better"}, c.Methods...)); err != nil {
				return err
			}
		}
		for k, m := range c.Metrics {
			row := []string{c.Title, m.Name, m.Direction.String()}
			for _, v := range c.Values[k] {
				if math.IsNaN(v) {
					row = append(row, "")
				} else {
					row = append(row, strings.Trim(string(jsonNumber(v)), `"`))
				}
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// Summary is the JSON form of an experiment's aggregates, also the baseline
// format of `addsr-bench check`: dataset → column → metric → mean.
type Summary struct {
	Experiment string                                   `json:"experiment"`
	Directions map[string]string                        `json:"directions"`
	Means      map[string]map[string]map[string]float64 `json:"means"`
	Counts     map[string]map[string]int                `json:"counts"`
	// Images lists, per dataset and column, the images each mean is over.
	Images map[string]map[string][]string `json:"images,omitempty"`
	// MetricFingerprints: each metric's configuration (Experiment's).
	MetricFingerprints map[string]string `json:"metric_fingerprints,omitempty"`
	// FixtureMethods: methods run by random-weight test fixtures.
	FixtureMethods []string `json:"fixture_methods,omitempty"`
	// IncompleteRecords: the run is a merge that lacks this many records.
	IncompleteRecords int `json:"incomplete_records,omitempty"`
}

// Summary builds the JSON summary.
func (e *Experiment) Summary() Summary {
	agg := e.Aggregate()
	s := Summary{Experiment: e.Name, Directions: map[string]string{}, Means: map[string]map[string]map[string]float64{}, Counts: map[string]map[string]int{},
		Images: map[string]map[string][]string{}, MetricFingerprints: e.MetricFingerprints, IncompleteRecords: e.IncompleteRecords}
	for m := range e.FixtureMethods {
		s.FixtureMethods = append(s.FixtureMethods, m)
	}
	slices.Sort(s.FixtureMethods)
	for d, cols := range agg.Images {
		s.Images[d] = map[string][]string{}
		for c, imgs := range cols {
			s.Images[d][c.Label()] = imgs
		}
	}
	for _, m := range e.Metrics {
		s.Directions[m.Name] = m.Direction.String()
	}
	for d, cols := range agg.Mean {
		s.Means[d] = map[string]map[string]float64{}
		s.Counts[d] = map[string]int{}
		for c, ms := range cols {
			vals := map[string]float64{}
			for k, v := range ms {
				if !math.IsInf(v, 0) && !math.IsNaN(v) { // JSON cannot hold them; check treats absence as missing
					vals[k] = v
				}
			}
			s.Means[d][c.Label()] = vals
			s.Counts[d][c.Label()] = agg.Count[d][c]
		}
	}
	return s
}

// WriteJSON writes the summary, indented, keys sorted.
func (s Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteTerminal renders the table with tablewriter for a terminal: best
// marked with *, second with +.
func (c Comparison) WriteTerminal(w io.Writer) error {
	if c.Title != "" {
		fmt.Fprintf(w, "%s\n", c.Title)
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignRight),
	)
	t.Header(append([]any{"metric"}, toAny(c.Methods)...)...)
	for i, row := range c.Metrics {
		cells := []any{row.Label() + " " + row.Direction.Arrow()}
		for _, s := range c.cells(i, FormatValue, "–", func(s string) string { return s + " *" }, func(s string) string { return s + " +" }) {
			cells = append(cells, s)
		}
		if err := t.Append(cells...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, strings.Join(append([]string{"* best, + second"}, c.notes()...), "\n"))
	return err
}

// WriteTimingsMarkdown renders the timing table.
func WriteTimingsMarkdown(w io.Writer, rows []TimingRow) error {
	var b strings.Builder
	b.WriteString("| Method | Stage | Mean (ms) | p90 (ms) | Images |\n|---|---|---:|---:|---:|\n")
	var batched []string
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f | %d |\n", r.Method, r.Stage, r.Mean, r.P90, r.N)
		if r.Batch > 1 && r.Stage == "total" {
			batched = append(batched, fmt.Sprintf("%s (up to %d)", r.Method, r.Batch))
		}
	}
	if len(batched) > 0 {
		fmt.Fprintf(&b, "\nBatched (batch_images), times are each image's share of its batch's inferences, not its latency: %s.\n", strings.Join(batched, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
