package metrics

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Memory the learned metrics' networks need for their activations, so that
// an image too large for the machine gets an error naming the size and the
// budget instead of an allocation failure or the kernel's OOM killer.
//
// The estimates are upper bounds fitted to the peak resident memory of
// `addsr-bench score` on the full-size stand-ins (bench/learned/standins.py)
// on the CPU, at 1, 2, 4 and 8.4 MP, less the process and weights, with a
// margin of about 20% (commands and figures in docs/metrics.md and docs/performance.md):
// LPIPS-Alex 155 B per pixel, LPIPS-VGG 1381, CLIP RN50 253; MUSIQ grows
// with the token count n (one per 32² patch): about 450 KB per token plus
// four attention matrices of 6 heads × n² float32; MANIQA about 260 MB
// per 224² crop (5.2 GB for one image's 20 crops — its transposed attention
// over 3072 channels is 3072² per crop — measured the same for 40 crops).
const (
	lpipsAlexBytesPerPixel = 190
	lpipsVGGBytesPerPixel  = 1650
	clipBytesPerPixel      = 310
	musiqBytesPerToken     = 460 << 10
	musiqHeads             = 6
	musiqAttentionCopies   = 4
	// maniqaBytesPerCrop: MANIQA's activations per 224² crop (20 per image).
	maniqaBytesPerCrop = 260 << 20
)

// musiqMemory is the estimate for rows inputs of seq tokens (plus the class
// token).
func musiqMemory(rows, seq int) int64 {
	n := int64(seq + 1)
	return int64(rows) * (int64(seq)*musiqBytesPerToken + musiqAttentionCopies*musiqHeads*n*n*4)
}

var (
	availOnce sync.Once
	avail     int64
)

// availableMemory is MemAvailable from /proc/meminfo when the program first
// asks (0 where there is no such file).
func availableMemory() int64 {
	availOnce.Do(func() {
		f, err := os.Open("/proc/meminfo")
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					avail = kb << 10
				}
			}
		}
	})
	return avail
}

// memoryBudget is what one inference's activations may take: the
// configured budget, or on the CPU 80% of the memory available at the first
// check shared among the images in flight at once; 0 means no check (a GPU
// without --metric-max-memory: its free memory is not known here, and an
// allocation failure there is an error, not a crash).
func (m *onnxModel) memoryBudget() int64 {
	switch b := m.cfg.MaxMemory; {
	case b > 0:
		return b
	case b < 0 || m.cfg.Device.Kind == "cuda":
		return 0
	}
	return availableMemory() / 5 * 4 / int64(max(m.cfg.Concurrency, 1))
}

// checkMemory refuses an input whose estimated activations exceed the
// budget, unless its rows can run in parts that fit (runFitted). Call it
// once the model is loaded.
func checkMemory(l learnedMetric, in graphInput) error {
	m := l.model()
	budget, need, rows := m.memoryBudget(), l.memory(in), int64(in.rows())
	if budget <= 0 || need <= budget || (rows > 1 && need/rows <= budget && m.stackable()) {
		return nil
	}
	return fmt.Errorf("%s: a %dx%d image needs about %.1f GiB for the network's activations (estimated), over the %.1f GiB budget (--metric-max-memory; by default 80%% of the memory available on the CPU, shared by the --workers); crop or downscale it, use fewer workers, or raise the budget if the memory is there",
		l.Name(), in.w, in.h, gib(need), gib(budget))
}

func gib(b int64) float64 { return float64(b) / (1 << 30) }

// cudaMaxElements bounds every tensor of one inference on a GPU: ONNX
// Runtime's CUDA kernels (elementwise ones among them) index with 32-bit
// integers, so a tensor of 2³¹ elements or more makes an illegal memory
// access, which loses the CUDA context for every later inference: seen
// with MANIQA stacked 16 images deep (docs/performance.md, "Figures behind design choices").
const cudaMaxElements = 1<<31 - 1

// Largest intermediate tensor per row of each graph, in elements, from the
// architectures pyiqa's checkpoints have (the stand-ins copy them): MANIQA's
// channel attention, 3072² per crop (its ViT-B/8 attention, 12 heads ×
// 785², is smaller); MUSIQ's ResNet root on each 32² patch, 64 × 16² per
// token, or its attention, 6 heads × (tokens+1)²; CLIP RN50's stem and first
// stage, 16 per input pixel; LPIPS's first convolution, 64 channels at a
// quarter of each side (AlexNet) or at full size (VGG).
const (
	maniqaElementsPerCrop  = 3072 * 3072
	musiqElementsPerToken  = 64 * 16 * 16
	clipElementsPerPixel   = 16
	lpipsVGGElementsPerPix = 64
)

// elementLimit is cudaMaxElements where the metric runs on a GPU, 0 (no
// limit) on the CPU.
func (m *onnxModel) elementLimit() int64 {
	if m.cfg.elementLimit > 0 {
		return m.cfg.elementLimit
	}
	if p := m.Placement(); p.EP != "" && p.EP != "CPUExecutionProvider" {
		return cudaMaxElements
	}
	return 0
}

// checkElements refuses an input whose largest tensor would pass the GPU's
// limit, unless its rows can run in parts under it (runFitted).
func checkElements(l learnedMetric, in graphInput) error {
	limit, n, rows := l.model().elementLimit(), l.largestTensor(in), int64(in.rows())
	if limit <= 0 || n <= limit || (rows > 1 && n/rows <= limit && l.model().stackable()) {
		return nil
	}
	return fmt.Errorf("%s: a %dx%d image makes a tensor of about %d elements in the network, over the %d that ONNX Runtime's CUDA kernels can index; crop or downscale it, or score this metric on the CPU",
		l.Name(), in.w, in.h, n, int64(cudaMaxElements))
}

// ParseBytes reads a size such as 16GiB, 512MiB, 8G or 1000000 (bytes);
// "off" or a negative number is -1.
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "off" || t == "none" {
		return -1, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10}, {"gb", 1e9}, {"mb", 1e6}, {"kb", 1e3}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a size: use e.g. 16GiB, 512MiB or off", s)
	}
	if v < 0 {
		return -1, nil
	}
	if b := v * float64(mult); b < math.MaxInt64 {
		return int64(b), nil
	}
	return math.MaxInt64, nil
}
