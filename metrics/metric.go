// Package metrics computes image-quality metrics the way the SR field's two
// reference toolboxes do: IQA-PyTorch (pyiqa) and BasicSR. Each metric names
// the convention it follows; they differ by up to several dB on the same pair.
package metrics

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/models"
)

// Direction says which way a metric improves.
type Direction int

const (
	HigherIsBetter Direction = iota + 1
	LowerIsBetter
)

// Arrow is ↑ or ↓, as papers mark their table rows.
func (d Direction) Arrow() string {
	if d == LowerIsBetter {
		return "↓"
	}
	return "↑"
}

// Better reports whether a is strictly better than b in direction d.
func (d Direction) Better(a, b float64) bool {
	if d == LowerIsBetter {
		return a < b
	}
	return a > b
}

func (d Direction) String() string {
	if d == LowerIsBetter {
		return "lower"
	}
	return "higher"
}

// Metric scores one image, against a reference when it needs one.
// Implementations are safe for concurrent use.
type Metric interface {
	// Name is the name accepted by -m, e.g. "ssim" or "psnr-basicsr".
	Name() string
	Direction() Direction
	// NeedsReference is true for full-reference metrics; no-reference
	// metrics ignore ref, which may be nil.
	NeedsReference() bool
	// Fingerprint identifies the exact configuration (convention, colour
	// conversion, crop border, model parameters): two results may be
	// compared only when their fingerprints are equal.
	Fingerprint() string
	Score(dist, ref *img.Image) (float64, error)
}

// Config holds options shared by all metrics.
type Config struct {
	// CropBorder pixels are removed from each edge of both images first.
	CropBorder int
	// Models is the folder of learned metrics' ONNX models (default: the
	// project cache's models/).
	Models string
	// Device runs learned metrics (default: the CPU).
	Device models.Device
	// MaxPixels refuses larger images for full-resolution networks (0: 25 MP).
	MaxPixels int64
	// MaxMemory is the memory, in bytes, the learned metrics' activations may
	// take: larger inputs are refused with an error, and batches are cut to
	// fit (0: on the CPU 80% of the available memory, on a GPU no check;
	// negative: no check).
	MaxMemory int64
	// Concurrency is how many images are scored at once (workers), which
	// share the default memory budget.
	Concurrency int

	// Test hooks, set by this package's tests only: padOnCPU pads stacked
	// inputs on the CPU, where it only costs; elementLimit, when positive,
	// is every model's element limit; knownCrash names a crash Ready must
	// treat as known, for a stem ("" for none).
	padOnCPU     bool
	elementLimit int64
	knownCrash   func(stem string) string
	// portable makes the classical metrics use their portable Go loops
	// where the CPU has vector kernels.
	portable bool
}

type entry struct {
	summary string
	make    func(Config) (Metric, error)
}

var registry = map[string]entry{}

func register(name, summary string, mk func(Config) (Metric, error)) {
	if _, dup := registry[name]; dup {
		panic("metrics: duplicate " + name)
	}
	registry[name] = entry{summary, mk}
}

// New returns the metric called name.
func New(name string, cfg Config) (Metric, error) {
	e, ok := registry[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return nil, fmt.Errorf("unknown metric %q; known: %s", name, strings.Join(Names(), ", "))
	}
	if cfg.CropBorder < 0 {
		return nil, fmt.Errorf("crop border %d must not be negative", cfg.CropBorder)
	}
	if cfg.MaxPixels == 0 {
		cfg.MaxPixels = 25_000_000
	}
	return e.make(cfg)
}

// Load opens m's model, where it has one, so that a run fails before it
// starts rather than on every image, and returns what its placement has to
// say (auto's fall back to the CPU, provider options that do nothing
// there); "" for metrics without a model.
func Load(m Metric) (note string, err error) {
	l, ok := m.(interface {
		Ready() error
		Placement() models.Placement
	})
	if !ok {
		return "", nil
	}
	if err := l.Ready(); err != nil {
		return "", err
	}
	return l.Placement().Note, nil
}

// LoadResult is what LoadAll found for one metric: Load's note and error,
// and how long its loading took.
type LoadResult struct {
	Note string
	Err  error
	Took time.Duration
}

// LoadAll loads the metrics' models at once, as Load does each, results in
// the order of ms. Reading, hashing and rewriting a graph are Go's work,
// and models makes sessions concurrently, so a run of several learned
// metrics starts in about the time of the slowest.
func LoadAll(ms []Metric) []LoadResult {
	out := make([]LoadResult, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() {
			t0 := time.Now()
			out[i].Note, out[i].Err = Load(m)
			out[i].Took = time.Since(t0)
		})
	}
	wg.Wait()
	return out
}

// NewList parses a comma-separated list such as "psnr,ssim".
func NewList(list string, cfg Config) ([]Metric, error) {
	var out []Metric
	seen := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		m, err := New(n, cfg)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no metrics given; known: %s", strings.Join(Names(), ", "))
	}
	return out, nil
}

// Names lists the registered metrics, sorted.
func Names() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Summary is a one-line description of a registered metric.
func Summary(name string) string { return registry[name].summary }

// prepare checks sizes and applies the crop border to both images.
// vector reports whether the classical metrics use the vector kernels.
func (c Config) vector() bool { return hasVector && !c.portable }

func prepare(name string, cfg Config, dist, ref *img.Image, needRef bool) (*img.Image, *img.Image, error) {
	if dist == nil {
		return nil, nil, fmt.Errorf("%s: no image", name)
	}
	if needRef {
		if ref == nil {
			return nil, nil, fmt.Errorf("%s needs a reference image", name)
		}
		if !img.SameSize(dist, ref) {
			return nil, nil, &SizeMismatchError{Dist: [2]int{dist.W, dist.H}, Ref: [2]int{ref.W, ref.H}}
		}
	}
	d, err := dist.CropBorder(cfg.CropBorder)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	var r *img.Image
	if needRef {
		if r, err = ref.CropBorder(cfg.CropBorder); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return d, r, nil
}

// SizeMismatchError is returned when a full-reference metric gets images of
// different sizes.
type SizeMismatchError struct{ Dist, Ref [2]int }

func (e *SizeMismatchError) Error() string {
	return fmt.Sprintf("size mismatch: image is %dx%d, reference is %dx%d", e.Dist[0], e.Dist[1], e.Ref[0], e.Ref[1])
}

func fingerprint(name, convention string, cfg Config, extra ...string) string {
	parts := append([]string{name, convention, fmt.Sprintf("crop=%d", cfg.CropBorder)}, extra...)
	return strings.Join(parts, ";")
}
