package metrics_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/addsr-bench/addsr-bench/metrics"
)

// TestNIQEFlatRegions: JPEG q30 photos, posterized photos and constant
// blocks beside texture, where many 7×7 neighbourhoods are flat. niqe-basicsr
// is NIQE in exact arithmetic (a flat neighbourhood's coefficient is 0), and
// must equal testdata/flat/make_flat.py's independent float64 reference,
// which computes moments around each centre pixel; niqe follows pyiqa's
// float32 window (flat pixels fall just below their mean) and is checked
// against the torch port of pyiqa's conventions: within 2e-7 on five of the
// images, 2.5e-4 on the retina JPEG (19,174 flat windows), whose half-scale
// float32 resize leaves flat regions flat only up to rounding that the two
// emulations of pyiqa round differently. docs/metrics.md states this bound.
func TestNIQEFlatRegions(t *testing.T) {
	raw, err := os.ReadFile("testdata/flat/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]float64
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for name, v := range want {
		m := load(t, filepath.Join("testdata", "flat", name+".png"))
		for _, c := range []struct {
			metric string
			rel    float64
		}{{"niqe-basicsr", 1e-9}, {"niqe", 3e-4}} {
			got := score(t, c.metric, metrics.Config{}, m, nil)
			w := v[c.metric]
			if d := math.Abs(got-w) / w; d > c.rel {
				t.Errorf("%s %s = %.9f, reference %.9f (rel %.2g > %.2g)", name, c.metric, got, w, d, c.rel)
			} else {
				t.Logf("%s %s = %.9f, reference %.9f (rel %.2g)", name, c.metric, got, w, d)
			}
		}
	}
}
