"""GPU study: the paper-scale grid, every arm x 3 seeds of ResNet-18 with the published measurement protocols, on
CIFAR-10 (the lossy JPEG copy, full training set) and on Imagenette at 224 px, resumable, with a time budget per step,
sized for one GPU window (at most 10 minutes a command, at most 64 MiB of files carried to the GPU machine).

Two commands, one here and one there:

    python benchmarks/gpu_study.py --pack [--source ../shared/data] [--data .gpu_data]      # here: pack the data
    python benchmarks/gpu_study.py [--data .gpu_data] [--study cifar10|imagenette|all] [--bundle $OUT]   # on the GPU

`make gpu-study PACK=1` and `make gpu-study [DATA=dir] [STUDY=cifar10] [DRY=1]` run them.

The grid (`STUDIES`; every run goes through the package's public experiment API, `spectral_align.experiment`):
- arms baseline, blur, noise, lsf, channel, channel-shao and similarity (aligned to the human IT RDMs of the 92-image
  set when the data holds it, else to simulated V1, said in the log), 3 seeds each;
- cifar10: `resnet18_cifar`, every training and test image (`n_train 0`, `n_valid 0`), `EPOCHS['cifar10']` epochs;
- imagenette: `resnet18` at 224 px (`data='folder'`), the images the pack holds (see below);
- profile full with the published protocols: `minimal_protocol li2023`, `hybrid_partner_seeds 4`, severities 1..5 of
  the 15 common corruptions (CIFAR-10-C constants at 32 px, ImageNet-C at 224 px), `masking_protocol subramanian2023`,
  every measure (`experiment.MEASURES`).
Results go to `results/cifar10-jpeg-gpu/` and `results/imagenette-gpu/` (the files of the CPU reference runs:
config.json, data.json, results.csv, summary.csv, figures/, report.html; runs/ and checkpoints stay git-ignored), with
`time_budget.json` (the device, and each step's planned, estimated and measured seconds against the 600 s target) and
`gpu_study.log` beside them. `--bundle DIR` also writes `DIR/<study>.tar.gz` (the folder without model weights) and
`DIR/<study>_time_budget.json`, the files a GPU machine's `$OUT` brings back.

Steps of each study (each timed; the budget names the one that broke the target):
1. data: the CIFAR-10 pack is unpacked to the original `train_jpeg.npz` / `test_jpeg.npz` byte for byte (checked
   against the sha256 sums the pack recorded); the Imagenette pack is an image folder already.
2. plan: the package's own estimate (`experiment.plan_experiment`, calibrated on this device in a second or two) of every
   task still to do, divided over the lanes.
3. grid: the runs not yet complete, in `--parallel` lanes on the one device: each lane is a process that runs
   `experiment.run_one` (the job the local launcher runs) on its share of the runs, one after another, so several
   ResNet-18s share the GPU while none of them fills it. (`experiment.launch_experiment(launcher='local')` starts every
   run at once: 21 ResNet-18 processes on one GPU; `--parallel 0` hands the runs to it instead.) At `--deadline-s` the
   lanes are stopped: finished runs and measures stay, the rest resumes.
4. report: `report.write_outputs` over the runs that are complete (unfinished ones are named).

Resumable: a second call with the same settings continues where the first stopped (the experiment's `--resume`: a
run folder with `model.pth` is not trained again, a measure with its CSV is not run again, training resumes from its
last epoch's checkpoint). On a lent GPU machine the folders survive only while the machine stays warm.

Data and the 64 MiB carry (`--pack`, measured from `--source`, default ../shared/data):
- CIFAR-10: the 60,000 images of the lossy JPEG copy share one 623-byte JPEG header; the pack keeps that header once
  and each image's scan bytes (lossless: the unpack rebuilds every file byte for byte), about 18 MB instead of 56 MB;
- the 92-image set (`rdms_and_stimuli.npz`, 4.8 MB) for the aligned arm and the neural measure;
- Imagenette: the 224-px JPEG files byte for byte (no re-encoding), the first files of each class in name order, as
  many as fit in what the limit leaves beside the working tree, the wheels in `.whl/` and the 92-image set (the same
  share of every class, training and validation); the pack says how many. The full copy (83 MB) does not fit.
The pack prints each part's size and each study's carry (working tree + wheels + its data) against 64 MiB. Carry
`.gpu_data/cifar10` and `.gpu_data/neural` in one call, `.gpu_data/imagenette` and `.gpu_data/neural` in another.
Packages the GPU machine lacks travel as wheels in `.whl/` (/work/.library/device/README.md): fastai, fastcore,
fastprogress, fasttransform, plum-dispatch, beartype, foolbox, eagerpy, imagecorruptions-imaug, torchattacks.

In a GPU window (15 minutes of device time, 10 a command, 64 MiB carried, a bare machine each time):

    # here, once: the wheels into .whl/ FIRST (the pack sizes Imagenette to what they leave), then the pack
    python benchmarks/gpu_study.py --pack
    # call 1, carry [".gpu_data/cifar10", ".gpu_data/neural", ".whl"]:
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD &&
      PYTHONUNBUFFERED=1 python3 benchmarks/gpu_study.py --study cifar10 --bundle $OUT 2>&1 | tee $OUT/cifar10.log
    # call 2, carry [".gpu_data/imagenette", ".gpu_data/neural", ".whl"]: the same with --study imagenette
A call stops its lanes at --deadline-s (540 s) and still writes the report, the budget and the bundle; calling it
again at once (the machine still warm) resumes. The plan, honestly: CIFAR-10 training alone is 21 runs x 10 epochs x
50,000 images / 21,963 images/s = ~478 s of the 600 s at the reference speed (lanes do not shorten training, which
fills the GPU), leaving ~57 s for every measure of 21 runs, and li2023's Brendel-Bethge search alone is estimated at
far more: expect PARTIAL at the deadline; time_budget.json then says which step broke the target (the speed work of
issue 24 item 2, or fewer epochs with --epochs, is what would make it fit).

`--dry` runs every step on the CPU at tiny sizes in about two minutes: it writes a tiny CIFAR-like JPEG set and a tiny
image folder (the built-in synthetic images), packs them, unpacks them and runs both grids (small CNN, one epoch, a few
images per measure, `minimal_protocol bisect`, severity 1), with the same files and the same budget JSON. Without a
GPU and without `--dry` or `--pack` it exits at once with a one-line message.
"""
import argparse, dataclasses, hashlib, io, json, os, platform, shutil, signal, subprocess, sys, tarfile, tempfile, time
import traceback, warnings
from pathlib import Path
T0 = time.perf_counter()
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", category=FutureWarning)

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MiB = 2 ** 20
CARRY_LIMIT = 64 * MiB          # what travels to a lent GPU machine: the working tree, the wheels and the carried data
CARRY_MARGIN = 2 * MiB          # room for files that appear between the pack and the call (logs, notes)
TARGET_S = 600                  # the 10-minute target of each study's grid (issue 24)
ARMS = ["baseline", "blur", "noise", "lsf", "channel", "channel-shao", "similarity"]
SEEDS = 3
# Epochs. CIFAR-10: ResNet-18 (CIFAR stem), AdamW one-cycle at lr 3e-3, batch 512, pad-crop + flip: fast one-cycle
# schedules reach >= 90 % clean accuracy on CIFAR-10 in about 10 epochs, so 10 is the choice for the >= 90 % target on
# the JPEG copy. UNMEASURED until a GPU run: the accuracy this reaches is what the run's summary.csv says, not a
# promise. Imagenette: 224 px from scratch on the packed subset; 16 epochs, also unmeasured.
EPOCHS = dict(cifar10=10, imagenette=16)
BS = dict(cifar10=512, imagenette=128)
# The reference speed: the fastai Learner trained ResNet-18 (CIFAR) at 21,963 images/s in bf16 on an H200
# (results/gpu-check-h200). Imagenette at 224 px does about (224/32)^2 * 0.4 = ~20x the work per image of the
# ImageNet stem ResNet-18 at 224 vs the CIFAR stem at 32 (1.8 vs 0.56 GFLOPs): ~7,000 images/s is assumed.
REF_IMAGES_S = dict(cifar10=21963, imagenette=7000)
# The planned allocation of the other steps, seconds (the grid's training follows from the speed above; the measures
# get what is left of the 600 s after training, data, plan and report).
PLANNED_FIXED_S = dict(data=15, plan=20, report=30)


