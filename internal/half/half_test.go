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

// The table and the parallel split give exactly the scalar conversions, bit
// for bit (NaN payloads included), at sizes on both sides of parallelMin.
func TestEncodeDecodeLarge(t *testing.T) {
	for _, n := range []int{0, 1, 1000, parallelMin - 1, 3*parallelMin + 7} {
		raw := make([]byte, 2*n)
		v := make([]float32, n)
		for i := range n {
			h := uint16(i*40503 + 7) // every bit pattern, scrambled
			raw[2*i], raw[2*i+1] = byte(h), byte(h>>8)
			v[i] = float32(i%3001)/1000 - 1.5
		}
		got := make([]float32, n)
		Decode(got, raw)
		for i := range n {
			want := ToFloat32(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
			if math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: Decode[%d] = %v, want %v", n, i, got[i], want)
			}
		}
		enc := Encode(v)
		for i := range n {
			if h := uint16(enc[2*i]) | uint16(enc[2*i+1])<<8; h != FromFloat32(v[i]) {
				t.Fatalf("n=%d: Encode[%d] = %#04x, want %#04x", n, i, h, FromFloat32(v[i]))
			}
		}
	}
}

// go test -run '^$' -bench . ./internal/half: ns per value for a batch of 16
// SR outputs of 512² (decode) and inputs of 128² (encode).
func BenchmarkDecode(b *testing.B) {
	n := 16 * 3 * 512 * 512
	raw := make([]byte, 2*n)
	for i := range n {
		raw[2*i], raw[2*i+1] = byte(i), byte(i>>8)&0x3b
	}
	dst := make([]float32, n)
	for b.Loop() {
		Decode(dst, raw)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/value")
}

func BenchmarkEncode(b *testing.B) {
	v := make([]float32, 16*3*128*128)
	for i := range v {
		v[i] = float32(i%1000) / 1000
	}
	for b.Loop() {
		Encode(v)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(v)), "ns/value")
}
