package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := img.New(w, h).SavePNG(path); err != nil {
		t.Fatal(err)
	}
}

func TestOpenLayouts(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string][2]int // path → size
		config string
		layout Layout
		ids    string
		scale  int
		probs  []string
	}{
		{"hr-lr", map[string][2]int{"HR/a.png": {64, 48}, "HR/b.png": {64, 48}, "LR/a.png": {16, 12}, "LR/b.png": {16, 12}},
			"", LayoutHRLR, "a,b", 4, nil},
		{"gt-lq", map[string][2]int{"GT/0801.png": {64, 64}, "LQ/0801x4.png": {16, 16}, "LQ/0802x4.png": {16, 16}},
			"", LayoutHRLR, "0801", 4, []string{"0802x4.png: LR image without an HR partner"}},
		{"div2k", map[string][2]int{"0801.png": {64, 64}, "0801x4.png": {16, 16}, "0802.png": {64, 64}, "0802x4.png": {16, 16}},
			"", LayoutDIV2K, "0801,0802", 4, nil},
		{"realsr", map[string][2]int{"Canon_001_HR.png": {64, 64}, "Canon_001_LR4.png": {16, 16}, "Nikon_002_HR.png": {64, 32}, "Nikon_002_LR4.png": {16, 8}},
			"", LayoutRealSR, "Canon_001,Nikon_002", 4, nil},
		{"drealsr", map[string][2]int{"x/test_HR/0001_x1.png": {64, 64}, "x/test_LR/0001_x4.png": {16, 16}},
			"", LayoutDRealSR, "0001", 4, nil},
		{"drealsr-flat", map[string][2]int{"0001_x1.png": {64, 64}, "0001_x4.png": {16, 16}},
			"", LayoutDRealSR, "0001", 4, nil},
		{"lr-only", map[string][2]int{"img1.png": {32, 32}, "img2.jpg": {20, 20}},
			"", LayoutLROnly, "img1,img2", 0, nil},
		{"explicit", map[string][2]int{"big/p1-hr.png": {40, 40}, "small/p1-lr.png": {10, 10}},
			"hr: big\nlr: small\nhr_pattern: \"{id}-hr\"\nlr_pattern: \"{id}-lr\"\nscale: 4\n", LayoutConfig, "p1", 4, nil},
		{"mixed-scales", map[string][2]int{"HR/a.png": {64, 64}, "LR/a.png": {16, 16}, "HR/b.png": {64, 64}, "LR/b.png": {32, 32}},
			"", LayoutHRLR, "a,b", 0, []string{"mixed scales"}},
		{"not-integer", map[string][2]int{"HR/a.png": {64, 64}, "LR/a.png": {15, 16}},
			"", LayoutHRLR, "a", 0, []string{"not an integer fraction"}},
		{"declared-scale", map[string][2]int{"hr/a.png": {64, 64}, "lr/a.png": {32, 32}},
			"hr: hr\nlr: lr\nscale: 4\n", LayoutConfig, "a", 2, []string{"the set's scale is 4"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, s := range c.files {
				if strings.HasSuffix(p, ".jpg") {
					os.WriteFile(filepath.Join(dir, p), jpegBytes(t, s[0], s[1]), 0o644)
					continue
				}
				writePNG(t, filepath.Join(dir, p), s[0], s[1])
			}
			if c.config != "" {
				os.WriteFile(filepath.Join(dir, ConfigFile), []byte(c.config), 0o644)
			}
			root := dir
			if c.name == "drealsr" {
				root = filepath.Join(dir, "x")
			}
			ds, err := Open(root)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Layout != c.layout {
				t.Errorf("layout %s, want %s", ds.Layout, c.layout)
			}
			var ids []string
			for _, it := range ds.Items {
				ids = append(ids, it.ID)
			}
			if got := strings.Join(ids, ","); got != c.ids {
				t.Errorf("ids %s, want %s", got, c.ids)
			}
			in := ds.Inspect()
			if in.Scale != c.scale {
				t.Errorf("scale %d, want %d", in.Scale, c.scale)
			}
			all := strings.Join(in.Problems, "\n")
			for _, p := range c.probs {
				if !strings.Contains(all, p) {
					t.Errorf("problems lack %q:\n%s", p, all)
				}
			}
			if len(c.probs) == 0 && len(in.Problems) > 0 {
				t.Errorf("unexpected problems:\n%s", all)
			}
		})
	}
}

func jpegBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.png")
	writePNG(t, p, w, h)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data // PNG bytes under a .jpg name: decoders sniff the format
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []string{"lr: [", "hr: HR\n", "lr: LR\nlr_pattern: nope\n", "lr: LR\nbogus: 1\n"} {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "LR"), 0o755)
		os.WriteFile(filepath.Join(dir, ConfigFile), []byte(cfg), 0o644)
		if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), ConfigFile) {
			t.Errorf("config %q: err = %v, want one naming %s", cfg, err, ConfigFile)
		}
	}
}

func TestManifestVerify(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "HR", "a.png"), 64, 64)
	writePNG(t, filepath.Join(dir, "LR", "a.png"), 16, 16)
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManifest(ds)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir); err != nil {
		t.Fatalf("fresh manifest: %v", err)
	}
	writePNG(t, filepath.Join(dir, "HR", "b.png"), 64, 64)
	writePNG(t, filepath.Join(dir, "LR", "b.png"), 16, 16)
	os.Remove(filepath.Join(dir, "LR", "a.png"))
	err = Verify(dir)
	if err == nil {
		t.Fatal("changed set verified")
	}
	for _, want := range []string{"LR/a.png: missing", "HR/b.png: not in the manifest", "--rebuild"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
