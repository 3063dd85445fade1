package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/addsr-bench/addsr-bench/bench"
	"github.com/addsr-bench/addsr-bench/models"
)

// ortFlags are the ONNX Runtime settings that change results (fused and
// unfused graphs round differently), shared by every command that opens
// sessions; run takes them from the spec's onnxruntime: block too. They go
// into every placement, so every fingerprint.
type ortFlags struct {
	opt          string
	disable      []string
	staticShapes bool
	slice        string
}

func (o *ortFlags) register(f *pflag.FlagSet) {
	f.StringVar(&o.opt, "ort-opt", "", "ONNX Runtime graph optimization level: all (its default), extended, basic or none")
	f.StringArrayVar(&o.disable, "ort-disable", nil, "ONNX Runtime graph optimizer to skip, e.g. BiasGeluFusion (repeatable)")
	f.BoolVar(&o.staticShapes, "static-shapes", false, "fix each session's symbolic input dimensions to each run's shapes (a session per shape)")
	f.StringVar(&o.slice, "slice-as-gather", "auto", "rewrite Slice nodes as Gathers: on, off or auto (on where Slices crash: ONNX Runtime 1.29.0's CUDA plugin)")
}

// spec is the flags as a spec's onnxruntime: block, checked.
func (o *ortFlags) spec() (bench.ORTSpec, error) {
	s := bench.ORTSpec{GraphOptimization: strings.ToLower(o.opt), SliceAsGather: strings.ToLower(o.slice),
		DisableOptimizers: o.disable, StaticShapes: o.staticShapes}
	flags := map[string]string{"graph_optimization": "--ort-opt", "slice_as_gather": "--slice-as-gather"}
	for _, p := range s.Problems() {
		return s, &exitError{ExitError, fmt.Sprintf("%s %q: %s", flags[p.Key], p.Value, p.Allowed)}
	}
	return s, nil
}

// apply sets the flags on dev; set flags override what dev has.
func (o *ortFlags) apply(dev *models.Device) error {
	s, err := o.spec()
	if err == nil {
		s.Apply(dev)
	}
	return err
}
