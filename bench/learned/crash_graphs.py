"""Small ONNX graphs, each one pattern of the learned metrics' transformer
stand-ins, for narrowing down a provider failure (scripts/gpu/learned-diagnose.sh
runs each through `addsr-bench models probe` in a process of its own).

On an H200 with ONNX Runtime 1.29.0's CUDA plugin provider the MANIQA, MUSIQ
and CLIP stand-ins crashed (SIGSEGV at 0x5 in Run; "illegal memory access"
first reported at a fused BiasGelu node) where convolution-only graphs ran.
These graphs separate the suspects (on that H200 the one Slice crashed,
every other graph ran, slice_gather and slice_split included):
  gelu        MatMul + bias + erf-GELU (ORT fuses it into BiasGelu on CUDA)
  layernorm   residual Add + LayerNormalization (SkipLayerNorm fusion)
  shape       a Reshape whose shape is computed (Shape → Gather → Concat),
              the kind of node ORT leaves to the CPU, feeding CUDA nodes
  attention   multi-head self-attention with computed reshapes and Softmax
  mask        Equal / Where / ConstantOfShape on a computed shape (MUSIQ's mask)
  expand      Expand to a computed shape (the class token)
  slice       x[:, 1:] (Slice, constant starts/ends/axes), and the same as
              slice_gather (Gather of constant indices), slice_split (Split)
  reduce      ReduceL2, Clip, Div, ReduceMean (CLIP's normalisation)
  softplus    Softplus and Sigmoid (MANIQA's heads)
  avgpool     AveragePool (CLIP's anti-aliased strides)
All take and give float32 with a free batch axis.
  python3 bench/learned/crash_graphs.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

D, T, H = 64, 49, 4  # width, tokens, heads
rng = np.random.default_rng(0)


def const(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def w(name, *shape):
    return const(name, (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32))


def graph(name, nodes, inits, out_shape=('n', T, D)):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['n', T, D])],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, list(out_shape))], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='crash_graphs.py')
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def gelu(src, dst, p):
    """erf GELU as PyTorch exports it: x·0.5·(1 + erf(x/√2))."""
    return [helper.make_node('Div', [src, 'sqrt2'], [p + 'd']), helper.make_node('Erf', [p + 'd'], [p + 'e']),
            helper.make_node('Add', [p + 'e', 'one'], [p + 'a']), helper.make_node('Mul', [src, p + 'a'], [p + 'm']),
            helper.make_node('Mul', [p + 'm', 'half'], [dst])]


def scalars():
    return [const('sqrt2', np.float32(np.sqrt(2))), const('one', np.float32(1)), const('half', np.float32(0.5))]


def shape_of(src, p):
    """[n, T, D] of src, computed: Shape → Gather(0) → Concat with constants."""
    return [helper.make_node('Shape', [src], [p + 's']),
            helper.make_node('Gather', [p + 's', 'i0'], [p + 'n'], axis=0),
            helper.make_node('Unsqueeze', [p + 'n', 'ax0'], [p + 'n1'])]


def build():
    out = {}
    out['gelu'] = graph('gelu', [helper.make_node('MatMul', ['x', 'w1'], ['h']),
                                 helper.make_node('Add', ['h', 'b1'], ['hb'])] + gelu('hb', 'y', 'g'),
                        [w('w1', D, D), const('b1', np.full(D, 0.1, np.float32))] + scalars())
    out['layernorm'] = graph('layernorm', [helper.make_node('MatMul', ['x', 'w1'], ['h']),
                                           helper.make_node('Add', ['x', 'h'], ['r']),
                                           helper.make_node('LayerNormalization', ['r', 'g', 'b'], ['y'], axis=-1, epsilon=1e-6)],
                             [w('w1', D, D), const('g', np.ones(D, np.float32)), const('b', np.zeros(D, np.float32))])
    idx = [const('i0', np.int64(0)), const('ax0', np.array([0], np.int64))]
    out['shape'] = graph('shape', shape_of('x', 'a') + [
        helper.make_node('Concat', ['an1', 'rest'], ['shp'], axis=0),
        helper.make_node('Reshape', ['x', 'shp'], ['x2']),
        helper.make_node('MatMul', ['x2', 'w1'], ['h']),
        helper.make_node('Shape', ['x'], ['s2']),
        helper.make_node('Reshape', ['h', 's2'], ['y'])],
        [w('w1', D, D), const('rest', np.array([T, D], np.int64))] + idx)
    # Multi-head self-attention, reshapes computed as PyTorch exports them.
    heads = helper.make_node('Concat', ['an1', 'tok_heads'], ['hshape'], axis=0)
    att = shape_of('x', 'a') + [heads]
    for q in 'qkv':
        att += [helper.make_node('MatMul', ['x', 'w' + q], [q + '0']),
                helper.make_node('Reshape', [q + '0', 'hshape'], [q + '1']),
                helper.make_node('Transpose', [q + '1'], [q + '2'], perm=[0, 2, 1, 3])]
    att += [helper.make_node('Transpose', ['k2'], ['kt'], perm=[0, 1, 3, 2]),
            helper.make_node('MatMul', ['q2', 'kt'], ['s']),
            helper.make_node('Mul', ['s', 'scale'], ['ss']),
            helper.make_node('Softmax', ['ss'], ['p'], axis=-1),
            helper.make_node('MatMul', ['p', 'v2'], ['o']),
            helper.make_node('Transpose', ['o'], ['o1'], perm=[0, 2, 1, 3]),
            helper.make_node('Concat', ['an1', 'rest'], ['oshape'], axis=0),
            helper.make_node('Reshape', ['o1', 'oshape'], ['o2']),
            helper.make_node('MatMul', ['o2', 'wo'], ['ao']),
            helper.make_node('Add', ['x', 'ao'], ['r']),
            helper.make_node('LayerNormalization', ['r', 'g', 'b'], ['ln'], axis=-1, epsilon=1e-6),
            helper.make_node('MatMul', ['ln', 'w1'], ['m1']),
            helper.make_node('Add', ['m1', 'b1'], ['m1b'])] + gelu('m1b', 'mg', 'g') + [
            helper.make_node('MatMul', ['mg', 'w2'], ['m2']),
            helper.make_node('Add', ['r', 'm2'], ['y'])]
    out['attention'] = graph('attention', att, [w('wq', D, D), w('wk', D, D), w('wv', D, D), w('wo', D, D),
                                                w('w1', D, 2 * D), w('w2', 2 * D, D), const('b1', np.full(2 * D, 0.1, np.float32)),
                                                const('tok_heads', np.array([T, H, D // H], np.int64)),
                                                const('rest', np.array([T, D], np.int64)),
                                                const('scale', np.float32(1 / np.sqrt(D // H))),
                                                const('g', np.ones(D, np.float32)), const('b', np.zeros(D, np.float32))]
                             + idx + scalars())
    # MUSIQ's mask: tokens whose last value is 0 are masked out of the mean.
    out['mask'] = graph('mask', [
        helper.make_node('Shape', ['x'], ['s']),
        helper.make_node('ConstantOfShape', ['s'], ['z'], value=helper.make_tensor('v', TensorProto.FLOAT, [1], [0.0])),
        helper.make_node('Greater', ['x', 'z'], ['pos']),
        helper.make_node('Equal', ['pos', 'false'], ['neg']),
        helper.make_node('Where', ['neg', 'z', 'x'], ['relu']),
        helper.make_node('MatMul', ['relu', 'w1'], ['y'])],
        [w('w1', D, D), const('false', np.array(False))])
    # The class token expanded to the batch, concatenated in front.
    out['expand'] = graph('expand', shape_of('x', 'a') + [
        helper.make_node('Concat', ['an1', 'one_d'], ['cshape'], axis=0),
        helper.make_node('Expand', ['cls', 'cshape'], ['c']),
        helper.make_node('Concat', ['c', 'x'], ['xc'], axis=1),
        helper.make_node('MatMul', ['xc', 'w1'], ['y'])],
        [w('w1', D, D), const('cls', rng.standard_normal((1, 1, D)).astype(np.float32)),
         const('one_d', np.array([1, D], np.int64))] + idx, out_shape=('n', T + 1, D))
    # Ops of the static-shape CLIP and MANIQA graphs (which still crashed)
    # that the static-shape MUSIQ graph (which ran) has not: Slice is in
    # both; the others in one each.
    big = np.iinfo(np.int64).max
    tail = [helper.make_node('MatMul', ['xs', 'w1'], ['y'])]
    w1 = w('w1', D, D)  # one weight for the three slices: their outputs must match
    sl_inits = [w1, const('st', np.array([1], np.int64)), const('en', np.array([big], np.int64)),
                const('ax1', np.array([1], np.int64))]
    out['slice'] = graph('slice', [helper.make_node('Slice', ['x', 'st', 'en', 'ax1'], ['xs'])] + tail,
                         sl_inits, out_shape=('n', T - 1, D))
    # The same slice as a Gather of constant indices and as a Split: the
    # rewrites a provider whose Slice fails can run instead.
    out['slice_gather'] = graph('slice_gather', [helper.make_node('Gather', ['x', 'idx'], ['xs'], axis=1)] + tail,
                                [w1, const('idx', np.arange(1, T, dtype=np.int64))], out_shape=('n', T - 1, D))
    out['slice_split'] = graph('slice_split', [helper.make_node('Split', ['x', 'parts'], ['drop', 'xs'], axis=1)] + tail,
                               [w1, const('parts', np.array([1, T - 1], np.int64))], out_shape=('n', T - 1, D))
    out['reduce'] = graph('reduce', [helper.make_node('ReduceL2', ['x'], ['n2'], axes=[-1], keepdims=1),
                                     helper.make_node('Clip', ['n2', 'eps'], ['n3']),
                                     helper.make_node('Div', ['x', 'n3'], ['xn']),
                                     helper.make_node('ReduceMean', ['xn'], ['m'], axes=[1], keepdims=1),
                                     helper.make_node('Add', ['xn', 'm'], ['xs'])] + tail,
                          [w('w1', D, D), const('eps', np.float32(1e-6))])
    out['softplus'] = graph('softplus', [helper.make_node('Softplus', ['x'], ['a']), helper.make_node('Sigmoid', ['x'], ['b']),
                                         helper.make_node('Mul', ['a', 'b'], ['xs'])] + tail, [w('w1', D, D)])
    out['avgpool'] = graph('avgpool', [helper.make_node('AveragePool', ['x'], ['xs'], kernel_shape=[3], pads=[1, 1],
                                                        count_include_pad=0)] + tail, [w('w1', D, D)])
    return out


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for name, m in build().items():
        onnx.save(m, os.path.join(d, name + '.onnx'))
        print(f'{name}: {len(m.graph.node)} nodes → {d}/{name}.onnx')


if __name__ == '__main__':
    main()
