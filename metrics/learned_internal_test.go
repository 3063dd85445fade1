package metrics

import (
	"errors"
	"fmt"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/models"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunErrorNamesTheWayOut(t *testing.T) {
	oom := errors.New("Failed to allocate memory for requested buffer of size 123456789")
	err := runError("clipiqa", "cuda:0 (NVIDIA)", []int64{1, 3, 8000, 8000}, oom)
	for _, want := range []string{"clipiqa: out of memory on cuda:0", "[1 3 8000 8000]", "--metric-max-pixels", "requested buffer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if !errors.Is(err, oom) {
		t.Error("the runtime's error is not wrapped")
	}
	if err := runError("musiq", "cpu", []int64{1}, errors.New("bad input")); err.Error() != "musiq: bad input" {
		t.Errorf("other errors: %q", err)
	}
}

// Same-size images share one inference per metric; another size gets its
// own — except for MANIQA, whose 20 crops are 224² whatever the image.
func TestScoreBatchStacks(t *testing.T) {
	im := func(w, h int, v float32) *img.Image {
		return filled(w, h, func(_, i int) float32 { return v + float32(i%7)/20 })
	}
	dists := []*img.Image{im(64, 48, 0.1), im(64, 48, 0.3), im(80, 48, 0.2), im(64, 48, 0.5)}
	for _, c := range []struct {
		name, dir string
		refs      bool
		runs      int64
	}{{"clipiqa", "nr", false, 2}, {"musiq", "nr", false, 2}, {"maniqa", "nr", false, 1}, {"lpips", "lpips", true, 2}} {
		met, err := New(c.name, Config{Models: "testdata/" + c.dir, MaxMemory: -1})
		if err != nil {
			t.Fatal(err)
		}
		var refs []*img.Image
		if c.refs {
			refs = []*img.Image{im(64, 48, 0.2), im(64, 48, 0.2), im(80, 48, 0.1), im(64, 48, 0.1)}
		}
		_, errs := met.(BatchScorer).ScoreBatch(dists, refs)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("%s image %d: %v", c.name, i, err)
			}
		}
		if n := met.(learnedMetric).model().runs.Load(); n != c.runs {
			t.Errorf("%s: %d inferences for 3 images of 64×48 and 1 of 80×48, want %d", c.name, n, c.runs)
		}
	}
}

// An input whose activations would not fit the memory budget is refused
// with the size and the budget; batches are cut to fit.
func TestMemoryBudget(t *testing.T) {
	im := img.New(64, 48)
	need := int64(64 * 48 * clipBytesPerPixel)
	small, _ := New("clipiqa", Config{Models: "testdata/nr", MaxMemory: need - 1})
	_, err := small.Score(im, nil)
	if err == nil || !strings.Contains(err.Error(), "a 64x48 image needs about") || !strings.Contains(err.Error(), "--metric-max-memory") {
		t.Errorf("over budget: %v", err)
	}
	two, _ := New("clipiqa", Config{Models: "testdata/nr", MaxMemory: 2 * need})
	_, errs := two.(BatchScorer).ScoreBatch([]*img.Image{im, im, im, im, im}, nil)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := two.(learnedMetric).model().runs.Load(); n != 3 {
		t.Errorf("5 images with room for 2 per inference: %d inferences, want 3", n)
	}
	off, _ := New("clipiqa", Config{Models: "testdata/nr", MaxMemory: -1})
	if _, err := off.Score(im, nil); err != nil {
		t.Errorf("no budget: %v", err)
	}
	// The default budget on the CPU is a share of the available memory.
	m := &onnxModel{cfg: Config{Concurrency: 4}}
	if a := availableMemory(); a > 0 && m.memoryBudget() != a/5*4/4 {
		t.Errorf("budget %d with %d available and 4 workers", m.memoryBudget(), a)
	}
	if (&onnxModel{cfg: Config{Device: models.Device{Kind: "cuda"}}}).memoryBudget() != 0 {
		t.Error("a GPU without a budget was given one")
	}
	if musiqMemory(1, 449) < 449*musiqBytesPerToken {
		t.Error("musiq estimate")
	}
}

