package reports

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// MeanOf is the arithmetic mean of v (NaN when empty).
func MeanOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return stat.Mean(v, nil)
}

// Quantile is the p-quantile of v (0 ≤ p ≤ 1) with linear interpolation
// between order statistics, numpy's default (gonum's estimators are other
// definitions); Quantile(v, 0.5) is the median. NaN when v is empty. v is
// not changed.
func Quantile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	pos := p * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}
