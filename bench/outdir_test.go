package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrepareOut: a new or empty folder is taken and marked; one the same
// command made is taken again; another command's, or a user's non-empty
// folder, is refused naming the fix, unless overwrite.
func TestPrepareOut(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new")
	if err := PrepareOut(fresh, "sr", false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(fresh, "a.png"), []byte("x"), 0o644)
	if err := PrepareOut(fresh, "sr", false); err != nil {
		t.Errorf("sr into its own folder: %v", err)
	}
	if err := PrepareOut(fresh, "report", false); err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Errorf("report into sr's folder: %v", err)
	}
	mine := filepath.Join(dir, "mine")
	os.MkdirAll(mine, 0o755)
	os.WriteFile(filepath.Join(mine, "thesis.tex"), []byte("x"), 0o644)
	if err := PrepareOut(mine, "merge", false); err == nil || !strings.Contains(err.Error(), "not made by addsr-bench merge") {
		t.Errorf("merge into a user's folder: %v", err)
	}
	if err := PrepareOut(mine, "merge", true); err != nil {
		t.Errorf("--overwrite: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	if err := PrepareOut(empty, "run", false); err != nil {
		t.Errorf("an empty folder: %v", err)
	}
}