// On a GPU no tensor of one inference may reach 2³¹ elements: stacked
// images are cut to stay under the limit, an image's crops are run in parts
// when it alone passes it, and an image that cannot be split is refused
// with the way out. Here on the CPU, with a small limit set.
func TestElementLimit(t *testing.T) {
	im := func(v float32) *img.Image {
		return filled(64, 48, func(_, i int) float32 { return v + float32(i%5)/10 })
	}
	dists := []*img.Image{im(0.1), im(0.2), im(0.3), im(0.4), im(0.5)}
	alone, _ := New("maniqa", Config{Models: "testdata/nr", MaxMemory: -1})
	want := make([]float64, len(dists))
	for i, d := range dists {
		var err error
		if want[i], err = alone.Score(d, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		limit int64
		runs  int64
	}{
		{50 * maniqaElementsPerCrop, 3},  // 2 images (40 crops) an inference
		{10 * maniqaElementsPerCrop, 10}, // each image's 20 crops in 2 parts
	} {
		met, _ := New("maniqa", Config{Models: "testdata/nr", MaxMemory: -1, elementLimit: c.limit})
		got, errs := met.(BatchScorer).ScoreBatch(dists, nil)
		for i := range dists {
			if errs[i] != nil || math.Abs(got[i]-want[i]) > 1e-5*math.Abs(want[i]) {
				t.Errorf("limit %d, image %d: %v, %v; alone %v", c.limit, i, got[i], errs[i], want[i])
			}
		}
		if n := met.(learnedMetric).model().runs.Load(); n != c.runs {
			t.Errorf("limit %d: %d inferences for 5 images, want %d", c.limit, n, c.runs)
		}
	}
	// Four images under a limit of three run as two and two, not three and
	// one padded to three on a GPU (here padding as there).
	met, _ := New("maniqa", Config{Models: "testdata/nr", MaxMemory: -1, padOnCPU: true, elementLimit: 60 * maniqaElementsPerCrop})
	got, errs := met.(BatchScorer).ScoreBatch(dists[:4], nil)
	for i := range got {
		if errs[i] != nil || math.Abs(got[i]-want[i]) > 1e-5*math.Abs(want[i]) {
			t.Errorf("limit of 3 images, image %d: %v, %v; alone %v", i, got[i], errs[i], want[i])
		}
	}
	mo := met.(learnedMetric).model()
	if runs, rows := mo.runs.Load(), mo.rows.Load(); runs != 2 || rows != 80 {
		t.Errorf("limit of 3 images, 4 images: %d inferences of %d crops in all, want 2 of 80 (2 and 2 images)", runs, rows)
	}
	clip, _ := New("clipiqa", Config{Models: "testdata/nr", MaxMemory: -1, elementLimit: 64 * 48 * clipElementsPerPixel / 2})
	if _, err := clip.Score(im(0.1), nil); err == nil || !strings.Contains(err.Error(), "a 64x48 image makes a tensor of about 49152 elements") ||
		!strings.Contains(err.Error(), "on the CPU") {
		t.Errorf("an image over the limit: %v", err)
	}
}

// The largest tensors, by hand: MANIQA 3072² per crop; LPIPS-VGG 64
// channels at full size, AlexNet's 64 at (side/4 + 1)²; CLIP 16 per pixel;
// MUSIQ the root convolution's 64·16² per token, or 6·(tokens+1)² where that
// is larger.
func TestLargestTensor(t *testing.T) {
	in := func(shape ...int64) graphInput {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		x := models.Tensor{Shape: shape, Data: make([]float32, n)}
		return graphInput{tensors: []models.Tensor{x, x}}
	}
	for _, c := range []struct {
		name string
		l    learnedMetric
		in   graphInput
		want int64
	}{
		{"maniqa", &maniqa{}, in(20, 3, 224, 224), 20 * 3072 * 3072},
		{"lpips-vgg", &lpips{onnxModel: onnxModel{stem: "lpips-vgg"}}, in(1, 3, 48, 64), 64 * 48 * 64},
		{"lpips-alex", &lpips{onnxModel: onnxModel{stem: "lpips-alex"}}, in(2, 3, 48, 64), 2 * 64 * 13 * 17},
		{"clipiqa", &clipiqa{}, in(1, 3, 48, 64), 16 * 48 * 64},
		{"musiq", &musiq{}, in(1, 449, 3075), 449 * 64 * 256},
		{"musiq, long", &musiq{}, in(2, 3000, 3075), 2 * 6 * 3001 * 3001},
	} {
		if got := c.l.largestTensor(c.in); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{{"16GiB", 16 << 30}, {"512MiB", 512 << 20}, {"8G", 8 << 30}, {"1.5GB", 1500000000}, {"1000", 1000}, {"off", -1}, {"-1", -1}} {
		got, err := ParseBytes(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"lots", "nan", "inf", "-infGiB", ""} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if got, err := ParseBytes("1e30GiB"); err != nil || got != math.MaxInt64 {
		t.Errorf("ParseBytes(1e30GiB) = %d, %v; want the largest int64", got, err)
	}
}

// MANIQA's crops run in parts when the whole image does not fit the budget:
// the same score, more inferences; below one crop's need it is refused.
func TestMemoryBudgetSplitsCrops(t *testing.T) {
	im := img.New(300, 260)
	for c := range im.Planes {
		for i := range im.Planes[c] {
			im.Planes[c][i] = float32((i*7+c*3)%255) / 255
		}
	}
	whole, _ := New("maniqa", Config{Models: "testdata/nr", MaxMemory: -1})
	want, err := whole.Score(im, nil)
	if err != nil {
		t.Fatal(err)
	}
	split, _ := New("maniqa", Config{Models: "testdata/nr", MaxMemory: 3 * maniqaBytesPerCrop})
	got, err := split.Score(im, nil)
	if err != nil || math.Abs(got-want) > 1e-6*math.Abs(want) {
		t.Errorf("split into parts of 3 crops: %v %v, whole %v", got, err, want)
	}
	if n := split.(learnedMetric).model().runs.Load(); n != 7 {
		t.Errorf("%d inferences for 20 crops, 3 at a time; want 7", n)
	}
	vals, errs := split.(BatchScorer).ScoreBatch([]*img.Image{im, im}, nil)
	for i := range vals {
		if errs[i] != nil || math.Abs(vals[i]-want) > 1e-6*math.Abs(want) {
			t.Errorf("batched image %d: %v %v", i, vals[i], errs[i])
		}
	}
	tiny, _ := New("maniqa", Config{Models: "testdata/nr", MaxMemory: maniqaBytesPerCrop - 1})
	if _, err := tiny.Score(im, nil); err == nil || !strings.Contains(err.Error(), "--metric-max-memory") {
		t.Errorf("budget under one crop: %v", err)
	}
}

// On a GPU an input with fewer rows than one already run with the same
// trailing shape is padded to it (a new shape costs kernel selection); the
// padding rows' outputs are dropped, so scores are the unpadded ones.
func TestPadsSmallerBatches(t *testing.T) {
	im := func(w, h int, v float32) *img.Image {
		return filled(w, h, func(c, i int) float32 { return v + float32((i+c)%11)/30 })
	}
	dists := []*img.Image{im(64, 48, 0.1), im(64, 48, 0.3), im(64, 48, 0.5), im(64, 48, 0.2)}
	refs := []*img.Image{im(64, 48, 0.2), im(64, 48, 0.25), im(64, 48, 0.1), im(64, 48, 0.4)}
	for _, c := range []struct{ name, dir string }{{"clipiqa", "nr"}, {"musiq", "nr"}, {"maniqa", "nr"}, {"lpips", "lpips"}} {
		var r []*img.Image
		if c.dir == "lpips" {
			r = refs
		}
		plain, err := New(c.name, Config{Models: "testdata/" + c.dir, MaxMemory: -1})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, len(dists))
		for i := range dists {
			var ref *img.Image
			if r != nil {
				ref = r[i]
			}
			if want[i], err = plain.Score(dists[i], ref); err != nil {
				t.Fatal(err)
			}
		}
		padded, _ := New(c.name, Config{Models: "testdata/" + c.dir, MaxMemory: -1, padOnCPU: true})
		got, errs := padded.(BatchScorer).ScoreBatch(dists[:3], sub(r, 0, 3))
		last, lastErr := padded.Score(dists[3], at(r, 3)) // one image, run as 3 rows (60 for MANIQA)
		got = append(got, last)
		errs = append(errs, lastErr)
		seen := padded.(learnedMetric).model().pad.Seen()
		if len(seen) != 1 {
			t.Errorf("%s: rows run per shape %v, want one shape", c.name, seen)
		}
		for _, rows := range seen {
			if rows != 3 && rows != 60 {
				t.Errorf("%s: %d rows recorded, want 3 images' worth", c.name, rows)
			}
		}
		for i := range got {
			if errs[i] != nil {
				t.Fatalf("%s image %d: %v", c.name, i, errs[i])
			}
			if math.Abs(got[i]-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
				t.Errorf("%s image %d: %v padded/stacked, %v alone", c.name, i, got[i], want[i])
			}
		}
	}
}

func sub(xs []*img.Image, lo, hi int) []*img.Image {
	if xs == nil {
		return nil
	}
	return xs[lo:hi]
}

func at(xs []*img.Image, i int) *img.Image {
	if xs == nil {
		return nil
	}
	return xs[i]
}

// models.OpenOn's refusal of a graph that would run Slice nodes where they
// crash is a known crash, with its reason; other errors are not.
func TestKnownCrash(t *testing.T) {
	sc := &models.SliceCrashError{Path: "m.onnx", Kept: 2, ORTVersion: "1.29.0"}
	if why := knownCrash(fmt.Errorf("maniqa: %w", sc)); !strings.Contains(why, "2 Slice node(s)") || strings.Contains(why, "m.onnx") {
		t.Errorf("the reason: %q", why)
	}
	for _, err := range []error{nil, errors.New("no such file")} {
		if why := knownCrash(err); why != "" {
			t.Errorf("%v: known crash %q", err, why)
		}
	}
}

// What Ready does with a known crash: --device cuda (here: any but auto)
// refuses with the ways out; auto runs the metric on the CPU and says so.
func TestKnownCrashReady(t *testing.T) {
	crash := func(stem string) string {
		if stem == "maniqa-koniq" {
			return "test crash"
		}
		return ""
	}
	strict, _ := New("maniqa", Config{Models: "testdata/nr", MaxMemory: -1, Device: models.Device{Kind: "cpu"}, knownCrash: crash})
	if err := strict.(learnedMetric).model().Ready(); err == nil || !strings.Contains(err.Error(), "test crash; use --device auto") || !strings.Contains(err.Error(), EnvAllowKnownCrash+"=1") ||
		!strings.Contains(err.Error(), "--slice-as-gather") {
		t.Errorf("refusal: %v", err)
	}
	auto, _ := New("maniqa", Config{Models: "testdata/nr", MaxMemory: -1, Device: models.Device{Kind: "auto"}, knownCrash: crash})
	m := auto.(learnedMetric).model()
	if err := m.Ready(); err != nil {
		t.Fatal(err)
	}
	if p := m.Placement(); p.EP != "CPUExecutionProvider" || !strings.Contains(p.Note, "auto: test crash; running it on the CPU") {
		t.Errorf("auto: %+v", p)
	}
	if _, err := auto.Score(img.New(64, 48), nil); err != nil {
		t.Errorf("auto scores on the CPU: %v", err)
	}
	other, _ := New("musiq", Config{Models: "testdata/nr", MaxMemory: -1, Device: models.Device{Kind: "cpu"}, knownCrash: crash})
	if err := other.(learnedMetric).model().Ready(); err != nil {
		t.Errorf("another metric: %v", err)
	}
}

// Close releases the learned metrics' sessions; a closed metric, used or
// not before, gives an error, not a crash.
func TestClose(t *testing.T) {
	used, _ := New("clipiqa", Config{Models: "testdata/nr", MaxMemory: -1})
	unused, _ := New("musiq", Config{Models: "testdata/nr", MaxMemory: -1})
	psnr, _ := New("psnr", Config{})
	if _, err := used.Score(img.New(64, 48), nil); err != nil {
		t.Fatal(err)
	}
	Close([]Metric{used, unused, psnr})
	for _, m := range []Metric{used, unused} {
		if _, err := m.Score(img.New(64, 48), nil); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("%s after Close: %v", m.Name(), err)
		}
	}
	Close([]Metric{used}) // twice is harmless
}

// BenchmarkToSigned times LPIPS's input conversion of one 512² image (two
// per pair): on a GPU it runs in turn with the inferences.
func BenchmarkToSigned(b *testing.B) {
	m := filled(512, 512, func(_, i int) float32 { return float32(i%251) / 250 })
	for b.Loop() {
		toSigned(m)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/image")
}

// The parallel, plane-sliced input conversions give exactly what a plain
// loop over each plane gives, for sizes the split cuts inside a plane.
func TestInputConversionsExact(t *testing.T) {
	for _, sz := range [][2]int{{300, 257}, {512, 512}, {1024, 160}, {17, 5}} {
		m := filled(sz[0], sz[1], func(c, i int) float32 { return float32((i*7+c*13)%256) / 255 })
		var signed, clip []float32
		for c := 0; c < 3; c++ {
			for _, v := range m.Planes[c] {
				signed = append(signed, v*2-1)
				clip = append(clip, (v-clipMean[c])/clipStd[c])
			}
		}
		for name, got := range map[string][]float32{"toSigned": toSigned(m), "ClipInput": ClipInput(m)} {
			want := signed
			if name == "ClipInput" {
				want = clip
			}
			if len(got) != len(want) {
				t.Fatalf("%s %v: %d values, want %d", name, sz, len(got), len(want))
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s %v: value %d is %v, want %v", name, sz, i, got[i], want[i])
				}
			}
		}
		if sz[0] < ManiqaCrop || sz[1] < ManiqaCrop {
			continue
		}
		got, err := ManiqaInput(m)
		if err != nil {
			t.Fatal(err)
		}
		sh, sw := (m.H-ManiqaCrop)/4, (m.W-ManiqaCrop)/4
		var want []float32
		for k := 0; k < ManiqaCrops; k++ {
			y0, x0 := (k/5)*sh, (k%5)*sw
			for c := 0; c < 3; c++ {
				for y := 0; y < ManiqaCrop; y++ {
					for x := 0; x < ManiqaCrop; x++ {
						want = append(want, (m.Planes[c][(y0+y)*m.W+x0+x]-0.5)/0.5)
					}
				}
			}
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("ManiqaInput %v: value %d is %v, want %v", sz, i, got[i], want[i])
			}
		}
	}
}

