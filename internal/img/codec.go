package img

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registers GIF
	_ "image/jpeg"
	"image/png"
	"io"
	"os"

	"github.com/addsr-bench/addsr-bench/internal/atomicfile"

	_ "golang.org/x/image/bmp" // registers BMP
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// DefaultMaxPixels refuses images above 100 megapixels unless told otherwise:
// a DIV2K image is 2.8 MP, and a forged header can claim billions.
const DefaultMaxPixels = 100_000_000

// ErrTooLarge is wrapped by errors for images over the pixel limit.
var ErrTooLarge = errors.New("image exceeds the pixel limit")

// DecodeOptions controls decoding.
type DecodeOptions struct {
	// MaxPixels is checked against the header before decoding; 0 means
	// DefaultMaxPixels, negative means no limit.
	MaxPixels int64
}

func (o DecodeOptions) limit() int64 {
	if o.MaxPixels == 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

// Load reads and decodes an image file. Errors name the file and say what to do.
func Load(path string, opts DecodeOptions) (*Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // os errors already name the file
	}
	m, err := Decode(data, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Size reads an image file's width and height from its header alone.
func Size(path string) (w, h int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, describe(err, ""))
	}
	return cfg.Width, cfg.Height, nil
}

// Decode decodes PNG (8/16-bit, grey, palette, alpha), JPEG, BMP, TIFF, WebP
// and GIF. Alpha is dropped, not composited, as PIL's convert("RGB") does.
func Decode(data []byte, opts DecodeOptions) (*Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, describe(err, "")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s header gives an empty size %dx%d: the file is corrupt", format, cfg.Width, cfg.Height)
	}
	if lim := opts.limit(); lim > 0 && int64(cfg.Width)*int64(cfg.Height) > lim {
		return nil, fmt.Errorf("%w: %s header says %dx%d (%d pixels), limit %d; raise it with --max-pixels if the image is genuine",
			ErrTooLarge, format, cfg.Width, cfg.Height, int64(cfg.Width)*int64(cfg.Height), lim)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, describe(err, format)
	}
	return FromImage(src), nil
}

func describe(err error, format string) error {
	switch {
	case errors.Is(err, image.ErrFormat):
		return fmt.Errorf("not an image in a known format (PNG, JPEG, BMP, TIFF, WebP, GIF): %w", err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("%s data ends early: the file is truncated; copy or export it again", nameOr(format))
	default:
		return fmt.Errorf("%s data is corrupt (%v); copy or export it again", nameOr(format), err)
	}
}

func nameOr(format string) string {
	if format == "" {
		return "image"
	}
	return format
}

// FromImage converts any image.Image. 8-bit sources keep their exact samples.
func FromImage(src image.Image) *Image {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	switch s := src.(type) {
	case *image.NRGBA:
		return fromInterleaved(w, h, s.Pix, s.Stride)
	case *image.RGBA:
		if opaque(s) {
			return fromInterleaved(w, h, s.Pix, s.Stride)
		}
	case *image.Gray:
		planes := [3][]uint8{make([]uint8, w*h)}
		for y := 0; y < h; y++ {
			copy(planes[0][y*w:(y+1)*w], s.Pix[y*s.Stride:])
		}
		planes[1], planes[2] = planes[0], planes[0]
		return FromU8(w, h, planes)
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range s.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			lut[i] = [3]uint8{n.R, n.G, n.B}
		}
		planes := [3][]uint8{make([]uint8, w*h), make([]uint8, w*h), make([]uint8, w*h)}
		for y := 0; y < h; y++ {
			row := s.Pix[y*s.Stride:]
			for x := 0; x < w; x++ {
				e := lut[row[x]]
				planes[0][y*w+x], planes[1][y*w+x], planes[2][y*w+x] = e[0], e[1], e[2]
			}
		}
		return FromU8(w, h, planes)
	}
	if is8Bit(src) {
		planes := [3][]uint8{make([]uint8, w*h), make([]uint8, w*h), make([]uint8, w*h)}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				n := color.NRGBAModel.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				planes[0][y*w+x], planes[1][y*w+x], planes[2][y*w+x] = n.R, n.G, n.B
			}
		}
		return FromU8(w, h, planes)
	}
	// 16-bit and other deep sources: non-premultiplied 16-bit values /65535.
	m := New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := color.NRGBA64Model.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			i := y*w + x
			m.Planes[0][i] = float32(n.R) / 65535
			m.Planes[1][i] = float32(n.G) / 65535
			m.Planes[2][i] = float32(n.B) / 65535
		}
	}
	return m
}

// fromInterleaved reads 8-bit RGBA rows, ignoring alpha.
func fromInterleaved(w, h int, pix []uint8, stride int) *Image {
	planes := [3][]uint8{make([]uint8, w*h), make([]uint8, w*h), make([]uint8, w*h)}
	for y := 0; y < h; y++ {
		r := pix[y*stride:]
		for x := 0; x < w; x++ {
			p := r[4*x:]
			planes[0][y*w+x], planes[1][y*w+x], planes[2][y*w+x] = p[0], p[1], p[2]
		}
	}
	return FromU8(w, h, planes)
}

func opaque(s *image.RGBA) bool {
	for y := 0; y < s.Rect.Dy(); y++ {
		row := s.Pix[y*s.Stride : y*s.Stride+4*s.Rect.Dx()]
		for x := 3; x < len(row); x += 4 {
			if row[x] != 0xff {
				return false
			}
		}
	}
	return true
}

func is8Bit(src image.Image) bool {
	switch src.(type) {
	case *image.YCbCr, *image.NYCbCrA, *image.CMYK, *image.RGBA, *image.Gray, *image.NRGBA, *image.Paletted, *image.Alpha:
		return true
	}
	return false
}

// ToNRGBA renders the image as 8-bit RGB (quantised as U8 does).
func (m *Image) ToNRGBA() *image.NRGBA {
	u := m.U8()
	out := image.NewNRGBA(image.Rect(0, 0, m.W, m.H))
	for i := 0; i < m.W*m.H; i++ {
		p := out.Pix[4*i:]
		p[0], p[1], p[2], p[3] = u[0][i], u[1][i], u[2][i], 0xff
	}
	return out
}

// EncodePNG writes an 8-bit RGB PNG.
func (m *Image) EncodePNG(w io.Writer) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, m.ToNRGBA())
}

// SavePNG writes an 8-bit PNG atomically: a temporary file in the same folder,
// then a rename, so a killed run never leaves half an image behind.
func (m *Image) SavePNG(path string) error {
	return atomicfile.Write(path, func(w io.Writer) error { return m.EncodePNG(w) })
}
