"""Alignment to recorded V4 responses, end to end, on the small stand-in of `neural.write_v4_stand_in` (built-in images,
simulated units): a trained predictor reloads in a fresh process with the same outputs, and a tiny experiment with
V4-aligned arms and `neural` pointing at the folder writes finite V4 predictivity and RSA rows for every arm, scored on
images no arm was aligned to."""
import io, json, subprocess, sys, textwrap
import numpy as np
import pandas as pd
import pytest
import torch

from spectral_align.core import suite_seed
from spectral_align.neural import write_v4_stand_in, load_v4
from spectral_align.predictor import train_v4_predictor


@pytest.fixture(scope="module")
def v4dir(tmp_path_factory):
    return write_v4_stand_in(tmp_path_factory.mktemp("data") / "v4", n_images=(48, 48, 32), seed=suite_seed())


# runs in a fresh interpreter that imports the predictor module only (no regularizers, train or experiment)
_FRESH = textwrap.dedent("""
    import json, sys, torch
    from spectral_align.predictor import load_predictor
    assert "spectral_align.train" not in sys.modules and "spectral_align.regularizers" not in sys.modules
    p = load_predictor(sys.argv[1])
    x = torch.load(sys.argv[2])
    with torch.no_grad(): out = p.predict(x)
    diff = (out - torch.load(sys.argv[3])).abs().max().item()
    print("RESULT" + json.dumps(dict(diff=diff, sessions=p.sessions, training=p.training, n_keys=len(p.train_keys))))
""")


def test_predictor_reloads_in_a_fresh_process(v4dir, tmp_path):
    recs = load_v4(v4dir)
    pred = train_v4_predictor(recs, arch="small_cnn", arch_kwargs=dict(width=4), image_size=24, epochs=1, seed=suite_seed())
    x = recs["s2"].images[:6]
    torch.save(x, tmp_path / "x.pt")
    torch.save(pred.predict(x), tmp_path / "ref.pt")
    pred.save(tmp_path / "pred.pth")
    r = subprocess.run([sys.executable, "-c", _FRESH, str(tmp_path / "pred.pth"), str(tmp_path / "x.pt"), str(tmp_path / "ref.pt")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(next(l for l in r.stdout.splitlines() if l.startswith("RESULT"))[6:])
    assert out["diff"] == 0 and out["sessions"] == ["s1", "s2", "s3"] and out["training"] is False
    assert out["n_keys"] == len(pred.train_keys) > 0


def test_tiny_experiment_scores_every_arm_on_held_out_v4(v4dir, tmp_path):
    import spectral_align.measures  # noqa: F401  (registers the built-in measures)
    from spectral_align.experiment import ExperimentConfig, run_experiment, brain_split
    p = dict(target=str(v4dir))
    cfg = ExperimentConfig(out=str(tmp_path / "out"), arms=["baseline", "similarity", "cka", "guidance", "guidance-random"],
                           arm_params={"similarity": {**p, "n_images": 8}, "cka": {**p, "n_images": 8},
                                       "guidance": {**p, "predictor_epochs": 1, "predictor_width": 4, "predictor_size": 16},
                                       "guidance-random": {**p, "predictor_width": 4, "predictor_size": 16}},
                           neural=str(v4dir), n_train=128, n_valid=64, n_eval=32, epochs=1, bs=32, measures=["clean", "neural"],
                           first_seed=suite_seed(), mixed_precision="off", device="cpu")
    res = run_experiment(cfg, force=True, file=io.StringIO())["results"]
    for m in ("v4_predictivity_r_heldout", "v4_rsa_heldout", "v4_ceiling_r_heldout"):
        rows = res[res.measure == m]
        assert sorted(rows.arm) == sorted(cfg.arms), (m, rows)
        assert np.isfinite(rows.value.to_numpy(float)).all() and rows.value.between(-1, 1).all(), rows
    split = pd.read_csv(tmp_path / "out" / "neural_split.csv")
    held = {(s, k) for s, k, part in zip(split.session, split.key, split.part) if part == "held-out"}
    assert split[split.scored].part.eq("held-out").all() and len(held) > 0
    fit, _ = brain_split(cfg)                                    # what the aligned arms' targets and predictor were given
    recs = load_v4(v4dir, images=False, repeats=False)
    fit_keys = {k for r in recs for k in (r.keys[i] for i in fit[r.name].tolist())}
    assert not fit_keys & {k for _, k in held}
    assert len(list((tmp_path / "out" / "predictors").glob("v4-*.pth"))) == 2      # trained and untrained, cached once each
