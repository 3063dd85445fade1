package datasets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func touch(t *testing.T, paths ...string) {
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPairPaths(t *testing.T) {
	d := t.TempDir()
	ref, dist := filepath.Join(d, "ref"), filepath.Join(d, "dist")
	touch(t,
		filepath.Join(ref, "0801.png"), filepath.Join(ref, "0802.png"), filepath.Join(ref, "0803.png"),
		filepath.Join(dist, "0801.png"), filepath.Join(dist, "0802.jpg"), filepath.Join(dist, "0802.png"),
		filepath.Join(dist, "0804.png"), filepath.Join(dist, "notes.txt"), filepath.Join(dist, ".0801.png.tmp123"),
	)
	pairs, probs, err := PairPaths(dist, ref)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pairs {
		ids = append(ids, p.ID)
	}
	if got := strings.Join(ids, ","); got != "0801,0802" {
		t.Errorf("pairs %s, want 0801,0802", got)
	}
	var reasons []string
	for _, p := range probs {
		reasons = append(reasons, p.ID+": "+p.Reason)
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{"0802: same stem as 0802.jpg", "0804: no reference", "0803: reference has no image"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if _, _, err := PairPaths(dist, filepath.Join(ref, "0801.png")); err == nil {
		t.Error("folder paired with a file")
	}
	if _, _, err := PairPaths(filepath.Join(d, "missing"), ref); err == nil {
		t.Error("missing folder accepted")
	}
	empty := filepath.Join(d, "empty")
	os.Mkdir(empty, 0o755)
	if _, _, err := PairPaths(empty, ""); err == nil || !strings.Contains(err.Error(), "no images") {
		t.Errorf("empty folder: %v", err)
	}
}

func TestSamples(t *testing.T) {
	s, err := Samples()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 4 {
		t.Fatalf("%d samples, want 4", len(s))
	}
	for _, x := range s {
		if x.Image.W < 512 || x.Image.H < 512 {
			t.Errorf("%s is %dx%d, below the demo's 512² crop", x.Name, x.Image.W, x.Image.H)
		}
		if !strings.Contains(Attribution(), x.Name) {
			t.Errorf("%s has no attribution", x.Name)
		}
	}
}

// TestPairPathsPattern: outputs named by another framework's convention
// pair with the references through --dist-pattern; a name that does not fit
// is a problem, named.
func TestPairPathsPattern(t *testing.T) {
	d := t.TempDir()
	dist, ref := filepath.Join(d, "dist"), filepath.Join(d, "ref")
	os.MkdirAll(dist, 0o755)
	os.MkdirAll(ref, 0o755)
	for _, n := range []string{"0801_x4_SR.png", "0802_x4_SR.png", "0803.png", "_x4_SR.png"} {
		os.WriteFile(filepath.Join(dist, n), []byte("x"), 0o644)
	}
	for _, n := range []string{"0801.png", "0802.png", "0803.png"} {
		os.WriteFile(filepath.Join(ref, n), []byte("x"), 0o644)
	}
	pat, err := ParseStemPattern("{stem}_x4_SR.png")
	if err != nil || pat.String() != "{stem}_x4_SR" {
		t.Fatalf("pattern %q, %v", pat, err)
	}
	pairs, probs, err := PairPathsPattern(dist, ref, pat)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 2 || pairs[0].ID != "0801" || filepath.Base(pairs[0].Dist) != "0801_x4_SR.png" || filepath.Base(pairs[1].Ref) != "0802.png" {
		t.Errorf("pairs %+v", pairs)
	}
	var reasons []string
	for _, p := range probs {
		reasons = append(reasons, filepath.Base(p.Path)+": "+p.Reason)
	}
	want := []string{"0803.png: name does not fit --dist-pattern {stem}_x4_SR", "_x4_SR.png: name does not fit --dist-pattern {stem}_x4_SR",
		"0803.png: reference has no image with this stem in " + dist}
	if !slices.Equal(reasons, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(reasons, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []string{"out", "{stem}{stem}", "a/{stem}"} {
		if _, err := ParseStemPattern(bad); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
	if p, _ := ParseStemPattern("pre_{stem}"); func() bool { s, ok := p.Match("pre_0801"); return !ok || s != "0801" }() {
		t.Error("prefix pattern")
	}
}
