package metrics

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/imresize"
)

// niqe_pris_params.json is the pristine model of the official NIQE release
// (Mittal, Soundararajan, Bovik 2013), as BasicSR ships it in
// basicsr/metrics/niqe_pris_params.npz (Apache-2.0), converted to JSON.
//
//go:embed niqe_pris_params.json
var niqeParamsJSON []byte

func init() {
	register("niqe", "NIQE, pyiqa: Y of YIQ ×255 rounded, official pristine model, 96-px blocks", func(c Config) (Metric, error) {
		return &niqe{cfg: c, name: "niqe", conv: "pyiqa-yiq-round"}, nil
	})
	register("niqe-basicsr", "NIQE, BasicSR/MATLAB: Y of BT.601 rounded, official pristine model, 96-px blocks", func(c Config) (Metric, error) {
		return &niqe{cfg: c, name: "niqe-basicsr", conv: "basicsr-y-round"}, nil
	})
}

// NIQEBlock is the block size of the official model; images smaller than
// this after the crop border cannot be scored.
const NIQEBlock = 96

type niqeModel struct {
	mu  []float64 // 36
	cov *mat.SymDense
}

// niqeArithmetic is what differs between the two references besides the Y
// channel. NIQE reads the signs of MSCN coefficients, and in flat regions
// those are rounding residue, so each reference's rounding is reproduced.
type niqeArithmetic struct {
	window []float64 // normalised 7-tap 1-D Gaussian, σ = 7/6
	// windowGain is the sum of the 2-D window actually used. pyiqa rounds
	// its window to float32 (sum 1+1.1e-8): flat pixels then come out
	// slightly below their local mean, never exactly zero.
	windowGain float64
	sqrtEps    float64   // pyiqa's safe_sqrt adds float64 eps
	gamma      []float64 // AGGD shape grid 0.2:0.001:10
	rGamma     []float64 // Γ(2/γ)²/(Γ(1/γ)Γ(3/γ)) on the grid, increasing
	half       func(imresize.Plane) (imresize.Plane, error)
	// exact: coefficients are those of exact arithmetic where it matters,
	// x − μ = 0 wherever the neighbourhood is flat (see mscn).
	exact bool
}

var (
	niqeModelOnce = sync.OnceValues(loadNIQEModel)
	// BasicSR: float64 throughout, numpy's grid, MATLAB imresize in float64.
	niqeBasicSR = sync.OnceValue(func() *niqeArithmetic {
		a := newNIQEArithmetic(1, 0, func(i int) float64 { return 0.2 + float64(i)*0.001 },
			func(p imresize.Plane) (imresize.Plane, error) { return imresize.Scale(p, 0.5, true) })
		a.exact = true
		return a
	})
	// pyiqa: float32 window, float32 grid (torch.arange's default dtype),
	// imresize computed in float32.
	niqePyiqa = sync.OnceValue(func() *niqeArithmetic {
		return newNIQEArithmetic(float32WindowSum(7, 7.0/6), 2.220446049250313e-16,
			func(i int) float64 { return float64(float32(0.2 + float64(i)*0.001)) },
			func(p imresize.Plane) (imresize.Plane, error) { return imresize.ScaleFloat32(p, 0.5, true) })
	})
)

func newNIQEArithmetic(gain, eps float64, grid func(int) float64, half func(imresize.Plane) (imresize.Plane, error)) *niqeArithmetic {
	a := &niqeArithmetic{window: gaussian1D(7, 7.0/6), windowGain: gain, sqrtEps: eps, half: half}
	// arange(0.2, 10.001, 0.001) has 9801 values.
	for i := 0; i < 9801; i++ {
		g := grid(i)
		a.gamma = append(a.gamma, g)
		l1, _ := math.Lgamma(1 / g)
		l2, _ := math.Lgamma(2 / g)
		l3, _ := math.Lgamma(3 / g)
		a.rGamma = append(a.rGamma, math.Exp(2*l2-(l1+l3)))
	}
	return a
}

// float32WindowSum is the float64 sum of MATLAB's fspecial('gaussian', n,
// sigma) after its entries are rounded to float32, as pyiqa's fspecial does.
func float32WindowSum(n int, sigma float64) float64 {
	w := make([]float64, n*n)
	var s float64
	for i := range w {
		x, y := float64(i%n)-float64(n-1)/2, float64(i/n)-float64(n-1)/2
		w[i] = math.Exp(-(x*x + y*y) / (2 * sigma * sigma))
		s += w[i]
	}
	var s32 float64
	for _, v := range w {
		s32 += float64(float32(v / s))
	}
	return s32
}

