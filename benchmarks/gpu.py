"""GPU check: every arm trains, every measure runs, and four speed goals hold, in one process on one NVIDIA GPU, within 5 minutes.

Steps (each timed; a step that fails is reported and the others still run):
1. data: the CIFAR-10 copy in `--data-path` (a folder with `train_jpeg.npz`/`test_jpeg.npz`, JPEG-packed, or plain
   `train.npz`/`test.npz`; only the first `--n-train`/`--n-test` images are read), else the built-in synthetic
   images of the same shape (32x32 RGB, 10 classes).
2. training throughput: the baseline fastai `Learner` (`train.make_learner`, bf16 mixed precision) against a minimal
   PyTorch loop (same model, data, batch size, augmentation, AdamW, one-cycle, bf16 autocast), the fastest epoch
   after the first of each. Goal: the Learner at least 0.9x the loop's images/s. The Learner's model is the
   trained model of the next steps.
3. hybrid sweep: `probes.hybrid_sweep` (18 cutoffs) against the bare forward pass of the same model over the
   same 18 x N images. Goal: at most 1.2x the bare forward's time.
4. PGD-10 (L-inf, eps 8/255, step 2/255, random start, no early stop) of `attacks.PGD` against torchattacks'
   `PGD`, interleaved rounds, best of each. Goal: at least 1.0x torchattacks' images/s.
5. critical-band noise: `masking.band_noise` (one batch on the GPU, 224 px) against the published per-image
   pyrtools Laplacian-pyramid code (noise only). Goal: at least 100x faster.
6. every registered arm (`train.ARMS`) trains for one epoch (ResNet-18 for CIFAR, bf16 mixed precision).
7. every measure (`experiment.MEASURES`) runs on one trained model: a one-arm `run_experiment` (baseline, one epoch).
It ends with one line: PASS (every goal met, every arm trained, every measure ran), MISS (some speed goal missed
or not judged, listed) or FAIL (some step, arm or measure raised an error, listed; exit status 1).

`--dry` runs the same steps on the CPU with tiny sizes (small CNN, a few dozen images, few PGD steps) in well
under a minute: a smoke test of this script and of the package's API; the speed goals are printed, not judged.
Without a GPU and without `--dry` it exits at once with a one-line message.

    python benchmarks/gpu.py [--data-path DIR] [--dry] [--n-train N] [--n-test N] [--n-arms N] [--bs BS]
                             [--epochs E] [--n-hybrid N] [--n-pgd N] [--n-noise N]
"""
import argparse, contextlib, io, os, platform, sys, tempfile, time, traceback, warnings
from pathlib import Path
T0 = time.perf_counter()                        # the verdict's total time includes the imports
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", category=FutureWarning)

import numpy as np
import torch

from spectral_align.core import one_line
from spectral_align.corruptions import ALL_CORRUPTIONS
from spectral_align.data import get_dls, load_jpeg_npz, load_npz, make_builtin
from spectral_align.experiment import MEASURES, ExperimentConfig, run_experiment
import spectral_align.measures  # noqa: F401  (registers the built-in measures)
from spectral_align.masking import NOISE_SDS, N_BANDS, band_noise
from spectral_align.models import build_model
from spectral_align.probes import HYBRID_CUTOFFS_PCT, hybrid_sweep
from spectral_align.attacks import PGD
from spectral_align.train import ARMS, fit, make_learner
from _machine import cpu_name  # benchmarks/_machine.py (the script's folder is on sys.path)
from _timing import TrainTimer, clock, minimal_loop, sync

GOALS = dict(learner=0.9, hybrid=1.2, pgd=1.0, noise=100.0)
BUDGET_S = 300


# --- timing -----------------------------------------------------------------------------------------------------------

