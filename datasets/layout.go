package datasets

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Layout names how a dataset folder pairs HR and LR images.
type Layout string

const (
	LayoutHRLR    Layout = "hr-lr"    // HR/ + LR/ (or GT/ + LQ/), pairs by stem
	LayoutDIV2K   Layout = "div2k"    // 0801.png ↔ 0801x4.png
	LayoutRealSR  Layout = "realsr"   // Canon_001_HR.png ↔ Canon_001_LR4.png
	LayoutDRealSR Layout = "drealsr"  // 0001_x1.png ↔ 0001_x4.png
	LayoutLROnly  Layout = "lr-only"  // LR images only (RealLR200): no-reference metrics
	LayoutConfig  Layout = "explicit" // dataset.yaml says
)

// ConfigFile, when present in a dataset folder, overrides detection.
const ConfigFile = "dataset.yaml"

// Config is the explicit mapping of dataset.yaml:
//
//	hr: HR            # folder (relative to the dataset) or omitted for LR-only sets
//	lr: LR
//	hr_pattern: "{id}_HR"   # file stem with {id}; default "{id}"
//	lr_pattern: "{id}_LR4"
//	scale: 4
type Config struct {
	HR        string `yaml:"hr"`
	LR        string `yaml:"lr"`
	HRPattern string `yaml:"hr_pattern"`
	LRPattern string `yaml:"lr_pattern"`
	Scale     int    `yaml:"scale"`
}

// Item is one test image: its id, HR file (empty for LR-only sets) and LR file.
type Item struct {
	ID string `json:"id"`
	HR string `json:"hr,omitempty"`
	LR string `json:"lr"`
}

// Dataset is a detected dataset folder.
type Dataset struct {
	Root     string
	Layout   Layout
	Scale    int // declared or detected; 0 when unknown
	Items    []Item
	Unpaired []Problem
}

// Open detects the layout of dir (dataset.yaml first) and pairs its images.
func Open(dir string) (*Dataset, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	if data, err := os.ReadFile(filepath.Join(dir, ConfigFile)); err == nil {
		var c Config
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ConfigFile), err)
		}
		return openConfig(dir, c)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// HR/ + LR/ style sub-folders.
	for _, names := range [][2]string{{"HR", "LR"}, {"GT", "LQ"}, {"gt", "lq"}, {"hr", "lr"}, {"test_HR", "test_LR"}} {
		hr, lr := findDir(dir, names[0]), findDir(dir, names[1])
		if hr != "" && lr != "" {
			ds, err := pairDirs(dir, hr, lr, `^(.+?)(_x1|_HR)?$`, `^(.+?)(x\d+|_x\d+|_LR\d+)?$`)
			if err != nil {
				return nil, err
			}
			ds.Layout = LayoutHRLR
			if strings.HasPrefix(names[0], "test_") {
				ds.Layout = LayoutDRealSR
			}
			return ds, nil
		}
	}
	files, err := ListImages(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no images and no HR/ + LR/ folders; add a %s to say where they are", dir, ConfigFile)
	}
	for _, l := range []struct {
		layout Layout
		hr, lr *regexp.Regexp
	}{
		{LayoutRealSR, regexp.MustCompile(`^(.+)_HR$`), regexp.MustCompile(`^(.+)_LR(\d+)$`)},
		{LayoutDRealSR, regexp.MustCompile(`^(.+)_x1$`), regexp.MustCompile(`^(.+)_x(\d+)$`)},
		{LayoutDIV2K, regexp.MustCompile(`^(\d+)$`), regexp.MustCompile(`^(\d+)x(\d+)$`)},
	} {
		ds := pairByRegexp(dir, files, l.hr, l.lr)
		if len(ds.Items) > 0 {
			ds.Layout = l.layout
			return ds, nil
		}
	}
	ds := &Dataset{Root: dir, Layout: LayoutLROnly}
	for _, f := range files {
		ds.Items = append(ds.Items, Item{ID: Stem(f), LR: f})
	}
	return ds, nil
}

func findDir(root, name string) string {
	p := filepath.Join(root, name)
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return p
	}
	return ""
}

// pairDirs pairs two folders by id, the id being the first group of the
// patterns applied to each stem (so 0801x4.png in LR/ pairs with 0801.png).
func pairDirs(root, hrDir, lrDir, hrPat, lrPat string) (*Dataset, error) {
	hrFiles, err := ListImages(hrDir)
	if err != nil {
		return nil, err
	}
	lrFiles, err := ListImages(lrDir)
	if err != nil {
		return nil, err
	}
	return pairLists(root, hrFiles, lrFiles, regexp.MustCompile(hrPat), regexp.MustCompile(lrPat)), nil
}

func pairByRegexp(root string, files []string, hr, lr *regexp.Regexp) *Dataset {
	var hrFiles, lrFiles []string
	for _, f := range files {
		s := Stem(f)
		switch { // HR first: DRealSR's "_x1" also matches its LR pattern
		case hr.MatchString(s):
			hrFiles = append(hrFiles, f)
		case lr.MatchString(s):
			lrFiles = append(lrFiles, f)
		}
	}
	if len(hrFiles) == 0 || len(lrFiles) == 0 {
		return &Dataset{Root: root}
	}
	return pairLists(root, hrFiles, lrFiles, hr, lr)
}

