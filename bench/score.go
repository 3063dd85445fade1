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
	// metric name, plus "decode" for reading the files; a batch member's
	// share of the batch).
	Timings bool
	// Batch is how many pairs a worker scores together (≤ 1: one at a time).
	Batch int
}

// ScorePairs scores every pair with every metric. Records come back in the
// order of pairs; a pair that cannot be scored (unreadable file, size
// mismatch, metric error) gets a record with Error set and the rest go on.
// With Batch > 1, each worker takes Batch pairs at a time and metrics that
// can (metrics.BatchScorer) score them together.
func ScorePairs(ctx context.Context, pairs []datasets.Pair, ms []metrics.Metric, opts ScoreOptions) ([]reports.Record, error) {
	out := make([]reports.Record, len(pairs))
	batch := max(opts.Batch, 1)
	chunks := (len(pairs) + batch - 1) / batch
	err := workpool.Run(ctx, chunks, opts.Workers, func(c int) {
		lo, hi := c*batch, min(len(pairs), (c+1)*batch)
		scoreChunk(pairs[lo:hi], out[lo:hi], ms, opts)
		if opts.Progress != nil {
			for range hi - lo {
				opts.Progress()
			}
		}
	})
	return out, err
}

// scoredPair is one pair on its way through scoreChunk.
type scoredPair struct {
	p         datasets.Pair
	dist, ref *img.Image
	vals      map[string]float64
	times     map[string]float64 // nil unless timing
	err       error
}

// scoreChunk scores pairs into out, metric by metric.
func scoreChunk(pairs []datasets.Pair, out []reports.Record, ms []metrics.Metric, opts ScoreOptions) {
	sp := make([]scoredPair, len(pairs))
	for i, p := range pairs {
		s := &sp[i]
		t0 := time.Now()
		s.p, s.vals = p, make(map[string]float64, len(ms))
		s.dist, s.ref, s.err = loadPair(p, ms, opts.Decode)
		if opts.Timings {
			s.times = map[string]float64{"decode": msSince(t0)}
		}
	}
	for _, m := range ms {
		var live []*scoredPair
		for i := range sp {
			if sp[i].err == nil {
				live = append(live, &sp[i])
			}
		}
		if bs, ok := m.(metrics.BatchScorer); ok && len(live) > 1 {
			dists, refs := make([]*img.Image, len(live)), make([]*img.Image, len(live))
			for k, s := range live {
				dists[k], refs[k] = s.dist, s.ref
			}
			t0 := time.Now()
			vals, errs := bs.ScoreBatch(dists, refs)
			share := msSince(t0) / float64(len(live)) // each image's share of the batch
			for k, s := range live {
				s.record(m, vals[k], errs[k], share)
			}
			continue
		}
		for _, s := range live {
			t0 := time.Now()
			v, err := m.Score(s.dist, s.ref)
			s.record(m, v, err, msSince(t0))
		}
	}
	for i, s := range sp {
		out[i] = reports.Record{Image: s.p.ID}
		if s.err != nil {
			out[i].Error = s.err.Error()
		} else {
			out[i].Values, out[i].TimingsMS = s.vals, s.times
		}
	}
}

// record keeps metric m's result for the pair, or its error, which then
// stops the pair.
func (s *scoredPair) record(m metrics.Metric, v float64, err error, ms float64) {
	if s.times != nil {
		s.times[m.Name()] = ms
	}
	if err == nil && math.IsNaN(v) {
		err = fmt.Errorf("%s gave NaN", m.Name())
	}
	if err != nil {
		var sm *metrics.SizeMismatchError
		if errors.As(err, &sm) {
			s.err = fmt.Errorf("%s is %dx%d but its reference %s is %dx%d", s.p.Dist, sm.Dist[0], sm.Dist[1], s.p.Ref, sm.Ref[0], sm.Ref[1])
		} else {
			s.err = fmt.Errorf("%s: %w", s.p.Dist, err)
		}
		return
	}
	s.vals[m.Name()] = v
}

// loadPair decodes a pair's images.
func loadPair(p datasets.Pair, ms []metrics.Metric, dec img.DecodeOptions) (dist, ref *img.Image, err error) {
	if dist, err = img.Load(p.Dist, dec); err != nil {
		return nil, nil, err
	}
	if p.Ref != "" {
		if ref, err = img.Load(p.Ref, dec); err != nil {
			return nil, nil, err
		}
		return dist, ref, nil
	}
	for _, m := range ms {
		if m.NeedsReference() {
			return nil, nil, fmt.Errorf("%s: %s needs a reference; pass --ref", p.Dist, m.Name())
		}
	}
	return dist, nil, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

// Version is the tool's version, recorded in every result.
var Version = "0.1.0-dev"
