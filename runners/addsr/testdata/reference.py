"""The Python reference for the addsr runner: AddSR's inference loop
transcribed from the official code (NJU-PCALab/AddSR test_addsr.py and
pipelines/pipeline_addsr.py; SeeSR's utils/wavelet_color_fix.py), run on the
PyTorch stand-in modules of standin.py with noise read from noise.bin, so
the Go runner fed the same noise must give the same latents and outputs.

Where the official loop only works for one image without guidance, this
one does what it means: the LR latent of each image (not the first's) is
noised, x̂0 is taken from the un-doubled latents, and PSR's RAM embeddings
are doubled for classifier-free guidance like the first step's.

    /usr/bin/python3 runners/addsr/testdata/reference.py runners/addsr/testdata
"""
import html, json, os, sys
import numpy as np
import regex as re
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import standin

CASES = [
    # name, LR sizes, K, psr, colour fix, prompt, guidance, process_size
    dict(name='square', sizes=[(32, 32)], K=4, psr=True, fix='adain', prompt='ram', g=0, ps=128),
    dict(name='nonsquare', sizes=[(44, 36)], K=4, psr=False, fix='wavelet', prompt='ram', g=0, ps=128),
    dict(name='cfg', sizes=[(36, 36)], K=2, psr=True, fix='none', prompt='a red barn', g=3.0, ps=128),
    dict(name='small', sizes=[(60, 45)], K=2, psr=True, fix='adain', prompt='none', g=0, ps=512),
    dict(name='batch3', sizes=[(40, 32)] * 3, K=3, psr=True, fix='adain', prompt='ram', g=0, ps=128),
    # latent 20×24 in 12² tiles overlapping by 4 (the official 320/4 scaled down), two images, guidance
    dict(name='tiled', sizes=[(48, 40)] * 2, K=2, psr=True, fix='adain', prompt='ram', g=2.0, ps=128, tile=12, overlap=4),
]
PSR_WEIGHT, SCALE = 0.4, 0.18215


class Tokenizer:
    """CLIP's simple_tokenizer over a vocab.json/merges.txt, SD-2 padding."""
    def __init__(self, d):
        self.enc = json.load(open(os.path.join(d, 'vocab.json')))
        merges = open(os.path.join(d, 'merges.txt')).read().split('\n')[1:]
        self.ranks = {tuple(m.split()): i for i, m in enumerate(m for m in merges if m)}
        self.b2u = standin.byte_unicode()
        self.pat = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)

    def bpe(self, tok):
        w = tuple(tok[:-1]) + (tok[-1] + '</w>',)
        while len(w) > 1:
            best = min(zip(w, w[1:]), key=lambda p: self.ranks.get(p, 1e18))
            if best not in self.ranks:
                break
            w = standin.merge(w, best)
        return w

    def __call__(self, text):
        text = re.sub(r'\s+', ' ', html.unescape(html.unescape(text)).strip()).strip().lower()
        ids = [self.enc[t] for p in re.findall(self.pat, text) for t in self.bpe(''.join(self.b2u[b] for b in p.encode()))]
        ids = [self.enc['<|startoftext|>']] + ids[:75] + [self.enc['<|endoftext|>']]
        return ids + [self.enc['!']] * (77 - len(ids))


def calc_mean_std(feat, eps=1e-5):
    b, c = feat.shape[:2]
    var = feat.reshape(b, c, -1).var(dim=2) + eps
    return feat.reshape(b, c, -1).mean(dim=2).reshape(b, c, 1, 1), var.sqrt().reshape(b, c, 1, 1)


def adain(target, source):
    t, s = transforms.ToTensor()(target)[None], transforms.ToTensor()(source)[None]
    sm, ss = calc_mean_std(s)
    cm, cs = calc_mean_std(t)
    r = (t - cm) / cs * ss + sm
    return transforms.ToPILImage()(r[0].clamp_(0, 1))


def wavelet_blur(x, radius):
    k = torch.tensor([[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]], dtype=x.dtype)[None, None].repeat(3, 1, 1, 1)
    return F.conv2d(F.pad(x, (radius,) * 4, mode='replicate'), k, groups=3, dilation=radius)


def wavelet_decomposition(x, levels=5):
    high = torch.zeros_like(x)
    for i in range(levels):
        low = wavelet_blur(x, 2 ** i)
        high += x - low
        x = low
    return high, low


def wavelet(target, source):
    t, s = transforms.ToTensor()(target)[None], transforms.ToTensor()(source)[None]
    r = wavelet_decomposition(t)[0] + wavelet_decomposition(s)[1]
    return transforms.ToPILImage()(r[0].clamp_(0, 1))


