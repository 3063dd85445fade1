package bench

import (
	"math"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/datasets"
)

// FuzzParseSpec: any text is either a spec or an error naming its problems;
// never a panic. (ParseRunSpec: the names and values are checked, not the
// files, so the fuzzer explores the checks rather than the file system.)
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"name: t\ndatasets:\n  - name: set\n    path: sets/x\nmetrics: [psnr, ssim, niqe]\nmethods:\n  - name: bicubic\n    runner: bicubic\n",
		"crop_border: 4\nkeep_outputs: true\nmetric_device: cuda:1\ndatasets:\n  - {name: a, path: a}\nmetrics: [lpips]\nmethods:\n  - name: m\n    runner: onnx\n    model: m.onnx\n    tile: 64\n    overlap: 8\n    batch_images: 4\n    io_binding: true\n    ep_options: {enable_cuda_graph: \"1\"}\n",
		"datasets:\n  - name: a\n    path: a\nmetrics: [psnr]\nmethods:\n  - name: f\n    runner: folder\n    path: out/{dataset}/{steps}\n    steps: [1, 2, 4]\n    base: b\n    labels: {x: y}\n",
		"datasets: &d [x]\nmetrics: *d\nmethods: *d\n",
		"- 1\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := ParseRunSpec("fuzz.yaml", "/nonexistent", raw)
		if err == nil && (len(s.Datasets) == 0 || len(s.Metrics) == 0 || len(s.Methods) == 0) {
			t.Fatalf("accepted a spec without datasets, metrics or methods: %q", raw)
		}
		if err == nil {
			s.Hash()
		}
	})
}

// FuzzParseTolerances: --tol text is parsed or refused, never a panic, and
// what is accepted is named and a non-negative number (+Inf: ignore).
func FuzzParseTolerances(f *testing.F) {
	for _, s := range []string{"psnr=0.05,lpips=2%", "ssim=1e-3", "", "x=", "=1", "a=1,a=2", "niqe=-1%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tol, err := ParseTolerances(s)
		if err != nil {
			return
		}
		for k, v := range tol {
			if k == "" {
				t.Fatalf("%q: an empty metric name accepted", s)
			}
			if math.IsNaN(v.Value) || v.Value < 0 {
				t.Fatalf("%q: tolerance %v for %s accepted", s, v.Value, k)
			}
		}
	})
}

func TestParseTolerances(t *testing.T) {
	got, err := ParseTolerances(" PSNR = 0.05 , lpips=2%,*=1e-6")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Tolerance{"psnr": {Value: 0.05}, "lpips": {Value: 0.02, Relative: true}, "*": {Value: 1e-6}}
	for k, w := range want {
		if g := got[k]; math.Abs(g.Value-w.Value) > 1e-15 || g.Relative != w.Relative {
			t.Errorf("%s: %+v, want %+v", k, g, w)
		}
	}
	for _, bad := range []string{"=1", "psnr", "psnr=-1", "psnr=NaN", "psnr=nan%", "psnr=x"} {
		if _, err := ParseTolerances(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzReadScoreRows: any score file text is read or refused, never a
// panic; what is read has a name and a number for every row.
func FuzzReadScoreRows(f *testing.F) {
	for _, s := range []string{
		"0801_out.png\t61.5\n0802_out.png\t40\n",
		"image,musiq\n0801.png,61.5\n",
		"image,clipiqa,musiq\n0801,0.5,61\n",
		"img_name,score\n\"a,b.png\",1e3\n",
		"x\tfast\n", "", "\n\n", "a,\"b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, err := readScoreRows("fuzz.txt", text, "musiq")
		if err != nil {
			return
		}
		for name, v := range got {
			if name == "" || math.IsNaN(v) && !strings.Contains(strings.ToLower(text), "nan") {
				t.Fatalf("row %q → %v from %q", name, v, text)
			}
		}
	})
}

// FuzzStemPattern: a pattern is parsed or refused; a parsed one maps a name
// it made back to the stem.
func FuzzStemPattern(f *testing.F) {
	for _, s := range []string{"{stem}_out", "{stem}_x4_SR.png", "pre_{stem}", "{stem}", "out", "{stem}{stem}", "a/{stem}"} {
		f.Add(s, "0801")
	}
	f.Fuzz(func(t *testing.T, pattern, stem string) {
		p, err := datasets.ParseStemPattern(pattern)
		if err != nil || stem == "" || p.String() == "" {
			return
		}
		name := strings.Replace(p.String(), "{stem}", stem, 1)
		if got, ok := p.Match(name); !ok || got != stem {
			t.Fatalf("pattern %q: %q → %q, %v; want %q", p, name, got, ok, stem)
		}
	})
}
