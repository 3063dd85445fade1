package bench

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/metrics"
)

// barrierMetric is a batch-scoring metric whose batches wait until every
// metric sharing its barrier has started one, so a test hangs (and fails
// by timeout) unless the metrics run at the same time.
type barrierMetric struct {
	name    string
	started *sync.WaitGroup
	once    sync.Once
	batches atomic.Int64
	rows    atomic.Int64
}

func (m *barrierMetric) Name() string                           { return m.name }
func (m *barrierMetric) Direction() metrics.Direction           { return metrics.HigherIsBetter }
func (m *barrierMetric) NeedsReference() bool                   { return false }
func (m *barrierMetric) Fingerprint() string                    { return m.name }
func (m *barrierMetric) Score(d, _ *img.Image) (float64, error) { return m.batch(1), nil }
func (m *barrierMetric) ScoreBatch(ds, _ []*img.Image) ([]float64, []error) {
	m.batch(len(ds))
	return make([]float64, len(ds)), make([]error, len(ds))
}

func (m *barrierMetric) batch(rows int) float64 {
	m.once.Do(func() {
		m.started.Done()
		done := make(chan struct{})
		go func() { m.started.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	})
	m.batches.Add(1)
	m.rows.Add(int64(rows))
	return 0
}

// TestWarmup: every metric runs its passes over copies of the first pair,
// stacked as ScorePairs will stack the set's batches, and the metrics run
// at the same time (each one's first batch waits for all to have started).
func TestWarmup(t *testing.T) {
	p := filepath.Join("..", "metrics", "testdata", "astronaut-noise-dist.png")
	var started sync.WaitGroup
	var ms []metrics.Metric
	var fakes []*barrierMetric
	for _, n := range []string{"a", "b", "c"} {
		started.Add(1)
		f := &barrierMetric{name: n, started: &started}
		fakes = append(fakes, f)
		ms = append(ms, f)
	}
	t0 := time.Now()
	// 10 pairs in batches of at most 4 run as 4, 3, 3: a warm-up batch is 4.
	err := Warmup(context.Background(), datasets.Pair{ID: "first", Dist: p}, 10, ms, 2, ScoreOptions{Workers: 1, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) > 9*time.Second {
		t.Fatal("the metrics warmed up one after another")
	}
	for _, f := range fakes {
		if f.batches.Load() != 2 || f.rows.Load() != 8 {
			t.Errorf("%s: %d batches, %d rows; want 2 passes of one batch of 4", f.name, f.batches.Load(), f.rows.Load())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Warmup(ctx, datasets.Pair{ID: "first", Dist: p}, 10, ms, 1, ScoreOptions{}); err == nil {
		t.Error("a cancelled warm-up reported no error")
	}
}
