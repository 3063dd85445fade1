// Package rng is the harness's seeded randomness. Its sequences are pinned
// here (PCG-DXSM from math/rand/v2, whose algorithm is specified, and our own
// conversions to floats, normals and integers), so a seed gives the same
// numbers whatever Go release built the tool.
package rng

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Source is a deterministic random source. It is not safe for concurrent use.
type Source struct {
	pcg *rand.PCG
}

// New returns the source for a seed and a stream name, such as a file stem:
// each image gets its own stream, so adding or removing files changes no
// other image's randomness.
func New(seed uint64, stream string) *Source {
	h := fnv.New64a()
	h.Write([]byte(stream))
	return &Source{pcg: rand.NewPCG(seed, h.Sum64())}
}

// Uint64 returns 64 random bits.
func (s *Source) Uint64() uint64 { return s.pcg.Uint64() }

// Float64 is uniform in [0, 1) with 53 random bits.
func (s *Source) Float64() float64 { return float64(s.Uint64()>>11) / (1 << 53) }

// Uniform is uniform in [lo, hi).
func (s *Source) Uniform(lo, hi float64) float64 { return lo + (hi-lo)*s.Float64() }

// IntN is uniform in [0, n), without modulo bias.
func (s *Source) IntN(n int) int {
	if n <= 0 {
		panic("rng: IntN of a non-positive bound")
	}
	lim := math.MaxUint64 - math.MaxUint64%uint64(n)
	for {
		v := s.Uint64()
		if v < lim {
			return int(v % uint64(n))
		}
	}
}

// Normal is a standard normal deviate (Box–Muller, one value per call).
func (s *Source) Normal() float64 {
	u1 := 1 - s.Float64() // (0, 1]
	u2 := s.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// Choice picks index i with probability p[i] (p sums to 1).
func (s *Source) Choice(p []float64) int {
	u := s.Float64()
	var c float64
	for i, v := range p {
		c += v
		if u < c {
			return i
		}
	}
	return len(p) - 1
}

// Poisson draws from a Poisson distribution with mean lambda: Knuth's
// product method for small means, a rounded normal approximation above 500
// where the product method loses precision.
func (s *Source) Poisson(lambda float64) float64 {
	if lambda <= 0 {
		return 0
	}
	if lambda > 500 {
		v := math.Round(lambda + math.Sqrt(lambda)*s.Normal())
		return math.Max(v, 0)
	}
	l := math.Exp(-lambda)
	k := 0.0
	p := 1.0
	for {
		p *= s.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
