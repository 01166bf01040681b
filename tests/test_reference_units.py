"""Units and labels that make the package's numbers comparable with the papers' (issue 20): robust-arena's target
labels, its noise units, and every minimal-perturbation result naming its protocol. The same checks, with their
explanations, are in the notebooks (06_attacks, 07_corruptions); these run without them."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from spectral_align.attacks import PROTOCOLS, minimal_perturbation, shuffled_targets
from spectral_align.core import suite_seed
from spectral_align.corruptions import add_noise

FIXTURES = Path(__file__).parent / "fixtures"


def test_shuffled_targets_are_robust_arenas():
    f = np.load(FIXTURES / "robust_arena_targets.npz")
    cases = json.loads(str(f["cases"]))
    assert len(cases) == 18
    for key, mode, tag in cases:
        np.testing.assert_array_equal(shuffled_targets(f[f"labels_{key}"], tag, mode).numpy(), f[f"targets_{key}_{mode}_{tag}"])


def test_uniform_noise_is_a_half_width():
    "At level a, no value moves by more than a (clipping only shrinks moves), and on mid-grey the bound is reached."
    g = torch.Generator().manual_seed(suite_seed(31))
    for _ in range(100):
        a = float(torch.rand((), generator=g))
        x = torch.rand(2, 3, 8, 8, generator=g)
        assert (add_noise(x, "uniform", a, seed=int(torch.randint(10**6, (), generator=g))) - x).abs().max() <= a + 1e-6
    mid = torch.full((8, 3, 32, 32), 0.5)
    assert (add_noise(mid, "uniform", 0.1) - mid).abs().max() > 0.099
    assert (add_noise(mid, "uniform_sd", 0.1) - mid).abs().max() > 0.17          # the SD form: half-width √3·level


def test_salt_and_pepper_changes_channels_independently():
    p, mid = 0.2, torch.full((64, 3, 64, 64), 0.5)
    changed = add_noise(mid, "salt_pepper", p, seed=suite_seed()) != mid
    k = changed.sum(1).flatten().bincount(minlength=4).double() / changed[:, 0].numel()
    binom = torch.tensor([(1 - p) ** 3, 3 * p * (1 - p) ** 2, 3 * p ** 2 * (1 - p), p ** 3], dtype=torch.double)
    assert (k - binom).abs().max() < 0.01, k
    pix = add_noise(mid, "salt_pepper_pixel", p, seed=suite_seed()) != mid
    assert (pix.all(1) == pix.any(1)).all()                                       # the pixel form: all or none


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_minimal_rows_name_their_protocol(protocol):
    torch.manual_seed(suite_seed())
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    x, y = torch.rand(6, 3, 8, 8, generator=torch.Generator().manual_seed(suite_seed(2))), torch.tensor([0, 1, 2] * 2)
    kw = dict(iters=2, steps=2) if protocol == "bisect" else dict(n_eps=3, steps=2, mn_attack="none")
    df = minimal_perturbation(model, x, y, "inf", protocol=protocol, **kw)
    assert set(df.protocol) == {protocol} and len(df) == 6
