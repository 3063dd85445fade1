package reports

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/addsr-bench/addsr-bench/metrics"
)

// MetricRow describes one row of a comparison table.
type MetricRow struct {
	Name      string
	Direction metrics.Direction
	// Fixture: scored by a random-weight test fixture, not the metric's model.
	Fixture bool
	// Imported: scores computed elsewhere and imported into the run.
	Imported bool
}

// ImportedLabel follows the name of a metric whose scores were imported.
const ImportedLabel = " [imported]"

// FixtureLabel follows the name of a metric or method that is a test
// fixture, wherever it is shown.
const FixtureLabel = " [test fixture]"

// Label is the row's name as tables show it.
func (r MetricRow) Label() string {
	switch {
	case r.Fixture:
		return r.Name + FixtureLabel
	case r.Imported:
		return r.Name + ImportedLabel
	}
	return r.Name
}

// Comparison is a paper-style table: metric rows, method columns, each cell
// the mean over a dataset.
type Comparison struct {
	Title   string
	Metrics []MetricRow
	Methods []string
	// Values[i][j] is metric i for method j; NaN when missing.
	Values [][]float64
	// N[j] is how many images column j's means are over, and Ranked[j]
	// whether they are the images most columns share: only those are
	// ranked best and second (nil: all columns, as when every count is
	// the same).
	N      []int
	Ranked []bool
}

// ranks returns, for one row, the column indices of the best and second-best
// values (−1 when absent). Ties share the rank of the first column.
func (c Comparison) ranks(i int) (best, second int) {
	best, second = -1, -1
	d := c.Metrics[i].Direction
	for j, v := range c.Values[i] {
		if math.IsNaN(v) || (c.Ranked != nil && !c.Ranked[j]) {
			continue
		}
		switch {
		case best < 0 || d.Better(v, c.Values[i][best]):
			best, second = j, best
		case second < 0 || d.Better(v, c.Values[i][second]):
			second = j
		}
	}
	return best, second
}

// WriteMarkdown renders the table with ↑/↓ on each metric, the best value in
// bold and the second best underlined, as SR papers mark them.
func (c Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	if c.Title != "" {
		fmt.Fprintf(&b, "### %s\n\n", c.Title)
	}
	b.WriteString("| Metric |")
	for _, m := range c.Methods {
		fmt.Fprintf(&b, " %s |", m)
	}
	b.WriteString("\n|---|")
	for range c.Methods {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for i, row := range c.Metrics {
		fmt.Fprintf(&b, "| %s %s |", row.Label(), row.Direction.Arrow())
		for _, s := range c.cells(i, FormatValue, "–", func(s string) string { return "**" + s + "**" }, func(s string) string { return "<u>" + s + "</u>" }) {
			fmt.Fprintf(&b, " %s |", s)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nBest in **bold**, second <u>underlined</u>; ↑ higher is better, ↓ lower is better.\n")
	for _, note := range c.notes() {
		b.WriteString("\n" + note + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cells formats row i with format: missing values as missing, the best and
// second best marked by the given functions.
func (c Comparison) cells(i int, format func(float64) string, missing string, best, second func(string) string) []string {
	b, s2 := c.ranks(i)
	out := make([]string, len(c.Values[i]))
	for j, v := range c.Values[i] {
		s := format(v)
		if math.IsNaN(v) {
			s = missing
		}
		switch j {
		case b:
			s = best(s)
		case s2:
			s = second(s)
		}
		if c.Ranked != nil && j < len(c.N) && !math.IsNaN(v) {
			s += fmt.Sprintf(" (n=%d)", c.N[j]) // counts differ: say over how many
		}
		out[j] = s
	}
	return out
}

// MetricDigits is how many decimals papers print for a metric: PSNR and
// MUSIQ 2, the rest (SSIM, LPIPS, MANIQA, CLIPIQA, NIQE) 4, as the AddSR
// paper's tables do.
func MetricDigits(metric string) int {
	base, _, _ := strings.Cut(metric, "-")
	switch base {
	case "psnr", "psnry", "musiq":
		return 2
	}
	return 4
}

// notes are the explanations a table needs under it, in every format.
func (c Comparison) notes() []string {
	var out []string
	if c.Ranked != nil {
		out = append(out, countsNote)
	}
	if c.hasFixtures() {
		out = append(out, fixtureNote)
	}
	if c.hasImports() {
		out = append(out, importedNote)
	}
	return out
}

// countsNote explains n under a table whose columns average other images.
const countsNote = "(n=K): the means are over different images (skipped or missing ones, a partial shard); best and second are ranked only among columns over the images most columns share."

// importedNote explains ImportedLabel under a table that has one.
const importedNote = "[imported]: scores computed elsewhere and added with addsr-bench import; the run's imports.json says from which file and tool."

func (c Comparison) hasImports() bool {
	return slices.ContainsFunc(c.Metrics, func(r MetricRow) bool { return r.Imported })
}

// fixtureNote explains FixtureLabel under a table that has one.
const fixtureNote = "[test fixture]: scored or produced by random-weight stand-ins that test the plumbing; not the real model, not a result."

func (c Comparison) hasFixtures() bool {
	for _, r := range c.Metrics {
		if r.Fixture {
			return true
		}
	}
	for _, m := range c.Methods {
		if strings.HasSuffix(m, FixtureLabel) {
			return true
		}
	}
	return false
}
