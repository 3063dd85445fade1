package img

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pattern is what testdata/make.py draws: R = 16x, G = 16y, B = 255 − 8(x+y).
func pattern(x, y int) [3]uint8 {
	return [3]uint8{uint8(16 * x), uint8(16 * y), uint8(255 - 8*(x+y))}
}

func TestDecodeGoodFiles(t *testing.T) {
	cases := []struct {
		file  string
		grey  bool
		exact bool    // 8-bit samples carried exactly
		tol   float64 // allowed |decoded − pattern| on the 0–255 scale
	}{
		{"rgb8.png", false, true, 0},
		{"rgba8.png", false, true, 0}, // alpha dropped, not composited
		{"grey8.png", true, true, 0},
		{"grey16.png", true, false, 0},
		{"rgb16.png", false, false, 0},
		{"palette.png", false, true, 0},
		{"rgb.bmp", false, true, 0},
		{"rgb.tif", false, true, 0},
		{"rgb.webp", false, true, 0},
		{"rgb.jpg", false, true, 3}, // quality 100, 4:4:4: only DCT rounding
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			m, err := Load(filepath.Join("testdata", "good", c.file), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.W != 7 || m.H != 5 {
				t.Fatalf("size %dx%d, want 7x5", m.W, m.H)
			}
			if m.Exact8Bit() != c.exact {
				t.Errorf("Exact8Bit = %v, want %v", m.Exact8Bit(), c.exact)
			}
			u := m.U8()
			for y := 0; y < m.H; y++ {
				for x := 0; x < m.W; x++ {
					want := pattern(x, y)
					for ch := 0; ch < 3; ch++ {
						w := want[ch]
						if c.grey {
							w = want[0]
						}
						i := y*m.W + x
						if d := math.Abs(float64(u[ch][i]) - float64(w)); d > c.tol {
							t.Fatalf("(%d,%d) channel %d: 8-bit %d, want %d", x, y, ch, u[ch][i], w)
						}
						if d := math.Abs(float64(m.Planes[ch][i])*255 - float64(w)); d > c.tol+1e-4 {
							t.Fatalf("(%d,%d) channel %d: float %v, want %v/255", x, y, ch, m.Planes[ch][i], w)
						}
					}
				}
			}
		})
	}
}

func TestDecodeBadFiles(t *testing.T) {
	cases := []struct {
		file string
		want string // part of the message
	}{
		{"truncated.png", "truncated"},
		{"truncated.jpg", "truncated"},
		{"corrupt.png", "corrupt"},
		{"not-an-image.png", "not an image"},
		{"empty.png", "not an image"},
		{"huge-header.png", "pixel limit"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", c.file)
			_, err := Load(path, DecodeOptions{})
			if err == nil {
				t.Fatal("decoded a broken file")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestPixelLimitFromHeader(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "good", "rgb8.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(data, DecodeOptions{MaxPixels: 34}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("35-pixel image under a 34-pixel limit: err = %v", err)
	}
	if _, err := Decode(data, DecodeOptions{MaxPixels: 35}); err != nil {
		t.Fatalf("35-pixel image under a 35-pixel limit: %v", err)
	}
	if _, err := Decode(data, DecodeOptions{MaxPixels: -1}); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}

func TestPNGRoundTrip(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "good", "rgb8.png"), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.png")
	if err := m.SavePNG(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := m.U8(), back.U8()
	for c := range a {
		if !bytes.Equal(a[c], b[c]) {
			t.Fatalf("channel %d changed in a PNG round trip", c)
		}
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("SavePNG left %d files, want only out.png", len(ents))
	}
}

func TestQuantize(t *testing.T) {
	cases := []struct {
		in   float32
		want uint8
	}{
		{-0.5, 0}, {0, 0}, {float32(math.NaN()), 0}, {1, 255}, {1.5, 255},
		{0.5 / 255, 0}, // 0.5 rounds half to even: 0
		{1.5 / 255, 2}, // 1.5 → 2
		{2.5 / 255, 2}, // 2.5 → 2
		{0.4, 102},
	}
	for _, c := range cases {
		if got := Quantize(c.in); got != c.want {
			t.Errorf("Quantize(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestCropBorder(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "good", "rgb8.png"), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.CropBorder(1)
	if err != nil {
		t.Fatal(err)
	}
	if c.W != 5 || c.H != 3 || !c.Exact8Bit() {
		t.Fatalf("crop: %dx%d exact=%v", c.W, c.H, c.Exact8Bit())
	}
	if got, want := c.U8()[0][0], pattern(1, 1)[0]; got != want {
		t.Errorf("crop origin R = %d, want %d", got, want)
	}
	if _, err := m.CropBorder(3); err == nil {
		t.Error("a border of 3 on a 7x5 image was accepted")
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must return an image or
// an error, never panic, and never allocate past the pixel limit.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"good", "bad"} {
		ents, err := os.ReadDir(filepath.Join("testdata", dir))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range ents {
			data, err := os.ReadFile(filepath.Join("testdata", dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, DecodeOptions{MaxPixels: 1 << 20})
		if err != nil {
			return
		}
		if m.W <= 0 || m.H <= 0 || int64(m.W)*int64(m.H) > 1<<20 {
			t.Fatalf("decoded an image of %dx%d", m.W, m.H)
		}
		for c := range m.Planes {
			if len(m.Planes[c]) != m.W*m.H {
				t.Fatalf("plane %d has %d samples for %dx%d", c, len(m.Planes[c]), m.W, m.H)
			}
		}
	})
}

// Size reads every good file's size from its header, the same as decoding
// gives, and names the file when it cannot.
func TestSizeFromHeader(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "good", "*"))
	for _, f := range files {
		m, err := Load(f, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if w, h, err := Size(f); err != nil || w != m.W || h != m.H {
			t.Errorf("%s: Size %dx%d %v, decoded %dx%d", f, w, h, err, m.W, m.H)
		}
	}
	bad := filepath.Join("testdata", "bad", "not-an-image.png")
	if _, _, err := Size(bad); err == nil || !strings.Contains(err.Error(), "not-an-image.png") {
		t.Errorf("Size of a non-image: %v", err)
	}
}

// TestQuantizeRoundsHalfToEven compares Quantize with math.RoundToEven on
// every float32 in [0, 1] near a multiple of 0.5/255 and on a sweep.
func TestQuantizeRoundsHalfToEven(t *testing.T) {
	ref := func(v float32) uint8 {
		if !(v > 0) {
			return 0
		}
		if v >= 1 {
			return 255
		}
		return uint8(math.RoundToEven(float64(v * 255)))
	}
	check := func(v float32) {
		if got, want := Quantize(v), ref(v); got != want {
			t.Fatalf("Quantize(%v) = %d, want %d", v, got, want)
		}
	}
	for k := 0; k <= 510; k++ {
		v := float32(k) / 510
		for d := -8; d <= 8; d++ {
			u := v
			for range abs(d) {
				if d < 0 {
					u = math.Nextafter32(u, 0)
				} else {
					u = math.Nextafter32(u, 2)
				}
			}
			check(u)
		}
	}
	for v := float32(-0.01); v < 1.01; v += 1e-7 {
		check(v)
	}
	check(float32(math.NaN()))
	check(float32(math.Inf(1)))
}

func abs(x int) int { return max(x, -x) }