// filled is a w×h image whose plane c holds f(c, i) at pixel i.
func filled(w, h int, f func(c, i int) float32) *img.Image {
	m := img.New(w, h)
	for c := range m.Planes {
		for i := range m.Planes[c] {
			m.Planes[c][i] = f(c, i)
		}
	}
	return m
}

// With IO binding (score --io-binding) every learned metric runs its graph
// pinned to each input shape through bound buffers, and scores as the plain
// session does, alone and stacked (here on the CPU; on a GPU with
// enable_cuda_graph=1 each shape's session replays a CUDA graph).
func TestLearnedIOBinding(t *testing.T) {
	images := []*img.Image{
		filled(64, 48, func(c, i int) float32 { return float32((i*7+c*3)%23) / 23 }),
		filled(64, 48, func(c, i int) float32 { return float32((i*5+c)%19) / 19 }),
		filled(40, 56, func(c, i int) float32 { return float32((i*3+c*5)%17) / 17 }),
	}
	refs := []*img.Image{images[1], images[0], filled(40, 56, func(c, i int) float32 { return float32((i+c)%11) / 11 })}
	for _, c := range []struct{ name, dir string }{
		{"lpips", "lpips"}, {"maniqa", "nr"}, {"musiq", "nr"}, {"clipiqa", "nr"},
	} {
		plain, err := New(c.name, Config{Models: filepath.Join("testdata", c.dir), MaxMemory: -1})
		if err != nil {
			t.Fatal(err)
		}
		bound, err := New(c.name, Config{Models: filepath.Join("testdata", c.dir), MaxMemory: -1, Device: models.Device{Kind: "cpu", IOBinding: true}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(bound); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p := bound.(learnedMetric).model().Placement(); p.IOBinding == "" || p.Session["static_shapes"] != "1" {
			t.Errorf("%s: placement %+v", c.name, p)
		}
		var want []float64
		for i, d := range images {
			w, err := plain.Score(d, refs[i])
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			got, err := bound.Score(d, refs[i])
			if err != nil || math.Abs(got-w) > 1e-5*math.Max(1, math.Abs(w)) {
				t.Errorf("%s, image %d: %v, %v; plain %v", c.name, i, got, err, w)
			}
			want = append(want, w)
		}
		got, errs := bound.(BatchScorer).ScoreBatch(images, refs)
		for i := range got {
			if errs[i] != nil || math.Abs(got[i]-want[i]) > 1e-5*math.Max(1, math.Abs(want[i])) {
				t.Errorf("%s stacked, image %d: %v, %v; alone %v", c.name, i, got[i], errs[i], want[i])
			}
		}
		Close([]Metric{plain, bound})
	}
}