# --- output -----------------------------------------------------------------------------------------------------------

class Tee:
    "Print to the terminal and to a log file."
    def __init__(self, *files): self.files = files
    def write(self, s):
        for f in self.files: f.write(s)
    def flush(self):
        for f in self.files: f.flush()


def log(*a, **kw): print(*a, **kw, flush=True)


def device_name(device) -> str:
    import torch
    if device.type == "cuda": return torch.cuda.get_device_name(device)
    return f"cpu ({cpu_name()}, {os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads)"


def cpu_name() -> str:
    sys.path.insert(0, str(Path(__file__).parent))
    from _machine import cpu_name as f
    return f()


# --- packing ----------------------------------------------------------------------------------------------------------

def sha256(a: np.ndarray) -> str: return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def jpeg_header_len(f: bytes) -> int:
    "Bytes of a JPEG file before its entropy-coded scan: up to the end of the start-of-scan (SOS) segment."
    i = f.find(b"\xff\xda")
    if i < 0: raise ValueError("not a baseline JPEG file: no start-of-scan marker")
    return i + 2 + int.from_bytes(f[i + 2:i + 4], "big")


def pack_jpeg_npz(src: Path) -> dict:
    """The arrays of a JPEG-packed npz (`jpeg_bytes`, `offsets`, `y`) with each file's header kept once per distinct
    header: `headers` (joined), `header_offsets`, `header_id` per image, `scans` (joined) and `scan_offsets`."""
    d = np.load(src)
    b, o, y = d["jpeg_bytes"], d["offsets"].astype(np.int64), d["y"]
    raw = b.tobytes()
    heads, ids, scans = {}, np.empty(len(o) - 1, np.int32), []
    for i in range(len(o) - 1):
        f = raw[o[i]:o[i + 1]]
        k = jpeg_header_len(f)
        ids[i] = heads.setdefault(f[:k], len(heads))
        scans.append(f[k:])
    hs = list(heads)
    return dict(headers=np.frombuffer(b"".join(hs), np.uint8), header_offsets=np.cumsum([0] + [len(h) for h in hs]),
                header_id=ids.astype(np.uint16 if len(hs) < 2 ** 16 else np.int32),
                scans=np.frombuffer(b"".join(scans), np.uint8),
                scan_offsets=np.cumsum([0] + [len(s) for s in scans]).astype(np.int64), y=y,
                sha256_jpeg_bytes=np.array(sha256(b)), sha256_offsets=np.array(sha256(d["offsets"])),
                offsets_dtype=np.array(str(d["offsets"].dtype)))


