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
// With Batch > 1, each worker takes Batch pairs at a time, in order of size,
// and metrics that can (metrics.BatchScorer) score them together.
func ScorePairs(ctx context.Context, pairs []datasets.Pair, ms []metrics.Metric, opts ScoreOptions) ([]reports.Record, error) {
	out := make([]reports.Record, len(pairs))
	batch := max(opts.Batch, 1)
	order := make([]int, len(pairs))
	for i := range order {
		order[i] = i
	}
	if batch > 1 { // batches of one size stack into one inference
		order = bySize(order, func(i int) string { return pairs[i].Dist })
	}
	chunks := (len(pairs) + batch - 1) / batch
	err := workpool.Run(ctx, chunks, opts.Workers, func(c int) {
		idx := order[c*batch : min(len(pairs), (c+1)*batch)]
		chunk := make([]datasets.Pair, len(idx))
		for k, i := range idx {
			chunk[k] = pairs[i]
		}
		recs := make([]reports.Record, len(idx))
		scoreChunk(chunk, recs, ms, opts)
		for k, i := range idx {
			out[i] = recs[k]
		}
		if opts.Progress != nil {
			for range idx {
				opts.Progress()
			}
		}
	})
	return out, err
}

// scoreItem is one image (and its reference) on its way through scoreAll.
type scoreItem struct {
	dist, ref *img.Image
	vals      map[string]float64
	times     map[string]float64 // nil unless timing
	err       error
	// wrap makes a metric's error the item's (naming its files, say).
	wrap func(m metrics.Metric, err error) error
}

// scoreAll scores the items with every metric, metric by metric: metrics
// that batch (metrics.BatchScorer) score all live items together, each
// image timed as its share. Items without a reference skip full-reference
// metrics; an item's first error stops it.
func scoreAll(items []*scoreItem, ms []metrics.Metric) {
	for _, m := range ms {
		var live []*scoreItem
		for _, it := range items {
			if it.err == nil && !(m.NeedsReference() && it.ref == nil) {
				live = append(live, it)
			}
		}
		if bs, ok := m.(metrics.BatchScorer); ok && len(live) > 1 {
			dists, refs := make([]*img.Image, len(live)), make([]*img.Image, len(live))
			for k, it := range live {
				dists[k], refs[k] = it.dist, it.ref
			}
			t0 := time.Now()
			vals, errs := bs.ScoreBatch(dists, refs)
			share := msSince(t0) / float64(len(live))
			for k, it := range live {
				it.record(m, vals[k], errs[k], share)
			}
			continue
		}
		for _, it := range live {
			t0 := time.Now()
			v, err := m.Score(it.dist, it.ref)
			it.record(m, v, err, msSince(t0))
		}
	}
}

// record keeps metric m's result for the item, or its error, which then
// stops the item.
func (it *scoreItem) record(m metrics.Metric, v float64, err error, ms float64) {
	if it.times != nil {
		it.times[m.Name()] = ms
	}
	if err == nil && math.IsNaN(v) {
		err = fmt.Errorf("%s gave NaN", m.Name())
	}
	if err != nil {
		it.err = it.wrap(m, err)
		return
	}
	it.vals[m.Name()] = v
}

// scoreChunk scores pairs into out.
func scoreChunk(pairs []datasets.Pair, out []reports.Record, ms []metrics.Metric, opts ScoreOptions) {
	items := make([]*scoreItem, len(pairs))
	for i, p := range pairs {
		t0 := time.Now()
		it := &scoreItem{vals: make(map[string]float64, len(ms)), wrap: func(_ metrics.Metric, err error) error {
			var sm *metrics.SizeMismatchError
			if errors.As(err, &sm) {
				return fmt.Errorf("%s is %dx%d but its reference %s is %dx%d", p.Dist, sm.Dist[0], sm.Dist[1], p.Ref, sm.Ref[0], sm.Ref[1])
			}
			return fmt.Errorf("%s: %w", p.Dist, err)
		}}
		it.dist, it.ref, it.err = loadPair(p, ms, opts.Decode)
		if opts.Timings {
			it.times = map[string]float64{"decode": msSince(t0)}
		}
		items[i] = it
	}
	scoreAll(items, ms)
	for i, it := range items {
		out[i] = reports.Record{Image: pairs[i].ID}
		if it.err != nil {
			out[i].Error = it.err.Error()
		} else {
			out[i].Values, out[i].TimingsMS = it.vals, it.times
		}
	}
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
