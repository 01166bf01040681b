"""Fuzz every public function and class of the package: a valid call first (the baseline), then each argument replaced
in turn by each hostile value of its kind (`values.hostile`), every outcome classified (`harness.CLASSES`)."""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path
import random
import warnings

import numpy as np
import torch

from harness import EQUIV, INVALID, ROBUST, Outcome, Snapshot, classify_call, first_line, timed
from values import TMP, hostile, images, labels, tiny_model

MODULES = ("core", "spectra", "filters", "data", "models", "probes", "masking", "channel", "profile", "attacks",
           "corruptions", "similarity", "neural", "predictor", "regularizers", "train", "experiment", "measures", "report", "widgets", "cli")

# valid values of required arguments, by name (a function of nothing, called afresh for each call)
BY_NAME = {
    "x": images, "images": images, "xb": images, "x_adv": images, "x_train": images, "x_valid": images,
    "y": labels, "y_train": labels, "y_valid": labels, "model": tiny_model,
    "seed": lambda: 0, "bs": lambda: 2, "n": lambda: 4, "size": lambda: 32, "h": lambda: 32, "w": lambda: 32,
    "eps": lambda: 2 / 255, "norm": lambda: "inf", "n_classes": lambda: 10, "in_channels": lambda: 3, "channels": lambda: 3,
    "arch": lambda: "small_cnn", "cutoff": lambda: 8.0, "sigma": lambda: 1.0, "severity": lambda: 1,
}

# never fuzzed: where output goes, cosmetic options
SKIP_PARAMS = {"self", "file", "ax", "title", "banner", "quiet", "progress", "verbose", "warn", "prog", "cmap", "colorbar",
               "vmin", "vmax", "annotate", "plot", "draw"}
# fastai's `Callback(**kwargs)` takes a function per training event: fastai's machinery, not this package's arguments
SKIP_PARAMS |= {f"{w}_{e}" for w in ("before", "after", "after_cancel") for e in
                ("create", "fit", "epoch", "train", "batch", "pred", "loss", "backward", "step", "validate")}

# functions not fuzzed here, with the reason (they are covered by the command scenarios, or do nothing checkable)
SKIP = {
    "core.moved_names": "returns a module __getattr__; covered by its notebook",
    "core.lazy_module": "a lazy import stand-in",
    "core.CommandParser": "argparse subclass; covered by the command cases",
    "data.download_cifar10": "network", "data.find_cifar10": "network / environment",
    "data.CifarUnpickler": "internal unpickler", "data.TensorDL": "fastai DataLoader subclass", "data.data_cache": "environment",
    "train.init_distributed": "process groups", "train.barrier": "process groups", "train.data_parallel": "process groups",
    "train.world_size": "environment", "train.rank": "environment", "train.local_rank": "environment",
    "train.is_main_process": "environment", "train.adamw": "fastai optimiser wrapper",
    "experiment.launch_experiment": "submitit jobs; covered by test_cluster",
    "experiment.run_one": "needs a prepared folder; covered by the command scenarios",
    "experiment.run_experiment": "covered by the command scenarios (one tiny training per case)",
    "experiment.train_run": "covered by the command scenarios", "experiment.demo_config_keys": "environment / network",
    "cli.main": "covered by the command cases", "cli.cli_experiment": "covered by the command cases",
    "cli.cli_report": "covered by the command cases", "cli.cli_attack": "covered by the command cases",
    "cli.cli_corrupt": "covered by the command cases", "cli.cli_channel": "covered by the command cases",
    "cli.run_command": "covered by the command cases", "cli.experiment_parser": "argparse",
    "data.ImageDL": "fastai DataLoader subclass; covered by tests/test_image_folders.py",
    "data.ImageFiles": "a dataset of file paths; load_folder_split checks what goes in (fuzzed)",
    "data.files_dls": "fastai DataLoaders of ImageFiles; covered by tests/test_image_folders.py",
    "data.read_files": "reads an ImageFiles dataset; covered by tests/test_image_folders.py",
    "data.SeededBatchTransform": "fastai batch transform base class", "data.ToFloatImages": "fastai batch transform",
    "data.source_classes": "needs a DataSource (a CIFAR-10 or .npz folder); covered by the experiment notebook",
    "neural.Recording": "a container; load_v4 builds it from checked files (fuzzed)",
    "neural.Recordings": "a container of Recording; covered by tests/test_neural_v4.py",
    "neural.NeuralTargetSet": "a container of checked NeuralTargets; covered by the neural notebook",
    "predictor.NeuralPredictor": "built by fit_predictor; covered by the predictor notebook",
    "predictor.fit_predictor": "trains a network (minutes); covered by the predictor notebook and tests/test_neural_v4.py",
    "predictor.train_neural_predictor": "trains a network; covered by the predictor notebook",
    "predictor.train_v4_predictor": "trains a network on a V4 folder; covered by tests/test_neural_v4.py",
    "predictor.brain_scores": "needs a Recording with images; covered by tests/test_neural_v4.py",
    "predictor.transfer_predictivity": "needs a Recording with images; covered by tests/test_neural_v4.py",
    "predictor.load_predictor": "needs a saved predictor (a training); covered by the predictor notebook",
    "predictor.predictivity_summary": "summarises a fit_predictor table; covered by the predictor notebook",
    "experiment.brain_recordings": "needs a config whose `neural` is a V4 folder; covered by tests/test_neural_v4.py",
    "measures.masking_rows": "reads a masking trial table; covered by the measures notebook",
    "corruptions.published_mean_corruption_accuracy": "reads a corruption results table; covered by the corruptions notebook",
    "widgets.Explorer": "ipywidgets UI", "widgets.cutoff_explorer": "ipywidgets UI", "widgets.band_explorer": "ipywidgets UI",
}

