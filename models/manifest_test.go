package models

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/datasets"
)

// TestLoadManifest: every rule of the manifest, each case naming the
// manifest file and the problem, in JSON and YAML.
func TestLoadManifest(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(model, []byte("not really a graph"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, sum, _ := datasets.HashFile(model)
	good := "name: m\nkind: sr\nscale: 4\ndtype: fp32\nsha256: " + sum + "\nlicense: x\nsource: y\n" +
		"input: {name: lr, layout: NCHW, range: [0, 1], colour: %s}\noutput: {name: sr, range: [0, 1]%s}\n"
	with := func(inColour, outColour string) string {
		out := ""
		if outColour != "" {
			out = ", colour: " + outColour
		}
		return strings.Replace(strings.Replace(good, "%s", inColour, 1), "%s", out, 1)
	}
	cases := []struct {
		name, ext, text, want string // want "": accepted
	}{
		{"good", ".yaml", with("RGB", ""), ""},
		{"bgr lower case", ".yaml", with("bgr", "BGR"), ""},
		{"colour given as RGB for the output only", ".yaml", strings.Replace(with("RGB", "RGB"), "colour: RGB}\noutput", "colour: \"\"}\noutput", 1), ""},
		{"json", ".json", `{"name":"m","kind":"sr","scale":2,"dtype":"fp16","sha256":"` + sum + `","license":"","source":"",
			"input":{"name":"a","layout":"NCHW","range":[-1,1]},"output":{"name":"b","layout":"NCHW","range":[-1,1]}}`, ""},
		{"unknown field", ".json", `{"name":"m","nmae":"x"}`, `unknown field "nmae"`},
		{"unknown yaml field", ".yaml", with("RGB", "") + "colour: RGB\n", "not found in type"},
		{"no name", ".yaml", strings.Replace(with("RGB", ""), "name: m\n", "", 1), "name is empty"},
		{"scale", ".yaml", strings.Replace(with("RGB", ""), "scale: 4", "scale: 0", 1), "scale must be ≥ 1"},
		{"dtype", ".yaml", strings.Replace(with("RGB", ""), "fp32", "int8", 1), "dtype must be fp32 or fp16"},
		{"layout", ".yaml", strings.Replace(with("RGB", ""), "NCHW", "NHWC", 1), "only NCHW"},
		{"empty range", ".yaml", strings.Replace(with("RGB", ""), "range: [0, 1], colour", "range: [1, 1], colour", 1), "not an interval"},
		{"NaN range", ".yaml", strings.Replace(with("RGB", ""), "range: [0, 1], colour", "range: [.nan, 1], colour", 1), "not an interval"},
		{"infinite range", ".yaml", strings.Replace(with("RGB", ""), "range: [0, 1]}", "range: [0, .inf]}", 1), "not an interval"},
		{"colour", ".yaml", with("GBR", ""), `colour "GBR" must be RGB or BGR`},
		{"colours differ", ".yaml", with("BGR", "RGB"), "differ"},
		{"short hash", ".yaml", strings.Replace(with("RGB", ""), sum, sum[:10], 1), "64-hex-digit"},
		{"wrong hash", ".yaml", strings.Replace(with("RGB", ""), sum, strings.Repeat("0", 64), 1), "re-export or re-import"},
	}
	for _, c := range cases {
		for _, e := range []string{".json", ".yaml"} {
			os.Remove(filepath.Join(dir, "m"+e))
		}
		mp := filepath.Join(dir, "m"+c.ext)
		if err := os.WriteFile(mp, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadManifest(model)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && err == nil:
			t.Errorf("%s: accepted", c.name)
		case c.want != "" && (!strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "m"+c.ext) && !errors.Is(err, ErrModelHash)):
			t.Errorf("%s: %v, want %q and the manifest's name", c.name, err, c.want)
		}
	}
}

// FuzzReadManifest: any manifest text, as JSON or YAML, is accepted or
// refused with an error naming the manifest, never a panic; an accepted
// one meets the rules LoadManifest promises.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"name":"m","kind":"sr","scale":4,"dtype":"fp32","sha256":"`+strings.Repeat("a", 64)+`","license":"x","source":"y",
		"input":{"name":"lr","layout":"NCHW","range":[0,1],"colour":"RGB"},"output":{"name":"sr","range":[0,1]}}`), true)
	f.Add([]byte("name: m\nkind: metric\nscale: 0\ndtype: fp16\nsha256: "+strings.Repeat("0", 64)+"\nlicense: x\nsource: y\n"+
		"input: {name: image, range: [-1, 1]}\noutput: {name: score, range: [0, 1]}\ncalibration: {a.png: 0.5}\n"), false)
	f.Add([]byte("input: {range: [.nan, .inf]}"), false)
	f.Add([]byte(`{"name": 1}`), true)
	f.Fuzz(func(t *testing.T, text []byte, asJSON bool) {
		dir := t.TempDir()
		ext := ".yaml"
		if asJSON {
			ext = ".json"
		}
		model := filepath.Join(dir, "m.onnx")
		if err := os.WriteFile(filepath.Join(dir, "m"+ext), text, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ReadManifest(model)
		if err != nil {
			if !strings.Contains(err.Error(), "m"+ext) {
				t.Errorf("error does not name the manifest: %v", err)
			}
			return
		}
		if m.Name == "" || m.Input.Name == "" || m.Output.Name == "" || len(m.SHA256) != 64 ||
			(m.DType != "fp32" && m.DType != "fp16") || (m.Kind == "sr" && m.Scale < 1) {
			t.Errorf("accepted %+v", m)
		}
		for _, r := range [][2]float64{m.Input.Range, m.Output.Range} {
			if !(r[0] < r[1]) || math.IsInf(r[0], 0) || math.IsInf(r[1], 0) {
				t.Errorf("accepted range %v", r)
			}
		}
	})
}
