package reports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
)

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
	// Batch is how many images shared the SR inferences of this one (0: it
	// ran alone); its timings are then its share of the batch's.
	Batch int `json:"batch,omitempty"`
	// Fingerprint identifies the method, metric configuration and tool that
	// produced the record (a hash; the run's run.json spells it out).
	Fingerprint string `json:"fingerprint,omitempty"`
	// Prompt is the text prompt a diffusion runner used (RAM's tags and
	// the template), as the text encoder saw it.
	Prompt string `json:"prompt,omitempty"`
	Error  string `json:"error,omitempty"`
}

// CompareRecords orders records by dataset, method, steps and image: the
// order means are summed in and record files list them, whatever order the
// workers finished in.
func CompareRecords(a, b Record) int {
	return cmp.Or(cmp.Compare(a.Dataset, b.Dataset), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Steps, b.Steps), cmp.Compare(a.Image, b.Image))
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

// MarshalJSON writes the record with ±Inf and NaN values as the strings
// "+Inf", "-Inf" and "NaN", which JSON numbers cannot hold (BasicSR's PSNR of
// identical images is +Inf).
func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record
	vals := make(map[string]any, len(r.Values))
	for k, v := range r.Values {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			vals[k] = FormatValue(v)
		} else {
			vals[k] = v
		}
	}
	return json.Marshal(struct {
		plain
		Values map[string]any `json:"values,omitempty"`
	}{plain(r), vals})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Record) UnmarshalJSON(data []byte) error {
	type plain Record
	var aux struct {
		plain
		Values map[string]any `json:"values,omitempty"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*r = Record(aux.plain)
	if aux.Values != nil {
		r.Values = make(map[string]float64, len(aux.Values))
	}
	for k, v := range aux.Values {
		switch x := v.(type) {
		case float64:
			r.Values[k] = x
		case string:
			switch x {
			case "+Inf":
				r.Values[k] = math.Inf(1)
			case "-Inf":
				r.Values[k] = math.Inf(-1)
			case "NaN":
				r.Values[k] = math.NaN()
			default:
				return fmt.Errorf("value %s: %q is not a number", k, x)
			}
		default:
			return fmt.Errorf("value %s: %v is not a number", k, v)
		}
	}
	return nil
}