# (target, param, case) or (target, param, '*') → why accepting it is right (reclassifies 'silent' as 'ok')
_STACKS = "stacks (..., n, n) are part of its API"
EXEMPT: dict = {
    ("similarity.check_rdm", "r", "one more dim"): _STACKS, ("similarity.rsa", "rdm_a", "one more dim"): _STACKS,
    ("similarity.rsa", "rdm_b", "one more dim"): _STACKS, ("similarity.rankdata", "v", "one more dim"): "ranks along the last dimension",
    ("similarity.upper_tri", "r", "*"): "an indexing helper: it does not read the values",
    ("spectra.radial_profile", "spec", "one more dim"): "any leading dimensions (..., H, W)",
    ("spectra.radial_profile", "spec", "one dim less"): "any leading dimensions (..., H, W)",
    ("spectra.radial_profile", "spec", "complex"): "the ring average of a complex map is defined",
    ("attacks.space_std", "model", "*"): "in pixel space (its default) the model is not read",
    ("attacks.check_inputs", "model", "wrong batch size"): "checks the model's output on one image",
    ("models.get_features", "x", "empty"): "an empty batch has empty features", ("models.penultimate", "x", "empty"): "as above",
    ("models.model_summary", "x", "*"): "lists output shapes, not values",
    ("report.summarize", "results", "None"): "None is documented as 'no results yet'",
    ("data.get_dls", "y_train", "huge label"): "labels bound `dls.c`; make_learner refuses labels that are not 0…K−1",
    ("data.get_dls", "y_valid", "huge label"): "as above",
    ("data.ImageTensors", "*", "*"): "a plain container: get_dls checks what goes in",
    ("filters.fourier_filter", "x", "one more dim"): "any leading dimensions (..., H, W)",
    ("filters.fourier_filter", "x", "one dim less"): "any leading dimensions (..., H, W)",
    ("filters.fourier_filter", "gain", "one more dim"): "a gain broadcastable to the batch",
    ("widgets.band_figure", "x", "one dim less"): "one image (C, H, W) is its documented input",
    ("widgets.cutoff_figure", "x", "one dim less"): "one image (C, H, W) is its documented input",
    ("neural.split_half_reliability", "repeats", "NaN"): "NaN marks a repeat that was not recorded (documented)",
    ("experiment.MeasureInfo", "low", "-inf"): "−inf is the default lower bound (a range open below)",
    ("experiment.MeasureInfo", "high", "inf"): "inf is the default upper bound (a range open above)",
}
# functions that run a model as it is (their callers set eval mode): a train-mode model updates its batch-norm statistics
RUNS_AS_IS = {"core.model_logits", "models.get_features", "models.penultimate"}

# the expectation of some hostile values depends on what a function does with the argument (documented rules):
# - functions that take a model but never use its outputs (they inspect, wrap or save it) may accept a model whose
#   outputs are wrong (`returns its input`, `wrong batch size`, `returns a tuple`)
MODEL_INSPECTORS = {"core.check_model", "core.model_device", "core.model_dtype", "core.eval_mode", "core.check_finite_model",
                    "models.count_params", "models.layer_names", "models.save_checkpoint", "models.FeatureHooks",
                    "models.get_features", "models.penultimate", "models.model_summary", "train.unwrap_model",
                    "regularizers.default_layers", "attacks.space_std", "attacks.input_std", "attacks.eps_to_pixel",
                    "attacks.make_attack", "filters.Complement", "similarity.collect_features"}
