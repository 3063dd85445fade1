package addsr

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/addsr-bench/addsr-bench/internal/clipbpe"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
	"github.com/addsr-bench/addsr-bench/internal/rng"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/runners"
)

// Options open a pipeline.
type Options struct {
	Device models.Device
	// Settings replace the manifest's defaults when not nil.
	Settings *Settings
	// Steps are the step counts whose outputs a run returns (the paper's
	// AddSR-1 … AddSR-4); the run takes max(Steps) steps. Empty: all of
	// the manifest's timesteps, the last output only.
	Steps []int
	// MaxOutputPixels refuses, before any inference, an image whose
	// processed output (4× the LR, after the shorter side is brought to
	// process_size) has more pixels (0: DefaultMaxOutputPixels).
	MaxOutputPixels int
	Hooks           Hooks
}

// DefaultMaxOutputPixels is 2048² output pixels (a 256² latent).
const DefaultMaxOutputPixels = 2048 * 2048

// Hooks let tests feed the pipeline's randomness and read its latents.
type Hooks struct {
	// Noise returns n standard normal values for an image's "encode" (the
	// VAE's sample), "start" (the noise at t = 999) or "stepK" (the noise
	// added before step K) draw; nil: the seeded generator.
	Noise func(id, kind string, n int) []float32
	// Latent sees each image's x̂0 after each step.
	Latent func(id string, step int, z0 []float32)
}

// Runner is an AddSR pipeline, safe for concurrent use.
type Runner struct {
	m     *Manifest
	o     Options
	set   Settings
	steps []int // outputs returned, sorted
	k     int   // steps run
	sess  map[string]*models.Session
	tok   *clipbpe.Tokenizer
	tags  []string
	thr   []float32
	ac    []float32
}

// Open reads and checks the pipeline in dir and loads its graphs. Every
// problem that can be found before the first image is found here.
func Open(dir string, o Options) (_ *Runner, err error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	r := &Runner{m: m, o: o, set: m.Defaults, sess: map[string]*models.Session{}}
	if o.Settings != nil {
		r.set = *o.Settings
	}
	if err := r.set.check(); err != nil {
		return nil, fmt.Errorf("AddSR options: %w", err)
	}
	ts := m.Scheduler.Timesteps
	r.steps = append([]int(nil), o.Steps...)
	if len(r.steps) == 0 {
		r.steps = []int{len(ts)}
	}
	sort.Ints(r.steps)
	for _, k := range r.steps {
		if k < 1 || k > len(ts) {
			return nil, fmt.Errorf("steps %d: %s has %d timesteps %v, so steps are 1 to %d", k, m.file, len(ts), ts, len(ts))
		}
	}
	r.k = r.steps[len(r.steps)-1]
	if r.o.MaxOutputPixels <= 0 {
		r.o.MaxOutputPixels = DefaultMaxOutputPixels
	}
	t := m.Tokenizer
	if r.tok, err = clipbpe.Load(m.Path(t.Vocab.File), m.Path(t.Merges.File), clipbpe.Options{MaxLength: t.MaxLength, PadToken: t.PadToken}); err != nil {
		return nil, fmt.Errorf("%s: tokenizer: %w", m.file, err)
	}
	if r.tags, err = readLines(m.Path(m.RAM.Tags.File)); err != nil {
		return nil, err
	}
	thr, err := readLines(m.Path(m.RAM.Thresholds.File))
	if err != nil {
		return nil, err
	}
	if len(thr) != len(r.tags) {
		return nil, fmt.Errorf("%s: %d thresholds for %d tags", m.Path(m.RAM.Thresholds.File), len(thr), len(r.tags))
	}
	for i, s := range thr {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", m.Path(m.RAM.Thresholds.File), i+1, err)
		}
		r.thr = append(r.thr, float32(v))
	}
	if r.ac, err = alphasCumprod(m.Scheduler); err != nil {
		return nil, fmt.Errorf("%s: %w", m.file, err)
	}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	for _, name := range GraphNames {
		g := m.Graphs[name]
		for _, x := range g.ExternalData {
			if err := m.present(x.File, x.SHA256, true); err != nil {
				return nil, fmt.Errorf("%s: graph %q: %w", m.file, name, err)
			}
		}
		p := m.Path(g.File)
		s, err := models.OpenVerified(p, models.HashManifest(name, g.SHA256, m.file), o.Device)
		if err != nil {
			return nil, err
		}
		r.sess[name] = s
		if got := ioNames(s); !slices.Equal(got[0], g.Inputs) || !slices.Equal(got[1], g.Outputs) {
			return nil, fmt.Errorf("%s: the graph's inputs %v and outputs %v are not the %v → %v that %s lists; export the pipeline again", p, got[0], got[1], g.Inputs, g.Outputs, m.file)
		}
	}
	if n := r.sess["ram"].Outputs()[1].Dimensions; len(n) != 2 || (n[1] > 0 && int(n[1]) != len(r.tags)) {
		return nil, fmt.Errorf("%s: tag_logits has shape %v, for %d tags in %s", m.Path(m.Graphs["ram"].File), n, len(r.tags), m.RAM.Tags.File)
	}
	return r, nil
}