func loadNIQEModel() (*niqeModel, error) {
	var raw struct {
		Mu  []float64   `json:"mu_pris_param"`
		Cov [][]float64 `json:"cov_pris_param"`
	}
	if err := json.Unmarshal(niqeParamsJSON, &raw); err != nil {
		return nil, fmt.Errorf("niqe: embedded pristine parameters: %w", err)
	}
	if len(raw.Mu) != 36 || len(raw.Cov) != 36 {
		return nil, fmt.Errorf("niqe: embedded pristine parameters have %d means and %d covariance rows, want 36", len(raw.Mu), len(raw.Cov))
	}
	m := &niqeModel{mu: raw.Mu, cov: mat.NewSymDense(36, nil)}
	for i, row := range raw.Cov {
		for j := i; j < 36; j++ {
			m.cov.SetSym(i, j, row[j])
		}
	}
	return m, nil
}

type niqe struct {
	cfg  Config
	name string
	conv string
}

func (m *niqe) Name() string         { return m.name }
func (m *niqe) Direction() Direction { return LowerIsBetter }
func (m *niqe) NeedsReference() bool { return false }
func (m *niqe) Fingerprint() string {
	return fingerprint(m.name, m.conv, m.cfg, "model=niqe_pris_params(official)", "block=96", "v1")
}

func (m *niqe) Score(dist, _ *img.Image) (float64, error) {
	d, _, err := prepare(m.name, m.cfg, dist, nil, false)
	if err != nil {
		return 0, err
	}
	if d.W < NIQEBlock || d.H < NIQEBlock || (d.W/NIQEBlock)*(d.H/NIQEBlock) < 2 {
		return 0, fmt.Errorf("%s needs at least two %d×%d blocks (e.g. %d×%d pixels) after the crop border to fit its covariance, got %dx%d",
			m.name, NIQEBlock, NIQEBlock, 2*NIQEBlock, NIQEBlock, d.W, d.H)
	}
	model, err := niqeModelOnce()
	if err != nil {
		return 0, err
	}
	var y []float64
	var ar *niqeArithmetic
	if m.conv == "pyiqa-yiq-round" {
		y, ar = yiqY(d, 255, true, m.cfg.vector()), niqePyiqa()
	} else {
		y, ar = bt601Y(d, m.cfg.vector()), niqeBasicSR()
		for i, v := range y {
			y[i] = math.RoundToEven(v)
		}
	}
	defer putPlane(y)
	return model.score(ar, imresize.Plane{W: d.W, H: d.H, Pix: y})
}

// score computes NIQE of a Y plane on the 0–255 scale.
func (model *niqeModel) score(ar *niqeArithmetic, p imresize.Plane) (float64, error) {
	bw, bh := p.W/NIQEBlock, p.H/NIQEBlock
	p = cropPlane(p, bw*NIQEBlock, bh*NIQEBlock)
	feats := make([][]float64, bw*bh)
	for i := range feats {
		feats[i] = make([]float64, 0, 36)
	}
	for scale := 1; scale <= 2; scale++ {
		norm := ar.mscn(p)
		bs := NIQEBlock / scale
		block := make([]float64, bs*bs)
		for by := 0; by < bh; by++ {
			for bx := 0; bx < bw; bx++ {
				for y := 0; y < bs; y++ {
					copy(block[y*bs:(y+1)*bs], norm.Pix[(by*bs+y)*norm.W+bx*bs:])
				}
				i := by*bw + bx
				feats[i] = ar.blockFeatures(feats[i], block, bs)
			}
		}
		if scale == 1 {
			half := imresize.NewPlane(p.W, p.H)
			for i, v := range p.Pix {
				half.Pix[i] = v / 255
			}
			var err error
			if half, err = ar.half(half); err != nil {
				return 0, err
			}
			for i := range half.Pix {
				half.Pix[i] *= 255
			}
			p = half
		}
	}
	return model.distance(feats)
}

