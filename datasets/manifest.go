package datasets

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/internal/filehash"
)

// ManifestFile is the name of a dataset's manifest, at its root.
const ManifestFile = "manifest.json"

// FileEntry records one file of a dataset.
type FileEntry struct {
	Path   string `json:"path"` // relative to the dataset root, slash-separated
	Role   string `json:"role"` // "hr" or "lr"
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Recipe records how a synthetic set was built.
type Recipe struct {
	Preset string         `json:"preset"`
	Params map[string]any `json:"params"`
	Seed   uint64         `json:"seed"`
	Tool   string         `json:"tool"`
	Source string         `json:"source"` // the input folder, as given
}

// Manifest is a dataset's list of files with their hashes, and the recipe
// when the harness built it.
type Manifest struct {
	Version int                       `json:"version"`
	Layout  Layout                    `json:"layout"`
	Recipe  *Recipe                   `json:"recipe,omitempty"`
	Files   []FileEntry               `json:"files"`
	Log     map[string]map[string]any `json:"log,omitempty"` // per-image random choices
}

// HashFile returns a file's size and SHA-256 (filehash.SHA256).
func HashFile(path string) (int64, string, error) { return filehash.SHA256(path) }

// NewManifest hashes every paired file of d.
func NewManifest(d *Dataset) (*Manifest, error) {
	m := &Manifest{Version: 1, Layout: d.Layout}
	add := func(path, role string) error {
		rel, err := filepath.Rel(d.Root, path)
		if err != nil {
			return err
		}
		size, sum, err := HashFile(path)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, FileEntry{Path: filepath.ToSlash(rel), Role: role, Size: size, SHA256: sum})
		return nil
	}
	for _, it := range d.Items {
		if it.HR != "" {
			if err := add(it.HR, "hr"); err != nil {
				return nil, err
			}
		}
		if err := add(it.LR, "lr"); err != nil {
			return nil, err
		}
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return m, nil
}

// Write saves the manifest at dir/manifest.json atomically.
func (m *Manifest) Write(dir string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, ManifestFile), append(data, '\n'))
}

// ReadManifest loads dir/manifest.json; it returns os.ErrNotExist (wrapped)
// when there is none.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return &m, nil
}

// ErrManifestMismatch is wrapped by Verify's error.
var ErrManifestMismatch = errors.New("dataset does not match its manifest")

// Verify re-hashes every file the manifest of dir lists and reports missing,
// changed and unlisted images. A set without a manifest verifies trivially
// (HasManifest tells the two apart).
func Verify(dir string) error {
	m, err := ReadManifest(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var bad []string
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Path] = true
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		size, sum, err := HashFile(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			bad = append(bad, f.Path+": missing")
		case err != nil:
			bad = append(bad, err.Error())
		case size != f.Size || sum != f.SHA256:
			bad = append(bad, fmt.Sprintf("%s: changed (SHA-256 %s…, manifest %s…)", f.Path, sum[:12], f.SHA256[:12]))
		}
	}
	if d, err := Open(dir); err == nil {
		for _, it := range d.Items {
			for _, p := range []string{it.HR, it.LR} {
				if p == "" {
					continue
				}
				rel, _ := filepath.Rel(dir, p)
				if !listed[filepath.ToSlash(rel)] {
					bad = append(bad, filepath.ToSlash(rel)+": not in the manifest")
				}
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w %s:\n  %s\nIf the change is intended, rebuild the set (addsr-bench degrade) or its manifest (addsr-bench datasets manifest --rebuild %s)",
			ErrManifestMismatch, filepath.Join(dir, ManifestFile), strings.Join(bad, "\n  "), dir)
	}
	return nil
}

// HasManifest reports whether dir has a manifest.
func HasManifest(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ManifestFile))
	return err == nil
}
