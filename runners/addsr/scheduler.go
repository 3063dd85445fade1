package addsr

import (
	"fmt"
	"math"
	"strconv"
)

// scheduleAlphas is diffusers' DDPMScheduler ᾱ for the scaled_linear
// schedule: β from a float32 linspace over √β, squared; 1 − β in float32;
// the cumulative product accumulated in float64 (as PyTorch's CPU cumprod
// does) and kept in float32. PyTorch's vectorised linspace may fuse a
// multiply-add where this does not, so values can differ in the last bit.
func scheduleAlphas(s SchedulerSpec) []float32 {
	n := s.NumTrainTimesteps
	start, end := float32(math.Sqrt(s.BetaStart)), float32(math.Sqrt(s.BetaEnd))
	step := (end - start) / float32(n-1)
	out := make([]float32, n)
	acc := 1.0
	for i := range n {
		var b float32
		if i < n/2 {
			b = start + step*float32(i)
		} else {
			b = end - step*float32(n-i-1)
		}
		b *= b
		acc *= float64(1 - b)
		out[i] = float32(acc)
	}
	return out
}

// alphasCumprod is ᾱ for every training timestep, with the manifest's
// values (the checkpoint's own float32 bits) at the timesteps it lists;
// those must agree with the schedule to 1e-5, or the manifest describes
// another scheduler.
func alphasCumprod(s SchedulerSpec) ([]float32, error) {
	ac := scheduleAlphas(s)
	for k, v := range s.AlphasCumprod {
		t, err := strconv.Atoi(k)
		if err != nil || t < 0 || t >= len(ac) {
			return nil, fmt.Errorf("alphas_cumprod: %q is not a timestep in [0, %d)", k, len(ac))
		}
		if math.Abs(v-float64(ac[t])) > 1e-5*float64(ac[t]) {
			return nil, fmt.Errorf("alphas_cumprod[%d] = %v, but the %s schedule %g–%g gives %v", t, v, s.BetaSchedule, s.BetaStart, s.BetaEnd, ac[t])
		}
		ac[t] = float32(v)
	}
	return ac, nil
}

// coeffs are √ᾱ and √(1−ᾱ) at a timestep, in float32 as the pipeline has them.
func coeffs(ac []float32, t int) (sa, s1 float32) {
	return float32(math.Sqrt(float64(ac[t]))), float32(math.Sqrt(float64(1 - ac[t])))
}
