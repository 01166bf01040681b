"""Benchmark: PGD-10 (L-inf, eps 8/255, step 2/255, random start) on one model and one batch, three ways, in one process.

1. spectral_align's `attacks.PGD` (with `early_stop=False`, so that every way does exactly `steps`
   forward/backward passes on the whole batch; its default `early_stop=True` is timed too, but how much
   it saves depends on how fast the model is fooled, so it is not part of the ratios);
2. torchattacks' `PGD` (pinned version 3.5.1);
3. a minimal hand-written loop (random start, `autograd.grad`, sign step, clamp), the floor for any
   implementation of the same algorithm.

The ways are timed in turn, round after round (so a load change on a shared machine hits all alike),
and the best round of each is reported as images per second, with the ratios. The goal: the project's
PGD at least as fast as torchattacks and within 1.1x of the minimal loop.

Mixed precision is off for every way (the default of `attacks.PGD`): a bf16/fp16 gradient has a
different sign in many pixels, so the attack, and the robust accuracy it measures, would change with
a speed switch. On CUDA, `--amp` also times the project's PGD under bf16 autocast, for information.

    python benchmarks/attacks.py [--n 256] [--arch auto|small_cnn|resnet18_cifar] [--width 32] [--repeat 5] [--threads N] [--train-epochs 2] [--amp]

With `--minimal`, it times `minimal_perturbation` instead: protocol 'li2023' (the default: 100-radius PGD grid
plus `--mn-starts` Brendel-Bethge runs; needs foolbox==3.3.4) against 'bisect', once each, for `--norm`:

    python benchmarks/attacks.py --minimal [--n 64] [--norm inf|2] [--mn-starts 9]
"""
import argparse, os, platform, time

import torch
import torch.nn.functional as F

from spectral_align.attacks import PGD, predict
from spectral_align.data import make_builtin
from spectral_align.models import build_model
from _machine import cpu_name  # benchmarks/_machine.py (the script's folder is on sys.path)


def minimal_pgd(model, x, y, eps, alpha, steps):
    "The shortest correct L-inf PGD: uniform random start, sign-gradient steps, projection, clamp."
    x_adv = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
    for _ in range(steps):
        x_adv.requires_grad_(True)
        g, = torch.autograd.grad(F.cross_entropy(model(x_adv), y), x_adv)
        x_adv = torch.min(torch.max(x_adv.detach() + alpha * g.sign(), x - eps), x + eps).clamp(0, 1)
    return x_adv


def sync(device):
    if device.type == "cuda": torch.cuda.synchronize()


