package cli

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/addsr-bench/addsr-bench/internal/rng"
	"github.com/addsr-bench/addsr-bench/models"
)

// newModelsProbe is `models probe`: one graph, run on seeded random inputs on
// a device, so that "does this graph run on this provider, and how fast" has
// an answer before a long benchmark (and so that a provider's failure can be
// narrowed down to a small graph).
func newModelsProbe(stdout io.Writer) *cobra.Command {
	var device string
	var ort ortFlags
	var shapes, epOpts []string
	var runs int
	cmd := &cobra.Command{
		Use:   "probe MODEL.onnx [--device cuda] [--shape 1x3x64x64 …]",
		Short: "Run any float ONNX graph on seeded random inputs and report outputs and times",
		Long: `Runs MODEL.onnx (no manifest needed) --runs times on inputs drawn uniformly
from [-1, 1) with a fixed seed, and prints where it ran, each run's time and
each output's shape, minimum, maximum and mean. --shape gives an input's
shape (once per input, in order); without it, a free dimension is 1 for the
first axis and 64 elsewhere. Exit 0 when every run succeeded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dev, err := models.ParseDevice(device)
			if err != nil {
				return err
			}
			if dev.EPOptions, err = parseEPOptions(epOpts); err != nil {
				return err
			}
			if err := ort.apply(&dev); err != nil {
				return err
			}
			if runs < 1 {
				return fmt.Errorf("--runs %d: want at least 1", runs)
			}
			s, err := models.OpenOn(args[0], dev)
			if err != nil {
				return err
			}
			defer s.Close()
			ins := s.Inputs()
			if len(shapes) > 0 && len(shapes) != len(ins) {
				return fmt.Errorf("%s has %d inputs, %d --shape given", args[0], len(ins), len(shapes))
			}
			p := s.Placement()
			fmt.Fprintf(stdout, "%s on %s (%s, ONNX Runtime %s)\n", args[0], p.Device, p.EP, p.ORTVersion)
			if p.Note != "" {
				fmt.Fprintf(stdout, "note: %s\n", p.Note)
			}
			if t := p.Tuning(); t != "" {
				fmt.Fprintf(stdout, "session: %s\n", t)
			}
			feed := make([]models.Tensor, len(ins))
			for i, in := range ins {
				shape := slices.Clone(in.Dimensions)
				if len(shapes) > 0 {
					if shape, err = parseShape(shapes[i]); err != nil {
						return fmt.Errorf("--shape %q: %w", shapes[i], err)
					}
				} else {
					for k, d := range shape {
						if d < 0 {
							shape[k] = 64
							if k == 0 {
								shape[k] = 1
							}
						}
					}
				}
				n := int64(1)
				for _, d := range shape {
					n *= d
				}
				r := rng.New(1, "probe-input-"+strconv.Itoa(i))
				data := make([]float32, n)
				for j := range data {
					data[j] = float32(r.Uniform(-1, 1))
				}
				feed[i] = models.Tensor{Shape: shape, Data: data}
				fmt.Fprintf(stdout, "input %s %v\n", in.Name, shape)
			}
			var out []models.Tensor
			for k := 0; k < runs; k++ {
				t0 := time.Now()
				if out, err = s.Run(feed...); err != nil {
					return fmt.Errorf("run %d: %w", k+1, err)
				}
				fmt.Fprintf(stdout, "run %d: %.2f ms\n", k+1, float64(time.Since(t0).Microseconds())/1000)
			}
			for i, o := range out {
				lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
				for _, v := range o.Data {
					lo, hi, sum = min(lo, float64(v)), max(hi, float64(v)), sum+float64(v)
				}
				fmt.Fprintf(stdout, "output %s %v: min %.6g max %.6g mean %.6g\n", s.Outputs()[i].Name, o.Shape, lo, hi, sum/float64(max(len(o.Data), 1)))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&device, "device", "cpu", "cpu, cuda, cuda:N or auto")
	ort.register(f)
	f.StringArrayVar(&shapes, "shape", nil, "an input's shape as DxDx…, once per input in order")
	f.StringArrayVar(&epOpts, "ep-option", nil, "CUDA execution provider option key=value (repeatable)")
	f.IntVar(&runs, "runs", 3, "how many times to run")
	return cmd
}

// parseShape reads 1x3x64x64.
func parseShape(s string) ([]int64, error) {
	var shape []int64
	for _, f := range strings.Split(s, "x") {
		d, err := strconv.ParseInt(f, 10, 64)
		if err != nil || d < 1 {
			return nil, fmt.Errorf("want positive sizes joined by x, such as 1x3x64x64")
		}
		shape = append(shape, d)
	}
	return shape, nil
}
