"""Benchmark: the full corruption set (15 common + 4 extra, 5 severities) on N built-in images.

Trains the project's small CNN on the built-in data for a couple of epochs (`train.make_learner`,
arm 'baseline'), then runs `corruptions.corruption_accuracy` once per corruption (all 5 severities)
and reports, per corruption, the seconds it took (corrupting + the model's forward passes), the
images per second and the accuracy per severity. For the 8 corruptions that have a batched torch
version it also times the reference backend (one image at a time: on 32-px images the port of
`make_cifar_c.py`, with the same CIFAR-10-C constants as the torch versions; on large images
`imagecorruptions-imaug`) on the same images, so the speed-up of the torch versions shows; the accuracies of
the two rows of a corruption differ by the noise draws only (the `constants` column says which set each row
used). The GPU is used when there is one (the reference corruptions always run on the CPU).

    python benchmarks/corruptions.py [--n 100] [--epochs 2] [--n-train 2000] [--bs 256] [--no-reference]
"""
import argparse, os, platform, time

import pandas as pd
import torch

from spectral_align.core import get_device
from spectral_align.corruptions import (ALL_CORRUPTIONS, CORRUPTION_GROUP, TORCH_CORRUPTIONS, corrupt,
                                        corruption_accuracy, mean_corruption_accuracy)
from spectral_align.data import builtin_dls, load_test_data
from spectral_align.train import fit, make_learner
from _machine import cpu_name  # benchmarks/_machine.py (the script's folder is on sys.path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100, help="test images")
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--bs", type=int, default=256)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-reference", action="store_true", help="skip the reference timings of the torch corruptions")
    p.add_argument("--big-size", type=int, default=224, help="image size for the corruption-only timings (0 skips them)")
    p.add_argument("--big-n", type=int, default=8, help="images for the corruption-only timings")
    a = p.parse_args(argv)
    dev = get_device(a.device)
    print(f"device {dev} ({torch.cuda.get_device_name(dev) if dev.type == 'cuda' else cpu_name()}), "
          f"torch threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")

    t0 = time.perf_counter()
    dls = builtin_dls(n_train=a.n_train, n_valid=500, bs=128, device=dev)
    learn = make_learner(dls, "baseline", "small_cnn", seed=0)
    with learn.no_logging(), learn.no_bar(): fit(learn, a.epochs)
    model = learn.model.eval()
    print(f"trained small_cnn on {a.n_train} built-in images, {a.epochs} epochs: {time.perf_counter() - t0:.1f} s")

    x, y = load_test_data("builtin", a.n)
    x, y = x.to(dev), y.to(dev)
    # warm up: the first glass_blur compiles a Numba kernel (several seconds), which is not the corruption's cost
    t0 = time.perf_counter(); corrupt(x[:1].cpu(), "glass_blur", 1); warm = time.perf_counter() - t0
    print(f"glass_blur warm-up (Numba compilation): {warm:.1f} s")

    tables, rows = [], []
    for name in ALL_CORRUPTIONS:
        for be in (["auto", "reference"] if name in TORCH_CORRUPTIONS and not a.no_reference else ["auto"]):
            if dev.type == "cuda": torch.cuda.synchronize()
            t0 = time.perf_counter()
            df = corruption_accuracy(model, x, y, [name], seed=0, bs=a.bs, backend=be)
            if dev.type == "cuda": torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            used = df.backend.iloc[1]
            if be == "auto": tables.append(df if not tables else df.iloc[1:])
            acc = df.set_index("severity").accuracy
            rows.append(dict(corruption=name, group=CORRUPTION_GROUP[name], asked=be, backend=used, constants=df.constants.iloc[1], seconds=dt,
                             images_per_s=5 * a.n / dt, **{f"sev{s}": acc[s] for s in range(1, 6)}))
    res = pd.DataFrame(rows)
    full = pd.concat(tables, ignore_index=True)
    with pd.option_context("display.width", 160, "display.max_rows", 100, "display.float_format", "{:.3f}".format):
        print(f"\n{a.n} images x 5 severities per corruption (clean accuracy {full.accuracy.iloc[0]:.3f}):")
        print(res.drop(columns="asked").to_string(index=False))
    auto = res[res.asked == "auto"].set_index("corruption")
    ref = res[res.asked == "reference"].set_index("corruption")
    both = [c for c in ref.index if auto.loc[c, "backend"] == "torch"]
    if both:
        print("\nspeed-up of the torch versions over the reference (same images, all 5 severities):")
        for c in both: print(f"  {c:16s} {ref.loc[c, 'seconds'] / auto.loc[c, 'seconds']:7.1f}x")
    print(f"\nfull 19 x 5 set (torch versions where they exist): {auto.seconds.sum():.1f} s; "
          f"mean corruption accuracy {mean_corruption_accuracy(full):.3f} "
          f"(common 15: {mean_corruption_accuracy(full, 'common'):.3f})")

    if a.big_size:
        xb, _ = load_test_data("builtin", a.big_n, size=a.big_size)
        xb = xb.to(dev)
        rows = []
        for name in ALL_CORRUPTIONS:
            r = dict(corruption=name)
            for be in (["torch", "reference"] if name in TORCH_CORRUPTIONS else ["reference"]):
                if be == "reference" and a.no_reference and name in TORCH_CORRUPTIONS: continue
                t0 = time.perf_counter()
                for sev in range(1, 6): corrupt(xb, name, sev, seed=0, backend=be)
                if dev.type == "cuda": torch.cuda.synchronize()
                r[f"{be}_ms_per_image"] = 1000 * (time.perf_counter() - t0) / (5 * a.big_n)
            rows.append(r)
        big = pd.DataFrame(rows)
        with pd.option_context("display.width", 160, "display.float_format", "{:.2f}".format):
            print(f"\ncorruption alone (no model), {a.big_n} images of {a.big_size} px, mean over the 5 severities:")
            print(big.to_string(index=False))
            print(f"all 19 x 5 at {a.big_size} px, torch versions where they exist: "
                  f"{big.torch_ms_per_image.fillna(big.reference_ms_per_image).sum() * 5 / 1000:.2f} s per image")


if __name__ == "__main__":
    main()