def unpack_jpeg_npz(src: Path, dst: Path) -> Path:
    "Rebuild the original JPEG-packed npz from `pack_jpeg_npz`'s arrays (saved in `src`); check it byte for byte."
    d = np.load(src)
    hs, ho, hid, sc, so = d["headers"].tobytes(), d["header_offsets"], d["header_id"], d["scans"].tobytes(), d["scan_offsets"]
    files = [hs[ho[h]:ho[h + 1]] + sc[so[i]:so[i + 1]] for i, h in enumerate(hid)]
    b = np.frombuffer(b"".join(files), np.uint8)
    o = np.cumsum([0] + [len(f) for f in files]).astype(str(d["offsets_dtype"]))
    if sha256(b) != str(d["sha256_jpeg_bytes"]) or sha256(o) != str(d["sha256_offsets"]):
        raise ValueError(f"{src}: the unpacked JPEG bytes differ from the original's sha256; pack again")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.stem + ".tmp.npz")
    np.savez(tmp, jpeg_bytes=b, offsets=o, y=d["y"])
    os.replace(tmp, dst)
    return dst


def folder_bytes(p: Path) -> int:
    p = Path(p)
    if p.is_file(): return p.stat().st_size
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.exists() else 0


def tree_bytes(root: Path = ROOT) -> int:
    "The bytes of the working tree that travels: tracked files and untracked files git does not ignore."
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError): return folder_bytes(root)
    return sum((root / n).stat().st_size for n in out.decode().split("\0") if n and (root / n).is_file())


def image_files(folder: Path) -> dict:
    "Class name -> the image files of one split folder, in name order."
    exts = {".jpeg", ".jpg", ".png"}
    return {c.name: sorted(f for f in c.iterdir() if f.suffix.lower() in exts) for c in sorted(folder.iterdir()) if c.is_dir()}


def imagenette_subset(src: Path, budget: int) -> tuple:
    "The largest share of every class's training and validation files (first in name order) whose bytes fit `budget`."
    val = "val" if (src / "val").is_dir() else "valid" if (src / "valid").is_dir() else "test"
    splits = {"train": image_files(src / "train"), val: image_files(src / val)}
    sizes = {s: {c: np.cumsum([0] + [f.stat().st_size for f in fs]) for c, fs in cl.items()} for s, cl in splits.items()}
    def take(share):
        return {s: {c: fs[:max(1, int(round(share * len(fs))))] for c, fs in cl.items()} for s, cl in splits.items()}
    def nbytes(share):
        return sum(sizes[s][c][max(1, int(round(share * len(fs))))] for s, cl in splits.items() for c, fs in cl.items())
    lo, hi = 0.0, 1.0
    if nbytes(1.0) > budget:
        for _ in range(30):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if nbytes(mid) <= budget else (lo, mid)
    else: lo = 1.0
    return take(lo), lo, nbytes(lo)


