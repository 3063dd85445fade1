package runners

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/models"
)

// ONNXOptions control an ONNX runner.
type ONNXOptions struct {
	Device models.Device
	// Tile is the tile size in LR pixels (0: the whole image at once, unless
	// the model's input size is fixed, which then sets it).
	Tile int
	// Overlap in LR pixels between neighbouring tiles; outputs are blended
	// with linear ramps across it, so tiles leave no seams.
	Overlap int
	// Batch runs up to this many same-size tiles per inference (1 when the
	// model's batch dimension is fixed); with RunBatch the tiles may come
	// from different images, so a set of same-size LR images runs Batch
	// images per inference.
	Batch int

	// padOnCPU lets tests pad batches on the CPU, where the runner does
	// not (padding only costs there).
	padOnCPU bool
}

// ONNX runs a single-pass SR model exported to ONNX (with its manifest).
type ONNX struct {
	name         string
	path         string
	m            *models.Manifest
	s            *models.Session
	o            ONNXOptions
	fixedH       int // fixed input size, 0 when dynamic
	fixedW       int
	dynamicBatch bool
	// On a GPU a batch smaller than one already run for the same tile size
	// is padded to it (copies of its last tile, whose outputs are dropped):
	// see models.RowPadder.
	padBatches bool
	pad        models.RowPadder
}

// NewONNX loads the model at path after checking it against its manifest.
func NewONNX(path string, o ONNXOptions) (*ONNX, error) {
	m, err := models.ReadManifest(path)
	if err != nil {
		return nil, err
	}
	if m.Kind != "sr" {
		return nil, fmt.Errorf("%s is a %q model, not an SR model", path, m.Kind)
	}
	s, err := models.OpenVerified(path, m, o.Device) // the hash is checked on the bytes it loads
	if err != nil {
		return nil, err
	}
	ins, outs := s.Inputs(), s.Outputs()
	if len(ins) != 1 || len(outs) != 1 || ins[0].Name != m.Input.Name || outs[0].Name != m.Output.Name {
		s.Close()
		return nil, fmt.Errorf("%s: the graph's I/O (%d inputs, %d outputs) does not match the manifest's %q → %q", path, len(ins), len(outs), m.Input.Name, m.Output.Name)
	}
	d := ins[0].Dimensions
	if len(d) != 4 || (d[1] != 3 && d[1] >= 0) {
		s.Close()
		return nil, fmt.Errorf("%s: input %q has shape %v; want N×3×H×W", path, m.Input.Name, d)
	}
	r := &ONNX{name: m.Name, path: path, m: m, s: s, o: o, dynamicBatch: d[0] < 0}
	r.padBatches = s.Placement().EP != "CPUExecutionProvider" || o.padOnCPU
	if d[2] > 0 && d[3] > 0 {
		r.fixedH, r.fixedW = int(d[2]), int(d[3])
	}
	if r.o.Batch < 1 || !r.dynamicBatch {
		r.o.Batch = 1
	}
	if r.o.Overlap < 0 || (r.o.Tile > 0 && 2*r.o.Overlap >= r.o.Tile) {
		s.Close()
		return nil, fmt.Errorf("overlap %d must be ≥ 0 and under half the tile %d", r.o.Overlap, r.o.Tile)
	}
	return r, nil
}

func (r *ONNX) Name() string { return r.name }
func (r *ONNX) Scale() int   { return r.m.Scale }

// Placement says where the model runs.
func (r *ONNX) Placement() models.Placement { return r.s.Placement() }

// Fingerprint names the weights by SHA-256 and the options and runtime that
// can change the output.
func (r *ONNX) Fingerprint() string {
	p := r.s.Placement()
	var opts []string
	for k, v := range p.Options {
		opts = append(opts, k+"="+v)
	}
	sort.Strings(opts)
	fp := fmt.Sprintf("onnx;model=%s;sha256=%s;dtype=%s;tile=%d;overlap=%d;ep=%s;ep-options=%s;ort=%s;v1",
		filepath.Base(r.path), r.m.SHA256, r.m.DType, r.o.Tile, r.o.Overlap, p.EP, strings.Join(opts, ","), p.ORTVersion)
	if t := p.Tuning(); t != "" { // only when set: earlier fingerprints stay valid
		fp += ";session=" + t
	}
	if r.m.IsTestFixture() {
		fp += models.FixtureMark
	}
	return fp
}

