package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/runners"
)

// UpscaleOptions control Upscale.
type UpscaleOptions struct {
	// Batch is how many images go to the runner per call (runners.RunBatch);
	// same-size images then share inferences, and the files are taken in
	// order of size (from their headers) so that batches hold one size.
	// ≤ 1: one at a time, in the given order.
	Batch int
	// Workers decode and encode PNGs beside the inference (≤ 0: one per CPU).
	Workers int
	// Inflight is how many batches the runner has at once (≤ 1: one). On a
	// GPU a batch's packing, copies and unpacking on the host then overlap
	// another's inference; each image's runner time then includes waiting
	// for the device, so read throughput from Wall.
	Inflight int
	// SaveSteps writes every output of a step-wise runner to out/stepK/
	// as well as the last to out/.
	SaveSteps bool
	Dataset   string              // passed to the runner with each image
	Decode    img.DecodeOptions   // limits for the LR files
	Step      func()              // called once per image done or skipped
	Skipped   func(string, error) // called for each file that failed
}

// UpscaleSummary is what Upscale did.
type UpscaleSummary struct {
	Done, Failed int
	// Times are the runner's per-image times (a batch member's share).
	Times []time.Duration
	// Shared is the most images that shared one inference.
	Shared int
	// Stages are the runner's per-image stage times (its Result.Stages), by
	// stage, in the order the stages first came.
	Stages []StageTimes
	// Wall is the whole pipeline's time, decoding and encoding included.
	Wall time.Duration
}

// StageTimes are one runner stage's per-image times.
type StageTimes struct {
	Name  string
	Times []time.Duration
}

// addStages appends r's stage times to sum's.
func (sum *UpscaleSummary) addStages(r runners.Result) {
next:
	for _, st := range r.Stages {
		for i := range sum.Stages {
			if sum.Stages[i].Name == st.Name {
				sum.Stages[i].Times = append(sum.Stages[i].Times, st.Duration)
				continue next
			}
		}
		sum.Stages = append(sum.Stages, StageTimes{st.Name, []time.Duration{st.Duration}})
	}
}

type upscaleItem struct {
	file string
	lr   *img.Image
	res  runners.Result
	err  error
}

// Upscale runs r over files and writes each last output as OUT/STEM.png.
// Decoding, inference and encoding overlap: while the runner works on one
// batch, the next is decoded and the previous one written, so on a GPU the
// pipeline runs at the speed of its slowest stage. A file that fails to
// decode, run or write is reported through o.Skipped and the rest go on;
// when a whole batch fails, its images are retried one at a time so the
// error lands on the image that causes it.
func Upscale(ctx context.Context, r runners.Runner, files []string, out string, o UpscaleOptions) (UpscaleSummary, error) {
	batch := workpool.EvenChunk(len(files), o.Batch)
	workers := workpool.Workers(o.Workers)
	start := time.Now()
	if batch > 1 {
		files = bySize(files, func(f string) string { return f })
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	inflight := max(1, o.Inflight)
	decoded := make(chan []*upscaleItem, inflight)
	go func() {
		defer close(decoded)
		for b := 0; b < len(files); b += batch {
			items := make([]*upscaleItem, min(batch, len(files)-b))
			if err := workpool.Run(ctx, len(items), workers, func(i int) {
				it := &upscaleItem{file: files[b+i]}
				it.lr, it.err = img.Load(it.file, o.Decode)
				items[i] = it
			}); err != nil {
				return
			}
			select {
			case decoded <- items:
			case <-ctx.Done():
				return
			}
		}
	}()

	ran := make(chan *upscaleItem, batch*inflight)
	var running sync.WaitGroup
	for range inflight {
		running.Go(func() { runDecoded(ctx, r, o.Dataset, decoded, ran) })
	}
	go func() {
		running.Wait()
		close(ran)
	}()

	var mu sync.Mutex
	var sum UpscaleSummary
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ran {
				err := it.err
				if err == nil {
					outs := it.res.Outputs
					err = outs[len(outs)-1].Image.SavePNG(filepath.Join(out, datasets.Stem(it.file)+".png"))
					for _, op := range outs {
						if err != nil || !o.SaveSteps || op.Steps == 0 {
							continue
						}
						dir := filepath.Join(out, "step"+strconv.Itoa(op.Steps))
						if err = os.MkdirAll(dir, 0o755); err == nil {
							err = op.Image.SavePNG(filepath.Join(dir, datasets.Stem(it.file)+".png"))
						}
					}
				}
				mu.Lock()
				if err != nil {
					sum.Failed++
					if o.Skipped != nil && !errors.Is(err, context.Canceled) {
						o.Skipped(it.file, err)
					}
				} else {
					sum.Done++
					sum.Times = append(sum.Times, it.res.Total())
					sum.addStages(it.res)
					sum.Shared = max(sum.Shared, it.res.Batch)
				}
				if o.Step != nil {
					o.Step()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sum.Wall = time.Since(start)
	// Only the caller's context can be done here (ours is cancelled on return).
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("upscaling stopped after %d of %d images: %w", sum.Done+sum.Failed, len(files), err)
	}
	return sum, nil
}

// runDecoded runs each batch of decoded items through r and passes every
// item on to ran, with its result or error, until decoded is closed or ctx
// is done.
func runDecoded(ctx context.Context, r runners.Runner, dataset string, decoded <-chan []*upscaleItem, ran chan<- *upscaleItem) {
	for items := range decoded {
		var ins []runners.Input
		var ok []*upscaleItem
		for _, it := range items {
			if it.err == nil {
				ins = append(ins, runners.Input{ID: datasets.Stem(it.file), Dataset: dataset, LR: it.lr})
				ok = append(ok, it)
			}
		}
		if len(ins) > 0 {
			res, errs := runners.RunEach(ctx, r, ins)
			for i, it := range ok {
				it.res, it.err, it.lr = res[i], errs[i], nil
			}
		}
		for _, it := range items {
			select {
			case ran <- it:
			case <-ctx.Done():
				return
			}
		}
	}
}

// bySize orders xs by the size in the header of each one's image file
// (height, then width; unreadable first, as decoding will report them), so
// that batches taken in order hold one size and share inferences.
func bySize[T any](xs []T, path func(T) string) []T {
	type sized struct {
		x    T
		w, h int
	}
	s := make([]sized, len(xs))
	for i, x := range xs {
		s[i].x = x
		s[i].w, s[i].h, _ = img.Size(path(x))
	}
	sort.SliceStable(s, func(a, b int) bool {
		if s[a].h != s[b].h {
			return s[a].h < s[b].h
		}
		return s[a].w < s[b].w
	})
	out := make([]T, len(s))
	for i := range s {
		out[i] = s[i].x
	}
	return out
}