class Report:
    "The steps run so far: their times, the goals judged, and what failed."
    def __init__(self, dry: bool):
        self.dry, self.t0, self.steps, self.goals, self.failed, self.notes = dry, T0, [], [], [], []

    def step(self, name: str, fn, *args, **kw):
        "Run step `fn`, print and keep its time; an exception is reported (with its traceback) and recorded, not raised."
        print(f"\n== {name}", flush=True)
        t = time.perf_counter()
        try: out = fn(*args, **kw)
        except Exception as e:
            traceback.print_exc(file=sys.stdout)
            self.failed.append(f"step '{name}' ({type(e).__name__}: {one_line(str(e))})"); out = None
        dt = time.perf_counter() - t
        self.steps.append((name, dt, t))
        print(f"-- {name}: {dt:.1f} s", flush=True)
        return out

    def goal(self, name: str, value: float, goal: float, higher: bool, unit: str, noisy: bool = False):
        "Print the goal `value` (>= or <= `goal`) and keep whether it was met (not judged in a dry run)."
        met = value >= goal if higher else value <= goal
        judged = "not judged (dry run on CPU)" if self.dry else ("met" if met else "MISSED" + (" (within noise)" if noisy else ""))
        print(f"goal: {name} {value:.3g}{unit} {'>=' if higher else '<='} {goal:g}{unit}: {judged}", flush=True)
        self.goals.append((name, value, goal, higher, unit, met))

    def skip(self, name: str, why: str):
        print(f"goal: {name}: skipped ({why})", flush=True)
        self.goals.append((name, None, None, None, "", False)); self.notes.append(f"{name} skipped: {why}")


# --- data -------------------------------------------------------------------------------------------------------------

def load_split(folder, split: str, n: int):
    "The first `n` images and labels of `split` in `folder`: `{split}_jpeg.npz` (JPEG-packed) or `{split}.npz`."
    for name in (f"{split}_jpeg.npz", f"{split}.npz"):
        p = folder / name
        if p.exists():
            x, y = load_jpeg_npz(p, limit=n) if name.endswith("_jpeg.npz") else load_npz(p)
            return x[:n], y[:n], name
    raise ValueError(f"--data-path {str(folder)!r} holds neither {split}_jpeg.npz nor {split}.npz")


def load_data(path, n_train: int, n_test: int):
    if path is None:
        x, y = make_builtin(n_train + n_test, seed=0)
        return x[:n_train], y[:n_train], x[n_train:], y[n_train:], "built-in synthetic images (no --data-path)"
    folder = Path(path).expanduser()
    xt, yt, ft = load_split(folder, "train", n_train)
    xv, yv, fv = load_split(folder, "test", n_test)
    if tuple(xt.shape[1:]) != (3, 32, 32): raise ValueError(f"--data-path: expected 32x32 RGB images, got {tuple(xt.shape[1:])}")
    return xt, yt, xv, yv, f"{folder} ({ft}, {fv})"


# --- 2. Learner against a minimal loop ------------------------------------------------------------------------------

def precision(learn) -> str:
    "The mixed precision a Learner trains with ('bf16', 'fp16' or 'fp32')."
    mp = [cb for cb in learn.cbs if type(cb).__name__ == "MixedPrecision"]
    if not mp: return "fp32"
    return "bf16" if "bf16" in str(getattr(mp[0], "amp_mode", "")).lower() else "fp16"


def throughput(rep, a, xt, yt, xv, yv, device):
    bs, n_batches = a.bs, len(xt) // a.bs
    t_loop, _ = minimal_loop(xt.to(device), yt.to(device), a.arch, bs, a.epochs, a.lr, device, a.arch_kwargs)
    ips_loop = n_batches * bs / t_loop
    dls = get_dls(xt, yt, xv, yv, bs=bs, device=device, seed=0, n_classes=10)
    timer = TrainTimer(device)
    learn = make_learner(dls, "baseline", a.arch, seed=0, cbs=[timer], **a.arch_kwargs)
    with learn.no_bar(), learn.no_logging(), warnings.catch_warnings():
        warnings.simplefilter("ignore"); hist = fit(learn, a.epochs, a.lr)
    ips_learn = n_batches * bs / min(timer.times[1:] or timer.times)
    print(f"{len(xt)} images, batch {bs}, {a.epochs} epochs each, fastest epoch after the first; Learner precision "
          f"{precision(learn)}, accuracy after {a.epochs} epochs {float(hist.accuracy.iloc[-1]):.3f}")
    print(f"minimal bf16 PyTorch loop: {ips_loop:10.0f} images/s" if device.type == "cuda" else
          f"minimal PyTorch loop:      {ips_loop:10.0f} images/s")
    print(f"fastai Learner (baseline): {ips_learn:10.0f} images/s")
    rep.goal("Learner / minimal loop, images/s", ips_learn / ips_loop, GOALS["learner"], True, "x")
    return learn.model.eval()


# --- 3. hybrid sweep against the bare forward pass --------------------------------------------------------------------

