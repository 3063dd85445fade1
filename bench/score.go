// Package bench runs evaluations: it loads images, runs SR methods, scores
// them with metrics on a pool of workers and produces per-image records.
package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
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
//
// Decoding runs ahead of scoring, on all cores: on a GPU host decoding a
// pair takes longer than LPIPS scoring it, so with one scoring worker (as a
// GPU wants) decoding in turn set the pace (docs/performance.md, "Figures behind design choices").
func ScorePairs(ctx context.Context, pairs []datasets.Pair, ms []metrics.Metric, opts ScoreOptions) ([]reports.Record, error) {
	out := make([]reports.Record, len(pairs))
	batch := workpool.EvenChunk(len(pairs), opts.Batch) // even batches: fewer padding rows on a GPU
	order := make([]int, len(pairs))
	for i := range order {
		order[i] = i
	}
	if batch > 1 { // batches of one size stack into one inference
		order = bySize(order, func(i int) string { return pairs[i].Dist })
	}
	chunks := (len(pairs) + batch - 1) / batch
	workers := min(workpool.Workers(opts.Workers), max(chunks, 1))
	cores := workpool.Workers(0)
	// Chunks are decoded a round at a time (enough pairs for every core),
	// in order, at most about two rounds ahead of the scoring workers.
	round := max(1, (cores+batch-1)/batch)
	decoded := make(chan decodedChunk, workers+round)
	ctx, cancel := context.WithCancel(ctx)
	decoderDone := make(chan struct{})
	go func() {
		defer close(decoderDone)
		defer close(decoded)
		for c0 := 0; c0 < chunks; c0 += round {
			c1 := min(chunks, c0+round)
			lo, hi := c0*batch, min(len(pairs), c1*batch)
			items := make([]*scoreItem, hi-lo)
			if workpool.Run(ctx, hi-lo, cores, func(k int) {
				items[k] = decodeItem(pairs[order[lo+k]], ms, opts)
			}) != nil {
				return
			}
			for c := c0; c < c1; c++ {
				a, b := c*batch-lo, min(len(pairs), (c+1)*batch)-lo
				select {
				case decoded <- decodedChunk{idx: order[lo+a : lo+b], items: items[a:b]}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	// One job per chunk, each scoring the next chunk decoded (none left:
	// the decoder stopped on cancellation).
	err := workpool.Run(ctx, chunks, workers, func(int) {
		ch, ok := <-decoded
		if !ok {
			return
		}
		scoreAll(ch.items, ms)
		for k, i := range ch.idx {
			out[i] = ch.items[k].recordFor(pairs[i].ID)
			if opts.Progress != nil {
				opts.Progress()
			}
		}
	})
	if err == nil {
		err = ctx.Err() // cancelled after the last chunk was handed out
	}
	cancel()
	<-decoderDone
	return out, err
}

// Warmup runs passes untimed, unreported scorings of pair, stacked as
// ScorePairs with opts stacks a set of n pairs (a batch of copies of it):
// on a GPU a shape's first inference selects kernels and allocates, and
// with static shapes creates that shape's session. The metrics warm up
// each in its own goroutine, so that one's session is made while another
// runs. Only a cancelled ctx is an error; a pair that fails to score fails
// again, reported, in the run that follows.
func Warmup(ctx context.Context, pair datasets.Pair, n int, ms []metrics.Metric, passes int, opts ScoreOptions) error {
	ws := make([]datasets.Pair, workpool.EvenChunk(n, opts.Batch))
	for i := range ws {
		ws[i] = pair
	}
	opts.Progress, opts.Timings = nil, false
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for k, m := range ms {
		wg.Go(func() {
			for range passes {
				if _, err := ScorePairs(ctx, ws, []metrics.Metric{m}, opts); err != nil {
					errs[k] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the same cancellation for each
		}
	}
	return nil
}

// decodedChunk is a chunk's pairs (their indices into the pairs) decoded.
type decodedChunk struct {
	idx   []int
	items []*scoreItem
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

// decodeItem decodes a pair into an item ready for scoreAll.
func decodeItem(p datasets.Pair, ms []metrics.Metric, opts ScoreOptions) *scoreItem {
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
	return it
}

// recordFor is the item's record: its values and timings, or its error.
func (it *scoreItem) recordFor(id string) reports.Record {
	r := reports.Record{Image: id}
	if it.err != nil {
		r.Error = it.err.Error()
	} else {
		r.Values, r.TimingsMS = it.vals, it.times
	}
	return r
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
