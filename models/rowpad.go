package models

import "sync"

// RowPadder says how many rows a batched inference should run as. On a GPU
// the first inference of each input shape selects kernels (cuDNN's
// exhaustive search by default), which costs seconds where a whole batch
// takes a fraction of one (docs/performance.md, "Figures behind design choices"). So a batch with fewer rows than
// one already run with the same other dimensions is better padded to that
// size (its padding rows' outputs dropped) than run as a new shape. The
// zero RowPadder is ready; it is safe for concurrent use.
type RowPadder struct {
	mu  sync.Mutex
	ran map[string]int
}

// Rows is how many rows to run n rows of the shape named key as: the most
// already run for key when that is more than n, else n, which is then
// remembered.
func (p *RowPadder) Rows(key string, n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if seen := p.ran[key]; seen > n {
		return seen
	}
	if p.ran == nil {
		p.ran = map[string]int{}
	}
	p.ran[key] = n
	return n
}

// Seen is a copy of the most rows run per key.
func (p *RowPadder) Seen() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.ran))
	for k, v := range p.ran {
		out[k] = v
	}
	return out
}
