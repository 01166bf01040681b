"""Image folders as users have them (torchvision's `ImageFolder` / fastai's `untar_data` layout): an experiment reads
only the images it uses, takes every class in equal numbers, reads every file format at its true range, refuses what
it cannot use with the class named, and the demo finds such a folder. The folders are small fixtures made here, in
assorted sizes and modes; the Imagenette copy next to the repository is used only where it exists."""
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image

from spectral_align import data as D
from spectral_align.experiment import ExperimentConfig, experiment_data, run_experiment
import spectral_align.measures  # noqa: F401  (registers the built-in measures)

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("ant", "bee", "cat")


def _save(img: np.ndarray, path: Path, k: int):
    "Save `img` (uint8 H × W × 3) in one of several formats and modes, by `k`."
    pil = Image.fromarray(img)
    if k % 5 == 0: pil.save(path.with_suffix(".png"))                                  # RGB PNG
    elif k % 5 == 1: pil.convert("L").save(path.with_suffix(".png"))                   # 8-bit grayscale
    elif k % 5 == 2: pil.save(path.with_suffix(".jpg"), quality=90)                    # JPEG
    elif k % 5 == 3: Image.fromarray(np.asarray(pil.convert("L")).astype(np.uint16) * 257).save(path.with_suffix(".png"))  # 16-bit
    else: pil.convert("RGBA").save(path.with_suffix(".png"))                           # with alpha


def make_folder(root: Path, n_train: int = 6, n_valid: int = 3, seed: int = 0) -> Path:
    "`root/train/<class>/` and `root/val/<class>/`, images of assorted sizes (28–44 px) and formats."
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("val", n_valid)):
        for c in CLASSES:
            (root / split / c).mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 256, (28 + 4 * (i % 5), 32 + 3 * (i % 4), 3), dtype=np.uint8)
                _save(img, root / split / c / f"{i:03d}", i)
    return root


@pytest.fixture
def folder(tmp_path) -> Path: return make_folder(tmp_path / "imgs")


def _counting():
    "A stand-in for `data._decode_image` that records each file it decodes."
    calls, real = [], D._decode_image
    def decode(data, what):
        calls.append(str(data))
        return real(data, what)
    return calls, decode


def test_reads_only_the_chosen_images(folder, tmp_path):
    "An experiment decodes exactly its n_train + n_valid images, once each, and records every class with its counts."
    calls, decode = _counting()
    cfg = ExperimentConfig(data="folder", data_path=str(folder), n_train=6, n_valid=3, image_size=32, num_workers=0,
                           arms=["baseline"], epochs=1, bs=4, measures=["clean", "hybrid"], n_eval=3,
                           out=str(tmp_path / "out"))
    with mock.patch.object(D, "_decode_image", decode): run_experiment(cfg, file=open(os.devnull, "w"), quiet=True)
    assert len(calls) == 9 and len(set(calls)) == 9, calls
    info = json.loads((tmp_path / "out" / "data.json").read_text())
    assert info["classes"] == list(CLASSES)
    assert info["train_per_class"] == dict(ant=2, bee=2, cat=2) and info["valid_per_class"] == dict(ant=1, bee=1, cat=1)
    assert (info["augment"], info["image_shape"]) == ("padcrop", [3, 32, 32])


def test_streamed_reads_only_chosen_files(folder):
    "Over the memory budget the images stream from disk; still only the chosen files are ever read."
    calls, decode = _counting()
    split = D.load_folder_split(folder, 6, 3, image_size=64, memory_gb=0, num_workers=0)
    chosen = set(split.train_files.files) | set(split.valid_files.files)
    with mock.patch.object(D, "_decode_image", decode):
        dls = split.dls(bs=3, device="cpu", num_workers=0)
        xb, yb = dls.one_batch()
        split.valid_images([0, 2])
    assert xb.shape == (3, 3, 64, 64) and xb.dtype == torch.float32 and 0 <= xb.min() and xb.max() <= 1
    assert calls and set(calls) <= chosen, set(calls) - chosen