# - functions defined on any real tensor, not only images in [0, 1] (spectra, perturbations, a model's raw input)
ANY_RANGE = {"spectra.power_spectrum", "spectra.radial_power_spectrum", "spectra.radial_profile", "attacks.perturbation_norm",
             "attacks.perturbation_spectrum", "models.get_features", "models.penultimate", "models.model_summary",
             "core.model_logits", "core.check_finite_model", "regularizers.out_of_band_share", "data.random_pad_crop_flip",
             "data.pad_crop_flip", "filters.fourier_filter",
             "data.resized_crop", "data.random_resized_crop"}   # crops and bilinear resizing, like the pad-crops
# - a flag given as another truthy value ('yes', 2) acts as True: Python's convention for flags set in code; flags that
#   users write (command options, config files) are parsed strictly, and those cases are fuzzed there
LAX_FLAG_CASES = {"str 'yes'", "int 2", "numpy bool"}
# - labels compared for equality only may be any non-negative integers
ANY_LABELS = {"core.check_labels", "probes.draw_partners", "probes.hybrid_images",
              "data.stratified_order", "data.stratified_indices"}   # they group positions by label (np.unique)


def expectation(target: str, param: str, case: str, expect: str) -> str:
    "The expectation of a hostile value for `target`, after the rules above."
    if target in MODEL_INSPECTORS and case in ("returns its input", "wrong batch size", "returns a tuple", "NaN weights"): return ROBUST
    if target in ANY_RANGE and case in ("values up to 4", "negative values"): return ROBUST
    if case in ("str 'yes'", "int 2") and expect == INVALID: return ROBUST
    if target in ANY_LABELS and case == "huge label": return ROBUST
    return expect


# functions whose purpose is to change an argument: no mutation check
MUTATES = {"core.seed_everything", "core.eval_mode", "models.load_checkpoint", "train.fit", "train.make_learner",
           "train.register_arm", "experiment.register_measure", "experiment.describe_measure", "train.on_main",
           "models.FeatureHooks", "masking.CategoryReadout", "regularizers.SimilarityRegularizer", "regularizers.CKAAlignment",
           "regularizers.NeuralGuidance", "train.save_trained", "train.EpochCheckpoint", "models.Classifier"}


def _small_cfg(**kw):
    from spectral_align.experiment import ExperimentConfig
    return ExperimentConfig(**{**dict(arms=["baseline"], n_train=32, n_valid=16, epochs=1, bs=16, measures=["clean"],
                                      out=str(TMP / "exp_out")), **kw})

def _results():
    import pandas as pd
    from spectral_align.experiment import RESULT_COLUMNS
    rows = [(a, s, "clean", "clean_acc", "", float("nan"), 0.5 + 0.1 * s + (0.1 if a == "blur" else 0), "")
            for a in ("baseline", "blur") for s in (0, 1)]
    rows += [(a, s, "pgd", "pgd_linf_acc", "", e, 0.4 - e, "") for a in ("baseline", "blur") for s in (0, 1) for e in (0.0, 2 / 255)]
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))

def _ckpt():
    from spectral_align.models import save_checkpoint
    p = TMP / "model.pth"
    if not p.exists(): save_checkpoint(tiny_model(), p)
    return str(p)

def _ctx():
    return dict(x=images(8), y=labels(8), cfg=_small_cfg(n_eval=8, n_attack=4, n_minimal=4, pgd_steps=2,
                                                         eps_linf=["8/255"], eps_l2=[0.5], severities=[1],
                                                         corruptions=["gaussian_noise"]),
                device=torch.device("cpu"), eval_seed=1, n_classes=10, out=TMP, arm="baseline", seed=0, run_dir=TMP)

def _rdm():
    from spectral_align.similarity import rdm
    return rdm(torch.randn(6, 5, generator=torch.Generator().manual_seed(0)))

def _responses(): return torch.randn(8, 5, generator=torch.Generator().manual_seed(1))

def _dls():
    from spectral_align.data import get_dls
    return get_dls(images(16), torch.arange(16) % 4, images(8), torch.arange(8) % 4, bs=4, device="cpu")

def _learn():
    from spectral_align.train import make_learner
    return make_learner(_dls(), quiet=True, width=4)

def _trials():
    from spectral_align.masking import trial_key
    return {trial_key(0.0, 0): [1, 0, 1], trial_key(0.1, 1): [0, 1]}

