"""Benchmark: critical-band-masking stimuli (Subramanian et al. 2023) for N images at 224 px.

Three ways, in one process, on the same images and conditions (every image gets a noisy condition:
noise SD in {0.02, 0.04, 0.08, 0.16} x band k in 0..6, cycled):
1. spectral_align's `cbm_stimuli(kind="pyramid")` (the published noise, what `masking_accuracy` uses by default):
   one batch, on the device (the GPU when there is one): white noise -> Laplacian pyramid (pyrtools' filters and
   edges) -> the band's level alone -> RMS of the finest level -> added to the grayscale, contrast-reduced images,
   out-of-range pixels fixed as published.
2. `cbm_stimuli(kind="octave")`: white noise -> rfft2 -> ideal octave-band masks -> irfft2 -> RMS 0.943 x SD.
3. the published code's approach, one image at a time in NumPy: white noise -> pyrtools Laplacian
   pyramid -> reconstruct the band's level -> rescale to the RMS of the finest level -> add. (Its
   out-of-range fix is a per-pixel Python loop; it is timed that way and, separately, vectorised.)
It prints the times, the ratios, the machine, and checks: way 1 against pyrtools on the same white noise (max
difference), the noise RMS / SD of each way, the share of each way's noise power inside the nominal octave band
[c/sqrt2, c*sqrt2), and the median frequency of its power.

    python benchmarks/masking.py [--n 256] [--device auto|cpu|cuda] [--repeats 3]
Needs pyrtools (`pip install pyrtools`) for the baseline.
"""
import argparse, os, platform, time

import numpy as np
import torch

from spectral_align.core import check_images, get_device
from spectral_align.masking import (BAND_C0, CBM_CONTRAST, CBM_EPS, CBM_MEAN, NOISE_SDS, PAPER_RMS_RATIO,
                                    cbm_stimuli, reduce_contrast, laplacian_pyramid, recon_level)
from _machine import cpu_name  # benchmarks/_machine.py (the script's folder is on sys.path)

try:
    import pyrtools as pt
except ImportError as e:  # pragma: no cover
    raise SystemExit("this benchmark needs pyrtools for the published baseline: pip install pyrtools") from e


def rms(a): return np.sqrt(np.mean(np.square(a)))


def published_one(gray_u8: np.ndarray, sd: float, k: int, rng: np.random.Generator, n_bands: int = 7,
                  faithful_oob: bool = True):
    """One stimulus the published way (Laplacian pyramid per image); returns (stimulus, band noise, fixed?).
    `faithful_oob`: fix out-of-range pixels with the published per-pixel Python loop (else vectorised)."""
    img = gray_u8 / 255.0
    img = (img - img.mean()) * CBM_CONTRAST + CBM_MEAN
    noise = rng.standard_normal(img.shape) * sd
    pyr = pt.pyramids.LaplacianPyramid(noise)
    recon = pyr.recon_pyr(levels=n_bands - (k + 1))
    first = pyr.recon_pyr(levels=0)
    sf = recon * rms(first) / rms(recon)
    out = img + sf
    looped = bool(out.min() < 0 or out.max() > 1)
    if faithful_oob:
        if looped:          # the published per-pixel fix, as a Python loop over pixels
            h, w = out.shape
            for i in range(h):
                for j in range(w):
                    v = out[i, j]
                    if v < 0 or v > 1:
                        newp = CBM_EPS - sf[i, j] if v < 0 else 1 - CBM_EPS - sf[i, j]
                        if newp > 1 or newp < 0:     # shifting the image pixel is not enough: redraw the noise
                            n_ = sf[i, j]
                            while n_ + img[i, j] < 0 or n_ + img[i, j] > 1: n_ = rng.standard_normal() * sd
                            sf[i, j] = n_
                        else: img[i, j] = newp
            out = img + sf
    else: out = np.where(out < 0, CBM_EPS, np.where(out > 1, 1 - CBM_EPS, out))   # vectorised out-of-range fix
    return out.astype(np.float32), sf, looped


def band_share(noise: np.ndarray, k: int) -> float:
    "Share of the power of `noise` (H, W) inside the nominal octave band k."
    h = noise.shape[-1]
    f = np.fft.fftfreq(h) * h
    r = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    c = BAND_C0 * 2 ** k
    P = np.abs(np.fft.fft2(noise - noise.mean())) ** 2
    return float(P[(r >= c / 2 ** 0.5) & (r < c * 2 ** 0.5)].sum() / P.sum())