def pack(a) -> int:
    "Write the GPU machine's data into `a.data` (one git-ignored folder): see the module's docstring."
    src, dst = Path(a.source).expanduser(), Path(a.data).expanduser()
    dst.mkdir(parents=True, exist_ok=True)
    tree, whl = tree_bytes(), folder_bytes(ROOT / ".whl")
    if dst.resolve().is_relative_to(ROOT.resolve()) and not ignored(dst):
        log(f"note: {dst} is not ignored by git: it would travel twice (as the tree and as a carry); add it to .gitignore")
    info = dict(source=str(src), limit_mib=CARRY_LIMIT / MiB, tree_mib=tree / MiB, wheels_mib=whl / MiB, parts={})
    log(f"pack: {src} -> {dst}; working tree {tree / MiB:.1f} MiB, wheels (.whl/) {whl / MiB:.1f} MiB, limit "
        f"{CARRY_LIMIT / MiB:.0f} MiB per call")
    cif = src / "cifar10" / "lossy_jpeg"
    if cif.is_dir():
        (dst / "cifar10").mkdir(exist_ok=True)
        for split in ("train", "test"):
            arrays = pack_jpeg_npz(cif / f"{split}_jpeg.npz")
            np.savez(dst / "cifar10" / f"{split}_pack.npz", **arrays)
            log(f"  cifar10 {split}: {len(arrays['y'])} JPEG files, {len(arrays['header_offsets']) - 1} distinct "
                f"header(s); {folder_bytes(cif / f'{split}_jpeg.npz') / MiB:.1f} MiB -> "
                f"{folder_bytes(dst / 'cifar10' / f'{split}_pack.npz') / MiB:.1f} MiB")
        info["parts"]["cifar10"] = folder_bytes(dst / "cifar10") / MiB
    else: log(f"  cifar10: {cif} not found; skipped")
    k92 = src / "neural" / "kriegeskorte2008_92images"
    if (k92 / "rdms_and_stimuli.npz").is_file():
        (dst / "neural" / k92.name).mkdir(parents=True, exist_ok=True)
        for f in ("rdms_and_stimuli.npz", "SOURCE.md"):
            if (k92 / f).is_file(): shutil.copyfile(k92 / f, dst / "neural" / k92.name / f)
        info["parts"]["neural"] = folder_bytes(dst / "neural") / MiB
        log(f"  neural: the 92-image set, {info['parts']['neural']:.1f} MiB")
    else: log(f"  neural: {k92} not found; the aligned arm will align to simulated V1")
    inet = src / "imagenette"
    if (inet / "train").is_dir():
        neural = folder_bytes(dst / "neural")
        budget = CARRY_LIMIT - CARRY_MARGIN - tree - whl - neural
        chosen, share, nbytes = imagenette_subset(inet, budget)
        out = dst / "imagenette"
        if out.exists(): shutil.rmtree(out)
        for split, cl in chosen.items():
            for c, fs in cl.items():
                (out / split / c).mkdir(parents=True, exist_ok=True)
                for f in fs: shutil.copyfile(f, out / split / c / f.name)
        counts = {s: sum(len(fs) for fs in cl.values()) for s, cl in chosen.items()}
        full = folder_bytes(inet / "train") + sum(folder_bytes(inet / s) for s in chosen if s != "train")
        info["parts"]["imagenette"] = folder_bytes(out) / MiB
        info["imagenette"] = dict(share=share, images=counts, full_mib=full / MiB, budget_mib=budget / MiB)
        log(f"  imagenette: {full / MiB:.1f} MiB in {inet} (train + val); {budget / MiB:.1f} MiB left beside the tree, "
            f"wheels and 92-image set: {share:.0%} of every class fits: " + ", ".join(f"{n} {s}" for s, n in counts.items())
            + f" images, {info['parts']['imagenette']:.1f} MiB (224-px JPEG files byte for byte)")
    else: log(f"  imagenette: {inet} not found; skipped")
    log("carry per call (working tree + wheels + data):")
    for study in ("cifar10", "imagenette"):
        if study not in info["parts"]: continue
        tot = tree / MiB + whl / MiB + info["parts"][study] + info["parts"].get("neural", 0)
        info[f"carry_{study}_mib"] = tot
        log(f"  {study:10s} {tot:6.1f} MiB of {CARRY_LIMIT / MiB:.0f}: carry "
            f"{dst / study}" + (f" and {dst / 'neural'}" if "neural" in info["parts"] else "")
            + ("" if tot <= CARRY_LIMIT / MiB else "  <- OVER the limit"))
    (dst / "pack.json").write_text(json.dumps(info, indent=1))
    return 0


def ignored(p: Path) -> bool:
    r = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", str(p)], capture_output=True)
    return r.returncode == 0


# --- data on the machine that runs the study ---------------------------------------------------------------------------

def study_data(data: Path, study: str) -> dict:
    """Where `study`'s data is under `data` (a pack, or a folder laid out like ../shared/data): `data_path`, and `neural`
    (the 92-image set, or None). Unpacks the CIFAR-10 pack into `data/cifar10/unpacked` the first time."""
    neural = data / "neural" / "kriegeskorte2008_92images"
    neural = neural if (neural / "rdms_and_stimuli.npz").is_file() else None
    if study == "cifar10":
        packed, plain = data / "cifar10", data / "cifar10" / "lossy_jpeg"
        if (packed / "train_pack.npz").is_file():
            out = packed / "unpacked"
            for split in ("train", "test"):
                if not (out / f"{split}_jpeg.npz").is_file(): unpack_jpeg_npz(packed / f"{split}_pack.npz", out / f"{split}_jpeg.npz")
            return dict(data_path=out, neural=neural, source=f"{packed} (pack, unpacked and checked byte for byte)")
        if (plain / "train_jpeg.npz").is_file(): return dict(data_path=plain, neural=neural, source=str(plain))
        raise ValueError(f"--data {str(data)!r} holds no CIFAR-10 pack (cifar10/train_pack.npz) nor copy "
                         "(cifar10/lossy_jpeg/train_jpeg.npz); run --pack first")
    p = data / "imagenette"
    if (p / "train").is_dir(): return dict(data_path=p, neural=neural, source=str(p))
    raise ValueError(f"--data {str(data)!r} holds no imagenette/train folder; run --pack first")