def main():
    cuda = torch.cuda.is_available()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=None, help="images in the batch (default 256 on CPU, 1024 on GPU)")
    ap.add_argument("--arch", default="auto", choices=["auto", "small_cnn", "resnet18_cifar"],
                    help="model (auto: resnet18_cifar on GPU, small_cnn on CPU)")
    ap.add_argument("--width", type=int, default=32, help="width of small_cnn")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds; the best round of each way is reported")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--amp", action="store_true", help="on CUDA, also time the project's PGD with bf16 autocast")
    ap.add_argument("--train-epochs", type=int, default=2,
                    help="train the model this many epochs on 2000 built-in images first (0: attack the random init)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minimal", action="store_true", help="time minimal_perturbation's protocols li2023 and bisect instead")
    ap.add_argument("--norm", default="inf", choices=["inf", "2"], help="threat model of --minimal")
    ap.add_argument("--mn-starts", type=int, default=9, help="Brendel-Bethge runs of li2023 in --minimal (default 9, as published)")
    a = ap.parse_args()
    try:
        import torchattacks
    except ImportError:
        raise SystemExit("this benchmark needs torchattacks: pip install --no-deps torchattacks==3.5.1")
    if a.threads: torch.set_num_threads(a.threads)
    device = torch.device("cuda" if cuda else "cpu")
    arch = a.arch if a.arch != "auto" else ("resnet18_cifar" if cuda else "small_cnn")
    n = a.n or (1024 if cuda else 256)
    eps, alpha, steps = 8 / 255, 2 / 255, a.steps

    kw = {"width": a.width} if arch == "small_cnn" else {}
    if a.train_epochs > 0:       # a trained model: clean accuracy is high, so early stopping is timed fairly
        import warnings; warnings.filterwarnings("ignore", category=FutureWarning)
        from spectral_align.data import builtin_dls
        from spectral_align.train import make_learner, fit
        learn = make_learner(builtin_dls(n_train=2000, n_valid=100, bs=64, device=device, seed=a.seed), "baseline", arch,
                             seed=a.seed, mixed_precision=False, **kw)
        with learn.no_bar(), learn.no_logging(): fit(learn, a.train_epochs, lr=1e-2)
        model = learn.model.to(device).eval()
    else:
        torch.manual_seed(a.seed)
        model = build_model(arch, n_classes=10, **kw).to(device).eval()
    x, y = make_builtin(n, seed=12345 + a.seed)             # test images: not the training draw
    x, y = x.to(device), y.to(device)

    if a.minimal: return time_minimal(model, x, y, a)
    ours = PGD(model, eps, "inf", steps=steps, step_size=alpha, seed=a.seed, early_stop=False)
    ours_es = PGD(model, eps, "inf", steps=steps, step_size=alpha, seed=a.seed)
    ta = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=True)
    ways = {"spectral_align PGD": lambda: ours(x, y),
            "torchattacks PGD": lambda: ta(x, y),
            "minimal loop": lambda: minimal_pgd(model, x, y, eps, alpha, steps),
            "spectral_align PGD, early_stop=True (default)": lambda: ours_es(x, y)}
    if a.amp and cuda:
        ours_amp = PGD(model, eps, "inf", steps=steps, step_size=alpha, seed=a.seed, early_stop=False, mixed_precision=True)
        ways["spectral_align PGD, bf16 autocast"] = lambda: ours_amp(x, y)

    print(f"machine: {platform.platform()}; CPU: {cpu_name()} ({os.cpu_count()} logical cores, torch threads {torch.get_num_threads()})")
    print(f"device: {torch.cuda.get_device_name(device) if cuda else 'cpu'}; torch {torch.__version__}; torchattacks {torchattacks.__version__}")
    name = arch + (f" (width {a.width})" if arch == "small_cnn" else "")
    clean = (predict(model, x) == y).float().mean().item()
    print(f"model: {name}, {'trained %d epochs' % a.train_epochs if a.train_epochs else 'random init'}, clean accuracy {clean:.3f}")
    print(f"PGD-{steps} L-inf, eps 8/255, step 2/255, random start, batch of {n} images 3x32x32, "
          f"float32 (no mixed precision); best of {a.repeat} rounds")

    for f in ways.values(): f(); sync(device)                   # warm-up: allocations, kernels, thread pools
    times = {k: [] for k in ways}
    results = {}
    for _ in range(a.repeat):
        for k, f in ways.items():
            sync(device); t = time.perf_counter()
            results[k] = f()
            sync(device); times[k].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in times.items()}

    print(f"\n{'way':48s} {'time (s)':>9s} {'images/s':>10s} {'robust acc':>10s}")
    for k in ways:
        acc = (predict(model, results[k]) == y).float().mean().item()
        print(f"{k:48s} {best[k]:9.3f} {n / best[k]:10.1f} {acc:10.3f}")
    def ratio(num, den):
        "Ratio of best times, and the range of the same ratio within each round (the noise of a shared machine)."
        per = [a_ / b_ for a_, b_ in zip(times[num], times[den])]
        return best[num] / best[den], min(per), max(per)

    def verdict(r, lo, hi, goal):
        if r <= goal: return "met"
        return "within noise" if lo <= goal else "NOT met"

    r, lo, hi = ratio("spectral_align PGD", "torchattacks PGD")
    print(f"\ntime of spectral_align PGD / torchattacks PGD:  {r:.3f} (per round {lo:.3f}-{hi:.3f}; "
          f"goal <= 1.00, i.e. at least as fast: {verdict(r, lo, hi, 1.0)})")
    r, lo, hi = ratio("spectral_align PGD", "minimal loop")
    print(f"time of spectral_align PGD / minimal loop:      {r:.3f} (per round {lo:.3f}-{hi:.3f}; goal <= 1.10: {verdict(r, lo, hi, 1.1)})")
    r, lo, hi = ratio("torchattacks PGD", "minimal loop")
    print(f"time of torchattacks PGD / minimal loop:        {r:.3f} (per round {lo:.3f}-{hi:.3f})")
    r, lo, hi = ratio("spectral_align PGD, early_stop=True (default)", "spectral_align PGD")
    print(f"time with early_stop=True / without:            {r:.3f} (depends on how fast the images are fooled)")


def time_minimal(model, x, y, a):
    "Time minimal_perturbation under both protocols on the same images (one run each) and print medians and success at 4/255 or 0.5."
    from spectral_align.attacks import minimal_perturbation, median_minimal_perturbation, success_curve
    print(f"machine: {platform.platform()}; CPU: {cpu_name()} ({os.cpu_count()} logical cores, torch threads {torch.get_num_threads()})")
    print(f"minimal perturbation, norm {a.norm}, {len(x)} images {tuple(x.shape[1:])}, clean accuracy {(predict(model, x) == y).float().mean().item():.3f}")
    ref = 4 / 255 if a.norm == "inf" else 0.5
    for prot, kw in (("bisect", {}), ("li2023", dict(mn_starts=a.mn_starts))):
        t = time.perf_counter()
        df = minimal_perturbation(model, x, y, a.norm, protocol=prot, seed=a.seed, **kw)
        dt = time.perf_counter() - t
        sc = success_curve(df, eps=[ref])
        print(f"{prot:8s} {dt:8.1f} s  median eps {median_minimal_perturbation(df):.5f} (over {sc.over[0]})  "
              f"success at {ref:.4g}: {sc.success_rate[0]:.3f}  found {df.found.mean():.3f}" + (f"  {dict(df.method.value_counts())}" if prot == "li2023" else ""))


if __name__ == "__main__":
    main()
