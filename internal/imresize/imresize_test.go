package imresize

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestAgainstNumpy compares with testdata/reference.json, made by an
// independent numpy implementation (dense weight matrices over a
// symmetrically padded signal; see make_reference.py).
func TestAgainstNumpy(t *testing.T) {
	var ref struct {
		W, H  int
		Pix   []float64
		Cases []struct {
			Scale float64
			W     int       `json:"out_w"`
			H     int       `json:"out_h"`
			Pix   []float64 `json:"pix"`
		}
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	in := Plane{W: ref.W, H: ref.H, Pix: ref.Pix}
	for _, c := range ref.Cases {
		out, err := Scale(in, c.Scale, true)
		if err != nil {
			t.Fatal(err)
		}
		if out.W != c.W || out.H != c.H {
			t.Fatalf("scale %v: %dx%d, want %dx%d", c.Scale, out.W, out.H, c.W, c.H)
		}
		for i, v := range out.Pix {
			if math.Abs(v-c.Pix[i]) > 1e-12 {
				t.Fatalf("scale %v: pixel %d = %.15f, numpy %.15f", c.Scale, i, v, c.Pix[i])
			}
		}
		// The float32 variant (pyiqa's arithmetic) agrees to float32 precision.
		out32, err := ScaleFloat32(in, c.Scale, true)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range out32.Pix {
			if math.Abs(v-c.Pix[i]) > 2e-6 {
				t.Fatalf("float32 scale %v: pixel %d = %.8f, numpy %.8f", c.Scale, i, v, c.Pix[i])
			}
		}
	}
}

func TestClosedForms(t *testing.T) {
	// Cubic kernel: interpolating (1 at 0, 0 at the other integers), C¹, and
	// its integer shifts sum to 1.
	for _, c := range []struct{ x, want float64 }{{0, 1}, {1, 0}, {2, 0}, {-1, 0}, {0.5, 0.5625}, {1.5, -0.0625}, {2.5, 0}} {
		if got := cubic(c.x); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("cubic(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	for _, f := range []float64{0.1, 0.37, 0.5, 0.9} {
		s := cubic(f+1) + cubic(f) + cubic(f-1) + cubic(f-2)
		if math.Abs(s-1) > 1e-14 {
			t.Errorf("Σ cubic(%v − k) = %v", f, s)
		}
	}
	// Weights sum to 1 for every output, and ×1/4 spans 18 taps.
	c := Weights(512, 128, 0.25, true)
	if c.Taps != 18 {
		t.Errorf("×1/4 has %d taps, want ceil(4/0.25)+2 = 18", c.Taps)
	}
	for i := 0; i < c.Out; i++ {
		var s float64
		for k := 0; k < c.Taps; k++ {
			s += c.Weights[i*c.Taps+k]
			if j := c.Index[i*c.Taps+k]; j < 0 || j >= c.In {
				t.Fatalf("index %d out of range", j)
			}
		}
		if math.Abs(s-1) > 1e-12 {
			t.Fatalf("output %d: weights sum to %v", i, s)
		}
	}
	// A constant stays constant; a ramp stays a ramp in the interior
	// (the cubic reproduces linear functions).
	p := NewPlane(40, 24)
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			p.Pix[y*p.W+x] = 3 + 0.5*float64(x)
		}
	}
	up, _ := Scale(p, 2, true)
	for y := 0; y < up.H; y++ {
		for x := 8; x < up.W-8; x++ {
			// Output pixel x covers input coordinate (x+0.5)/2 − 0.5.
			want := 3 + 0.5*((float64(x)+0.5)/2-0.5)
			if got := up.Pix[y*up.W+x]; math.Abs(got-want) > 1e-12 {
				t.Fatalf("ramp ×2 at (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
	if OutputSize(11, 0.25) != 3 || OutputSize(512, 0.25) != 128 || OutputSize(13, 0.5) != 7 {
		t.Error("output size is not ceil(in·scale)")
	}
	if _, err := Scale(p, 0, true); err == nil {
		t.Error("scale 0 accepted")
	}
	if _, err := Scale(p, math.Inf(1), true); err == nil {
		t.Error("infinite scale accepted")
	}
}

func TestMirror(t *testing.T) {
	// n = 3: … 1 0 | 0 1 2 | 2 1 0 | 0 …
	want := map[int]int{-4: 2, -3: 2, -2: 1, -1: 0, 0: 0, 2: 2, 3: 2, 4: 1, 5: 0, 6: 0, 7: 1}
	for i, w := range want {
		if got := mirror(i, 3); got != w {
			t.Errorf("mirror(%d, 3) = %d, want %d", i, got, w)
		}
	}
}
