package metrics_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/metrics"
)

// The LPIPS fixtures are random-weight networks (testdata/lpips/make_fixture.py):
// they test the plumbing — Go's [−1, 1] preprocessing and the ONNX graph —
// against the same PyTorch module, not LPIPS's values.
// The fixtures are tiny: the memory estimates of the full networks do not
// apply to them (MaxMemory -1).
var lpipsFixtures = metrics.Config{Models: filepath.Join("testdata", "lpips"), MaxMemory: -1}

func TestLPIPSAgainstPyTorch(t *testing.T) {
	var doc struct {
		Pairs []struct {
			Name  string
			Crop  []int
			Value float64
		}
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "lpips", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &doc)
	m, err := metrics.New("lpips", lpipsFixtures)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Pairs {
		ref := load(t, filepath.Join("testdata", p.Name+"-ref.png"))
		dist := load(t, filepath.Join("testdata", p.Name+"-dist.png"))
		if p.Crop != nil { // [y0, x0, y1, x1]
			ref, _ = ref.Crop(p.Crop[1], p.Crop[0], p.Crop[3]-p.Crop[1], p.Crop[2]-p.Crop[0])
			dist, _ = dist.Crop(p.Crop[1], p.Crop[0], p.Crop[3]-p.Crop[1], p.Crop[2]-p.Crop[0])
		}
		got, err := m.Score(dist, ref)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-p.Value) > 1e-4*math.Abs(p.Value)+1e-7 {
			t.Errorf("%s %v: Go+ONNX %.8f, PyTorch %.8f", p.Name, p.Crop, got, p.Value)
		}
	}
	if fp := m.Fingerprint(); !strings.Contains(fp, "sha256=") || strings.Contains(fp, "missing") || !strings.Contains(fp, ";ep=CPUExecutionProvider;ort=1.29.0") {
		t.Errorf("fingerprint %s", m.Fingerprint())
	}
}

func TestLPIPSMissingOrBadModel(t *testing.T) {
	ref := load(t, filepath.Join("testdata", "hubble-blur-ref.png"))
	m, err := metrics.New("lpips", metrics.Config{Models: t.TempDir()})
	if err != nil {
		t.Fatal(err) // listing metrics must work without their models
	}
	if _, err := m.Score(ref, ref); err == nil || !strings.Contains(err.Error(), "models/export") {
		t.Errorf("missing model: %v", err)
	}
	// A model whose file no longer matches its manifest.
	dir := t.TempDir()
	for _, f := range []string{"lpips-alex.onnx", "lpips-alex.json"} {
		data, _ := os.ReadFile(filepath.Join("testdata", "lpips", f))
		if f == "lpips-alex.onnx" {
			data = append(data, 0)
		}
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	m, _ = metrics.New("lpips", metrics.Config{Models: dir})
	if _, err := m.Score(ref, ref); err == nil || !strings.Contains(err.Error(), "does not match its manifest") {
		t.Errorf("tampered model: %v", err)
	}
	m, _ = metrics.New("lpips", metrics.Config{Models: filepath.Join("testdata", "lpips"), MaxPixels: 1000})
	if _, err := m.Score(ref, ref); err == nil || !strings.Contains(err.Error(), "pixel limit") {
		t.Errorf("size limit: %v", err)
	}
}