func ioNames(s *models.Session) [2][]string {
	var out [2][]string
	for _, i := range s.Inputs() {
		out[0] = append(out[0], i.Name)
	}
	for _, o := range s.Outputs() {
		out[1] = append(out[1], o.Name)
	}
	return out
}

// Close releases the sessions.
func (r *Runner) Close() error {
	var errs []error
	for _, s := range r.sess {
		errs = append(errs, s.Close())
	}
	r.sess = nil
	return errors.Join(errs...)
}

func (r *Runner) Name() string        { return r.m.Name }
func (r *Runner) Scale() int          { return r.set.Upscale }
func (r *Runner) Manifest() *Manifest { return r.m }

// Steps are the step counts each run returns outputs for.
func (r *Runner) Steps() []int { return r.steps }

// Placement says where the graphs run (all six on one device).
func (r *Runner) Placement() models.Placement { return r.sess["unet"].Placement() }

// Fingerprint names every graph and file by SHA-256, the settings, the
// seed and the runtime. The number of steps run is not in it: step k's
// output does not depend on how many steps follow.
func (r *Runner) Fingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "addsr;pipeline=%s", r.m.Name)
	if r.m.TestFixture {
		b.WriteString(models.FixtureMark)
	}
	for _, name := range GraphNames {
		g := r.m.Graphs[name]
		fmt.Fprintf(&b, ";%s=%s/%s", name, g.DType, g.SHA256)
		for _, x := range g.ExternalData {
			fmt.Fprintf(&b, "+%s", x.SHA256)
		}
	}
	fmt.Fprintf(&b, ";vocab=%s;merges=%s;tags=%s;thresholds=%s", r.m.Tokenizer.Vocab.SHA256, r.m.Tokenizer.Merges.SHA256, r.m.RAM.Tags.SHA256, r.m.RAM.Thresholds.SHA256)
	s := r.m.Scheduler
	fmt.Fprintf(&b, ";scheduler=%s:%g-%g/%d:%v", s.BetaSchedule, s.BetaStart, s.BetaEnd, s.NumTrainTimesteps, s.Timesteps)
	fmt.Fprintf(&b, ";settings={%s}", r.set)
	p := r.Placement()
	var opts []string
	for k, v := range p.Options {
		opts = append(opts, k+"="+v)
	}
	sort.Strings(opts)
	fmt.Fprintf(&b, ";ep=%s;ep-options=%s;ort=%s", p.EP, strings.Join(opts, ","), p.ORTVersion)
	if t := p.Tuning(); t != "" {
		b.WriteString(";session=" + t)
	}
	b.WriteString(";v1")
	return b.String()
}

// Run upscales one image, returning the outputs of the requested steps.
func (r *Runner) Run(ctx context.Context, in runners.Input) (runners.Result, error) {
	res, err := r.RunBatch(ctx, []runners.Input{in})
	if err != nil {
		return runners.Result{}, err
	}
	return res[0], nil
}

