"""Experiment for the SR speed goal: RRDBNet's dense blocks spend 43% of
ONNX Runtime's CUDA kernel time in Concat (float16, NHWC, batch 25, H200,
2026-11-26). A convolution of a concatenation is the sum of convolutions of
its parts with the weight cut along input channels:

    Conv(Concat(x0, x1, …), W, b) = Conv(x0, W[:, c0]) + Conv(x1, W[:, c1]) + … + b

This writes that form of a graph, so that the two can be timed side by
side (the same outputs up to rounding; more, smaller convolutions and the
sums instead of the copies).

  python3 bench/concat_split.py IN.onnx OUT.onnx

Only a Concat along axis 1 whose one consumer is a Conv with constant
weights (and group 1) is rewritten; the manifest beside IN (IN.json) is
copied with the new SHA-256.
"""
import hashlib, json, os, sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def split(model):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    shapes = {}  # channels of each tensor, from the weights that made it
    for n in g.node:
        if n.op_type == 'Conv' and n.input[1] in inits:
            shapes[n.output[0]] = inits[n.input[1]].dims[0]
    producer = {o: n for n in g.node for o in n.output}
    count, out = 0, []
    for n in g.node:
        if n.op_type == 'Concat' and [a.i for a in n.attribute if a.name == 'axis'] == [1]:
            cs = consumers.get(n.output[0], [])
            if len(cs) == 1 and cs[0].op_type == 'Conv' and cs[0].input[1] in inits and \
                    all(a.name != 'group' or a.i == 1 for a in cs[0].attribute):
                widths = []
                for x in n.input:
                    c = channels(x, shapes, producer, inits, g)
                    if c is None:
                        widths = None
                        break
                    widths.append(c)
                if widths:
                    out.append(('split', n, cs[0], widths))
                    count += 1
                    continue
        out.append(('keep', n))
    nodes = []
    skip = {e[2].name for e in out if e[0] == 'split'}  # node names: protobuf wrappers have no stable id()
    for e in out:
        if e[0] == 'keep':
            if e[1].name not in skip:
                c = onnx.NodeProto()
                c.CopyFrom(e[1])  # a copy: the graph's own nodes are cleared below
                nodes.append(c)
            continue
        _, cat, conv, widths = e
        w = numpy_helper.to_array(inits[conv.input[1]])
        attrs = list(conv.attribute)
        parts, c0 = [], 0
        for k, (x, c) in enumerate(zip(cat.input, widths)):
            wn = f'{conv.name}_w{k}'
            g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(w[:, c0:c0 + c]), wn))
            c0 += c
            ins = [x, wn] + ([conv.input[2]] if k == 0 and len(conv.input) > 2 else [])
            o = conv.output[0] if len(widths) == 1 else f'{conv.output[0]}_p{k}'
            node = helper.make_node('Conv', ins, [o], name=f'{conv.name}_p{k}')
            node.attribute.extend(attrs)
            nodes.append(node)
            parts.append(o)
        assert c0 == w.shape[1], (conv.name, c0, w.shape)
        acc = parts[0]
        for k, p in enumerate(parts[1:], 1):
            o = conv.output[0] if k == len(parts) - 1 else f'{conv.output[0]}_s{k}'
            nodes.append(helper.make_node('Add', [acc, p], [o], name=f'{conv.name}_add{k}'))
            acc = o
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    return count


def channels(x, shapes, producer, inits, g):
    """Channels of tensor x: a Conv's output channels, or through
    elementwise nodes (LeakyRelu, Add, Mul) to one."""
    seen = 0
    while x not in shapes and seen < 8:
        n = producer.get(x)
        if n is None:
            for i in g.input:
                if i.name == x:
                    d = i.type.tensor_type.shape.dim[1]
                    return d.dim_value or None
            return None
        if n.op_type not in ('LeakyRelu', 'Relu', 'Add', 'Mul', 'Cast', 'Identity'):
            return None
        x = next((i for i in n.input if i not in inits), None)
        seen += 1
    return shapes.get(x)


def main():
    src, dst = sys.argv[1:3]
    m = onnx.load(src)
    n = split(m)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    print(f'{src}: {n} Concat→Conv pairs as sums of convolutions → {dst}')
    man = src[:-5] + '.json'
    if os.path.exists(man):
        j = json.load(open(man))
        j['sha256'] = hashlib.sha256(open(dst, 'rb').read()).hexdigest()
        j['name'] = j.get('name', '') + '-split'
        json.dump(j, open(dst[:-5] + '.json', 'w'), indent=2)


if __name__ == '__main__':
    main()
