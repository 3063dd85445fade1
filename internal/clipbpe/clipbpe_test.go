package clipbpe

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

const sharedMerges = "../../../shared/data/clip-bpe/bpe_simple_vocab_16e6.txt.gz"

// openAI is the tokenizer of OpenAI's CLIP merges in ../shared, as SD's
// vocab.json and merges.txt describe it; the test skips without them.
func openAI(t *testing.T, pad string) *Tokenizer {
	t.Helper()
	if _, err := os.Stat(sharedMerges); err != nil {
		t.Skipf("no CLIP merges (%v): ../shared/data/clip-bpe is absent", err)
	}
	merges, err := ReadMerges(sharedMerges, 49152-256-2)
	if err != nil {
		t.Fatal(err)
	}
	v := VocabFromMerges(merges)
	if len(v) != 49408 {
		t.Fatalf("vocabulary has %d tokens, CLIP's has 49408", len(v))
	}
	tk, err := New(v, merges, Options{MaxLength: 77, PadToken: pad})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestKnownIDs: ids every Stable Diffusion user has seen (SD-2 pads with
// "!", id 0; SD-1 with the end token).
func TestKnownIDs(t *testing.T) {
	tk := openAI(t, "!")
	ids, _ := tk.Encode("a photo of a cat")
	want := []int{49406, 320, 1125, 539, 320, 2368, 49407, 0, 0}
	if !reflect.DeepEqual(ids[:9], want) {
		t.Errorf("a photo of a cat: %v, want %v…", ids[:9], want)
	}
	tk1 := openAI(t, EndOfText)
	if ids, _ := tk1.Encode(""); ids[0] != 49406 || ids[1] != 49407 || ids[76] != 49407 {
		t.Errorf("empty prompt with SD-1 padding: %v", ids)
	}
}

// TestAgainstReference compares with testdata/make_expected.py, an
// independent transcription of OpenAI's simple_tokenizer, over prompts
// with tags, contractions, accents, emoji, CJK, HTML entities, special
// tokens and truncation.
func TestAgainstReference(t *testing.T) {
	raw, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Cases []struct {
			Text     string
			SD2, SD1 []int
		}
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	sd2, sd1 := openAI(t, "!"), openAI(t, EndOfText)
	for _, c := range want.Cases {
		if got, _ := sd2.Encode(c.Text); !reflect.DeepEqual(got, c.SD2) {
			t.Errorf("%q (pad !):\n got %v\nwant %v", c.Text, got, c.SD2)
		}
		if got, _ := sd1.Encode(c.Text); !reflect.DeepEqual(got, c.SD1) {
			t.Errorf("%q (pad end):\n got %v\nwant %v", c.Text, got, c.SD1)
		}
	}
}

// TestSmallVocabulary works by hand through a five-merge vocabulary: ranks
// decide the order, unmerged characters stay single, truncation keeps the
// end token.
func TestSmallVocabulary(t *testing.T) {
	merges := [][2]string{{"a", "b"}, {"ab", "c</w>"}, {"b", "c</w>"}, {"c", "a"}, {"ca", "b</w>"}}
	v := VocabFromMerges(merges)
	tk, err := New(v, merges, Options{MaxLength: 6, PadToken: "!"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		toks []string
	}{
		{"abc", []string{"abc</w>"}},         // a b → ab first (rank 0), then ab c</w>
		{"cab", []string{"cab</w>"}},         // c a (rank 3) → ca, then ca b</w>
		{"bc", []string{"bc</w>"}},           // rank 2
		{"xab", []string{"x", "a", "b</w>"}}, // "a b</w>" is not a merge
		{"AB, c", []string{"a", "b</w>", ",</w>", "c</w>"}},
	} {
		got := tk.Tokens(c.text)
		if !reflect.DeepEqual(got, c.toks) {
			t.Errorf("%q: %q, want %q", c.text, got, c.toks)
		}
	}
	ids, trunc := tk.Encode("abc abc abc abc abc")
	if !trunc || len(ids) != 6 || ids[0] != v[StartOfText] || ids[5] != v[EndOfText] || ids[4] != v["abc</w>"] {
		t.Errorf("truncated encoding %v (truncated %v)", ids, trunc)
	}
	ids, trunc = tk.Encode("bc")
	if want := []int{v[StartOfText], v["bc</w>"], v[EndOfText], 0, 0, 0}; trunc || !reflect.DeepEqual(ids, want) {
		t.Errorf("padded encoding %v, want %v", ids, want)
	}
}

func TestBadVocabulary(t *testing.T) {
	merges := [][2]string{{"a", "b"}}
	v := VocabFromMerges(merges)
	delete(v, "ab")
	if _, err := New(v, merges, Options{}); err == nil {
		t.Error("a merge whose product is not in the vocabulary was accepted")
	}
	v = VocabFromMerges(merges)
	if _, err := New(v, merges, Options{PadToken: "<pad>"}); err == nil {
		t.Error("a pad token not in the vocabulary was accepted")
	}
}
