// Package addsr runs AddSR (Xie et al., 2024) from ONNX graphs: RAM tags
// and embeddings, CLIP text encoding, the VAE, and 1–4 ControlNet+UNet
// denoising steps at timesteps 999, 749, 499, 249 with progressive
// super-resolution (PSR), one run yielding the output of every step.
//
// A pipeline is a folder with pipeline.json (Manifest) beside its graphs,
// tokenizer files and RAM's tag list; models/export/addsr.py writes one
// from the official checkpoints.
package addsr

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/addsr-bench/addsr-bench/internal/filehash"
)

// ManifestName is the pipeline manifest's file name.
const ManifestName = "pipeline.json"

// Format is the manifest format this package reads.
const Format = "addsr-pipeline/1"

// Manifest is pipeline.json.
type Manifest struct {
	Format      string               `json:"format"`
	Name        string               `json:"name"`
	TestFixture bool                 `json:"test_fixture,omitempty"`
	Description string               `json:"description,omitempty"`
	Graphs      map[string]GraphSpec `json:"graphs"`
	Tokenizer   TokenizerSpec        `json:"tokenizer"`
	RAM         RAMSpec              `json:"ram"`
	Scheduler   SchedulerSpec        `json:"scheduler"`
	VAE         VAESpec              `json:"vae"`
	Defaults    Settings             `json:"defaults"`
	// Check holds each graph's inputs and the PyTorch module's outputs on
	// them (the exporter writes it): `addsr-bench models verify` runs them.
	Check *CheckSpec `json:"check,omitempty"`
	// Source says where the weights came from (the exporter's record).
	Source map[string]string `json:"source,omitempty"`

	dir, file string
}

// FileRef is a file of the pipeline, relative to its folder, with its hash.
type FileRef struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// GraphSpec is one ONNX graph. ExternalData lists the files its weights
// live in when it exceeds protobuf's 2 GB (fp32 UNets do).
type GraphSpec struct {
	File         string    `json:"file"`
	SHA256       string    `json:"sha256"`
	DType        string    `json:"dtype"`
	ExternalData []FileRef `json:"external_data,omitempty"`
	Inputs       []string  `json:"inputs"`
	Outputs      []string  `json:"outputs"`
}

// TokenizerSpec is CLIP's tokenizer in Hugging Face's files.
type TokenizerSpec struct {
	Vocab     FileRef `json:"vocab"`
	Merges    FileRef `json:"merges"`
	MaxLength int     `json:"max_length"`
	PadToken  string  `json:"pad_token"`
}

// RAMSpec is the tagger's input and its tag list: tags are the names whose
// sigmoid(logit) exceeds their threshold, joined by TagSeparator.
type RAMSpec struct {
	Tags         FileRef    `json:"tags"`
	Thresholds   FileRef    `json:"thresholds"`
	InputSize    int        `json:"input_size"`
	Mean         [3]float64 `json:"mean"`
	Std          [3]float64 `json:"std"`
	TagSeparator string     `json:"tag_separator"`
}

// SchedulerSpec is the DDPM noise schedule and AddSR's timesteps.
type SchedulerSpec struct {
	BetaSchedule      string  `json:"beta_schedule"`
	BetaStart         float64 `json:"beta_start"`
	BetaEnd           float64 `json:"beta_end"`
	NumTrainTimesteps int     `json:"num_train_timesteps"`
	Timesteps         []int   `json:"timesteps"`
	PredictionType    string  `json:"prediction_type"`
	// AlphasCumprod is ᾱ at the timesteps as the checkpoint's scheduler
	// has it in float32 (PyTorch's linspace and cumprod round differently
	// from build to build: an FMA in one, not in another). Without it ᾱ is
	// computed from the β schedule.
	AlphasCumprod map[string]float64 `json:"alphas_cumprod,omitempty"`
}

// VAESpec: latents are the VAE's times ScalingFactor, Downscale times
// smaller than the image.
type VAESpec struct {
	ScalingFactor float64 `json:"scaling_factor"`
	Downscale     int     `json:"downscale"`
}

