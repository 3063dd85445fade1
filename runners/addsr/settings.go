package addsr

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Settings are the options that change AddSR's outputs. A pipeline's
// defaults are the official test script's (test_addsr.py); specs and flags
// override them by key (Set), and all of them go into the fingerprint.
type Settings struct {
	// PSR feeds each step after the first the decoded x̂0 of the step
	// before, blended with the upscaled LR, as ControlNet's condition and
	// RAM's input (progressive super-resolution); off, every step sees the
	// upscaled LR.
	PSR bool `json:"psr"`
	// PSRWeight is the blend's weight of x̂0: the pipeline's default, 0.4
	// (test_addsr.py's --PSR_weight 0.5 is never passed to it).
	PSRWeight float64 `json:"psr_weight"`
	// Prompt is "ram" (RAM's tags), "none" (no tags) or a text used in the
	// tags' place (the paper's Fig. 8).
	Prompt string `json:"prompt"`
	// UserPrompt, AddedPrompt: the prompt is "{tags}, {user}," + added.
	UserPrompt     string `json:"user_prompt"`
	AddedPrompt    string `json:"added_prompt"`
	NegativePrompt string `json:"negative_prompt"`
	// GuidanceScale > 1 turns on classifier-free guidance with the negative prompt.
	GuidanceScale float64 `json:"guidance_scale"`
	// ColourFix is adain, wavelet or none.
	ColourFix string `json:"colour_fix"`
	// ProcessSize: an LR whose shorter side is under ProcessSize/Upscale is
	// first resized so that it is not (the output is resized back).
	ProcessSize int    `json:"process_size"`
	Upscale     int    `json:"upscale"`
	Seed        uint64 `json:"seed"`
	// LatentTile: a latent of more than LatentTile² values is denoised in
	// LatentTile² tiles overlapping by LatentTileOverlap, blended with the
	// official pipeline's Gaussian weights (test_addsr.py: 320 and 4; 0:
	// never tile).
	LatentTile        int `json:"latent_tile"`
	LatentTileOverlap int `json:"latent_tile_overlap"`
	// VAEDecodeTile decodes latents larger than it in tiles of that many
	// latent pixels overlapping by VAEDecodeOverlap, blended linearly (0:
	// whole). The official tiled decoder (vaehook.py) differs: it shares
	// GroupNorm statistics across tiles, which an ONNX graph cannot.
	VAEDecodeTile    int `json:"vae_decode_tile"`
	VAEDecodeOverlap int `json:"vae_decode_overlap"`
}

// SettingKeys are the keys Set takes.
var SettingKeys = []string{"psr", "psr_weight", "prompt", "user_prompt", "added_prompt", "negative_prompt", "guidance_scale", "colour_fix", "process_size", "seed", "latent_tile", "latent_tile_overlap", "vae_decode_tile", "vae_decode_overlap"}

// Set sets one setting from its text.
func (s *Settings) Set(key, value string) error {
	var err error
	switch key {
	case "psr":
		s.PSR, err = strconv.ParseBool(value)
	case "psr_weight":
		s.PSRWeight, err = strconv.ParseFloat(value, 64)
	case "prompt":
		s.Prompt = value
	case "user_prompt":
		s.UserPrompt = value
	case "added_prompt":
		s.AddedPrompt = value
	case "negative_prompt":
		s.NegativePrompt = value
	case "guidance_scale":
		s.GuidanceScale, err = strconv.ParseFloat(value, 64)
	case "colour_fix", "color_fix":
		s.ColourFix = value
	case "process_size":
		s.ProcessSize, err = strconv.Atoi(value)
	case "seed":
		s.Seed, err = strconv.ParseUint(value, 10, 64)
	case "latent_tile":
		s.LatentTile, err = strconv.Atoi(value)
	case "latent_tile_overlap":
		s.LatentTileOverlap, err = strconv.Atoi(value)
	case "vae_decode_tile":
		s.VAEDecodeTile, err = strconv.Atoi(value)
	case "vae_decode_overlap":
		s.VAEDecodeOverlap, err = strconv.Atoi(value)
	default:
		return fmt.Errorf("unknown AddSR option %q (known: %s)", key, strings.Join(SettingKeys, ", "))
	}
	if err != nil {
		return fmt.Errorf("AddSR option %s: %q: %v", key, value, err)
	}
	return s.check()
}

func (s Settings) check() error {
	switch {
	case math.IsNaN(s.PSRWeight) || s.PSRWeight < 0 || s.PSRWeight > 1:
		return fmt.Errorf("psr_weight %v must be in [0, 1]", s.PSRWeight)
	case s.Prompt == "":
		return fmt.Errorf(`prompt is empty: "ram" (RAM's tags), "none" or a text`)
	case math.IsNaN(s.GuidanceScale) || math.IsInf(s.GuidanceScale, 0) || s.GuidanceScale < 0:
		return fmt.Errorf("guidance_scale %v must be ≥ 0 (> 1 turns guidance on)", s.GuidanceScale)
	case s.ColourFix != "adain" && s.ColourFix != "wavelet" && s.ColourFix != "none":
		return fmt.Errorf("colour_fix %q: adain, wavelet or none", s.ColourFix)
	case s.ProcessSize < 8:
		return fmt.Errorf("process_size %d must be ≥ 8", s.ProcessSize)
	case s.Upscale < 1:
		return fmt.Errorf("upscale %d must be ≥ 1", s.Upscale)
	case s.LatentTile < 0 || s.LatentTileOverlap < 0 || (s.LatentTile > 0 && s.LatentTileOverlap >= s.LatentTile):
		return fmt.Errorf("latent_tile %d and latent_tile_overlap %d: ≥ 0, the overlap under the tile", s.LatentTile, s.LatentTileOverlap)
	case s.VAEDecodeTile < 0 || s.VAEDecodeOverlap < 0 || (s.VAEDecodeTile > 0 && 2*s.VAEDecodeOverlap >= s.VAEDecodeTile):
		return fmt.Errorf("vae_decode_tile %d and vae_decode_overlap %d: ≥ 0, the overlap under half the tile", s.VAEDecodeTile, s.VAEDecodeOverlap)
	}
	return nil
}

// guided says whether classifier-free guidance runs.
func (s Settings) guided() bool { return s.GuidanceScale > 1 }

// String lists every setting, sorted, for fingerprints.
func (s Settings) String() string {
	kv := map[string]string{
		"psr": strconv.FormatBool(s.PSR), "psr_weight": strconv.FormatFloat(s.PSRWeight, 'g', -1, 64),
		"prompt": strconv.Quote(s.Prompt), "user_prompt": strconv.Quote(s.UserPrompt), "added_prompt": strconv.Quote(s.AddedPrompt),
		"negative_prompt": strconv.Quote(s.NegativePrompt), "guidance_scale": strconv.FormatFloat(s.GuidanceScale, 'g', -1, 64),
		"colour_fix": s.ColourFix, "process_size": strconv.Itoa(s.ProcessSize), "upscale": strconv.Itoa(s.Upscale),
		"seed":        strconv.FormatUint(s.Seed, 10),
		"latent_tile": strconv.Itoa(s.LatentTile), "latent_tile_overlap": strconv.Itoa(s.LatentTileOverlap),
		"vae_decode_tile": strconv.Itoa(s.VAEDecodeTile), "vae_decode_overlap": strconv.Itoa(s.VAEDecodeOverlap),
	}
	var keys []string
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + kv[k])
	}
	return b.String()
}
