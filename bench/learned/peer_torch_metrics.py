"""The learned metrics side by side: full-size RANDOM-weight stand-ins
(bench/learned/standins.py) exported to ONNX for addsr-bench, and the same
modules run in PyTorch eager with pyiqa's preprocessing written with
torch.nn.functional, on the same images.

  python3 bench/learned/peer_torch_metrics.py export DIR [--names ...]
      builds each stand-in (seeded), writes DIR/NAME.onnx + DIR/NAME.json
      (the manifest addsr-bench's metrics load) and DIR/NAME.pt (its weights,
      so the torch side runs the very module that was exported).
  python3 bench/learned/peer_torch_metrics.py time DIR --dist D [--ref R]
      [--device cpu|cuda] [--names ...] [--threads N] [--json OUT]
      scores every image of D (LPIPS against R's image with the same stem)
      and prints per metric: ms per image (preprocessing + forward,
      synchronised, images already decoded), images/s over the set, and on
      CUDA the peak memory PyTorch allocated. --json writes the scores.
      --half runs the modules in float16 behind float32 inputs and outputs
      (the torch side of models/export/to_fp16.py's graphs).
  python3 bench/learned/peer_torch_metrics.py make-images DIR --size WxH --n N
      N reference images (random crops of datasets/samples, resized to cover
      WxH) in DIR/ref and distorted copies (blur + noise, seeded) in DIR/dist.
  python3 bench/learned/peer_torch_metrics.py compare OUT.json GO.jsonl
      the largest relative difference per metric between the torch scores
      and `addsr-bench score --format jsonl` output.

Runs with Debian's python3-torch 1.13 (CPU) and with torch 2.x on a GPU
machine (the legacy TorchScript exporter is asked for where both exist).
"""
import argparse, hashlib, json, math, os, sys, time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import standins  # noqa: E402  (puts models/export on the path too)
from common import export_onnx  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'metrics', 'testdata', 'nr'))
from pyiqa_torch import clip_input, maniqa_input, musiq_input  # noqa: E402  (pyiqa's preprocessing in torch)

METRIC = {'lpips-alex': 'lpips', 'lpips-vgg': 'lpips-vgg', 'maniqa-koniq': 'maniqa', 'musiq-koniq': 'musiq', 'clipiqa': 'clipiqa'}


class Half(torch.nn.Module):
    """net in float16 behind float32 inputs and outputs: PyTorch's side of
    the float16 graphs models/export/to_fp16.py makes of the stand-ins."""
    def __init__(self, net):
        super().__init__()
        self.net = net.half()

    def forward(self, *xs):
        out = self.net(*[x.half() for x in xs])
        if isinstance(out, tuple):
            return tuple(o.float() for o in out)
        return out.float()