// CheckSpec is the check tensors' file and, per graph, where each tensor
// lies in it and the tolerance |onnx − torch| ≤ atol + rtol·|torch|.
type CheckSpec struct {
	File   string                `json:"file"`
	SHA256 string                `json:"sha256"`
	Graphs map[string]GraphCheck `json:"graphs"`
}

// GraphCheck is one graph's check.
type GraphCheck struct {
	Inputs  []CheckTensor `json:"inputs"`
	Outputs []CheckTensor `json:"outputs"`
	ATol    float64       `json:"atol"`
	RTol    float64       `json:"rtol"`
}

// CheckTensor is a tensor in the check file: f16 or f32, little-endian.
type CheckTensor struct {
	Name   string  `json:"name"`
	Shape  []int64 `json:"shape"`
	DType  string  `json:"dtype"`
	Offset int64   `json:"offset"`
}

// The six graphs and the tensors the runner feeds and reads, by name.
var graphIO = map[string][2][]string{
	"text_encoder": {{"input_ids"}, {"last_hidden_state"}},
	"vae_encoder":  {{"image"}, {"mean", "logvar"}},
	"vae_decoder":  {{"latent"}, {"image"}},
	"ram":          {{"image"}, {"image_embeds", "tag_logits"}},
	"controlnet":   {{"sample", "timestep", "encoder_hidden_states", "controlnet_cond", "image_encoder_hidden_states"}, append(downNames(), "mid")},
	"unet":         {append([]string{"sample", "timestep", "encoder_hidden_states", "image_encoder_hidden_states"}, append(downNames(), "mid")...), {"noise_pred"}},
}

// GraphNames lists the graphs a pipeline has, in the order they run.
var GraphNames = []string{"ram", "text_encoder", "vae_encoder", "controlnet", "unet", "vae_decoder"}

func downNames() []string {
	var n []string
	for i := range 12 {
		n = append(n, "down_"+strconv.Itoa(i))
	}
	return n
}