def study_config(study: str, where: dict, out: Path, a, device):
    "The experiment config of `study` (`STUDIES` in the docstring; tiny sizes with --dry)."
    from spectral_align.experiment import MEASURES, ExperimentConfig
    aligned = dict(target=str(where["neural"]), rdm="human") if where["neural"] else dict(target="simulated_v1")
    c = dict(data="npz" if study == "cifar10" else "folder", data_path=str(where["data_path"]), arms=list(ARMS),
             seeds=SEEDS, epochs=a.epochs or EPOCHS[study], bs=BS[study], lr=3e-3, measures=list(MEASURES),
             profile="full", minimal_protocol="li2023", hybrid_partner_seeds=4, severities=[1, 2, 3, 4, 5],
             corruptions=["common"], masking_protocol="subramanian2023", masking_noise="pyramid",
             neural=str(where["neural"]) if where["neural"] else None, device=device.type, out=str(out),
             arm_params=dict(noise=dict(sigma=0.12, p=0.5), similarity=aligned))
    if study == "cifar10": c.update(arch="resnet18_cifar", n_train=0, n_valid=0)
    else: c.update(arch="resnet18", image_size=224, n_train=0, n_valid=0)
    if a.dry:               # tiny sizes: the same steps in about a minute per study on 2 CPU cores
        c.update(arch="small_cnn", epochs=a.epochs or 1, bs=16, n_eval=8, n_attack=4, n_minimal=2, pgd_steps=1,
                 eps_linf=["8/255"], eps_l2=[0.5], severities=[1], minimal_protocol="bisect", hybrid_partner_seeds=1,
                 corruptions=["gaussian_noise"],
                 arm_params=dict(noise=dict(sigma=0.12, p=0.5), similarity=dict(aligned, n_target=32, v1_units=32)))
        if study == "imagenette": c.update(image_size=32)
    return ExperimentConfig(**c)


# --- the grid in lanes --------------------------------------------------------------------------------------------------

def worker(argv) -> int:
    "One lane: `run_one` on each of its runs in turn, each run's start and end written to its timing file."
    cfg_file, runs, timings, threads = argv
    import torch
    torch.set_num_threads(int(threads))
    from spectral_align.experiment import ExperimentConfig, run_one, run_name
    import spectral_align.measures  # noqa: F401  (registers the built-in measures)
    cfg = ExperimentConfig.from_dict(json.loads(Path(cfg_file).read_text()))
    failed = 0
    for r in json.loads(runs):
        arm, seed = r
        f = Path(timings) / f"{run_name(arm, seed)}.json"
        t = dict(arm=arm, seed=seed, start=time.time(), pid=os.getpid())
        f.write_text(json.dumps(t))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run_one(cfg, arm, seed, quiet=True)
        except Exception as e:                  # the lane goes on with its next run; the study names the failure
            traceback.print_exc(file=sys.stdout)
            msg = str(e).strip().splitlines()[-1] if str(e).strip() else ""
            print(f"lane {os.getpid()}: FAILED {run_name(arm, seed)}: {type(e).__name__}: {msg}", flush=True)
            failed += 1
            continue
        f.write_text(json.dumps(dict(t, end=time.time())))
        print(f"lane {os.getpid()}: done {run_name(arm, seed)} in {time.time() - t['start']:.1f} s", flush=True)
    return 1 if failed else 0


def run_lanes(cfg, todo: list, n_lanes: int, deadline: float, folder: Path, threads: int, file) -> bool:
    """Run `todo` in `n_lanes` worker processes until done or `deadline` (time.time()); return whether every lane
    finished, and the runs that failed ('name: error')."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg_file = folder / "lanes_config.json"
    cfg_file.write_text(json.dumps(dataclasses.asdict(cfg)))
    lanes = [todo[k::n_lanes] for k in range(n_lanes)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONWARNINGS": "ignore"}
    procs = []
    for k, runs in enumerate(l for l in lanes if l):
        lf = open(folder / f"lane{k}.log", "a")
        p = subprocess.Popen([sys.executable, __file__, "--worker", str(cfg_file), json.dumps(runs), str(folder),
                              str(threads)], stdout=lf, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        procs.append((p, lf, runs))
    print(f"grid: {len(todo)} run(s) in {len(procs)} lane(s) ({threads} CPU thread(s) each); lane logs in {folder}",
          file=file, flush=True)
    def kill(sig):
        for p, _, _ in procs:
            if p.poll() is None:
                try: os.killpg(p.pid, sig)
                except ProcessLookupError: pass
    def stop():
        kill(signal.SIGTERM)
        t = time.time()
        while any(p.poll() is None for p, _, _ in procs) and time.time() - t < 10: time.sleep(0.2)
        kill(signal.SIGKILL)
    done = True
    try:                                     # the lanes run in their own process groups: never leave one behind
        while any(p.poll() is None for p, _, _ in procs):
            if time.time() > deadline:
                done = False
                print("grid: deadline reached; stopping the lanes (finished runs and measures stay; a new call resumes)",
                      file=file, flush=True)
                break
            time.sleep(0.5)
    finally: stop()
    failed = []
    for k, (p, lf, runs) in enumerate(procs):
        p.wait()
        lf.close()
        lines = (folder / f"lane{k}.log").read_text().splitlines()
        failed += [ln.split("FAILED ", 1)[1] for ln in lines if ": FAILED " in ln]
        if p.returncode not in (0, 1) and done:
            print(f"grid: lane {k} ended with exit status {p.returncode}; its log ends:\n" + "\n".join(lines[-20:]),
                  file=file, flush=True)
    for f in failed: print(f"grid: run FAILED: {f} (traceback in the lane logs)", file=file, flush=True)
    return done, failed


# --- time budget --------------------------------------------------------------------------------------------------------

def planned(cfg, study: str, n_train: int) -> dict:
    """The planned seconds of each step against the 600 s target: training from the reference speed (one run at a time
    fills the GPU: lanes do not shorten it), data, plan and report as allocated, the measures what is left."""
    train = len(cfg.arms) * cfg.seeds * cfg.epochs * n_train / REF_IMAGES_S[study]
    p = dict(PLANNED_FIXED_S, train=round(train, 1))
    p["measures"] = round(TARGET_S - sum(p.values()), 1)
    return p


def measured_runs(cfg, timings: Path) -> dict:
    """Measured seconds per task kind over the runs this call ran: training (start to `model.pth`) and each measure
    (from the previous file to its CSV), from the run folders' file times."""
    from spectral_align.experiment import run_name
    tot, runs = {}, []
    for f in sorted(timings.glob("*-seed*.json")):
        t = json.loads(f.read_text())
        rd = Path(cfg.out) / "runs" / run_name(t["arm"], t["seed"])
        prev, row = t["start"], dict(run=rd.name, start=t["start"], end=t.get("end"))
        marks = [("train", rd / "model.pth")] + [(m, rd / "measures" / f"{m}.csv") for m in cfg.measures]
        for k, p in marks:
            if not p.exists() or p.stat().st_mtime < t["start"]: continue      # done in an earlier call
            row[k] = round(p.stat().st_mtime - prev, 2)
            tot[k] = round(tot.get(k, 0.0) + row[k], 2)
            prev = p.stat().st_mtime
        runs.append(row)
    return dict(per_task_total=tot, runs=runs)


