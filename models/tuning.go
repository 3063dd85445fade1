package models

import (
	"fmt"
	"os"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// EnvORTOpt sets ONNX Runtime's graph optimization level: all (its default),
// extended, basic or none. EnvORTDisable names graph optimizers to skip
// (ONNX Runtime's names, separated by ";", e.g. BiasGeluFusion;GeluFusion).
// Both are for narrowing down a provider's failure to one fusion (the CUDA
// plugin crashed on the learned metrics' transformer graphs on an H200,
// inside a fused BiasGelu node, where the convolution-only graphs ran), and
// for working around it; what they change is part of every placement, so of
// every fingerprint, as fused and unfused graphs round differently.
const (
	EnvORTOpt     = "ADDSR_BENCH_ORT_OPT"
	EnvORTDisable = "ADDSR_BENCH_ORT_DISABLE"
	// EnvORTProfile=PREFIX has every session write ONNX Runtime's profile
	// (a Chrome trace: each node's kernel time and provider) to
	// PREFIX_<date>.json when it closes; scripts/gpu/ort_profile.py sums it
	// by operator. It changes no result, so it is in no fingerprint.
	EnvORTProfile = "ADDSR_BENCH_ORT_PROFILE"
	// EnvORTSaveOptimized=FILE.onnx has every session write the graph as
	// ONNX Runtime optimized it for its providers to FILE.onnx (the last
	// session created wins): to see which nodes were fused or folded away,
	// e.g. with `addsr-bench models probe`. It changes no result.
	EnvORTSaveOptimized = "ADDSR_BENCH_ORT_SAVE_OPTIMIZED"
)

// disableOptimizersKey is ONNX Runtime's session configuration key
// (onnxruntime_session_options_config_keys.h).
const disableOptimizersKey = "optimization.disable_specified_optimizers"

// sessionTuning reads EnvORTOpt and EnvORTDisable: the settings to record
// (nil when neither is set) and the level to apply (-1: leave the default).
func sessionTuning() (map[string]string, ort.GraphOptimizationLevel, error) {
	var set map[string]string
	level := ort.GraphOptimizationLevel(-1)
	if v := strings.ToLower(strings.TrimSpace(os.Getenv(EnvORTOpt))); v != "" {
		switch v {
		case "all":
			level = ort.GraphOptimizationLevelEnableAll
		case "extended":
			level = ort.GraphOptimizationLevelEnableExtended
		case "basic":
			level = ort.GraphOptimizationLevelEnableBasic
		case "none":
			level = ort.GraphOptimizationLevelDisableAll
		default:
			return nil, level, fmt.Errorf("%s=%q: use all, extended, basic or none", EnvORTOpt, v)
		}
		set = map[string]string{"graph_optimization_level": v}
	}
	if v := strings.TrimSpace(os.Getenv(EnvORTDisable)); v != "" {
		var names []string
		for _, n := range strings.Split(v, ";") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return nil, level, fmt.Errorf("%s=%q: name ONNX Runtime graph optimizers separated by ';'", EnvORTDisable, v)
		}
		if set == nil {
			set = map[string]string{}
		}
		set[disableOptimizersKey] = strings.Join(names, ";")
	}
	return set, level, nil
}

// applyTuning sets EnvORTOpt's level and EnvORTDisable's optimizers on opts.
func applyTuning(opts *ort.SessionOptions) (map[string]string, error) {
	set, level, err := sessionTuning()
	if err != nil {
		return nil, err
	}
	if level >= 0 {
		if err := opts.SetGraphOptimizationLevel(level); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvORTOpt, err)
		}
	}
	if v, ok := set[disableOptimizersKey]; ok {
		if err := opts.AddSessionConfigEntry(disableOptimizersKey, v); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvORTDisable, err)
		}
	}
	if path := os.Getenv(EnvORTSaveOptimized); path != "" {
		if err := opts.SetOptimizedModelFilePath(path); err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvORTSaveOptimized, path, err)
		}
	}
	if prefix := os.Getenv(EnvORTProfile); prefix != "" {
		if err := opts.EnableProfiling(prefix); err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvORTProfile, prefix, err)
		}
	}
	return set, nil
}
