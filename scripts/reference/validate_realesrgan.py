"""Validates the Go ncnn→ONNX conversion of Real-ESRGAN against the published
architectures run in PyTorch with the same weights.

The weights are read from the ncnn .bin here, independently of the Go code
(fp16 blobs behind the 0x01306B47 flag, fp32 biases and PReLU slopes), loaded
into RRDBNet (x4plus: 64 features, 23 RRDB blocks, growth 32) or
SRVGGNetCompact (x4fast: 64 features, 32 convs, PReLU, pixel shuffle ×4), as
Real-ESRGAN defines them, and run on LR images. The outputs, rounded to 8
bits, are compared with the PNGs `addsr-bench sr` wrote for the same inputs.

  /usr/bin/python3 scripts/reference/validate_realesrgan.py NCNN_DIR MODEL LR_DIR GO_SR_DIR [--device cuda]
"""
import os, struct, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

def read_ncnn(param, binf):
    layers = [l.split() for l in open(param).read().splitlines()[2:] if l.strip()]
    data = open(binf, 'rb').read()
    off = 0
    convs, slopes = [], []
    def raw(n):
        nonlocal off
        v = np.frombuffer(data, '<f4', n, off); off += 4 * n; return v
    for f in layers:
        typ = f[0]
        nb, nt = int(f[2]), int(f[3])
        params = dict(kv.split('=') for kv in f[4 + nb + nt:])
        if typ == 'Convolution':
            out, k, size = int(params['0']), int(params['1']), int(params['6'])
            flag = struct.unpack_from('<I', data, off)[0]; off += 4
            if flag == 0x01306B47:
                w = np.frombuffer(data, '<f2', size, off).astype(np.float32); off += (2 * size + 3) // 4 * 4
            elif flag == 0:
                w = raw(size).copy()
            else:
                raise SystemExit('unsupported weight flag %#x' % flag)
            w = w.reshape(out, size // (out * k * k), k, k)
            b = raw(out).copy() if params.get('5', '0') == '1' else np.zeros(out, np.float32)
            convs.append((w, b))
        elif typ == 'PReLU':
            slopes.append(raw(int(params['0'])).copy())
    assert off == len(data), 'unused weight bytes'
    return convs, slopes

class RDB(nn.Module):
    def __init__(s, nf=64, gc=32):
        super().__init__()
        s.c = nn.ModuleList([nn.Conv2d(nf + i * gc, gc if i < 4 else nf, 3, 1, 1) for i in range(5)])
    def forward(s, x):
        feats = [x]
        for i, c in enumerate(s.c):
            y = c(torch.cat(feats, 1))
            if i < 4:
                feats.append(F.leaky_relu(y, 0.2))
        return y * 0.2 + x

class RRDB(nn.Module):
    def __init__(s):
        super().__init__(); s.r = nn.ModuleList([RDB() for _ in range(3)])
    def forward(s, x):
        y = x
        for r in s.r:
            y = r(y)
        return y * 0.2 + x

class RRDBNet(nn.Module):
    def __init__(s, nb=23):
        super().__init__()
        s.first = nn.Conv2d(3, 64, 3, 1, 1)
        s.body = nn.ModuleList([RRDB() for _ in range(nb)])
        s.conv_body = nn.Conv2d(64, 64, 3, 1, 1)
        s.up1 = nn.Conv2d(64, 64, 3, 1, 1); s.up2 = nn.Conv2d(64, 64, 3, 1, 1)
        s.hr = nn.Conv2d(64, 64, 3, 1, 1); s.last = nn.Conv2d(64, 3, 3, 1, 1)
    def convs(s):
        out = [s.first]
        for b in s.body:
            for r in b.r:
                out += list(r.c)
        return out + [s.conv_body, s.up1, s.up2, s.hr, s.last]
    def forward(s, x):
        f = s.first(x)
        y = f
        for b in s.body:
            y = b(y)
        f = f + s.conv_body(y)
        f = F.leaky_relu(s.up1(F.interpolate(f, scale_factor=2, mode='nearest')), 0.2)
        f = F.leaky_relu(s.up2(F.interpolate(f, scale_factor=2, mode='nearest')), 0.2)
        return s.last(F.leaky_relu(s.hr(f), 0.2))

class SRVGGNetCompact(nn.Module):
    def __init__(s, nconv=32):
        super().__init__()
        s.c = nn.ModuleList([nn.Conv2d(3, 64, 3, 1, 1)] + [nn.Conv2d(64, 64, 3, 1, 1) for _ in range(nconv)] + [nn.Conv2d(64, 48, 3, 1, 1)])
        s.a = nn.ModuleList([nn.PReLU(64) for _ in range(nconv + 1)])
    def convs(s):
        return list(s.c)
    def forward(s, x):
        y = x
        for i, c in enumerate(s.c[:-1]):
            y = s.a[i](c(y))
        y = F.pixel_shuffle(s.c[-1](y), 4)
        return y + F.interpolate(x, scale_factor=4, mode='nearest')

def main():
    ncnn_dir, model, lr_dir, go_dir = sys.argv[1:5]
    dev = 'cuda' if '--device' in sys.argv and sys.argv[sys.argv.index('--device') + 1] == 'cuda' else 'cpu'
    convs, slopes = read_ncnn(os.path.join(ncnn_dir, model + '.param'), os.path.join(ncnn_dir, model + '.bin'))
    net = RRDBNet() if 'x4plus' in model else SRVGGNetCompact(len(convs) - 2)
    mods = net.convs()
    assert len(mods) == len(convs), (len(mods), len(convs))
    with torch.no_grad():
        for m, (w, b) in zip(mods, convs):
            assert tuple(m.weight.shape) == w.shape, (m.weight.shape, w.shape)
            m.weight.copy_(torch.from_numpy(w)); m.bias.copy_(torch.from_numpy(b))
        for a, s in zip(getattr(net, 'a', []), slopes):
            a.weight.copy_(torch.from_numpy(s))
    net = net.to(dev).eval()
    worst = 1e9
    for name in sorted(os.listdir(lr_dir)):
        lr = np.asarray(Image.open(os.path.join(lr_dir, name)).convert('RGB'), np.float32) / 255
        with torch.no_grad():
            y = net(torch.from_numpy(lr).permute(2, 0, 1)[None].to(dev))[0].permute(1, 2, 0).cpu().numpy()
        ref = np.round(np.clip(y, 0, 1) * 255)
        go = np.asarray(Image.open(os.path.join(go_dir, os.path.splitext(name)[0] + '.png')).convert('RGB'), np.float64)
        mse = np.mean((ref - go) ** 2)
        psnr = float('inf') if mse == 0 else 10 * np.log10(255 ** 2 / mse)
        worst = min(worst, psnr)
        print(f'{model} {name}: PSNR(torch {dev}, addsr-bench ONNX) = {psnr:.2f} dB, max |diff| = {np.abs(ref - go).max():.0f}')
    print(f'{model}: worst {worst:.2f} dB')
    sys.exit(0 if worst >= 45 else 1)

if __name__ == '__main__':
    main()