func cropPlane(p imresize.Plane, w, h int) imresize.Plane {
	if w == p.W && h == p.H {
		return p
	}
	out := imresize.NewPlane(w, h)
	for y := 0; y < h; y++ {
		copy(out.Pix[y*w:(y+1)*w], p.Pix[y*p.W:])
	}
	return out
}

// mscn returns the mean-subtracted, contrast-normalised coefficients
// (x−μ)/(σ+1), μ and σ from the 7×7 Gaussian with replicate padding.
func (ar *niqeArithmetic) mscn(p imresize.Plane) imresize.Plane {
	mu, mu2 := gaussMoments(p, ar.window)
	g := ar.windowGain
	out := imresize.NewPlane(p.W, p.H)
	for i, v := range p.Pix {
		m := mu[i] * g
		if ar.exact && math.Abs(v-m) <= 1e-9*(1+math.Abs(v)) {
			out.Pix[i] = ar.centred(p, i)
			continue
		}
		sigma := math.Sqrt(math.Abs(mu2[i]*g-m*m) + ar.sqrtEps)
		out.Pix[i] = (v - m) / (sigma + 1)
	}
	return out
}

// centred is pixel i's coefficient in exact arithmetic, from moments
// around its own value c: μ − c = Σ_k W_k S_k and σ² = Σ_k W_k Q_k − (μ−c)²,
// where k = i²+j² names the taps of equal weight W_k (the weights are q^k,
// q = e^(−1/2σ²)) and S_k, Q_k sum the differences x − c and their squares
// over them. q is transcendental, so μ − c is exactly 0 iff every S_k is;
// summing per class first (exact for the integer values at full scale)
// gives that 0, where the separable filter returns a flat value c as
// c·(1−ε) for some c and a plain sum leaves ±1e-19: coefficients whose
// sign the AGGD fit counts (up to 1.5% of NIQE on JPEG photos). Used where
// the separable x − μ is within rounding of 0.
func (ar *niqeArithmetic) centred(p imresize.Plane, i int) float64 {
	const r = 3
	w := ar.window
	x0, y0 := i%p.W, i/p.W
	c := p.Pix[i]
	// The half-scale image is flat only up to the resize's rounding: a
	// difference within 1e-9 relative is that residue, not texture (real
	// ones there are above 1e-4).
	tol := 1e-9 * (1 + math.Abs(c))
	var s, q [2*r*r + 1]float64
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			d := p.Pix[min(max(y0+dy, 0), p.H-1)*p.W+min(max(x0+dx, 0), p.W-1)] - c
			if math.Abs(d) <= tol {
				continue
			}
			k := dy*dy + dx*dx
			s[k] += d
			q[k] += d * d
		}
	}
	var m1, m2 float64
	for dy := 0; dy <= r; dy++ {
		for dx := dy; dx <= r; dx++ {
			k := dy*dy + dx*dx
			if k == 0 {
				continue
			}
			wk := w[r+dy] * w[r+dx]
			if math.Abs(s[k]) > tol {
				m1 += wk * s[k]
			}
			m2 += wk * q[k]
		}
	}
	sigma := math.Sqrt(math.Abs(m2 - m1*m1))
	return -m1 / (sigma + 1)
}

