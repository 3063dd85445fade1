"""Experiment: how much of a learned metric's time on a GPU is the host
launching ONNX Runtime's kernels one by one? ONNX Runtime's profile of the
MUSIQ stand-in (H200, 2026-11-26) showed ~600 nodes a run, 154 of them
Reshape, and node launches summing to 7.4 of the run's 9.7 ms: launch-bound.
A CUDA graph replays the whole run as one launch. This times, in Python's
onnxruntime with its CUDA provider (not the Go path), each stand-in with
its input dims pinned (as ADDSR_BENCH_ORT_STATIC_SHAPES=1 pins them):
host tensors through run(), inputs and outputs bound on the device, and the
same with enable_cuda_graph=1.

  python3 bench/learned/cuda_graph_potential.py STANDINS_DIR [--names musiq-koniq …] [--runs 50]

Shapes are those of one 512² image (MANIQA: its 20 crops of 224²).
"""
import argparse, os, statistics, sys, time

import numpy as np
import onnx

SHAPES = {  # name → {input: shape} for one 512² image
    'musiq-koniq': {'tokens': [1, 49 + 144 + 256, 3075]},
    'maniqa-koniq': {'image': [20, 3, 224, 224]},
    'clipiqa': {'image': [1, 3, 512, 512]},
    'lpips-alex': {'img0': [1, 3, 512, 512], 'img1': [1, 3, 512, 512]},
}


def pinned(path, shapes):
    m = onnx.load(path)
    for i in m.graph.input:
        if i.name in shapes:
            for d, v in zip(i.type.tensor_type.shape.dim, shapes[i.name]):
                d.ClearField('dim_param')
                d.dim_value = v
    return m.SerializeToString()


def inputs(name, shapes):
    rng = np.random.default_rng(0)
    out = {}
    for k, s in shapes.items():
        x = rng.uniform(-1, 1, s).astype(np.float32)
        if name == 'musiq-koniq':  # scale ids 0..2, mask 1
            x[..., -2] = np.repeat([0, 1, 2], [49, 144, 256])[None]
            x[..., -3] = rng.integers(0, 100, s[:2])
            x[..., -1] = 1
        out[k] = x
    return out


def median_ms(fn, runs):
    for _ in range(3):
        fn()
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(t)


def main():
    import onnxruntime as ort
    ap = argparse.ArgumentParser()
    ap.add_argument('dir')
    ap.add_argument('--names', nargs='+', default=list(SHAPES))
    ap.add_argument('--runs', type=int, default=50)
    a = ap.parse_args()
    print(f'onnxruntime {ort.__version__}, providers {ort.get_available_providers()}')
    if 'CUDAExecutionProvider' not in ort.get_available_providers():
        print('no CUDAExecutionProvider in this onnxruntime: nothing to time')
        return
    for name in a.names:
        path = os.path.join(a.dir, name + '.onnx')
        if not os.path.exists(path):
            print(f'{name}: {path} missing')
            continue
        shapes = SHAPES[name]
        model = pinned(path, shapes)
        feed = inputs(name, shapes)
        row = []
        for graph in ('0', '1'):
            try:
                so = ort.SessionOptions()
                s = ort.InferenceSession(model, so, providers=[('CUDAExecutionProvider', {'enable_cuda_graph': graph}), 'CPUExecutionProvider'])
                outs = s.run(None, feed)
                onames = [o.name for o in s.get_outputs()]
                if graph == '0':
                    row.append(('host tensors', median_ms(lambda: s.run(None, feed), a.runs)))
                io = s.io_binding()
                vals = {k: ort.OrtValue.ortvalue_from_numpy(v, 'cuda', 0) for k, v in feed.items()}
                ovals = [ort.OrtValue.ortvalue_from_shape_and_type(o.shape, o.dtype, 'cuda', 0) for o in outs]
                for k, v in vals.items():
                    io.bind_ortvalue_input(k, v)
                for k, v in zip(onames, ovals):
                    io.bind_ortvalue_output(k, v)

                def bound():
                    s.run_with_iobinding(io)
                    io.synchronize_outputs()
                ms = median_ms(bound, a.runs)
                got = ovals[0].numpy()
                diff = float(np.max(np.abs(got - outs[0])) / max(np.max(np.abs(outs[0])), 1e-12))
                row.append(('device-bound' + (', CUDA graph' if graph == '1' else ''), ms, diff))
            except Exception as e:  # noqa: BLE001 - report and go on
                row.append((f'enable_cuda_graph={graph}', float('nan'), str(e).splitlines()[0][:160]))
        print(f'{name} ({os.path.basename(a.dir)}), one 512² image:')
        for r in row:
            extra = '' if len(r) < 3 else (f'  (max rel diff to run(): {r[2]:.1e})' if isinstance(r[2], float) else f'  {r[2]}')
            print(f'  {r[0]:<26} median {r[1]:7.2f} ms{extra}', flush=True)


if __name__ == '__main__':
    main()
