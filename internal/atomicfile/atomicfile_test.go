package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := WriteBytes(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the old file as it was and no temporary file.
	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		w.Write(make([]byte, 1<<17)) // past the buffer: the temp file has data
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("after a failed write: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := WriteBytes(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "two" || st.Mode().Perm() != 0o644 {
		t.Errorf("replaced: %q, mode %v", b, st.Mode())
	}
	if err := WriteBytes(filepath.Join(dir, "no", "such", "f"), nil); err == nil {
		t.Error("wrote into a missing folder")
	}
}

// TestModesFollowUmask: written files get 0666 less the umask, as
// os.Create gives them (0644 with umask 022), not CreateTemp's 0600.
func TestModesFollowUmask(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.json")
	if err := WriteBytes(p, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != FileMode() || FileMode() != 0o666&^umask || DirMode() != 0o777&^umask {
		t.Errorf("mode %v, FileMode %v, DirMode %v, umask %v", st.Mode().Perm(), FileMode(), DirMode(), umask)
	}
	if umask == 0o022 && (FileMode() != 0o644 || DirMode() != 0o755) {
		t.Errorf("umask 022: %v %v", FileMode(), DirMode())
	}
}