// ReadManifest reads dir/pipeline.json and checks it: every graph with the
// runner's I/O names, every file present, the small files' hashes (the
// graphs' are checked as they load), the scheduler one this package runs.
// Problems are reported together, naming the manifest.
func ReadManifest(dir string) (*Manifest, error) {
	file := filepath.Join(dir, ManifestName)
	raw, err := os.ReadFile(file)
	if err != nil {
		if st, e := os.Stat(dir); e == nil && !st.IsDir() {
			return nil, fmt.Errorf("%s is a file; an AddSR model is a folder with %s (models/export/addsr.py writes one)", dir, ManifestName)
		}
		return nil, fmt.Errorf("%w (an AddSR model is a folder with %s; models/export/addsr.py writes one)", err, ManifestName)
	}
	m := &Manifest{dir: dir, file: file}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{file}, a...)...))
	}
	if m.Format != Format {
		bad("format %q, this build reads %q", m.Format, Format)
	}
	for _, name := range GraphNames {
		g, ok := m.Graphs[name]
		if !ok {
			bad("graph %q is missing", name)
			continue
		}
		want := graphIO[name]
		if !slices.Equal(g.Inputs, want[0]) || !slices.Equal(g.Outputs, want[1]) {
			bad("graph %q has inputs %v and outputs %v; the runner needs %v → %v", name, g.Inputs, g.Outputs, want[0], want[1])
		}
		if g.DType != "fp32" && g.DType != "fp16" {
			bad("graph %q: dtype %q (fp32 or fp16)", name, g.DType)
		}
		if err := m.present(g.File, g.SHA256, false); err != nil {
			bad("graph %q: %v", name, err)
		}
		for _, x := range g.ExternalData {
			if err := m.present(x.File, x.SHA256, false); err != nil {
				bad("graph %q: external data: %v", name, err)
			}
		}
	}
	for name := range m.Graphs {
		if _, ok := graphIO[name]; !ok {
			bad("unknown graph %q (known: %s)", name, strings.Join(GraphNames, ", "))
		}
	}
	for _, f := range []FileRef{m.Tokenizer.Vocab, m.Tokenizer.Merges, m.RAM.Tags, m.RAM.Thresholds} {
		if err := m.present(f.File, f.SHA256, true); err != nil {
			bad("%v", err)
		}
	}
	s := m.Scheduler
	if s.BetaSchedule != "scaled_linear" || s.PredictionType != "epsilon" || s.NumTrainTimesteps < 2 {
		bad("scheduler: %s betas with %s prediction over %d steps; the runner does scaled_linear, epsilon, ≥ 2 steps", s.BetaSchedule, s.PredictionType, s.NumTrainTimesteps)
	}
	if len(s.Timesteps) == 0 {
		bad("scheduler: no timesteps")
	}
	for i, t := range s.Timesteps {
		if t < 0 || t >= s.NumTrainTimesteps || (i > 0 && t >= s.Timesteps[i-1]) {
			bad("scheduler: timesteps %v must fall in [0, %d) and decrease", s.Timesteps, s.NumTrainTimesteps)
			break
		}
	}
	if len(s.Timesteps) > 0 && s.NumTrainTimesteps >= 2 {
		if _, err := alphasCumprod(s); err != nil {
			bad("scheduler: %v", err)
		}
	}
	if m.VAE.ScalingFactor <= 0 || m.VAE.Downscale < 1 {
		bad("vae: scaling_factor %v and downscale %d must be positive", m.VAE.ScalingFactor, m.VAE.Downscale)
	}
	if m.RAM.InputSize < 1 || m.RAM.Std[0] == 0 || m.RAM.Std[1] == 0 || m.RAM.Std[2] == 0 {
		bad("ram: input_size %d and std %v must be positive", m.RAM.InputSize, m.RAM.Std)
	}
	if c := m.Check; c != nil {
		if err := m.present(c.File, c.SHA256, false); err != nil {
			bad("check: %v", err)
		}
		for name, g := range c.Graphs {
			want, ok := graphIO[name]
			if !ok {
				bad("check: unknown graph %q", name)
				continue
			}
			if len(g.Inputs) != len(want[0]) || len(g.Outputs) != len(want[1]) {
				bad("check: graph %q has %d inputs and %d outputs, the graph %d and %d", name, len(g.Inputs), len(g.Outputs), len(want[0]), len(want[1]))
			}
			for _, t := range append(append([]CheckTensor{}, g.Inputs...), g.Outputs...) {
				if t.DType != "f16" && t.DType != "f32" {
					bad("check: graph %q tensor %q: dtype %q (f16 or f32)", name, t.Name, t.DType)
				}
			}
		}
	}
	if err := m.Defaults.check(); err != nil {
		bad("defaults: %v", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// Path is a pipeline file's path.
func (m *Manifest) Path(rel string) string { return filepath.Join(m.dir, rel) }

// present checks that rel exists inside the folder and, with hash, that
// its SHA-256 is sum.
func (m *Manifest) present(rel, sum string, hash bool) error {
	if rel == "" || filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(rel), "..") {
		return fmt.Errorf("file %q must be a path inside the pipeline folder", rel)
	}
	if len(sum) != 64 {
		return fmt.Errorf("%s: sha256 %q is not a SHA-256", rel, sum)
	}
	p := m.Path(rel)
	if !hash {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%v; export the pipeline again", err)
		}
		return nil
	}
	_, got, err := filehash.SHA256(p)
	if err != nil {
		return fmt.Errorf("%v; export the pipeline again", err)
	}
	if !strings.EqualFold(got, sum) {
		return fmt.Errorf("%s has SHA-256 %s, the manifest says %s; export the pipeline again", p, got, sum)
	}
	return nil
}

// readLines reads a text file's non-empty lines.
func readLines(p string) ([]string, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

// IsPipeline says whether dir is a folder with a pipeline.json.
func IsPipeline(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, ManifestName))
	return err == nil && !st.IsDir()
}
