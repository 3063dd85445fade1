//go:build !(goexperiment.simd && amd64)

package metrics

// clearUpper has nothing to do without the vector build; see ssim_simd.go.
func clearUpper() {}

// yiqYVector has no vector form in this build: it converts nothing.
func yiqYVector(r, g, b []float32, out []float64, scale float32, round bool) int { return 0 }
