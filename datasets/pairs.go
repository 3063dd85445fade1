// Package datasets finds images on disk, pairs outputs with references and
// holds the demo's sample photos.
package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ImageExts are the file extensions read as images (lower case).
var ImageExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".bmp": true,
	".tif": true, ".tiff": true, ".webp": true, ".gif": true,
}

// IsImage reports whether name has an image extension.
func IsImage(name string) bool { return ImageExts[strings.ToLower(filepath.Ext(name))] }

// Stem is the file name without folder and extension.
func Stem(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// Pair is one image to score and its reference (empty for no-reference runs).
type Pair struct {
	ID   string // the stem both files share
	Dist string
	Ref  string
}

// Problem is an image that cannot be scored, with the reason.
type Problem struct {
	ID     string
	Path   string
	Reason string
}

func (p Problem) Error() string { return fmt.Sprintf("%s: %s", p.Path, p.Reason) }

// ListImages returns the image files directly inside dir, sorted. Hidden files
// (such as the temporary files of an interrupted write) are skipped.
func ListImages(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !IsImage(e.Name()) {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	sort.Strings(out)
	return out, nil
}

// PairPaths pairs dist with ref. Each may be a file or a folder; folders pair
// by file stem. ref may be empty for no-reference scoring. Images without a
// partner are returned as problems, never dropped silently.
func PairPaths(dist, ref string) ([]Pair, []Problem, error) {
	return PairPathsPattern(dist, ref, StemPattern{})
}

// PairPathsPattern is PairPaths with the dist files' names mapped to stems
// by pat ("{stem}_out": 0801_out.png pairs with the reference 0801.png). A
// dist image whose name does not fit the pattern is a problem.
func PairPathsPattern(dist, ref string, pat StemPattern) ([]Pair, []Problem, error) {
	dIsDir, err := isDir(dist)
	if err != nil {
		return nil, nil, err
	}
	if ref == "" {
		files := []string{dist}
		if dIsDir {
			if files, err = ListImages(dist); err != nil {
				return nil, nil, err
			}
			if len(files) == 0 {
				return nil, nil, fmt.Errorf("%s: no images (looked for %s)", dist, extList())
			}
		}
		var pairs []Pair
		var probs []Problem
		for _, f := range files {
			if id, ok := pat.Match(Stem(f)); ok {
				pairs = append(pairs, Pair{ID: id, Dist: f})
			} else {
				probs = append(probs, pat.misfit(f))
			}
		}
		return pairs, probs, nil
	}
	rIsDir, err := isDir(ref)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !dIsDir && !rIsDir:
		id := Stem(dist)
		if m, ok := pat.Match(id); ok {
			id = m
		}
		return []Pair{{ID: id, Dist: dist, Ref: ref}}, nil, nil
	case dIsDir != rIsDir:
		return nil, nil, fmt.Errorf("--dist %s and --ref %s must both be files or both be folders", dist, ref)
	}
	dFiles, err := ListImages(dist)
	if err != nil {
		return nil, nil, err
	}
	rFiles, err := ListImages(ref)
	if err != nil {
		return nil, nil, err
	}
	if len(dFiles) == 0 {
		return nil, nil, fmt.Errorf("%s: no images (looked for %s)", dist, extList())
	}
	byStem := func(files []string, pat StemPattern) (map[string]string, []Problem) {
		m := map[string]string{}
		var probs []Problem
		for _, f := range files {
			s, ok := pat.Match(Stem(f))
			if !ok {
				probs = append(probs, pat.misfit(f))
				continue
			}
			if prev, dup := m[s]; dup {
				probs = append(probs, Problem{ID: s, Path: f, Reason: "same stem as " + filepath.Base(prev) + "; rename one of them"})
				continue
			}
			m[s] = f
		}
		return m, probs
	}
	dm, probs := byStem(dFiles, pat)
	rm, rprobs := byStem(rFiles, StemPattern{})
	probs = append(probs, rprobs...)
	var pairs []Pair
	for _, s := range sortedKeys(dm) {
		if r, ok := rm[s]; ok {
			pairs = append(pairs, Pair{ID: s, Dist: dm[s], Ref: r})
		} else {
			probs = append(probs, Problem{ID: s, Path: dm[s], Reason: "no reference with this stem in " + ref})
		}
	}
	for _, s := range sortedKeys(rm) {
		if _, ok := dm[s]; !ok {
			probs = append(probs, Problem{ID: s, Path: rm[s], Reason: "reference has no image with this stem in " + dist})
		}
	}
	return pairs, probs, nil
}

func isDir(p string) (bool, error) {
	st, err := os.Stat(p)
	if err != nil {
		return false, err
	}
	return st.IsDir(), nil
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func extList() string {
	var e []string
	for k := range ImageExts {
		e = append(e, k)
	}
	sort.Strings(e)
	return strings.Join(e, " ")
}
