"""The JPEG file step of the critical-band-masking stimuli against the published path.

The published stimuli (github.com/ajaysub110/critical-band-masking) were written by `stimuli/create_CBMDataset.py` with
torchvision's `save_image` to `.JPEG` files (8-bit rounding, then PIL's JPEG at its default quality, 75) after stacking
the gray stimulus to three channels, and read back by `networks/nn_cbm.py` with `Image.open(...).convert('L')`.
`masking.jpeg_roundtrip` must give the same gray levels, and the file step must act on the spectrum as JPEG does.
"""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from spectral_align.core import suite_seed
from spectral_align.data import make_builtin
from spectral_align.masking import JPEG_QUALITY, band_noise, cbm_stimuli, jpeg_roundtrip, masking_bands


def published(v: torch.Tensor) -> torch.Tensor:
    "One stimulus (H, W) in [0, 1] as the published scripts saved and read it."
    u8 = (v * 255 + 0.5).clamp(0, 255).to(torch.uint8).numpy()             # save_image's rounding
    buf = io.BytesIO()
    Image.fromarray(np.stack([u8] * 3, -1)).save(buf, format="JPEG")        # PIL's default quality: 75
    return torch.from_numpy(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L")).astype(np.float32)) / 255


@pytest.mark.parametrize("size,band", [(224, 4), (224, 6), (64, 3)])
def test_jpeg_equals_the_published_path(size, band):
    x, _ = make_builtin(6, size=size, seed=suite_seed())
    stim = cbm_stimuli(x, [0.0, 0.02, 0.04, 0.08, 0.16, 0.16], band, seed=suite_seed(1), channels=1)
    mine = jpeg_roundtrip(stim)[:, 0]
    ref = torch.stack([published(s[0]) for s in stim])
    assert torch.equal(mine, ref)
    assert torch.equal(cbm_stimuli(x, 0.08, band, seed=suite_seed(1), channels=1, jpeg_quality=JPEG_QUALITY),
                       jpeg_roundtrip(cbm_stimuli(x, 0.08, band, seed=suite_seed(1), channels=1)))


def test_jpeg_removes_weak_fine_noise_and_keeps_strong_coarse_noise():
    "Property of the file step on the spectrum: per pyramid band, the share of the noise's power that survives JPEG q75."
    flat = torch.full((16, 1, 224, 224), 0.449, dtype=torch.float64)
    base = jpeg_roundtrip(flat)
    kept = {}
    for sd in (0.02, 0.16):
        for k in masking_bands(224).k:
            nz = band_noise(16, 224, int(k), sd, seed=suite_seed(10 + int(k)), dtype=torch.float64)
            v = (flat + nz).clamp(0, 1)
            kept[sd, int(k)] = float((jpeg_roundtrip(v) - base).square().mean() / (v - 0.449).square().mean())
    assert kept[0.02, 6] < 0.7                                                        # the finest band, weak: mostly removed
    assert all(0.9 < kept[0.16, k] < 1.1 for k in range(5))                          # the coarse bands, strong: kept
    assert kept[0.02, 6] < kept[0.16, 6]                                              # stronger noise survives better


def test_jpeg_output_is_8_bit_and_quality_orders_the_error():
    x, _ = make_builtin(4, size=64, seed=suite_seed(2))
    g = cbm_stimuli(x, 0.04, 4, seed=suite_seed(3), channels=1).double()
    q75, q95 = jpeg_roundtrip(g, 75), jpeg_roundtrip(g, 95)
    assert torch.allclose(q75 * 255, (q75 * 255).round(), atol=1e-9)
    assert (q95 - g).abs().mean() < (q75 - g).abs().mean()
    assert q75.dtype == g.dtype and q75.shape == g.shape