// RunBatch runs images of the same LR size together, each graph once per
// group and step; results are in the order of ins.
func (r *Runner) RunBatch(ctx context.Context, ins []runners.Input) ([]runners.Result, error) {
	groups := map[[2]int][]int{}
	var order [][2]int
	for i, in := range ins {
		if in.LR == nil {
			return nil, fmt.Errorf("%s: no LR image", in.ID)
		}
		k := [2]int{in.LR.W, in.LR.H}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
		if _, err := r.geometry(in.LR.W, in.LR.H); err != nil {
			return nil, fmt.Errorf("%s: %w", in.ID, err)
		}
	}
	out := make([]runners.Result, len(ins))
	for _, k := range order {
		var g []runners.Input
		for _, i := range groups[k] {
			g = append(g, ins[i])
		}
		res, err := r.runGroup(ctx, g)
		if err != nil {
			if len(g) == 1 {
				return nil, fmt.Errorf("%s: %w", g[0].ID, err)
			}
			return nil, err
		}
		for j, i := range groups[k] {
			out[i] = res[j]
		}
	}
	return out, nil
}

// geom is how an LR becomes the pipeline's condition image: first resized
// to pw×ph when its shorter side is under process_size/upscale, then
// upscaled, then cut to a multiple of the VAE's factor (W×H).
type geom struct {
	resizeFirst bool
	pw, ph      int
	W, H        int
	outW, outH  int // the output: 4× the LR
}

func (r *Runner) geometry(w, h int) (geom, error) {
	up, ps, f := r.set.Upscale, r.set.ProcessSize, r.m.VAE.Downscale
	g := geom{pw: w, ph: h, outW: w * up, outH: h * up}
	if w < ps/up || h < ps/up {
		sc := float64(ps/up) / float64(min(w, h))
		g.resizeFirst, g.pw, g.ph = true, int(sc*float64(w)), int(sc*float64(h))
	}
	g.W, g.H = g.pw*up/f*f, g.ph*up/f*f
	if g.W < f || g.H < f {
		return g, fmt.Errorf("a %dx%d LR is too small for the pipeline", w, h)
	}
	if g.W*g.H > r.o.MaxOutputPixels {
		return g, fmt.Errorf("a %dx%d LR is processed at %dx%d (%d pixels, latent %dx%d), over the limit of %d pixels: the denoiser runs in latent tiles (latent_tile, now %d), but the VAE encoder sees the whole image and the decoder does too unless vae_decode_tile is set (now %d); raise max_output_pixels (--max-output-pixels) if the device has the memory, or crop the LR",
			w, h, g.W, g.H, g.W*g.H, g.W/f, g.H/f, r.o.MaxOutputPixels, r.set.LatentTile, r.set.VAEDecodeTile)
	}
	return g, nil
}

// clock accumulates stage times.
type clock struct {
	d map[string]time.Duration
}

func (c *clock) since(name string, t time.Time) { c.d[name] += time.Since(t) }

func (r *Runner) noise(id, kind string, n int) []float32 {
	if r.o.Hooks.Noise != nil {
		return r.o.Hooks.Noise(id, kind, n)
	}
	src := rng.New(r.set.Seed, "addsr/"+id+"/"+kind)
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(src.Normal())
	}
	return out
}