def export(out, names):
    os.makedirs(out, exist_ok=True)
    for name in names:
        net = standins.build(name)
        torch.save(net.state_dict(), os.path.join(out, name + '.pt'))
        path = os.path.join(out, name + '.onnx')
        if name.startswith('lpips'):
            x = torch.rand(1, 3, 64, 64) * 2 - 1
            args, ins, outs, dyn = (x, x), ['img0', 'img1'], ['distance'], {'img0': {0: 'n', 2: 'h', 3: 'w'}, 'img1': {0: 'n', 2: 'h', 3: 'w'}}
        elif name == 'maniqa-koniq':
            args, ins, outs, dyn = ((torch.rand(20, 3, 224, 224) * 2 - 1,), ['image'], ['score', 'weight'],
                                    {'image': {0: 'crops'}, 'score': {0: 'crops'}, 'weight': {0: 'crops'}})
        elif name == 'musiq-koniq':
            t = torch.zeros(1, 200, 3075)
            t[..., -1] = 1
            args, ins, outs, dyn = (t,), ['tokens'], ['score'], {'tokens': {0: 'n', 1: 'seq'}, 'score': {0: 'n'}}
        else:
            args, ins, outs, dyn = (torch.rand(1, 3, 224, 256),), ['image'], ['score'], {'image': {0: 'n', 2: 'h', 3: 'w'}, 'score': {0: 'n'}}
        with torch.no_grad():
            export_onnx(net, args, path, input_names=ins, output_names=outs, opset_version=17, dynamic_axes=dyn)
        with open(path, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        man = {'name': name, 'kind': 'metric', 'metric': METRIC[name], 'scale': 0,
               'input': {'name': ins[0], 'layout': 'NCHW', 'range': [-1, 1], 'colour': 'RGB'},
               'output': {'name': outs[0], 'layout': 'N', 'range': [0, 1]},
               'dtype': 'fp32', 'sha256': digest,
               'license': 'benchmark stand-in (random weights, not a metric)',
               'source': f'bench/learned/standins.py build({name!r}), torch {torch.__version__}'}
        with open(os.path.join(out, name + '.json.tmp'), 'w') as f:
            json.dump(man, f, indent=2)
        os.replace(os.path.join(out, name + '.json.tmp'), os.path.join(out, name + '.json'))
        n = sum(p.numel() for p in net.parameters())
        print(f'{name}: {n / 1e6:.1f} M parameters, {os.path.getsize(path) / 1e6:.0f} MB → {path}', flush=True)


def score_fn(name, net):
    if name.startswith('lpips'):
        return lambda x, r: net(x * 2 - 1, r * 2 - 1)[0]
    if name == 'maniqa-koniq':
        def f(x, _):
            s, w = net(maniqa_input(x))
            return (w * s).sum() / (w.sum() + 1e-8)
        return f
    if name == 'musiq-koniq':
        return lambda x, _: net(musiq_input(x))[0]
    return lambda x, _: net(clip_input(x))[0]


def load(path):
    a = np.asarray(Image.open(path).convert('RGB'), np.float32) / 255
    return torch.from_numpy(a).permute(2, 0, 1)[None].contiguous()


def stem(f):
    return os.path.splitext(f)[0]


def time_metrics(a):
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    files = sorted(f for f in os.listdir(a.dist) if f.lower().endswith(('.png', '.jpg', '.jpeg')))
    dev = torch.device(a.device)
    t0 = time.perf_counter()
    dist = [load(os.path.join(a.dist, f)) for f in files]
    refs = None
    if a.ref:
        by = {stem(f): f for f in os.listdir(a.ref)}
        refs = [load(os.path.join(a.ref, by[stem(f)])) for f in files]
    decode = time.perf_counter() - t0
    h, w = dist[0].shape[-2:]
    print(f'torch {torch.__version__} on {torch.cuda.get_device_name() if dev.type == "cuda" else "cpu"} '
          f'({torch.get_num_threads()} threads), {len(files)} images, first {w}x{h}; PIL decode {1000 * decode / len(files):.1f} ms/image', flush=True)
    scores = {}
    for name in a.names:
        if name.startswith('lpips') and refs is None:
            continue
        net = standins.build(name)
        net.load_state_dict(torch.load(os.path.join(a.models, name + '.pt')))
        net = net.to(dev).eval()
        if a.half:
            net = Half(net)
        f = score_fn(name, net)
        sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
        if dev.type == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        with torch.no_grad():
            for _ in range(a.warmup):
                f(dist[0].to(dev), refs[0].to(dev) if refs else None)
            sync()
            per, vals = [], {}
            t0 = time.perf_counter()
            for i, x in enumerate(dist):
                t = time.perf_counter()
                v = f(x.to(dev), refs[i].to(dev) if refs else None)
                vals[stem(files[i])] = float(v)  # .item() synchronises
                per.append(time.perf_counter() - t)
            total = time.perf_counter() - t0
        mem = f', peak {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB allocated' if dev.type == 'cuda' else ''
        print(f'  {METRIC[name]:<10} torch eager{" fp16" if a.half else ""}: median {1000 * np.median(per):8.1f} ms/image, '
              f'{len(files) / total:7.2f} images/s over {len(files)}{mem}', flush=True)
        scores[METRIC[name]] = vals
        del net
        if dev.type == 'cuda':
            torch.cuda.empty_cache()
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump(scores, fh, indent=1)


def make_images(a):
    from PIL import ImageFilter
    w, h = (int(v) for v in a.size.lower().split('x'))
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'datasets', 'samples')
    photos = sorted(os.path.join(src, f) for f in os.listdir(src) if f.lower().endswith(('.png', '.jpg')))
    rng = np.random.default_rng(1)
    for d in ('ref', 'dist'):
        os.makedirs(os.path.join(a.out, d), exist_ok=True)
    for i in range(a.n):
        im = Image.open(photos[i % len(photos)]).convert('RGB')
        s = max(w / im.width, h / im.height) * (1 + rng.uniform(0, 0.3))
        im = im.resize((max(w, round(im.width * s)), max(h, round(im.height * s))), Image.BICUBIC)
        x, y = rng.integers(0, im.width - w + 1), rng.integers(0, im.height - h + 1)
        ref = im.crop((x, y, x + w, y + h))
        dist = np.asarray(ref.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2))), np.float32)
        dist = np.clip(dist + rng.normal(0, rng.uniform(2, 10), dist.shape), 0, 255).round().astype(np.uint8)
        ref.save(os.path.join(a.out, 'ref', f'{i:03d}.png'))
        Image.fromarray(dist).save(os.path.join(a.out, 'dist', f'{i:03d}.png'))
    print(f'{a.n} pairs of {w}x{h} in {a.out}/ref and {a.out}/dist')


