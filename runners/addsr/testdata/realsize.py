"""Random-weight graphs of AddSR's real sizes, for speed and memory: an
SD-2-base UNet and ControlNet (320/640/1280/1280 channels, 2 resnets per
level, transformer blocks with 64-dim heads, self-attention, cross-attention
to the text and to RAM's embeddings as SeeSR adds it, GEGLU feed-forward;
the ControlNet with SD's 16/32/96/256 condition embedding and zero
convolutions), SD's VAE (128/256/512/512) and OpenCLIP ViT-H's text encoder
(23 layers of width 1024, as SD-2 uses it), and a Swin-L-shaped RAM (patch 4,
windows of 12², depths 2/2/18/2, width 192→1536, 145 tokens, projected to
512; a 2-layer tagging head over 4585 label queries). Written from the
architectures' published shapes, not from their code: size and cost
proxies, not AddSR. The pipeline they make is marked test_fixture.

  python3 runners/addsr/testdata/realsize.py OUT_DIR [--device cuda] [--dtype fp16] [--width 1.0]
  python3 runners/addsr/testdata/realsize.py OUT_DIR --eager LR_DIR --steps 1,4 [--device cuda]   # PyTorch eager timings

--width scales every channel count (0.125 for a CPU dry run of the script).
--eager times the same modules running AddSR's loop in PyTorch (SDPA
attention where PyTorch has it) on the LR images, per image, with peak GPU
memory, and prints one JSON line per step count.
"""
import argparse, json, math, os, shutil, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'models', 'export'))
from addsr_pipeline import save_graph, sha256  # noqa: E402

SDPA = False  # eager timing uses torch's fused attention; exports the plain ops


def attention(q, k, v, heads):
    b, n, c = q.shape
    d = c // heads
    q, k, v = (t.reshape(b, -1, heads, d).transpose(1, 2) for t in (q, k, v))
    if SDPA and hasattr(F, 'scaled_dot_product_attention'):
        o = F.scaled_dot_product_attention(q, k, v)
    else:
        o = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1) @ v
    return o.transpose(1, 2).reshape(b, n, c)


class Attn(nn.Module):
    def __init__(self, dim, ctx=None, head_dim=64):
        super().__init__()
        self.heads = max(1, dim // head_dim)
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(ctx or dim, dim, bias=False)
        self.v = nn.Linear(ctx or dim, dim, bias=False)
        self.o = nn.Linear(dim, dim)

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        return self.o(attention(self.q(x), self.k(ctx), self.v(ctx), self.heads))


class GEGLU(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj, self.out = nn.Linear(dim, dim * 8), nn.Linear(dim * 4, dim)

    def forward(self, x):
        a, g = self.proj(x).chunk(2, dim=-1)
        return self.out(a * F.gelu(g))


class Transformer(nn.Module):
    """SD's Transformer2DModel with one BasicTransformerBlock, plus SeeSR's
    attention to RAM's embeddings."""
    def __init__(self, c, text, ram):
        super().__init__()
        self.norm = nn.GroupNorm(32, c, eps=1e-6)
        self.proj_in, self.proj_out = nn.Linear(c, c), nn.Linear(c, c)
        self.n1, self.n2, self.n3, self.n4 = (nn.LayerNorm(c) for _ in range(4))
        self.attn1, self.attn2, self.attn3 = Attn(c), Attn(c, text), Attn(c, ram)
        self.ff = GEGLU(c)

    def forward(self, x, text, ram):
        b, c, h, w = x.shape
        t = self.proj_in(self.norm(x).flatten(2).transpose(1, 2))
        t = t + self.attn1(self.n1(t))
        t = t + self.attn2(self.n2(t), text)
        t = t + self.attn3(self.n3(t), ram)
        t = t + self.ff(self.n4(t))
        return x + self.proj_out(t).transpose(1, 2).reshape(b, c, h, w)


class Res(nn.Module):
    def __init__(self, cin, cout, temb=None):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(32, cin, eps=1e-6), nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(temb, cout) if temb else None
        self.n2, self.c2 = nn.GroupNorm(32, cout, eps=1e-6), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb=None):
        h = self.c1(F.silu(self.n1(x)))
        if self.t is not None:
            h = h + self.t(F.silu(temb))[:, :, None, None]
        return self.skip(x) + self.c2(F.silu(self.n2(h)))


def tembed(t, dim):
    half = dim // 2
    f = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    e = t.float()[:, None] * f[None]
    return torch.cat([torch.cos(e), torch.sin(e)], dim=1)


class Down(nn.Module):
    """SD-2-base's down path: 12 skips and the mid block."""
    def __init__(self, ch, text, ram):
        super().__init__()
        self.ch, T = ch, 4 * ch[0]
        self.time = nn.Sequential(nn.Linear(ch[0], T), nn.SiLU(), nn.Linear(T, T))
        self.conv_in = nn.Conv2d(4, ch[0], 3, padding=1)
        self.res, self.attn, self.down = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        cin = ch[0]
        for i, c in enumerate(ch):
            for _ in range(2):
                self.res.append(Res(cin, c, T))
                self.attn.append(Transformer(c, text, ram) if i < 3 else nn.Identity())
                cin = c
            if i < 3:
                self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
        self.mid1, self.mid_attn, self.mid2 = Res(ch[3], ch[3], T), Transformer(ch[3], text, ram), Res(ch[3], ch[3], T)

    def forward(self, x, t, text, ram, extra=None):
        temb = self.time(tembed(t, self.ch[0]).to(x.dtype))
        h = self.conv_in(x)
        if extra is not None:
            h = h + extra
        skips = [h]
        for i in range(4):
            for j in range(2):
                h = self.res[2 * i + j](h, temb)
                a = self.attn[2 * i + j]
                h = a(h, text, ram) if isinstance(a, Transformer) else h
                skips.append(h)
            if i < 3:
                h = self.down[i](h)
                skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, temb), text, ram), temb)
        return skips, h, temb


