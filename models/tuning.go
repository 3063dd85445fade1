package models

import (
	"fmt"
	"os"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Diagnostics: these change no result, so they stay environment variables
// and are in no fingerprint.
const (
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

// sessionTuning is dev's GraphOptimization and DisableOptimizers: the
// settings to record (nil when neither is set) and the level to apply
// (-1: leave the default).
func sessionTuning(dev Device) (map[string]string, ort.GraphOptimizationLevel, error) {
	var set map[string]string
	level := ort.GraphOptimizationLevel(-1)
	if v := strings.ToLower(strings.TrimSpace(dev.GraphOptimization)); v != "" {
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
			return nil, level, fmt.Errorf("graph optimization %q: use all, extended, basic or none", v)
		}
		set = map[string]string{"graph_optimization_level": v}
	}
	var names []string
	for _, n := range dev.DisableOptimizers {
		for _, part := range strings.Split(n, ";") {
			if part = strings.TrimSpace(part); part != "" {
				names = append(names, part)
			}
		}
	}
	if len(dev.DisableOptimizers) > 0 && len(names) == 0 {
		return nil, level, fmt.Errorf("disable optimizers %q: name ONNX Runtime graph optimizers (e.g. BiasGeluFusion), separated by ';' or given one by one", dev.DisableOptimizers)
	}
	if len(names) > 0 {
		if set == nil {
			set = map[string]string{}
		}
		set[disableOptimizersKey] = strings.Join(names, ";")
	}
	return set, level, nil
}

// applyTuning sets dev's optimization level and disabled optimizers on opts.
func applyTuning(opts *ort.SessionOptions, dev Device) (map[string]string, error) {
	set, level, err := sessionTuning(dev)
	if err != nil {
		return nil, err
	}
	if level >= 0 {
		if err := opts.SetGraphOptimizationLevel(level); err != nil {
			return nil, fmt.Errorf("graph optimization level %s: %w", dev.GraphOptimization, err)
		}
	}
	if v, ok := set[disableOptimizersKey]; ok {
		if err := opts.AddSessionConfigEntry(disableOptimizersKey, v); err != nil {
			return nil, fmt.Errorf("disabling optimizers %v: %w", dev.DisableOptimizers, err)
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