def test_file_modes(folder):
    "Grayscale, 16-bit and RGBA files become RGB at their true range; a 32-bit float file is refused by name."
    p16 = next(f for f in (folder / "train" / "ant").iterdir() if Image.open(f).mode == "I;16")
    a16 = np.asarray(Image.open(p16)).astype(np.uint32)
    rgb = D.read_image(p16)
    assert rgb.shape[-1] == 3 and (rgb[..., 0] == (a16 * 255 + 32767) // 65535).all()
    assert (np.asarray(Image.open(p16).convert("RGB")) == 255).mean() > 0.9          # what PIL alone would give: clipped
    gray = next(f for f in (folder / "train" / "ant").iterdir() if Image.open(f).mode == "L")
    g = D.read_image(gray)
    assert (g[..., 0] == g[..., 1]).all() and (g[..., 0] == np.asarray(Image.open(gray))).all()
    Image.fromarray(np.zeros((30, 30), np.float32)).save(folder / "train" / "ant" / "999.tif")
    with pytest.raises(ValueError, match="999.tif' holds 32-bit floats"):
        D.load_folder_split(folder, 0, 3, image_size=32, num_workers=0)


def test_refusals(folder):
    "A class in only one split, an empty class folder, or a subset that leaves a class out: refused, the class named."
    with pytest.raises(ValueError, match="with no training image; take at least 3"):
        D.load_folder_split(folder, 2, 3, num_workers=0)
    (folder / "train" / "dog").mkdir()
    Image.new("RGB", (30, 30)).save(folder / "train" / "dog" / "0.png")
    with pytest.raises(ValueError, match=r"only in train: \['dog'\], only in val: \[\]"):
        D.load_folder_split(folder, num_workers=0)
    for f in (folder / "train" / "dog").iterdir(): f.unlink()
    (folder / "val" / "dog").mkdir()
    with pytest.raises(ValueError, match=r"the class folder\(s\) \['dog'\] hold no images"):
        D.load_folder_split(folder, num_workers=0)


def test_demo_finds_an_image_folder(folder, tmp_path):
    "`spectral-align demo --data-path FOLDER` detects the layout and runs the folder preset (here shrunk to seconds)."
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore", "SPECTRAL_ALIGN_DOWNLOAD": "0"}
    tiny = ["--n-train", "6", "--n-valid", "3", "--n-eval", "3", "--n-attack", "3", "--epochs", "1", "--arms", "baseline",
            "--measures", "clean,pgd", "--eps-linf", "8/255", "--eps-l2", "0.5", "--pgd-steps", "2", "--image-size", "64",
            "--num-workers", "0"]
    p = subprocess.run([sys.executable, "-m", "spectral_align", "demo", "--data-path", str(folder), "--out", str(tmp_path / "o"),
                        "--quiet", *tiny], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "demo: the image folder" in p.stdout and "SYNTHETIC" not in p.stdout, p.stdout[-2000:]
    info = json.loads((tmp_path / "o" / "data.json").read_text())
    cfg = json.loads((tmp_path / "o" / "config.json").read_text())["settings"]
    assert (info["data"], info["classes"], info["augment"]) == ("folder", list(CLASSES), "rrc")
    assert (cfg["arch"], cfg["image_size"]) == ("small_cnn_224", 64)


IMAGENETTE = next((p / "shared" / "data" / "imagenette" for p in (ROOT, ROOT.parent)
                   if (p / "shared" / "data" / "imagenette" / "train").is_dir()), None)


@pytest.mark.skipif(IMAGENETTE is None, reason="no Imagenette copy next to the repository (shared/data/imagenette)")
def test_imagenette_200_100(tmp_path):
    "The issue's check: --n-train 200 --n-valid 100 on Imagenette trains on all 10 classes, 20 and 10 of each, reading only those."
    calls, decode = _counting()
    cfg = ExperimentConfig(data="folder", data_path=str(IMAGENETTE), n_train=200, n_valid=100, image_size=64, num_workers=0,
                           arms=["baseline"], epochs=1, measures=["clean"], out=str(tmp_path / "out"))
    with mock.patch.object(D, "_decode_image", decode): run_experiment(cfg, file=open(os.devnull, "w"), quiet=True)
    assert len(calls) == 300 and len(set(calls)) == 300
    info = json.loads((tmp_path / "out" / "data.json").read_text())
    assert info["n_classes"] == 10 and set(info["train_per_class"].values()) == {20} and set(info["valid_per_class"].values()) == {10}
