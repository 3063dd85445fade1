package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/metrics"
)

// Scoring in batches gives every pair the record it gets alone: the same
// values (learned metrics within float rounding of a stacked inference), the
// same errors, in order.
func TestScorePairsBatched(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "metrics", "testdata")
	var pairs []datasets.Pair
	for i, name := range []string{"astronaut-noise", "hubble-blur", "ihc-jpeg", "astronaut-noise", "hubble-blur"} {
		ref, err := img.Load(filepath.Join(src, name+"-ref.png"), img.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dist, _ := img.Load(filepath.Join(src, name+"-dist.png"), img.DecodeOptions{})
		if i >= 3 { // same content, another size: a group of its own
			ref, _ = ref.Crop(0, 0, 200, 160)
			dist, _ = dist.Crop(0, 0, 200, 160)
		}
		id := fmt.Sprintf("%d-%s", i, name)
		p := datasets.Pair{ID: id, Dist: filepath.Join(dir, id+"-d.png"), Ref: filepath.Join(dir, id+"-r.png")}
		dist.SavePNG(p.Dist)
		ref.SavePNG(p.Ref)
		pairs = append(pairs, p)
	}
	// A pair whose distorted file is broken, in the middle of a batch.
	broken := datasets.Pair{ID: "broken", Dist: filepath.Join(dir, "broken.png"), Ref: pairs[0].Ref}
	os.WriteFile(broken.Dist, []byte("not a png"), 0o644)
	pairs = append(pairs[:2], append([]datasets.Pair{broken}, pairs[2:]...)...)

	var ms []metrics.Metric
	for _, c := range []struct{ name, models string }{{"psnr", ""}, {"ssim", ""}, {"lpips", "lpips"}, {"clipiqa", "nr"}, {"musiq", "nr"}, {"maniqa", "nr"}} {
		m, err := metrics.New(c.name, metrics.Config{Models: filepath.Join(src, c.models), MaxMemory: -1})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	alone, err := ScorePairs(context.Background(), pairs, ms, ScoreOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{2, 4, 10} {
		got, err := ScorePairs(context.Background(), pairs, ms, ScoreOptions{Workers: 2, Batch: batch, Timings: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range alone {
			g := got[i]
			if g.Image != want.Image || g.Error != want.Error {
				t.Errorf("batch %d, pair %d: %q %q, alone %q %q", batch, i, g.Image, g.Error, want.Image, want.Error)
				continue
			}
			for k, v := range want.Values {
				if d := math.Abs(g.Values[k] - v); d > 1e-5*math.Max(1e-3, math.Abs(v)) {
					t.Errorf("batch %d, %s %s: %v, alone %v", batch, g.Image, k, g.Values[k], v)
				}
			}
			if want.Error == "" && (len(g.TimingsMS) != len(ms)+1 || g.TimingsMS["decode"] <= 0) {
				t.Errorf("batch %d, %s: timings %v", batch, g.Image, g.TimingsMS)
			}
		}
	}
	if !strings.Contains(alone[2].Error, "broken.png") {
		t.Errorf("broken pair: %q", alone[2].Error)
	}
}

// Decoding runs ahead of scoring: records still come back in the pairs'
// order for any worker count and batch, and a cancelled run stops (no
// goroutine left blocked) with the context's error.
func TestScorePairsPipeline(t *testing.T) {
	dir := t.TempDir()
	var pairs []datasets.Pair
	for i := range 23 {
		ref := img.New(16+i%3, 12)
		dist := img.New(16+i%3, 12)
		for c := range ref.Planes {
			for j := range ref.Planes[c] {
				ref.Planes[c][j] = float32((j*7+c)%13) / 13
				dist.Planes[c][j] = ref.Planes[c][j] + float32(i+1)/200
			}
		}
		p := datasets.Pair{ID: fmt.Sprintf("%02d", i), Dist: filepath.Join(dir, fmt.Sprintf("%02d-d.png", i)), Ref: filepath.Join(dir, fmt.Sprintf("%02d-r.png", i))}
		if err := dist.SavePNG(p.Dist); err != nil {
			t.Fatal(err)
		}
		ref.SavePNG(p.Ref)
		pairs = append(pairs, p)
	}
	psnr, _ := metrics.New("psnr", metrics.Config{})
	ms := []metrics.Metric{psnr}
	want, err := ScorePairs(context.Background(), pairs, ms, ScoreOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(want); i++ { // larger offsets, lower PSNR: order shows
		if want[i].Image != pairs[i].ID || !(want[i].Values["psnr"] < want[i-1].Values["psnr"]) {
			t.Fatalf("record %d: %+v after %+v", i, want[i], want[i-1])
		}
	}
	for _, c := range []struct{ workers, batch int }{{1, 1}, {3, 1}, {1, 4}, {4, 5}, {2, 30}} {
		got, err := ScorePairs(context.Background(), pairs, ms, ScoreOptions{Workers: c.workers, Batch: c.batch})
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i].Image != want[i].Image || got[i].Values["psnr"] != want[i].Values["psnr"] {
				t.Errorf("workers %d batch %d, record %d: %+v, want %+v", c.workers, c.batch, i, got[i], want[i])
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32 // Progress is called from any goroutine
	_, err = ScorePairs(ctx, pairs, ms, ScoreOptions{Workers: 2, Progress: func() {
		if n.Add(1) == 3 {
			cancel()
		}
	}})
	if err != context.Canceled {
		t.Errorf("cancelled run: %v", err)
	}
}
