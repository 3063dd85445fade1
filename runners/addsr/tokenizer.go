package addsr

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/addsr-bench/addsr-bench/internal/clipbpe"
)

// LoadTokenizer opens the tokenizer of a pipeline folder, or a Hugging
// Face tokenizer folder (vocab.json, merges.txt, and special_tokens_map.json
// for the pad token). pad overrides the pad token.
func LoadTokenizer(dir, pad string) (*clipbpe.Tokenizer, error) {
	if IsPipeline(dir) {
		m, err := ReadManifest(dir)
		if err != nil {
			return nil, err
		}
		t := m.Tokenizer
		if pad == "" {
			pad = t.PadToken
		}
		return clipbpe.Load(m.Path(t.Vocab.File), m.Path(t.Merges.File), clipbpe.Options{MaxLength: t.MaxLength, PadToken: pad})
	}
	vocab, merges := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	if _, err := os.Stat(vocab); err != nil {
		return nil, fmt.Errorf("%s has neither %s nor vocab.json and merges.txt: give a tokenizer folder (SD-2's tokenizer/) or an AddSR pipeline", dir, ManifestName)
	}
	max := 77
	if pad == "" {
		pad = clipbpe.EndOfText
		if raw, err := os.ReadFile(filepath.Join(dir, "special_tokens_map.json")); err == nil {
			var sp struct {
				Pad json.RawMessage `json:"pad_token"`
			}
			if err := json.Unmarshal(raw, &sp); err != nil {
				return nil, fmt.Errorf("%s: %v", filepath.Join(dir, "special_tokens_map.json"), err)
			}
			var s string
			var obj struct{ Content string }
			if json.Unmarshal(sp.Pad, &s) == nil && s != "" {
				pad = s
			} else if json.Unmarshal(sp.Pad, &obj) == nil && obj.Content != "" {
				pad = obj.Content
			}
		}
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json")); err == nil {
		var c struct {
			ModelMaxLength float64 `json:"model_max_length"`
		}
		if json.Unmarshal(raw, &c) == nil && c.ModelMaxLength >= 2 && c.ModelMaxLength < 1e6 {
			max = int(c.ModelMaxLength)
		}
	}
	return clipbpe.Load(vocab, merges, clipbpe.Options{MaxLength: max, PadToken: pad})
}
