// Package reports renders results: per-image score listings (table, JSONL,
// CSV, JSON), method-comparison tables in the paper's layout, and plots.
package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Formats accepted by WriteScores.
var Formats = []string{"table", "jsonl", "csv", "json"}

// WriteScores writes per-image scores of the named metrics in format.
// Skipped images appear with their error in jsonl, csv and json; the table
// lists only scored images and ends with the mean of each metric.
func WriteScores(w io.Writer, format string, recs []Record, metricNames []string) error {
	switch format {
	case "table":
		return scoresTable(w, recs, metricNames)
	case "jsonl":
		for _, r := range recs {
			if err := writeFlat(w, r, metricNames); err != nil {
				return err
			}
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		return scoresCSV(w, recs, metricNames)
	case "json":
		return scoresJSON(w, recs, metricNames)
	}
	return fmt.Errorf("unknown format %q; use one of %v", format, Formats)
}

// FormatValue prints a score with four decimals, ±Inf as "+Inf"/"-Inf".
func FormatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// jsonNumber encodes v with 12 significant digits: far beyond any metric's
// meaning, and stable across platforms whose last bits differ (FMA fusion,
// vector kernels). JSON has no infinities, so ±Inf and NaN become the strings
// "+Inf", "-Inf" and "NaN".
func jsonNumber(v float64) []byte {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return []byte(strconv.Quote(FormatValue(v)))
	}
	return strconv.AppendFloat(nil, v, 'g', 12, 64)
}

// writeFlat writes {"image": …, "<metric>": value, …} (or "error") with the
// keys in metric order.
func writeFlat(w io.Writer, r Record, metricNames []string) error {
	var b bytes.Buffer
	b.WriteString(`{"image":`)
	name, _ := json.Marshal(r.Image)
	b.Write(name)
	if r.Skipped() {
		b.WriteString(`,"error":`)
		e, _ := json.Marshal(r.Error)
		b.Write(e)
	} else {
		for _, m := range metricNames {
			v, ok := r.Values[m]
			if !ok {
				continue
			}
			k, _ := json.Marshal(m)
			b.WriteByte(',')
			b.Write(k)
			b.WriteByte(':')
			b.Write(jsonNumber(v))
		}
	}
	b.WriteByte('}')
	_, err := w.Write(b.Bytes())
	return err
}

func scoresTable(w io.Writer, recs []Record, metricNames []string) error {
	// Metric names are identifiers: no upper-casing, no "-" → " - ".
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithFooterAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignRight),
		tablewriter.WithFooterAlignmentConfig(tw.CellAlignment{Global: tw.AlignRight}),
	)
	header := append([]any{"image"}, toAny(metricNames)...)
	t.Header(header...)
	for _, r := range recs {
		if r.Skipped() {
			continue
		}
		row := []any{r.Image}
		for _, m := range metricNames {
			row = append(row, FormatValue(r.Values[m]))
		}
		if err := t.Append(row...); err != nil {
			return err
		}
	}
	scored := 0
	for _, r := range recs {
		if !r.Skipped() {
			scored++
		}
	}
	// The mean says what it is over when images were skipped, and there is
	// none (not NaN) when nothing was scored.
	label := "mean"
	if scored < len(recs) {
		label = fmt.Sprintf("mean (%d of %d scored)", scored, len(recs))
	}
	foot := []any{label}
	for _, m := range metricNames {
		v := "–"
		if scored > 0 {
			v = FormatValue(Mean(recs, m))
		}
		foot = append(foot, v)
	}
	t.Footer(foot...)
	return t.Render()
}

func scoresCSV(w io.Writer, recs []Record, metricNames []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string{"image"}, metricNames...), "error")); err != nil {
		return err
	}
	for _, r := range recs {
		row := []string{r.Image}
		for _, m := range metricNames {
			if v, ok := r.Values[m]; ok {
				row = append(row, string(bytes.Trim(jsonNumber(v), `"`)))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, r.Error)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func scoresJSON(w io.Writer, recs []Record, metricNames []string) error {
	var b bytes.Buffer
	b.WriteString("{\n  \"metrics\": ")
	mn, _ := json.Marshal(metricNames)
	b.Write(mn)
	b.WriteString(",\n  \"mean\": {")
	for i, m := range metricNames {
		if i > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(m)
		b.Write(k)
		b.WriteString(": ")
		b.Write(jsonNumber(Mean(recs, m)))
	}
	skipped := 0
	for _, r := range recs {
		if r.Skipped() {
			skipped++
		}
	}
	fmt.Fprintf(&b, "},\n  \"scored\": %d,\n  \"skipped\": %d,\n  \"images\": [", len(recs)-skipped, skipped)
	for i, r := range recs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n    ")
		if err := writeFlat(&b, r, metricNames); err != nil {
			return err
		}
	}
	b.WriteString("\n  ]\n}\n")
	_, err := w.Write(b.Bytes())
	return err
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
