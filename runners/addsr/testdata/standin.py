"""Tiny random-weight stand-ins for AddSR's six graphs, with the real I/O:
SD-2's 4-channel latents at 1/8 scale, text embeddings [B,77,1024], RAM's
image embeddings [B,145,512] and tag logits, and ControlNet's 12 down
residuals plus the mid one in SD's wiring (channels scaled down). The UNet
and ControlNet have a sinusoidal timestep embedding (diffusers'
flip_sin_to_cos=True, shift 0), cross-attention to the text and to the RAM
embeddings, stride-2 downsampling and nearest upsampling to the skip's size
(so latents that are not multiples of 8 work, as in diffusers).

They are test fixtures, not AddSR: they check the Go orchestration against
reference.py, which runs these same modules in PyTorch.

    /usr/bin/python3 runners/addsr/testdata/standin.py runners/addsr/testdata/pipeline
"""
import collections, json, math, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'models', 'export'))
from addsr_pipeline import ADDED, DEFAULTS, NEGATIVE, fp16_exact, sha256, write_check  # noqa: E402

TEXT_DIM, RAM_DIM, RAM_TOKENS, CTX = 1024, 512, 145, 77
CH = [8, 16, 32, 32]  # SD-2: 320, 640, 1280, 1280

TAGS = ['sky', 'tree', 'building', 'grass', 'road', 'car', 'person', 'dog', 'cat', 'flower', 'water', 'mountain',
        'cloud', 'window', 'wall', 'street', 'house', 'bird', 'boat', 'bridge', 'field', 'forest', 'beach', 'city',
        'snow', 'rock', 'leaf', 'light', 'sign', 'fence', 'door', 'roof', 'table', 'chair', 'food', 'plate',
        'red', 'green', 'blue', 'yellow']


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    e = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(e), torch.sin(e)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(4, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.norm2, self.conv2 = nn.GroupNorm(4, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x))) + self.temb(F.silu(temb))[:, :, None, None]
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class CrossAttention(nn.Module):
    def __init__(self, c, ctx, d=8):
        super().__init__()
        self.norm = nn.GroupNorm(4, c)
        self.q, self.k, self.v, self.out = nn.Linear(c, d), nn.Linear(ctx, d), nn.Linear(ctx, d), nn.Linear(d, c)
        self.d = d

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        tok = self.norm(x).flatten(2).transpose(1, 2)
        a = torch.softmax(self.q(tok) @ self.k(ctx).transpose(1, 2) / math.sqrt(self.d), dim=-1)
        return x + self.out(a @ self.v(ctx)).transpose(1, 2).reshape(b, c, h, w)


class Level(nn.Module):
    """Two resnets, the second followed by attention to the text then to RAM's embeddings."""
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.res1, self.res2 = ResBlock(cin, cout, temb), ResBlock(cout, cout, temb)
        self.text, self.ram = CrossAttention(cout, TEXT_DIM), CrossAttention(cout, RAM_DIM)

    def forward(self, h, temb, text, ram):
        h1 = self.res1(h, temb)
        h2 = self.ram(self.text(self.res2(h1, temb), text), ram)
        return h2, [h1, h2]