def write_budget(out: Path, budget: dict) -> Path:
    p = out / "time_budget.json"
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(budget, indent=1, default=str))
    os.replace(tmp, p)
    return p


def print_budget(b: dict, file) -> None:
    print(f"\n== time budget: {b['study']} on {b['device']} (target {b['target_s']} s for the grid)", file=file)
    print(f"  {'step':10s} {'planned s':>10s} {'estimated s':>12s} {'measured s':>11s}", file=file)
    for k, s in b["steps"].items():
        f = lambda v: "-" if v is None else f"{v:.1f}"
        print(f"  {k:10s} {f(s.get('planned_s')):>10s} {f(s.get('estimated_s')):>12s} {f(s.get('measured_s')):>11s}",
              file=file)
    tot = b["total_measured_s"]
    print(f"  {'total':10s} {sum(s.get('planned_s') or 0 for s in b['steps'].values()):10.1f} {'':>12s} {tot:11.1f}"
          + ("  (over the target)" if tot > b["target_s"] else ""), file=file)
    per = b["measured_tasks"]["per_task_total"]
    if per: print("  work summed over the runs of this call, s (lanes overlap): "
                  + ", ".join(f"{k} {v:.1f}" for k, v in per.items()), file=file)
    file.flush()


# --- one study ----------------------------------------------------------------------------------------------------------

