"""Beyond one machine, on CPU: the runs of an experiment as submitit jobs (local executor), and one run trained by two
processes started with torchrun (gloo). See the notebooks 12_experiment ("Beyond one machine") and 11_train
("Several processes", "Several GPUs")."""
import io, os, subprocess, sys
from pathlib import Path

import pandas as pd
import pytest
import torch

pytest.importorskip("submitit")
pytest.importorskip("accelerate")

from spectral_align.core import suite_seed
from spectral_align.experiment import ExperimentConfig, missing_runs, read_lock, read_results, run_experiment, run_name
from spectral_align.report import report_from_folder
import spectral_align.measures  # noqa: F401  (registers the built-in measures)
from spectral_align.train import read_training_state

TINY = dict(arms="baseline,blur", n_train=48, n_valid=24, epochs=1, bs=16, measures="clean,lowpass_highpass", n_eval=24)
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="", MPLBACKEND="Agg")


def _flags(d: dict) -> list:
    return [a for k, v in d.items() for a in (f"--{k.replace('_', '-')}", str(v))]


def _sequential(tmp_path) -> pd.DataFrame:
    "The reference: the runs one after another in this process, on one thread (as each job runs)."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    try: return run_experiment(ExperimentConfig(**TINY, first_seed=suite_seed(), out=str(tmp_path / "seq")), force=True,
                               file=io.StringIO())["results"]
    finally: torch.set_num_threads(n)


def _cli(argv, capsys) -> str:
    "Run `spectral-align ARGV` in this process; return its stdout (the jobs it starts inherit one thread from OMP_NUM_THREADS)."
    from spectral_align.cli import main
    rc = main(argv)
    o = capsys.readouterr()
    assert rc == 0, o.err[-3000:]
    return o.out


def test_local_launcher_matches_sequential(tmp_path, capsys, monkeypatch):
    "Two arms as two local submitit jobs (two processes), from the command line: the same results.csv as in sequence."
    monkeypatch.setenv("OMP_NUM_THREADS", "1"); monkeypatch.setenv("MKL_NUM_THREADS", "1")
    seq = _sequential(tmp_path)
    out = tmp_path / "cluster"
    cmd = ["experiment", *_flags(TINY), "--first-seed", str(suite_seed()), "--out", str(out), "--launcher", "local",
           "--slurm-time", "10"]
    assert "submitted 2 run(s) as local job(s)" in _cli(cmd, capsys)
    par = read_results(out / "results.csv")
    pd.testing.assert_frame_equal(par, seq)                              # number for number
    assert (out / "summary.csv").exists() and (out / "report.html").exists()
    assert read_lock(out) is None and not list(out.glob("runs/*/.lock"))  # every lock released
    cfg = ExperimentConfig(**TINY, first_seed=suite_seed(), out=str(out))
    assert missing_runs(cfg) == []
    # a rerun submits only what is missing: remove one measure of one run
    (out / "runs" / run_name("blur", suite_seed()) / "measures" / "clean.csv").unlink()
    assert missing_runs(cfg) == [("blur", suite_seed())]
    assert "submitted 1 run(s)" in _cli(cmd + ["--resume"], capsys)
    # `spectral-align report OUT` rebuilds the same results from the runs on disk
    (out / "results.csv").unlink()
    assert "report:" in _cli(["report", str(out)], capsys)
    assert (out / "results.csv").exists()
    pd.testing.assert_frame_equal(report_from_folder(out, file=io.StringIO())["results"], seq)


def test_torchrun_two_cpu_processes(tmp_path):
    """`torchrun -m spectral_align.cli experiment` with two CPU processes: process 0 prepares the folder (the other does
    not refuse it), both train, process 0 writes; the checkpoints hold the unwrapped model and resume in one process."""
    out = tmp_path / "ddp"
    d = dict(TINY, arms="baseline", epochs=2, measures="clean")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "spectral_align.cli",
           "experiment", *_flags(d), "--device", "cpu", "--first-seed", str(suite_seed()), "--out", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-3000:])
    assert p.stdout.count("spectral_align experiment:") == 1            # one process speaks
    assert "× 2 processes" in p.stdout
    rd = out / "runs" / run_name("baseline", suite_seed())
    st = read_training_state(rd / "train_state.pth")
    assert st["epoch"] == 2 and not any(k.startswith("module.") for k in st["model"])
    assert sorted(q.name for q in rd.iterdir()) == ["history.csv", "measures", "model.pth", "train_state.pth"]
    res = pd.read_csv(out / "results.csv")
    assert list(res.measure) == ["clean_acc"] and read_lock(out) is None
    # the folder resumes in a single process: nothing left to do
    buf = io.StringIO()
    run_experiment(ExperimentConfig(**d, first_seed=suite_seed(), out=str(out), device="cpu"), resume=True, file=buf)
    assert "0 task(s) to run" in buf.getvalue()