class Encoder(nn.Module):
    """The down path shared by the UNet and the ControlNet: 12 skips and the mid block."""
    def __init__(self):
        super().__init__()
        temb = 4 * CH[0]
        self.time = nn.Sequential(nn.Linear(CH[0], temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(4, CH[0], 3, padding=1)
        cins = [CH[0]] + CH[:-1]
        self.levels = nn.ModuleList([Level(ci, co, temb) for ci, co in zip(cins, CH)])
        self.down = nn.ModuleList([nn.Conv2d(c, c, 3, stride=2, padding=1) for c in CH[:-1]])
        self.mid1, self.mid2 = ResBlock(CH[-1], CH[-1], temb), ResBlock(CH[-1], CH[-1], temb)
        self.mid_text, self.mid_ram = CrossAttention(CH[-1], TEXT_DIM), CrossAttention(CH[-1], RAM_DIM)

    def forward(self, sample, timestep, text, ram, extra=None):
        temb = self.time(timestep_embedding(timestep, CH[0]))
        h = self.conv_in(sample)
        if extra is not None:
            h = h + extra
        skips = [h]
        for i, lev in enumerate(self.levels):
            h, outs = lev(h, temb, text, ram)
            skips += outs
            if i < len(self.down):
                h = self.down[i](h)
                skips.append(h)
        h = self.mid2(self.mid_ram(self.mid_text(self.mid1(h, temb), text), ram), temb)
        return skips, h, temb


class ControlNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.cond_embedding = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.SiLU(),
                                            nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.SiLU(),
                                            nn.Conv2d(8, CH[0], 3, stride=2, padding=1))
        self.encoder = Encoder()
        chans = [CH[0]] + [c for i, c in enumerate(CH) for _ in range(3 if i < 3 else 2)]
        self.zero_convs = nn.ModuleList([nn.Conv2d(c, c, 1) for c in chans])
        self.mid_zero = nn.Conv2d(CH[-1], CH[-1], 1)

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, image_encoder_hidden_states):
        skips, mid, _ = self.encoder(sample, timestep, encoder_hidden_states, image_encoder_hidden_states,
                                     self.cond_embedding(controlnet_cond * 2 - 1))
        return tuple(z(s) for z, s in zip(self.zero_convs, skips)) + (self.mid_zero(mid),)


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        temb = 4 * CH[0]
        chans = [CH[0]] + [c for i, c in enumerate(CH) for _ in range(3 if i < 3 else 2)]
        self.up = nn.ModuleList()
        h = CH[-1]
        for s in reversed(chans):
            self.up.append(ResBlock(h + s, s, temb))
            h = s
        self.up_text = CrossAttention(CH[0], TEXT_DIM)
        self.norm_out, self.conv_out = nn.GroupNorm(4, CH[0]), nn.Conv2d(CH[0], 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states, image_encoder_hidden_states, *residuals):
        down, mid = residuals[:12], residuals[12]
        skips, h, temb = self.encoder(sample, timestep, encoder_hidden_states, image_encoder_hidden_states)
        skips = [s + r for s, r in zip(skips, down)]
        h = h + mid
        for blk in self.up:
            s = skips.pop()
            if h.shape[-2:] != s.shape[-2:]:
                h = F.interpolate(h, size=s.shape[-2:], mode='nearest')
            h = blk(torch.cat([h, s], dim=1), temb)
        h = self.up_text(h, encoder_hidden_states)
        return self.conv_out(F.silu(self.norm_out(h)))


class VAEEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.SiLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1),
                                 nn.SiLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.SiLU(), nn.Conv2d(16, 8, 1))

    def forward(self, image):
        m = self.net(image)
        return m[:, :4] * 4, m[:, 4:] - 3  # latents of SD's spread; std ≈ 0.2


class VAEDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        up = lambda: nn.Upsample(scale_factor=2, mode='nearest')
        self.net = nn.Sequential(nn.Conv2d(4, 16, 3, padding=1), nn.SiLU(), up(), nn.Conv2d(16, 8, 3, padding=1), nn.SiLU(),
                                 up(), nn.Conv2d(8, 8, 3, padding=1), nn.SiLU(), up(), nn.Conv2d(8, 3, 3, padding=1))

    def forward(self, latent):
        return self.net(latent) * 3  # reaches past [−1, 1], so the clamps matter


class RAM(nn.Module):
    def __init__(self, n_tags):
        super().__init__()
        self.patch = nn.Conv2d(3, 16, 32, stride=32)  # 384/32 = 12 → 144 tokens + 1
        self.norm = nn.LayerNorm(16)
        self.image_proj = nn.Linear(16, RAM_DIM)
        self.label_embed = nn.Parameter(torch.randn(n_tags, 16))
        self.k, self.v = nn.Linear(RAM_DIM, 16), nn.Linear(RAM_DIM, 16)
        self.fc = nn.Linear(16, 1)

    def forward(self, image):
        tok = self.patch(image).flatten(2).transpose(1, 2)
        tok = torch.cat([tok.mean(1, keepdim=True), tok], dim=1)
        emb = self.image_proj(self.norm(tok))
        a = torch.softmax(F.relu(self.label_embed) @ self.k(emb).transpose(1, 2) / 4, dim=-1)  # RAM's relu(wordvec_proj(label_embed))
        return emb, self.fc(a @ self.v(emb)).squeeze(-1) * 4


class TextEncoder(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, 32), nn.Parameter(torch.randn(CTX, 32) * 0.1)
        self.attn = nn.MultiheadAttention(32, 2, batch_first=True)
        self.norm, self.proj = nn.LayerNorm(32), nn.Linear(32, TEXT_DIM)

    def forward(self, input_ids):
        h = self.tok(input_ids.long()) + self.pos
        mask = torch.triu(torch.full((CTX, CTX), float('-inf')), 1)
        h = h + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return self.proj(self.norm(h))


