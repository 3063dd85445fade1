package models

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/ortio"
)

// TestIOBindingMatches: the IO-bound path (internal/ortio) gives the same
// outputs as the onnxruntime_go session, float32 and float16 graphs, over
// changes of batch and size; it needs the outputs' shapes.
func TestIOBindingMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, name := range []string{"sr2_conv", "sr2_fp16"} {
		path := filepath.Join("testdata", name+".onnx")
		plain, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		b, err := OpenOn(path, Device{Kind: "cpu", IOBinding: true, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if p := b.Placement(); p.IOBinding == "" || p.EP != "CPUExecutionProvider" {
			t.Errorf("%s: placement %+v", name, p)
		}
		for _, sh := range [][]int64{{1, 3, 5, 7}, {3, 3, 5, 7}, {2, 3, 8, 4}, {1, 3, 5, 7}} {
			in := Tensor{Shape: sh, Data: make([]float32, sh[0]*sh[1]*sh[2]*sh[3])}
			for i := range in.Data {
				in.Data[i] = rng.Float32()
			}
			out := [][]int64{{sh[0], 3, 2 * sh[2], 2 * sh[3]}}
			want, err := plain.RunShaped(out, in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.RunShaped(out, in)
			if err != nil {
				t.Fatalf("%s %v: %v", name, sh, err)
			}
			for i, v := range want[0].Data {
				if got[0].Data[i] != v {
					t.Fatalf("%s %v: [%d] = %v, want %v", name, sh, i, got[0].Data[i], v)
				}
			}
		}
		if _, err := b.Run(Tensor{Shape: []int64{1, 3, 2, 2}, Data: make([]float32, 12)}); err == nil || !strings.Contains(err.Error(), "shapes") {
			t.Errorf("%s: Run without output shapes: %v", name, err)
		}
	}
}

// IO-bound sessions take static shapes and the Slice rewrite as the
// others do: a session of the graph pinned to each input shape, Run
// without output shapes (the pinned graph gives them), the same values.
// Without static shapes the outputs' shapes must be given.
func TestIOBindingStaticShapes(t *testing.T) {
	path := shapeArithmetic(t)
	s, err := OpenOn(path, Device{Kind: "cpu", SliceAsGather: "on", IOBinding: true, StaticShapes: true, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := s.Placement()
	if p.Session["static_shapes"] != "1" || p.Session["slice_as_gather"] != "1" || !strings.Contains(p.IOBinding, "static shapes") {
		t.Errorf("placement %+v", p)
	}
	for _, n := range []int{3, 2, 3} {
		a, b, want := arithmeticInputs(n)
		got, err := s.Run(a, b)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !slices.Equal(got[0].Shape, []int64{int64(n), 6}) || !slices.Equal(got[0].Data, want) {
			t.Errorf("n=%d: %v %v, want %v", n, got[0].Shape, got[0].Data, want)
		}
	}
	if k := s.bound.cache.len(); k != 2 {
		t.Errorf("%d sessions for 2 shapes", k)
	}
	// More shapes than sessions are kept: the least recently used go, and
	// come back when their shape does; runs of several shapes at once
	// share and make sessions safely (go test -race).
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 4 {
		wg.Go(func() {
			for i := range 12 {
				n := 1 + (g+i)%(maxShapeSessions+3)
				a, b, want := arithmeticInputs(n)
				got, err := s.Run(a, b)
				if err != nil {
					errs <- err
					return
				}
				if !slices.Equal(got[0].Data, want) {
					errs <- fmt.Errorf("n=%d: wrong values", n)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if k := s.bound.cache.len(); k > maxShapeSessions {
		t.Errorf("%d sessions kept after %d shapes, want at most %d", k, maxShapeSessions+3, maxShapeSessions)
	}

	plain, err := OpenOn(path, Device{Kind: "cpu", SliceAsGather: "on", IOBinding: true, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if p := plain.Placement(); p.Session["static_shapes"] != "" || p.Session["slice_as_gather"] != "1" {
		t.Errorf("without static shapes: placement %+v", p)
	}
	a, b, want := arithmeticInputs(2)
	if _, err := plain.Run(a, b); err == nil || !strings.Contains(err.Error(), "--static-shapes") {
		t.Errorf("Run without output shapes or static shapes: %v", err)
	}
	got, err := plain.RunShaped([][]int64{{2, 6}}, a, b)
	if err != nil || !slices.Equal(got[0].Data, want) {
		t.Errorf("RunShaped: %v, %v; want %v", got, err, want)
	}
}

// TestIOBindingCUDAUnavailable: CUDA with IO binding and no plugin is an
// error naming the fix; auto falls back to the CPU and says so.
func TestIOBindingCUDAUnavailable(t *testing.T) {
	if os.Getenv(EnvCUDAPlugin) != "" {
		t.Skip(EnvCUDAPlugin + " is set")
	}
	path := filepath.Join("testdata", "sr2_conv.onnx")
	_, err := OpenOn(path, Device{Kind: "cuda", IOBinding: true})
	if err == nil || !strings.Contains(err.Error(), EnvCUDAPlugin) {
		t.Errorf("cuda: %v", err)
	}
	s, err := OpenOn(path, Device{Kind: "auto", IOBinding: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p := s.Placement(); p.Device != "cpu" || !strings.Contains(p.Note, "auto") {
		t.Errorf("auto: %+v", p)
	}
}

// cudaDevice maps cuda:N to the N-th CUDA entry among all providers' devices.
func TestCUDADevice(t *testing.T) {
	names := []string{"CPUExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider", "CUDAExecutionProvider"}
	for idx, want := range []int{1, 3} {
		if k, err := cudaDevice(names, idx); err != nil || k != want {
			t.Errorf("cuda:%d → %d, %v; want %d", idx, k, err, want)
		}
	}
	if _, err := cudaDevice(names, 2); err == nil || !strings.Contains(err.Error(), "2 CUDA devices, asked for cuda:2") {
		t.Errorf("cuda:2: %v", err)
	}
}

// Provider options on a session that runs on the CPU (asked for, or auto's
// fallback) are said to do nothing there, on both session paths.
func TestCPUProviderOptionsNote(t *testing.T) {
	if os.Getenv(EnvCUDAPlugin) != "" {
		t.Skip(EnvCUDAPlugin + " is set")
	}
	path := filepath.Join("testdata", "sr2_conv.onnx")
	opts := map[string]string{"prefer_nhwc": "1", "enable_cuda_graph": "1"}
	for _, c := range []struct {
		dev      Device
		wantAuto bool
	}{
		{Device{Kind: "cpu", EPOptions: opts}, false},
		{Device{Kind: "cpu", EPOptions: opts, IOBinding: true}, false},
		{Device{Kind: "auto", EPOptions: opts}, true},
		{Device{Kind: "auto", EPOptions: opts, IOBinding: true}, true},
		{Device{Kind: "cpu"}, false},
		// A caller's CUDA defaults go unsaid on the CPU.
		{Device{Kind: "cpu", CUDADefaults: cudnnHeuristic}, false},
		{Device{Kind: "auto", EPOptions: opts, CUDADefaults: cudnnHeuristic}, true},
		{Device{Kind: "auto", EPOptions: opts, IOBinding: true, CUDADefaults: cudnnHeuristic}, true},
	} {
		s, err := OpenOn(path, c.dev)
		if err != nil {
			t.Fatal(err)
		}
		p := s.Placement()
		s.Close()
		want := "provider options enable_cuda_graph=1, prefer_nhwc=1 are for CUDA and are not used on the CPU"
		if c.dev.EPOptions == nil {
			want = ""
		}
		ok := strings.Contains(p.Note, want) && c.wantAuto == strings.Contains(p.Note, "auto:")
		if want == "" && !c.wantAuto {
			ok = p.Note == ""
		}
		if !ok {
			t.Errorf("%+v: note %q", c.dev, p.Note)
		}
		if len(p.Options) != 0 {
			t.Errorf("%+v: CPU placement records options %v", c.dev, p.Options)
		}
		if strings.Contains(p.Note, "cudnn_conv_algo_search") {
			t.Errorf("%+v: the CUDA defaults are in the CPU note %q", c.dev, p.Note)
		}
	}
}

var cudnnHeuristic = map[string]string{"cudnn_conv_algo_search": "HEURISTIC"}

// A CUDA session gets the caller's defaults, with EPOptions over them; the
// maps passed in stay as they were.
func TestCUDAOptions(t *testing.T) {
	for _, c := range []struct {
		ep, defaults, want map[string]string
	}{
		{nil, nil, nil},
		{map[string]string{"prefer_nhwc": "1"}, nil, map[string]string{"prefer_nhwc": "1"}},
		{nil, cudnnHeuristic, cudnnHeuristic},
		{map[string]string{"prefer_nhwc": "1"}, cudnnHeuristic, map[string]string{"prefer_nhwc": "1", "cudnn_conv_algo_search": "HEURISTIC"}},
		{map[string]string{"cudnn_conv_algo_search": "EXHAUSTIVE"}, cudnnHeuristic, map[string]string{"cudnn_conv_algo_search": "EXHAUSTIVE"}},
	} {
		if got := (Device{Kind: "cuda", EPOptions: c.ep, CUDADefaults: c.defaults}).cudaOptions(); !maps.Equal(got, c.want) {
			t.Errorf("EPOptions %v, defaults %v: %v, want %v", c.ep, c.defaults, got, c.want)
		}
	}
	if cudnnHeuristic["cudnn_conv_algo_search"] != "HEURISTIC" || len(cudnnHeuristic) != 1 {
		t.Errorf("the defaults were changed: %v", cudnnHeuristic)
	}
}

// A NaN anywhere in an output is found, in small and parallel-scanned large
// outputs, and fails the run with a message naming the output.
func TestOutputNaN(t *testing.T) {
	nan := float32(math.NaN())
	for _, n := range []int{1, 100, 1<<20 - 1, 5<<20 + 3} {
		v := make([]float32, n)
		if hasNaN(v) {
			t.Fatalf("n=%d: NaN found in zeros", n)
		}
		for _, at := range []int{0, n / 2, n - 1} {
			v[at] = nan
			if !hasNaN(v) {
				t.Errorf("n=%d: NaN at %d missed", n, at)
			}
			v[at] = 0
		}
	}
	for _, dev := range []Device{{Kind: "cpu"}, {Kind: "cpu", IOBinding: true}} {
		s, err := OpenOn(filepath.Join("testdata", "sr2_nearest.onnx"), dev)
		if err != nil {
			t.Fatal(err)
		}
		in := make([]float32, 3*4*4)
		in[17] = nan
		_, err = s.RunShaped([][]int64{{1, 3, 8, 8}}, Tensor{Shape: []int64{1, 3, 4, 4}, Data: in})
		s.Close()
		if err == nil || !strings.Contains(err.Error(), "contains NaN") {
			t.Errorf("%+v: NaN output: %v", dev, err)
		}
	}
}

// The per-shape sessions of CUDA graphs (enable_cuda_graph=1), run on the
// CPU: the first shape takes the eager session, every other shape gets its
// own, a shape seen before reuses its session, results equal the plain
// session's bit for bit, and Close releases each session once.
func TestIOBindingPerShapeSessions(t *testing.T) {
	path := filepath.Join("testdata", "sr2_conv.onnx")
	plain, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	s, err := OpenOn(path, Device{Kind: "cpu", IOBinding: true, test: &deviceTestHooks{perShapeOnCPU: true}, EPOptions: map[string]string{"enable_cuda_graph": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.bound.perShape || !strings.Contains(s.Placement().Note, "not used on the CPU") {
		t.Fatalf("per-shape %v, note %q", s.bound.perShape, s.Placement().Note)
	}
	first := s.bound.first
	for i, sh := range [][]int64{{1, 3, 5, 7}, {2, 3, 5, 7}, {1, 3, 5, 7}, {1, 3, 9, 4}, {2, 3, 5, 7}} {
		in := Tensor{Shape: sh, Data: make([]float32, sh[0]*sh[1]*sh[2]*sh[3])}
		for j := range in.Data {
			in.Data[j] = float32((j*37+i)%101) / 100
		}
		out := [][]int64{{sh[0], 3, 2 * sh[2], 2 * sh[3]}}
		got, err := s.RunShaped(out, in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.RunShaped(out, in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[0].Data, want[0].Data) {
			t.Errorf("shape %v: IO-bound per-shape session differs from the plain one", sh)
		}
	}
	if n := s.bound.cache.len(); n != 3 {
		t.Errorf("%d sessions for 3 shapes", n)
	}
	if e := s.bound.cache.byKey["[1 3 5 7];"]; e == nil || e.s != first || s.bound.first != nil {
		t.Error("the first shape did not take the eager session")
	}
	s.Close()
}

// TestCUDAGraphThreads: a CUDA-graph session's runs all happen on one OS
// thread, whichever goroutines call them (ONNX Runtime keeps the captured
// graph per thread), its first captureRuns runs with the device to
// themselves (captureMu held exclusively: the capture must see no other
// thread's allocations), the rest beside others. On the CPU, as the
// perShapeOnCPU test hook lets the per-shape sessions run there.
func TestCUDAGraphThreads(t *testing.T) {
	var mu sync.Mutex
	tids := map[*ortio.Session]map[int]bool{}
	alone := map[*ortio.Session][]bool{}
	var bad []string
	hook := func(sess *ortio.Session, tid int, excl bool) {
		// The lock's state as the run starts: held exclusively (no reader
		// can enter) or shared (no writer can).
		held := false
		if excl {
			held = !captureMu.TryRLock()
			if !held {
				captureMu.RUnlock()
			}
		} else {
			held = !captureMu.TryLock()
			if !held {
				captureMu.Unlock()
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if !held {
			bad = append(bad, fmt.Sprintf("run (alone %v) without captureMu held", excl))
		}
		if tids[sess] == nil {
			tids[sess] = map[int]bool{}
		}
		tids[sess][tid] = true
		alone[sess] = append(alone[sess], excl)
	}
	s, err := OpenOn(filepath.Join("testdata", "sr2_conv.onnx"), Device{Kind: "cpu", IOBinding: true, Threads: 1, EPOptions: map[string]string{"enable_cuda_graph": "1"},
		test: &deviceTestHooks{perShapeOnCPU: true, graphRun: hook}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				n := int64(1 + (g+i)%2) // two shapes: two sessions
				in := Tensor{Shape: []int64{n, 3, 4, 5}, Data: make([]float32, n*60)}
				if _, err := s.RunShaped([][]int64{{n, 3, 8, 10}}, in); err != nil {
					t.Error(err)
					return
				}
				runtime.Gosched()
			}
		})
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Error(bad[0])
	}
	if len(tids) != 2 {
		t.Fatalf("%d sessions for 2 shapes", len(tids))
	}
	for sess, ts := range tids {
		if len(ts) != 1 {
			t.Errorf("a session ran on %d OS threads", len(ts))
		}
		a := alone[sess]
		for i, x := range a {
			if x != (i < captureRuns) {
				t.Errorf("run %d of %d: alone %v", i+1, len(a), x)
			}
		}
	}
}
