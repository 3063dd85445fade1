package datasets

import (
	"fmt"
	"path/filepath"
	"strings"
)

// StemPattern maps output file names to the test images' stems, for
// frameworks that add a suffix or prefix: "{stem}_out" reads 0801_out.png as
// image 0801, "{stem}_x4_SR" reads 0801_x4_SR.png. The zero pattern is the
// file stem itself.
type StemPattern struct {
	prefix, suffix string
	set            bool
}

// ParseStemPattern reads a pattern with {stem} exactly once; a trailing
// image extension is ignored ("{stem}_out.png" is "{stem}_out"). The empty
// string is the zero pattern.
func ParseStemPattern(s string) (StemPattern, error) {
	if s == "" {
		return StemPattern{}, nil
	}
	p := s
	if IsImage(p) {
		p = strings.TrimSuffix(p, filepath.Ext(p))
	}
	if strings.Count(p, "{stem}") != 1 || strings.ContainsAny(p, `/\`) {
		return StemPattern{}, fmt.Errorf("pattern %q: want a file name with {stem} once, such as {stem}_out or {stem}_x4_SR", s)
	}
	pre, suf, _ := strings.Cut(p, "{stem}")
	return StemPattern{prefix: pre, suffix: suf, set: true}, nil
}

// String is the pattern as written ("" for the zero pattern).
func (p StemPattern) String() string {
	if !p.set {
		return ""
	}
	return p.prefix + "{stem}" + p.suffix
}

// Match returns the test image's stem for a file's stem, and whether the
// file fits the pattern (a non-empty stem between prefix and suffix).
func (p StemPattern) Match(fileStem string) (string, bool) {
	if !p.set {
		return fileStem, true
	}
	if len(fileStem) <= len(p.prefix)+len(p.suffix) || !strings.HasPrefix(fileStem, p.prefix) || !strings.HasSuffix(fileStem, p.suffix) {
		return "", false
	}
	return fileStem[len(p.prefix) : len(fileStem)-len(p.suffix)], true
}

// misfit is the problem of a dist file whose name does not fit the pattern.
func (p StemPattern) misfit(path string) Problem {
	return Problem{ID: Stem(path), Path: path, Reason: "name does not fit --dist-pattern " + p.String()}
}
