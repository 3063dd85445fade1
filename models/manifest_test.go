package models

import (
	"errors"
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