// Close releases the session.
func (r *ONNX) Close() error { return r.s.Close() }

type tile struct {
	img          int // index of the image in the batch
	x0, y0, w, h int // region in the LR image
	pw, ph       int // size fed to the model (padded)
}

// starts covers [0, n) with windows of size t stepping t−2·overlap, the last
// one flush with the end.
func starts(n, t, overlap int) []int {
	if t >= n {
		return []int{0}
	}
	step := t - 2*overlap
	var s []int
	for x := 0; ; x += step {
		if x+t >= n {
			s = append(s, n-t)
			return s
		}
		s = append(s, x)
	}
}

func (r *ONNX) tiles(w, h int) []tile {
	tw, th := r.o.Tile, r.o.Tile
	if r.fixedW > 0 {
		tw, th = r.fixedW, r.fixedH
	}
	if tw <= 0 {
		tw, th = w, h
	}
	mult := max(r.m.Multiple, 1)
	var out []tile
	for _, y := range starts(h, th, r.o.Overlap) {
		for _, x := range starts(w, tw, r.o.Overlap) {
			t := tile{x0: x, y0: y, w: min(tw, w), h: min(th, h)}
			t.pw, t.ph = roundUp(t.w, mult), roundUp(t.h, mult)
			if r.fixedW > 0 {
				t.pw, t.ph = r.fixedW, r.fixedH
			}
			out = append(out, t)
		}
	}
	return out
}

func roundUp(v, m int) int { return (v + m - 1) / m * m }

// Run upscales in.LR: tiles (padded by edge replication to the model's
// multiple or fixed size), batches of same-size tiles, and a weighted blend.
func (r *ONNX) Run(ctx context.Context, in Input) (Result, error) {
	res, err := r.RunBatch(ctx, []Input{in})
	if err != nil {
		return Result{}, err
	}
	return res[0], nil
}

// imageAcc collects one image's tiles as their batches come back.
type imageAcc struct {
	sum         [3][]float32 // weighted sums, when the image has several tiles
	wsum        []float32
	out         *img.Image
	prep, infer time.Duration
	shared      int // most images that shared one inference with this one
}

