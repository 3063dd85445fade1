package metrics_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/models"
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
				if r, ok := m.(interface{ Ready() error }); ok && r.Ready() != nil {
					b.Skip("no model for ", name, " (BenchmarkLearned times the learned metrics)")
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

// benchModels is the folder of models in $ADDSR_BENCH_MODELS (the benchmark
// is skipped without one) and the device in $ADDSR_BENCH_DEVICE.
func benchModels(b *testing.B) (string, models.Device) {
	dir := os.Getenv("ADDSR_BENCH_MODELS")
	if dir == "" {
		b.Skip("set ADDSR_BENCH_MODELS to a folder of learned-metric models")
	}
	dev, err := models.ParseDevice(os.Getenv("ADDSR_BENCH_DEVICE"))
	if err != nil {
		b.Fatal(err)
	}
	return dir, dev
}

// BenchmarkLearned reports the learned metrics' images/s at 512², one image
// per inference and 16 stacked, on the models in $ADDSR_BENCH_MODELS (the
// full-size stand-ins of bench/learned/peer_torch_metrics.py export, or real
// exports) and the device in $ADDSR_BENCH_DEVICE (default cpu):
//
//	ADDSR_BENCH_MODELS=/tmp/addsr-learned/standins go test -run '^$' -bench Learned -benchtime 3x ./metrics
func BenchmarkLearned(b *testing.B) {
	dir, dev := benchModels(b)
	imgs, err := benchImages()
	if err != nil {
		b.Fatal(err)
	}
	ref := imgs["512x512"][0]
	var dists, refs []*img.Image
	for i := range 16 {
		dists = append(dists, noisy(ref, 4+float64(i), uint64(10+i)))
		refs = append(refs, ref)
	}
	for _, name := range []string{"lpips", "lpips-vgg", "maniqa", "musiq", "clipiqa"} {
		m, err := metrics.New(name, metrics.Config{Models: dir, Device: dev})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.(interface{ Ready() error }).Ready(); err != nil {
			b.Logf("%s: %v", name, err)
			continue
		}
		for _, batch := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/512x512/batch%d", name, batch), func(b *testing.B) {
				// Warm-up, untimed (b.Loop starts the clock): on a GPU the first
				// inference of a shape selects kernels, which made the first
				// H200 run's 5-iteration figures mostly that (lpips batch 1:
				// 124 ms per image against 5.5 in score).
				for range 2 {
					if batch == 1 {
						_, err = m.Score(dists[0], refs[0])
					} else {
						_, errs := m.(metrics.BatchScorer).ScoreBatch(dists, refs)
						err = errors.Join(errs...)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				n := 0
				for b.Loop() {
					if batch == 1 {
						if _, err := m.Score(dists[n%16], refs[n%16]); err != nil {
							b.Fatal(err)
						}
						n++
						continue
					}
					_, errs := m.(metrics.BatchScorer).ScoreBatch(dists, refs)
					for _, err := range errs {
						if err != nil {
							b.Fatal(err)
						}
					}
					n += len(dists)
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}

// BenchmarkLearnedPreprocess is the Go share of each learned metric per
// image (before the graph): on a GPU, where the four metrics together have
// 12.5 ms per 512² image for the 100-images-in-5-s goal, this is the part
// the CPU adds. go test -run '^$' -bench LearnedPreprocess -cpu 1 ./metrics
func BenchmarkLearnedPreprocess(b *testing.B) {
	ims, err := benchImages()
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []string{"512x512", "2040x1356"} {
		m := ims[size][0]
		for _, c := range []struct {
			name string
			fn   func() error
		}{
			{"musiq", func() error { _, _, err := metrics.MusiqInput(m); return err }},
			{"maniqa", func() error { _, err := metrics.ManiqaInput(m); return err }},
			{"clipiqa", func() error { metrics.ClipInput(m); return nil }},
		} {
			b.Run(c.name+"/"+size, func(b *testing.B) {
				for b.Loop() {
					if err := c.fn(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/image")
			})
		}
	}
}

// BenchmarkLoad times loading the four paper metrics' models (lpips,
// maniqa, musiq, clipiqa) from $ADDSR_BENCH_MODELS on $ADDSR_BENCH_DEVICE
// (default cpu), one after another (Load) against at once (LoadAll), each
// with plain sessions and with static shapes (whose sessions wait for the
// first image of each shape):
//
//	ADDSR_BENCH_MODELS=/tmp/addsr-learned/standins go test -run '^$' -bench 'Load$' -benchtime 3x ./metrics
func BenchmarkLoad(b *testing.B) {
	dir, dev := benchModels(b)
	for _, static := range []bool{false, true} {
		for _, together := range []bool{false, true} {
			b.Run(fmt.Sprintf("static=%v/at-once=%v", static, together), func(b *testing.B) {
				d := dev
				d.StaticShapes = static
				for b.Loop() {
					ms, err := metrics.NewList("lpips,maniqa,musiq,clipiqa", metrics.Config{Models: dir, Device: d})
					if err != nil {
						b.Fatal(err)
					}
					if together {
						for _, l := range metrics.LoadAll(ms) {
							err = errors.Join(err, l.Err)
						}
					} else {
						for _, m := range ms {
							_, e := metrics.Load(m)
							err = errors.Join(err, e)
						}
					}
					metrics.Close(ms)
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/load")
			})
		}
	}
}
