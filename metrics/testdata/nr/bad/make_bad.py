"""MANIQA fixtures whose outputs are not (score, weight) in that order:
'swapped' lists weight first (the metric must take outputs by name and score
the same); 'renamed' calls them out0/out1 (the metric must refuse it).

    /usr/bin/python3 metrics/testdata/nr/bad/make_bad.py
"""
import hashlib, json, os
import onnx

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, '..', 'maniqa-koniq.onnx')
man = json.load(open(os.path.join(here, '..', 'maniqa-koniq.json')))
for name in ['swapped', 'renamed']:
    m = onnx.load(src)
    outs = list(m.graph.output)
    if name == 'swapped':
        del m.graph.output[:]
        m.graph.output.extend([outs[1], outs[0]])
    else:
        rename = {outs[0].name: 'out0', outs[1].name: 'out1'}
        for n in m.graph.node:
            for i, o in enumerate(n.output):
                if o in rename:
                    n.output[i] = rename[o]
        for o in m.graph.output:
            o.name = rename[o.name]
    d = os.path.join(here, name)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, 'maniqa-koniq.onnx')
    onnx.save(m, p)
    mm = dict(man, sha256=hashlib.sha256(open(p, 'rb').read()).hexdigest(), source='metrics/testdata/nr/bad/make_bad.py')
    json.dump(mm, open(os.path.join(d, 'maniqa-koniq.json'), 'w'), indent=2)
