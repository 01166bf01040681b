"""Finding CIFAR-10 (argument > SPECTRAL_ALIGN_DATA > cache > download > None) and loading only the images used,
through the installed module. Offline: downloads are served from a tiny tarball by a file:// URL."""
import hashlib, io, pickle, tarfile
from pathlib import Path
from unittest import mock
import numpy as np
import pytest
import torch
from PIL import Image
from spectral_align import data as D


def _fake_cifar(root: Path, n: int = 4, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    d = root / "cifar-10-batches-py"; d.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(d / name, "wb") as f:
            pickle.dump({"labels": rng.integers(0, 10, n).tolist(), "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}, f, protocol=2)
    return d

def _tarball(tmp: Path) -> tuple[Path, str]:
    src = _fake_cifar(tmp / "src")
    t = tmp / "cifar-10-python.tar.gz"
    with tarfile.open(t, "w:gz") as tf: tf.add(src, arcname="cifar-10-batches-py")
    return t, hashlib.md5(t.read_bytes()).hexdigest()

def _jpeg_npz(path: Path, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(n):
        b = io.BytesIO(); Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(b, format="JPEG"); parts.append(b.getvalue())
    np.savez(path, jpeg_bytes=np.frombuffer(b"".join(parts), np.uint8), offsets=np.cumsum([0] + [len(p) for p in parts]),
             y=np.arange(n) % 10)

@pytest.fixture
def env(monkeypatch):
    for k in (D.DATA_ENV, D.CACHE_ENV, D.DOWNLOAD_ENV): monkeypatch.delenv(k, raising=False)
    return monkeypatch


def test_download_atomic_and_checked(tmp_path, env):
    t, md5 = _tarball(tmp_path)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="has MD5 .* not the published 0{32}"):
        D.download_cifar10(cache, url=t.as_uri(), md5="0" * 32, progress=False)
    assert list(cache.iterdir()) == []                                   # nothing left behind
    with pytest.raises(ConnectionError, match="could not download CIFAR-10"):
        D.download_cifar10(cache, url=(tmp_path / "missing.tgz").as_uri(), progress=False)
    d = D.download_cifar10(cache, url=t.as_uri(), md5=md5, progress=False)
    assert [p.name for p in cache.iterdir()] == ["cifar-10-batches-py"] and D.load_cifar10(d)[0].shape == (20, 3, 32, 32)


def test_resolution_order(tmp_path, env):
    t, md5 = _tarball(tmp_path)
    arg, envdir, cache = tmp_path / "arg", tmp_path / "env", tmp_path / "cache"
    arg.mkdir(); _jpeg_npz(arg / "train_jpeg.npz", 20); _jpeg_npz(arg / "test_jpeg.npz", 10)
    _fake_cifar(envdir)
    env.setenv(D.CACHE_ENV, str(cache))
    assert D.find_cifar10(download=False) is None                        # nothing anywhere, no download
    assert D.find_cifar10(url=(tmp_path / "missing.tgz").as_uri()) is None    # auto: unreachable -> None
    got = D.find_cifar10(url=t.as_uri(), md5=md5, progress=False)       # auto: reachable -> downloaded into the cache
    assert got.layout == "cifar10" and got.train == cache / "cifar-10-batches-py"
    assert D.find_cifar10(download=False).origin.startswith("the cache")
    env.setenv(D.DATA_ENV, str(envdir))
    assert D.find_cifar10().train == envdir / "cifar-10-batches-py"     # the variable beats the cache
    assert D.find_cifar10(arg).layout == "npz"                          # the argument beats the variable
    env.setenv(D.DATA_ENV, str(tmp_path / "typo"))
    with pytest.raises(ValueError, match="SPECTRAL_ALIGN_DATA"): D.find_cifar10()


def test_load_split_decodes_only_the_chosen(tmp_path):
    _jpeg_npz(tmp_path / "train_jpeg.npz", 50); _jpeg_npz(tmp_path / "test_jpeg.npz", 30, seed=1)
    full = D.load_jpeg_npz(tmp_path / "train_jpeg.npz")[0]
    with mock.patch.object(D, "_decode_image", wraps=D._decode_image) as dec:
        xt, yt, xv, yv, k = D.load_split(tmp_path, 20, 10, seed=3)
    assert dec.call_count == 30 and k == 10
    idx = D.stratified_indices(np.arange(50) % 10, 20, seed=3)
    assert torch.equal(xt, full[idx]) and torch.bincount(yt, minlength=10).tolist() == [2] * 10
    with pytest.raises(ValueError, match="`n_train` 51 is more than the 50 train images"): D.load_split(tmp_path, 51, 1)


def test_stratified_indices(tmp_path):
    y = np.repeat(np.arange(5), [9, 9, 9, 9, 2])
    i = D.stratified_indices(y, 21, seed=7)
    c = np.bincount(y[i])
    assert c[4] == 2 and c[:4].max() - c[:4].min() <= 1 and (np.diff(i) > 0).all()
    assert np.array_equal(i, D.stratified_indices(y, 21, seed=7))
    for bad, msg in ((len(y) + 1, "`n` must be in"), (0, "`n` must be in")):
        with pytest.raises(ValueError, match=msg): D.stratified_indices(y, bad)
    np.savez(tmp_path / "p.npz", x=np.zeros((3, 4, 4, 3), np.uint8), y=np.arange(3))
    with pytest.raises(ValueError, match="must not repeat"): D.load_npz(tmp_path / "p.npz", indices=[1, 1])
    with pytest.raises(ValueError, match=r"positions in \[0, 2\]"): D.load_npz(tmp_path / "p.npz", indices=[3])
