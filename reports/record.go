package reports

import "math"

// Record is the result for one image (one method and step count in
// experiments). Values are keyed by metric name; Error is set when the image
// was skipped, and then Values is empty.
type Record struct {
	Dataset string             `json:"dataset,omitempty"`
	Image   string             `json:"image"`
	Method  string             `json:"method,omitempty"`
	Steps   int                `json:"steps,omitempty"`
	Values  map[string]float64 `json:"values,omitempty"`
	// TimingsMS holds per-stage wall times of the SR run, in milliseconds.
	TimingsMS map[string]float64 `json:"timings_ms,omitempty"`
	Error     string             `json:"error,omitempty"`
}

// Skipped reports whether the record holds an error instead of scores.
func (r Record) Skipped() bool { return r.Error != "" }

// Mean is the mean of a metric over the records that were scored. It is +Inf
// when any value is +Inf (identical images under BasicSR's PSNR) and NaN when
// no record has the metric.
func Mean(recs []Record, metric string) float64 {
	var s float64
	var n int
	for _, r := range recs {
		if v, ok := r.Values[metric]; ok && !r.Skipped() {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
