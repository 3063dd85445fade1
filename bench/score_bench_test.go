package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/metrics"
)

// BenchmarkScore100 scores 100 pairs of 512² PNGs with psnr, ssim and niqe
// end to end (PNG decoding included) on 1 and 2 workers:
//
//	go test -run '^$' -bench Score100 -benchtime 3x ./bench
func BenchmarkScore100(b *testing.B) {
	samples, err := datasets.Samples()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(5, 5))
	var pairs []datasets.Pair
	for i := 0; i < 100; i++ {
		s := samples[i%len(samples)].Image
		x0, y0 := r.IntN(s.W-512+1), r.IntN(s.H-512+1)
		ref, err := s.Crop(x0, y0, 512, 512)
		if err != nil {
			b.Fatal(err)
		}
		dist := img.New(512, 512)
		for c := range dist.Planes {
			for k, v := range ref.Planes[c] {
				dist.Planes[c][k] = v + float32(r.NormFloat64()*0.03)
			}
		}
		p := datasets.Pair{ID: fmt.Sprint(i), Ref: filepath.Join(dir, fmt.Sprintf("r%d.png", i)), Dist: filepath.Join(dir, fmt.Sprintf("d%d.png", i))}
		if err := ref.SavePNG(p.Ref); err != nil {
			b.Fatal(err)
		}
		if err := dist.SavePNG(p.Dist); err != nil {
			b.Fatal(err)
		}
		pairs = append(pairs, p)
	}
	ms, err := metrics.NewList("psnr,ssim,niqe", metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				recs, err := ScorePairs(context.Background(), pairs, ms, ScoreOptions{Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				for _, rec := range recs {
					if rec.Skipped() {
						b.Fatal(rec.Error)
					}
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/100img")
		})
	}
}