// RunBatch upscales several images with as few inferences as the batch size
// allows: the tiles of all images are grouped by padded size, so a set of
// same-size LR images runs Batch images per inference. Each image's
// inference time is its share (by tiles) of the calls it took part in.
func (r *ONNX) RunBatch(ctx context.Context, ins []Input) ([]Result, error) {
	s := r.m.Scale
	var tiles []tile
	accs := make([]imageAcc, len(ins))
	for i, in := range ins {
		t0 := time.Now()
		ts := r.tiles(in.LR.W, in.LR.H)
		outW, outH := in.LR.W*s, in.LR.H*s
		a := &accs[i]
		a.out = img.New(outW, outH)
		if len(ts) > 1 {
			a.sum = [3][]float32{make([]float32, outW*outH), make([]float32, outW*outH), make([]float32, outW*outH)}
			a.wsum = make([]float32, outW*outH)
		}
		for _, t := range ts {
			t.img = i
			tiles = append(tiles, t)
		}
		a.prep += time.Since(t0)
	}
	// Same padded sizes next to each other; within a size, image order and
	// then tile order, so a batch of one image's tiles stays as before.
	sort.SliceStable(tiles, func(a, b int) bool {
		if tiles[a].ph != tiles[b].ph {
			return tiles[a].ph < tiles[b].ph
		}
		return tiles[a].pw < tiles[b].pw
	})
	lo, hi := float32(r.m.Input.Range[0]), float32(r.m.Input.Range[1])
	olo, ohi := float32(r.m.Output.Range[0]), float32(r.m.Output.Range[1])
	bgr := strings.EqualFold(r.m.Input.Colour, "BGR")
	for b := 0; b < len(tiles); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := b + 1
		for e < len(tiles) && e-b < r.o.Batch && tiles[e].pw == tiles[b].pw && tiles[e].ph == tiles[b].ph {
			e++
		}
		pw, ph := tiles[b].pw, tiles[b].ph
		n, rows := e-b, r.batchRows(pw, ph, e-b)
		data := make([]float32, rows*3*pw*ph)
		// The tiles are packed, and below unpacked, on all cores: with a
		// GPU, this Go share competes with a few milliseconds of inference
		// per batch.
		took := make([]time.Duration, e-b)
		workpool.Run(context.Background(), e-b, 0, func(k int) {
			tp := time.Now()
			t := tiles[b+k]
			lr := ins[t.img].LR
			for c := 0; c < 3; c++ {
				src := lr.Planes[c]
				if bgr {
					src = lr.Planes[2-c]
				}
				dst := data[(k*3+c)*pw*ph:]
				for y := 0; y < ph; y++ {
					sy := t.y0 + min(y, t.h-1) // replicate the edge into the padding
					row := src[sy*lr.W:]
					for x := 0; x < pw; x++ {
						dst[y*pw+x] = lo + (hi-lo)*row[t.x0+min(x, t.w-1)]
					}
				}
			}
			took[k] = time.Since(tp)
		})
		for k, t := range tiles[b:e] {
			accs[t.img].prep += took[k]
		}
		blk := 3 * pw * ph
		for k := n; k < rows; k++ { // padding: copies of the last tile
			copy(data[k*blk:(k+1)*blk], data[(n-1)*blk:n*blk])
		}
		ti := time.Now()
		out, err := r.s.RunShaped([][]int64{{int64(rows), 3, int64(ph * s), int64(pw * s)}},
			models.Tensor{Shape: []int64{int64(rows), 3, int64(ph), int64(pw)}, Data: data})
		infer := time.Since(ti)
		if err != nil {
			return nil, runError(r.s.Placement().Device, rows, pw, ph, err)
		}
		o := out[0]
		if len(o.Shape) != 4 || o.Shape[1] != 3 || o.Shape[2] != int64(ph*s) || o.Shape[3] != int64(pw*s) {
			return nil, fmt.Errorf("%s: output shape %v for a %dx%d input; the manifest says ×%d", r.path, o.Shape, pw, ph, s)
		}
		// Tiles by image: one image's tiles add into the same sums, so they
		// are blended in turn; images in parallel.
		byImage := map[int][]int{}
		var order []int
		for k, t := range tiles[b:e] {
			if byImage[t.img] == nil {
				order = append(order, t.img)
			}
			byImage[t.img] = append(byImage[t.img], k)
		}
		for _, t := range tiles[b:e] {
			a := &accs[t.img]
			a.infer += infer / time.Duration(n)
			a.shared = max(a.shared, len(order))
		}
		workpool.Run(context.Background(), len(order), 0, func(j int) {
			i := order[j]
			a := &accs[i]
			tp := time.Now()
			for _, k := range byImage[i] {
				t := tiles[b+k]
				tileOut := o.Data[k*3*pw*s*ph*s:]
				if a.sum[0] == nil { // the image's only tile: crop and rescale
					r.place(tileOut, pw*s, ph*s, a.out, olo, ohi, bgr)
				} else {
					r.blend(tileOut, t, pw*s, ins[i].LR.W, ins[i].LR.H, a.out.W, a.sum, &a.wsum, olo, ohi, bgr)
				}
			}
			a.prep += time.Since(tp)
		})
		b = e
	}
	res := make([]Result, len(ins))
	workpool.Run(context.Background(), len(accs), 0, func(i int) {
		a := &accs[i]
		tp := time.Now()
		if a.sum[0] != nil {
			for c := 0; c < 3; c++ {
				for j, w := range a.wsum {
					a.out.Planes[c][j] = a.sum[c][j] / w
				}
			}
		}
		a.prep += time.Since(tp)
		res[i] = Result{Outputs: []Output{{Image: a.out}}, Stages: []Stage{{"pre/post", a.prep}, {"inference", a.infer}}, Batch: a.shared}
	})
	return res, nil
}