def gaussian_weights(tile_width, tile_height, nbatches):
    """pipeline_addsr.py's _gaussian_weights, as it is (y centred at h/2)."""
    from numpy import pi, exp, sqrt
    var = 0.01
    midpoint = (tile_width - 1) / 2
    x_probs = [exp(-(x - midpoint) * (x - midpoint) / (tile_width * tile_width) / (2 * var)) / sqrt(2 * pi * var) for x in range(tile_width)]
    midpoint = tile_height / 2
    y_probs = [exp(-(y - midpoint) * (y - midpoint) / (tile_height * tile_height) / (2 * var)) / sqrt(2 * pi * var) for y in range(tile_height)]
    return torch.tile(torch.tensor(np.outer(y_probs, x_probs)), (nbatches, 4, 1, 1))


def tiled(mods, latent_model_input, t, prompt_embeds, image, ram_h, tile_size, tile_overlap):
    """The official tiled-latent branch (pipeline_addsr.py), one call per tile."""
    _, _, h, w = latent_model_input.size()
    tile_size = min(tile_size, min(h, w))
    tile_weights = gaussian_weights(tile_size, tile_size, 1)
    grid_rows, cur_x = 0, 0
    while cur_x < latent_model_input.size(-1):
        cur_x = max(grid_rows * tile_size - tile_overlap * grid_rows, 0) + tile_size
        grid_rows += 1
    grid_cols, cur_y = 0, 0
    while cur_y < latent_model_input.size(-2):
        cur_y = max(grid_cols * tile_size - tile_overlap * grid_cols, 0) + tile_size
        grid_cols += 1
    noise_preds, offsets = [], []
    for row in range(grid_rows):
        for col in range(grid_cols):
            if col < grid_cols - 1 or row < grid_rows - 1:
                ofs_x = max(row * tile_size - tile_overlap * row, 0)
                ofs_y = max(col * tile_size - tile_overlap * col, 0)
            if row == grid_rows - 1:
                ofs_x = w - tile_size
            if col == grid_cols - 1:
                ofs_y = h - tile_size
            offsets.append((ofs_x, ofs_y))
            zt = latent_model_input[:, :, ofs_y:ofs_y + tile_size, ofs_x:ofs_x + tile_size]
            it = image[:, :, ofs_y * 8:(ofs_y + tile_size) * 8, ofs_x * 8:(ofs_x + tile_size) * 8]
            res = mods['controlnet'](zt, t, prompt_embeds, it, ram_h)
            noise_preds.append(mods['unet'](zt, t, prompt_embeds, ram_h, *res))
    noise_pred = torch.zeros(latent_model_input.shape)
    contributors = torch.zeros(latent_model_input.shape)
    for (ofs_x, ofs_y), p in zip(offsets, noise_preds):
        noise_pred[:, :, ofs_y:ofs_y + tile_size, ofs_x:ofs_x + tile_size] += p * tile_weights
        contributors[:, :, ofs_y:ofs_y + tile_size, ofs_x:ofs_x + tile_size] += tile_weights
    noise_pred /= contributors
    return noise_pred


