"""Expected ids for clipbpe's tests: an independent transcription of OpenAI
CLIP's simple_tokenizer (python3-regex; ftfy is not in Debian, and fix_text
leaves these ASCII and HTML-entity prompts as they are), over the real CLIP
merges in ../shared/data/clip-bpe/.

    /usr/bin/python3 internal/clipbpe/testdata/make_expected.py ../shared/data/clip-bpe/bpe_simple_vocab_16e6.txt.gz
"""
import gzip, html, json, os, sys
import regex as re


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def tokenizer(path):
    merges = gzip.open(path).read().decode('utf-8').split('\n')
    merges = [tuple(m.split()) for m in merges[1:49152 - 256 - 2 + 1]]
    b2u = bytes_to_unicode()
    vocab = list(b2u.values())
    vocab = vocab + [v + '</w>' for v in vocab]
    vocab += [''.join(m) for m in merges]
    vocab += ['<|startoftext|>', '<|endoftext|>']
    enc = {v: i for i, v in enumerate(vocab)}
    ranks = {m: i for i, m in enumerate(merges)}
    pat = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)

    def bpe(token):
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: ranks.get(p, float('inf')))
            if best not in ranks:
                break
            a, b = best
            new, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == a and word[i + 1] == b:
                    new.append(a + b)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
        return word

    def encode(text, pad_id, n=77):
        text = html.unescape(html.unescape(text)).strip()
        text = re.sub(r'\s+', ' ', text).strip().lower()
        ids = []
        for tok in re.findall(pat, text):
            tok = ''.join(b2u[b] for b in tok.encode('utf-8'))
            ids += [enc[t] for t in bpe(tok)]
        ids = [enc['<|startoftext|>']] + ids[:n - 2] + [enc['<|endoftext|>']]
        return ids + [pad_id] * (n - len(ids))

    return encode, enc


prompts = [
    "a photo of a cat",
    "building, sky, tree, street, car, , clean, high-resolution, 8k, extremely detailed, best quality, sharp",
    "dotted, noise, blur, lowres, smooth",
    "",
    "  Mixed   CASE\tand\nwhitespace  ",
    "don't we'll they've I'm you'd it's",
    "caf\u00e9 na\u00efve \u00fcber stra\u00dfe",
    "numbers 1234 and 3.14159, x4 SR",
    "emoji \U0001F600 and CJK \u6f22\u5b57 text",
    "&amp;lt;b&amp;gt; &quot;quoted&quot; &#39;apos&#39;",
    "punctuation!!! ??? ... --- (brackets) [square] {curly}",
    "<|startoftext|>special<|endoftext|> tokens",
    " ".join(["word"] * 100),
]
encode, enc = tokenizer(sys.argv[1])
cases = [{'text': p, 'sd2': encode(p, 0), 'sd1': encode(p, enc['<|endoftext|>'])} for p in prompts]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'expected.json')
with open(out, 'w') as f:
    json.dump({'source': os.path.basename(sys.argv[1]), 'cases': cases}, f, indent=0)
