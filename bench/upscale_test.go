package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/runners"
)

// pickyBatcher is bicubic ×2 that fails any batch holding the image "bad",
// and that image alone, as a model would on an input it cannot take.
type pickyBatcher struct {
	runners.Bicubic
	mu      sync.Mutex
	batches []int
	widths  [][]int
}

func (p *pickyBatcher) Run(ctx context.Context, in runners.Input) (runners.Result, error) {
	if in.ID == "bad" {
		return runners.Result{}, errors.New("cannot take this one")
	}
	return p.Bicubic.Run(ctx, in)
}

func (p *pickyBatcher) RunBatch(ctx context.Context, ins []runners.Input) ([]runners.Result, error) {
	p.mu.Lock()
	p.batches = append(p.batches, len(ins))
	var w []int
	for _, in := range ins {
		w = append(w, in.LR.W)
	}
	p.widths = append(p.widths, w)
	p.mu.Unlock()
	var res []runners.Result
	for _, in := range ins {
		r, err := p.Run(ctx, in)
		if err != nil {
			return nil, err
		}
		r.Batch = len(ins)
		res = append(res, r)
	}
	return res, nil
}

func writeLR(t *testing.T, dir string, n int) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	var files []string
	for i := range n {
		m := img.New(12+i%3, 9)
		for c := range m.Planes {
			for j := range m.Planes[c] {
				m.Planes[c][j] = float32(rng.IntN(256)) / 255
			}
		}
		f := filepath.Join(dir, fmt.Sprintf("im%02d.png", i))
		if err := m.SavePNG(f); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func TestUpscale(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	files := writeLR(t, in, 7)
	// A file that does not decode, and one the model refuses.
	broken := filepath.Join(in, "broken.png")
	os.WriteFile(broken, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	bad := filepath.Join(in, "bad.png")
	data, _ := os.ReadFile(files[0])
	os.WriteFile(bad, data, 0o644)
	all := append(append([]string{broken}, files...), bad)

	r := &pickyBatcher{Bicubic: runners.Bicubic{Factor: 2}}
	var skipped []string
	steps := 0
	sum, err := Upscale(context.Background(), r, all, out, UpscaleOptions{
		Batch: 3, Workers: 2, Step: func() { steps++ },
		Skipped: func(f string, err error) { skipped = append(skipped, filepath.Base(f)+": "+err.Error()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 7 || sum.Failed != 2 || steps != 9 || len(sum.Times) != 7 {
		t.Fatalf("done %d failed %d steps %d times %d; want 7, 2, 9, 7", sum.Done, sum.Failed, steps, len(sum.Times))
	}
	if len(skipped) != 2 || !strings.Contains(strings.Join(skipped, "\n"), "broken.png") || !strings.Contains(strings.Join(skipped, "\n"), "bad.png: cannot take this one") {
		t.Errorf("skipped: %q", skipped)
	}
	// Batches of 3 files, ordered by size (widths 12, 13, 14 alternate in
	// the folder) so that same-size images share batches: the unreadable
	// file first (left out of its batch), then im00 im03 | im06 bad im01
	// (failed whole for "bad", retried one by one) | im04 im02 im05.
	if fmt.Sprint(r.batches) != "[2 3 3]" || fmt.Sprint(r.widths) != "[[12 12] [12 12 13] [13 14 14]]" {
		t.Errorf("batches %v of widths %v, want [2 3 3] of [[12 12] [12 12 13] [13 14 14]]", r.batches, r.widths)
	}
	// Each PNG is that image's own bicubic output, whatever it shared.
	for _, f := range files {
		lr, err := img.Load(f, img.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := runners.Bicubic{Factor: 2}.Run(context.Background(), runners.Input{LR: lr})
		got, err := img.Load(filepath.Join(out, filepath.Base(f)), img.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		exp := want.Outputs[0].Image
		for c := range got.Planes {
			for i, v := range got.Planes[c] {
				q := math.Round(math.Min(math.Max(float64(exp.Planes[c][i]), 0), 1)*255) / 255
				if math.Abs(float64(v)-q) > 1e-6 {
					t.Fatalf("%s: pixel %d is %v, its own bicubic output %v", f, i, v, q)
				}
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, "bad.png")); err == nil {
		t.Error("wrote an output for the image the model refused")
	}
	// No temporary files left behind.
	left, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(left) != 7 {
		t.Errorf("%d files in the output folder, want 7: %v", len(left), left)
	}

	// Runners without RunBatch go one by one; a cancelled context stops the run
	// with an error saying how far it got.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Upscale(ctx, runners.Bicubic{Factor: 2}, files, t.TempDir(), UpscaleOptions{Batch: 4}); err == nil || !strings.Contains(err.Error(), "stopped after") {
		t.Errorf("cancelled: %v", err)
	}
}

// gateBatcher is bicubic ×2 whose RunBatch records how many calls run at
// once; with want > 1 the first calls wait (up to 5 s) until want are in.
type gateBatcher struct {
	runners.Bicubic
	want     int
	mu       sync.Mutex
	active   int
	most     int
	arrived  chan struct{}
	released chan struct{}
}

func (g *gateBatcher) RunBatch(ctx context.Context, ins []runners.Input) ([]runners.Result, error) {
	g.mu.Lock()
	g.active++
	g.most = max(g.most, g.active)
	if g.active == g.want && g.released != nil {
		close(g.released)
		g.released = nil
	}
	wait := g.released
	g.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-time.After(5 * time.Second):
		}
	}
	defer func() {
		g.mu.Lock()
		g.active--
		g.mu.Unlock()
	}()
	var res []runners.Result
	for _, in := range ins {
		r, err := g.Bicubic.Run(ctx, in)
		if err != nil {
			return nil, err
		}
		res = append(res, r)
	}
	return res, nil
}

// Upscale keeps Inflight batches at the runner at once, and one without
// it; every image is written either way, and the summary has each stage's
// time per image.
func TestUpscaleInflight(t *testing.T) {
	in := t.TempDir()
	files := writeLR(t, in, 8)
	for _, inflight := range []int{0, 1, 2, 3} {
		g := &gateBatcher{Bicubic: runners.Bicubic{Factor: 2}, want: max(1, inflight)}
		if inflight > 1 {
			g.released = make(chan struct{})
		}
		out := t.TempDir()
		sum, err := Upscale(context.Background(), g, files, out, UpscaleOptions{Batch: 2, Workers: 2, Inflight: inflight})
		if err != nil {
			t.Fatal(err)
		}
		if g.most != max(1, inflight) {
			t.Errorf("Inflight %d: at most %d batches at once", inflight, g.most)
		}
		written, _ := filepath.Glob(filepath.Join(out, "*.png"))
		if sum.Done != 8 || len(written) != 8 {
			t.Errorf("Inflight %d: %d done, %d written", inflight, sum.Done, len(written))
		}
		if len(sum.Stages) != 1 || sum.Stages[0].Name != "resize" || len(sum.Stages[0].Times) != 8 {
			t.Errorf("Inflight %d: stages %+v", inflight, sum.Stages)
		}
	}
}
