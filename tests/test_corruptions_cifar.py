"""The CIFAR-10-C corruptions against the generator's own output (`fixtures/corruptions_cifar.npz`, made once by running
Hendrycks' make_cifar_c.py; see fixtures/README.md): every one of the 19, every severity, both backends."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from spectral_align.corruptions import (ALL_CORRUPTIONS, COMMON_CORRUPTIONS, SEVERITIES, TORCH_CORRUPTIONS,
                                        DETERMINISTIC_CORRUPTIONS, CIFAR10C_CONSTANTS, corrupt)

FIX = np.load(Path(__file__).parent / "fixtures" / "corruptions_cifar.npz")
NAMES = [str(n) for n in FIX["names"]]
X = torch.from_numpy(FIX["x"]).permute(0, 3, 1, 2).float() / 255
IMAGEMAGICK = ("motion_blur", "snow")       # the generator calls ImageMagick: float round-off at grey-level edges
UNSEEDED = ("impulse_noise",)               # drawn by scikit-image's own generator, which no NumPy seed reaches


def _run(name, sev, **kw):
    i, j = NAMES.index(name), list(FIX["severities"]).index(sev)
    out = corrupt(X, name, sev, seed=int(FIX["seeds"][i, j]), constants="cifar", **kw)
    return (out * 255).round().permute(0, 2, 3, 1).numpy().astype(int), FIX["expected"][i, j].astype(int)


def test_fixture_covers_every_corruption():
    assert set(COMMON_CORRUPTIONS) <= set(NAMES)          # Li et al. 2023's 15
    assert set(NAMES) == set(ALL_CORRUPTIONS) and list(FIX["severities"]) == list(SEVERITIES)


@pytest.mark.parametrize("name", ALL_CORRUPTIONS)
def test_port_gives_the_generators_values(name):
    "backend='reference' with CIFAR-10-C's constants: the port of make_cifar_c.py, seeded as the generator was."
    for sev in SEVERITIES:
        got, ref = _run(name, sev, backend="reference")
        if name in UNSEEDED:
            changed, changed_ref = (got != FIX["x"]).mean(), (ref != FIX["x"]).mean()
            p = np.mean([(corrupt(X, name, sev, seed=k, backend="reference", constants="cifar") != X).float().mean().item()
                         for k in range(100)])
            assert abs(changed_ref - p) <= 4 * math.sqrt(p * (1 - p) / ref.size), (sev, changed_ref, p)
            assert np.isin(ref[ref != FIX["x"]], (0, 255)).all() and np.isin(got[got != FIX["x"]], (0, 255)).all()
        elif name in IMAGEMAGICK:
            assert np.abs(got - ref).max() <= 1 and (got != ref).mean() <= 0.02, (sev, np.abs(got - ref).max())
        else:
            assert (got == ref).all(), (sev, np.abs(got - ref).max(), (got != ref).mean())


@pytest.mark.parametrize("name", TORCH_CORRUPTIONS)
def test_torch_versions_against_the_generator(name):
    "The batched torch versions with CIFAR-10-C's constants: the same values up to one grey level, or the same noise."
    for sev in SEVERITIES:
        got, ref = _run(name, sev, backend="torch")
        if name in DETERMINISTIC_CORRUPTIONS:    # the generator's float round-off may drop a value exactly on a level
            exact = corrupt(X.double(), name, sev, backend="torch", constants="cifar", quantize=False) * 255
            on_level = ((exact - exact.round()).abs() < 1e-3).permute(0, 2, 3, 1).numpy()
            assert np.abs(got - ref).max() <= 1 and ((got == ref) | on_level).all(), (sev, (got != ref).mean())
            continue
        if name in UNSEEDED:                                 # sparse: compare the fraction of values changed
            p = np.mean([(corrupt(X, name, sev, seed=k, backend="torch", constants="cifar") != X).float().mean().item()
                         for k in range(100)])
            assert abs((ref != FIX["x"]).mean() - p) <= 4 * math.sqrt(p * (1 - p) / ref.size), sev
            continue
        x = X.permute(0, 2, 3, 1).numpy() * 255
        sd_ref = (ref - x).std()
        sds = [((corrupt(X, name, sev, seed=k, backend="torch", constants="cifar") - X) * 255).std().item() for k in range(30)]
        assert abs(sd_ref / np.mean(sds) - 1) < 0.05, (sev, sd_ref, np.mean(sds))


def test_constants_are_the_generators():
    "A few constants read off make_cifar_c.py, one per kind of corruption (the fixture checks all of them in effect)."
    assert CIFAR10C_CONSTANTS["gaussian_noise"] == (0.04, 0.06, 0.08, 0.09, 0.10)
    assert CIFAR10C_CONSTANTS["defocus_blur"][3] == (1, 0.2) and CIFAR10C_CONSTANTS["jpeg_compression"] == (80, 65, 58, 50, 40)
    assert CIFAR10C_CONSTANTS["elastic_transform"][1] == (32 * 0.05, 32 * 0.2, 32 * 0.07)
