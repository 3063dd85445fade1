package reports

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// Tile is one labelled image of a side-by-side comparison, PNG-encoded,
// with an optional caption under its label (the method's scores).
type Tile struct {
	Label, Caption string
	PNG            []byte
}

// CropSet is one test image's crops: LR, each method's output, HR.
type CropSet struct {
	Dataset, Image, Why string
	Tiles               []Tile
}

// HTMLReport is a self-contained page: every image is embedded as data.
type HTMLReport struct {
	Title     string
	Tables    []Comparison
	Ablations []Comparison
	Timings   []TimingRow
	Plots     []Tile
	Crops     []CropSet
}

type htmlCell struct {
	Text         string
	Best, Second bool
}

type htmlTable struct {
	Title   string
	Note    string // the test-fixture note, when the table has one
	Methods []string
	Rows    []struct {
		Metric string
		Cells  []htmlCell
	}
}

func toHTMLTable(c Comparison) htmlTable {
	t := htmlTable{Title: c.Title, Methods: c.Methods, Note: strings.Join(c.notes(), " ")}
	for i, m := range c.Metrics {
		best, second := c.ranks(i)
		row := struct {
			Metric string
			Cells  []htmlCell
		}{Metric: m.Label() + " " + m.Direction.Arrow()}
		for j, s := range c.cells(i, FormatValue, "–", func(s string) string { return s }, func(s string) string { return s }) {
			row.Cells = append(row.Cells, htmlCell{s, j == best, j == second})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"png": func(b []byte) template.URL {
		return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.best{font-weight:bold}.second{text-decoration:underline}
.crops{display:flex;flex-wrap:wrap;gap:8px}.crops figure{margin:0;max-width:192px}.crops img{width:192px;height:192px;image-rendering:pixelated}
figcaption{font-size:small;text-align:center}
</style></head><body>
<h1>{{.Title}}</h1>
<p>Best in <b>bold</b>, second <u>underlined</u>; ↑ higher is better, ↓ lower is better.</p>
{{range .Tables}}<h2>{{.Title}}</h2>{{template "table" .}}{{end}}
{{if .Ablations}}<h2>Ablations</h2>{{range .Ablations}}<h3>{{.Title}}</h3>{{template "table" .}}{{end}}{{end}}
{{if .Timings}}<h2>Timing</h2><table><tr><th>Method</th><th>Stage</th><th>Mean (ms)</th><th>p90 (ms)</th><th>Images</th></tr>
{{range .Timings}}<tr><td>{{.Method}}{{if gt .Batch 1}} (batched, up to {{.Batch}}: per-image shares){{end}}</td><td>{{.Stage}}</td><td>{{printf "%.2f" .Mean}}</td><td>{{printf "%.2f" .P90}}</td><td>{{.N}}</td></tr>{{end}}</table>{{end}}
{{range .Plots}}<h2>{{.Label}}</h2><img alt="{{.Label}}" src="{{png .PNG}}">{{end}}
{{if .Crops}}<h2>Side by side</h2>{{range .Crops}}<h3>{{.Dataset}} / {{.Image}}</h3><p>{{.Why}}</p>
<div class="crops">{{range .Tiles}}<figure><img alt="{{.Label}}" src="{{png .PNG}}"><figcaption>{{.Label}}{{if .Caption}}<br><small>{{.Caption}}</small>{{end}}</figcaption></figure>{{end}}</div>{{end}}{{end}}
</body></html>
{{define "table"}}<table><tr><th>Metric</th>{{range .Methods}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Metric}}</td>{{range .Cells}}<td{{if .Best}} class="best"{{else if .Second}} class="second"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table>{{if .Note}}<p><em>{{.Note}}</em></p>{{end}}{{end}}`))

// Write renders the page.
func (h HTMLReport) Write(w io.Writer) error {
	data := struct {
		Title             string
		Tables, Ablations []htmlTable
		Timings           []TimingRow
		Plots             []Tile
		Crops             []CropSet
	}{Title: h.Title, Timings: h.Timings, Plots: h.Plots, Crops: h.Crops}
	for _, t := range h.Tables {
		data.Tables = append(data.Tables, toHTMLTable(t))
	}
	for _, t := range h.Ablations {
		data.Ablations = append(data.Ablations, toHTMLTable(t))
	}
	var b bytes.Buffer
	if err := htmlPage.Execute(&b, data); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := io.Copy(w, strings.NewReader(b.String()))
	return err
}