def skip_channels(ch):
    return [ch[0]] + [c for i, c in enumerate(ch) for _ in range(3 if i < 3 else 2)]


class UNet(nn.Module):
    def __init__(self, ch, text, ram):
        super().__init__()
        self.enc = Down(ch, text, ram)
        T = 4 * ch[0]
        sk = skip_channels(ch)
        self.up_res, self.up_attn, self.ups = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        h = ch[3]
        for i, c in enumerate(reversed(ch)):  # 1280, 1280, 640, 320
            for _ in range(3):
                s = sk.pop()
                self.up_res.append(Res(h + s, c, T))
                self.up_attn.append(Transformer(c, text, ram) if i > 0 else nn.Identity())
                h = c
            if i < 3:
                self.ups.append(nn.Conv2d(c, c, 3, padding=1))
        self.norm_out, self.conv_out = nn.GroupNorm(32, ch[0], eps=1e-6), nn.Conv2d(ch[0], 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states, image_encoder_hidden_states, *res):
        skips, h, temb = self.enc(sample, timestep, encoder_hidden_states, image_encoder_hidden_states)
        skips = [s + r for s, r in zip(skips, res[:12])]
        h = h + res[12]
        k = 0
        for i in range(4):
            for _ in range(3):
                h = self.up_res[k](torch.cat([h, skips.pop()], dim=1), temb)
                a = self.up_attn[k]
                h = a(h, encoder_hidden_states, image_encoder_hidden_states) if isinstance(a, Transformer) else h
                k += 1
            if i < 3:
                h = self.ups[i](F.interpolate(h, size=skips[-1].shape[-2:], mode='nearest'))
        return self.conv_out(F.silu(self.norm_out(h)))


class ControlNet(nn.Module):
    def __init__(self, ch, text, ram, w):
        super().__init__()
        e = [max(8, int(c * w)) for c in (16, 32, 96, 256)]
        layers, cin = [nn.Conv2d(3, e[0], 3, padding=1), nn.SiLU()], e[0]
        for c in e[1:]:
            layers += [nn.Conv2d(cin, cin, 3, padding=1), nn.SiLU(), nn.Conv2d(cin, c, 3, stride=2, padding=1), nn.SiLU()]
            cin = c
        self.cond = nn.Sequential(*layers, nn.Conv2d(cin, ch[0], 3, padding=1))
        self.enc = Down(ch, text, ram)
        self.zero = nn.ModuleList([nn.Conv2d(c, c, 1) for c in skip_channels(ch)])
        self.mid_zero = nn.Conv2d(ch[3], ch[3], 1)

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, image_encoder_hidden_states):
        skips, mid, _ = self.enc(sample, timestep, encoder_hidden_states, image_encoder_hidden_states, self.cond(controlnet_cond))
        return tuple(z(s) for z, s in zip(self.zero, skips)) + (self.mid_zero(mid),)


