package metrics_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/metrics"
)

// benchImages returns a reference and a noisy copy at 512² (astronaut) and
// 2040×1356 (the hubble photo resized to DIV2K's size).
var benchImages = sync.OnceValues(func() (map[string][2]*img.Image, error) {
	s, err := datasets.Samples()
	if err != nil {
		return nil, err
	}
	out := map[string][2]*img.Image{}
	for _, x := range s {
		switch x.Name {
		case "astronaut":
			ref, _ := x.Image.CenterCrop(512, 512)
			out["512x512"] = [2]*img.Image{ref, noisy(ref, 8, 3)}
		case "hubble_deep_field":
			big := img.New(2040, 1356)
			for c := 0; c < 3; c++ {
				p := imresize.NewPlane(x.Image.W, x.Image.H)
				for i, v := range x.Image.Planes[c] {
					p.Pix[i] = float64(v)
				}
				r, err := imresize.Size(p, 2040, 1356, true)
				if err != nil {
					return nil, err
				}
				for i, v := range r.Pix {
					big.Planes[c][i] = float32(v)
				}
			}
			ref := big.Quantized()
			out["2040x1356"] = [2]*img.Image{ref, noisy(ref, 8, 4)}
		}
	}
	return out, nil
})

// BenchmarkMetric reports each metric's throughput in megapixels per second
// on one core (go test -bench Metric -cpu 1 ./metrics).
func BenchmarkMetric(b *testing.B) {
	imgs, err := benchImages()
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []string{"512x512", "2040x1356"} {
		pair := imgs[size]
		for _, name := range metrics.Names() {
			b.Run(fmt.Sprintf("%s/%s", name, size), func(b *testing.B) {
				m, err := metrics.New(name, metrics.Config{})
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := m.Score(pair[1], pair[0]); err != nil {
						b.Fatal(err)
					}
				}
				px := float64(pair[0].Pixels()) * float64(b.N)
				b.ReportMetric(px/b.Elapsed().Seconds()/1e6, "MPix/s")
			})
		}
	}
}
