"""Writes tiny.param/tiny.bin, an ncnn model that uses every layer type the
importer supports, and tiny_expected.json: its output on a seeded input,
computed with torch.nn.functional (an implementation independent of the Go
converter and of ONNX Runtime).

Run: /usr/bin/python3 models/ncnn/testdata/make_tiny.py
"""
import json, os, struct
import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(8)
blobs = bytearray()

def conv_weights(out, inp, k, fp16, bias=True):
    w = (rng.standard_normal((out, inp, k, k)) * 0.3).astype(np.float32)
    if fp16:
        h = w.astype(np.float16)
        blobs.extend(struct.pack('<I', 0x01306B47)); blobs.extend(h.tobytes())
        if len(h.tobytes()) % 4:
            blobs.extend(b'\0' * (4 - len(h.tobytes()) % 4))
        w = h.astype(np.float32)
    else:
        blobs.extend(struct.pack('<I', 0)); blobs.extend(w.tobytes())
    b = (rng.standard_normal(out) * 0.1).astype(np.float32)
    if bias:
        blobs.extend(b.tobytes())
    return torch.from_numpy(w), torch.from_numpy(b) if bias else None

x = torch.from_numpy(rng.uniform(0, 1, (1, 3, 6, 5)).astype(np.float32))
L = []
# conv0: 3→4, 3x3, pad 1, fp16 weights, fused leaky relu 0.1
w0, b0 = conv_weights(4, 3, 3, True)
L.append('Convolution conv0 1 1 data c0 0=4 1=3 4=1 5=1 6=108 9=2 -23310=1,1.000000e-01')
c0 = F.leaky_relu(F.conv2d(x, w0, b0, padding=1), 0.1)
L.append('Split split0 1 3 c0 c0a c0b c0c')
# conv1: depthwise 4 groups, fp32, fused relu; conv2: 1x1 fp32 with clip
w1, b1 = conv_weights(4, 1, 3, False)
L.append('ConvolutionDepthWise dw1 1 1 c0a d1 0=4 1=3 4=1 5=1 6=36 7=4 9=1')
d1 = F.relu(F.conv2d(c0, w1, b1, padding=1, groups=4))
w2, b2 = conv_weights(4, 4, 1, False)
L.append('Convolution conv2 1 1 c0b d2 0=4 1=1 5=1 6=16 9=3 -23310=2,-2.000000e-01,5.000000e-01')
d2 = torch.clamp(F.conv2d(c0, w2, b2), -0.2, 0.5)
L.append('Eltwise sum3 2 1 d1 d2 e3 0=1 -23301=2,2.000000e-01,1.000000e+00')
e3 = 0.2 * d1 + d2
L.append('Eltwise prod4 2 1 e3 c0c e4 0=0')
e4 = e3 * c0
L.append('Eltwise max5 2 1 e4 d2 e5 0=2')
e5 = torch.maximum(e4, d2)
L.append('Concat cat6 2 1 e5 e4 k6 0=0')
k6 = torch.cat([e5, e4], 1)
w7, _ = conv_weights(8, 8, 3, True, bias=False)
L.append('Convolution conv7 1 1 k6 c7 0=8 1=3 4=1 5=0 6=576 9=4')
c7 = torch.sigmoid(F.conv2d(k6, w7, None, padding=1))
L.append('PixelShuffle ps8 1 1 c7 p8 0=2')
p8 = F.pixel_shuffle(c7, 2)                                   # 2 channels, 12x10
slope = (rng.uniform(0, 0.5, 2)).astype(np.float32)
blobs.extend(slope.tobytes())
L.append('PReLU prelu9 1 1 p8 r9 0=2')
r9 = F.prelu(p8, torch.from_numpy(slope))
L.append('ReLU leaky10 1 1 r9 r10 0=5.000000e-02')
r10 = F.leaky_relu(r9, 0.05)
L.append('Padding pad11 1 1 r10 q11 0=1 1=2 2=0 3=1 4=0 5=2.500000e-01')
q11 = F.pad(r10, (0, 1, 1, 2), value=0.25)
L.append('Padding pad12 1 1 q11 q12 0=1 1=1 2=1 3=1 4=1')
q12 = F.pad(q11, (1, 1, 1, 1), mode='replicate')
L.append('Padding pad13 1 1 q12 q13 0=2 1=0 2=2 3=0 4=2')
q13 = F.pad(q12, (2, 0, 2, 0), mode='reflect')
L.append('Interp up14 1 1 q13 u14 0=1 1=2.000000e+00 2=2.000000e+00')
u14 = F.interpolate(q13, scale_factor=2, mode='nearest')
L.append('Interp bl15 1 1 u14 u15 0=2 1=5.000000e-01 2=5.000000e-01')
u15 = F.interpolate(u14, scale_factor=0.5, mode='bilinear', align_corners=False)
L.append('BinaryOp mul16 1 1 u15 b16 0=2 1=1 2=3.000000e+00')
b16 = u15 * 3
L.append('BinaryOp rsub17 1 1 b16 b17 0=7 1=1 2=1.000000e+00')
b17 = 1 - b16
L.append('Split split18 1 2 b17 s18a s18b')
L.append('BinaryOp add19 2 1 s18a s18b b19 0=0')
b19 = b17 + b17
L.append('ReLU relu20 1 1 b19 output')
out = F.relu(b19)

lines = ['7767517', f'{len(L) + 1} {len(L) + 30}', 'Input input 0 1 data 0=5 1=6 2=3'] + L
open(os.path.join(here, 'tiny.param'), 'w').write('\n'.join(lines) + '\n')
open(os.path.join(here, 'tiny.bin'), 'wb').write(bytes(blobs))
json.dump({'input_shape': list(x.shape), 'input': x.flatten().tolist(), 'output_shape': list(out.shape),
           'output': out.flatten().tolist()}, open(os.path.join(here, 'tiny_expected.json'), 'w'))
print('output', tuple(out.shape))
