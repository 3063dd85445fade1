package degrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
)

// SetOptions controls BuildSet.
type SetOptions struct {
	Options
	In, Out  string
	Workers  int
	Tool     string // tool name and version for the recipe
	Decode   img.DecodeOptions
	Progress func() // called after each image, from any goroutine
}

// SetResult summarises a built set.
type SetResult struct {
	Built   int
	Skipped []datasets.Problem
}

// BuildSet degrades every image of o.In into o.Out/HR and o.Out/LR (8-bit
// PNG, same stem) and writes o.Out/manifest.json with the recipe, the hashes
// and each image's random choices. Images that cannot be used (unreadable,
// too small with Small "skip") are skipped and listed. The set is built in a
// temporary folder beside o.Out and renamed into place at the end, so a
// killed build leaves nothing half-written; o.Out must not exist.
func BuildSet(ctx context.Context, o SetOptions) (SetResult, error) {
	if _, ok := presets[o.Preset]; !ok {
		return SetResult{}, fmt.Errorf("unknown preset %q; known: %v", o.Preset, Presets())
	}
	if o.Crop != "center" && o.Crop != "random" {
		return SetResult{}, fmt.Errorf("crop %q: use center or random", o.Crop)
	}
	if o.Small != "pad" && o.Small != "skip" {
		return SetResult{}, fmt.Errorf("small %q: use pad or skip", o.Small)
	}
	files, err := datasets.ListImages(o.In)
	if err != nil {
		return SetResult{}, err
	}
	if len(files) == 0 {
		return SetResult{}, fmt.Errorf("%s: no images to degrade", o.In)
	}
	if _, err := os.Stat(o.Out); err == nil {
		return SetResult{}, fmt.Errorf("%s already exists; choose a new --out folder (builds never overwrite a set)", o.Out)
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return SetResult{}, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(o.Out), "."+filepath.Base(o.Out)+".tmp")
	if err != nil {
		return SetResult{}, err
	}
	if err := os.Chmod(tmp, atomicfile.DirMode()); err != nil { // MkdirTemp makes it 0700
		return SetResult{}, err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	for _, d := range []string{"HR", "LR"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			return SetResult{}, err
		}
	}
	// Two inputs with one stem would overwrite each other's outputs.
	seen := map[string]string{}
	for _, f := range files {
		s := datasets.Stem(f)
		if prev, dup := seen[s]; dup {
			return SetResult{}, fmt.Errorf("%s and %s have the same stem; rename one", prev, f)
		}
		seen[s] = f
	}

	var mu sync.Mutex
	logs := map[string]map[string]any{}
	var skipped []datasets.Problem
	var fatal []error
	werr := workpool.Run(ctx, len(files), o.Workers, func(i int) {
		defer func() {
			if o.Progress != nil {
				o.Progress()
			}
		}()
		f := files[i]
		stem := datasets.Stem(f)
		skip := func(reason string) {
			mu.Lock()
			skipped = append(skipped, datasets.Problem{ID: stem, Path: f, Reason: reason})
			mu.Unlock()
		}
		src, err := img.Load(f, o.Decode)
		if err != nil {
			skip(err.Error())
			return
		}
		p, err := Build(src, stem, o.Options)
		if err != nil { // this image only: the set goes on without it
			skip(err.Error())
			return
		}
		if err == nil {
			err = p.HR.SavePNG(filepath.Join(tmp, "HR", stem+".png"))
		}
		if err == nil {
			err = p.LR.SavePNG(filepath.Join(tmp, "LR", stem+".png"))
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			fatal = append(fatal, fmt.Errorf("%s: %w", f, err))
			return
		}
		logs[stem] = p.Log
	})
	if err := errors.Join(append([]error{werr}, fatal...)...); err != nil {
		return SetResult{}, err
	}
	if len(logs) == 0 {
		return SetResult{Skipped: skipped}, fmt.Errorf("%s: no image could be used (%d skipped)", o.In, len(skipped))
	}
	ds, err := datasets.Open(tmp)
	if err != nil {
		return SetResult{}, err
	}
	m, err := datasets.NewManifest(ds)
	if err != nil {
		return SetResult{}, err
	}
	m.Recipe = &datasets.Recipe{
		Preset: o.Preset,
		Params: map[string]any{
			"scale": o.Scale, "crop_size": o.CropSize, "crop": o.Crop, "small": o.Small, "usm": o.USM,
			"lr_format": "8-bit PNG, rounded half to even",
		},
		Seed:   o.Seed,
		Tool:   o.Tool,
		Source: o.In,
	}
	m.Log = logs
	if err := m.Write(tmp); err != nil {
		return SetResult{}, err
	}
	if err := os.Rename(tmp, o.Out); err != nil {
		return SetResult{}, err
	}
	done = true
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Path < skipped[j].Path })
	return SetResult{Built: len(logs), Skipped: skipped}, nil
}