def train_merges(corpus, n):
    """A few hundred BPE merges learned from corpus, CLIP-style (pieces end in </w>)."""
    import regex as re
    pieces = collections.Counter(re.findall(r"\p{L}+|\p{N}|[^\s\p{L}\p{N}]+", corpus.lower()))
    words = {tuple(p[:-1]) + (p[-1] + '</w>',): c for p, c in pieces.items()}
    merges = []
    for _ in range(n):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[a, b] += c
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        words = {merge(w, best): c for w, c in words.items()}
    return merges


def merge(w, pair):
    """The symbols w with each occurrence of pair joined, left to right."""
    out, i = [], 0
    while i < len(w):
        if i + 1 < len(w) and (w[i], w[i + 1]) == pair:
            out.append(w[i] + w[i + 1]); i += 2
        else:
            out.append(w[i]); i += 1
    return tuple(out)


def byte_unicode():
    """CLIP's bytes_to_unicode: each byte's printable stand-in character, in
    the order the vocabulary lists them."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return dict(zip(bs, map(chr, cs)))


def vocab_from_merges(merges):
    v = list(byte_unicode().values())
    v = v + [t + '</w>' for t in v] + [a + b for a, b in merges] + ['<|startoftext|>', '<|endoftext|>']
    return {t: i for i, t in enumerate(v)}


def alphas_cumprod(ts):
    """diffusers' DDPMScheduler ᾱ (scaled_linear, 0.00085–0.012, 1000 steps) as
    this PyTorch computes it, at ts: the runner uses these float32 values."""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2
    ac = torch.cumprod(1.0 - betas, dim=0)
    return {str(t): float(ac[t]) for t in ts}


def build(seed=0):
    torch.manual_seed(seed)
    merges = train_merges(' '.join(TAGS) + ' ' + ADDED + ' ' + NEGATIVE + ' a red barn in the snow, photo', 150)
    vocab = vocab_from_merges(merges)
    mods = {'text_encoder': TextEncoder(len(vocab)), 'vae_encoder': VAEEncoder(), 'vae_decoder': VAEDecoder(),
            'ram': RAM(len(TAGS)), 'controlnet': ControlNet(), 'unet': UNet()}
    for m in mods.values():
        m.eval()
    # Thresholds near the middle of the logits' range, so that some tags pass.
    g = torch.Generator().manual_seed(seed + 1)
    thresholds = [round(float(x), 4) for x in 0.3 + 0.4 * torch.rand(len(TAGS), generator=g)]
    return mods, merges, vocab, thresholds


def export(out):
    import onnx
    mods, merges, vocab, thresholds = build()
    os.makedirs(os.path.join(out, 'tokenizer'), exist_ok=True)
    os.makedirs(os.path.join(out, 'ram'), exist_ok=True)
    with open(os.path.join(out, 'tokenizer', 'merges.txt'), 'w') as f:
        f.write('#version: 0.2\n' + ''.join(f'{a} {b}\n' for a, b in merges))
    with open(os.path.join(out, 'tokenizer', 'vocab.json'), 'w') as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out, 'ram', 'tags.txt'), 'w') as f:
        f.write(''.join(t + '\n' for t in TAGS))
    with open(os.path.join(out, 'ram', 'thresholds.txt'), 'w') as f:
        f.write(''.join(f'{t}\n' for t in thresholds))
    B, H = 'batch', 'height'
    x = lambda *s: torch.randn(*s)
    down = [f'down_{i}' for i in range(12)]
    specs = {
        'text_encoder': ((torch.zeros(1, CTX),), ['input_ids'], ['last_hidden_state'],
                         {'input_ids': {0: B}, 'last_hidden_state': {0: B}}),
        'vae_encoder': ((x(1, 3, 64, 64),), ['image'], ['mean', 'logvar'],
                        {'image': {0: B, 2: 'h8', 3: 'w8'}, 'mean': {0: B, 2: 'h', 3: 'w'}, 'logvar': {0: B, 2: 'h', 3: 'w'}}),
        'vae_decoder': ((x(1, 4, 8, 8),), ['latent'], ['image'],
                        {'latent': {0: B, 2: 'h', 3: 'w'}, 'image': {0: B, 2: 'h8', 3: 'w8'}}),
        'ram': ((x(1, 3, 384, 384) * 2,), ['image'], ['image_embeds', 'tag_logits'],
                {'image': {0: B}, 'image_embeds': {0: B}, 'tag_logits': {0: B}}),
    }
    ctrl_in = (x(1, 4, 16, 16), torch.tensor([999.0]), x(1, CTX, TEXT_DIM), x(1, 3, 128, 128), x(1, RAM_TOKENS, RAM_DIM))
    ctrl_names = ['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'image_encoder_hidden_states']
    dyn = {'sample': {0: B, 2: 'h', 3: 'w'}, 'timestep': {0: B}, 'encoder_hidden_states': {0: B},
           'controlnet_cond': {0: B, 2: 'h8', 3: 'w8'}, 'image_encoder_hidden_states': {0: B}}
    res = mods['controlnet'](*ctrl_in)
    specs['controlnet'] = (ctrl_in, ctrl_names, down + ['mid'], {**dyn, **{n: {0: B, 2: n + '_h', 3: n + '_w'} for n in down + ['mid']}})
    unet_names = ['sample', 'timestep', 'encoder_hidden_states', 'image_encoder_hidden_states'] + down + ['mid']
    unet_dyn = {k: v for k, v in dyn.items() if k != 'controlnet_cond'}
    unet_dyn.update({n: {0: B, 2: n + '_h', 3: n + '_w'} for n in down + ['mid']})
    unet_dyn['noise_pred'] = {0: B, 2: 'h', 3: 'w'}
    specs['unet'] = ((ctrl_in[0], ctrl_in[1], ctrl_in[2], ctrl_in[4]) + tuple(res), unet_names, ['noise_pred'], unet_dyn)
    graphs = {}
    for name, (args, ins, outs, axes) in specs.items():
        path = os.path.join(out, name + '.onnx')
        with torch.no_grad():
            torch.onnx.export(mods[name], args, path + '.tmp', input_names=ins, output_names=outs,
                              dynamic_axes=axes, opset_version=17, do_constant_folding=True)
        os.replace(path + '.tmp', path)
        onnx.checker.check_model(onnx.load(path))
        graphs[name] = {'file': name + '.onnx', 'sha256': sha256(path), 'dtype': 'fp32', 'inputs': ins, 'outputs': outs}
    # Check tensors: each graph's export inputs and the module's outputs.
    cases = {}
    with torch.no_grad():
        for name, (args, ins, outs, _) in specs.items():
            args = tuple(fp16_exact(a) for a in args)
            res = mods[name](*args)
            res = res if isinstance(res, tuple) else (res,)
            cases[name] = (dict(zip(ins, args)), dict(zip(outs, res)))
    check = write_check(out, cases, {n: (1e-4, 1e-3) for n in cases})
    files = lambda *p: {'file': os.path.join(*p), 'sha256': sha256(os.path.join(out, *p))}
    man = {
        'format': 'addsr-pipeline/1',
        'name': 'addsr-standin',
        'test_fixture': True,
        'description': 'tiny random-weight stand-ins with AddSR\'s I/O (runners/addsr/testdata/standin.py): a test fixture, not AddSR',
        'graphs': graphs,
        'tokenizer': {'vocab': files('tokenizer', 'vocab.json'), 'merges': files('tokenizer', 'merges.txt'),
                      'max_length': CTX, 'pad_token': '!'},
        'ram': {'tags': files('ram', 'tags.txt'), 'thresholds': files('ram', 'thresholds.txt'), 'input_size': 384,
                'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225], 'tag_separator': ', '},
        'scheduler': {'beta_schedule': 'scaled_linear', 'beta_start': 0.00085, 'beta_end': 0.012,
                      'num_train_timesteps': 1000, 'timesteps': [999, 749, 499, 249], 'prediction_type': 'epsilon',
                      'alphas_cumprod': alphas_cumprod([999, 749, 499, 249])},
        'vae': {'scaling_factor': 0.18215, 'downscale': 8},
        'check': check,
        'defaults': DEFAULTS,
    }
    with open(os.path.join(out, 'pipeline.json.tmp'), 'w') as f:
        json.dump(man, f, indent=1)
    os.replace(os.path.join(out, 'pipeline.json.tmp'), os.path.join(out, 'pipeline.json'))


if __name__ == '__main__':
    export(sys.argv[1])