func pairLists(root string, hrFiles, lrFiles []string, hrRe, lrRe *regexp.Regexp) *Dataset {
	ds := &Dataset{Root: root}
	id := func(re *regexp.Regexp, f string) string {
		if m := re.FindStringSubmatch(Stem(f)); m != nil {
			return m[1]
		}
		return Stem(f)
	}
	hr := map[string]string{}
	for _, f := range hrFiles {
		k := id(hrRe, f)
		if prev, dup := hr[k]; dup {
			ds.Unpaired = append(ds.Unpaired, Problem{ID: k, Path: f, Reason: "same id as " + filepath.Base(prev)})
			continue
		}
		hr[k] = f
	}
	used := map[string]bool{}
	for _, f := range lrFiles {
		// An LR stem equal to an HR id pairs as it is; only otherwise is a
		// scale suffix stripped (so "box4" is not read as "bo" + "x4").
		k := Stem(f)
		if _, exact := hr[k]; !exact {
			k = id(lrRe, f)
		}
		h, ok := hr[k]
		switch {
		case !ok:
			ds.Unpaired = append(ds.Unpaired, Problem{ID: k, Path: f, Reason: "LR image without an HR partner"})
		case used[k]:
			ds.Unpaired = append(ds.Unpaired, Problem{ID: k, Path: f, Reason: "second LR image for the same HR image"})
		default:
			used[k] = true
			ds.Items = append(ds.Items, Item{ID: k, HR: h, LR: f})
		}
	}
	for k, f := range hr {
		if !used[k] {
			ds.Unpaired = append(ds.Unpaired, Problem{ID: k, Path: f, Reason: "HR image without an LR partner"})
		}
	}
	sort.Slice(ds.Items, func(i, j int) bool { return ds.Items[i].ID < ds.Items[j].ID })
	sort.Slice(ds.Unpaired, func(i, j int) bool { return ds.Unpaired[i].Path < ds.Unpaired[j].Path })
	return ds
}

func openConfig(dir string, c Config) (*Dataset, error) {
	if c.LR == "" {
		return nil, fmt.Errorf("%s: 'lr' (the LR folder) is required", filepath.Join(dir, ConfigFile))
	}
	pat := func(p string) (*regexp.Regexp, error) {
		if p == "" {
			p = "{id}"
		}
		if strings.Count(p, "{id}") != 1 {
			return nil, fmt.Errorf("%s: pattern %q must contain {id} once", filepath.Join(dir, ConfigFile), p)
		}
		parts := strings.Split(p, "{id}")
		return regexp.Compile("^" + regexp.QuoteMeta(parts[0]) + "(.+?)" + regexp.QuoteMeta(parts[1]) + "$")
	}
	lrRe, err := pat(c.LRPattern)
	if err != nil {
		return nil, err
	}
	lrFiles, err := ListImages(filepath.Join(dir, c.LR))
	if err != nil {
		return nil, fmt.Errorf("%s: lr: %w", filepath.Join(dir, ConfigFile), err)
	}
	var ds *Dataset
	if c.HR == "" {
		ds = &Dataset{Root: dir}
		for _, f := range lrFiles {
			if m := lrRe.FindStringSubmatch(Stem(f)); m != nil {
				ds.Items = append(ds.Items, Item{ID: m[1], LR: f})
			}
		}
	} else {
		hrRe, err := pat(c.HRPattern)
		if err != nil {
			return nil, err
		}
		hrFiles, err := ListImages(filepath.Join(dir, c.HR))
		if err != nil {
			return nil, fmt.Errorf("%s: hr: %w", filepath.Join(dir, ConfigFile), err)
		}
		ds = pairLists(dir, hrFiles, lrFiles, hrRe, lrRe)
	}
	ds.Layout, ds.Scale = LayoutConfig, c.Scale
	return ds, nil
}

// Inspection is what `datasets inspect` reports.
type Inspection struct {
	Layout   Layout
	Items    int
	HRSizes  map[string]int // "WxH" → count
	LRSizes  map[string]int
	Scale    int // 0 when not a single integer scale
	Problems []string
}

// Inspect reads every image header (not the pixels) and checks sizes: each
// LR must be exactly 1/scale of its HR, with one scale for the whole set.
func (d *Dataset) Inspect() Inspection {
	in := Inspection{Layout: d.Layout, Items: len(d.Items), HRSizes: map[string]int{}, LRSizes: map[string]int{}}
	for _, p := range d.Unpaired {
		in.Problems = append(in.Problems, p.Error())
	}
	scales := map[int]int{}
	for _, it := range d.Items {
		lw, lh, err := headerSize(it.LR)
		if err != nil {
			in.Problems = append(in.Problems, err.Error())
			continue
		}
		in.LRSizes[fmt.Sprintf("%dx%d", lw, lh)]++
		if it.HR == "" {
			continue
		}
		hw, hh, err := headerSize(it.HR)
		if err != nil {
			in.Problems = append(in.Problems, err.Error())
			continue
		}
		in.HRSizes[fmt.Sprintf("%dx%d", hw, hh)]++
		if hw%lw != 0 || hh%lh != 0 || hw/lw != hh/lh {
			in.Problems = append(in.Problems, fmt.Sprintf("%s: LR %dx%d is not an integer fraction of HR %dx%d (%s)", it.ID, lw, lh, hw, hh, it.HR))
			continue
		}
		s := hw / lw
		if d.Scale != 0 && s != d.Scale {
			in.Problems = append(in.Problems, fmt.Sprintf("%s: LR %dx%d is 1/%d of HR %dx%d, the set's scale is %d", it.ID, lw, lh, s, hw, hh, d.Scale))
		}
		scales[s]++
	}
	switch len(scales) {
	case 1:
		for s := range scales {
			in.Scale = s
		}
	case 0:
		in.Scale = d.Scale
	default:
		in.Problems = append(in.Problems, fmt.Sprintf("mixed scales in one set: %v (images per scale)", scales))
	}
	return in
}

func headerSize(path string) (int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: unreadable image header: %v", path, err)
	}
	return cfg.Width, cfg.Height, nil
}
