package reports

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// Records keep ±Inf (BasicSR's PSNR of identical images) through JSON,
// which has no infinities, as the strings "+Inf" and "-Inf".
func TestRecordJSONRoundTrip(t *testing.T) {
	r := Record{Dataset: "d", Image: "0801", Method: "AddSR", Steps: 4,
		Values:    map[string]float64{"psnr-basicsr": math.Inf(1), "x": math.Inf(-1), "ssim": 0.5},
		TimingsMS: map[string]float64{"unet": 12.5}, Fingerprint: "abc"}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"psnr-basicsr":"+Inf"`) {
		t.Errorf("encoded %s", data)
	}
	var back Record
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(back.Values["psnr-basicsr"], 1) || !math.IsInf(back.Values["x"], -1) || back.Values["ssim"] != 0.5 ||
		back.Steps != 4 || back.TimingsMS["unet"] != 12.5 || back.Fingerprint != "abc" {
		t.Errorf("round trip gave %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"image":"a","values":{"psnr":"high"}}`), &back); err == nil {
		t.Error("a non-numeric value was accepted")
	}
	if m := Mean([]Record{{Values: map[string]float64{"p": 1}}, {Values: map[string]float64{"p": math.Inf(1)}}, {Error: "x"}}, "p"); !math.IsInf(m, 1) {
		t.Errorf("mean with +Inf = %v", m)
	}
}
