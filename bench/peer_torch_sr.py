"""PyTorch eager timing of the same Real-ESRGAN weights the Go ONNX runner
uses, for side-by-side numbers on a GPU machine.

  python3 bench/peer_torch_sr.py NCNN_DIR MODEL LR_DIR
  python3 bench/peer_torch_sr.py --export DIR/random-x4plus.onnx random-x4plus
  python3 bench/peer_torch_sr.py --export DIR/random-x4plus-fp16.onnx random-x4plus-fp16   (CUDA)
  python3 bench/peer_torch_sr.py DIR random-x4plus LR_DIR

MODEL random-x4plus / random-x4fast is the architecture with seeded random
weights (exported by --export with its manifest and weights), for timing on
a device the real weights cannot reach.

Per image: host→device copy, forward, device→host copy, synchronised (the Go
runner's figure includes its host copies too). Prints the median over 50
single-image runs after 10 warm-ups, and the throughput over every image of
LR_DIR one at a time and in batches of 8 and 32, for fp32 and for fp16
autocast.
"""
import os, sys, time
import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts', 'reference'))
import validate_realesrgan as v

def random_net(model):
    """The architecture of MODEL (random-x4plus: RRDBNet, random-x4fast:
    SRVGGNetCompact) with seeded random weights, scaled as Real-ESRGAN's own
    initialisation scales them (×0.1), so activations stay in range: the
    same shapes and work as the real model, for timing where its 33 MB of
    weights cannot travel."""
    torch.manual_seed(0)
    net = v.RRDBNet() if 'x4plus' in model else v.SRVGGNetCompact(32)
    with torch.no_grad():
        for m in net.convs():
            m.weight.mul_(0.1); m.bias.zero_()
    return net.eval()


def export_random(model, path):
    """Writes random_net(model) as PATH (ONNX, free batch and size) with the
    manifest addsr-bench's ONNX runner reads. MODEL ending in -fp16 (say
    random-x4plus-fp16) writes the same weights as a float16 graph (weights,
    input and output in float16, as `import-ncnn --fp16` writes), traced on
    CUDA: PyTorch's CPU convolutions have no float16 in torch 1.13."""
    import hashlib, inspect, json
    fp16 = model.endswith('-fp16')
    net = random_net(model)
    x = torch.rand(1, 3, 32, 32)
    if fp16:
        if not torch.cuda.is_available():
            sys.exit(f'{model}: the float16 export runs on CUDA (no CUDA device here)')
        net, x = net.half().cuda(), x.half().cuda()
    kw = {'dynamo': False} if 'dynamo' in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(net, (x,), path, input_names=['lr'], output_names=['sr'], opset_version=17,
                          dynamic_axes={'lr': {0: 'n', 2: 'h', 3: 'w'}, 'sr': {0: 'n', 2: 'H', 3: 'W'}}, **kw)
    torch.save(random_net(model).state_dict(), path[:-5] + '.pt')
    io = lambda name: {'name': name, 'layout': 'NCHW', 'range': [0, 1], 'colour': 'RGB'}
    man = {'name': model, 'kind': 'sr', 'scale': 4, 'input': io('lr'), 'output': io('sr'), 'dtype': 'fp16' if fp16 else 'fp32',
           'sha256': hashlib.sha256(open(path, 'rb').read()).hexdigest(),
           'license': 'benchmark stand-in (random weights)', 'source': f'bench/peer_torch_sr.py random_net({model!r})'}
    json.dump(man, open(path[:-5] + '.json', 'w'), indent=2)
    print('wrote', path)


def main():
    if sys.argv[1] == '--export':
        return export_random(sys.argv[3], sys.argv[2])
    ncnn_dir, model, lr_dir = sys.argv[1:4]
    if model.startswith('random-'):
        net = random_net(model)
        net.load_state_dict(torch.load(os.path.join(ncnn_dir, model + '.pt')))
    else:
        convs, slopes = v.read_ncnn(os.path.join(ncnn_dir, model + '.param'), os.path.join(ncnn_dir, model + '.bin'))
        net = v.RRDBNet() if 'x4plus' in model else v.SRVGGNetCompact(len(convs) - 2)
        with torch.no_grad():
            for m, (w, b) in zip(net.convs(), convs):
                m.weight.copy_(torch.from_numpy(w)); m.bias.copy_(torch.from_numpy(b))
            for a, s in zip(getattr(net, 'a', []), slopes):
                a.weight.copy_(torch.from_numpy(s))
    # CUDA where there is one; the CPU only for a dry run of the scripts.
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    sync = torch.cuda.synchronize if dev == 'cuda' else (lambda: None)
    net = net.to(dev).eval()
    imgs = [np.ascontiguousarray(np.asarray(Image.open(os.path.join(lr_dir, f)).convert('RGB'), np.float32).transpose(2, 0, 1) / 255)
            for f in sorted(os.listdir(lr_dir))]
    name = torch.cuda.get_device_name() if dev == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    print(f'torch {torch.__version__}, {name}, {len(imgs)} images of {imgs[0].shape[2]}x{imgs[0].shape[1]}')
    modes = [('fp32 eager', torch.autocast(dev, enabled=False))]
    if dev == 'cuda':
        modes.append(('fp16 autocast', torch.autocast('cuda', dtype=torch.float16)))
    for label, ctx in modes:
        def one(x):
            with torch.no_grad(), ctx:
                y = net(torch.from_numpy(x)[None].to(dev))
            return y.float().cpu().numpy()
        for _ in range(10):
            one(imgs[0])
        sync()
        ts = []
        for _ in range(50):
            t = time.perf_counter(); one(imgs[0]); sync(); ts.append(time.perf_counter() - t)
        t = time.perf_counter()
        for x in imgs:
            one(x)
        sync()
        total = time.perf_counter() - t
        print(f'{model} torch {label}: median {1000 * np.median(ts):.2f} ms/image (single), '
              f'{len(imgs) / total:.1f} images/s over {len(imgs)} ({1000 * total / len(imgs):.2f} ms/image)')
        # Batched: B images stacked per forward (all LR images share a size).
        for bs in (8, 32):
            def many(xs):
                with torch.no_grad(), ctx:
                    y = net(torch.from_numpy(np.stack(xs)).to(dev))
                return y.float().cpu().numpy()
            for _ in range(3):
                many(imgs[:bs])
            sync()
            t = time.perf_counter()
            for b in range(0, len(imgs), bs):
                many(imgs[b:b + bs])
            sync()
            total = time.perf_counter() - t
            print(f'{model} torch {label} batch {bs}: {len(imgs) / total:.1f} images/s over {len(imgs)} '
                  f'({1000 * total / len(imgs):.2f} ms/image)')

if __name__ == '__main__':
    main()