class VAEAttn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n, self.a = nn.GroupNorm(32, c, eps=1e-6), Attn(c, head_dim=c)

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.n(x).flatten(2).transpose(1, 2)
        return x + self.a(t).transpose(1, 2).reshape(b, c, h, w)


class VAEDecoder(nn.Module):
    def __init__(self, ch):
        super().__init__()
        top = ch[-1]
        self.conv_in = nn.Conv2d(4, top, 3, padding=1)
        self.mid = nn.ModuleList([Res(top, top), VAEAttn(top), Res(top, top)])
        blocks, cin = [], top
        for i, c in enumerate(reversed(ch)):
            for _ in range(3):
                blocks.append(Res(cin, c)); cin = c
            if i < 3:
                blocks += [nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(c, c, 3, padding=1)]
        self.up = nn.Sequential(*blocks)
        self.out = nn.Sequential(nn.GroupNorm(32, ch[0], eps=1e-6), nn.SiLU(), nn.Conv2d(ch[0], 3, 3, padding=1))

    def forward(self, latent):
        h = self.conv_in(latent)
        for m in self.mid:
            h = m(h)
        return self.out(self.up(h))


class VAEEncoder(nn.Module):
    def __init__(self, ch):
        super().__init__()
        layers, cin = [nn.Conv2d(3, ch[0], 3, padding=1)], ch[0]
        for i, c in enumerate(ch):
            for _ in range(2):
                layers.append(Res(cin, c)); cin = c
            if i < 3:
                layers.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
        layers += [Res(cin, cin), VAEAttn(cin), Res(cin, cin), nn.GroupNorm(32, cin, eps=1e-6), nn.SiLU(),
                   nn.Conv2d(cin, 8, 3, padding=1), nn.Conv2d(8, 8, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, image):
        m = self.net(image)
        return m[:, :4], m[:, 4:].clamp(-30, 20)


class TextEncoder(nn.Module):
    def __init__(self, width, layers=23, vocab=49408):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, width), nn.Parameter(torch.randn(77, width) * 0.01)
        self.layers = nn.ModuleList()
        for _ in range(layers):
            self.layers.append(nn.ModuleDict({'n1': nn.LayerNorm(width), 'a': Attn(width), 'n2': nn.LayerNorm(width),
                                              'mlp': nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))}))
        self.norm = nn.LayerNorm(width)
        self.register_buffer('mask', torch.triu(torch.full((77, 77), float('-inf')), 1), persistent=False)

    def forward(self, input_ids):
        h = self.tok(input_ids.long()) + self.pos
        for l in self.layers:
            x = l['n1'](h)
            b, n, c = x.shape
            a = l['a']
            q, k, v = (t.reshape(b, n, a.heads, -1).transpose(1, 2) for t in (a.q(x), a.k(x), a.v(x)))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + self.mask.to(q.dtype), dim=-1) @ v
            h = h + a.o(att.transpose(1, 2).reshape(b, n, c))
            h = h + l['mlp'](l['n2'](h))
        return self.norm(h)


