"""Benchmark: the plan's time estimate against the measured time, task by task, for the smallest experiment a newcomer
tries (`spectral-align experiment --data builtin --arms baseline,blur --seeds 1 --epochs 1`, its defaults otherwise).

`experiment.plan_experiment` times the model on this machine (`calibrate_speed`) and counts each task's work; this
script then runs every task (training each arm, each measure) and prints, per task, the estimate, the measured wall
time and their ratio, with the machine, its load average before and after, and the thread count. Nothing is asserted:
the estimate is a guide, and on a machine busy with other work both numbers move.

    python benchmarks/estimate.py [--arms baseline,blur] [--epochs 1] [--device cpu] [--profile auto]
"""
import argparse, os, sys, tempfile, time, warnings
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _machine import cpu_name
import spectral_align.measures  # noqa: F401  (registers the built-in measures)
from spectral_align.core import get_device
from spectral_align.experiment import (MEASURES, ExperimentConfig, experiment_context, experiment_data, plan_experiment,
                                       prepare_output, run_name, train_run)
from spectral_align.models import model_from_checkpoint


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arms", default="baseline,blur"); p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--device", default=None); p.add_argument("--profile", default="auto")
    a = p.parse_args(argv)
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory() as out:
        cfg = ExperimentConfig(out=out, arms=a.arms, seeds=1, epochs=a.epochs, device=a.device, profile=a.profile)
        device = get_device(cfg.device)
        data = experiment_data(cfg)
        plan = plan_experiment(cfg, device, tuple(data[0].shape[1:]), len(data[0]), len(data[2]), int(data[4]))
        prepare_output(cfg)
        dls, ctx = experiment_context(cfg, data, device)
        rows = []
        for arm in cfg.arms:
            rd = Path(out) / "runs" / run_name(arm, 0)
            (rd / "measures").mkdir(parents=True)
            t = time.perf_counter(); train_run(cfg, dls, arm, 0, rd, quiet=True); rows.append((arm, "train", time.perf_counter() - t))
            model = model_from_checkpoint(rd / "model.pth").to(device).eval()
            for m in cfg.measures:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t = time.perf_counter(); MEASURES[m](model, dict(ctx, arm=arm, seed=0, run_dir=rd))
                rows.append((arm, m, time.perf_counter() - t))
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    got = pd.DataFrame(rows, columns=["arm", "task", "measured_s"])
    df = plan[["arm", "task", "seconds"]].rename(columns={"seconds": "estimated_s"}).merge(got, on=["arm", "task"])
    df["ratio"] = df.measured_s / df.estimated_s
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, device {device}, {torch.get_num_threads()} torch thread(s); "
          f"load average {load0:.1f} before, {load1:.1f} after; profile {plan.attrs['profile']}")
    with pd.option_context("display.width", 120, "display.float_format", "{:.1f}".format): print(df.to_string(index=False))
    print(f"total: estimated {df.estimated_s.sum():.0f} s, measured {df.measured_s.sum():.0f} s "
          f"(ratio {df.measured_s.sum() / df.estimated_s.sum():.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
