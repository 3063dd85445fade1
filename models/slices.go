package models

import (
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"

	"github.com/addsr-bench/addsr-bench/internal/onnxpb"
)

// Device.SliceAsGather (--slice-as-gather, slice_as_gather: in a spec's
// onnxruntime: block) turns the Slice rewrite (onnxpb.SliceAsGather) on or
// off for every session; auto, it is on exactly where it is needed:
// ONNX Runtime 1.29.0 with the CUDA plugin provider, whose Slice kernel
// kills the process (docs/onnxruntime.md: a one-Slice graph is enough, the
// same slice as a Gather runs). The rewrite changes no value, but it is part of the
// placement (slice_as_gather=N), so of every fingerprint.

// brokenSliceORT is the ONNX Runtime release whose CUDA plugin provider
// crashes on Slice.
const brokenSliceORT = "1.29.0"

// gatherToSlice is ONNX Runtime's fusion of Range → Gather into Slice:
// it would undo the rewrite, and it is wrong where a negative step's range
// ends at −1 (onnxpb's TestSliceAsGather).
const gatherToSlice = "GatherToSliceFusion"

// sliceAsGather says whether sessions placed at p rewrite their Slices,
// given the setting ("on", "off", "": auto).
func sliceAsGather(p Placement, setting string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(setting)) {
	case "", "auto":
		return slicesCrash(p), nil
	case "off", "0":
		return false, nil
	case "on", "1":
		return true, nil
	default:
		return false, fmt.Errorf("slice_as_gather %q: use on, off or auto (auto: on with ONNX Runtime %s's CUDA plugin provider only)", setting, brokenSliceORT)
	}
}

// slicesCrash says whether a Slice node crashes where p runs.
func slicesCrash(p Placement) bool { return p.Path == "plugin" && p.ORTVersion == brokenSliceORT }

// SlicesKept is how many Slice nodes a session placed at p still runs where
// they crash the process (0 elsewhere): bounds that are not constants, or
// the rewrite turned off.
func SlicesKept(p Placement) int {
	if !slicesCrash(p) {
		return 0
	}
	n, _ := strconv.Atoi(p.Session["slices_kept"])
	return n
}

// prepareSlices applies the Slice policy to model, the graph at path, for a
// session placed at place: Slices rewritten where sliceAsGather says so,
// counted on the plugin path, and the session refused (sliceCrash) where
// some would still crash. disable is the session's disableOptimizersKey
// value ("": leave it), and fromBytes says the session is to be made from
// the returned bytes rather than the file.
func prepareSlices(path string, model []byte, place *Placement, setting string) (out []byte, disable string, fromBytes bool, err error) {
	rewrite, err := sliceAsGather(*place, setting)
	if err != nil || (!rewrite && !slicesCrash(*place)) {
		return model, "", false, err
	}
	if out, disable, err = rewriteSlices(path, model, rewrite, place); err != nil {
		return nil, "", false, err
	}
	return out, disable, true, sliceCrash(path, *place)
}

// rewriteSlices applies the Slice rewrite to model when on (sliceAsGather's
// answer for place), on the plugin path counts what is left and records
// both in place. disable, when not "", is the value of ONNX Runtime's
// disableOptimizersKey the session must get: the list it had (Device.DisableOptimizers)
// plus the fusion that would undo the rewrite.
func rewriteSlices(path string, model []byte, on bool, place *Placement) (out []byte, disable string, err error) {
	if !on && !slicesCrash(*place) {
		return model, "", nil
	}
	out, res, err := onnxpb.SliceAsGather(model)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	set := func(k string, v int) {
		place.Session = maps.Clone(place.Session)
		if place.Session == nil {
			place.Session = map[string]string{}
		}
		place.Session[k] = strconv.Itoa(v)
	}
	if !on {
		if n := res.Rewritten + res.Kept; n > 0 {
			set("slices_kept", n)
		}
		return model, "", nil
	}
	if res.Kept > 0 && slicesCrash(*place) {
		set("slices_kept", res.Kept)
	}
	if res.Rewritten == 0 {
		return model, "", nil
	}
	set("slice_as_gather", res.Rewritten)
	disable = gatherToSlice
	if v := place.Session[disableOptimizersKey]; v != "" {
		disable = v + ";" + gatherToSlice
	}
	return out, disable, nil
}

// EnvAllowSliceCrash=1 opens sessions that would run Slice nodes where
// they crash the process (sliceCrash), for trying workarounds and newer
// providers.
const EnvAllowSliceCrash = "ADDSR_BENCH_ALLOW_KNOWN_CRASH"

// SliceCrashError is OpenOn's refusal of a session that would run Slice
// nodes on ONNX Runtime 1.29.0's CUDA plugin provider: the rewrite kept
// them (bounds computed at run time) or was turned off.
type SliceCrashError struct {
	Path       string
	Kept       int
	ORTVersion string
}

// Reason says what would happen, without the ways out.
func (e *SliceCrashError) Reason() string {
	return fmt.Sprintf("%d Slice node(s) of this graph would run on ONNX Runtime %s's CUDA plugin provider, whose Slice kernel crashes the process", e.Kept, e.ORTVersion)
}

func (e *SliceCrashError) Error() string {
	return fmt.Sprintf("%s: %s (the rewrite keeps Slices whose bounds are computed at run time, and all of them with --slice-as-gather off); use --device cpu, leave --slice-as-gather at auto, or set %s=1 to run it there anyway",
		e.Path, e.Reason(), EnvAllowSliceCrash)
}

// sliceCrash is the refusal of a session placed at p that would still run
// Slice nodes where they crash the process, or nil.
func sliceCrash(path string, p Placement) error {
	if os.Getenv(EnvAllowSliceCrash) == "1" {
		return nil
	}
	if n := SlicesKept(p); n > 0 {
		return &SliceCrashError{Path: path, Kept: n, ORTVersion: p.ORTVersion}
	}
	return nil
}