class SwinStage(nn.Module):
    def __init__(self, c, depth, window=12):
        super().__init__()
        self.window = window
        self.blocks = nn.ModuleList([nn.ModuleDict({'n1': nn.LayerNorm(c), 'a': Attn(c, head_dim=32), 'n2': nn.LayerNorm(c),
                                                    'mlp': nn.Sequential(nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c))})
                                     for _ in range(depth)])

    def forward(self, x):  # x: [B, H, W, C]
        b, h, w, c = x.shape
        s = self.window
        for blk in self.blocks:
            t = blk['n1'](x).reshape(b, h // s, s, w // s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, s * s, c)
            t = blk['a'](t).reshape(b, h // s, w // s, s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)
            x = x + t
            x = x + blk['mlp'](blk['n2'](x))
        return x


class RAM(nn.Module):
    def __init__(self, w, tags=4585):
        super().__init__()
        dims = [max(32, int(c * w)) for c in (192, 384, 768, 1536)]
        self.patch = nn.Conv2d(3, dims[0], 4, stride=4)
        self.stages = nn.ModuleList([SwinStage(d, n) for d, n in zip(dims, (2, 2, 18, 2))])
        self.merge = nn.ModuleList([nn.Linear(4 * dims[i], dims[i + 1]) for i in range(3)])
        self.norm, self.image_proj = nn.LayerNorm(dims[3]), nn.Linear(dims[3], 512)
        hd = max(64, int(768 * w))
        self.label = nn.Parameter(torch.randn(tags, hd) * 0.02)
        self.head = nn.ModuleList([nn.ModuleDict({'n': nn.LayerNorm(hd), 'a': Attn(hd, 512), 'n2': nn.LayerNorm(hd),
                                                  'mlp': nn.Sequential(nn.Linear(hd, 4 * hd), nn.GELU(), nn.Linear(4 * hd, hd))})
                                   for _ in range(2)])
        self.fc = nn.Linear(hd, 1)

    def forward(self, image):
        x = self.patch(image).permute(0, 2, 3, 1)
        for i, st in enumerate(self.stages):
            x = st(x)
            if i < 3:
                b, h, w, c = x.shape
                x = self.merge[i](x.reshape(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(b, h // 2, w // 2, 4 * c))
        b, h, w, c = x.shape
        t = self.norm(x.reshape(b, h * w, c))
        emb = self.image_proj(torch.cat([t.mean(1, keepdim=True), t], dim=1))
        q = self.label.unsqueeze(0).expand(b, -1, -1)
        for l in self.head:
            q = q + l['a'](l['n'](q), emb)
            q = q + l['mlp'](l['n2'](q))
        return emb, self.fc(q).squeeze(-1)


def build(w, seed=0):
    torch.manual_seed(seed)
    r32 = lambda c: max(32, int(c * w) // 32 * 32)  # GroupNorm(32, ·) needs multiples of 32
    ch = [r32(c) for c in (320, 640, 1280, 1280)]
    vch = [r32(c) for c in (128, 256, 512, 512)]
    text = max(64, int(1024 * w))
    return {'text_encoder': TextEncoder(text, layers=max(2, int(23 * min(1, 4 * w)))),
            'vae_encoder': VAEEncoder(vch), 'vae_decoder': VAEDecoder(vch), 'ram': RAM(w),
            'controlnet': ControlNet(ch, text, 512, w), 'unet': UNet(ch, text, 512)}, text, ch


def export(a):
    try:
        import onnx
    except ImportError:  # torch writes graphs under 2 GB (all of them in fp16) without it
        onnx = None
    from common import export_onnx
    dev = torch.device(a.device)
    dt = torch.float16 if a.dtype == 'fp16' else torch.float32
    mods, text, ch = build(a.width)
    os.makedirs(a.out, exist_ok=True)
    B = 'batch'
    down = [f'down_{i}' for i in range(12)]
    x = lambda *s: torch.randn(*s, device=dev, dtype=dt)
    ctrl = (x(1, 4, 64, 64), torch.full((1,), 999.0, device=dev), x(1, 77, text), x(1, 3, 512, 512), x(1, 145, 512))
    specs = {
        'text_encoder': ((torch.zeros(1, 77, device=dev),), ['input_ids'], ['last_hidden_state'], {'input_ids': {0: B}, 'last_hidden_state': {0: B}}),
        'vae_encoder': ((x(1, 3, 512, 512),), ['image'], ['mean', 'logvar'], {'image': {0: B, 2: 'H', 3: 'W'}, 'mean': {0: B, 2: 'h', 3: 'w'}, 'logvar': {0: B, 2: 'h', 3: 'w'}}),
        'vae_decoder': ((x(1, 4, 64, 64),), ['latent'], ['image'], {'latent': {0: B, 2: 'h', 3: 'w'}, 'image': {0: B, 2: 'H', 3: 'W'}}),
        'ram': ((x(1, 3, 384, 384),), ['image'], ['image_embeds', 'tag_logits'], {'image': {0: B}, 'image_embeds': {0: B}, 'tag_logits': {0: B}}),
        'controlnet': (ctrl, ['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'image_encoder_hidden_states'], down + ['mid'],
                       {'sample': {0: B, 2: 'h', 3: 'w'}, 'timestep': {0: B}, 'encoder_hidden_states': {0: B}, 'controlnet_cond': {0: B, 2: 'H', 3: 'W'},
                        'image_encoder_hidden_states': {0: B}, **{n: {0: B, 2: n + 'h', 3: n + 'w'} for n in down + ['mid']}}),
    }
    graphs = {}
    for name in ['text_encoder', 'vae_encoder', 'vae_decoder', 'ram', 'controlnet', 'unet']:
        m = mods[name].to(dev, dt).eval()
        if name == 'unet':
            with torch.no_grad():
                res = mods['controlnet'](*ctrl)
            args = (ctrl[0], ctrl[1], ctrl[2], ctrl[4]) + tuple(res)
            ins = ['sample', 'timestep', 'encoder_hidden_states', 'image_encoder_hidden_states'] + down + ['mid']
            outs, axes = ['noise_pred'], {k: v for k, v in specs['controlnet'][3].items() if k != 'controlnet_cond'}
            axes['noise_pred'] = {0: B, 2: 'h', 3: 'w'}
        else:
            args, ins, outs, axes = specs[name]
        p = os.path.join(a.out, name + '.onnx')
        t0 = time.time()
        scratch = os.path.join(a.out, 'scratch-' + name)
        os.makedirs(scratch, exist_ok=True)
        sp = os.path.join(scratch, name + '.onnx')
        with torch.no_grad():
            export_onnx(m, args, sp, input_names=ins, output_names=outs, dynamic_axes=axes, opset_version=17)
        extra = []
        if onnx is None:
            if len(os.listdir(scratch)) > 1:
                sys.exit(f'{name} is over 2 GB: its export needs the onnx package (pip install onnx), or --dtype fp16')
            os.replace(sp, p)
            model = None
        else:
            model = onnx.load(sp)  # with any external weights torch wrote beside it
        if model is not None:
            extra = [{'file': f, 'sha256': sha256(os.path.join(a.out, f))} for f in save_graph(onnx, model, a.out, name)]
        shutil.rmtree(scratch)
        params = sum(t.numel() for t in m.parameters())
        print(f'{name}: {params / 1e6:.0f} M parameters, {os.path.getsize(p) / 1e6:.0f} MB, exported in {time.time() - t0:.0f} s', flush=True)
        graphs[name] = {'file': name + '.onnx', 'sha256': sha256(p), 'dtype': a.dtype, 'inputs': ins, 'outputs': outs}
        if extra:
            graphs[name]['external_data'] = extra
        m.cpu()
    # The fixture's tokenizer (prompt ids index the first rows of the
    # embedding: its cost is the same) and a tag list of RAM's size.
    os.makedirs(os.path.join(a.out, 'tokenizer'), exist_ok=True)
    os.makedirs(os.path.join(a.out, 'ram'), exist_ok=True)
    for f in ['vocab.json', 'merges.txt']:
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pipeline', 'tokenizer', f), os.path.join(a.out, 'tokenizer', f))
    open(os.path.join(a.out, 'ram', 'tags.txt'), 'w').write(''.join(f'tag{i}\n' for i in range(4585)))
    open(os.path.join(a.out, 'ram', 'thresholds.txt'), 'w').write('0.68\n' * 4585)
    files = lambda *p: {'file': os.path.join(*p), 'sha256': sha256(os.path.join(a.out, *p))}
    man = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pipeline', 'pipeline.json')))
    man.update({'name': f'addsr-realsize-{a.dtype}', 'test_fixture': True, 'graphs': graphs,
                'description': f'random-weight size proxies of AddSR\'s graphs at width {a.width} (realsize.py): a test fixture, not AddSR'})
    man.pop('check', None)
    man['tokenizer'].update({'vocab': files('tokenizer', 'vocab.json'), 'merges': files('tokenizer', 'merges.txt')})
    man['ram'].update({'tags': files('ram', 'tags.txt'), 'thresholds': files('ram', 'thresholds.txt')})
    json.dump(man, open(os.path.join(a.out, 'pipeline.json'), 'w'), indent=1)
    print('wrote', a.out)


def eager(a):
    """AddSR's loop in PyTorch on the same modules: per image, K steps with
    PSR, as the runner runs it (no colour fix: that is host work)."""
    global SDPA
    SDPA = True
    import numpy as np
    from PIL import Image
    dev = torch.device(a.device)
    dt = torch.float16 if a.dtype == 'fp16' else torch.float32
    mods, text, ch = build(a.width)
    for m in mods.values():
        m.to(dev, dt).eval()
    files = sorted(f for f in os.listdir(a.eager) if f.lower().endswith('.png'))
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2
    ac = torch.cumprod(1 - betas, 0)
    ts = [999, 749, 499, 249]
    sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)
    for K in [int(k) for k in a.steps.split(',')]:
        times = []
        if dev.type == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        for i, f in enumerate(files[:a.images] * (1 + (a.warmup > 0))):
            lr = torch.from_numpy(np.asarray(Image.open(os.path.join(a.eager, f)).convert('RGB')).astype(np.float32) / 255).permute(2, 0, 1)[None].to(dev, dt)
            sync(); t0 = time.time()
            with torch.no_grad():
                cond = F.interpolate(lr, scale_factor=4, mode='bicubic').clamp(0, 1)
                emb, logits = mods['ram'](F.interpolate(lr, size=(384, 384), mode='bilinear'))
                txt = mods['text_encoder'](torch.zeros(1, 77, device=dev))
                mean, logvar = mods['vae_encoder'](cond * 2 - 1)
                z = (mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)) * 0.18215
                z = ac[999].sqrt().item() * z + (1 - ac[999]).sqrt().item() * torch.randn_like(z)
                c = cond
                for k in range(K):
                    t = ts[k]
                    if k > 0:
                        x0 = mods['vae_decoder'](z0 / 0.18215).clamp(-1, 1)
                        c = 0.4 * (x0 / 2 + 0.5) + 0.6 * cond
                        emb, _ = mods['ram'](F.interpolate(c, size=(384, 384), mode='bicubic'))
                    tt = torch.full((1,), float(t), device=dev)
                    res = mods['controlnet'](z, tt, txt, c, emb)
                    eps = mods['unet'](z, tt, txt, emb, *res)
                    z0 = (z - (1 - ac[t]).sqrt().item() * eps) / ac[t].sqrt().item()
                    if k < K - 1:
                        z = ac[ts[k + 1]].sqrt().item() * z0 + (1 - ac[ts[k + 1]]).sqrt().item() * torch.randn_like(z0)
                out = mods['vae_decoder'](z0 / 0.18215)
            sync()
            if a.warmup == 0 or i >= len(files[:a.images]):
                times.append(time.time() - t0)
        peak = torch.cuda.max_memory_allocated() / 2 ** 30 if dev.type == 'cuda' else 0
        print(json.dumps({'peer': 'pytorch-eager', 'steps': K, 'images': len(times), 'median_s': float(np.median(times)),
                          'mean_s': float(np.mean(times)), 'peak_gib': round(peak, 2), 'dtype': a.dtype, 'device': a.device,
                          'torch': torch.__version__, 'width': a.width, 'out': list(out.shape)}), flush=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--dtype', choices=['fp32', 'fp16'], default='fp32')
    ap.add_argument('--width', type=float, default=1.0)
    ap.add_argument('--eager', help='LR folder: time PyTorch eager instead of exporting')
    ap.add_argument('--steps', default='1,4')
    ap.add_argument('--images', type=int, default=8)
    ap.add_argument('--warmup', type=int, default=1)
    a = ap.parse_args()
    eager(a) if a.eager else export(a)