// gaussMoments filters x and x² with the separable 7-tap window w⊗w and
// replicate padding, both in one pass over the image. The window is
// symmetric, so each output takes four multiplies per direction.
func gaussMoments(p imresize.Plane, w []float64) (mu, mu2 []float64) {
	const r = 3
	if len(w) != 2*r+1 {
		panic("niqe: the MSCN window has 7 taps")
	}
	w0, w1, w2, w3 := w[0], w[1], w[2], w[3]
	W, H := p.W, p.H
	t1 := make([]float64, W*H)
	t2 := make([]float64, W*H)
	row := make([]float64, W+2*r)
	for y := 0; y < H; y++ {
		src := p.Pix[y*W : (y+1)*W]
		copy(row[r:], src)
		for k := 0; k < r; k++ {
			row[k], row[W+r+k] = src[0], src[W-1]
		}
		d1, d2 := t1[y*W:(y+1)*W], t2[y*W:(y+1)*W]
		for x := range d1 {
			q := row[x : x+2*r+1 : x+2*r+1]
			a0, a1, a2, a3, a4, a5, a6 := q[0], q[1], q[2], q[3], q[4], q[5], q[6]
			d1[x] = w0*(a0+a6) + w1*(a1+a5) + w2*(a2+a4) + w3*a3
			d2[x] = w0*(a0*a0+a6*a6) + w1*(a1*a1+a5*a5) + w2*(a2*a2+a4*a4) + w3*a3*a3
		}
	}
	mu = make([]float64, W*H)
	mu2 = make([]float64, W*H)
	clampRow := func(y int) int { return min(max(y, 0), H-1) }
	for y := 0; y < H; y++ {
		rows := [7]int{}
		for k := range rows {
			rows[k] = clampRow(y-r+k) * W
		}
		o1, o2 := mu[y*W:(y+1)*W], mu2[y*W:(y+1)*W]
		for _, pass := range [2]struct {
			src []float64
			dst []float64
		}{{t1, o1}, {t2, o2}} {
			s0, s1, s2, s3 := pass.src[rows[0]:][:W], pass.src[rows[1]:][:W], pass.src[rows[2]:][:W], pass.src[rows[3]:][:W]
			s4, s5, s6 := pass.src[rows[4]:][:W], pass.src[rows[5]:][:W], pass.src[rows[6]:][:W]
			dst := pass.dst[:W]
			for x := range dst {
				dst[x] = w0*(s0[x]+s6[x]) + w1*(s1[x]+s5[x]) + w2*(s2[x]+s4[x]) + w3*s3[x]
			}
		}
	}
	return mu, mu2
}

// blockFeatures appends the 18 features of one s×s block: the AGGD fit of
// the coefficients (shape, mean of the two scales) and, for each of the four
// neighbour products (horizontal, vertical, both diagonals, with circular
// wrap inside the block as np.roll/torch.roll do), shape, mean, left and
// right scale.
func (ar *niqeArithmetic) blockFeatures(dst, block []float64, s int) []float64 {
	// One pass over the block feeds all five fits: the coefficients and
	// their products with the neighbour (y−dy, x−dx) for (dy, dx) = (0, 1),
	// (1, 0), (1, 1) and (1, −1), indices wrapping inside the block.
	var base, hor, ver, diag, anti aggdSums
	for y := 0; y < s; y++ {
		row := block[y*s : (y+1)*s]
		py := y - 1
		if py < 0 {
			py += s
		}
		up := block[py*s : (py+1)*s]
		for x, v := range row {
			l, r := x-1, x+1
			if l < 0 {
				l += s
			}
			if r == s {
				r = 0
			}
			base.add(v)
			hor.add(v * row[l])
			ver.add(v * up[x])
			diag.add(v * up[l])
			anti.add(v * up[r])
		}
	}
	n := len(block)
	alpha, bl, br := ar.aggd(base, n)
	dst = append(dst, alpha, (bl+br)/2)
	for _, acc := range [4]aggdSums{hor, ver, diag, anti} {
		alpha, bl, br := ar.aggd(acc, n)
		a, _ := math.Lgamma(2 / alpha)
		b, _ := math.Lgamma(1 / alpha)
		mean := (br - bl) * math.Exp(a-b)
		dst = append(dst, alpha, mean, bl, br)
	}
	return dst
}

// aggdSums accumulates the moments an AGGD fit needs, without branches on
// the sign (the signs of MSCN coefficients are close to random).
type aggdSums struct {
	sl, sr float64 // Σv² over negative and positive values
	sabs   float64 // Σ|v|
	nl, nr int     // counts of negative and positive values
}

