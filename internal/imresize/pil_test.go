package imresize

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/addsr-bench/addsr-bench/internal/img"
)

// TestPILBicubic checks PILBicubic bit for bit against Pillow
// (testdata/pil/make_pil.py).
func TestPILBicubic(t *testing.T) {
	raw, err := os.ReadFile("testdata/pil/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Cases []struct {
			In     string
			W, H   int
			SHA256 string
		}
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, c := range want.Cases {
		m, err := img.Load(filepath.Join("testdata/pil", c.In), img.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := PILBicubic(m.U8(), m.W, m.H, c.W, c.H)
		h := sha256.New()
		for _, p := range out {
			h.Write(p)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != c.SHA256 {
			t.Errorf("%s %dx%d → %dx%d: sha256 %s, Pillow's %s", c.In, m.W, m.H, c.W, c.H, got[:12], c.SHA256[:12])
		}
	}
}