def best_time(fns: dict, device, repeat: int) -> dict:
    "Best wall time of each function over `repeat` interleaved rounds (after one untimed warm-up), and every round's time."
    for f in fns.values(): f(); sync(device)
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t = clock(device); f(); times[k].append(clock(device) - t)
    return times


def hybrid(rep, a, model, x, y, device):
    x, y, bs, cutoffs = x[:a.n_hybrid].to(device), y[:a.n_hybrid], a.bs_eval, list(HYBRID_CUTOFFS_PCT)

    @torch.no_grad()
    def bare():
        for _ in cutoffs:
            for i in range(0, len(x), bs): model(x[i:i + bs]).argmax(1)
    times = best_time({"bare": bare, "sweep": lambda: hybrid_sweep(model, x, y, cutoffs=cutoffs, seed=0, bs=bs, n_partner_seeds=1)}, device, a.repeat)
    tb, ts = min(times["bare"]), min(times["sweep"])
    per = [s / b for s, b in zip(times["sweep"], times["bare"])]
    print(f"{len(cutoffs)} cutoffs x {len(x)} images, batch {bs}, best of {a.repeat} rounds")
    print(f"bare forward pass:  {tb:8.3f} s")
    print(f"hybrid_sweep:       {ts:8.3f} s   (per round {min(per):.2f}-{max(per):.2f}x)")
    rep.goal("hybrid sweep / bare forward, time", ts / tb, GOALS["hybrid"], False, "x", noisy=min(per) <= GOALS["hybrid"])


# --- 4. PGD against torchattacks --------------------------------------------------------------------------------------

def pgd(rep, a, model, x, y, device):
    name = f"PGD-{a.pgd_steps} / torchattacks, images/s"
    try: import torchattacks
    except ImportError: return rep.skip(name, "torchattacks is not installed: pip install --no-deps torchattacks==3.5.1")
    x, y = x[:a.n_pgd].to(device), y[:a.n_pgd].to(device)
    eps, alpha, steps = 8 / 255, 2 / 255, a.pgd_steps
    ours = PGD(model, eps, "inf", steps=steps, step_size=alpha, seed=0, early_stop=False)
    ta = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=True)
    times = best_time({"ours": lambda: ours(x, y), "ta": lambda: ta(x, y)}, device, a.repeat)
    to, tt = min(times["ours"]), min(times["ta"])
    per = [t / o for o, t in zip(times["ours"], times["ta"])]
    print(f"L-inf, eps 8/255, step 2/255, {steps} steps, random start, no early stop, float32; {len(x)} images, "
          f"best of {a.repeat} rounds; torchattacks {torchattacks.__version__}")
    print(f"spectral_align PGD: {len(x) / to:10.0f} images/s")
    print(f"torchattacks PGD:   {len(x) / tt:10.0f} images/s   (ratio per round {min(per):.2f}-{max(per):.2f}x)")
    rep.goal(name, tt / to, GOALS["pgd"], True, "x", noisy=max(per) >= GOALS["pgd"])


# --- 5. critical-band noise against the published pyramid code --------------------------------------------------------

def pyramid_noise(pt, size: int, sd: float, k: int, rng, n_bands: int = N_BANDS) -> np.ndarray:
    "One band-noise image the published way: white noise -> Laplacian pyramid -> band k's level -> RMS of the finest level."
    def rms(v): return np.sqrt(np.mean(np.square(v)))
    pyr = pt.pyramids.LaplacianPyramid(rng.standard_normal((size, size)) * sd)
    recon, first = pyr.recon_pyr(levels=n_bands - (k + 1)), pyr.recon_pyr(levels=0)
    return recon * rms(first) / rms(recon)


def noise(rep, a, device):
    name = "band_noise speed-up over the per-image pyramid"
    try: import pyrtools as pt
    except ImportError: return rep.skip(name, "pyrtools is not installed: pip install pyrtools (a dev dependency)")
    conds = [(s, k) for s in NOISE_SDS if s > 0 for k in range(N_BANDS)]
    n, size = a.n_noise, 224
    sd = torch.tensor([conds[i % len(conds)][0] for i in range(n)], dtype=torch.float32)
    band = torch.tensor([conds[i % len(conds)][1] for i in range(n)])
    sdd, bandd = sd.to(device), band.to(device)
    rng = np.random.default_rng(0)
    times = best_time({"ours": lambda: band_noise(n, size, bandd, sdd, seed=0, device=device),
                       "pyramid": lambda: [pyramid_noise(pt, size, float(sd[i]), int(band[i]), rng) for i in range(n)]},
                      device, a.repeat)
    to, tp = min(times["ours"]), min(times["pyramid"])
    print(f"{n} noise images of {size} px (SD 0.02-0.16 x {N_BANDS} bands, cycled), best of {a.repeat} rounds")
    print(f"{'masking.band_noise (' + device.type + ', one batch):':44s} {to * 1e3:9.2f} ms  ({to / n * 1e6:9.1f} us/image)")
    print(f"{'published pyramid code (NumPy, per image):':44s} {tp * 1e3:9.2f} ms  ({tp / n * 1e6:9.1f} us/image)")
    rep.goal(name, tp / to, GOALS["noise"], True, "x")