# per-function valid arguments (name → value or function of nothing) beyond `BY_NAME`, and `call` to use the result
OVERRIDES = {
    "core.check_number": dict(v=0.5, name="v"), "core.check_choice": dict(v="a", name="v", allowed=("a", "b")),
    "core.describe": dict(v=[1, 2]), "core.check_out_dir": dict(out=lambda: str(TMP / "out_dir")),
    "core.one_line": dict(msg="a\nb"), "core.command_error": dict(prog="p", e="bad"),
    "core.model_logits": dict(xb=images), "core.check_labels": dict(y=labels),
    "core.eval_mode": dict(call=lambda cm: cm.__enter__()),
    "spectra.radial_profile": dict(spec=lambda: torch.rand(2, 3, 16, 16)),
    "filters.fourier_filter": dict(gain=lambda: torch.ones(32, 32)), "filters.Complement": dict(base=lambda: _filt()),
    "filters.LowPass": dict(cutoff=8.0), "filters.HighPass": dict(cutoff=8.0), "filters.BandPass": dict(low=4.0, high=8.0),
    "filters.fwhm_to_sigma": dict(fwhm_octaves=1.0), "filters.LogGaussianBand": dict(center=8.0),
    "filters.GaussianBlur": dict(sigma=1.0), "filters.make_filter": dict(name="lowpass", cutoff=8.0),
    "data.load_arrays": dict(x=lambda: (np.random.default_rng(0).random((4, 8, 8, 3)) * 255).astype(np.uint8), y=lambda: np.arange(4)),
    "data.stratified_indices": dict(y=lambda: np.arange(20) % 4, n=8), "data.pad_crop_flip": dict(dy=1, dx=1),
    "data.ImageTensors": dict(x=images, y=labels), "data.load_test_data": dict(data="builtin", n=4),
    "data.get_dls": dict(x_train=lambda: images(16), y_train=lambda: torch.arange(16) % 4, x_valid=lambda: images(8),
                         y_valid=lambda: torch.arange(8) % 4, bs=4, device="cpu"),
    "data.builtin_dls": dict(n_train=16, n_valid=8, bs=4, device="cpu"), "data.make_builtin": dict(n=8),
    "data.DataSource": "skip", "data.data_source": "skip",
    "models.Normalize": dict(mean=(0.5, 0.5, 0.5), std=(0.2, 0.2, 0.2), call=lambda m: m(images())),
    "models.SmallCNN": dict(width=4, call=lambda m: m(images())),
    "models.resnet18_cifar": "skip", "models.resnet34_cifar": "skip", "models.resnet18": "skip", "models.resnet34": "skip",
    "models.resnet50": "skip",
    "models.check_front_end_spec": dict(spec=lambda: {"kind": "blur", "sigma": 1.0}),
    "models.build_front_end": dict(spec=lambda: {"kind": "blur", "sigma": 1.0}), "models.Classifier": "skip",
    "models.default_stats": dict(arch="small_cnn"), "models.build_model": dict(arch="small_cnn", width=4),
    "models.FeatureHooks": dict(layers="head"), "models.get_features": dict(layers="head"),
    "models.save_checkpoint": dict(path=lambda: str(TMP / "saved.pth")), "models.check_model_config": dict(cfg=lambda: tiny_model().config),
    "models.load_checkpoint": dict(path=_ckpt), "models.model_from_checkpoint": dict(path=_ckpt),
    "probes.hybrid_images": dict(cutoff=8.0), "probes.hybrid_sweep": dict(x=lambda: images(8), y=lambda: labels(8)),
    "probes.fourier_heatmap": dict(x=lambda: images(2, 3, 8), y=lambda: labels(2)),
    "probes.fourier_basis": dict(h=8, w=8, freqs=lambda: [(1, 1)]),
    "attacks.max_eps": dict(shape=(3, 32, 32)), "attacks.check_eps": dict(eps=2 / 255),
    "attacks.eps_to_pixel": dict(eps=2 / 255), "attacks.perturbation_norm": dict(delta=lambda: images() * 0.01),
    "attacks.Attack": "skip", "attacks.PGD": dict(eps=8 / 255, steps=2, call=lambda a: a(images(), labels())),
    "attacks.FGSM": dict(eps=8 / 255, call=lambda a: a(images(), labels())), "attacks.AutoAttackEval": "skip",
    "attacks.make_attack": dict(name="pgd", steps=2), "attacks.masking_checks": dict(eps=8 / 255, steps=2),
    "attacks.robust_accuracy": dict(eps=[8 / 255], steps=2, checks=False),
    "attacks.minimal_perturbation": dict(x=lambda: images(2), y=lambda: labels(2), steps=2, n_eps=3),
    "attacks.adversarial_spectrum": dict(eps=8 / 255, steps=2), "attacks.parse_eps": dict(text="2/255"),
    "attacks.perturbation_spectrum": dict(x_adv=lambda: (images() + 0.01).clamp(0, 1)),
    "corruptions.constants_for_size": dict(h=32, w=32), "corruptions.corrupt": dict(name="gaussian_noise"),
    "corruptions.add_noise": dict(kind="gaussian", level=0.1), "corruptions.resolve_corruptions": dict(corruptions="noise"),
    "corruptions.noise_sweep": dict(levels=[0.1]), "corruptions.corruption_accuracy": dict(corruptions=["gaussian_noise"], severities=(1,)),
    "similarity.check_responses": dict(x=_responses), "similarity.rdm": dict(x=_responses),
    "similarity.similarity_matrix": dict(x=_responses), "similarity.check_rdm": dict(r=_rdm), "similarity.upper_tri": dict(r=_rdm),
    "similarity.rankdata": dict(v=lambda: torch.tensor([3.0, 1.0, 2.0])), "similarity.rsa": dict(rdm_a=_rdm, rdm_b=_rdm),
    "similarity.linear_cka": dict(x=_responses, y=lambda: torch.randn(8, 3, generator=torch.Generator().manual_seed(2))),
    "similarity.eigenspectrum": dict(x=lambda: torch.randn(20, 10, generator=torch.Generator().manual_seed(3))),
    "similarity.eigenspectrum_alpha": dict(x=lambda: torch.randn(20, 10, generator=torch.Generator().manual_seed(3))),
    "similarity.collect_features": dict(layers="head"), "similarity.NoiseCeiling": "skip",
    "neural.stratified_split": dict(categories=lambda: np.array(["a", "b"] * 6), holdout=0.5),
    "predictor.per_image_pearson": dict(pred=_responses, target=lambda: _responses() + 0.1),
    "predictor.per_unit_pearson": dict(pred=_responses, target=lambda: _responses() + 0.1),
    "predictor.fit_ridge": dict(x=_responses, y=lambda: _responses()[:, :3] + 0.1),
    "predictor.cross_validated_predictivity": dict(features=lambda: torch.randn(20, 6, generator=torch.Generator().manual_seed(4)),
                                                   responses=lambda: torch.randn(20, 3, generator=torch.Generator().manual_seed(5)),
                                                   n_folds=4),
    "predictor.TinyConvNet": dict(in_channels=3, n_out=5, width=4, call=lambda m: m(images())),
    "predictor.build_predictor_net": dict(arch="tiny", in_channels=3, n_out=5, width=4),
    "predictor.net_features": dict(net=lambda: __import__("spectral_align.predictor", fromlist=["x"]).TinyConvNet(3, 5, 4)),
    "neural.holdout_mask": dict(keys=lambda: [f"k{i}" for i in range(12)]),
    "neural.is_v4_folder": dict(path=lambda: _v4()), "neural.v4_sessions": dict(path=lambda: _v4()),
    "neural.v4_split": dict(source=lambda: _v4()), "neural.load_v4": dict(path=lambda: _v4()),
    "neural.write_v4_stand_in": dict(folder=lambda: _fresh_dir(), n_images=(12, 12), n_units=(3, 3), size=32, n_shared=4),
    "neural.split_half_reliability": dict(repeats=lambda: torch.rand(10, 4, 3, generator=torch.Generator().manual_seed(6))),
    "neural.li_similarity": dict(x=_responses), "neural.similarity_from_gram": dict(gram=lambda: _responses() @ _responses().T),
    "neural.fit_images": dict(size=16, channels=1),
    "data.stratified_order": dict(y=lambda: torch.arange(20) % 4), "data.resolve_augment": dict(augment="auto", size=32),
    "data.is_image_folder_split": dict(path=lambda: _folder()), "data.image_folder_split": dict(path=lambda: _folder()),
    "data.list_image_folder": dict(path=lambda: str(Path(_folder()) / "train")),
    "data.load_folder_split": dict(path=lambda: _folder(), image_size=16, num_workers=0),
    "data.read_image": dict(path=lambda: str(next((Path(_folder()) / "train" / "a").iterdir()))),
    "data.random_resized_crop": dict(size=16, seed=0), "data.resized_crop_boxes": dict(n=4, h=32, w=32, seed=0),
    "data.resized_crop": dict(boxes=lambda: __import__("spectral_align.data", fromlist=["x"]).resized_crop_boxes(4, 32, 32, seed=0), size=16),
    "data.eval_transform": dict(size=16), "data.train_transform": dict(size=16),
    "data.BatchRandomResizedCrop": dict(size=16, call=lambda t: t(images())),
    "data.DataSplit": dict(y_train=lambda: torch.arange(8) % 4, y_valid=lambda: torch.arange(4) % 4, classes=lambda: list("abcd"),
                           x_train=lambda: images(8), x_valid=lambda: images(4)),
    "models.SmallCNN224": dict(width=4, call=lambda m: m(images(2, 3, 64))),
    "corruptions.corruption_protocol": dict(constants="cifar10-c"), "train.paper_condition": dict(arm="blur"),
    "experiment.heldout_accuracy": dict(ctx=_ctx), "experiment.brain_context": dict(cfg=_small_cfg, arm="baseline"),
    "experiment.record_brain_split": dict(cfg=_small_cfg),
    "report.flag_channels": dict(results=_results), "report.summary_label": dict(measure="clean_acc"),
    "masking.pyramid_height": dict(size=32), "masking.laplacian_pyramid": dict(x=images), "masking.masking_bands": dict(size=32),
    "masking.true_cpi": dict(label_cpi=4.0, size=32), "masking.pyramid_label": dict(cpi=4.0, size=32),
    "masking.band_noise": dict(n=2, size=32, band=1, sd=0.1), "masking.reduce_contrast": dict(x=images),
    "masking.cbm_stimuli": dict(noise_sd=0.1, band=1), "masking.trial_key": dict(sd=0.1, k=1),
    "masking.check_noise_sds": dict(noise_sds=lambda: [0.0, 0.1]), "masking.masking_protocol": dict(size=32),
    "channel.save_trials": dict(trials=_trials, path=lambda: str(TMP / "trials.json")),
    "channel.index_thresholds": dict(acc_percent=lambda: np.full((3, 4), 60.0)),
    "regularizers.ramp": dict(pct=0.5, warmup=0.25), "regularizers.out_of_band_share": "skip",
    "train.get_arm": dict(name="blur"), "train.unwrap_model": dict(model=tiny_model),
    "train.make_learner": dict(dls=_dls, width=4, quiet=True), "train.fit": dict(learn=_learn, epochs=1),
    "train.read_training_state": dict(fname=lambda: str(TMP / "nothing.pth")), "train.register_arm": "skip", "train.Arm": "skip",
    "train.save_trained": dict(learn=_learn, path=lambda: str(TMP / "trained.pth")), "train.on_main": dict(f=lambda: (lambda: 1)),
    "train.EpochCheckpoint": dict(fname=lambda: str(TMP / "ep.pth")),
    "experiment.register_measure": "skip",
    "experiment.measure_row": dict(measure="acc", value=0.5),
    "experiment.accuracy_on": "skip", "experiment.eval_images": dict(ctx=_ctx, n=2),
    "experiment.MeasureInfo": dict(name="m", definition="d"), "experiment.describe_measure": "skip",
    "experiment.measure_info": dict(name="clean_acc"), "experiment.parse_eps": dict(v="2/255"),
    "experiment.parse_list": dict(v="a,b", name="v"), "experiment.check_arm_params": dict(arm="blur", params=lambda: {"sigma": 1.0}),
    "experiment.arm_settings": dict(arm="channel", size=32), "experiment.out_folder": dict(v=lambda: str(TMP / "o")),
    "experiment.ExperimentConfig": dict(arms=lambda: ["baseline"], epochs=1, out=lambda: str(TMP / "cfg_out")),
    "experiment.read_config_file": dict(path=lambda: _yaml()), "experiment.load_config": dict(path=lambda: _yaml()),
    "experiment.experiment_data": dict(cfg=_small_cfg), "experiment.aligned_to_brain_set": dict(cfg=_small_cfg, arm="baseline"),
    "experiment.brain_set": "skip", "experiment.brain_split": "skip", "experiment.run_name": dict(arm="blur", seed=0),
    "experiment.write_csv": dict(df=_results, path=lambda: TMP / "w.csv"),
    "experiment.prepare_output": "skip", "experiment.read_lock": dict(folder=lambda: str(TMP)),
    "experiment.measure_frame": dict(rows=lambda: [dict(measure="m", condition="", param=float("nan"), value=0.5, protocol="")],
                                     arm="baseline", seed=0, name="m"),
    "experiment.missing_runs": dict(cfg=_small_cfg), "experiment.experiment_context": "skip",
    "experiment.write_data_info": "skip", "experiment.read_data_info": dict(out=lambda: str(TMP)),
    "experiment.finish_outputs": "skip", "experiment.read_results": dict(path=lambda: _results_csv()),
    "experiment.collect_results": dict(out=lambda: str(TMP / "exp_out"), cfg=_small_cfg),
    "measures.*": dict(ctx=_ctx),
    "report.eps_label": dict(eps=2 / 255), "report.summarize": dict(results=_results),
    "report.summary_table": dict(summary=lambda: __import__("spectral_align.report", fromlist=["x"]).summarize(_results())),
    "report.format_summary": dict(summary=lambda: __import__("spectral_align.report", fromlist=["x"]).summarize(_results())),
    "report.curves": dict(results=_results, measure="pgd_linf_acc"), "report.shift_vs_gain": "skip",
    "report.plot_shift_vs_gain": "skip", "report.make_figures": "skip", "report.paired_change": dict(results=_results, measure="clean_acc"),
    "report.report_notes": dict(results=_results), "report.arms_as_used": dict(cfg=_small_cfg, size=32),
    "report.write_report": "skip", "report.write_outputs": "skip", "report.report_from_folder": "skip",
    "widgets.cutoff_figure": dict(x=lambda: images(1)), "widgets.band_figure": dict(x=lambda: images(1)),
    "data.random_pad_crop_flip": dict(seed=0), "data.pad_crop_flip": dict(dy=lambda: torch.ones(4, dtype=torch.long),
                                                                         dx=lambda: torch.ones(4, dtype=torch.long)),
    "filters.fourier_filter": dict(gain=lambda: torch.ones(32, 17)), "masking.laplacian_pyramid": dict(x=lambda: images()[:, 0]),
    "similarity.eigenspectrum_alpha": dict(x=lambda: torch.randn(40, 30, generator=torch.Generator().manual_seed(3)), rank_range=(2, 20)),
    "train.read_training_state": dict(fname=lambda: _train_state()),
    "core.write_atomic": dict(path=lambda: str(TMP / "atomic.txt"), write=lambda: (lambda t: t.write_text("x"))),
    "experiment.parse_json": dict(text='{"a": [1, 2]}', source="text"), "experiment.check_tree": dict(v=lambda: {"a": [1, 2]}, source="s"),
    "experiment.read_json_file": dict(path=lambda: _json_file()), "experiment.read_output_config": dict(out=lambda: _prepared()),
    "experiment.folder_owner": dict(out=lambda: _prepared()), "experiment.mark_folder": dict(out=lambda: _prepared()),
    "experiment.clear_outputs": dict(out=lambda: _prepared()),
    "experiment.read_measure_file": dict(path=lambda: _measure_csv(), arm="baseline", seed=0, name="clean"),
    "experiment.run_fingerprint": dict(cfg=_small_cfg, arm="baseline", seed=0),
    "experiment.check_run_checkpoint": dict(meta=lambda: dict(arm="baseline", seed=0, fingerprint=_fp()), cfg=_small_cfg,
                                            arm="baseline", seed=0, path="model.pth"),
    "experiment.check_before_run": dict(cfg=_small_cfg, data=lambda: __import__("spectral_align.experiment", fromlist=["x"]).experiment_data(_small_cfg())),
    "experiment.OutputLock": dict(folder=lambda: _fresh_dir(), call=lambda l: (l.acquire(), l.release())),
    "experiment.measure_function": dict(name="clean"), "experiment.resolve_measures": dict(names=lambda: ["clean"]),
}