// batchRows is how many rows a batch of n tiles of pw×ph runs as: n, or
// on a GPU the largest batch already run for that tile size when n is
// smaller (see padBatches).
func (r *ONNX) batchRows(pw, ph, n int) int {
	if !r.padBatches {
		return n
	}
	return r.pad.Rows(fmt.Sprintf("%dx%d", pw, ph), n)
}

// runError says, for a failed allocation, what was asked of which device
// and the ways out.
func runError(device string, tiles, w, h int, err error) error {
	if models.IsOutOfMemory(err) {
		return fmt.Errorf("out of memory on %s for %d tile(s) of %dx%d LR pixels (%w); use --tile (e.g. 256, with --overlap 16), a smaller --batch, or a device with more memory",
			device, tiles, w, h, err)
	}
	return err
}

// place copies a whole-image output (stride × rows, possibly padded) into
// dst, mapping the output range to [0, 1].
func (r *ONNX) place(o []float32, stride, rows int, dst *img.Image, olo, ohi float32, bgr bool) {
	inv := 1 / (ohi - olo)
	plane := stride * rows
	for c := 0; c < 3; c++ {
		cc := c
		if bgr {
			cc = 2 - c
		}
		for y := 0; y < dst.H; y++ {
			src := o[cc*plane+y*stride:][:dst.W]
			d := dst.Planes[c][y*dst.W:][:dst.W]
			for x, v := range src {
				d[x] = (v - olo) * inv
			}
		}
	}
}

// blend adds one tile's output with weights that, at an interior edge, are
// zero over the outer half-overlap (where the model saw the tile's border
// instead of the image), then ramp linearly to one over the next overlap.
// Neighbouring tiles' weights sum to one across the overlap, so there is no
// seam, and a model whose receptive radius is at most half the overlap gives
// exactly its whole-image output.
func (r *ONNX) blend(o []float32, t tile, stride, lw, lh, outW int, sum [3][]float32, wsum *[]float32, olo, ohi float32, bgr bool) {
	s := r.m.Scale
	ramp := float32(r.o.Overlap * s)
	margin := ramp / 2
	weights := func(size int, atStart, atEnd bool) []float32 {
		w := make([]float32, size)
		for p := range w {
			v := float32(1)
			if ramp > 0 {
				if !atStart {
					v = min(v, min(max((float32(p)+0.5-margin)/ramp, 0), 1))
				}
				if !atEnd {
					v = min(v, min(max((float32(size-p)-0.5-margin)/ramp, 0), 1))
				}
			}
			w[p] = v
		}
		return w
	}
	W, H := t.w*s, t.h*s
	wx := weights(W, t.x0 == 0, t.x0+t.w == lw)
	wy := weights(H, t.y0 == 0, t.y0+t.h == lh)
	plane := stride * t.ph * s
	inv := 1 / (ohi - olo)
	for c := 0; c < 3; c++ {
		cc := c
		if bgr {
			cc = 2 - c
		}
		src := o[cc*plane:]
		dst := sum[c]
		for y := 0; y < H; y++ {
			row := src[y*stride : y*stride+W]
			out := dst[(t.y0*s+y)*outW+t.x0*s:][:W]
			w := wy[y]
			for x, v := range row {
				out[x] += w * wx[x] * (v - olo) * inv
			}
		}
	}
	ws := *wsum
	for y := 0; y < H; y++ {
		out := ws[(t.y0*s+y)*outW+t.x0*s:][:W]
		w := wy[y]
		for x := range out {
			out[x] += w * wx[x]
		}
	}
}
