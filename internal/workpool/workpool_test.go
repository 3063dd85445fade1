package workpool

import (
	"context"
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