def _v4():
    "A small V4 folder in the layout of Cowley et al. (2023) (`neural.write_v4_stand_in`), made once."
    p = TMP / "v4"
    if not p.exists():
        from spectral_align.neural import write_v4_stand_in
        write_v4_stand_in(p, n_images=(12, 12), n_units=(3, 3), size=32, n_shared=4)
    return str(p)

def _folder():
    "A tiny image folder as users have it (`train/` and `val/`, one sub-folder per class), made once."
    p = TMP / "folder"
    if not p.exists():
        from PIL import Image
        rng = np.random.default_rng(0)
        for split, n in (("train", 4), ("val", 2)):
            for c in ("a", "b"):
                (p / split / c).mkdir(parents=True)
                for i in range(n): Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(p / split / c / f"{i}.png")
    return str(p)

def _fresh_dir():
    import tempfile
    return tempfile.mkdtemp(dir=TMP)

def _prepared():
    from spectral_align.experiment import prepare_output
    import dataclasses
    return str(prepare_output(dataclasses.replace(_small_cfg(), out=_fresh_dir())))

def _json_file():
    p = TMP / "file.json"
    p.write_text('{"a": [1, 2]}')
    return str(p)

def _measure_csv():
    from spectral_align.experiment import measure_frame, measure_row, write_csv
    p = TMP / "clean.csv"
    write_csv(measure_frame([measure_row("clean_acc", 0.5)], "baseline", 0, "clean"), p)
    return str(p)