def run_study(study: str, a, device, deadline: float) -> dict:
    import torch
    from spectral_align.experiment import (OutputLock, experiment_data, finish_outputs, missing_runs, plan_experiment,
                                           prepare_output, write_data_info, launch_experiment)
    from spectral_align.report import write_outputs
    import spectral_align.measures  # noqa: F401  (registers the built-in measures)
    from spectral_align.experiment import folder_owner, mark_folder
    out = Path(a.out_root) / a.out_names[study]
    if out.is_dir() and any(out.iterdir()) and folder_owner(out) is None:     # not ours: refused before a file is written
        raise SystemExit(f"gpu-study: {out} is not empty and was not written by spectral_align; pick another --out-root")
    out.mkdir(parents=True, exist_ok=True)
    mark_folder(out)                  # the log below goes into a folder the package owns (its --force keeps the log)
    logf = open(out / "gpu_study.log", "a")
    file = Tee(sys.stdout, logf)
    steps, t_study = {}, time.perf_counter()
    def timed(name, f, *args):
        print(f"\n== {study}: {name}", file=file, flush=True)
        t = time.perf_counter()
        try: return f(*args)
        finally:
            steps[name] = dict(measured_s=round(time.perf_counter() - t, 2))
            print(f"-- {name}: {steps[name]['measured_s']:.1f} s", file=file, flush=True)
    print(f"gpu-study {study}: device {device_name(device)}; {time.strftime('%Y-%m-%d %H:%M:%S')}", file=file)
    where = timed("data", study_data, Path(a.data), study)
    cfg = study_config(study, where, out, a, device)
    print(f"data: {where['source']}; aligned arm: "
          f"{'the 92-image human IT RDMs' if where['neural'] else 'simulated V1 (no 92-image set in the data)'}",
          file=file)
    def load_and_plan():
        d = experiment_data(cfg)
        return d, plan_experiment(cfg, device, tuple(d.image_shape), d.n_train, d.n_valid, d.n_classes)
    data, plan = timed("plan", load_and_plan)
    n_lanes, n_runs = a.parallel, len(plan[["arm", "seed"]].drop_duplicates())
    per_task = plan.groupby("task").seconds.sum().round(1).to_dict()
    print(f"{len(cfg.arms)} arms x {cfg.seeds} seeds, {cfg.arch}, {cfg.epochs} epochs, {data.n_train} training / "
          f"{data.n_valid} held-out images {tuple(data.image_shape)}; profile {plan.attrs['profile']}; "
          f"package estimate of the tasks to do (one at a time, s): {per_task}", file=file)
    ready_plan = planned(cfg, study, data.n_train)
    est_train = per_task.get("train", 0.0)
    est_meas = sum(v for k, v in per_task.items() if k != "train")
    lanes_div = max(1, min(n_lanes or n_runs, n_runs))
    timings = out / "runs" / "_lanes"
    with OutputLock(cfg.out, file):
        prepare_output(cfg, resume=True, force=a.force)
        write_data_info(cfg, data)
        todo = missing_runs(cfg)
        if timings.exists(): shutil.rmtree(timings)
        t = time.perf_counter()
        print(f"\n== {study}: grid", file=file, flush=True)
        complete, failed = True, []
        if not todo: print("grid: every run is complete", file=file, flush=True)
        elif n_lanes: complete, failed = run_lanes(cfg, todo, n_lanes, deadline, timings, a.threads, file)
    if todo and not n_lanes:               # launch_experiment takes the output folder's lock itself; no deadline
        print("grid: every missing run as a job of the local launcher (launch_experiment)", file=file, flush=True)
        launch_experiment(cfg, "local", resume=True, gpus_per_run=int(device.type == "cuda"), threads=a.threads,
                          quiet=True, file=file)
    steps["grid"] = dict(measured_s=round(time.perf_counter() - t, 2))
    print(f"-- grid: {steps['grid']['measured_s']:.1f} s", file=file, flush=True)
    with OutputLock(cfg.out, file):
        timed("report", finish_outputs, cfg, logf, write_outputs)      # its long summary goes to the log only
    missing = missing_runs(cfg)
    steps["data"]["planned_s"], steps["plan"]["planned_s"] = ready_plan["data"], ready_plan["plan"]
    steps["report"]["planned_s"] = ready_plan["report"]
    steps["grid"].update(planned_s=ready_plan["train"] + ready_plan["measures"],
                         estimated_s=round((est_train + est_meas) / lanes_div, 1),
                         planned_train_s=ready_plan["train"], planned_measures_s=ready_plan["measures"],
                         estimated_train_s=round(est_train / lanes_div, 1), estimated_measures_s=round(est_meas / lanes_div, 1))
    total = round(time.perf_counter() - t_study, 2)
    budget = dict(study=study, device=device_name(device), device_type=device.type, target_s=TARGET_S, dry=a.dry,
                  torch=torch.__version__, cuda=torch.version.cuda if device.type == "cuda" else None,
                  machine=f"{platform.platform()}; CPU {cpu_name()} ({os.cpu_count()} logical cores)",
                  written=time.strftime("%Y-%m-%dT%H:%M:%S"), lanes=n_lanes, threads_per_lane=a.threads,
                  arms=cfg.arms, seeds=cfg.seed_list, epochs=cfg.epochs, arch=cfg.arch, n_train=data.n_train, n_valid=data.n_valid,
                  steps=steps, total_measured_s=total, within_target=total <= TARGET_S, complete=not missing,
                  unfinished_runs=[f"{x}-seed{s}" for x, s in missing], stopped_at_deadline=not complete, failed_runs=failed,
                  reference_images_s=REF_IMAGES_S[study],
                  measured_tasks=measured_runs(cfg, timings) if timings.exists() else dict(per_task_total={}, runs=[]))
    over = [k for k, s in steps.items() if s.get("planned_s") is not None and s["measured_s"] > s["planned_s"]]
    budget["over_plan"] = over
    write_budget(out, budget)
    print_budget(budget, file)
    verdict = ("FAILED RUNS" if failed else "COMPLETE" if not missing else "PARTIAL") + (" (dry run, CPU, tiny sizes)" if a.dry else "")
    print(f"gpu-study {study}: {verdict}: {len(cfg.arms) * cfg.seeds - len(missing)}/{len(cfg.arms) * cfg.seeds} runs, "
          f"{total:.0f} s (target {TARGET_S} s" + (f"; over the plan: {', '.join(over)}" if over else "") + f"); {out}",
          file=file, flush=True)
    logf.close()
    if a.bundle: bundle(out, study, Path(a.bundle))
    return budget


def bundle(out: Path, study: str, dst: Path) -> None:
    "`dst/<study>.tar.gz` (the results folder without model weights and checkpoints) and `dst/<study>_time_budget.json`."
    dst.mkdir(parents=True, exist_ok=True)
    def keep(ti):
        return None if ti.name.endswith((".pth", ".pt", ".pkl")) or "/jobs" in ti.name else ti
    with tarfile.open(dst / f"{study}.tar.gz", "w:gz") as tf: tf.add(out, arcname=out.name, filter=keep)
    shutil.copyfile(out / "time_budget.json", dst / f"{study}_time_budget.json")


# --- the dry run's source data --------------------------------------------------------------------------------------------

