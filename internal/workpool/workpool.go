// Package workpool runs indexed jobs on a fixed number of goroutines, and
// splits large slice loops across cores.
package workpool

import (
	"context"
	"runtime"
	"sync"
)

// Workers resolves a requested count: n ≤ 0 means one per CPU.
func Workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// Run calls fn(i) for i in [0, n) on Workers(workers) goroutines. It stops
// handing out work when ctx is cancelled, waits for jobs in flight and
// returns ctx's error.
func Run(ctx context.Context, n, workers int, fn func(i int)) error {
	workers = min(Workers(workers), n)
	if workers <= 1 {
		// One job or one worker: on the caller's goroutine, without the
		// hand-off (hot loops call this with a single job).
		for i := 0; i < n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			fn(i)
		}
		return nil
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	var err error
loop:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		}
	}
	close(next)
	wg.Wait()
	return err
}

// Split calls fn over [0, n) in equal pieces (the last may be shorter), as
// many as GOMAXPROCS and n/minPiece allow, one goroutine each, and waits;
// for one piece it calls fn(0, n) on the caller's goroutine. It is for
// element-wise loops over millions of values (conversions, copies, scans),
// bound by memory bandwidth, which one core cannot use up.
func Split(n, minPiece int, fn func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), n/max(minPiece, 1))
	if p <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + p - 1) / p
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+step, n))
	}
	wg.Wait()
}

// EvenChunk is the chunk size that splits n items into as few chunks of at
// most most as that allows, but evenly: 100 images at --batch 32 run as
// 4 × 25, not 3 × 32 and a batch of 4 whose new shape would cost seconds of
// kernel selection on a GPU (where a short last chunk is padded to the size
// already run, so the fewer padding rows the better). 1 when most ≤ 1.
func EvenChunk(n, most int) int {
	if most <= 1 || n <= 1 {
		return 1
	}
	k := (n + most - 1) / most
	return (n + k - 1) / k
}
