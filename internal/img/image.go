// Package img holds the one image type the harness uses everywhere: planar
// float32 RGB in [0,1], with exact access to 8-bit samples for the metrics
// that work on rounded values (pyiqa and BasicSR both do).
package img

import (
	"fmt"
)

// Image is a planar RGB image. Planes[c][y*W+x] holds channel c (R, G, B) in
// [0,1]. Grey sources are replicated into all three planes.
//
// The planes are the only pixel storage, so changing them is always safe.
// 8-bit samples stay exact all the same: v/255 in float32, times 255 and
// rounded, gives v back for every v in 0…255.
type Image struct {
	W, H   int
	Planes [3][]float32

	// source8 records that the image was decoded from (or built as) 8-bit
	// samples: provenance only.
	source8 bool
}

// New returns a black image of the given size.
func New(w, h int) *Image {
	m := &Image{W: w, H: h}
	for c := range m.Planes {
		m.Planes[c] = make([]float32, w*h)
	}
	return m
}

// FromU8 builds an image from 8-bit planes; the float planes are v/255 in
// float32, which is what torchvision's ToTensor produces.
func FromU8(w, h int, planes [3][]uint8) *Image {
	m := New(w, h)
	for c := range planes {
		if len(planes[c]) != w*h {
			panic(fmt.Sprintf("img.FromU8: plane %d has %d samples, want %d", c, len(planes[c]), w*h))
		}
		dst := m.Planes[c]
		for i, v := range planes[c] {
			dst[i] = u8ToFloat[v]
		}
	}
	m.source8 = true
	return m
}

// u8ToFloat[v] is float32(v)/255, computed once.
var u8ToFloat = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(v) / 255
	}
	return t
}()

// Pixels is W*H.
func (m *Image) Pixels() int { return m.W * m.H }

// Exact8Bit reports whether the image came from 8-bit samples.
func (m *Image) Exact8Bit() bool { return m.source8 }

// U8 returns 8-bit planes: each value clamped to [0,1], scaled by 255 and
// rounded half to even, as BasicSR's tensor2img and numpy's round do when an
// SR output is saved. For 8-bit sources these are the decoded samples.
func (m *Image) U8() [3][]uint8 {
	var out [3][]uint8
	for c := range out {
		out[c] = QuantizePlane(m.Planes[c])
	}
	return out
}

// QuantizePlane maps [0,1] floats to 8 bits: clamp, ×255, round half to even.
func QuantizePlane(p []float32) []uint8 {
	out := make([]uint8, len(p))
	for i, v := range p {
		out[i] = Quantize(v)
	}
	return out
}

// Quantize maps one [0,1] value to 8 bits (clamp, ×255, round half to even).
// NaN maps to 0.
func Quantize(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	// v·255 is in (0, 255): adding and taking away 2²³ in float32 leaves it
	// rounded to an integer, half to even (the FPU's rounding), as
	// math.RoundToEven does, at a fraction of its cost.
	const magic = 1 << 23
	x := v * 255
	x += magic
	x -= magic
	return uint8(x)
}

// Quantized returns a copy whose planes are the 8-bit values /255: what the
// image becomes when saved as an 8-bit PNG and read back.
func (m *Image) Quantized() *Image {
	return FromU8(m.W, m.H, m.U8())
}

// Crop returns the w×h window whose top-left corner is (x0, y0), copied.
func (m *Image) Crop(x0, y0, w, h int) (*Image, error) {
	if x0 < 0 || y0 < 0 || w <= 0 || h <= 0 || x0+w > m.W || y0+h > m.H {
		return nil, fmt.Errorf("crop %dx%d at (%d,%d) does not fit in a %dx%d image", w, h, x0, y0, m.W, m.H)
	}
	out := New(w, h)
	for c := 0; c < 3; c++ {
		for y := 0; y < h; y++ {
			copy(out.Planes[c][y*w:(y+1)*w], m.Planes[c][(y0+y)*m.W+x0:])
		}
	}
	out.source8 = m.source8
	return out, nil
}

// CropBorder removes n pixels from each edge, as --crop-border does in
// BasicSR and pyiqa. n = 0 returns m itself.
func (m *Image) CropBorder(n int) (*Image, error) {
	if n == 0 {
		return m, nil
	}
	if n < 0 || 2*n >= m.W || 2*n >= m.H {
		return nil, fmt.Errorf("crop border %d leaves nothing of a %dx%d image", n, m.W, m.H)
	}
	return m.Crop(n, n, m.W-2*n, m.H-2*n)
}

// CenterCrop returns the centred w×h window (offsets rounded down).
func (m *Image) CenterCrop(w, h int) (*Image, error) {
	return m.Crop((m.W-w)/2, (m.H-h)/2, w, h)
}

// SameSize reports whether a and b have the same dimensions.
func SameSize(a, b *Image) bool { return a.W == b.W && a.H == b.H }
