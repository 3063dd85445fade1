package workpool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunEveryIndexOnce(t *testing.T) {
	for _, c := range []struct{ n, workers int }{{0, 4}, {1, 4}, {10, 1}, {10, 3}, {100, 0}, {5, 100}} {
		var mu sync.Mutex
		seen := map[int]int{}
		var running, peak atomic.Int32
		err := Run(context.Background(), c.n, c.workers, func(i int) {
			r := running.Add(1)
			for {
				p := peak.Load()
				if r <= p || peak.CompareAndSwap(p, r) {
					break
				}
			}
			time.Sleep(100 * time.Microsecond)
			running.Add(-1)
			mu.Lock()
			seen[i]++
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < c.n; i++ {
			if seen[i] != 1 {
				t.Errorf("n=%d workers=%d: job %d ran %d times", c.n, c.workers, i, seen[i])
			}
		}
		if len(seen) != c.n || int(peak.Load()) > Workers(c.workers) {
			t.Errorf("n=%d workers=%d: %d jobs, %d at once", c.n, c.workers, len(seen), peak.Load())
		}
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Int32
	err := Run(ctx, 1000, 2, func(i int) {
		if done.Add(1) == 10 {
			cancel()
		}
	})
	if err != context.Canceled {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if n := done.Load(); n >= 1000 || n < 10 {
		t.Errorf("%d jobs ran after a cancel at the 10th", n)
	}
}

// Split covers [0, n) exactly once, in at most GOMAXPROCS and n/minPiece
// pieces (one when n is small).
func TestSplit(t *testing.T) {
	for _, c := range []struct{ n, minPiece int }{{0, 10}, {5, 10}, {10, 10}, {1000, 10}, {1000, 0}, {12345, 100}} {
		seen := make([]int32, c.n)
		var pieces atomic.Int32
		Split(c.n, c.minPiece, func(lo, hi int) {
			pieces.Add(1)
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&seen[i], 1)
			}
		})
		for i, v := range seen {
			if v != 1 {
				t.Fatalf("n=%d: element %d covered %d times", c.n, i, v)
			}
		}
		if p := int(pieces.Load()); p < 1 || p > max(min(runtime.GOMAXPROCS(0), c.n/max(c.minPiece, 1)), 1) {
			t.Errorf("n=%d: %d pieces", c.n, p)
		}
	}
}

func TestEvenChunk(t *testing.T) {
	for _, c := range []struct{ n, most, want int }{
		{100, 32, 25}, // 4 × 25, not 3 × 32 + 4
		{100, 8, 8},   // 12 × 8 + 4: as few chunks as 8 allows
		{100, 16, 15}, // 6 × 15 + 10
		{100, 4, 4},
		{70, 32, 24}, // 24 + 24 + 22
		{5, 32, 5},
		{1, 32, 1},
		{0, 32, 1},
		{100, 1, 1},
		{100, 0, 1},
		{33, 32, 17},
	} {
		got := EvenChunk(c.n, c.most)
		if got != c.want {
			t.Errorf("EvenChunk(%d, %d) = %d, want %d", c.n, c.most, got, c.want)
		}
		if c.n > 0 && c.most > 0 && got > max(c.most, 1) {
			t.Errorf("EvenChunk(%d, %d) = %d exceeds the most", c.n, c.most, got)
		}
		// As few chunks as the requested size needs.
		if c.n > 0 && c.most > 1 && (c.n+got-1)/got != (c.n+c.most-1)/c.most {
			t.Errorf("EvenChunk(%d, %d) = %d takes %d chunks, not %d", c.n, c.most, got, (c.n+got-1)/got, (c.n+c.most-1)/c.most)
		}
	}
}
