"""Benchmark: what aligning to V4 costs. One training epoch of each V4-aligned arm (similarity, cka, guidance and its
controls, their `target` the V4 folder) against the baseline arm, on the same data and model, in one process, and the
set-up of each (reading the targets; training the V4 predictor once, then loading it from the cache), with the V4
predictor's held-out per-neuron r against the noise ceiling.

Times are the process's CPU time (run with OMP_NUM_THREADS=1, so that the load of other processes does not enter; on an
idle machine with k cores the wall time is about CPU time / k for the convolutions), the fastest epoch after the first.
The task images are the built-in images at `--size` px (default 128, the project's CPU resolution): an arm's cost per
image does not depend on what the images show.

    python benchmarks/neural_v4.py --v4 PATH/TO/cowley2023_v4 [--size 128] [--n 512] [--bs 64] [--epochs 2]
                                   [--arch small_cnn] [--width 32] [--predictor-epochs 10] [--arms guidance,...] [--csv out.csv]
"""
import argparse, os, sys, tempfile, time, warnings
from pathlib import Path

import pandas as pd
import torch

from spectral_align.data import builtin_dls
from spectral_align.neural import is_v4_folder, write_v4_stand_in
from spectral_align.predictor import predictivity_summary
from spectral_align.regularizers import NeuralGuidance
from spectral_align.train import make_learner, fit
from _machine import cpu_name  # benchmarks/_machine.py (the script's folder is on sys.path)
from _timing import TrainTimer

V4_ARMS = ["similarity", "cka", "guidance", "guidance-random", "guidance-shuffled"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--v4", default=None, help="the V4 folder (default: a small stand-in, which times the machinery only)")
    ap.add_argument("--size", type=int, default=128); ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--bs", type=int, default=64); ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--arch", default="small_cnn"); ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--predictor-epochs", type=int, default=10)
    ap.add_argument("--arms", default=",".join(V4_ARMS)); ap.add_argument("--csv", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    v4 = a.v4
    if v4 is None or not is_v4_folder(v4):
        v4 = str(write_v4_stand_in(Path(tempfile.mkdtemp()) / "v4", n_images=(200, 200, 120), n_units=(20, 30, 16), size=112))
        print("no V4 folder given (--v4): timing on a STAND-IN (simulated units), which says nothing about V4 predictors")
    cache = tempfile.mkdtemp()
    print(f"device: {cpu_name()} ({torch.get_num_threads()} threads) | torch {torch.__version__} | {a.arch} width {a.width} | "
          f"{a.n} built-in images of {a.size} px, batch {a.bs}, {a.epochs} epochs per arm (fastest after the first, CPU time)", flush=True)
    dls = builtin_dls(n_train=a.n, n_valid=min(256, a.n), bs=a.bs, size=a.size, device="cpu", seed=0)
    ctx = dict(neural_holdout=0.5, predictor_cache=cache)
    params = {"similarity": {}, "cka": {}}
    guide = dict(predictor_epochs=a.predictor_epochs)
    arms = ["baseline"] + [x for x in a.arms.split(",") if x != "baseline"] + ["baseline"]
    rows, pred = [], None
    for arm in arms:
        p = {**params.get(arm, guide if arm.startswith("guidance") else {})}
        if arm != "baseline": p["target"] = v4
        t0 = time.process_time()
        timer = TrainTimer(torch.device("cpu"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            learn = make_learner(dls, arm, a.arch, params=p, seed=0, cbs=[timer], context=ctx, width=a.width, mixed_precision=False)
            setup = time.process_time() - t0
            with learn.no_bar(), learn.no_logging(): fit(learn, a.epochs, 3e-3)
        g = [c for c in learn.cbs if isinstance(c, NeuralGuidance)]
        if arm == "guidance" and g: pred = g[0].predictor
        rows.append(dict(arm=arm, epoch_cpu_s=min(timer.times[1:] or timer.times), setup_cpu_s=setup))
        print(f"  {arm:18s} epoch {rows[-1]['epoch_cpu_s']:8.1f} CPU-s  set-up {setup:8.1f} CPU-s", flush=True)
    df = pd.DataFrame(rows)
    base = df.loc[df.arm == "baseline", "epoch_cpu_s"].mean()
    df.loc[df.index[-1], "arm"] = "baseline (again)"
    df["ratio_to_baseline"] = df.epoch_cpu_s / base
    df["cpu_s_per_1000_images"] = 1000 * df.epoch_cpu_s / a.n
    print()
    print(df.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if pred is not None:
        print(f"\nV4 predictor ({pred}) on its held-out images:")
        print(predictivity_summary(pred.neuron_r).to_string(float_format=lambda v: f"{v:.3f}"))
    if a.csv: df.to_csv(a.csv, index=False); print(f"wrote {a.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