func (a *aggdSums) add(v float64) {
	neg, pos := min(v, 0), max(v, 0)
	a.sl += neg * neg
	a.sr += pos * pos
	a.sabs += pos - neg
	a.nl += b2i(v < 0)
	a.nr += b2i(v > 0)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// aggd estimates the asymmetric generalised Gaussian's shape α and left and
// right scales by moment matching on the γ grid. A block without negative
// (or positive) values has a NaN scale on that side. Its moment ratio is NaN
// too, and numpy's and torch's argmin then return index 0, so α is the grid's
// first value, 0.2, not NaN: BasicSR and pyiqa both keep that α in the
// NaN-aware mean, and so must we.
func (ar *niqeArithmetic) aggd(s aggdSums, count int) (alpha, betaL, betaR float64) {
	n := float64(count)
	leftStd := math.Sqrt(s.sl / float64(s.nl))
	rightStd := math.Sqrt(s.sr / float64(s.nr))
	gammaHat := leftStd / rightStd
	meanAbs := s.sabs / n
	rHat := meanAbs * meanAbs / ((s.sl + s.sr) / n)
	g2 := gammaHat * gammaHat
	rHatNorm := rHat * (g2*gammaHat + 1) * (gammaHat + 1) / ((g2 + 1) * (g2 + 1))
	if math.IsNaN(rHatNorm) {
		alpha = ar.gamma[0]
	} else {
		alpha = ar.gamma[nearest(ar.rGamma, rHatNorm)]
	}
	a, _ := math.Lgamma(1 / alpha)
	c, _ := math.Lgamma(3 / alpha)
	f := math.Sqrt(math.Exp(a - c))
	return alpha, leftStd * f, rightStd * f
}

// nearest is argmin_i |table[i]−v| for an increasing table, first index on
// ties, as numpy's and torch's argmin choose.
func nearest(table []float64, v float64) int {
	i := sort.SearchFloat64s(table, v) // first i with table[i] >= v
	if i == len(table) {
		return i - 1
	}
	if i > 0 && math.Abs(table[i-1]-v) <= math.Abs(table[i]-v) {
		return i - 1
	}
	return i
}

// distance fits a Gaussian to the block features (NaN-aware mean; covariance
// over the blocks without NaN, normalised by n−1 as np.cov) and returns
// sqrt(dᵀ·pinv((Σp+Σd)/2)·d).
func (model *niqeModel) distance(feats [][]float64) (float64, error) {
	const k = 36
	mu := make([]float64, k)
	for j := 0; j < k; j++ {
		var s float64
		var n int
		for _, f := range feats {
			if !math.IsNaN(f[j]) {
				s += f[j]
				n++
			}
		}
		mu[j] = s / float64(n) // NaN when every block is NaN, as np.nanmean
	}
	var clean [][]float64
	for _, f := range feats {
		ok := true
		for _, v := range f {
			if math.IsNaN(v) {
				ok = false
				break
			}
		}
		if ok {
			clean = append(clean, f)
		}
	}
	if len(clean) < 2 {
		return 0, fmt.Errorf("niqe: only %d of %d blocks give finite features (flat image?); NIQE is undefined", len(clean), len(feats))
	}
	cmean := make([]float64, k)
	for _, f := range clean {
		for j, v := range f {
			cmean[j] += v
		}
	}
	for j := range cmean {
		cmean[j] /= float64(len(clean))
	}
	sum := mat.NewDense(k, k, nil)
	for i := 0; i < k; i++ {
		for j := i; j < k; j++ {
			var s float64
			for _, f := range clean {
				s += (f[i] - cmean[i]) * (f[j] - cmean[j])
			}
			s /= float64(len(clean) - 1)
			v := (model.cov.At(i, j) + s) / 2
			sum.Set(i, j, v)
			sum.Set(j, i, v)
		}
	}
	inv, err := pinv(sum)
	if err != nil {
		return 0, err
	}
	d := make([]float64, k)
	for j := range d {
		d[j] = model.mu[j] - mu[j]
	}
	dv := mat.NewVecDense(k, d)
	var t mat.VecDense
	t.MulVec(inv, dv)
	q := mat.Dot(dv, &t)
	if math.IsNaN(q) {
		return 0, fmt.Errorf("niqe: a feature is NaN in every block; NIQE is undefined for this image")
	}
	return math.Sqrt(q), nil
}

// pinv is the Moore–Penrose pseudo-inverse by SVD, singular values below
// max(m,n)·eps·σ_max dropped (torch.linalg.pinv's default).
func pinv(a *mat.Dense) (*mat.Dense, error) {
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return nil, fmt.Errorf("niqe: SVD of the covariance failed")
	}
	s := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	r, c := a.Dims()
	tol := float64(max(r, c)) * 2.220446049250313e-16 * s[0]
	for i := range s {
		if s[i] > tol {
			s[i] = 1 / s[i]
		} else {
			s[i] = 0
		}
	}
	// pinv = V·diag(1/s)·Uᵀ
	var vs mat.Dense
	vs.Apply(func(i, j int, x float64) float64 { return x * s[j] }, &v)
	out := mat.NewDense(c, r, nil)
	out.Mul(&vs, u.T())
	return out, nil
}
