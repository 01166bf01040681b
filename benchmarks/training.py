"""Benchmark: one training epoch of every arm against the baseline arm, and the baseline fastai Learner
against a minimal PyTorch loop with the same settings, on the same data and model, in one process.

For each arm, `train.make_learner` builds the Learner (its set-up, e.g. training the guidance arm's
neural predictor, is timed separately as `setup_s`), then `train.fit` trains it for `--epochs` epochs
(one-cycle); the fastest training phase of the epochs after the first is reported (the first one pays
for allocations and cuDNN autotuning), with the ratio to the baseline arm and, on CUDA, the peak GPU
memory. Times are wall-clock on CUDA and the process's CPU time on CPU (run with OMP_NUM_THREADS=1 there,
so that CPU time is compute time and the load of other processes does not enter). The baseline arm runs first and again last; the ratios are to the mean of its two timings, and
their difference shows how steady the machine was.
The minimal loop trains the same architecture on the same tensors with the same batch size, the same
augmentation (`data.BatchAugment`), Adam with decoupled weight decay, a one-cycle schedule, and bf16
autocast on CUDA, and is timed the same way.

Goals (issue 5; GPU, CIFAR-size ResNet-18, batch 512, bf16): Learner ≤ 1.15x the minimal loop;
similarity and guidance ≤ 1.5x the baseline; view consistency ≤ 2.2x. On CPU the default is the small
CNN on the built-in data.

    python benchmarks/training.py [--arch auto|small_cnn|resnet18_cifar] [--n N] [--bs BS] [--epochs 2]
                                  [--width 32] [--arms baseline,similarity,...] [--device auto|cpu|cuda] [--csv out.csv]
"""
import argparse, os, sys, time, warnings

import pandas as pd
import torch

from spectral_align.core import get_device
from spectral_align.data import builtin_dls
from spectral_align.train import ARMS, make_learner, fit
from spectral_align.regularizers import BANDS
from _machine import cpu_name  # benchmarks/_machine.py (the script's folder is on sys.path)
from _timing import TrainTimer, minimal_loop


def time_arm(dls, arm, arch, epochs, lr, device, arch_kwargs, params=None):
    if device.type == "cuda": torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    timer = TrainTimer(device)
    learn = make_learner(dls, arm, arch, params=params, seed=0, cbs=[timer], **arch_kwargs)
    setup = time.perf_counter() - t0
    with learn.no_bar(), learn.no_logging(): hist = fit(learn, epochs, lr)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else float("nan")
    return dict(arm=arm, epoch_s=min(timer.times[1:] or timer.times), setup_s=setup, peak_mem_mib=peak,
                train_loss=float(hist.train_loss.iloc[-1]), accuracy=float(hist.accuracy.iloc[-1]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default="auto")
    ap.add_argument("--n", type=int, default=None, help="training images (default: 25600 on CUDA, 2048 on CPU)")
    ap.add_argument("--bs", type=int, default=None, help="batch size (default: 512 on CUDA, 128 on CPU)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per arm; the fastest after the first is timed")
    ap.add_argument("--width", type=int, default=32, help="width of small_cnn")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--arms", default="all", help="comma-separated arm names (default: every arm but the short aliases)")
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--csv", default=None)
    a = ap.parse_args(argv)
    device = get_device(a.device)
    cuda = device.type == "cuda"
    arch = a.arch if a.arch != "auto" else ("resnet18_cifar" if cuda else "small_cnn")
    n, bs = a.n or (25600 if cuda else 2048), a.bs or (512 if cuda else 128)
    arch_kwargs = {"width": a.width} if arch == "small_cnn" else {}
    arms = [x for x in ARMS if x not in BANDS] if a.arms == "all" else a.arms.split(",")
    arms = ["baseline"] + [x for x in arms if x != "baseline"] + ["baseline"]
    if cuda: torch.backends.cudnn.benchmark = True
    else: torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    dev_name = torch.cuda.get_device_name(device) if cuda else f"{cpu_name()} ({torch.get_num_threads()} threads)"
    print(f"device: {dev_name} | torch {torch.__version__} | arch {arch} {arch_kwargs or ''} | {n} images of 32 px, "
          f"batch {bs}, {a.epochs} epochs per arm (fastest after the first timed){' | bf16 autocast' if cuda else ''}", flush=True)

    dls = builtin_dls(n_train=n, n_valid=min(512, n), bs=bs, augment=not a.no_augment, device=device, seed=0)
    x, y = dls.train.dataset.x.to(device), dls.train.dataset.y.to(device)
    t_min, peak_min = minimal_loop(x, y, arch, bs, a.epochs, a.lr, device, arch_kwargs, wd=5e-4, augment=not a.no_augment)
    rows = []
    for arm in arms:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = time_arm(dls, arm, arch, a.epochs, a.lr, device, arch_kwargs)
        rows.append(r)
        print(f"  {arm:18s} epoch {r['epoch_s']:7.2f} s  set-up {r['setup_s']:6.2f} s" +
              (f"  peak {r['peak_mem_mib']:8.0f} MiB" if cuda else ""), flush=True)
    df = pd.DataFrame(rows)
    b1, b2 = df.loc[df.arm == "baseline", "epoch_s"]
    base = (b1 + b2) / 2
    df.loc[df.index[-1], "arm"] = "baseline (again)"
    df["ratio_to_baseline"] = df.epoch_s / base
    df.insert(0, "device", "cuda" if cuda else "cpu")
    print()
    print(df[["arm", "epoch_s", "ratio_to_baseline", "setup_s", "peak_mem_mib", "accuracy"]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nbaseline Learner {base:.2f} s (runs {b1:.2f}, {b2:.2f}) vs minimal PyTorch loop {t_min:.2f} s per epoch: ratio {base / t_min:.3f}"
          + (f" (peak memory {peak_min:.0f} MiB)" if cuda else ""))
    goals = {"similarity": 1.5, "guidance": 1.5, **{f"{b}-vc": 2.2 for b in BANDS}}
    checks = [(k, df.loc[df.arm == k, "ratio_to_baseline"].item(), g) for k, g in goals.items() if k in set(df.arm)]
    if cuda:
        print("goals (GPU): Learner/minimal ≤ 1.15: " + ("met" if base / t_min <= 1.15 else "missed") + "; " +
              "; ".join(f"{k} {r:.2f} ≤ {g}: {'met' if r <= g else 'missed'}" for k, r, g in checks))
    if a.csv:
        df.assign(minimal_loop_s=t_min).to_csv(a.csv, index=False); print(f"wrote {a.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
