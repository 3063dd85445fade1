package reports

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/metrics"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixture is a small AddSR-like experiment: bicubic, AddSR at 1 and 4 steps
// with PSR on, and a PSR-off variant at 4 steps, on two images.
func fixture() *Experiment {
	e := &Experiment{
		Name:     "fixture",
		Datasets: []string{"DIV2K-sr4"},
		Metrics:  []MetricRow{{Name: "psnr", Direction: metrics.HigherIsBetter}, {Name: "lpips", Direction: metrics.LowerIsBetter}, {Name: "clipiqa", Direction: metrics.HigherIsBetter}},
		Methods: []MethodInfo{
			{Name: "bicubic"},
			{Name: "AddSR", Base: "AddSR", Steps: []int{1, 4}, Labels: map[string]string{"psr": "on"}},
			{Name: "AddSR-noPSR", Base: "AddSR", Steps: []int{4}, Labels: map[string]string{"psr": "off"}},
		},
	}
	add := func(img, method string, steps int, psnr, lpips, clip, ms float64) {
		e.Records = append(e.Records, Record{Dataset: "DIV2K-sr4", Image: img, Method: method, Steps: steps,
			Values: map[string]float64{"psnr": psnr, "lpips": lpips, "clipiqa": clip}, TimingsMS: map[string]float64{"unet": ms * 0.8, "vae": ms * 0.2, "total": ms}})
	}
	add("0801", "bicubic", 0, 24.0, 0.52, 0.35, 3)
	add("0802", "bicubic", 0, 26.0, 0.48, 0.37, 5)
	add("0801", "AddSR", 1, 23.1, 0.30, 0.60, 100)
	add("0802", "AddSR", 1, 23.5, 0.28, 0.62, 110)
	add("0801", "AddSR", 4, 22.4, 0.31, 0.70, 100)
	add("0802", "AddSR", 4, 22.6, 0.29, 0.72, 110)
	add("0801", "AddSR-noPSR", 4, 22.9, 0.33, 0.66, 90)
	add("0802", "AddSR-noPSR", 4, 23.0, 0.35, 0.64, 95)
	e.Records = append(e.Records, Record{Dataset: "DIV2K-sr4", Image: "0803", Method: "bicubic", Error: "unreadable"})
	return e
}