def median_freq(noise: np.ndarray) -> float:
    "The frequency (cycles/image) below which half of the power of `noise` (H, W) lies."
    h = noise.shape[-1]
    f = np.fft.fftfreq(h) * h
    r = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2).ravel()
    P = (np.abs(np.fft.fft2(noise - noise.mean())) ** 2).ravel()
    o = np.argsort(r)
    c = np.cumsum(P[o])
    return float(r[o][np.searchsorted(c, c[-1] / 2)])


def sync(dev):
    if dev.type == "cuda": torch.cuda.synchronize(dev)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=256, help="images (224 px)")
    ap.add_argument("--device", default="auto", help="device of the batched way")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each way, interleaved (the best of each is reported)")
    ap.add_argument("--size", type=int, default=224)
    a = ap.parse_args()
    dev = get_device(a.device)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(a.n, 3, a.size, a.size, generator=g)            # content does not matter for the timing
    conds = [(s, k) for s in NOISE_SDS if s > 0 for k in range(7)]
    sd = torch.tensor([conds[i % len(conds)][0] for i in range(a.n)])
    band = torch.tensor([conds[i % len(conds)][1] for i in range(a.n)])

    # the grayscale uint8 images the published code reads
    gray_u8 = (reduce_contrast(x, contrast=1.0, mean=0.5) * 255).round().clamp(0, 255).to(torch.uint8)[:, 0].numpy()
    xd = x.to(dev)
    cbm_stimuli(xd[:8], sd[:8], band[:8], seed=0); sync(dev)        # warm-up
    cbm_stimuli(xd[:8], sd[:8], band[:8], seed=0, kind="pyramid"); sync(dev)
    t_b, t_c, t_l, t_p, t_y = [], [], [], [], []
    for r in range(a.repeats):                                       # interleaved, best of `repeats` each
        # 1. batched, on the device
        sync(dev); t0 = time.perf_counter()
        stim = cbm_stimuli(xd, sd, band, seed=r)
        sync(dev); t_b.append(time.perf_counter() - t0)
        sync(dev); t0 = time.perf_counter()
        stim_y = cbm_stimuli(xd, sd, band, seed=r, kind="pyramid")
        sync(dev); t_y.append(time.perf_counter() - t0)
        sync(dev); t0 = time.perf_counter(); check_images(xd); sync(dev); t_c.append(time.perf_counter() - t0)
        # 2. published approach, one image at a time
        rng = np.random.default_rng(r)
        t0 = time.perf_counter()
        outs = [published_one(gray_u8[i], float(sd[i]), int(band[i]), rng) for i in range(a.n)]
        t_l.append(time.perf_counter() - t0)
        rng = np.random.default_rng(r)
        t0 = time.perf_counter()
        for i in range(a.n): published_one(gray_u8[i], float(sd[i]), int(band[i]), rng, faithful_oob=False)
        t_p.append(time.perf_counter() - t0)
    t_batch, t_check, t_loop, t_pyr, t_ypyr = min(t_b), min(t_c), min(t_l), min(t_p), min(t_y)
    n_fixed = sum(o[2] for o in outs)

    # checks: noise RMS / SD and in-band power share, per way
    gray = reduce_contrast(x)[:, 0]
    nz_b = (stim[:, 0].cpu().double() - gray.double()).numpy()
    nz_p = np.stack([o[1] for o in outs])
    nz_y = (stim_y[:, 0].cpu().double() - gray.double()).numpy()
    # exactness: the package's pyramid noise from the same white noise as pyrtools
    rng = np.random.default_rng(123)
    w = rng.standard_normal((7, a.size, a.size)) * 0.08
    pyr = laplacian_pyramid(torch.from_numpy(w))
    rec = recon_level(pyr, torch.arange(7) % len(pyr))
    mine = (rec * (pyr[0].square().mean((-2, -1)).sqrt() / rec.square().mean((-2, -1)).sqrt())[:, None, None]).numpy()
    diff = 0.0
    for i in range(7):
        p_ = pt.pyramids.LaplacianPyramid(w[i]); lev = i % p_.num_scales
        ref = p_.recon_pyr(levels=lev); ref = ref * rms(p_.recon_pyr(levels=0)) / rms(ref)
        diff = max(diff, float(np.abs(mine[i] - ref).max()))
    m = slice(0, min(a.n, 2 * len(conds)))
    rb = np.mean([rms(nz_b[i]) / float(sd[i]) for i in range(a.n)])
    rp = np.mean([rms(nz_p[i]) / float(sd[i]) for i in range(a.n)])
    ry = np.mean([rms(nz_y[i]) / float(sd[i]) for i in range(a.n)])
    share_y = {k: np.mean([band_share(nz_y[i], k) for i in range(a.n)[m] if band[i] == k]) for k in range(7)}
    med_y = {k: np.mean([median_freq(nz_y[i]) for i in range(a.n)[m] if band[i] == k]) for k in range(7)}
    share_b = {k: np.mean([band_share(nz_b[i], k) for i in range(a.n)[m] if band[i] == k]) for k in range(7)}
    share_p = {k: np.mean([band_share(nz_p[i], k) for i in range(a.n)[m] if band[i] == k]) for k in range(7)}
    med_b = {k: np.mean([median_freq(nz_b[i]) for i in range(a.n)[m] if band[i] == k]) for k in range(7)}
    med_p = {k: np.mean([median_freq(nz_p[i]) for i in range(a.n)[m] if band[i] == k]) for k in range(7)}

    print(f"machine: {cpu_name()}, {os.cpu_count()} logical CPUs, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)" + (f", GPU {torch.cuda.get_device_name(dev)}" if dev.type == "cuda" else ""))
    print(f"stimuli: {a.n} images at {a.size} px, every image a noisy condition (SD 0.02-0.16 x 7 bands)")
    print(f"batched pyramid (cbm_stimuli kind='pyramid', {dev.type}): {t_ypyr * 1e3:9.1f} ms  ({t_ypyr / a.n * 1e6:8.1f} us/image); "
          f"speed-up over the published way {t_loop / t_ypyr:.1f}x, over its pyramid alone {t_pyr / t_ypyr:.1f}x")
    print(f"  max |difference| from pyrtools on the same white noise: {diff:.2e}")
    print(f"batched FFT (cbm_stimuli kind='octave', {dev.type}): {t_batch * 1e3:9.1f} ms  ({t_batch / a.n * 1e6:8.1f} us/image)")
    print(f"  of which input validation (core.check_images):  {t_check * 1e3:9.1f} ms")
    print(f"published way, per image (pyrtools + per-pixel fix): {t_loop * 1e3:9.1f} ms  ({t_loop / a.n * 1e6:8.1f} us/image; "
          f"the per-pixel loop ran for about {n_fixed} images)")
    print(f"  its Laplacian pyramid alone (fix vectorised):      {t_pyr * 1e3:9.1f} ms  ({t_pyr / a.n * 1e6:8.1f} us/image)")
    print(f"speed-up over the published way: {t_loop / t_batch:.1f}x;  over the pyramid alone: {t_pyr / t_batch:.1f}x"
          f"  (generation without the input check: {t_loop / max(t_batch - t_check, 1e-9):.1f}x / {t_pyr / max(t_batch - t_check, 1e-9):.1f}x)")
    print(f"noise RMS / SD: octave {rb:.4f}, batched pyramid {ry:.4f}, published pyramid {rp:.4f} (paper's ratio {PAPER_RMS_RATIO})")
    print("share of noise power inside the nominal octave band, per band k:")
    print("  octave:    " + "  ".join(f"{k}:{share_b[k]:.2f}" for k in range(7)))
    print("  b-pyramid: " + "  ".join(f"{k}:{share_y[k]:.2f}" for k in range(7)))
    print("  published: " + "  ".join(f"{k}:{share_p[k]:.2f}" for k in range(7)))
    print("median frequency of the noise power (cycles/image), per band k (nominal centre 1.75*2^k):")
    print("  nominal: " + "  ".join(f"{k}:{BAND_C0 * 2 ** k:6.2f}" for k in range(7)))
    print("  octave:    " + "  ".join(f"{k}:{med_b[k]:6.2f}" for k in range(7)))
    print("  b-pyramid: " + "  ".join(f"{k}:{med_y[k]:6.2f}" for k in range(7)))
    print("  published: " + "  ".join(f"{k}:{med_p[k]:6.2f}" for k in range(7)))


if __name__ == "__main__":
    main()
