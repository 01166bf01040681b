"""Benchmark: the full hybrid-image sweep (Li et al. 2023), 18 cutoffs x N images through one model.

Runs it two ways in one process and checks they agree:
1. spectral_align's `hybrid_sweep`: the spectra of a batch of images and of their partners are taken
   once (rfft2), then every cutoff only blends them with its mask and inverts, stacked cutoffs x images.
2. the published code's approach (lizhe07/robust-arena, `roarena/einmon.py`): a `torch.utils.data.Dataset`
   whose `__getitem__` builds one hybrid with `scipy.fft` (fft2 of the image and of its partner, mask,
   ifft2, clipped to [0, 1]), iterated with a `DataLoader` once per cutoff.
Both use one set of partners (`draw_partners(y, seed)`, which is partner seed 0 of `hybrid_sweep`), so the
timings compare one partner seed; `hybrid_sweep`'s default of 4 partner seeds costs 4 times as much.
It also times the model's bare forward pass over the same 18 x N images, so the filtering overhead of
each way shows, and repeats the three timings with a near-free model (mean colour -> linear layer), which
isolates the cost of making the hybrids. The GPU is used when there is one.

    python benchmarks/hybrid.py [--n 512] [--arch auto|small_cnn|resnet18_cifar] [--width 32] [--bs 256] [--workers 0]
"""
import argparse, os, platform, time

import numpy as np
import scipy.fft
import torch
from torch.utils.data import DataLoader, Dataset

from spectral_align.data import make_builtin
from spectral_align.models import build_model
from spectral_align.probes import HYBRID_CUTOFFS_PCT, draw_partners, hybrid_sweep
from _machine import cpu_name  # benchmarks/_machine.py (the script's folder is on sys.path)


def ideal_lowpass_mask(h: int, w: int, cutoff_pct: float) -> np.ndarray:
    "Li et al.'s circular mask on the full FFT grid: r <= (cutoff/100) * Nyquist, r in cycles/image."
    s = min(h, w)
    fy, fx = np.fft.fftfreq(h)[:, None] * s, np.fft.fftfreq(w)[None, :] * s
    return (np.sqrt(fy ** 2 + fx ** 2) <= cutoff_pct / 100 * s / 2 + 1e-9).astype(np.float64)


class PerImageHybrids(Dataset):
    "One hybrid per item, built with scipy.fft: low-pass of image i plus high-pass of its partner, clipped to [0, 1]."
    def __init__(self, x: np.ndarray, y: np.ndarray, partner: np.ndarray, cutoff_pct: float):
        self.x, self.y, self.partner = x, y, partner
        self.mask = ideal_lowpass_mask(x.shape[-2], x.shape[-1], cutoff_pct)

    def __len__(self): return len(self.x)

    def __getitem__(self, i):
        j = self.partner[i]
        low = scipy.fft.ifft2(scipy.fft.fft2(self.x[i]) * self.mask).real
        high = scipy.fft.ifft2(scipy.fft.fft2(self.x[j]) * (1 - self.mask)).real
        return torch.from_numpy(np.clip(low + high, 0, 1).astype(np.float32)), int(self.y[i]), int(self.y[j])


def loop_sweep(model, x_np, y_np, partner_np, cutoffs, bs, workers, device):
    "The per-image approach: a DataLoader over `PerImageHybrids` for each cutoff."
    rows = []
    model.eval()
    with torch.no_grad():
        for c in cutoffs:
            dl = DataLoader(PerImageHybrids(x_np, y_np, partner_np, c), batch_size=bs, shuffle=False, num_workers=workers)
            low = high = 0
            for xb, yl, yh in dl:
                pred = model(xb.to(device, non_blocking=True)).argmax(1).cpu()
                low += (pred == yl).sum().item(); high += (pred == yh).sum().item()
            rows.append((low / len(x_np), high / len(x_np)))
    return np.array(rows)


def bare_forward(model, x, n_cutoffs, bs):
    "The model alone over the same number of images (n_cutoffs x N), no filtering."
    model.eval()
    with torch.no_grad():
        for _ in range(n_cutoffs):
            for i in range(0, len(x), bs): model(x[i:i + bs]).argmax(1)


