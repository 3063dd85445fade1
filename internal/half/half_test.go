package half

import (
	"math"
	"testing"
)

func TestKnownValues(t *testing.T) {
	for h, f := range map[uint16]float32{0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x3555: 0.33325195, 0x7bff: 65504, 0x0001: 5.9604645e-08, 0x0400: 6.1035156e-05, 0x7c00: float32(math.Inf(1))} {
		if got := ToFloat32(h); got != f {
			t.Errorf("ToFloat32(%#04x) = %v, want %v", h, got, f)
		}
		if got := FromFloat32(f); got != h {
			t.Errorf("FromFloat32(%v) = %#04x, want %#04x", f, got, h)
		}
	}
	// Every binary16 value round-trips; ties round to even.
	for h := 0; h < 1<<16; h++ {
		if (h>>10)&0x1f == 0x1f && h&0x3ff != 0 {
			continue // NaN payloads
		}
		if got := FromFloat32(ToFloat32(uint16(h))); got != uint16(h) {
			t.Fatalf("%#04x → %v → %#04x", h, ToFloat32(uint16(h)), got)
		}
	}
	if FromFloat32(1+1.0/2048) != 0x3c00 || FromFloat32(1+3.0/2048) != 0x3c02 {
		t.Error("ties are not rounded to even")
	}
	if FromFloat32(1e6) != 0x7c00 || !math.IsNaN(float64(ToFloat32(FromFloat32(float32(math.NaN()))))) {
		t.Error("overflow or NaN")
	}
}

// Encode and Decode are FromFloat32 and ToFloat32 over little-endian bytes.
func TestEncodeDecode(t *testing.T) {
	v := []float32{0, 1, -2.5, 65504, 1e-3}
	raw := Encode(v)
	if len(raw) != 10 || raw[2] != 0x00 || raw[3] != 0x3c { // 1.0 = 0x3c00
		t.Fatalf("Encode: % x", raw)
	}
	got := make([]float32, len(v))
	Decode(got, raw)
	for i, x := range v {
		if want := ToFloat32(FromFloat32(x)); got[i] != want {
			t.Errorf("[%d] = %v, want %v", i, got[i], want)
		}
	}
}
