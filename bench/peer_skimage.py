"""Times scikit-image on the images the Go metric benchmarks use.

Run (Debian's python3-skimage 0.19; one thread, as the Go numbers with -cpu 1):
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peer_skimage.py

Images: the astronaut photo (512x512) and the hubble photo resized to
2040x1356 (DIV2K size), each against a copy with Gaussian noise sigma=8, Y of
YIQ rounded as pyiqa's ssim uses. Prints milliseconds per image (median of 7).
"""
import os, sys, time
import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity, peak_signal_noise_ratio

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
def load(name):
    return np.asarray(Image.open(os.path.join(root, 'datasets', 'samples', name)).convert('RGB'))

rng = np.random.default_rng(0)
images = {
    '512x512': load('astronaut.png'),
    '2040x1356': np.asarray(Image.fromarray(load('hubble_deep_field.jpg')).resize((2040, 1356), Image.BICUBIC)),
}
def y(a):
    return np.round((a.astype(np.float32) / 255) @ np.array([0.299, 0.587, 0.114], np.float32) * 255).astype(np.float64)

def median_ms(fn, n=7):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return 1000 * float(np.median(ts))

for size, ref in images.items():
    dist = np.clip(ref + rng.normal(0, 8, ref.shape), 0, 255).astype(np.uint8)
    yr, yd = y(ref), y(dist)
    ssim = median_ms(lambda: structural_similarity(yd, yr, gaussian_weights=True, sigma=1.5,
                                                   use_sample_covariance=False, data_range=255))
    # ssimc: the three channels ×255 rounded, as pyiqa's colour SSIM.
    rc, dc = ref.astype(np.float64), dist.astype(np.float64)
    ssimc = median_ms(lambda: structural_similarity(dc, rc, gaussian_weights=True, sigma=1.5, channel_axis=2,
                                                    use_sample_covariance=False, data_range=255))
    psnr = median_ms(lambda: peak_signal_noise_ratio(ref, dist, data_range=255))
    mpix = ref.shape[0] * ref.shape[1] / 1e6
    print(f'skimage {size:>10}  ssim(Y) {ssim:8.2f} ms  ({mpix / ssim * 1000:6.1f} MPix/s)   '
          f'ssim(RGB) {ssimc:8.2f} ms   psnr(RGB) {psnr:7.2f} ms')
