//go:build !(goexperiment.simd && amd64)

package metrics

// clearUpper has nothing to do without the vector build; see ssim_simd.go.
func clearUpper() {}