def timed(fn, device, repeat=1):
    "Best wall time of `repeat` runs (the least disturbed by other processes) and the last result."
    best = float("inf")
    for _ in range(repeat):
        if device.type == "cuda": torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn()
        if device.type == "cuda": torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    cuda = torch.cuda.is_available()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10000 if cuda else 512, help="test images (default 512 on CPU, 10000 on GPU)")
    ap.add_argument("--arch", default="auto", choices=["auto", "small_cnn", "resnet18_cifar"],
                    help="model (auto: resnet18_cifar on GPU, small_cnn on CPU)")
    ap.add_argument("--width", type=int, default=32, help="width of small_cnn (its FLOPs grow as width^2)")
    ap.add_argument("--bs", type=int, default=256, help="images per forward pass")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader workers of the per-image loop")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each way; the best is reported")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    device = torch.device("cuda" if cuda else "cpu")
    arch = a.arch if a.arch != "auto" else ("resnet18_cifar" if cuda else "small_cnn")

    torch.manual_seed(a.seed)
    model = build_model(arch, n_classes=10, **({"width": a.width} if arch == "small_cnn" else {})).to(device).eval()
    null = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 10)).to(device).eval()
    x, y = make_builtin(a.n, seed=a.seed)
    xd = x.to(device)
    cutoffs = list(HYBRID_CUTOFFS_PCT)
    partner = draw_partners(y, seed=a.seed)
    x_np, y_np, p_np = x.numpy().astype(np.float64), y.numpy(), partner.numpy()

    print(f"machine: {platform.platform()}; CPU: {cpu_name()} ({os.cpu_count()} logical cores, torch threads {torch.get_num_threads()})")
    print(f"device: {torch.cuda.get_device_name(device) if cuda else 'cpu'}; torch {torch.__version__}")
    name = f"{arch}" + (f" (width {a.width})" if arch == "small_cnn" else "")
    print(f"sweep: {len(cutoffs)} cutoffs x {a.n} images = {len(cutoffs) * a.n} hybrids of 3x32x32 (one partner seed), "
          f"batch {a.bs}, DataLoader workers {a.workers}; best of {a.repeat} runs")

    for label, m in ((name, model), ("near-free model (mean colour -> linear)", null)):
        # warm-up (first-call allocations, cuDNN/FFT plans, thread pools), not timed
        hybrid_sweep(m, xd[:2 * a.bs], y[:2 * a.bs], cutoffs=cutoffs[:3], seed=a.seed, bs=a.bs, n_partner_seeds=1)
        loop_sweep(m, x_np[:a.bs], y_np[:a.bs], p_np[:a.bs] % a.bs, cutoffs[:1], a.bs, 0, device)
        bare_forward(m, xd[:2 * a.bs], 1, a.bs)

        t_bare, _ = timed(lambda: bare_forward(m, xd, len(cutoffs), a.bs), device, a.repeat)
        t_ours, df = timed(lambda: hybrid_sweep(m, xd, y, cutoffs=cutoffs, seed=a.seed, bs=a.bs, n_partner_seeds=1), device, a.repeat)
        t_loop, ref = timed(lambda: loop_sweep(m, x_np, y_np, p_np, cutoffs, a.bs, a.workers, device), device, a.repeat)

        diff = np.abs(df[["acc_low", "acc_high"]].to_numpy() - ref).max()
        print(f"\n== {label}")
        print(f"agreement: max |accuracy difference| between the two ways = {diff:.4g} (same partners, same masks)")
        print(f"bare forward ({len(cutoffs)} x {a.n} images):   {t_bare:8.3f} s")
        print(f"spectral_align hybrid_sweep:          {t_ours:8.3f} s   ({t_ours / t_bare:.2f}x the bare forward)")
        print(f"per-image scipy.fft Dataset loop:     {t_loop:8.3f} s   ({t_loop / t_bare:.2f}x the bare forward)")
        print(f"speed-up of hybrid_sweep over the per-image loop: {t_loop / t_ours:.1f}x")


if __name__ == "__main__":
    main()