def _fp():
    from spectral_align.experiment import run_fingerprint
    return run_fingerprint(_small_cfg(), "baseline", 0)

def _train_state():
    p = TMP / "state.pth"
    if not p.exists():
        from spectral_align.train import fit
        fit(_learn(), 1, 1e-3, checkpoint=p)
    return str(p)


def _filt():
    from spectral_align.filters import LowPass
    return LowPass(8.0)

def _yaml():
    p = TMP / "cfg.yaml"
    p.write_text("arms: [baseline]\nepochs: 1\n")
    return str(p)

def _results_csv():
    p = TMP / "results.csv"
    _results().to_csv(p, index=False)
    return str(p)


def _override(target: str):
    mod = target.split(".")[0]
    o = OVERRIDES.get(target, OVERRIDES.get(f"{mod}.*", {}))
    return o


def targets(modules=MODULES) -> list:
    "Every public callable `module.name` of `modules` (from `__all__`), exceptions and plain constants left out."
    out = []
    for m in modules:
        mod = importlib.import_module(f"spectral_align.{m}")
        for n in getattr(mod, "__all__", []):
            o = getattr(mod, n)
            if not callable(o) or (isinstance(o, type) and issubclass(o, BaseException)): continue
            out.append((f"{m}.{n}", o))
    return out


