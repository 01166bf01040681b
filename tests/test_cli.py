"""The `spectral-align` command as a shell sees it: each user mistake ends in one line on stderr and a non-zero
exit status (no traceback, nothing left in --out), a closed pipe ends quietly, and the light commands stay light
(`--help` imports no torch, `channel` neither fastai, torchvision nor pandas). Each test runs the command in a subprocess."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}


def run(*args, cwd=None, **kw) -> subprocess.CompletedProcess:
    "`python -m spectral_align ARGS`, with text output captured."
    kw.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "spectral_align", *map(str, args)], cwd=cwd, env=ENV, stderr=subprocess.PIPE,
                          text=True, timeout=300, **kw)


def python(code: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)


def assert_one_line_error(p: subprocess.CompletedProcess, *words):
    assert p.returncode != 0, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    for w in words: assert w in lines[0], (w, lines[0])


@pytest.fixture
def results_file(tmp_path) -> Path:
    "A small critical-band-masking results file: the packaged human accuracy matrix as a JSON matrix object."
    d = json.loads((ROOT / "spectral_align" / "data" / "human_cbm.json").read_text())
    f = tmp_path / "results.json"
    f.write_text(json.dumps(dict(accuracy=d["accuracy_percent"], unit="percent", noise_sds=d["noise_sds"], bands=d["bands"])))
    return f


# --- entry points and imports ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("module", ["spectral_align", "spectral_align.cli"])
def test_python_m_help(module, tmp_path):
    p = subprocess.run([sys.executable, "-m", module, "--help"], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "commands:" in p.stdout and "experiment" in p.stdout and p.stderr == ""


def test_help_imports_no_torch(tmp_path):
    p = python("import sys, io, contextlib\n"
               "from spectral_align.cli import main\n"
               "with contextlib.redirect_stdout(io.StringIO()): assert main(['--help']) == 0\n"
               "assert 'torch' not in sys.modules, 'torch imported by --help'\n", cwd=tmp_path)
    assert p.returncode == 0, p.stderr


def test_channel_imports_no_fastai_nor_pandas(results_file, tmp_path):
    p = python("import sys, io, contextlib, json\n"
               "from spectral_align.cli import main\n"
               "out = io.StringIO()\n"
               f"with contextlib.redirect_stdout(out): rc = main(['channel', {str(results_file)!r}, '--json'])\n"
               "assert rc == 0, rc\n"
               "assert json.loads(out.getvalue())['fitted']\n"
               "heavy = [m for m in ('fastai', 'torchvision', 'pandas') if m in sys.modules]\n"
               "assert not heavy, f'channel imported {heavy}'\n", cwd=tmp_path)
    assert p.returncode == 0, p.stderr


# --- user mistakes: one line, non-zero, nothing written ---------------------------------------------------------------

SMALL = ["--n-train", "32", "--n-valid", "16", "--epochs", "1", "--arms", "baseline", "--measures", "clean"]


def _corrupt_npz(d: Path) -> Path:
    d.mkdir()
    (d / "train.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    (d / "test.npz").write_bytes(b"\x93NUMPY broken")
    return d


def _config(d: Path, name: str, text: str) -> Path:
    f = d / name
    f.write_text(text)
    return f


MISTAKES = {   # name -> (function of tmp_path giving the arguments, words the error line must contain)
    "grayscale flag": (lambda t: [*SMALL, "--grayscale", "maybe"], ["--grayscale", "maybe"]),
    "unknown arch": (lambda t: [*SMALL, "--arch", "vgg"], ["arch", "vgg"]),
    "negative blur sigma": (lambda t: [*SMALL, "--arms", "blur", "--arm-params", '{"blur": {"sigma": -1}}'], ["arm_params.blur.sigma"]),
    "corrupt npz": (lambda t: [*SMALL, "--data", "npz", "--data-path", _corrupt_npz(t / "data")], ["train.npz"]),
    "out under a file": (lambda t: [*SMALL, "--out", _config(t, "a_file", "") / "out"], ["a_file"]),
    "yaml value of the wrong type": (lambda t: ["--config", _config(t, "c.yaml", "arms: [baseline]\nepochs: four\n")], ["epochs", "four"]),
    "toml value of the wrong type": (lambda t: ["--config", _config(t, "c.toml", 'arms = ["baseline"]\nlr = "fast"\n')], ["lr", "fast"]),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_experiment_mistake_is_one_line(name, tmp_path):
    args, words = MISTAKES[name]
    out = tmp_path / "out"
    extra = [str(a) for a in args(tmp_path)]
    if "--out" not in extra: extra += ["--out", str(out)]
    p = run("experiment", *extra, cwd=tmp_path)
    assert_one_line_error(p, "spectral-align experiment: error:", *words)
    assert not out.exists(), sorted(out.rglob("*"))


def test_more_mistakes_in_one_process(tmp_path):
    "More mistakes, each through `main` in one process (one import of the training stack): one line on stderr each."
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    cases = {"unknown flag": (["--epoch", "3"], "--epoch"), "unknown arm": (["--arms", "baseline,nope"], "nope"),
             "arm params not JSON": (["--arm-params", "{blur"], "--arm-params"),
             "yaml syntax": (["--config", _config(tmp_path, "s.yaml", "arms: [baseline\nepochs: 2\n")], "not valid YAML"),
             "yaml unknown key": (["--config", _config(tmp_path, "k.yaml", "epoch: 2\n")], "valid keys"),
             "yaml not a mapping": (["--config", _config(tmp_path, "l.yaml", "- 1\n- 2\n")], "mapping"),
             "config not text": (["--config", tmp_path / "bin.yaml"], "UTF-8"),
             "missing config": (["--config", tmp_path / "none.yaml"], "none.yaml"),
             "int flag": (["--epochs", "two"], "--epochs")}
    code = ("import io, json, contextlib, sys\nfrom spectral_align.cli import main\nres = {}\n"
            f"for name, args in {json.dumps({k: [str(a) for a in v[0]] for k, v in cases.items()})}.items():\n"
            "    err = io.StringIO()\n"
            f"    with contextlib.redirect_stderr(err): rc = main(['experiment', *args, '--out', {str(tmp_path / 'out')!r}])\n"
            "    res[name] = [rc, err.getvalue()]\n"
            "print(json.dumps(res))\n")
    p = python(code, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout.splitlines()[-1])
    for name, (rc, err) in res.items():
        assert rc == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, (name, rc, err)
        assert cases[name][1] in err, (name, err)
    assert not (tmp_path / "out").exists()


def test_unknown_command(tmp_path):
    assert_one_line_error(run("nope", cwd=tmp_path), "unknown command 'nope'")


def test_channel_unreadable_file(tmp_path):
    f = tmp_path / "results.json"
    f.write_text("not json {")
    assert_one_line_error(run("channel", f, cwd=tmp_path), "results.json")


def test_locked_output_folder(tmp_path):
    "A live process holds --out: the run is refused (naming the PID), even with --force, and writes nothing."
    out = tmp_path / "out"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        (out / ".lock").write_text(json.dumps(dict(pid=sleeper.pid, host=socket.gethostname(), since="earlier")))
        p = run("experiment", *SMALL, "--out", out, "--force", cwd=tmp_path)
        assert_one_line_error(p, f"process {sleeper.pid}")
        assert sorted(q.name for q in out.iterdir()) == [".lock"]
    finally:
        sleeper.kill(); sleeper.wait()


# --- output that cannot be written ----------------------------------------------------------------------------------

def test_closed_pipe_is_quiet(tmp_path):
    "`spectral-align experiment --list-arms | head` when head has already gone: no traceback, status 141 (SIGPIPE)."
    r, w = os.pipe()
    os.close(r)
    try: p = run("experiment", "--list-arms", cwd=tmp_path, stdout=w)
    finally: os.close(w)
    assert p.returncode == 141, (p.returncode, p.stderr)
    assert p.stderr == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_write_error_is_one_line(tmp_path):
    with open("/dev/full", "w") as full: p = run("experiment", "--list-arms", cwd=tmp_path, stdout=full)
    assert_one_line_error(p, "No space left on device")


# --- attack and corrupt: mistakes before any work; the old names still work ---------------------------------------

@pytest.mark.parametrize("cmd", ["attack", "corrupt"])
def test_checkpoint_command_mistake_is_one_line(cmd, tmp_path):
    "A checkpoint that is not one: one line, status 2, --out not created."
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    out = tmp_path / "out"
    p = run(cmd, tmp_path / "junk.pt", "--n", "4", "--out", out, cwd=tmp_path)
    assert_one_line_error(p, f"spectral-align {cmd}: error:", "junk.pt")
    assert p.returncode == 2 and not out.exists()


def test_deprecated_command_aliases(tmp_path):
    "`attacks.cli_attack`, `corruptions.cli_corrupt` and `channel.cli_channel` resolve to `cli`'s, with a DeprecationWarning."
    p = python("import warnings\nimport spectral_align.cli as cli\n"
               "from spectral_align import attacks, corruptions, channel\n"
               "for mod, name in ((attacks, 'cli_attack'), (corruptions, 'cli_corrupt'), (channel, 'cli_channel')):\n"
               "    with warnings.catch_warnings(record=True) as w:\n"
               "        warnings.simplefilter('always')\n"
               "        assert getattr(mod, name) is getattr(cli, name), name\n"
               "    assert any(issubclass(x.category, DeprecationWarning) for x in w), name\n", cwd=tmp_path)
    assert p.returncode == 0, p.stderr


TINY_DEMO = ["--n-train", "64", "--n-valid", "32", "--n-eval", "32", "--n-attack", "8", "--epochs", "1", "--arms", "baseline,blur",
             "--measures", "clean,pgd", "--eps-linf", "8/255", "--eps-l2", "0.5", "--pgd-steps", "2"]


def test_demo_offline_says_synthetic(tmp_path):
    "Offline with no CIFAR-10 anywhere, the demo runs on the built-in data and says so in the log, the table and the report."
    env = {**ENV, "SPECTRAL_ALIGN_CACHE": str(tmp_path / "cache"), "SPECTRAL_ALIGN_DOWNLOAD": "0"}
    env.pop("SPECTRAL_ALIGN_DATA", None)
    p = subprocess.run([sys.executable, "-m", "spectral_align", "demo", "--out", str(tmp_path / "o"), *TINY_DEMO],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "built-in SYNTHETIC data" in p.stdout and p.stdout.count("SYNTHETIC DATA") >= 2, p.stdout[-2000:]
    assert "\r" not in p.stdout                                          # not a terminal: no progress-bar redraws
    assert (tmp_path / "o" / "report.html").read_text().count("SYNTHETIC DATA") == 2
    assert json.loads((tmp_path / "o" / "data.json").read_text())["synthetic"] is True


def test_demo_on_a_local_copy(tmp_path):
    "With --data-path naming a local copy (here a tiny one in the train.npz/test.npz layout), the demo trains on it, with no banner."
    import numpy as np
    d = tmp_path / "cifar"; d.mkdir()
    rng = np.random.default_rng(0)
    for n, k in (("train", 80), ("test", 40)):
        np.savez(d / f"{n}.npz", x=rng.integers(0, 256, (k, 32, 32, 3), dtype=np.uint8), y=np.arange(k) % 10)
    p = run("demo", "--data-path", d, "--out", tmp_path / "o", "--quiet", *TINY_DEMO)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "demo: CIFAR-10 from" in p.stdout and "SYNTHETIC" not in p.stdout, p.stdout[-2000:]
    assert "epoch 1/1" not in p.stdout                                    # --quiet: no epoch lines
    info = json.loads((tmp_path / "o" / "data.json").read_text())
    assert (info["data"], info["n_train"], info["synthetic"]) == ("npz", 64, False)


def test_help_shows_each_commands_defaults(tmp_path):
    "`demo --help` shows the demo's own defaults and `experiment --help` the experiment's; `--version` is listed."
    demo, exp, top = run("demo", "--help", cwd=tmp_path), run("experiment", "--help", cwd=tmp_path), run("--help", cwd=tmp_path)
    assert demo.returncode == exp.returncode == top.returncode == 0, (demo.stderr, exp.stderr, top.stderr)
    d, e = " ".join(demo.stdout.split()), " ".join(exp.stdout.split())
    assert "(default: 5000 on CIFAR-10, 2000 on an image folder" in d and "(default: 6000)" in e
    assert "(default: demo_out on CIFAR-10, demo_out_folder on an image folder" in d and "(default: spectral_align_out)" in e
    assert "(default: clean,hybrid,pgd on CIFAR-10" in d and "--version" in top.stdout


def test_channel_reads_an_experiments_results(tmp_path):
    "`spectral-align channel results.csv` fits each arm of an experiment's own results file (no pandas needed to read it)."
    d = json.loads((ROOT / "spectral_align" / "data" / "human_cbm.json").read_text())
    lines = ["arm,seed,group,measure,condition,param,value,protocol"]
    for s in (0, 1):
        for i, sd in enumerate(d["noise_sds"]):
            for j, k in enumerate(d["bands"]): lines.append(f"baseline,{s},masking,masking_acc,{sd:g},{k},{d['accuracy_percent'][i][j] / 100},")
    (tmp_path / "results.csv").write_text("\n".join(lines) + "\n")
    p = run("channel", tmp_path / "results.csv", "--json", "--kind", "pyramid", "--size", "224", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    fit = json.loads(p.stdout.splitlines()[0])
    assert fit["arm"] == "baseline" and fit["fitted"] and abs(fit["center_cycles_per_image"] - 39.6) < 0.1, fit
# --- nothing lost, nothing silently wrong -----------------------------------------------------------------------------

def _mains(calls: list, cwd) -> list:
    "[(status, stderr)] of `main(args)` for each of `calls` (lists of arguments), run one after the other in one process."
    code = ("import io, json, contextlib\nfrom spectral_align.cli import main\nres = []\n"
            f"for args in {json.dumps([[str(a) for a in c] for c in calls])}:\n"
            "    err = io.StringIO()\n"
            "    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()): rc = main(args)\n"
            "    res.append([rc, err.getvalue()])\n"
            "print(json.dumps(res))\n")
    p = python(code, cwd=cwd)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.splitlines()[-1])


def test_force_on_a_folder_the_package_did_not_write(tmp_path):
    "The issue's data loss: --force on a user's own folder deletes nothing; the refusal names what is there and does not suggest --force."
    out = tmp_path / "project"
    for f in ("config.json", "summary.csv", "figures/plot.png", "runs/r1/log.txt", "jobs/job.sh"):
        (out / f).parent.mkdir(parents=True, exist_ok=True)
        (out / f).write_text(f"mine: {f}")
    before = {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for rc, err in _mains([["experiment", *SMALL, "--out", out, "--force"], ["experiment", *SMALL, "--out", out]], tmp_path):
        assert rc == 2 and len(err.splitlines()) == 1, err
        assert "not written by spectral_align" in err and "config.json" in err and "--force" not in err, err
    assert {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_swapped_checkpoint_and_edited_results_are_refused(tmp_path):
    "Another arm's checkpoint copied into a run folder is not measured as that run; an edited measure file stops `report`, named."
    import shutil
    out = tmp_path / "out"
    args = ["experiment", *SMALL, "--arms", "baseline,blur", "--out", out]
    [(rc, err)] = _mains([args], tmp_path)
    assert rc == 0, err
    base, blur = out / "runs" / "baseline-seed0", out / "runs" / "blur-seed0"
    shutil.copy(blur / "model.pth", base / "model.pth")
    (base / "measures" / "clean.csv").unlink()
    f = blur / "measures" / "clean.csv"
    lines = f.read_text().splitlines()
    head, row = lines[0].split(","), lines[1].split(",")
    row[head.index("value")] = "7.5"
    f.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    (rc1, err1), (rc2, err2) = _mains([[*args, "--resume"], ["report", out]], tmp_path)
    assert rc1 == 2 and "not trained as the run baseline-seed0" in err1 and len(err1.splitlines()) == 1, err1
    assert rc2 == 2 and str(f) in err2 and "clean_acc = 7.5" in err2 and len(err2.splitlines()) == 1, err2


def test_configs_are_read_as_written(tmp_path):
    "YAML 1.1 forms and repeated keys: refused or read as written, in one line, before anything is written."
    cases = {"dup.yaml": ("epochs: 1\nepochs: 2\n", "found the key 'epochs' twice"),
             "sex.yaml": ("seeds: 1:30\n", "`seeds` must be an integer; got '1:30'"),
             "yes.yaml": ("grayscale: yes\n", "`grayscale` must be false, true, 1 or 3; got 'yes'"),
             "dup.toml": ("epochs = 1\nepochs = 2\n", "not valid TOML"),
             "deep.yaml": ("arm_params: " + "[" * 3000 + "]" * 3000 + "\n", "levels deep"),
             "ignored.yaml": ("arms: [similarity]\narm_params: {similarity: {rdm: bogus}}\n", "ignores it")}
    calls = []
    for name, (text, _) in cases.items():
        (tmp_path / name).write_text(text)
        calls.append(["experiment", *SMALL, "--config", tmp_path / name, "--out", tmp_path / "out"])
    calls.append(["experiment", *SMALL, "--arms", "blur", "--arm-params", '{"blur": {"sigma": 1, "sigma": 2}}', "--out", tmp_path / "out"])
    calls.append(["experiment", *SMALL, "--pgd-steps", "1000000000", "--measures", "clean,pgd", "--out", tmp_path / "out"])
    res = _mains(calls, tmp_path)
    for (rc, err), want in zip(res, [w for _, w in cases.values()] + ["gives the key 'sigma' twice", "`pgd_steps` must be in [1, 2000]"]):
        assert rc == 2 and len(err.splitlines()) == 1 and want in err, (want, err)
    assert not (tmp_path / "out").exists()


def test_a_lock_left_by_a_full_disk_does_not_block(tmp_path):
    "A 0-byte .lock (a run that could not write it) more than a minute old is taken over, with a note; a fresh one is refused."
    out = tmp_path / "out"
    [(rc, err)] = _mains([["experiment", *SMALL, "--out", out]], tmp_path)
    assert rc == 0, err
    (out / ".lock").write_bytes(b"")
    [(rc, err)] = _mains([["report", out]], tmp_path)
    assert rc == 2 and "unreadable lock" in err, err
    old = __import__("time").time() - 3600
    os.utime(out / ".lock", (old, old))
    [(rc, err)] = _mains([["report", out]], tmp_path)
    assert rc == 0 and "took over the empty or unreadable lock" in err, err
    assert not (out / ".lock").exists()


def test_closed_stdout_is_one_line(tmp_path):
    "`spectral-align ... >&-`: one line on stderr, status 1, before any work."
    code = "import os, sys, runpy; os.close(1); sys.argv = ['spectral_align', 'experiment', '--list-arms']; runpy.run_module('spectral_align', run_name='__main__')"
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=ENV, stderr=subprocess.PIPE, text=True, timeout=300)
    assert_one_line_error(p, "standard output is closed")
    assert p.returncode == 1
