// Package half converts between float32 and IEEE 754 binary16.
package half

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/addsr-bench/addsr-bench/internal/workpool"
)

// ToFloat32 converts a binary16 value.
func ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := int32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		e := int32(-14)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | uint32(e+127)<<23 | mant<<13)
	case 31:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | uint32(exp-15+127)<<23 | mant<<13)
}

// FromFloat32 rounds a float32 to the nearest binary16 (ties to even),
// overflowing to ±Inf and keeping NaN a NaN.
func FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	switch {
	case e >= 31:
		return sign | 0x7c00
	case e <= 0:
		if e < -10 {
			return sign
		}
		// Subnormal: shift the implicit bit in, round to nearest even.
		m := mant | 0x800000
		shift := uint32(14 - e)
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, which is right
	}
	return sign | uint16(h)
}

// Encode is v as little-endian float16 bytes (ONNX and ncnn tensors).
// Large slices are converted on all cores: a batch of SR inputs or outputs
// is millions of values, converted while a GPU waits.
func Encode(v []float32) []byte {
	raw := make([]byte, 2*len(v))
	workpool.Split(len(v), parallelMin, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			binary.LittleEndian.PutUint16(raw[2*i:], FromFloat32(v[i]))
		}
	})
	return raw
}

// Decode fills dst from little-endian float16 bytes (2·len(dst) of raw),
// through a table of all 65536 values (ToFloat32's, so exact) and, for
// large slices, on all cores.
func Decode(dst []float32, raw []byte) {
	if len(dst) == 0 {
		return
	}
	t := decodeTable()
	_ = raw[2*len(dst)-1] // one bounds check
	workpool.Split(len(dst), parallelMin, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = t[binary.LittleEndian.Uint16(raw[2*i:])]
		}
	})
}

var decodeTable = sync.OnceValue(func() *[1 << 16]float32 {
	t := new([1 << 16]float32)
	for h := range t {
		t[h] = ToFloat32(uint16(h))
	}
	return t
})

// parallelMin is the slice length from which conversions are split across
// cores (below it, starting goroutines costs more than it saves).
const parallelMin = 1 << 17