def baseline_kwargs(target: str, f) -> dict | None:
    "Valid keyword arguments for `f` (None when a required one has no provider)."
    o = _override(target)
    if o == "skip": return None
    sig = inspect.signature(f)
    kw = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name == "self": continue
        if p.name in o: kw[p.name] = o[p.name]
        elif p.default is p.empty:
            if p.name in BY_NAME: kw[p.name] = BY_NAME[p.name]
            else: return None
    for k, v in o.items():                                   # extra keywords (e.g. **arch_kwargs)
        if k != "call" and k not in kw: kw[k] = v
    return kw


def _materialise(kw: dict) -> dict:
    "Fresh valid values: every callable in an override or `BY_NAME` is a factory (a function value is wrapped in one)."
    return {k: (v() if callable(v) else v) for k, v in kw.items()}


def _call(f, kw, post):
    torch.manual_seed(0); np.random.seed(0); random.seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = f(**kw)
        return post(r) if post else r


def fuzz_target(target: str, f, secs: float = 20.0, max_cases: int = 120, skip=frozenset()):
    """Fuzz `f`, yielding `('case', key)` before each case, `('outcome', Outcome)` after it, and `('skipped', why)` when
    `f` is not fuzzed; cases whose key is in `skip` are left out."""
    if target in SKIP: yield "skipped", SKIP[target]; return
    if target in skip or f"{target}|baseline" in skip: yield "skipped", "the harness could not run it (see the crash reported)"; return
    kw0 = baseline_kwargs(target, f)
    if kw0 is None:
        yield "skipped", "no valid baseline arguments known" if _override(target) != "skip" else "skipped (needs a setting)"
        return
    post = _override(target).get("call") if isinstance(_override(target), dict) else None
    yield "case", f"{target}|baseline"
    base, exc, _ = timed(_call, f, _materialise(kw0), post, secs=secs)
    if exc is not None:
        yield "skipped", f"the valid call failed: {type(exc).__name__}: {first_line(exc)}"
        return
    sig = inspect.signature(f)
    params = [p for p in sig.parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in SKIP_PARAMS]
    n = 0
    for p in params:
        valid = _materialise({p.name: kw0[p.name]})[p.name] if p.name in kw0 else p.default
        if valid is inspect.Parameter.empty: continue
        try: catalogue = hostile(p.name, valid)
        except Exception as e:
            yield "outcome", Outcome(target, p.name, "-", "traceback", f"the harness could not build hostile values: {type(e).__name__}: {e}")
            continue
        for case, value, expect in catalogue:
            key = f"{target}|{p.name}|{case}"
            n += 1
            if n > max_cases: return
            if key in skip: continue
            yield "case", key
            kw = _materialise(kw0)
            kw[p.name] = value
            snap = Snapshot.of(list(kw.values())) if target not in MUTATES else None
            if target in RUNS_AS_IS and case == "in train mode": snap, expect = None, ROBUST
            r, e, t = timed(_call, f, kw, post, secs=secs)
            mutated = snap.changed() if snap is not None and e is None else None
            names = [p.name, p.name.replace("_", "-")]
            cls, detail = classify_call(expectation(target, p.name, case, expect), r, e, names, reference=base,
                                        has_reference=True, mutated=mutated)
            why = EXEMPT.get((target, p.name, case), EXEMPT.get((target, p.name, "*"), EXEMPT.get((target, "*", "*"))))
            if cls == "silent" and why: cls, detail = "ok", f"exempt: {why}"
            yield "outcome", Outcome(target, p.name, case, cls, detail, round(t, 3))
