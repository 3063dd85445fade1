// Package atomicfile writes files so that a reader never sees half of one.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// umask is the process's, read once before any goroutine can create
// files (syscall.Umask sets it to read it).
var umask = func() os.FileMode {
	u := syscall.Umask(0)
	syscall.Umask(u)
	return os.FileMode(u)
}()

// FileMode and DirMode are what os.Create and os.Mkdir would give under the
// umask (0644 and 0755 with umask 022): temporary files and folders are
// created private (0600, 0700) and get these before they are renamed into
// place, so that a team can share sets and runs.
func FileMode() os.FileMode { return 0o666 &^ umask }
func DirMode() os.FileMode  { return 0o777 &^ umask }

// Write writes through fn into a temporary file beside path, syncs
// it and renames it over path. On any error the temporary file is removed.
func Write(path string, fn func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = fn(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Chmod(f.Name(), FileMode()); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// WriteBytes writes data to path atomically.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