def make_lr(rng, w, h):
    base = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    a = np.asarray(Image.fromarray(base).resize((w, h), Image.BICUBIC)).astype(np.int16)
    a = a + rng.integers(-20, 21, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def main(root):
    pipe = os.path.join(root, 'pipeline')
    mods, _, _, thresholds = standin.build()
    tok = Tokenizer(os.path.join(pipe, 'tokenizer'))
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2
    ac = torch.cumprod(1.0 - betas, dim=0)
    ts = [999, 749, 499, 249]
    sa = lambda t: ac[t] ** 0.5
    s1 = lambda t: (1 - ac[t]) ** 0.5
    norm = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    ram_tf = transforms.Compose([transforms.Resize((384, 384)), norm])  # tensor input: bilinear, no antialias (torchvision 0.14)
    thr = torch.tensor(thresholds, dtype=torch.float32)
    summary = {'alphas_cumprod': {str(t): float(ac[t]) for t in range(1000)}, 'cases': []}
    for ci, case in enumerate(CASES):
        rng = np.random.default_rng(100 + ci)
        d = os.path.join(root, 'cases', case['name'])
        os.makedirs(d, exist_ok=True)
        lrs = [make_lr(rng, w, h) for w, h in case['sizes']]
        ids = [f'img{i}' for i in range(len(lrs))]
        for i, im in zip(ids, lrs):
            im.save(os.path.join(d, i + '.png'))
        B, K, g = len(lrs), case['K'], case['g']
        with torch.no_grad():
            lq = ram_tf(torch.stack([transforms.ToTensor()(im) for im in lrs]))
            ram_h, logits = mods['ram'](lq)
            keep = torch.sigmoid(logits) > thr
            tags = [', '.join(standin.TAGS[c] for c in range(len(standin.TAGS)) if keep[b, c]) for b in range(B)]
            margin = float((torch.sigmoid(logits) - thr).abs().min())
            lead = {'ram': tags, 'none': [''] * B}.get(case['prompt'], [case['prompt']] * B)
            prompts = [f'{l}, {""},' + standin.ADDED for l in lead]
            text = mods['text_encoder'](torch.tensor([tok(p) for p in prompts], dtype=torch.float32))
            if g > 1:
                neg = mods['text_encoder'](torch.tensor([tok(standin.NEGATIVE)] * B, dtype=torch.float32))
            conds, resized = [], []
            for im in lrs:
                ow, oh = im.size
                r = 4
                if ow < case['ps'] // r or oh < case['ps'] // r:
                    sc = (case['ps'] // r) / min(ow, oh)
                    im = im.resize((int(sc * ow), int(sc * oh)))
                im = im.resize((im.size[0] * r, im.size[1] * r))
                im = im.resize((im.size[0] // 8 * 8, im.size[1] // 8 * 8))
                conds.append(im)
            image = torch.stack([torch.from_numpy(np.asarray(c).astype(np.float32) / 255.0).permute(2, 0, 1) for c in conds])
            LR = image
            H, W = image.shape[2] // 8, image.shape[3] // 8
            # noise.bin: per image, encode, start, then step2..K's (float16 values)
            noise = {k: torch.from_numpy(rng.standard_normal((B, 4, H, W)).astype(np.float16).astype(np.float32))
                     for k in ['encode', 'start'] + [f'step{k}' for k in range(2, K + 1)]}
            with open(os.path.join(d, 'noise.bin'), 'wb') as f:
                for b in range(B):
                    for k in ['encode', 'start'] + [f'step{k}' for k in range(2, K + 1)]:
                        f.write(noise[k][b].numpy().astype('<f2').tobytes())
            mean, logvar = mods['vae_encoder'](image * 2 - 1)
            std = torch.exp(0.5 * torch.clamp(logvar, -30.0, 20.0))
            z_lr = (mean + std * noise['encode']) * SCALE
            z = sa(999) * z_lr + s1(999) * noise['start']
            z0s, outs = [], {i: {} for i in ids}
            for i, t in enumerate(ts[:K]):
                if i > 0 and case['psr']:
                    x0 = mods['vae_decoder'](1 / SCALE * z0).clamp(-1, 1)
                    image = (x0 / 2 + 0.5) * PSR_WEIGHT + (1 - PSR_WEIGHT) * LR
                    rv = F.interpolate(image, size=(384, 384), mode='bicubic')
                    for b in range(B):
                        rv[b] = norm(rv[b])
                    ram_h, _ = mods['ram'](rv)
                tt = torch.full((B,), float(t))
                tile = case.get('tile', 320)

                def predict(zz, tt, te, im, rh):
                    if zz.shape[2] * zz.shape[3] <= tile * tile:
                        return mods['unet'](zz, tt, te, rh, *mods['controlnet'](zz, tt, te, im, rh))
                    return tiled(mods, zz, tt, te, im, rh, tile, case.get('overlap', 4))
                if g > 1:
                    eps = predict(torch.cat([z, z]), torch.cat([tt, tt]), torch.cat([neg, text]), torch.cat([image, image]), torch.cat([ram_h, ram_h]))
                    eu, ec = eps.chunk(2)
                    eps = eu + g * (ec - eu)
                else:
                    eps = predict(z, tt, text, image, ram_h)
                z0 = (z - s1(t) * eps) / sa(t)
                z0s.append(z0.clone())
                x = mods['vae_decoder'](z0 / SCALE)
                x = (x / 2 + 0.5).clamp(0, 1)
                for b, iid in enumerate(ids):
                    u8 = (x[b].permute(1, 2, 0).numpy() * 255).round().astype('uint8')
                    out = Image.fromarray(u8)
                    if case['fix'] == 'adain':
                        out = adain(out, conds[b])
                    elif case['fix'] == 'wavelet':
                        out = wavelet(out, conds[b])
                    ow, oh = lrs[b].size
                    out = out.resize((ow * 4, oh * 4))
                    name = f'{iid}_step{i + 1}.png'
                    out.save(os.path.join(d, name))
                    outs[iid][i + 1] = name
                if i < K - 1:
                    z = sa(ts[i + 1]) * z0 + s1(ts[i + 1]) * noise[f'step{i + 2}']
            with open(os.path.join(d, 'latents.bin'), 'wb') as f:  # per step, per image: x̂0
                for z0 in z0s:
                    f.write(z0.numpy().astype('<f4').tobytes())
        summary['cases'].append({**case, 'sizes': [list(s) for s in case['sizes']], 'images': ids, 'prompts': prompts,
                                 'tags': tags, 'latent': [H, W], 'outputs': outs, 'tag_margin': margin})
    with open(os.path.join(root, 'cases', 'expected.json'), 'w') as f:
        json.dump(summary, f, indent=1)


if __name__ == '__main__':
    main(sys.argv[1])
