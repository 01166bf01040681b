"""The package's pyramid noise against the published recipe built with pyrtools (the reference).

The published stimuli (github.com/ajaysub110/critical-band-masking, `methods.solomon_filter`) make band k's noise as:
white noise of SD sd -> `pyrtools.pyramids.LaplacianPyramid` -> `recon_pyr(levels=6 - k)` -> rescaled to the RMS of
`recon_pyr(levels=0)`. These tests rebuild that with pyrtools and compare with `masking.band_noise(kind="pyramid")`:
exactly for the same white noise, and statistically (radial power profiles, band by band) for independent draws.
"""
import numpy as np
import pytest
import torch

from spectral_align.core import suite_seed
from spectral_align.masking import N_BANDS, band_noise, laplacian_pyramid, masking_bands, pyramid_height, recon_level

pt = pytest.importorskip("pyrtools")


def published_noise(white: np.ndarray, k: int, n_bands: int = N_BANDS) -> np.ndarray:
    "Band k's noise from one white-noise image, the published way (pyrtools)."
    pyr = pt.pyramids.LaplacianPyramid(white)
    rec, first = pyr.recon_pyr(levels=n_bands - (k + 1)), pyr.recon_pyr(levels=0)
    return rec * np.sqrt(np.mean(first ** 2)) / np.sqrt(np.mean(rec ** 2))


def radial_profile(noise: np.ndarray) -> np.ndarray:
    "Mean power per integer frequency ring (cycles/image), averaged over images (N, H, H)."
    h = noise.shape[-1]
    f = np.fft.fftfreq(h) * h
    r = np.rint(np.hypot(f[:, None], f[None, :])).astype(int).ravel()
    p = (np.abs(np.fft.fft2(noise)) ** 2).mean(0).ravel()
    return np.bincount(r, p, minlength=h)[: h // 2 + 1] / np.bincount(r, minlength=h)[: h // 2 + 1]


@pytest.mark.parametrize("size", [224, 32, 37])
def test_pyramid_levels_equal_pyrtools(size):
    w = np.random.default_rng(suite_seed(size)).standard_normal((size, size))
    ref = pt.pyramids.LaplacianPyramid(w)
    mine = laplacian_pyramid(torch.from_numpy(w)[None])
    assert len(mine) == ref.num_scales == pyramid_height(size)
    for j, c in enumerate(mine):
        np.testing.assert_allclose(c[0].numpy(), ref.pyr_coeffs[(j, 0)], atol=1e-12)


@pytest.mark.parametrize("size", [224, 64])
def test_band_noise_equals_published_for_the_same_white_noise(size):
    w = np.random.default_rng(suite_seed(1)).standard_normal((1, size, size)) * 0.08
    pyr = laplacian_pyramid(torch.from_numpy(w))
    for k in masking_bands(size, kind="pyramid", warn=False).k:
        lev = N_BANDS - 1 - int(k)
        rec = recon_level(pyr, lev)
        mine = rec * pyr[0].square().mean().sqrt() / rec.square().mean().sqrt()
        np.testing.assert_allclose(mine[0].numpy(), published_noise(w[0], int(k)), atol=1e-12)


@pytest.mark.parametrize("size,n", [(224, 48), (32, 400)])
def test_radial_power_profiles_match_pyrtools(size, n):
    """Independent draws: per band, the torch noise's radial power profile matches the pyrtools one.
    Each ring's mean power over n images has a relative SD of about 1/sqrt(n * bins in the ring); the test compares
    the profiles where the band holds power (>= 5 % of its peak) with a tolerance of 6 such SDs of the difference."""
    rng = np.random.default_rng(suite_seed(2))
    bt = masking_bands(size, kind="pyramid", warn=False)
    f = np.fft.fftfreq(size) * size
    ring = np.bincount(np.rint(np.hypot(f[:, None], f[None, :])).astype(int).ravel(), minlength=size)[: size // 2 + 1]
    for k in bt.k:
        ref = np.stack([published_noise(rng.standard_normal((size, size)) * 0.1, int(k)) for _ in range(n)])
        mine = band_noise(n, size, int(k), 0.1, seed=suite_seed(3), kind="pyramid", dtype=torch.float64)[:, 0].numpy()
        pr, pm = radial_profile(ref), radial_profile(mine)
        keep = (pr >= 0.05 * pr.max()) & (np.arange(len(pr)) > 0)
        rel_sd = np.sqrt(2.0 / (n * ring[keep]))          # SD of the relative difference of two independent estimates
        # exponential-ish power per bin: relative SD of a mean over m bins is ~1/sqrt(m); allow for the RMS rescaling
        assert np.all(np.abs(pm[keep] / pr[keep] - 1) < 6 * rel_sd + 0.05), (int(k), np.max(np.abs(pm[keep] / pr[keep] - 1)))
        assert abs(np.sqrt((mine ** 2).mean()) / np.sqrt((ref ** 2).mean()) - 1) < 0.02


def test_band_centres_match_pyrtools():
    "The `true_cpi` mapping holds for the published (pyrtools) noise too: power-weighted mean log2 frequency."
    rng = np.random.default_rng(suite_seed(4))
    size = 224
    f = np.fft.fftfreq(size) * size
    r = np.hypot(f[:, None], f[None, :])
    ok = r > 0
    bt = masking_bands(size, kind="pyramid")
    for k, tc in zip(bt.k, bt.true_cpi):
        nz = np.stack([published_noise(rng.standard_normal((size, size)), int(k)) for _ in range(32)])
        p = (np.abs(np.fft.fft2(nz)) ** 2).mean(0)[ok]
        centre = 2 ** ((p * np.log2(r[ok])).sum() / p.sum())
        assert abs(np.log2(centre / tc)) < 0.1, (int(k), centre, tc)
