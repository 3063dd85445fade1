package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/addsr-bench/addsr-bench/internal/filehash"
)

// Manifest describes a model file; it sits beside the .onnx as NAME.json
// (or NAME.yaml) and is checked before the model loads.
type Manifest struct {
	Name    string `json:"name" yaml:"name"`
	Kind    string `json:"kind" yaml:"kind"` // "sr" for super-resolution models
	Scale   int    `json:"scale" yaml:"scale"`
	Input   IO     `json:"input" yaml:"input"`
	Output  IO     `json:"output" yaml:"output"`
	DType   string `json:"dtype" yaml:"dtype"` // fp32 or fp16
	SHA256  string `json:"sha256" yaml:"sha256"`
	License string `json:"license" yaml:"license"`
	Source  string `json:"source" yaml:"source"`
	// Multiple pads inputs to a multiple of this size (0 or 1: none).
	Multiple int `json:"multiple,omitempty" yaml:"multiple,omitempty"`

	// For learned metrics exported from pyiqa: the metric name, the pyiqa
	// version and checkpoint, and the scores pyiqa itself gave on the
	// calibration pairs (file name → score), which `models verify` checks.
	Metric       string             `json:"metric,omitempty" yaml:"metric,omitempty"`
	PyiqaVersion string             `json:"pyiqa_version,omitempty" yaml:"pyiqa_version,omitempty"`
	Checkpoint   string             `json:"checkpoint,omitempty" yaml:"checkpoint,omitempty"`
	Calibration  map[string]float64 `json:"calibration,omitempty" yaml:"calibration,omitempty"`

	// TestFixture marks random-weight stand-ins, also recognised by a
	// licence that says "test fixture": their scores and outputs are
	// labelled as such and never gate anything.
	TestFixture bool `json:"test_fixture,omitempty" yaml:"test_fixture,omitempty"`

	file string // where it was read from, for errors
}

// IsTestFixture says whether the model is a random-weight test fixture.
func (m *Manifest) IsTestFixture() bool {
	return m.TestFixture || strings.Contains(strings.ToLower(m.License), "test fixture")
}

// FixtureMark is what fingerprints of test fixtures contain.
const FixtureMark = ";test-fixture"

// IO describes one tensor: name, layout and value range.
type IO struct {
	Name   string     `json:"name" yaml:"name"`
	Layout string     `json:"layout" yaml:"layout"`                     // NCHW
	Range  [2]float64 `json:"range" yaml:"range"`                       // [0, 1] or [-1, 1]
	Colour string     `json:"colour,omitempty" yaml:"colour,omitempty"` // RGB or BGR
}

// ManifestPath finds the manifest of an .onnx file.
func ManifestPath(onnxPath string) (string, error) {
	base := strings.TrimSuffix(onnxPath, filepath.Ext(onnxPath))
	for _, ext := range []string{".json", ".yaml", ".yml"} {
		if _, err := os.Stat(base + ext); err == nil {
			return base + ext, nil
		}
	}
	return "", fmt.Errorf("%s has no manifest (%s.json or .yaml beside it, with name, kind, scale, input, output, dtype, sha256, license, source)", onnxPath, filepath.Base(base))
}

// LoadManifest reads and validates the manifest of onnxPath and checks the
// model file's SHA-256 against it.
func LoadManifest(onnxPath string) (*Manifest, error) {
	m, err := ReadManifest(onnxPath)
	if err != nil {
		return nil, err
	}
	_, sum, err := filehash.SHA256(onnxPath)
	if err != nil {
		return nil, err
	}
	if err := m.checkSum(onnxPath, sum); err != nil {
		return nil, err
	}
	return m, nil
}

// checkSum compares sum, the SHA-256 of the model at onnxPath, with m's.
func (m *Manifest) checkSum(onnxPath, sum string) error {
	if !strings.EqualFold(sum, m.SHA256) {
		return fmt.Errorf("%w: %s has SHA-256 %s, its manifest %s says %s; re-export or re-import the model",
			ErrModelHash, onnxPath, sum, m.file, m.SHA256)
	}
	return nil
}

// ReadManifest reads and validates the manifest of onnxPath without
// hashing the model: for OpenVerified, which hashes the bytes it loads.
func ReadManifest(onnxPath string) (*Manifest, error) {
	mp, err := ManifestPath(onnxPath)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(mp)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if strings.HasSuffix(mp, ".json") {
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&m)
	} else {
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		err = dec.Decode(&m)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mp, err)
	}
	var probs []string
	if m.Name == "" {
		probs = append(probs, "name is empty")
	}
	if m.Kind == "sr" && m.Scale < 1 {
		probs = append(probs, "scale must be ≥ 1 for an SR model")
	}
	if m.Input.Name == "" || m.Output.Name == "" {
		probs = append(probs, "input.name and output.name are required")
	}
	if m.Input.Layout != "" && m.Input.Layout != "NCHW" {
		probs = append(probs, "only NCHW layouts are supported")
	}
	if m.DType != "fp32" && m.DType != "fp16" {
		probs = append(probs, "dtype must be fp32 or fp16")
	}
	for _, r := range [][2]float64{m.Input.Range, m.Output.Range} {
		if !(r[0] < r[1]) || math.IsInf(r[0], 0) || math.IsInf(r[1], 0) { // NaN too
			probs = append(probs, fmt.Sprintf("range %v is not an interval [lo, hi] with lo < hi", r))
		}
	}
	// The runner converts colours on the way in and out alike, so the
	// output's order (when given) must be the input's.
	for _, c := range []string{m.Input.Colour, m.Output.Colour} {
		if c != "" && !strings.EqualFold(c, "RGB") && !strings.EqualFold(c, "BGR") {
			probs = append(probs, fmt.Sprintf("colour %q must be RGB or BGR", c))
		}
	}
	if m.Output.Colour != "" && !strings.EqualFold(m.Input.Colour, m.Output.Colour) && !(m.Input.Colour == "" && strings.EqualFold(m.Output.Colour, "RGB")) {
		probs = append(probs, fmt.Sprintf("input colour %q and output colour %q differ; the runner keeps one order", m.Input.Colour, m.Output.Colour))
	}
	if len(m.SHA256) != 64 {
		probs = append(probs, "sha256 must be the model file's 64-hex-digit SHA-256")
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("%s: %s", mp, strings.Join(probs, "; "))
	}
	m.file = mp
	return &m, nil
}

// ErrModelHash is wrapped when a model file does not match its manifest.
var ErrModelHash = errors.New("model file does not match its manifest")

// WriteManifest saves m as JSON beside onnxPath.
func WriteManifest(onnxPath string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(strings.TrimSuffix(onnxPath, filepath.Ext(onnxPath))+".json", append(data, '\n'), 0o644)
}

// HashManifest is a manifest that only pins a graph's SHA-256, for graphs
// listed in another manifest (an AddSR pipeline.json names six): file is
// that manifest, named in hash errors.
func HashManifest(name, sha256, file string) *Manifest {
	return &Manifest{Name: name, SHA256: sha256, file: file}
}
