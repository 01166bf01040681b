"""The command cases: every flag of every command with hostile values, and scenarios a careless or hostile user makes
(a folder the package did not write with --force, tampered results, swapped checkpoints, configs that expand or
repeat keys, a full disk, a 0-byte lock, closed stdout, malformed files). Each command runs in this process through
`spectral_align.cli.main` (stdout and stderr captured), except where the scenario needs a real process."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from harness import INVALID, ROBUST, Hang, Outcome, first_line, names_argument, time_limit

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--n-train", "40", "--n-valid", "20", "--epochs", "1", "--arms", "baseline", "--measures", "clean", "--bs", "16",
        "--n-eval", "16", "--device", "cpu"]


@dataclass
class Case:
    key: str
    fn: Callable                       # fn(secs) -> list[Outcome]
    quick: bool = False

    def run(self, secs: float) -> list:
        try: return self.fn(secs)
        except Hang as e: return [Outcome(*self.key.split("|", 2), "hang", str(e))]
        except Exception as e:
            return [Outcome(*self.key.split("|", 2), "traceback", f"the harness failed: {type(e).__name__}: {first_line(e)}")]


def fresh(name: str = "d") -> Path: return Path(tempfile.mkdtemp(prefix=f"fuzz_{name}_"))


def invoke(argv, secs: float = 60.0, cwd=None):
    "(status, stdout, stderr, exception) of `spectral-align ARGV` run through `cli.main` in this process."
    from spectral_align.cli import main
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd: os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), time_limit(secs):
            rc = main([str(a) for a in argv])
        return rc, out.getvalue(), err.getvalue(), None
    except Hang: raise
    except SystemExit as e: return e.code, out.getvalue(), err.getvalue(), None
    except BaseException as e: return None, out.getvalue(), err.getvalue(), e
    finally: os.chdir(old)


def classify_run(rc, out, err, exc, expect: str, names=(), written: bool = False) -> tuple[str, str]:
    "(class, detail) of one command run."
    if exc is not None: return "traceback", f"{type(exc).__name__} escaped main: {first_line(exc)}"
    lines = [l for l in err.splitlines() if l.strip()]
    if rc not in (0, None):
        if "Traceback" in err or len(lines) != 1 or "internal error" in err:
            return "traceback", f"status {rc}; stderr: {err.strip()[-300:]}"
        if written: return "late", f"refused only after writing or training: {lines[0][:200]}"
        return ("clean" if not names or names_argument(lines[0], names) else "unnamed"), lines[0][:250]
    if expect == INVALID: return "silent", f"status {rc}: accepted; {(lines[-1] if lines else out.strip()[-150:])[:200]}"
    return "ok", ""


def one(target, param, case, expect, argv, names=(), secs=60.0, check=None) -> list:
    t0 = time.time()
    rc, out, err, exc = invoke(argv, secs)
    written = check() if check else False
    cls, detail = classify_run(rc, out, err, exc, expect, names, written)
    return [Outcome(target, param, case, cls, detail, round(time.time() - t0, 2))]


def _trained_out(extra=()) -> Path:
    "A finished tiny experiment (baseline and blur, one seed, the clean measure), made once and copied for each case."
    base = Path(tempfile.gettempdir()) / f"fuzz_trained_{os.getpid()}_{hashlib.md5(repr(extra).encode()).hexdigest()[:6]}"
    if not (base / "report.html").exists():
        rc, out, err, exc = invoke(["experiment", *TINY, "--arms", "baseline,blur", *extra, "--out", base], secs=300)
        if rc != 0: raise RuntimeError(f"the tiny experiment failed: {err.strip()[-300:]} {exc!r}")
    d = fresh("trained") / "out"
    shutil.copytree(base, d)
    return d


def _checkpoint() -> Path:
    from spectral_align.models import build_model, save_checkpoint
    import torch
    p = Path(tempfile.gettempdir()) / f"fuzz_ckpt_{os.getpid()}.pth"
    if not p.exists():
        torch.manual_seed(0)
        save_checkpoint(build_model("small_cnn", 10, 3, width=4), p)
    return p


def _digest(folder: Path) -> dict:
    "relative path → sha256 of every file under `folder`."
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fake_k92(folder: Path, n: int = 12, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    def sym():
        a = rng.random((n, n)); a = (a + a.T) / 2; np.fill_diagonal(a, 0); return a
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "rdms_and_stimuli.npz", images=rng.integers(0, 256, (n, 40, 40, 3), dtype=np.uint8),
             category=np.array(["a", "b"] * (n // 2)), **{k: rng.random(n) > .5 for k in ("is_human", "is_face", "is_animate", "is_natural")},
             rdm_human_IT_by_subject_session=np.stack([np.stack([sym(), sym()]) for _ in range(2)]),
             rdm_human_IT_names=np.array([["hIT | A | session: 1", "hIT | A | session: 2"], ["hIT | B | session: 1", "hIT | B | session: 2"]]),
             rdm_monkey_IT=sym())
    return folder


# --- flags of `experiment` ----------------------------------------------------------------------------------------------

INT_BAD = [("-1", "-1", INVALID), ("1e9 as text", "1e9", INVALID), ("nan", "nan", INVALID), ("empty", "", INVALID),
           ("hex", "0x10", INVALID), ("10**25", "1" + "0" * 25, ROBUST), ("2**70", str(2**70), ROBUST), ("0", "0", ROBUST)]
FLOAT_BAD = [("nan", "nan", INVALID), ("inf", "inf", INVALID), ("1e400", "1e400", INVALID), ("-1", "-1", INVALID),
             ("empty", "", INVALID), ("0", "0", ROBUST)]
LIST_BAD = [("empty", "", ROBUST), ("commas", ",,", ROBUST), ("repeat", "a,a", INVALID), ("1e400", "1e400", INVALID),
            ("nan", "nan", INVALID), ("-1", "-1", INVALID), ("2/0", "2/0", INVALID), ("huge list", ",".join(["1"] * 100000), ROBUST)]
STR_BAD = [("unknown", "bogus", INVALID), ("empty", "", INVALID), ("1 MB", "x" * 10**6, INVALID)]

FLAG_NEEDS = {   # flag → extra arguments that make the flag matter
    "pgd-steps": ["--measures", "clean,pgd", "--n-attack", "4", "--eps-l2", "0.5", "--eps-linf", "8/255"],
    "eps-linf": ["--measures", "clean,pgd", "--n-attack", "4", "--pgd-steps", "2"],
    "eps-l2": ["--measures", "clean,pgd", "--n-attack", "4", "--pgd-steps", "2"],
    "eps-space": ["--measures", "clean,pgd", "--n-attack", "4", "--pgd-steps", "2", "--eps-linf", "8/255", "--eps-l2", "0.5"],
    "n-attack": ["--measures", "clean,pgd", "--pgd-steps", "2", "--eps-linf", "8/255", "--eps-l2", "0.5"],
    "n-minimal": ["--measures", "clean,minimal", "--minimal-protocol", "bisect", "--pgd-steps", "2"],
    "minimal-protocol": ["--measures", "clean,minimal", "--n-minimal", "4", "--pgd-steps", "2"],
    "hybrid-partner-seeds": ["--measures", "clean,hybrid"], "n-eval": ["--measures", "clean,hybrid"],
    "corruptions": ["--measures", "clean,corruptions", "--severities", "1"],
    "severities": ["--measures", "clean,corruptions", "--corruptions", "gaussian_noise"],
    "masking-noise": ["--measures", "clean,masking"], "masking-protocol": ["--measures", "clean,masking"],
}


def _experiment_flag_cases() -> list:
    from spectral_align.cli import _defaults
    cases = []
    for key, default in _defaults().items():
        flag = key.replace("_", "-")
        if flag in ("out", "device"): continue
        if key in ("arms", "measures", "eps_linf", "eps_l2", "severities", "corruptions"): bad = LIST_BAD
        elif key == "arm_params": bad = ARM_PARAMS_BAD
        elif key in ("data_path", "neural"): bad = PATH_BAD
        elif key == "grayscale": bad = [("yes", "yes", INVALID), ("2", "2", INVALID)]
        elif key == "image_size": bad = INT_BAD
        elif isinstance(default, bool): bad = [("yes", "yes", INVALID)]
        elif isinstance(default, int): bad = INT_BAD
        elif isinstance(default, float): bad = FLOAT_BAD
        else: bad = STR_BAD
        for case, value, expect in bad:
            cases.append(Case(f"cli experiment|--{flag}|{case}",
                              lambda secs, flag=flag, value=value, expect=expect, case=case: _flag_run(flag, value, expect, secs),
                              quick=flag in ("epochs", "eps-linf", "arm-params") and case in ("-1", "1e400", "duplicate key")))
    return cases


PATH_BAD = [("missing", "/nonexistent/x", INVALID), ("a file", "__FILE__", INVALID), ("/dev/null", "/dev/null", INVALID),
            ("empty", "", INVALID)]
ARM_PARAMS_BAD = [("not JSON", "{blur", INVALID), ("a list", "[1, 2]", INVALID), ("unknown arm", '{"nope": {}}', INVALID),
                  ("sigma 1e400", '{"blur": {"sigma": 1e400}}', INVALID), ("duplicate key", '{"blur": {"sigma": 1, "sigma": 2}}', INVALID),
                  ("ignored rdm", '{"similarity": {"rdm": "bogus"}}', INVALID), ("arm not run", '{"blur": {"sigma": 1.0}}', INVALID),
                  ("deep nesting", "[" * 100000 + "]" * 100000, INVALID), ("NaN", '{"blur": {"sigma": NaN}}', INVALID)]


def _flag_run(flag: str, value: str, expect: str, secs: float) -> list:
    d = fresh("flag")
    out = d / "out"
    if value == "__FILE__": (d / "f.txt").write_text("hello"); value = str(d / "f.txt")
    argv = ["experiment", *TINY, *FLAG_NEEDS.get(flag, []), f"--{flag}", value, "--out", out]
    if flag == "arm-params" and "similarity" in value: argv += ["--arms", "baseline,similarity"]
    if flag == "data-path": argv += ["--data", "npz"]
    if flag == "arms" and value == "a,a": argv[argv.index(value)] = "baseline,baseline"
    if flag == "measures" and value == "a,a": argv[argv.index(value)] = "clean,clean"
    res = one("cli experiment", f"--{flag}", _case_name(flag, value), expect, argv, names=[f"--{flag}", flag.replace("-", "_")],
              secs=secs, check=lambda: (out / "runs").exists() and any((out / "runs").rglob("*.pth")))
    shutil.rmtree(d, ignore_errors=True)
    return res


def _case_name(flag, value):
    for table in (INT_BAD, FLOAT_BAD, LIST_BAD, STR_BAD, PATH_BAD, ARM_PARAMS_BAD):
        for c, v, _ in table:
            if v == value: return c
    return value[:20]


# --- attack, corrupt, channel, report ---------------------------------------------------------------------------------

def _tool_cases() -> list:
    cases = []
    specs = {
        "attack": (lambda: [_checkpoint(), "--n", "4", "--eps", "8/255", "--steps", "2", "--no-checks", "--device", "cpu"],
                   {"n": INT_BAD, "steps": INT_BAD, "bs": INT_BAD, "seed": INT_BAD, "size": INT_BAD, "eps": LIST_BAD,
                    "norm": STR_BAD, "data": PATH_BAD}),
        "corrupt": (lambda: [_checkpoint(), "--n", "4", "--corruptions", "gaussian_noise", "--severities", "1", "--device", "cpu"],
                    {"n": INT_BAD, "bs": INT_BAD, "seed": INT_BAD, "size": INT_BAD, "severities": LIST_BAD,
                     "corruptions": STR_BAD, "data": PATH_BAD}),
        "channel": (lambda: [_channel_file()], {"threshold": FLOAT_BAD, "n-boot": INT_BAD, "seed": INT_BAD, "size": INT_BAD}),
    }
    for cmd, (base, flags) in specs.items():
        for flag, bad in flags.items():
            for case, value, expect in bad:
                if cmd == "channel" and flag == "n-boot" and case == "0": continue
                cases.append(Case(f"cli {cmd}|--{flag}|{case}",
                                  lambda secs, cmd=cmd, base=base, flag=flag, value=value, expect=expect: _tool_run(cmd, base, flag, value, expect, secs),
                                  quick=(cmd, flag, case) in {("attack", "steps", "10**25"), ("corrupt", "n", "-1")}))
    for case, make in {"a file": lambda d: _touch(d / "f"), "empty folder": lambda d: d, "missing": lambda d: d / "nope",
                       "folder without runs": lambda d: _json(d / "config.json", {"settings": {}})}.items():
        cases.append(Case(f"cli report|OUT|{case}", lambda secs, make=make, case=case: one(
            "cli report", "OUT", case, INVALID, ["report", make(fresh("rep"))], secs=secs)))
    return cases


def _touch(p: Path) -> Path: p.write_text("x"); return p

def _json(p: Path, d) -> Path: p.write_text(json.dumps(d)); return p.parent


def _channel_file() -> Path:
    d = json.loads((ROOT / "spectral_align" / "data" / "human_cbm.json").read_text())
    f = Path(tempfile.gettempdir()) / f"fuzz_cbm_{os.getpid()}.json"
    f.write_text(json.dumps(dict(accuracy=d["accuracy_percent"], unit="percent", noise_sds=d["noise_sds"], bands=d["bands"])))
    return f


def _tool_run(cmd, base, flag, value, expect, secs):
    d = fresh(cmd)
    if value == "__FILE__": (d / "f.txt").write_text("hello"); value = str(d / "f.txt")
    argv = [cmd, *base(), f"--{flag}", value] + (["--out", d / "out"] if cmd != "channel" else [])
    res = one(f"cli {cmd}", f"--{flag}", _case_name(flag, value), expect, argv, names=[f"--{flag}", flag.replace("-", "_")], secs=secs)
    shutil.rmtree(d, ignore_errors=True)
    return res


# --- scenarios --------------------------------------------------------------------------------------------------------

def _foreign_folder(d: Path) -> Path:
    "A folder the package did not write, holding what a user's own project could: a config.json, figures, runs, jobs."
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps({"model": "mine", "lr": 0.1}))
    (d / "summary.csv").write_text("a,b\n1,2\n")
    for sub, name in (("figures", "plot.png"), ("runs", "run1/log.txt"), ("jobs", "job.sh")):
        (d / sub / name).parent.mkdir(parents=True, exist_ok=True); (d / sub / name).write_text("mine")
    (d / "notes.txt").write_text("my notes")
    return d


def scen_force_foreign(secs):
    "--force on folders the package did not write: nothing deleted or changed, and the refusal names what is there."
    outs = []
    variants = {
        "issue's folder": _foreign_folder,
        "one text file": lambda d: (d.mkdir(parents=True), (d / "notes.txt").write_text("mine"), d)[-1],
        "legacy-looking config.json, no runs": lambda d: (d.mkdir(parents=True), (d / "config.json").write_text(
            json.dumps({"settings": {"arms": ["baseline"]}, "spectral_align": "0.1", "torch": "2", "written": "x"})),
            (d / "results.csv").write_text("mine"), d)[-1],
        "package marker in a sub-folder only": lambda d: (d.mkdir(parents=True), (d / "sub").mkdir(), (d / "sub" / ".spectral_align").write_text("{}"),
                                                          (d / "data.json").write_text("mine"), d)[-1],
    }
    for name, make in variants.items():
        for force in (True, False):
            d = make(fresh("foreign") / "out")
            before = _digest(d)
            rc, out, err, exc = invoke(["experiment", *TINY, "--out", d] + (["--force"] if force else []), secs)
            after = _digest(d)
            lost = sorted(k for k in before if after.get(k) != before[k])
            case = f"{name}, {'--force' if force else 'no --force'}"
            if lost: outs.append(Outcome("cli experiment", "--force" if force else "--out", case, "data_loss", f"deleted or changed {lost[:5]}"))
            elif rc == 0: outs.append(Outcome("cli experiment", "--force" if force else "--out", case, "silent", "wrote into a folder it did not write"))
            elif not force and "--force" in err:
                outs.append(Outcome("cli experiment", "--out", case, "unnamed", f"suggests --force for a foreign folder: {err.strip()[:200]}"))
            else:
                cls, detail = classify_run(rc, out, err, exc, INVALID, names=[str(d), "--out"])
                outs.append(Outcome("cli experiment", "--force" if force else "--out", case, cls, detail))
    return outs


def scen_force_own(secs):
    "--force on the package's own folder with a user's file inside: only the package's outputs go; the user's file stays."
    d = _trained_out()
    (d / "figures").mkdir(exist_ok=True)
    (d / "runs" / "mine.txt").write_text("keep me")
    (d / "figures" / "my_plot.png").write_bytes(b"mine")
    (d / "my_notes.md").write_text("keep me")
    rc, out, err, exc = invoke(["experiment", *TINY, "--arms", "baseline,blur", "--out", d, "--force"], secs=max(secs, 120))
    kept = all((d / p).exists() for p in ("runs/mine.txt", "figures/my_plot.png", "my_notes.md"))
    if not kept: return [Outcome("cli experiment", "--force", "user files in own folder", "data_loss", "a user's file was deleted")]
    cls, detail = classify_run(rc, out, err, exc, ROBUST)
    return [Outcome("cli experiment", "--force", "user files in own folder", cls, detail)]


def scen_swapped_checkpoint(secs):
    "Another run's model.pth copied into a run folder whose measures are then redone: refused, not measured as this run."
    outs = []
    other = _trained_out(["--lr", "0.01"])                      # the same arms, trained under another config
    for what, src in (("another arm", lambda d: d / "runs" / "blur-seed0" / "model.pth"),
                      ("the same arm of another config", lambda d: other / "runs" / "baseline-seed0" / "model.pth")):
        d = _trained_out()
        rb = d / "runs" / "baseline-seed0"
        shutil.copy(src(d), rb / "model.pth")
        (rb / "measures" / "clean.csv").unlink()
        rc, out, err, exc = invoke(["experiment", *TINY, "--arms", "baseline,blur", "--out", d, "--resume"], secs=max(secs, 120))
        cls, detail = classify_run(rc, out, err, exc, INVALID, names=["model.pth", "blur", "checkpoint"])
        outs.append(Outcome("cli experiment", "--resume", f"swapped checkpoint ({what})", cls, detail))
    return outs


TAMPER = {   # name → function editing a measures/clean.csv DataFrame (or the folder)
    "accuracy 7.5": lambda df: df.assign(value=7.5),
    "accuracy inf": lambda df: df.assign(value=float("inf")),
    "duplicated row": lambda df: __import__("pandas").concat([df, df]),
    "extra column": lambda df: df.assign(extra=1),
    "column missing": lambda df: df.drop(columns=["condition"]),
    "value not a number": lambda df: df.astype({"value": object}).assign(value="high"),
    "another arm": lambda df: df.assign(arm="blur"),
    "another seed": lambda df: df.assign(seed=5),
    "another group": lambda df: df.assign(group="pgd"),
    "negative accuracy": lambda df: df.assign(value=-0.2),
}


def scen_tampered_results(secs):
    "Edited measure files, config.json and data.json: `report` refuses, naming the file."
    import pandas as pd
    outs = []
    for name, edit in TAMPER.items():
        d = _trained_out()
        f = d / "runs" / "baseline-seed0" / "measures" / "clean.csv"
        df = pd.read_csv(f, keep_default_na=False, na_values=["", "nan", "NaN"])
        edit(df).to_csv(f, index=False)
        rc, out, err, exc = invoke(["report", d], secs)
        cls, detail = classify_run(rc, out, err, exc, INVALID, names=["clean.csv"])
        outs.append(Outcome("cli report", "measure file", name, cls, detail))
    files = {"0-byte measure file": ("runs/baseline-seed0/measures/clean.csv", b"", "clean.csv"),
             "malformed measure CSV": ("runs/baseline-seed0/measures/clean.csv", b'a,"b\n1', "clean.csv"),
             "config.json empty settings": ("config.json", json.dumps({"settings": {}}).encode(), "config.json"),
             "config.json not JSON": ("config.json", b"{nope", "config.json"),
             "config.json duplicate key": ("config.json", None, "config.json"),
             "config.json a list": ("config.json", b"[1, 2]", "config.json"),
             "config.json deep": ("config.json", b"[" * 100000 + b"]" * 100000, "config.json"),
             "data.json not JSON": ("data.json", b"{nope", "data.json"),
             "data.json a list": ("data.json", b"[]", "data.json")}
    for name, (rel, content, fname) in files.items():
        d = _trained_out()
        if content is None:
            text = (d / rel).read_text()
            content = text.replace('"settings": {', '"settings": {\n  "epochs": 99,', 1).encode()
        (d / rel).write_bytes(content)
        rc, out, err, exc = invoke(["report", d], secs)
        cls, detail = classify_run(rc, out, err, exc, INVALID, names=[fname])
        outs.append(Outcome("cli report", "file", name, cls, detail))
    return outs


YAML_CASES = {   # name → (file name, text, expectation, words the error should hold)
    "billion laughs": ("bomb.yaml", "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")) + "arms: *i\n",
        INVALID, ["bomb.yaml"]),
    "recursive alias": ("rec.yaml", "arms: &a [baseline, *a]\n", INVALID, ["rec.yaml"]),
    "duplicate key": ("dup.yaml", "epochs: 1\nepochs: 2\n", INVALID, ["epochs"]),
    "octal 017": ("oct.yaml", "hybrid_partner_seeds: 017\n", ROBUST, ["hybrid_partner_seeds"]),
    "sexagesimal 1:30": ("sex.yaml", "seeds: 1:30\n", INVALID, ["seeds"]),
    "yes as a boolean": ("yes.yaml", "grayscale: yes\n", INVALID, ["grayscale"]),
    "deep nesting": ("deep.yaml", "arm_params: " + "[" * 5000 + "]" * 5000 + "\n", INVALID, ["deep.yaml", "arm_params"]),
    "2 MB file": ("big.yaml", "# " + "x" * (2 * 2**20) + "\nepochs: 1\n", INVALID, ["big.yaml"]),
    "TOML duplicate": ("dup.toml", "epochs = 1\nepochs = 2\n", INVALID, ["dup.toml", "epochs"]),
    "TOML deep": ("deep.toml", "arms = " + "[" * 5000 + "]" * 5000 + "\n", INVALID, ["deep.toml"]),
    "merge key": ("merge.yaml", "base: &b {epochs: 1}\n<<: *b\n", INVALID, ["merge.yaml", "<<", "base"]),
    "python tag": ("tag.yaml", "epochs: !!python/object/apply:os.system ['true']\n", INVALID, ["tag.yaml", "python"]),
    "huge integer": ("int.yaml", "epochs: " + "9" * 5000 + "\n", INVALID, ["epochs"]),
}


def scen_configs(secs):
    outs = []
    for name, (fname, text, expect, words) in YAML_CASES.items():
        d = fresh("cfg")
        (d / fname).write_text(text)
        t0 = time.time()
        try: rc, out, err, exc = invoke(["experiment", *TINY, "--config", d / fname, "--out", d / "out"], secs=min(secs, 5.0) if "laughs" in name else secs)
        except Hang:
            outs.append(Outcome("cli experiment", "--config", name, "hang", f"not refused within {min(secs, 5.0):g} s")); continue
        cls, detail = classify_run(rc, out, err, exc, expect, names=words)
        if name == "octal 017" and rc == 0:
            e = json.loads((d / "out" / "config.json").read_text())["settings"]["hybrid_partner_seeds"]
            if e != 17: cls, detail = "silent", f"hybrid_partner_seeds: 017 read as {e}"
        outs.append(Outcome("cli experiment", "--config", name, cls, detail, round(time.time() - t0, 2)))
    return outs


def scen_full_disk(secs):
    "The disk fills while a checkpoint is saved: one line, status ≠ 0; the lock is gone and a later --resume finishes."
    import torch
    outs = []
    for what, target in (("torch.save", "torch.save"), ("csv write", "pandas.DataFrame.to_csv"), ("text write", "pathlib.Path.write_text")):
        d = fresh("full") / "out"
        mod, attr = target.rsplit(".", 1)
        obj = {"torch": torch, "pandas.DataFrame": __import__("pandas").DataFrame, "pathlib.Path": Path}[mod]
        orig = getattr(obj, attr)
        def boom(*a, **k): raise OSError(errno.ENOSPC, "No space left on device")
        setattr(obj, attr, boom)
        try: rc, out, err, exc = invoke(["experiment", *TINY, "--out", d], secs)
        finally: setattr(obj, attr, orig)
        cls, detail = classify_run(rc, out, err, exc, INVALID, names=["No space left", "space"])
        outs.append(Outcome("cli experiment", "disk", f"full disk in {what}", cls, detail))
        locks = [p for p in d.rglob(".lock")] if d.exists() else []
        if locks: outs.append(Outcome("cli experiment", "disk", f"lock left after {what}", "hang", f"left {locks[0]}"))
        rc2, out2, err2, exc2 = invoke(["experiment", *TINY, "--out", d, "--resume" if (d / "config.json").exists() else "--quiet"], secs)
        cls2, det2 = classify_run(rc2, out2, err2, exc2, ROBUST)
        if rc2 != 0: cls2, det2 = "hang", f"a later run is blocked: {err2.strip()[:200]}"
        outs.append(Outcome("cli experiment", "disk", f"run after full disk in {what}", cls2, det2))
    return outs


def scen_locks(secs):
    "Locks left behind: 0-byte, corrupt, a dead process's: an old one is taken over (with a note), a fresh empty one refused."
    outs = []
    for name, content, age in (("0-byte, old", b"", 3600), ("corrupt, old", b"\x00garbage", 3600), ("dead pid", None, 0),
                               ("0-byte, fresh", b"", 0)):
        d = _trained_out()
        lk = d / ".lock"
        if content is None:
            p = subprocess.Popen([sys.executable, "-c", "pass"]); p.wait()
            import socket
            lk.write_text(json.dumps(dict(pid=p.pid, host=socket.gethostname(), since="earlier")))
        else: lk.write_bytes(content)
        if age: os.utime(lk, (time.time() - age, time.time() - age))
        rc, out, err, exc = invoke(["report", d], secs)
        if name == "0-byte, fresh":
            cls, detail = classify_run(rc, out, err, exc, INVALID, names=[".lock", "lock"])
        elif rc == 0: cls, detail = "ok", ""
        else: cls, detail = "hang", f"blocked by a stale lock: {err.strip()[:200]}"
        outs.append(Outcome("cli report", ".lock", name, cls, detail))
    return outs


def scen_closed_stdout(secs):
    "stdout closed (`>&-`) or a full device: one line on stderr, status ≠ 0, no traceback."
    outs = []
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "OMP_NUM_THREADS": "1",
           "PYTHONWARNINGS": "ignore", "SPECTRAL_ALIGN_DOWNLOAD": "0"}
    for name, args in (("channel", ["channel", str(_channel_file())]), ("list-arms", ["experiment", "--list-arms"]),
                       ("report", ["report", str(_trained_out())])):
        for how in ("closed", "/dev/full"):
            if how == "/dev/full" and not Path("/dev/full").exists(): continue
            kw = dict(stdout=subprocess.DEVNULL)
            if how == "closed":
                code = "import os, sys, runpy; os.close(1); sys.argv = ['spectral_align', *sys.argv[1:]]; runpy.run_module('spectral_align', run_name='__main__')"
                cmd = [sys.executable, "-c", code, *args]
            else:
                cmd = [sys.executable, "-m", "spectral_align", *args]
                kw["stdout"] = open("/dev/full", "w")
            try: p = subprocess.run(cmd, env=env, stderr=subprocess.PIPE, text=True, timeout=max(secs, 300), **kw)
            except subprocess.TimeoutExpired:
                outs.append(Outcome("cli", "stdout", f"{name}, stdout {how}", "hang", "")); continue
            lines = [l for l in p.stderr.splitlines() if l.strip()]
            if p.returncode == 0: cls, det = "silent", "status 0 although nothing could be printed"
            elif "Traceback" in p.stderr or len(lines) != 1: cls, det = "traceback", p.stderr.strip()[-300:]
            else: cls, det = "clean", lines[0][:200]
            outs.append(Outcome("cli", "stdout", f"{name}, stdout {how}", cls, det))
    return outs


def scen_late_refusals(secs):
    "Mistakes that must be refused before any training or writing: a wrong --neural file, PGD steps without bound."
    outs = []
    d = fresh("late")
    (d / "bad.npz").write_bytes(b"PK\x03\x04 not a zip")
    for name, extra, words in (("--neural garbage file", ["--neural", d / "bad.npz", "--measures", "clean,neural"], ["--neural", "neural", "bad.npz"]),
                               ("--neural a folder of nothing", ["--neural", d, "--measures", "clean,neural"], ["--neural", "neural"]),
                               ("--pgd-steps 10**9", ["--measures", "clean,pgd", "--pgd-steps", "1000000000", "--n-attack", "4"], ["pgd_steps", "--pgd-steps"]),
                               ("similarity target garbage", ["--arms", "baseline,similarity", "--arm-params", json.dumps({"similarity": {"target": str(d / "bad.npz")}})],
                                ["target", "bad.npz"])):
        out = d / f"out_{len(outs)}"
        res = one("cli experiment", "late", name, INVALID, ["experiment", *TINY, *extra, "--out", out], names=words, secs=secs,
                  check=lambda out=out: (out / "runs").exists() and any((out / "runs").rglob("model.pth")))
        outs += res
    return outs


def scen_labels(secs):
    "Data whose labels are not 0…K−1, or whose splits hold different classes: refused before training."
    outs = []
    rng = np.random.default_rng(0)
    for name, ytr, yte in (("labels 0, 1000, ..., 9000", np.arange(40) % 10 * 1000, np.arange(20) % 10 * 1000),
                           ("a class only in the test split", np.arange(40) % 9, np.arange(20) % 10),
                           ("a class only in the training split", np.arange(40) % 10, np.arange(20) % 9),
                           ("negative labels", np.arange(40) % 10 - 1, np.arange(20) % 10),
                           ("float labels", (np.arange(40) % 10).astype(float), (np.arange(20) % 10).astype(float)),
                           ("one class", np.zeros(40, int), np.zeros(20, int))):
        d = fresh("labels")
        for split, y in (("train", ytr), ("test", yte)):
            np.savez(d / f"{split}.npz", x=rng.integers(0, 256, (len(y), 32, 32, 3), dtype=np.uint8), y=y)
        out = d / "out"
        outs += one("cli experiment", "labels", name, INVALID, ["experiment", *TINY, "--data", "npz", "--data-path", d, "--out", out],
                    names=["label", "labels", "class", "classes", "y"], secs=secs,
                    check=lambda out=out: (out / "runs").exists() and any((out / "runs").rglob("model.pth")))
    return outs


def scen_divergence(secs):
    "Training that diverges (lr 1e6): a clear one-line error; no NaN checkpoint saved."
    d = fresh("div") / "out"
    rc, out, err, exc = invoke(["experiment", *TINY, "--lr", "1000000", "--out", d], secs)
    saved = list(d.rglob("model.pth")) if d.exists() else []
    if rc == 0 or saved:
        return [Outcome("cli experiment", "--lr", "1e6 (diverges)", "silent", f"status {rc}; saved {[str(s) for s in saved][:2]}")]
    cls, detail = classify_run(rc, out, err, exc, INVALID, names=["lr", "--lr", "diverged", "NaN"])
    return [Outcome("cli experiment", "--lr", "1e6 (diverges)", cls, detail)]


def scen_image_folders(secs):
    "16-bit and float images in image folders (wp-a's loaders): read at their true range, or refused."
    outs = []
    try: from PIL import Image
    except ImportError: return outs
    for name, make in (("16-bit PNG", lambda p, v: Image.fromarray(np.full((32, 32), v * 257, np.uint16)).save(p)),
                       ("float TIFF", lambda p, v: Image.fromarray(np.full((32, 32), v / 255, np.float32)).save(p))):
        d = fresh("img")
        ext = ".png" if "PNG" in name else ".tif"
        for split in ("train", "test"):
            for c in range(2):
                (d / split / f"c{c}").mkdir(parents=True)
                for i in range(4): make(d / split / f"c{c}" / f"{i}{ext}", 60 + 100 * c)
        from spectral_align.data import load_image_folder
        try:
            x, y = load_image_folder(d / "train")
            hi = float(x.max())
            cls = "ok" if abs(hi - (160 / 255)) < 0.02 else "silent"
            detail = f"max pixel {hi:.3f}, expected {160 / 255:.3f}" + (" (owned by wp-a)" if cls == "silent" else "")
        except ValueError as e: cls, detail = "clean", first_line(e)
        except Exception as e: cls, detail = "traceback", f"{type(e).__name__}: {first_line(e)}"
        outs.append(Outcome("data.load_image_folder", "images", name, cls, detail))
    return outs


SCENARIOS = {"force on a foreign folder": (scen_force_foreign, True), "force on the package's folder": (scen_force_own, False),
             "swapped checkpoint": (scen_swapped_checkpoint, True), "tampered results": (scen_tampered_results, False),
             "configs": (scen_configs, True), "full disk": (scen_full_disk, False), "locks": (scen_locks, True),
             "closed stdout": (scen_closed_stdout, False), "late refusals": (scen_late_refusals, False),
             "labels": (scen_labels, True), "divergence": (scen_divergence, True), "image folders": (scen_image_folders, False)}


def cases(quick: bool = False) -> list:
    import spectral_align.cli, spectral_align.experiment, spectral_align.measures, spectral_align.report  # noqa: F401 (not timed)
    out = [Case(f"scenario|{name}|-", lambda secs, f=f: f(secs), quick=q) for name, (f, q) in SCENARIOS.items()]
    out += _experiment_flag_cases() + _tool_cases()
    return [c for c in out if c.quick] if quick else out
