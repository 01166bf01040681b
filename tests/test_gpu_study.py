"""`benchmarks/gpu_study.py` (`make gpu-study`), as far as a machine without a GPU can check it: the data pack is
lossless, the `--dry` study runs every step on the CPU at tiny sizes and writes, for each study, the usual results
folder with every arm x seed and every measure, the time budget and the bundle; a second call resumes. Structure
only: no number of a training run is asserted."""
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_study.py"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore",
       "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
STUDIES = {"cifar10": "cifar10-jpeg-gpu", "imagenette": "imagenette-gpu"}
RESULT_FILES = ("config.json", "data.json", "results.csv", "summary.csv", "report.html", "time_budget.json",
                "gpu_study.log")


def study(*args, timeout=1200) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def gs():
    sys.path.insert(0, str(SCRIPT.parent))
    import gpu_study
    return gpu_study


def test_pack_is_lossless(gs, tmp_path):
    "The CIFAR-10 pack keeps each distinct JPEG header once; the unpack rebuilds the original npz byte for byte."
    from spectral_align.core import suite_seed
    src = gs.make_dry_source(tmp_path / "src", n_train=24, n_test=12)
    for split in ("train", "test"):
        f = src / "cifar10" / "lossy_jpeg" / f"{split}_jpeg.npz"
        arrays = gs.pack_jpeg_npz(f)
        np.savez(tmp_path / f"{split}_pack.npz", **arrays)
        assert len(arrays["header_offsets"]) - 1 == 1               # one encoder, one size: one shared header
        out = gs.unpack_jpeg_npz(tmp_path / f"{split}_pack.npz", tmp_path / "un" / f"{split}_jpeg.npz")
        a, b = np.load(f), np.load(out)
        for k in ("jpeg_bytes", "offsets", "y"):
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k])
    arrays = gs.pack_jpeg_npz(src / "cifar10" / "lossy_jpeg" / "train_jpeg.npz")
    rng = np.random.default_rng(suite_seed(0))
    arrays["scans"] = arrays["scans"].copy()
    arrays["scans"][rng.integers(len(arrays["scans"]))] ^= 1          # one flipped bit is caught
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="sha256"): gs.unpack_jpeg_npz(tmp_path / "bad.npz", tmp_path / "bad_jpeg.npz")


def test_imagenette_subset_fits_budget(gs, tmp_path):
    "The image-folder pack takes the same share of every class and split, within the byte budget."
    src = gs.make_dry_source(tmp_path / "src", n_train=40, n_test=20) / "imagenette"
    full = gs.folder_bytes(src)
    for budget in (full // 3, full // 2, 2 * full):
        chosen, share, nbytes = gs.imagenette_subset(src, budget)
        assert nbytes <= max(budget, nbytes if share < 1 else 0) and 0 < share <= 1
        assert nbytes == sum(f.stat().st_size for cl in chosen.values() for fs in cl.values() for f in fs)
        assert all(len(fs) >= 1 for cl in chosen.values() for fs in cl.values())
        if budget >= full: assert share == 1 and nbytes == full


def test_no_gpu_without_dry_is_one_line():
    import torch
    if torch.cuda.is_available(): pytest.skip("a GPU is present: the study would run")
    p = study("--data", str(ROOT), timeout=120)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and "no CUDA GPU" in p.stderr and "--dry" in p.stderr, p.stderr


def test_dry_study_end_to_end_and_resume(tmp_path):
    from spectral_align.experiment import MEASURES
    import spectral_align.measures  # noqa: F401  (registers the built-in measures)
    gs_arms = ["baseline", "blur", "noise", "lsf", "channel", "channel-shao", "similarity"]
    out, bundle = tmp_path / "out", tmp_path / "bundle"
    p = study("--dry", "--out-root", str(out), "--bundle", str(bundle))
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    assert p.stdout.strip().splitlines()[-1].startswith("gpu-study: done"), p.stdout[-2000:]
    pack = json.loads((out / "pack" / "pack.json").read_text())
    assert {"cifar10", "imagenette"} <= set(pack["parts"]) and pack["carry_cifar10_mib"] <= pack["limit_mib"]
    for name, folder in STUDIES.items():
        d = out / folder
        for f in RESULT_FILES: assert (d / f).is_file(), f"{name}: {f} missing"
        assert list((d / "figures").glob("*.png")), f"{name}: no figures"
        res = pd.read_csv(d / "results.csv")
        runs = set(zip(res.arm, res.seed))
        assert runs == {(a, s) for a in gs_arms for s in (0, 1, 2)}, f"{name}: runs {sorted(runs)}"
        for (a, s), g in res.groupby(["arm", "seed"]):
            assert set(g.group) == set(MEASURES), f"{name} {a} seed {s}: measures {sorted(set(g.group))}"
        cfg = json.loads((d / "config.json").read_text())["settings"]
        assert cfg["profile"] == "full" and cfg["masking_protocol"] == "subramanian2023" and cfg["seeds"] == 3
        b = json.loads((d / "time_budget.json").read_text())
        assert b["study"] == name and b["device_type"] == "cpu" and b["device"] and b["target_s"] == 600
        assert b["complete"] and not b["failed_runs"] and not b["unfinished_runs"]
        assert set(b["steps"]) == {"data", "plan", "grid", "report"}
        for k, s in b["steps"].items(): assert s["measured_s"] >= 0 and s["planned_s"] is not None, (k, s)
        assert abs(sum(s["planned_s"] for s in b["steps"].values()) - b["target_s"]) < 1
        assert {r["run"] for r in b["measured_tasks"]["runs"]} == {f"{a}-seed{s}" for a in gs_arms for s in (0, 1, 2)}
        assert set(b["measured_tasks"]["per_task_total"]) == {"train", *MEASURES}
        assert (bundle / f"{name}_time_budget.json").is_file()
        with tarfile.open(bundle / f"{name}.tar.gz") as tf:
            names = tf.getnames()
        assert f"{folder}/results.csv" in names and f"{folder}/time_budget.json" in names
        assert not any(n.endswith((".pth", ".pt")) for n in names)
    # resume: one measure of one run is missing; a second call redoes that alone and leaves the other runs alone
    d = out / STUDIES["cifar10"] / "runs"
    (d / "blur-seed1" / "measures" / "hybrid.csv").unlink()
    kept = {f: f.stat().st_mtime for f in d.glob("*/measures/*.csv")}
    p = study("--dry", "--out-root", str(out), "--study", "cifar10")
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    assert "grid: 1 run(s) in 1 lane(s)" in p.stdout, p.stdout[-3000:]
    assert (d / "blur-seed1" / "measures" / "hybrid.csv").is_file()
    assert all(f.stat().st_mtime == t for f, t in kept.items())
    b = json.loads((out / STUDIES["cifar10"] / "time_budget.json").read_text())
    assert b["complete"] and [r["run"] for r in b["measured_tasks"]["runs"]] == ["blur-seed1"]
    assert set(b["measured_tasks"]["per_task_total"]) == {"hybrid"}
