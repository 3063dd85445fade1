"""Writes the decoder test corpus with Pillow (Debian's python3-pil).

Run: /usr/bin/python3 internal/img/testdata/make.py
Every good image holds the pattern R = 16x, G = 16y, B = 255 - 8(x+y) on a
7x5 grid (grey images: the R pattern), so decoders can be checked exactly.
"""
import io, os, struct, zlib
import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
W, H = 7, 5
y, x = np.mgrid[0:H, 0:W]
rgb = np.stack([16 * x, 16 * y, 255 - 8 * (x + y)], -1).astype(np.uint8)
good = os.path.join(here, 'good'); bad = os.path.join(here, 'bad')

Image.fromarray(rgb).save(os.path.join(good, 'rgb8.png'))
rgba = np.concatenate([rgb, (40 * x + 10).astype(np.uint8)[..., None]], -1)
Image.fromarray(rgba, 'RGBA').save(os.path.join(good, 'rgba8.png'))
Image.fromarray(rgb[..., 0]).save(os.path.join(good, 'grey8.png'))
Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(os.path.join(good, 'grey16.png'))
Image.fromarray(rgb).quantize(colors=64, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE).save(os.path.join(good, 'palette.png'))
Image.fromarray(rgb).save(os.path.join(good, 'rgb.bmp'))
Image.fromarray(rgb).save(os.path.join(good, 'rgb.tif'))
Image.fromarray(rgb).save(os.path.join(good, 'rgb.webp'), lossless=True)
Image.fromarray(rgb).save(os.path.join(good, 'rgb.jpg'), quality=100, subsampling=0)

# 16-bit RGB PNG, written by hand (Pillow cannot write RGB;16): sample v*257.
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
raw = b''.join(b'\x00' + (rgb[r].astype('>u2') * 257).tobytes() for r in range(H))
png16 = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', W, H, 16, 2, 0, 0, 0)) + \
    chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
open(os.path.join(good, 'rgb16.png'), 'wb').write(png16)

# Broken files.
full = open(os.path.join(good, 'rgb8.png'), 'rb').read()
open(os.path.join(bad, 'truncated.png'), 'wb').write(full[:len(full) // 2])
c = bytearray(full); i = c.index(b'IDAT') + 8; c[i:i + 6] = b'\xff' * 6
open(os.path.join(bad, 'corrupt.png'), 'wb').write(bytes(c))
huge = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 100000, 100000, 8, 2, 0, 0, 0)) + \
    chunk(b'IDAT', zlib.compress(b'\x00' * 10)) + chunk(b'IEND', b'')
open(os.path.join(bad, 'huge-header.png'), 'wb').write(huge)
jpg = open(os.path.join(good, 'rgb.jpg'), 'rb').read()
open(os.path.join(bad, 'truncated.jpg'), 'wb').write(jpg[:len(jpg) * 2 // 3])
open(os.path.join(bad, 'not-an-image.png'), 'wb').write(b'this is a text file, not a PNG\n')
open(os.path.join(bad, 'empty.png'), 'wb').write(b'')
