"""Benchmark: CPU (or GPU) throughput of each architecture at the image sizes it is meant for, in images per second,
for training (forward, backward and an SGD step on a batch) and for evaluation (forward only, no gradient).

Architectures and sizes (`--cases`, default all): the small CNN at 32 px (CIFAR) and 112 px, the strided-stem small
CNN at 112, 128 and 224 px, and ResNet-18 at 128 and 224 px. Each case runs `--warmup` batches first, then `--steps`
timed ones, twice: with one torch thread, timed in CPU seconds of this process (the compute per image, insensitive to
the load of other processes: with several threads, busy-waiting threads of a loaded machine would count too), and
with `--threads` threads, timed by the wall clock (what a run on this machine sees, that load included). The peer of
every case is the small CNN at 32 px (the CIFAR workhorse): the last lines give each case's cost per training image
relative to it. The machine, the thread count and the load average are printed first.

    python benchmarks/models.py [--threads 2] [--bs 64] [--steps 6] [--warmup 2] [--cases small_cnn_224@128,...]
"""
import argparse, os, sys, time

import torch
from torch import nn

from spectral_align.models import build_model
from _machine import cpu_name  # benchmarks/_machine.py (the script's folder is on sys.path)

CASES = ["small_cnn@32", "small_cnn@112", "small_cnn_224@112", "small_cnn_224@128", "small_cnn_224@224",
         "resnet18@128", "resnet18@224"]


def _time(f, steps, warmup):
    for _ in range(warmup): f()
    w, c = time.perf_counter(), time.process_time()
    for _ in range(steps): f()
    return time.perf_counter() - w, time.process_time() - c


def bench(arch, size, bs, steps, warmup, device, threads):
    m = build_model(arch, n_classes=10).to(device)
    x, y = torch.rand(bs, 3, size, size, device=device), torch.randint(0, 10, (bs,), device=device)
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    def train_step():
        loss = nn.functional.cross_entropy(m(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        if device.type == "cuda": torch.cuda.synchronize()
    @torch.no_grad()
    def eval_step():
        m(x)
        if device.type == "cuda": torch.cuda.synchronize()
    out, n = {}, bs * steps
    for t, key in ((1, "cpu_s"), (threads, "s")):
        torch.set_num_threads(t)
        m.train(); tw, tc = _time(train_step, steps, warmup)
        m.eval(); ew, ec = _time(eval_step, steps, warmup)
        out[f"train_img_{key}"], out[f"eval_img_{key}"] = (n / tc, n / ec) if key == "cpu_s" else (n / tw, n / ew)
    return dict(arch=arch, size=size, params_m=sum(p.numel() for p in m.parameters()) / 1e6, **out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args(argv)
    device = torch.device(a.device)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores; torch {torch.__version__}, {a.threads} thread(s), device {device}; "
          f"load average {load[0]:.1f} (other processes share the CPU: the wall-clock figures include their load)")
    rows = []
    for case in a.cases.split(","):
        arch, size = case.split("@")
        rows.append(bench(arch, int(size), a.bs, a.steps, a.warmup, device, a.threads))
        r = rows[-1]
        print(f"{arch:14s} {r['size']:4d} px  {r['params_m']:5.2f} M params  per CPU-second (1 thread): train "
              f"{r['train_img_cpu_s']:6.1f}, eval {r['eval_img_cpu_s']:6.1f} img;  wall clock ({a.threads} threads): train "
              f"{r['train_img_s']:6.1f}, eval {r['eval_img_s']:6.1f} img/s", flush=True)
    peer = next((r for r in rows if (r["arch"], r["size"]) == ("small_cnn", 32)), None)
    if peer:
        print("\ncost per training image relative to small_cnn at 32 px (CPU time):")
        for r in rows: print(f"  {r['arch']}@{r['size']}: {peer['train_img_cpu_s'] / r['train_img_cpu_s']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