func goldenCheck(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(p, []byte(got), 0o644)
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestExperimentFormats: golden files for every table format.
func TestExperimentFormats(t *testing.T) {
	e := fixture()
	tables := append(e.Tables(), e.Ablations()...)
	var md, tex, term strings.Builder
	for _, c := range tables {
		c.WriteMarkdown(&md)
		c.WriteLaTeX(&tex)
		c.WriteTerminal(&term)
	}
	goldenCheck(t, "experiment.md", md.String())
	goldenCheck(t, "experiment.tex", tex.String())
	goldenCheck(t, "experiment.txt", term.String())
	var csv, js, tim strings.Builder
	if err := WriteComparisonsCSV(&csv, tables); err != nil {
		t.Fatal(err)
	}
	goldenCheck(t, "experiment.csv", csv.String())
	if err := e.Summary().WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	goldenCheck(t, "experiment.json", js.String())
	if err := WriteTimingsMarkdown(&tim, e.Timings()); err != nil {
		t.Fatal(err)
	}
	goldenCheck(t, "timings.md", tim.String())
}

func TestAggregatesFromRecords(t *testing.T) {
	e := fixture()
	a := e.Aggregate()
	c := Column{"AddSR", 4}
	if got := a.Mean["DIV2K-sr4"][c]["psnr"]; math.Abs(got-22.5) > 1e-12 {
		t.Errorf("AddSR-4 psnr mean %v, want 22.5", got)
	}
	if a.Failed["DIV2K-sr4"][Column{"bicubic", 0}] != 1 || a.Count["DIV2K-sr4"][Column{"bicubic", 0}] != 2 {
		t.Error("failed record counted as scored")
	}
	var total TimingRow
	for _, r := range e.Timings() {
		if r.Method == "bicubic" && r.Stage == "total" {
			total = r
		}
	}
	if math.Abs(total.P90-4.8) > 1e-12 || total.N != 2 || math.Abs(total.Mean-4) > 1e-12 || total.Batch != 0 {
		t.Errorf("bicubic total = %+v, want mean 4, p90 4.8 (linear interpolation of 3 and 5), no batch", total)
	}
	// Records of batched runs: the timing table says their times are shares.
	for i := range e.Records {
		if e.Records[i].Method == "bicubic" {
			e.Records[i].Batch = 8
		}
	}
	var tim strings.Builder
	WriteTimingsMarkdown(&tim, e.Timings())
	if !strings.Contains(tim.String(), "share of its batch's inferences, not its latency: bicubic (up to 8).") {
		t.Errorf("timing table of a batched method:\n%s", tim.String())
	}
	// Variants are compared at equal steps: AddSR-1 has no PSR-off twin, so
	// only the 4-step tables exist, each with the two 4-step columns.
	ab := e.Ablations()
	if len(ab) != 2 || ab[0].Title != "DIV2K-sr4 — variants of AddSR at 4 steps" || !slices.Equal(ab[0].Methods, []string{"AddSR-4", "AddSR-noPSR-4"}) ||
		ab[1].Title != "DIV2K-sr4 — ablation: psr at 4 steps" || !slices.Equal(ab[1].Methods, []string{"AddSR-noPSR-4 [psr=off]", "AddSR-4 [psr=on]"}) {
		for _, c := range ab {
			t.Errorf("ablation %q: %v", c.Title, c.Methods)
		}
	}
}

// TestLinesPlot checks the plot's structure: an SVG with both axis labels,
// a legend entry and a step label for each method, and a PNG of the set size.
func TestLinesPlot(t *testing.T) {
	dir := t.TempDir()
	s := []Series{
		{Name: "AddSR", X: []float64{0.30, 0.29, 0.30}, Y: []float64{0.61, 0.68, 0.71}, Labels: []string{"1", "2", "4"}},
		{Name: "bicubic", X: []float64{0.5}, Y: []float64{0.36}, Labels: []string{""}},
	}
	svg := filepath.Join(dir, "pd.svg")
	if err := Lines(svg, "pd", Axis{Metric: "lpips", Direction: metrics.LowerIsBetter}, Axis{Metric: "clipiqa", Direction: metrics.HigherIsBetter}, s); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(svg)
	for _, want := range []string{"lpips (lower is better ↓)", "clipiqa (higher is better ↑)", ">AddSR<", ">bicubic<", ">4<"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	png := filepath.Join(dir, "pd.png")
	if err := Lines(png, "pd", Axis{Metric: "lpips", Direction: metrics.LowerIsBetter}, Axis{Metric: "clipiqa", Direction: metrics.HigherIsBetter}, s); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(png)
	if !strings.HasPrefix(string(b), "\x89PNG") {
		t.Fatal("not a PNG")
	}
	// 6×4.5 inches at gonum/plot's 96 dpi for PNG, and the legend's
	// column beside it.
	w := int(b[16])<<24 | int(b[17])<<16 | int(b[18])<<8 | int(b[19])
	h := int(b[20])<<24 | int(b[21])<<16 | int(b[22])<<8 | int(b[23])
	if w <= 576 || w > 576+150 || h != 432 {
		t.Errorf("PNG is %dx%d, want 576 and a legend column wide, 432 high", w, h)
	}
}

func TestHTMLReport(t *testing.T) {
	e := fixture()
	h := HTMLReport{Title: "fixture <&>", Tables: e.Tables(), Ablations: e.Ablations(), Timings: e.Timings(),
		Crops: []CropSet{{Dataset: "d", Image: "0801", Tiles: []Tile{{Label: "LR", PNG: []byte("\x89PNG")}}}}}
	var b strings.Builder
	if err := h.Write(&b); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"fixture &lt;&amp;&gt;", `class="best">0.7100`, `class="second">`, "data:image/png;base64,iVBORw==", "<h2>Timing</h2>"} {
		if !strings.Contains(s, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// The means do not depend on the order records were written in (workers
// finish in any order): values whose float sum depends on the order give the
// same bits for every permutation.
func TestAggregateIndependentOfRecordOrder(t *testing.T) {
	vals := []float64{1e16, 1, -1e16, 3.3, 1e-3, 7e15, 0.1}
	var recs []Record
	for i, v := range vals {
		recs = append(recs, Record{Dataset: "d", Image: string(rune('a' + i)), Method: "m", Values: map[string]float64{"psnr": v}})
	}
	want := (&Experiment{Records: recs}).Aggregate().Mean["d"][Column{"m", 0}]["psnr"]
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		shuffled := slices.Clone(recs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := (&Experiment{Records: shuffled}).Aggregate().Mean["d"][Column{"m", 0}]["psnr"]; math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("mean %v for one order, %v for another", want, got)
		}
	}
}

// TestPaperLaTeX: one table, datasets as row groups, paper digits per metric
// (PSNR and MUSIQ 2, the rest 4), best and second within each dataset.
func TestPaperLaTeX(t *testing.T) {
	e := fixture()
	e.Datasets = append(e.Datasets, "RealSR")
	e.Metrics = append(e.Metrics, MetricRow{Name: "musiq", Direction: metrics.HigherIsBetter}, MetricRow{Name: "ssim-basicsr", Direction: metrics.HigherIsBetter})
	for _, r := range slices.Clone(e.Records) {
		if r.Skipped() {
			continue
		}
		r.Values = map[string]float64{"psnr": r.Values["psnr"] + 1.234567, "lpips": r.Values["lpips"] / 2, "clipiqa": 1 - r.Values["clipiqa"],
			"musiq": 50 + 10*r.Values["clipiqa"], "ssim-basicsr": 0.7 + r.Values["lpips"]/10}
		r.Dataset = "RealSR"
		e.Records = append(e.Records, r)
	}
	var tex strings.Builder
	if err := WritePaperLaTeX(&tex, "fixture", e.Tables()); err != nil {
		t.Fatal(err)
	}
	goldenCheck(t, "paper.tex", tex.String())
	for _, want := range []string{`\multirow{5}{*}{DIV2K-sr4}`, `\multirow{5}{*}{RealSR}`, `PSNR $\uparrow$ & \textbf{26.23}`, `MUSIQ $\uparrow$ & 53.60`, `SSIM-basicsr $\uparrow$ & \textbf{0.7500}`} {
		if !strings.Contains(tex.String(), want) {
			t.Errorf("paper table lacks %q", want)
		}
	}
	tables := e.Tables()
	tables[1].Methods = tables[1].Methods[1:]
	if err := WritePaperLaTeX(&tex, "fixture", tables); err == nil || !strings.Contains(err.Error(), "RealSR") {
		t.Errorf("tables with different columns: %v", err)
	}
}
