"""Benchmark: how long the `spectral-align` command takes to start, against importing torch.

Wall time of whole processes (best of N), each started fresh:
1. `spectral-align --help`: should import no torch at all; goal <= 0.5x `python -c "import torch"`.
2. `spectral-align channel FILE --json` on a small results file (the packaged human accuracy matrix as a JSON
   matrix object, written to a temporary folder): needs torch, but neither fastai nor torchvision;
   goal <= 1.3x `python -c "import torch"`.
3. `python -c "import torch"`: the yardstick.
It prints the machine, the times, the ratios and PASS/MISS per goal (it asserts nothing).

    python benchmarks/cli.py [--repeats 5]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

from _machine import cpu_name  # benchmarks/_machine.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]


def best_time(cmd: list, repeats: int, env: dict) -> float:
    "The shortest wall time of `repeats` runs of `cmd` (after one untimed run that warms the file cache)."
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per command; the best counts (default 5, at least 5)")
    args = ap.parse_args()
    n = max(5, args.repeats)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    exe = shutil.which("spectral-align", path=str(Path(sys.executable).parent))
    cli = [exe] if exe else [sys.executable, "-m", "spectral_align"]
    with tempfile.TemporaryDirectory() as d:
        ref = json.loads((ROOT / "spectral_align" / "data" / "human_cbm.json").read_text())
        f = Path(d) / "results.json"
        f.write_text(json.dumps(dict(accuracy=ref["accuracy_percent"], unit="percent", noise_sds=ref["noise_sds"], bands=ref["bands"])))
        t_torch = best_time([sys.executable, "-c", "import torch"], n, env)
        t_help = best_time(cli + ["--help"], n, env)
        t_channel = best_time(cli + ["channel", str(f), "--json"], n, env)
    print(f"machine: {cpu_name()}, {os.cpu_count()} logical CPUs; Python {sys.version.split()[0]}; best of {n} runs each")
    print(f"command: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cli))}")
    yardstick = 'python -c "import torch"'
    print(f"{yardstick:34s} {t_torch:7.3f} s")
    rows = [("spectral-align --help", t_help, 0.5), ("spectral-align channel FILE --json", t_channel, 1.3)]
    for name, t, goal in rows:
        r = t / t_torch
        print(f"{name:34s} {t:7.3f} s   {r:5.2f}x torch import   goal <= {goal}x: {'PASS' if r <= goal else 'MISS'}")


if __name__ == "__main__":
    main()
