//go:build !amd64 || !cgo

package metrics

import "github.com/addsr-bench/addsr-bench/internal/img"

// No vector kernels on this platform: the portable code does everything.

const hasVector = false

func yiqYVector(r, g, b []float32, out []float64, scale float32, round bool) int { return 0 }
func bt601YVector(r, g, b []float32, out []float64) int                          { return 0 }
func bt601SqDiffVector(a, b [3][]float32) (float64, int)                         { return 0, 0 }
func u8SqDiffVector(a, b []float32) (float64, int)                               { return 0, 0 }
func ssimSumVector(x, y []float64, w, h int, win *[ssimTaps]float64, clampCS bool) float64 {
	panic("no vector SSIM on this platform")
}

const convYIQ255, convBT601, convScaled255, convU8 = 1, 2, 3, 4

func ssimSumVectorConv(a, b *img.Image, channel, kind int, win *[ssimTaps]float64, clampCS bool) float64 {
	panic("no vector SSIM on this platform")
}
