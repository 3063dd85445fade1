package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
)

// OutMarker is the file an output folder's maker leaves in it.
const OutMarker = ".addsr-bench"

// PrepareOut makes dir for a command's output (kind: "sr", "merge",
// "report", "run"), or accepts it when it is empty or was made by the same
// kind of command (its OutMarker says so). A non-empty folder it did not
// make is refused unless overwrite: a mistyped --out must not scatter
// outputs among a user's files.
func PrepareOut(dir, kind string, overwrite bool) error {
	marker := filepath.Join(dir, OutMarker)
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, atomicfile.DirMode()); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(ents) > 0:
		if b, err := os.ReadFile(marker); err == nil && string(b) == kind+"\n" {
			return nil
		}
		if !overwrite {
			return fmt.Errorf("%s is not empty and was not made by addsr-bench %s: choose another --out, or pass --overwrite to write into it", dir, kind)
		}
	}
	return atomicfile.WriteBytes(marker, []byte(kind+"\n"))
}
