// Package clipbpe is CLIP's byte-level BPE tokenizer, the one Stable
// Diffusion's text encoder takes: text is cleaned (HTML entities unescaped,
// whitespace collapsed, lower-cased), split by CLIP's pattern, each piece's
// UTF-8 bytes mapped to printable characters, merged by rank, and the ids
// wrapped in the start and end tokens and padded to the context length.
//
// It follows OpenAI's simple_tokenizer and Hugging Face's CLIPTokenizer
// with ftfy installed. Without ftfy, CLIPTokenizer splits punctuation
// first (BERT's BasicTokenizer), which differs for contractions ("don't").
package clipbpe

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
)

// Special tokens.
const (
	StartOfText = "<|startoftext|>"
	EndOfText   = "<|endoftext|>"
)

// Tokenizer turns prompts into token ids. Safe for concurrent use.
type Tokenizer struct {
	encoder   map[string]int
	ranks     map[[2]string]int
	bos, eos  int
	pad       int
	maxLength int

	mu    sync.Mutex
	cache map[string][]string
}

// Options say how prompts are wrapped: MaxLength ids (77 for CLIP) and the
// pad token (Stable Diffusion 2 pads with "!", 1.x with EndOfText).
type Options struct {
	MaxLength int
	PadToken  string
}

// pattern is CLIP's: the special tokens, English contractions, runs of
// letters, single digits, runs of other non-space characters (Python's
// regex with re.IGNORECASE; Go's RE2 picks the same leftmost alternative).
var pattern = regexp.MustCompile(`(?i)<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+`)

var spaces = regexp.MustCompile(`\s+`)

// byteRunes is GPT-2's bytes_to_unicode: every byte as a printable rune,
// printable Latin-1 bytes as themselves, the rest from U+0100 on.
var byteRunes, byteOrder = func() (m [256]rune, order []byte) {
	var bs []int
	for b := '!'; b <= '~'; b++ {
		bs = append(bs, int(b))
	}
	for b := '¡'; b <= '¬'; b++ {
		bs = append(bs, int(b))
	}
	for b := '®'; b <= 'ÿ'; b++ {
		bs = append(bs, int(b))
	}
	seen := map[int]bool{}
	for _, b := range bs {
		seen[b] = true
		m[b] = rune(b)
		order = append(order, byte(b))
	}
	n := 0
	for b := 0; b < 256; b++ {
		if !seen[b] {
			m[b] = rune(256 + n)
			order = append(order, byte(b))
			n++
		}
	}
	return m, order
}()

// VocabFromMerges is CLIP's vocabulary built from its merges, as OpenAI's
// tokenizer builds it and Hugging Face's vocab.json lists it: the 256 byte
// tokens, the same with "</w>", one token per merge, then the start and end
// tokens.
func VocabFromMerges(merges [][2]string) map[string]int {
	v := map[string]int{}
	add := func(s string) { v[s] = len(v) }
	for _, b := range byteOrder {
		add(string(byteRunes[b]))
	}
	for _, b := range byteOrder {
		add(string(byteRunes[b]) + "</w>")
	}
	for _, m := range merges {
		add(m[0] + m[1])
	}
	add(StartOfText)
	add(EndOfText)
	return v
}

// ReadMerges reads a merges file: Hugging Face's merges.txt or OpenAI's
// bpe_simple_vocab_16e6.txt(.gz). Its first line (a version header) is
// skipped, as both tokenizers do; limit > 0 keeps the first limit merges
// (OpenAI keeps 49152−256−2 of its file).
func ReadMerges(path string, limit int) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = gz
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var out [][2]string
	for line := 0; sc.Scan(); line++ {
		if line == 0 {
			continue
		}
		s := strings.TrimRight(sc.Text(), "\r")
		if s == "" {
			continue
		}
		a, b, ok := strings.Cut(s, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("%s:%d: a merge is two symbols separated by one space, got %q", path, line+1, s)
		}
		out = append(out, [2]string{a, b})
		if limit > 0 && len(out) == limit {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no merges", path)
	}
	return out, nil
}

// Load reads a Hugging Face tokenizer folder's vocab.json and merges.txt.
func Load(vocabPath, mergesPath string, o Options) (*Tokenizer, error) {
	raw, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, err
	}
	var vocab map[string]int
	if err := json.Unmarshal(raw, &vocab); err != nil {
		return nil, fmt.Errorf("%s: not a vocabulary (a JSON object of token → id): %w", vocabPath, err)
	}
	merges, err := ReadMerges(mergesPath, 0)
	if err != nil {
		return nil, err
	}
	t, err := New(vocab, merges, o)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", vocabPath, mergesPath, err)
	}
	return t, nil
}

