package runners

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/filehash"
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
	// times are the seconds the framework that made the outputs took, per
	// step folder and image (its timings.json or timings.csv); an image
	// without one is not measured: the time to read its PNG is no SR time.
	times map[int]map[string]float64
}

// TimingsFiles are the names a step folder's timings may have: JSON
// {"0801": 0.41, …} or CSV rows "0801,0.41" (a header row is skipped),
// seconds per image.
var TimingsFiles = []string{"timings.json", "timings.csv"}

// NewFolder indexes the folders. Step 0 means a single-output method. pat
// maps file names to image stems ("{stem}_out"); files that do not fit it
// are not outputs of this method and are left out.
func NewFolder(name string, scale int, dirs map[int]string, pat datasets.StemPattern) (*Folder, error) {
	f := &Folder{name: name, scale: scale, dirs: dirs, index: map[int]map[string]string{}, times: map[int]map[string]float64{}}
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
			stem, ok := pat.Match(strings.TrimSuffix(n, filepath.Ext(n)))
			if !ok {
				continue
			}
			if prev, dup := idx[stem]; dup {
				return nil, fmt.Errorf("folder runner %s: %s and %s have the same stem", name, prev, n)
			}
			idx[stem] = filepath.Join(dirs[st], n)
		}
		f.index[st] = idx
		t, err := readTimings(dirs[st])
		if err != nil {
			return nil, fmt.Errorf("folder runner %s: %w", name, err)
		}
		f.times[st] = t
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
			_, sum, err := filehash.SHA256(p)
			if err != nil {
				return nil, fmt.Errorf("folder runner %s: %w", name, err)
			}
			fmt.Fprintf(h, "%d/%s/%s\n", st, filepath.Base(p), sum)
		}
	}
	f.fp = fmt.Sprintf("folder;x%d;content=%s;v2", scale, hex.EncodeToString(h.Sum(nil))[:16])
	if p := pat.String(); p != "" {
		f.fp += ";pattern=" + p // which image each file is
	}
	return f, nil
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
		// The framework's own time when it gave one; else none (an empty
		// list: not measured), never the PNG read.
		stages := []Stage{}
		if s, ok := f.times[st][in.ID]; ok {
			stages = []Stage{{"external", time.Duration(s * float64(time.Second))}}
		}
		res.Outputs = append(res.Outputs, Output{Steps: st, Image: m, Err: err, Stages: stages})
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

// readTimings reads dir's timings file, if any: seconds per image stem.
func readTimings(dir string) (map[string]float64, error) {
	for _, name := range TimingsFiles {
		p := filepath.Join(dir, name)
		raw, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out := map[string]float64{}
		if strings.HasSuffix(name, ".json") {
			if err := json.Unmarshal(raw, &out); err != nil {
				return nil, fmt.Errorf("%s: want {\"image stem\": seconds, …}: %v", p, err)
			}
		} else {
			rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
			if err != nil {
				return nil, fmt.Errorf("%s: %v", p, err)
			}
			for i, r := range rows {
				if len(r) != 2 {
					return nil, fmt.Errorf("%s:%d: want image,seconds", p, i+1)
				}
				v, err := strconv.ParseFloat(strings.TrimSpace(r[1]), 64)
				if err != nil {
					if i == 0 {
						continue // a header
					}
					return nil, fmt.Errorf("%s:%d: %q is not seconds", p, i+1, r[1])
				}
				out[strings.TrimSpace(r[0])] = v
			}
		}
		for k, v := range out {
			if !(v >= 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: %s: %v is not a time in seconds", p, k, v)
			}
		}
		return out, nil
	}
	return nil, nil
}