func (r *Runner) run(name string, in ...models.Tensor) ([]models.Tensor, error) {
	out, err := r.sess[name].Run(in...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// ramInput resizes images to RAM's input size with F.interpolate (mode:
// bilinear for the LR, as torchvision's tensor Resize does without
// antialiasing; bicubic for PSR's condition, as the pipeline does) and
// normalises them.
func (r *Runner) ramInput(ims []*img.Image, mode imresize.TorchMode) (models.Tensor, error) {
	n := r.m.RAM.InputSize
	t := models.Tensor{Shape: []int64{int64(len(ims)), 3, int64(n), int64(n)}, Data: make([]float32, len(ims)*3*n*n)}
	for b, im := range ims {
		rs, err := imresize.TorchResize(im, n, n, mode, 0, 0)
		if err != nil {
			return t, err
		}
		for c := range 3 {
			mean, std := float32(r.m.RAM.Mean[c]), float32(r.m.RAM.Std[c])
			dst := t.Data[(b*3+c)*n*n:][:n*n]
			for i, v := range rs.Planes[c] {
				dst[i] = (v - mean) / std
			}
		}
	}
	return t, nil
}

// Tags are RAM's tags for logits (one image's), in the tag list's order.
func (r *Runner) tagsOf(logits []float32) []string {
	var out []string
	for c, l := range logits {
		if 1/(1+float32(math.Exp(float64(-l)))) > r.thr[c] {
			out = append(out, r.tags[c])
		}
	}
	return out
}

func concat(ts ...models.Tensor) models.Tensor {
	out := models.Tensor{Shape: append([]int64(nil), ts[0].Shape...)}
	out.Shape[0] = 0
	for _, t := range ts {
		out.Shape[0] += t.Shape[0]
		out.Data = append(out.Data, t.Data...)
	}
	return out
}

func (r *Runner) runGroup(ctx context.Context, ins []runners.Input) ([]runners.Result, error) {
	B := len(ins)
	ck := clock{d: map[string]time.Duration{}}
	var (
		imgIDs, prompts, tagStrings []string
		textEmb, ramEmb             models.Tensor // the prompt's, RAM's image embeddings
		cond8                       [][3][]uint8  // the upscaled LR, 8-bit: colour fix reference
		lrUp                        []float32     // the same in [0, 1], [B,3,H,W]: ControlNet's first condition
	)
	for _, in := range ins {
		imgIDs = append(imgIDs, in.ID)
	}
	g, _ := r.geometry(ins[0].LR.W, ins[0].LR.H)

	// RAM on the LR: tags and the first step's image embeddings.
	t0 := time.Now()
	var lrs []*img.Image
	for _, in := range ins {
		lrs = append(lrs, in.LR)
	}
	x, err := r.ramInput(lrs, imresize.Bilinear)
	if err != nil {
		return nil, err
	}
	out, err := r.run("ram", x)
	if err != nil {
		return nil, err
	}
	ramEmb = out[0]
	nTags := len(r.tags)
	for b := range B {
		tagStrings = append(tagStrings, strings.Join(r.tagsOf(out[1].Data[b*nTags:(b+1)*nTags]), r.m.RAM.TagSeparator))
	}
	ck.since("ram", t0)

	// The prompt, tokenised; with guidance, the negative prompt too.
	t0 = time.Now()
	L := r.tok.MaxLength()
	ids := models.Tensor{Shape: []int64{int64(B), int64(L)}}
	s := r.set
	for b := range B {
		lead := tagStrings[b]
		switch s.Prompt {
		case "ram":
		case "none":
			lead = ""
		default:
			lead = s.Prompt
		}
		p := lead + ", " + s.UserPrompt + "," + s.AddedPrompt
		prompts = append(prompts, p)
		tok, _ := r.tok.Encode(p)
		for _, v := range tok {
			ids.Data = append(ids.Data, float32(v))
		}
	}
	if s.guided() {
		neg, _ := r.tok.Encode(s.NegativePrompt)
		negIDs := models.Tensor{Shape: []int64{int64(B), int64(L)}}
		for range B {
			for _, v := range neg {
				negIDs.Data = append(negIDs.Data, float32(v))
			}
		}
		ids = concat(negIDs, ids)
	}
	ck.since("tokenize", t0)
	t0 = time.Now()
	if out, err = r.run("text_encoder", ids); err != nil {
		return nil, err
	}
	textEmb = out[0]
	ck.since("text", t0)

	// The condition: the LR upscaled with PIL's bicubic, as the official script does.
	t0 = time.Now()
	HW := g.W * g.H
	lrUp = make([]float32, B*3*HW)
	for b, in := range ins {
		p, w, h := in.LR.U8(), in.LR.W, in.LR.H
		if g.resizeFirst {
			p, w, h = imresize.PILBicubic(p, w, h, g.pw, g.ph), g.pw, g.ph
		}
		p = imresize.PILBicubic(p, w, h, w*s.Upscale, h*s.Upscale)
		p = imresize.PILBicubic(p, w*s.Upscale, h*s.Upscale, g.W, g.H)
		cond8 = append(cond8, p)
		for c := range 3 {
			dst := lrUp[(b*3+c)*HW:][:HW]
			for i, v := range p[c] {
				dst[i] = float32(v) / 255
			}
		}
	}
	ck.since("prepare", t0)

	// The start: the LR's latent, noised to t = 999 (AddSR's LR embedding).
	t0 = time.Now()
	sf := float32(r.m.VAE.ScalingFactor)
	enc := models.Tensor{Shape: []int64{int64(B), 3, int64(g.H), int64(g.W)}, Data: make([]float32, len(lrUp))}
	for i, v := range lrUp {
		enc.Data[i] = v*2 - 1
	}
	if out, err = r.run("vae_encoder", enc); err != nil {
		return nil, err
	}
	mean, logvar := out[0], out[1]
	perImage := int(mean.Shape[1]) * int(mean.Shape[2]) * int(mean.Shape[3]) // latent values per image
	ts := r.m.Scheduler.Timesteps
	sa, s1 := coeffs(r.ac, ts[0])
	z := models.Tensor{Shape: mean.Shape, Data: make([]float32, len(mean.Data))}
	for b, id := range imgIDs {
		ne, ns := r.noise(id, "encode", perImage), r.noise(id, "start", perImage)
		off := b * perImage
		for i := range perImage {
			lv := min(max(logvar.Data[off+i], -30), 20)
			std := float32(math.Exp(float64(0.5 * lv)))
			zl := (mean.Data[off+i] + std*ne[i]) * sf
			z.Data[off+i] = sa*zl + s1*ns[i]
		}
	}
	ck.since("vae_encode", t0)

	// cumulative[k] is the stage list a k-step run would have taken.
	type stepOut struct {
		images []*img.Image
		stages map[string]time.Duration
	}
	outs := map[int]stepOut{}
	want := map[int]bool{}
	for _, k := range r.steps {
		want[k] = true
	}
	cond := lrUp
	var x0 models.Tensor // the last step's decoded x̂0
	for i := 0; i < r.k; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		step, t := i+1, ts[i]
		if i > 0 && s.PSR {
			// PSR: the decoded x̂0 of the step before, blended with the
			// upscaled LR, conditions ControlNet and gives RAM's embeddings.
			t0 = time.Now()
			w, wl := float32(s.PSRWeight), float32(1-s.PSRWeight)
			cond = make([]float32, len(lrUp))
			var ims []*img.Image
			for b := range B {
				im := &img.Image{W: g.W, H: g.H}
				for c := range 3 {
					off := (b*3 + c) * HW
					for j := range HW {
						v := min(max(x0.Data[off+j], -1), 1)
						cond[off+j] = (v/2+0.5)*w + wl*lrUp[off+j]
					}
					im.Planes[c] = cond[off : off+HW]
				}
				ims = append(ims, im)
			}
			x, err := r.ramInput(ims, imresize.Bicubic)
			if err != nil {
				return nil, err
			}
			if out, err = r.run("ram", x); err != nil {
				return nil, fmt.Errorf("step %d (t=%d): %w", step, t, err)
			}
			ramEmb = out[0]
			ck.since("ram_psr", t0)
		}
		t0 = time.Now()
		sample, ram, cnd := z, ramEmb, models.Tensor{Shape: []int64{int64(B), 3, int64(g.H), int64(g.W)}, Data: cond}
		if s.guided() {
			sample, ram, cnd = concat(z, z), concat(ramEmb, ramEmb), concat(cnd, cnd)
		}
		nb := sample.Shape[0]
		tt := models.Tensor{Shape: []int64{nb}, Data: make([]float32, nb)}
		for j := range tt.Data {
			tt.Data[j] = float32(t)
		}
		pred, err := r.predict(sample, tt, textEmb, cnd, ram)
		if err != nil {
			return nil, fmt.Errorf("step %d (t=%d): %w", step, t, err)
		}
		eps := pred.Data
		if s.guided() {
			gs := float32(s.GuidanceScale)
			n := len(z.Data)
			guided := make([]float32, n)
			for j := range guided {
				u, c := eps[j], eps[n+j]
				guided[j] = u + gs*(c-u)
			}
			eps = guided
		}
		sa, s1 := coeffs(r.ac, t)
		z0 := models.Tensor{Shape: z.Shape, Data: make([]float32, len(z.Data))}
		for j, v := range z.Data {
			z0.Data[j] = (v - s1*eps[j]) / sa
		}
		for b, id := range imgIDs {
			lat := z0.Data[b*perImage : (b+1)*perImage]
			for _, v := range lat {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fmt.Errorf("step %d (t=%d): x̂0 of %s has NaN or Inf", step, t, id)
				}
			}
			if r.o.Hooks.Latent != nil {
				r.o.Hooks.Latent(id, step, lat)
			}
		}
		ck.since("denoise_"+strconv.Itoa(step), t0)

		// Decode x̂0: this step's output, and PSR's input for the next.
		last := step == r.k
		if want[step] || (s.PSR && !last) {
			t0 = time.Now()
			lat := models.Tensor{Shape: z0.Shape, Data: make([]float32, len(z0.Data))}
			for j, v := range z0.Data {
				lat.Data[j] = v / sf
			}
			if x0, err = r.decode(lat); err != nil {
				return nil, fmt.Errorf("step %d (t=%d): %w", step, t, err)
			}
			dec := time.Since(t0)
			if want[step] {
				t0 = time.Now()
				var ims []*img.Image
				for b := range B {
					ims = append(ims, r.finish(x0.Data[b*3*HW:(b+1)*3*HW], cond8[b], g))
				}
				fix := time.Since(t0)
				stages := maps.Clone(ck.d)
				stages["vae_decode"] = dec
				stages["colour_fix"] = fix
				outs[step] = stepOut{ims, stages}
			}
			if s.PSR && !last {
				ck.d["psr_decode"] += dec
			}
		}
		if !last {
			sa, s1 := coeffs(r.ac, ts[i+1])
			for b, id := range imgIDs {
				n := r.noise(id, "step"+strconv.Itoa(step+1), perImage)
				off := b * perImage
				for j := range perImage {
					z.Data[off+j] = sa*z0.Data[off+j] + s1*n[j]
				}
			}
		}
	}

	results := make([]runners.Result, B)
	for b := range B {
		var all []runners.Stage
		for _, k := range r.steps {
			so := outs[k]
			stages := shareStages(so.stages, B)
			results[b].Outputs = append(results[b].Outputs, runners.Output{Steps: k, Image: so.images[b], Stages: stages, Prompt: prompts[b]})
			all = stages
		}
		results[b].Stages = all
		if B > 1 {
			results[b].Batch = B
		}
	}
	return results, nil
}