// New makes a tokenizer from a vocabulary and merges.
func New(vocab map[string]int, merges [][2]string, o Options) (*Tokenizer, error) {
	t := &Tokenizer{encoder: vocab, ranks: map[[2]string]int{}, maxLength: o.MaxLength, cache: map[string][]string{}}
	if t.maxLength == 0 {
		t.maxLength = 77
	}
	if t.maxLength < 2 {
		return nil, fmt.Errorf("max length %d leaves no room for the start and end tokens", t.maxLength)
	}
	for i, m := range merges {
		if _, dup := t.ranks[m]; !dup {
			t.ranks[m] = i
		}
		if _, ok := vocab[m[0]+m[1]]; !ok {
			return nil, fmt.Errorf("merge %d (%s %s) makes %q, which the vocabulary lacks", i+1, m[0], m[1], m[0]+m[1])
		}
	}
	var ok bool
	if t.bos, ok = vocab[StartOfText]; !ok {
		return nil, fmt.Errorf("the vocabulary has no %s", StartOfText)
	}
	if t.eos, ok = vocab[EndOfText]; !ok {
		return nil, fmt.Errorf("the vocabulary has no %s", EndOfText)
	}
	pad := o.PadToken
	if pad == "" {
		pad = EndOfText
	}
	if t.pad, ok = vocab[pad]; !ok {
		return nil, fmt.Errorf("the vocabulary has no pad token %q", pad)
	}
	for _, b := range byteOrder {
		if _, ok := vocab[string(byteRunes[b])+"</w>"]; !ok {
			return nil, fmt.Errorf("the vocabulary lacks byte token %q: not a CLIP vocabulary", string(byteRunes[b])+"</w>")
		}
	}
	return t, nil
}

// Clean is CLIP's text clean-up: HTML entities unescaped twice, outer
// space trimmed, runs of whitespace made one space, lower case.
func Clean(text string) string {
	text = strings.TrimSpace(html.UnescapeString(html.UnescapeString(text)))
	return strings.ToLower(strings.TrimSpace(spaces.ReplaceAllString(text, " ")))
}

// Tokens is the BPE tokens of text, without start, end or padding.
func (t *Tokenizer) Tokens(text string) []string {
	var out []string
	for _, piece := range pattern.FindAllString(Clean(text), -1) {
		var b strings.Builder
		for _, c := range []byte(piece) {
			b.WriteRune(byteRunes[c])
		}
		out = append(out, t.bpe(b.String())...)
	}
	return out
}

// bpe merges one piece: its characters, the last with "</w>", merged by
// lowest rank until no ranked pair is left.
func (t *Tokenizer) bpe(piece string) []string {
	t.mu.Lock()
	if w, ok := t.cache[piece]; ok {
		t.mu.Unlock()
		return w
	}
	t.mu.Unlock()
	var word []string
	for _, r := range piece {
		word = append(word, string(r))
	}
	word[len(word)-1] += "</w>"
	for len(word) > 1 {
		best, bi := -1, -1
		for i := 0; i+1 < len(word); i++ {
			if r, ok := t.ranks[[2]string{word[i], word[i+1]}]; ok && (best < 0 || r < best) {
				best, bi = r, i
			}
		}
		if bi < 0 {
			break
		}
		first, second := word[bi], word[bi+1]
		var next []string
		for i := 0; i < len(word); {
			if i+1 < len(word) && word[i] == first && word[i+1] == second {
				next = append(next, first+second)
				i += 2
			} else {
				next = append(next, word[i])
				i++
			}
		}
		word = next
	}
	t.mu.Lock()
	if len(t.cache) < 1<<16 {
		t.cache[piece] = word
	}
	t.mu.Unlock()
	return word
}

// Encode is text's ids as the text encoder takes them: the start token, at
// most MaxLength−2 token ids (the rest cut off, as the pipelines truncate),
// the end token, then the pad token up to MaxLength. Truncated reports
// whether tokens were cut.
func (t *Tokenizer) Encode(text string) (ids []int, truncated bool) {
	toks := t.Tokens(text)
	if len(toks) > t.maxLength-2 {
		toks, truncated = toks[:t.maxLength-2], true
	}
	ids = make([]int, 0, t.maxLength)
	ids = append(ids, t.bos)
	for _, tok := range toks {
		ids = append(ids, t.encoder[tok])
	}
	ids = append(ids, t.eos)
	for len(ids) < t.maxLength {
		ids = append(ids, t.pad)
	}
	return ids, truncated
}

// MaxLength is the context length.
func (t *Tokenizer) MaxLength() int { return t.maxLength }
