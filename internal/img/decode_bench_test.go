package img

import (
	"bytes"
	"image/png"
	"os"
	"testing"
)

// BenchmarkDecodePNG512 decodes the astronaut photo (512², 8-bit RGB PNG as
// scikit-image ships it): the standard library's decoder, then our
// conversion to planes.
func BenchmarkDecodePNG512(b *testing.B) {
	data, err := os.ReadFile("../../datasets/samples/astronaut.png")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("image/png", func(b *testing.B) {
		for b.Loop() {
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("img.Decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode(data, DecodeOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