// stageOrder lists stages in the order they run, for records.
var stageOrder = []string{"ram", "tokenize", "text", "prepare", "vae_encode"}

// shareStages is one image's share of a group's stage times, in run order.
func shareStages(d map[string]time.Duration, n int) []runners.Stage {
	var names []string
	seen := map[string]bool{}
	add := func(s string) {
		if _, ok := d[s]; ok && !seen[s] {
			names = append(names, s)
			seen[s] = true
		}
	}
	for _, s := range stageOrder {
		add(s)
	}
	var rest []string
	for s := range d {
		if !seen[s] && s != "vae_decode" && s != "colour_fix" {
			rest = append(rest, s)
		}
	}
	sort.Strings(rest)
	for _, s := range rest {
		add(s)
	}
	add("vae_decode")
	add("colour_fix")
	out := make([]runners.Stage, len(names))
	for i, s := range names {
		out[i] = runners.Stage{Name: s, Duration: d[s] / time.Duration(n)}
	}
	return out
}

// finish turns one decoded image ([3,H,W] in [−1, 1]) into the output:
// 8 bits as the pipeline's postprocess rounds them, the colour fix against
// the upscaled LR, and the resize back to 4× the LR when the LR was resized.
func (r *Runner) finish(x []float32, cond8 [3][]uint8, g geom) *img.Image {
	HW := g.W * g.H
	var u8 [3][]uint8
	for c := range 3 {
		u8[c] = make([]uint8, HW)
		for i, v := range x[c*HW : (c+1)*HW] {
			v = min(max(v/2+0.5, 0), 1)
			u8[c][i] = uint8(math.RoundToEven(float64(v * 255)))
		}
	}
	switch r.set.ColourFix {
	case "adain":
		u8 = adain(u8, cond8)
	case "wavelet":
		u8 = wavelet(u8, cond8, g.W, g.H)
	}
	if g.W != g.outW || g.H != g.outH {
		u8 = imresize.PILBicubic(u8, g.W, g.H, g.outW, g.outH)
	}
	return img.FromU8(g.outW, g.outH, u8)
}
