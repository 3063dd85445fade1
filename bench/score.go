// Package bench runs evaluations: it loads images, runs SR methods, scores
// them with metrics on a pool of workers and produces per-image records.
package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/reports"
)

// ScoreOptions controls ScorePairs.
type ScoreOptions struct {
	Workers int // ≤ 0: one per CPU
	Decode  img.DecodeOptions
	// Progress, when set, is called once per finished image, from any goroutine.
	Progress func()
	// Timings records each metric's wall time per image (TimingsMS, by
	// metric name, plus "decode" for reading the files).
	Timings bool
}

// ScorePairs scores every pair with every metric. Records come back in the
// order of pairs; a pair that cannot be scored (unreadable file, size
// mismatch, metric error) gets a record with Error set and the rest go on.
func ScorePairs(ctx context.Context, pairs []datasets.Pair, ms []metrics.Metric, opts ScoreOptions) ([]reports.Record, error) {
	out := make([]reports.Record, len(pairs))
	err := workpool.Run(ctx, len(pairs), opts.Workers, func(i int) {
		p := pairs[i]
		out[i] = reports.Record{Image: p.ID}
		var times map[string]float64
		if opts.Timings {
			times = map[string]float64{}
		}
		vals, err := scorePair(p, ms, opts.Decode, times)
		if err != nil {
			out[i].Error = err.Error()
		} else {
			out[i].Values = vals
			out[i].TimingsMS = times
		}
		if opts.Progress != nil {
			opts.Progress()
		}
	})
	return out, err
}

func scorePair(p datasets.Pair, ms []metrics.Metric, dec img.DecodeOptions, times map[string]float64) (map[string]float64, error) {
	t0 := time.Now()
	dist, err := img.Load(p.Dist, dec)
	if err != nil {
		return nil, err
	}
	var ref *img.Image
	if p.Ref != "" {
		if ref, err = img.Load(p.Ref, dec); err != nil {
			return nil, err
		}
	} else {
		for _, m := range ms {
			if m.NeedsReference() {
				return nil, fmt.Errorf("%s: %s needs a reference; pass --ref", p.Dist, m.Name())
			}
		}
	}
	if times != nil {
		times["decode"] = msSince(t0)
	}
	vals, err := scoreImages(dist, ref, ms, times)
	if err != nil {
		var sm *metrics.SizeMismatchError
		if errors.As(err, &sm) {
			return nil, fmt.Errorf("%s is %dx%d but its reference %s is %dx%d", p.Dist, sm.Dist[0], sm.Dist[1], p.Ref, sm.Ref[0], sm.Ref[1])
		}
		return nil, fmt.Errorf("%s: %w", p.Dist, err)
	}
	return vals, nil
}

// ScoreImages applies each metric to one image (and its reference).
func ScoreImages(dist, ref *img.Image, ms []metrics.Metric) (map[string]float64, error) {
	return scoreImages(dist, ref, ms, nil)
}

// scoreImages is ScoreImages, timing each metric into times when it is set.
func scoreImages(dist, ref *img.Image, ms []metrics.Metric, times map[string]float64) (map[string]float64, error) {
	vals := make(map[string]float64, len(ms))
	for _, m := range ms {
		t0 := time.Now()
		v, err := m.Score(dist, ref)
		if times != nil {
			times[m.Name()] = msSince(t0)
		}
		if err != nil {
			return nil, err
		}
		if math.IsNaN(v) {
			return nil, fmt.Errorf("%s gave NaN", m.Name())
		}
		vals[m.Name()] = v
	}
	return vals, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

// Version is the tool's version, recorded in every result.
var Version = "0.1.0-dev"
