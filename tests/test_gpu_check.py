"""`benchmarks/gpu.py` (`make gpu-check`), as far as a machine without a GPU can check it: its `--dry` run does every
step on the CPU with tiny sizes, so every arm trains, every measure runs, and the one-line verdict is printed."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu.py"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}


def gpu_check(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)


def test_dry_run_trains_every_arm_and_runs_every_measure():
    from spectral_align.experiment import MEASURES
    import spectral_align.measures  # noqa: F401  (registers the built-in measures)
    from spectral_align.train import ARMS
    p = gpu_check("--dry")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    out = p.stdout
    for arm in ARMS: assert re.search(rf"^  {re.escape(arm)} +\d", out, re.M), f"arm {arm!r} not trained:\n{out}"
    for m in MEASURES: assert re.search(rf"^  {re.escape(m)} +[\d.]+ s +\d+ rows", out, re.M), f"measure {m!r} did not run:\n{out}"
    for step in ("Learner / minimal loop", "hybrid sweep / bare forward", "torchattacks", "band_noise"): assert step in out
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("gpu-check: DRY RUN (") and f"all {len(ARMS)} arms trained" in verdict, verdict
    assert f"all {len(MEASURES)} measures ran" in verdict, verdict


def test_no_gpu_without_dry_is_one_line(tmp_path):
    import torch
    if torch.cuda.is_available(): pytest.skip("a GPU is present: the full check would run")
    p = gpu_check()
    assert p.returncode != 0 and p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and "no CUDA GPU" in p.stderr and "--dry" in p.stderr, p.stderr


def test_bad_data_path_is_a_usage_error(tmp_path):
    p = gpu_check("--dry", "--data-path", str(tmp_path))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "--data-path" in p.stderr and "train_jpeg.npz" in p.stderr, p.stderr