def make_dry_source(root: Path, n_train: int = 64, n_test: int = 40) -> Path:
    """A tiny stand-in for ../shared/data: cifar10/lossy_jpeg/{train,test}_jpeg.npz (the built-in synthetic images as
    JPEG files, 32 px) and imagenette/{train,val}/<class>/*.JPEG (the same at 48 px)."""
    from PIL import Image
    from spectral_align.data import make_builtin
    def jpeg(img) -> bytes:
        b = io.BytesIO(); Image.fromarray(img).save(b, format="JPEG", quality=75); return b.getvalue()
    def u8(x): return (x * 255).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    (root / "cifar10" / "lossy_jpeg").mkdir(parents=True, exist_ok=True)
    x, y = make_builtin(n_train + n_test, size=32, seed=0)
    for split, sl in (("train", slice(0, n_train)), ("test", slice(n_train, None))):
        files = [jpeg(i) for i in u8(x[sl])]
        np.savez(root / "cifar10" / "lossy_jpeg" / f"{split}_jpeg.npz", jpeg_bytes=np.frombuffer(b"".join(files), np.uint8),
                 offsets=np.cumsum([0] + [len(f) for f in files]).astype(np.int64), y=y[sl].numpy().astype(np.uint8))
    x, y = make_builtin(n_train + n_test, size=48, seed=1)
    for i, (img, lab) in enumerate(zip(u8(x), y.tolist())):
        split = "train" if i < n_train else "val"
        d = root / "imagenette" / split / f"class{lab}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"img{i:04d}.JPEG").write_bytes(jpeg(img))
    return root


# --- main -------------------------------------------------------------------------------------------------------------------

def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", action="store_true", help="pack the data from --source into --data (run it here, not on the GPU)")
    ap.add_argument("--source", default=str(ROOT.parent / "shared" / "data"),
                    help="folder laid out like ../shared/data (cifar10/lossy_jpeg, imagenette, neural); default ../shared/data")
    ap.add_argument("--data", default=str(ROOT / ".gpu_data"), help="the pack (or a folder laid out like --source); default .gpu_data")
    ap.add_argument("--study", default="all", choices=("cifar10", "imagenette", "all"), help="which grid(s) to run (default all)")
    ap.add_argument("--out-root", default=None, help="folder of the results folders (default results/; dry: out/gpu-study-dry)")
    ap.add_argument("--epochs", type=int, default=None, help=f"training epochs (default {EPOCHS}; dry 1)")
    ap.add_argument("--parallel", type=int, default=None,
                    help="lanes: runs at once on the device (default 4 on a GPU, 2 dry; 0: every run as a local-launcher job)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads per lane (default cores / lanes, dry 1)")
    ap.add_argument("--deadline-s", type=float, default=None,
                    help="stop the lanes this many seconds after the start, leaving time for the report and the bundle "
                         "(default 540: the command ends inside a 10-minute limit; dry: none)")
    ap.add_argument("--bundle", default=None, help="also write <study>.tar.gz and <study>_time_budget.json here (e.g. $OUT)")
    ap.add_argument("--force", action="store_true", help="discard earlier results in the output folders (default: resume)")
    ap.add_argument("--dry", action="store_true", help="every step on the CPU at tiny sizes (about two minutes)")
    a = ap.parse_args(argv)
    if a.parallel is None: a.parallel = 2 if a.dry else 4
    if a.parallel < 0: ap.error(f"--parallel must be >= 0; got {a.parallel}")
    if a.epochs is not None and a.epochs < 1: ap.error(f"--epochs must be >= 1; got {a.epochs}")
    if a.threads is None: a.threads = 1 if a.dry else max(1, (os.cpu_count() or 1) // max(1, a.parallel))
    if a.threads < 1: ap.error(f"--threads must be >= 1; got {a.threads}")
    if a.deadline_s is None: a.deadline_s = float("inf") if a.dry else 540.0
    if a.out_root is None: a.out_root = str(ROOT / ("out/gpu-study-dry" if a.dry else "results"))
    a.out_names = dict(cifar10="cifar10-jpeg-gpu", imagenette="imagenette-gpu")
    return a


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]: return worker(argv[1:])
    a = parse(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))      # a killed study still stops its lanes (finally)
    if a.pack and not a.dry: return pack(a)
    import torch
    if not a.dry and not torch.cuda.is_available():
        print("gpu-study: no CUDA GPU is visible to torch (torch.cuda.is_available() is False); run it on a machine with an "
              "NVIDIA GPU, pack its data here with --pack, or pass --dry (make gpu-study DRY=1) for the CPU run", file=sys.stderr)
        return 2
    device = torch.device("cpu" if a.dry else "cuda")
    if a.dry:                                # the dry run makes, packs and unpacks its own tiny data
        root = Path(a.out_root)
        src = make_dry_source(root / "source")
        a.source, a.data = str(src), str(root / "pack")
        t = time.perf_counter()
        pack(a)
        log(f"-- pack: {time.perf_counter() - t:.1f} s")
    else:
        if not Path(a.data).is_dir(): print(f"gpu-study: --data {a.data!r} is not a folder; run --pack first", file=sys.stderr); return 2
        torch.backends.cudnn.benchmark = True
    deadline = time.time() + a.deadline_s - (time.perf_counter() - T0)
    studies = ["cifar10", "imagenette"] if a.study == "all" else [a.study]
    failed = []
    for s in studies:
        try:
            b = run_study(s, a, device, deadline)
            if b["failed_runs"]: failed.append(f"{s} ({len(b['failed_runs'])} run(s) failed: {'; '.join(b['failed_runs'])})")
        except Exception as e:
            traceback.print_exc(file=sys.stdout)
            failed.append(f"{s} ({type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''})")
    total = time.perf_counter() - T0
    print(f"\ngpu-study: {'FAIL: ' + '; '.join(failed) if failed else 'done'} in {total:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