def compare(a):
    want = json.load(open(a.torch_json))
    got, other = {}, 0
    for line in open(a.go_jsonl):
        if not line.lstrip().startswith('{'):
            other += 1  # not a record (a crashed run's output, say)
            continue
        r = json.loads(line)
        for k, v in r.items():
            if k != 'image' and isinstance(v, (int, float)):
                got.setdefault(k, {})[r['image']] = v
    if other:
        print(f'  ({other} lines of {a.go_jsonl} are not records; left out)')
    worst_all = 0.0
    for metric, vals in want.items():
        worst, where = 0.0, None
        for img, v in vals.items():
            g = got.get(metric, {}).get(img)
            if g is None:
                worst, where = math.inf, img
                continue
            d = abs(g - v) / max(abs(v), 1e-12)
            if d > worst:
                worst, where = d, img
        worst_all = max(worst_all, worst)
        n = len(got.get(metric, {}))
        if n < len(vals):
            print(f'  {metric:<10} Go + ONNX: {n} of {len(vals)} images scored (none to compare for {where} and others)')
            continue
        print(f'  {metric:<10} Go + ONNX vs torch: largest relative difference {worst:.2e} ({where}), {len(vals)} images')
    if a.tol and worst_all > a.tol:
        print(f'FAILED: above {a.tol:g}')
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    e = sub.add_parser('export')
    e.add_argument('out')
    e.add_argument('--names', nargs='+', default=standins.NAMES)
    t = sub.add_parser('time')
    t.add_argument('models')
    t.add_argument('--dist', required=True)
    t.add_argument('--ref')
    t.add_argument('--device', default='cpu')
    t.add_argument('--names', nargs='+', default=standins.NAMES)
    t.add_argument('--warmup', type=int, default=2)
    t.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: torch default)')
    t.add_argument('--json')
    t.add_argument('--half', action='store_true', help='the modules in float16 behind float32 inputs and outputs')
    m = sub.add_parser('make-images')
    m.add_argument('out')
    m.add_argument('--size', required=True)
    m.add_argument('--n', type=int, default=100)
    c = sub.add_parser('compare')
    c.add_argument('torch_json')
    c.add_argument('go_jsonl')
    c.add_argument('--tol', type=float, default=0)
    a = ap.parse_args()
    {'export': lambda: export(a.out, a.names), 'time': lambda: time_metrics(a), 'compare': lambda: compare(a),
     'make-images': lambda: make_images(a)}[a.cmd]()


if __name__ == '__main__':
    main()
