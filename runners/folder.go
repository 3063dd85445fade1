package runners

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// Folder reads outputs that another framework already produced: for each
// step count, a folder with one image per test image, matched by file stem.
// It lets the harness score any model, AddSR's official code included,
// without running it.
type Folder struct {
	name  string
	scale int
	dirs  map[int]string // steps (0: single output) → folder
	index map[int]map[string]string
	fp    string
}

// NewFolder indexes the folders. Step 0 means a single-output method.
func NewFolder(name string, scale int, dirs map[int]string) (*Folder, error) {
	f := &Folder{name: name, scale: scale, dirs: dirs, index: map[int]map[string]string{}}
	h := sha256.New()
	var steps []int
	for st := range dirs {
		steps = append(steps, st)
	}
	sort.Ints(steps)
	for _, st := range steps {
		ents, err := os.ReadDir(dirs[st])
		if err != nil {
			return nil, fmt.Errorf("folder runner %s: %w", name, err)
		}
		idx := map[string]string{}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || strings.HasPrefix(n, ".") {
				continue
			}
			switch strings.ToLower(filepath.Ext(n)) {
			case ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp":
			default:
				continue
			}
			stem := strings.TrimSuffix(n, filepath.Ext(n))
			if prev, dup := idx[stem]; dup {
				return nil, fmt.Errorf("folder runner %s: %s and %s have the same stem", name, prev, n)
			}
			idx[stem] = filepath.Join(dirs[st], n)
		}
		f.index[st] = idx
	}
	// By content, not file times: a copy to another node or a touch keeps
	// the fingerprint, a changed output does not.
	for _, st := range steps {
		var stems []string
		for stem := range f.index[st] {
			stems = append(stems, stem)
		}
		sort.Strings(stems)
		for _, stem := range stems {
			p := f.index[st][stem]
			sum, err := fileSHA256(p)
			if err != nil {
				return nil, fmt.Errorf("folder runner %s: %w", name, err)
			}
			fmt.Fprintf(h, "%d/%s/%s\n", st, filepath.Base(p), sum)
		}
	}
	f.fp = fmt.Sprintf("folder;x%d;content=%s;v2", scale, hex.EncodeToString(h.Sum(nil))[:16])
	return f, nil
}

func fileSHA256(p string) (string, error) {
	fh, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (f *Folder) Name() string        { return f.name }
func (f *Folder) Scale() int          { return f.scale }
func (f *Folder) Fingerprint() string { return f.fp }

// Run loads the outputs for in.ID; a missing one is an error naming the folder.
func (f *Folder) Run(ctx context.Context, in Input) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	t := time.Now()
	var res Result
	var steps []int
	for st := range f.index {
		steps = append(steps, st)
	}
	sort.Ints(steps)
	// Each step's output on its own: one missing or broken file fails that
	// step's record, not the image's other steps.
	failed := 0
	for _, st := range steps {
		m, err := f.load(st, in)
		if err != nil {
			failed++
		}
		res.Outputs = append(res.Outputs, Output{Steps: st, Image: m, Err: err})
	}
	if failed == len(steps) && len(steps) == 1 {
		return Result{}, res.Outputs[0].Err
	}
	res.Stages = []Stage{{"load", time.Since(t)}}
	return res, nil
}

// load reads the output of in at step st.
func (f *Folder) load(st int, in Input) (*img.Image, error) {
	p, ok := f.index[st][in.ID]
	if !ok {
		return nil, fmt.Errorf("%s has no output for %s", f.dirs[st], in.ID)
	}
	m, err := img.Load(p, img.DecodeOptions{})
	if err != nil {
		return nil, err
	}
	if in.LR != nil && (m.W != in.LR.W*f.scale || m.H != in.LR.H*f.scale) {
		return nil, fmt.Errorf("%s is %dx%d, expected ×%d of the %dx%d input", p, m.W, m.H, f.scale, in.LR.W, in.LR.H)
	}
	return m, nil
}

// NeedsLR is false: the outputs were made elsewhere; the LR only checks
// their size.
func (f *Folder) NeedsLR() bool { return false }
