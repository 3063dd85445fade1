package metrics_test

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/models"
)

// On a GPU every learned metric gives the CPU's scores (within float
// rounding), alone and batched, and says so in its fingerprint. Skipped where
// there is no CUDA; where ORT_CUDA_EP_LIBRARY names the plugin, CUDA must work.
func TestLearnedOnCUDA(t *testing.T) {
	ref := load(t, filepath.Join("testdata", "hubble-blur-ref.png")) // 200×196
	mild, strong := noisy(ref, 4, 1), noisy(ref, 30, 2)
	small, err := mild.Crop(5, 3, 180, 150)
	if err != nil {
		t.Fatal(err)
	}
	smallRef, _ := ref.Crop(5, 3, 180, 150)
	dists := []*img.Image{mild, small, strong}
	refs := []*img.Image{ref, smallRef, ref}
	var names []string
	for name := range suite {
		names = append(names, name)
	}
	sort.Strings(names)
	// One subtest per metric and mode, each opening its own session, so
	// that -run picks what is opened (go-tests.sh runs each metric in its
	// own process: a provider crash in one leaves the others' results).
	for _, name := range names {
		sc := suite[name]
		cpuCfg := lpipsFixtures
		if sc.random {
			cpuCfg = nrFixtures
		}
		probe, _ := metrics.New(name, cpuCfg)
		if _, ok := probe.(metrics.BatchScorer); !ok {
			continue // not a learned metric
		}
		// With TF32 off the GPU computes in float32 as the CPU does, so the
		// plumbing (inputs, stacking, padding, reduction) is checked to 1e-4;
		// with the provider's default (TF32 convolutions and matrix products,
		// 10-bit mantissas) to pyiqa's own tolerance, as models verify does.
		// IO-bound with a CUDA graph per shape (score --io-binding
		// --ep-option enable_cuda_graph=1): the same to 1e-4 without TF32.
		for _, mode := range []struct {
			label string
			opts  map[string]string
			bound bool
			tol   float64
		}{
			{"fp32", map[string]string{"use_tf32": "0"}, false, 1e-4},
			{"tf32", nil, false, pyiqaTolerance(name)},
			{"cuda-graph", map[string]string{"use_tf32": "0", "enable_cuda_graph": "1"}, true, 1e-4},
		} {
			t.Run(name+"/"+mode.label, func(t *testing.T) {
				gpuCfg := cpuCfg
				gpuCfg.Device = models.Device{Kind: "cuda", EPOptions: mode.opts, IOBinding: mode.bound}
				gpu, _ := metrics.New(name, gpuCfg)
				defer metrics.Close([]metrics.Metric{gpu})
				if err := gpu.(interface{ Ready() error }).Ready(); err != nil {
					// Without the plugin named, a machine without CUDA is
					// expected: plain sessions find none, IO-bound ones
					// need the plugin.
					if os.Getenv(models.EnvCUDAPlugin) == "" && (strings.Contains(err.Error(), "CUDA is not available") || strings.Contains(err.Error(), models.EnvCUDAPlugin+" is not set")) {
						t.Skip("no CUDA here: ", err)
					}
					t.Fatalf("%s: %v", name, err)
				}
				if !strings.Contains(gpu.Fingerprint(), "ep=CUDA") {
					t.Errorf("fingerprint %s", gpu.Fingerprint())
				}
				batched, errs := gpu.(metrics.BatchScorer).ScoreBatch(dists, refs)
				for i := range dists {
					want, err := probe.Score(dists[i], refs[i])
					if err != nil {
						t.Fatal(err)
					}
					got, err := gpu.Score(dists[i], refs[i])
					if err != nil || errs[i] != nil {
						t.Fatalf("image %d: %v / %v", i, err, errs[i])
					}
					for label, v := range map[string]float64{"alone": got, "batched": batched[i]} {
						if math.Abs(v-want) > mode.tol*math.Max(1e-3, math.Abs(want)) {
							t.Errorf("image %d %s: CUDA %v, CPU %v (relative %.2g, tolerance %g)", i, label, v, want, math.Abs(v-want)/math.Abs(want), mode.tol)
						}
					}
				}
			})
		}
	}
}

// Where ONNX Runtime 1.29.0's CUDA plugin runs, a graph with Slice nodes
// runs on CUDA with them rewritten (the default); with the rewrite off it is
// refused on --device cuda and moved to the CPU, with a note, on --device
// auto (unless ADDSR_BENCH_ALLOW_KNOWN_CRASH=1).
func TestKnownCrashOnCUDA(t *testing.T) {
	t.Setenv(metrics.EnvAllowKnownCrash, "")
	probe, _ := metrics.New("lpips", metrics.Config{Models: lpipsFixtures.Models, MaxMemory: -1, Device: models.Device{Kind: "cuda"}})
	if err := probe.(interface{ Ready() error }).Ready(); err != nil {
		// As the other GPU tests: skipped without CUDA unless the plugin is
		// named, where CUDA must work.
		if os.Getenv(models.EnvCUDAPlugin) == "" {
			t.Skip("no CUDA here: ", err)
		}
		t.Fatalf("%s=%s but CUDA does not work: %v", models.EnvCUDAPlugin, os.Getenv(models.EnvCUDAPlugin), err)
	}
	if p := probe.(interface{ Placement() models.Placement }).Placement(); p.Path != "plugin" || p.ORTVersion != "1.29.0" {
		t.Skipf("CUDA through %s, ONNX Runtime %s: no known crash", p.Path, p.ORTVersion)
	}
	rewritten, _ := metrics.New("maniqa", metrics.Config{Models: nrFixtures.Models, MaxMemory: -1, Device: models.Device{Kind: "cuda"}})
	if err := rewritten.(interface{ Ready() error }).Ready(); err != nil {
		t.Fatalf("maniqa on --device cuda, Slices rewritten: %v", err)
	}
	if p := rewritten.(interface{ Placement() models.Placement }).Placement(); p.Session["slice_as_gather"] == "" || p.EP == "CPUExecutionProvider" {
		t.Errorf("maniqa on --device cuda: %+v", p)
	}
	cuda, _ := metrics.New("maniqa", metrics.Config{Models: nrFixtures.Models, MaxMemory: -1, Device: models.Device{Kind: "cuda", SliceAsGather: "off"}})
	if err := cuda.(interface{ Ready() error }).Ready(); err == nil || !strings.Contains(err.Error(), "--device auto") {
		t.Errorf("maniqa on --device cuda, rewrite off: %v", err)
	}
	auto, _ := metrics.New("maniqa", metrics.Config{Models: nrFixtures.Models, MaxMemory: -1, Device: models.Device{Kind: "auto", SliceAsGather: "off"}})
	if err := auto.(interface{ Ready() error }).Ready(); err != nil {
		t.Fatal(err)
	}
	p := auto.(interface{ Placement() models.Placement }).Placement()
	if p.EP != "CPUExecutionProvider" || !strings.Contains(p.Note, "running it on the CPU") {
		t.Errorf("maniqa on --device auto, rewrite off: %+v", p)
	}
}

// pyiqaTolerance is the relative tolerance of pyiqa's own tests for the
// metric: 1e-2, 3e-2 for MUSIQ.
func pyiqaTolerance(name string) float64 {
	if strings.HasPrefix(name, "musiq") {
		return 3e-2
	}
	return 1e-2
}
