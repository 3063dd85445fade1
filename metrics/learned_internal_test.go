package metrics

import (
	"errors"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"strings"
	"testing"
)

func TestRunErrorNamesTheWayOut(t *testing.T) {
	oom := errors.New("Failed to allocate memory for requested buffer of size 123456789")
	err := runError("clipiqa", "cuda:0 (NVIDIA)", []int64{1, 3, 8000, 8000}, oom)
	for _, want := range []string{"clipiqa: out of memory on cuda:0", "[1 3 8000 8000]", "--metric-max-pixels", "requested buffer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if !errors.Is(err, oom) {
		t.Error("the runtime's error is not wrapped")
	}
	if err := runError("musiq", "cpu", []int64{1}, errors.New("bad input")); err.Error() != "musiq: bad input" {
		t.Errorf("other errors: %q", err)
	}
}

// Same-size images share one inference per metric; another size gets its
// own — except for MANIQA, whose 20 crops are 224² whatever the image.
func TestScoreBatchStacks(t *testing.T) {
	im := func(w, h int, v float32) *img.Image {
		m := img.New(w, h)
		for c := range m.Planes {
			for i := range m.Planes[c] {
				m.Planes[c][i] = v + float32(i%7)/20
			}
		}
		return m
	}
	dists := []*img.Image{im(64, 48, 0.1), im(64, 48, 0.3), im(80, 48, 0.2), im(64, 48, 0.5)}
	for _, c := range []struct {
		name, dir string
		refs      bool
		runs      int64
	}{{"clipiqa", "nr", false, 2}, {"musiq", "nr", false, 2}, {"maniqa", "nr", false, 1}, {"lpips", "lpips", true, 2}} {
		met, err := New(c.name, Config{Models: "testdata/" + c.dir})
		if err != nil {
			t.Fatal(err)
		}
		var refs []*img.Image
		if c.refs {
			refs = []*img.Image{im(64, 48, 0.2), im(64, 48, 0.2), im(80, 48, 0.1), im(64, 48, 0.1)}
		}
		_, errs := met.(BatchScorer).ScoreBatch(dists, refs)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("%s image %d: %v", c.name, i, err)
			}
		}
		if n := met.(learnedMetric).model().runs.Load(); n != c.runs {
			t.Errorf("%s: %d inferences for 3 images of 64×48 and 1 of 80×48, want %d", c.name, n, c.runs)
		}
	}
}
