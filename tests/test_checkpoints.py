"""Every training arm's model survives a checkpoint round trip into a fresh process that imports only
`spectral_align.models` (plus `attacks` to attack it), with the same logits; corrupt weights are refused there."""
import json, subprocess, sys, textwrap
import pytest
import torch

from spectral_align.core import suite_seed
from spectral_align.data import builtin_dls, make_builtin
from spectral_align.models import save_checkpoint, build_model
from spectral_align.train import ARMS, make_learner, save_trained

# cheap settings for the arms whose callbacks build targets or train a predictor (they do not change the classifier)
_CHEAP = {"similarity": dict(n_target=16, v1_units=8, n_images=8), "cka": dict(n_target=16, v1_units=8, n_images=8),
          "guidance": dict(n_target=32, v1_units=8, predictor_epochs=1),
          "guidance-random": dict(n_target=32, v1_units=8, predictor_epochs=1),
          "guidance-shuffled": dict(n_target=32, v1_units=8, predictor_epochs=1)}

# runs in a fresh interpreter: rebuild every checkpoint from its file alone, compare logits, attack it
_FRESH = textwrap.dedent("""
    import json, sys, torch
    from spectral_align.models import model_from_checkpoint
    assert "spectral_align.regularizers" not in sys.modules and "spectral_align.train" not in sys.modules
    from spectral_align.attacks import PGD
    cases, x, y = json.loads(sys.argv[1]), torch.load(sys.argv[2]), torch.load(sys.argv[3])
    out = {}
    for arm, (path, ref) in cases.items():
        m = model_from_checkpoint(path)
        with torch.no_grad(): logits = m(x)
        diff = (logits - torch.load(ref)).abs().max().item()
        adv = PGD(m, eps=8 / 255, steps=2, seed=0)(x, y)
        ok = bool(torch.isfinite(adv).all()) and (adv - x).abs().max().item() <= 8 / 255 + 1e-6 and 0 <= adv.min().item() and adv.max().item() <= 1
        out[arm] = dict(diff=diff, attack_ok=ok, front_end=type(m.front_end).__name__)
    print("RESULT" + json.dumps(out))
""")


def _fresh(*args, timeout=120):
    r = subprocess.run([sys.executable, "-c", _FRESH, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(next(l for l in r.stdout.splitlines() if l.startswith("RESULT"))[6:])


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    "One checkpoint per registered arm, made as training makes it (`make_learner`, then `save_trained`), and its logits."
    d = tmp_path_factory.mktemp("arms")
    dls = builtin_dls(n_train=64, n_valid=32, bs=32, augment=False, device="cpu", seed=suite_seed())
    x, y = make_builtin(4, seed=suite_seed(1))
    torch.save(x, d / "x.pt"); torch.save(y, d / "y.pt")
    cases = {}
    for arm in ARMS:
        learn = make_learner(dls, arm, arch="small_cnn", params=_CHEAP.get(arm), seed=suite_seed(), width=4,
                             mixed_precision=False)
        model = learn.model.eval()
        with torch.no_grad():
            for p in model.parameters(): p.add_(0.01 * torch.randn_like(p))   # not the initial weights
            ref = model(x)
        path = save_trained(learn, d / f"{arm}.pt")
        torch.save(ref, d / f"{arm}_logits.pt")
        cases[arm] = (str(path), str(d / f"{arm}_logits.pt"))
    return d, cases, _fresh(json.dumps(cases), d / "x.pt", d / "y.pt")


@pytest.mark.parametrize("arm", list(ARMS))
def test_arm_checkpoint_in_fresh_process(saved, arm):
    d, cases, res = saved
    r = res[arm]
    assert r["diff"] <= 1e-5, f"{arm}: logits differ by {r['diff']:.3g} in a fresh process"
    assert r["attack_ok"], f"{arm}: PGD on the reloaded model gave invalid images"
    fe = ARMS[arm].front_end
    assert (r["front_end"] != "Identity") == (fe is not None), (arm, r["front_end"])


def test_steering_front_end_is_steering_band(saved):
    _, _, res = saved
    for arm in ARMS:
        if arm.endswith("-fe"): assert res[arm]["front_end"] == "SteeringBand", (arm, res[arm])


def test_nan_checkpoint_refused_in_fresh_process(tmp_path):
    m = build_model("small_cnn", width=4)
    with torch.no_grad(): m.head.bias[1] = float("nan")
    p = save_checkpoint(m, tmp_path / "nan.pt")
    code = ("import sys\nfrom spectral_align.models import model_from_checkpoint\n"
            "try: model_from_checkpoint(sys.argv[1])\n"
            "except ValueError as e: print('REFUSED', e); sys.exit(0)\n"
            "sys.exit('a checkpoint with NaN weights was loaded')")
    r = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:] + r.stdout
    assert "NaN or infinite values in `head.bias`" in r.stdout, r.stdout
