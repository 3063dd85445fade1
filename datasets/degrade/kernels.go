package degrade

import (
	"math"

	"github.com/addsr-bench/addsr-bench/internal/rng"
)

// Real-ESRGAN's blur kernels (basicsr/data/degradations.py), re-derived: a
// bivariate Gaussian, generalised Gaussian or plateau shape on an odd grid,
// normalised to sum 1, and the circular low-pass (sinc) kernel.

// grid returns the coordinates −(k−1)/2 … (k−1)/2 of an odd k.
func grid(k int) []float64 {
	g := make([]float64, k)
	for i := range g {
		g[i] = float64(i - k/2)
	}
	return g
}

// inverseCovariance returns Σ⁻¹ for Σ = R·diag(sx², sy²)·Rᵀ, R the rotation
// by theta, as (a, b, c) with Σ⁻¹ = [[a, b], [b, c]].
func inverseCovariance(sx, sy, theta float64) (a, b, c float64) {
	cs, sn := math.Cos(theta), math.Sin(theta)
	// Σ⁻¹ = R·diag(1/sx², 1/sy²)·Rᵀ
	ix, iy := 1/(sx*sx), 1/(sy*sy)
	a = cs*cs*ix + sn*sn*iy
	b = cs * sn * (ix - iy)
	c = sn*sn*ix + cs*cs*iy
	return
}

// shapeKernel evaluates f(xᵀΣ⁻¹x) on a k×k grid and normalises it.
func shapeKernel(k int, sx, sy, theta float64, f func(q float64) float64) Kernel {
	a, b, c := inverseCovariance(sx, sy, theta)
	g := grid(k)
	out := Kernel{Size: k, W: make([]float64, k*k)}
	var s float64
	for i, y := range g {
		for j, x := range g {
			q := a*x*x + 2*b*x*y + c*y*y
			v := f(q)
			out.W[i*k+j] = v
			s += v
		}
	}
	for i := range out.W {
		out.W[i] /= s
	}
	return out
}

// Gaussian is the bivariate Gaussian exp(−½·xᵀΣ⁻¹x).
func Gaussian(k int, sx, sy, theta float64) Kernel {
	return shapeKernel(k, sx, sy, theta, func(q float64) float64 { return math.Exp(-0.5 * q) })
}

// GeneralizedGaussian is exp(−½·(xᵀΣ⁻¹x)^β).
func GeneralizedGaussian(k int, sx, sy, theta, beta float64) Kernel {
	return shapeKernel(k, sx, sy, theta, func(q float64) float64 { return math.Exp(-0.5 * math.Pow(q, beta)) })
}

// Plateau is 1/((xᵀΣ⁻¹x)^β + 1).
func Plateau(k int, sx, sy, theta, beta float64) Kernel {
	return shapeKernel(k, sx, sy, theta, func(q float64) float64 { return 1 / (math.Pow(q, beta) + 1) })
}

// Sinc is the circular low-pass kernel with cutoff ω: ω·J1(ω·r)/(2π·r), and
// ω²/(4π) at r = 0, normalised to sum 1.
func Sinc(k int, omega float64) Kernel {
	out := Kernel{Size: k, W: make([]float64, k*k)}
	c := float64(k-1) / 2
	var s float64
	for y := 0; y < k; y++ {
		for x := 0; x < k; x++ {
			r := math.Hypot(float64(x)-c, float64(y)-c)
			var v float64
			if r == 0 {
				v = omega * omega / (4 * math.Pi)
			} else {
				v = omega * math.J1(omega*r) / (2 * math.Pi * r)
			}
			out.W[y*k+x] = v
			s += v
		}
	}
	for i := range out.W {
		out.W[i] /= s
	}
	return out
}

// Pulse is the identity kernel of size k.
func Pulse(k int) Kernel {
	out := Kernel{Size: k, W: make([]float64, k*k)}
	out.W[(k/2)*k+k/2] = 1
	return out
}

// KernelParams are one stage's blur settings (Real-ESRGAN x4plus values in
// RealESRGANStage1/2).
type KernelParams struct {
	// Probabilities of iso, aniso, generalized iso, generalized aniso,
	// plateau iso, plateau aniso.
	Probs    [6]float64
	Sigma    [2]float64
	BetaG    [2]float64
	BetaP    [2]float64
	SincProb float64
}

// KernelSizes are the odd sizes 7…21 Real-ESRGAN draws from.
var KernelSizes = []int{7, 9, 11, 13, 15, 17, 19, 21}

// KernelChoice records what was drawn, for the manifest's per-image log.
type KernelChoice struct {
	Kind  string  `json:"kind"`
	Size  int     `json:"size"`
	SigX  float64 `json:"sigma_x,omitempty"`
	SigY  float64 `json:"sigma_y,omitempty"`
	Theta float64 `json:"theta,omitempty"`
	Beta  float64 `json:"beta,omitempty"`
	Omega float64 `json:"omega,omitempty"`
}

// RandomKernel draws a stage's kernel as Real-ESRGAN does: a random odd size,
// a sinc kernel with probability SincProb (cutoff in [π/3, π] below size 13,
// [π/5, π] from 13), otherwise a mixed Gaussian-family kernel; padded to 21×21.
func RandomKernel(r *rng.Source, p KernelParams) (Kernel, KernelChoice) {
	size := KernelSizes[r.IntN(len(KernelSizes))]
	if r.Float64() < p.SincProb {
		lo := math.Pi / 3
		if size >= 13 {
			lo = math.Pi / 5
		}
		omega := r.Uniform(lo, math.Pi)
		return Sinc(size, omega).PadTo(21), KernelChoice{Kind: "sinc", Size: size, Omega: omega}
	}
	kinds := []string{"iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso"}
	kind := kinds[r.Choice(p.Probs[:])]
	ch := KernelChoice{Kind: kind, Size: size}
	ch.SigX = r.Uniform(p.Sigma[0], p.Sigma[1])
	ch.SigY = ch.SigX
	if kind == "aniso" || kind == "generalized_aniso" || kind == "plateau_aniso" {
		ch.SigY = r.Uniform(p.Sigma[0], p.Sigma[1])
		ch.Theta = r.Uniform(-math.Pi, math.Pi)
	}
	var k Kernel
	// β below 1 and above 1 are equally likely, as in Real-ESRGAN (with the
	// plateau range [1, 2] the lower branch gives β = 1).
	beta := func(rg [2]float64) float64 {
		if r.Float64() < 0.5 {
			return r.Uniform(rg[0], 1)
		}
		return r.Uniform(1, rg[1])
	}
	switch kind {
	case "iso", "aniso":
		k = Gaussian(size, ch.SigX, ch.SigY, ch.Theta)
	case "generalized_iso", "generalized_aniso":
		ch.Beta = beta(p.BetaG)
		k = GeneralizedGaussian(size, ch.SigX, ch.SigY, ch.Theta, ch.Beta)
	default:
		ch.Beta = beta(p.BetaP)
		k = Plateau(size, ch.SigX, ch.SigY, ch.Theta, ch.Beta)
	}
	return k.PadTo(21), ch
}
