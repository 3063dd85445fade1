package datasets

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// The demo's photos come from Debian's python3-skimage 0.19 package
// (skimage/data), byte for byte; see samples/ATTRIBUTION.md for each one's
// author and licence (all public domain or CC0).
//
//go:embed samples/*.png samples/*.jpg samples/ATTRIBUTION.md
var samples embed.FS

// Sample is one embedded photo.
type Sample struct {
	Name  string
	Image *img.Image
}

// Samples decodes the embedded demo photos, sorted by name.
func Samples() ([]Sample, error) {
	ents, err := fs.ReadDir(samples, "samples")
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, e := range ents {
		if !IsImage(e.Name()) {
			continue
		}
		data, err := samples.ReadFile("samples/" + e.Name())
		if err != nil {
			return nil, err
		}
		m, err := img.Decode(data, img.DecodeOptions{})
		if err != nil {
			return nil, fmt.Errorf("embedded sample %s: %w", e.Name(), err)
		}
		out = append(out, Sample{Name: Stem(e.Name()), Image: m})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Attribution is the samples' attribution text.
func Attribution() string {
	b, _ := samples.ReadFile("samples/ATTRIBUTION.md")
	return string(b)
}