# --- 6. every arm -----------------------------------------------------------------------------------------------------

def arms(rep, a, xt, yt, xv, yv, device):
    dls = get_dls(xt[:a.n_arms], yt[:a.n_arms], xv, yv, bs=a.bs, device=device, seed=0, n_classes=10)
    print(f"{len(ARMS)} arms, 1 epoch each on {min(a.n_arms, len(xt))} images, batch {a.bs}, arch {a.arch}")
    print(f"  {'arm':18s} {'set-up s':>8s} {'epoch s':>8s} {'images/s':>9s} {'loss':>7s} {'accuracy':>8s}  precision")
    failed, n_img = [], (min(a.n_arms, len(xt)) // a.bs) * a.bs
    for arm, spec in ARMS.items():
        params = {k: v for k, v in a.arm_params.items() if k in spec.defaults} or None
        try:
            t = time.perf_counter(); timer = TrainTimer(device)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                learn = make_learner(dls, arm, a.arch, params=params, seed=0, cbs=[timer], **a.arch_kwargs)
                setup = time.perf_counter() - t
                with learn.no_bar(), learn.no_logging(): hist = fit(learn, 1, a.lr)
            loss, acc, prec = float(hist.train_loss.iloc[-1]), float(hist.accuracy.iloc[-1]), precision(learn)
            bad = not np.isfinite(loss) or (device.type == "cuda" and prec != "bf16")
            print(f"  {arm:18s} {setup:8.2f} {timer.times[0]:8.2f} {n_img / timer.times[0]:9.0f} {loss:7.3f} {acc:8.3f}  {prec}"
                  + ("  <- not finite / not bf16" if bad else ""), flush=True)
            if bad: failed.append(f"{arm} (loss {loss:.3g}, {prec})")
        except Exception as e:
            print(f"  {arm:18s} FAILED: {type(e).__name__}: {one_line(str(e))}", flush=True)
            failed.append(f"{arm} ({type(e).__name__}: {one_line(str(e))})")
    if failed: rep.failed.append("arms failed: " + "; ".join(failed))
    return not failed


# --- 7. every measure -------------------------------------------------------------------------------------------------

def measures(rep, a, xt, yt, xv, yv, device):
    names = list(MEASURES)
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "data"); os.makedirs(data)
        for split, x, y in (("train", xt[:a.n_arms], yt[:a.n_arms]), ("test", xv, yv)):   # uint8 (N, H, W, C), as load_npz reads
            np.savez(os.path.join(data, f"{split}.npz"), x=(x * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy(), y=y.numpy())
        cfg = ExperimentConfig(data="npz", data_path=data, arch=a.arch, arms=["baseline"], epochs=1, bs=a.bs, lr=a.lr,
                               n_train=a.n_arms, n_valid=len(xv), measures=names, device=device.type, out=os.path.join(d, "out"),
                               **a.exp)
        print(f"run_experiment: baseline, 1 epoch on {min(a.n_arms, len(xt))} images, measures on {len(xv)} held-out images "
              f"(n_eval {cfg.n_eval}, n_attack {cfg.n_attack}, n_minimal {cfg.n_minimal}, PGD steps {cfg.pgd_steps}, "
              f"{len(cfg.corruptions or ALL_CORRUPTIONS)} corruptions x {len(cfg.severities)} severities)", flush=True)
        log, err = io.StringIO(), None
        try:
            with contextlib.redirect_stdout(log): res = run_experiment(cfg, file=log)["results"]   # its progress bars too
        except Exception as e: res, err = None, e; log.write(traceback.format_exc())
        rd = os.path.join(cfg.out, "runs", "baseline-seed0")
        t_prev = os.path.getmtime(os.path.join(rd, "model.pth")) if os.path.exists(os.path.join(rd, "model.pth")) else None
        missing = []
        for m in names:                             # each measure's time: between the CSV files written one after the other
            f = os.path.join(rd, "measures", f"{m}.csv")
            if not os.path.exists(f): missing.append(m); print(f"  {m:18s} did not run"); continue
            t = os.path.getmtime(f)
            rows = res[res.group == m] if res is not None else None
            scalar = rows[rows.param.isna() & rows.value.notna()] if rows is not None else None
            show = f"  e.g. {scalar.measure.iloc[0]} = {scalar.value.iloc[0]:.3g}" if scalar is not None and len(scalar) else ""
            print(f"  {m:18s} {t - t_prev if t_prev else float('nan'):6.1f} s  {len(rows) if rows is not None else '?':>4} rows{show}")
            t_prev = t
    if err is not None:
        print(log.getvalue()[-2000:])
        rep.failed.append(f"measures did not run: {', '.join(missing) or 'none'} ({type(err).__name__}: {one_line(str(err))})")
    return err is None


# --- main -------------------------------------------------------------------------------------------------------------

def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-path", default=None, help="folder with train_jpeg.npz/test_jpeg.npz (or train.npz/test.npz); default: synthetic images")
    ap.add_argument("--dry", action="store_true", help="run every step on the CPU with tiny sizes (speed goals not judged)")
    ap.add_argument("--n-train", type=int, default=None, help="training images for the throughput step (25600; dry 128)")
    ap.add_argument("--n-test", type=int, default=None, help="held-out images (5000; dry 32)")
    ap.add_argument("--n-arms", type=int, default=None, help="training images of each arm's epoch (10240; dry 64)")
    ap.add_argument("--bs", type=int, default=None, help="training batch size (512; dry 32)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs of the throughput step, the fastest after the first is timed (3; dry 2)")
    ap.add_argument("--n-hybrid", type=int, default=None, help="images of the hybrid sweep (2560; dry 32)")
    ap.add_argument("--n-pgd", type=int, default=None, help="images of the PGD comparison (1024; dry 16)")
    ap.add_argument("--n-noise", type=int, default=None, help="224-px noise images of the band-noise comparison (256; dry 4)")
    ap.add_argument("--repeat", type=int, default=None, help="timed rounds of each comparison, best counts (3; dry 1)")
    a = ap.parse_args(argv)
    dry = a.dry
    d = lambda v, gpu, cpu: v if v is not None else (cpu if dry else gpu)
    a.n_train, a.n_test, a.n_arms = d(a.n_train, 25600, 128), d(a.n_test, 5000, 32), d(a.n_arms, 10240, 64)
    a.bs, a.epochs, a.repeat = d(a.bs, 512, 32), d(a.epochs, 3, 2), d(a.repeat, 3, 1)
    a.n_hybrid, a.n_pgd, a.n_noise = d(a.n_hybrid, 2560, 32), d(a.n_pgd, 1024, 16), d(a.n_noise, 256, 4)
    a.pgd_steps, a.bs_eval, a.lr = (2 if dry else 10), (64 if dry else 1024), 3e-3
    a.arch, a.arch_kwargs = ("small_cnn", {"width": 8}) if dry else ("resnet18_cifar", {})
    a.arm_params = dict(n_target=32, predictor_epochs=1, v1_units=64) if dry else {}     # dry: small neural targets
    n_valid = min(a.n_test, 32 if dry else 1000)
    a.exp = (dict(n_eval=16, n_attack=8, n_minimal=4, pgd_steps=2, eps_linf=["8/255"], eps_l2=[0.5], severities=[1],
                  minimal_protocol="bisect", hybrid_partner_seeds=1) if dry      # dry: the published minimal protocol (minutes of
             else dict(n_eval=128, n_attack=256, n_minimal=64, pgd_steps=10, severities=[3]))   # Brendel-Bethge) runs on the GPU only
    a.n_valid = n_valid
    if a.data_path is not None:
        f = Path(a.data_path).expanduser()
        if not f.is_dir(): ap.error(f"--data-path {str(f)!r} is not a folder")
        for split in ("train", "test"):
            if not any((f / n).is_file() for n in (f"{split}_jpeg.npz", f"{split}.npz")):
                ap.error(f"--data-path {str(f)!r} holds neither {split}_jpeg.npz nor {split}.npz")
    for k in ("n_train", "n_test", "n_arms", "bs", "epochs", "repeat", "n_hybrid", "n_pgd", "n_noise"):
        if getattr(a, k) < 1: ap.error(f"--{k.replace('_', '-')} must be >= 1; got {getattr(a, k)}")
    return a


def main(argv=None):
    a = parse(argv)
    if not a.dry and not torch.cuda.is_available():
        print("gpu-check: no CUDA GPU is visible to torch (torch.cuda.is_available() is False); run it on a machine with an "
              "NVIDIA GPU, or pass --dry (make gpu-check DRY=1) for the CPU smoke run", file=sys.stderr)
        return 2
    device = torch.device("cpu" if a.dry else "cuda")
    if device.type == "cuda": torch.backends.cudnn.benchmark = True
    rep = Report(a.dry)
    dev = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu (dry run; torch threads: {torch.get_num_threads()})"
    print(f"gpu-check: device {dev}")
    print(f"machine: {platform.platform()}; CPU: {cpu_name()} ({os.cpu_count()} logical cores); Python {sys.version.split()[0]}, "
          f"torch {torch.__version__}" + (f", CUDA {torch.version.cuda}" if device.type == "cuda" else ""))
    print(f"model: {a.arch} {a.arch_kwargs or ''}; {'bf16 mixed precision' if device.type == 'cuda' else 'float32 (CPU)'}; "
          f"{len(ARMS)} arms, {len(MEASURES)} measures", flush=True)

    data = rep.step("data", load_data, a.data_path, a.n_train, a.n_test)
    if data is None: return verdict(rep, False, False)
    xt, yt, xv, yv, src = data
    print(f"{len(xt)} training and {len(xv)} held-out images {tuple(xt.shape[1:])} from {src}")
    model = rep.step("training throughput: fastai Learner vs minimal PyTorch loop", throughput, rep, a, xt, yt,
                     xv[:a.n_valid], yv[:a.n_valid], device)
    if model is None:
        model = build_model(a.arch, 10, **a.arch_kwargs).to(device).eval()
        print("(the comparisons below use an untrained model)")
    rep.step("hybrid sweep vs bare forward pass", hybrid, rep, a, model, xv, yv, device)
    rep.step("PGD vs torchattacks", pgd, rep, a, model, xv, yv, device)
    rep.step("critical-band noise vs published pyramid code", noise, rep, a, device)
    arms_ok = rep.step("every arm, 1 epoch", arms, rep, a, xt, yt, xv[:a.n_valid], yv[:a.n_valid], device)
    meas_ok = rep.step("every measure (run_experiment)", measures, rep, a, xt, yt, xv[:a.n_valid], yv[:a.n_valid], device)
    return verdict(rep, bool(arms_ok), bool(meas_ok))


def verdict(rep, arms_ok: bool, meas_ok: bool) -> int:
    total = time.perf_counter() - rep.t0
    print("\n== summary")
    print(f"  {'imports and set-up':62s} {rep.steps[0][2] - rep.t0 if rep.steps else total:7.1f} s")
    for name, dt, _ in rep.steps: print(f"  {name:62s} {dt:7.1f} s")
    met = [g for g in rep.goals if g[1] is not None and g[5]]
    missed = [f"{n} {v:.3g}{u} (goal {'>=' if h else '<='} {g:g}{u})" for n, v, g, h, u, ok in rep.goals if v is not None and not ok]
    done = (f"all {len(ARMS)} arms trained" if arms_ok else "arms FAILED") + ", " + \
           (f"all {len(MEASURES)} measures ran" if meas_ok else "measures FAILED")
    over = f"; over the {BUDGET_S} s budget" if total > BUDGET_S and not rep.dry else ""
    if rep.failed:
        word, detail = "FAIL", "; ".join(rep.failed)
    elif rep.dry:
        word, detail = "DRY RUN", f"CPU, tiny sizes: speed goals not judged; {done}"
    elif len(met) == len(GOALS) == len(rep.goals):
        word, detail = "PASS", f"{len(met)}/{len(GOALS)} goals met, {done}"
    else:
        word, detail = "MISS", f"{len(met)}/{len(GOALS)} goals met; " + "; ".join(missed + rep.notes) + f"; {done}"
    print(f"gpu-check: {word} ({detail}) in {total:.0f} s{over}", flush=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
