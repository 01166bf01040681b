"""The fuzz harness's small subset (`python tests/fuzz/run.py --quick` runs the same cases): a few public functions with
every hostile value of their arguments, and the command scenarios the issue names (a folder the package did not write
with --force, a swapped checkpoint, edited results, YAML that expands, locks left behind, labels that are not 0…K−1).
No case may end in a traceback, a hang, lost data, a silent wrong result or a mutated argument. The whole fuzz
(every public function and command flag) is `python tests/fuzz/run.py`; it prints the counts by class."""
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "fuzz"
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def _failures(outcomes) -> list:
    return [f"{o.cls}: {o.target} {o.param} [{o.case}]: {o.detail[:300]}" for o in outcomes if o.cls in harness.FAILURES]


@pytest.mark.parametrize("target", sorted(__import__("run").QUICK_API))
def test_api_subset(target):
    import api
    mod, name = target.split(".")
    f = getattr(__import__(f"spectral_align.{mod}", fromlist=[name]), name)
    events = list(api.fuzz_target(target, f, secs=60))
    skipped = [v for k, v in events if k == "skipped"]
    assert not skipped, skipped
    outcomes = [v for k, v in events if k == "outcome"]
    assert outcomes
    assert not _failures(outcomes), "\n".join(_failures(outcomes))


@pytest.mark.parametrize("name", [k for k, (f, quick) in __import__("commands").SCENARIOS.items() if quick])
def test_command_scenarios(name, tmp_path, monkeypatch):
    import commands, tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))       # every folder a scenario makes goes under tmp_path
    commands.cases(quick=True)                         # imports the package before any case is timed
    outcomes = commands.SCENARIOS[name][0](120)
    assert outcomes
    assert not _failures(outcomes), "\n".join(_failures(outcomes))


def test_yaml_expansion_refused_fast(tmp_path):
    "The issue's 1 KB YAML whose anchors expand into a huge tree: refused, naming the file, within 5 s."
    from spectral_align.experiment import read_config_file
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")) + "arms: *i\n"
    f = tmp_path / "bomb.yaml"
    f.write_text(text)
    assert len(text) < 1024
    t0 = time.time()
    with pytest.raises(ValueError, match="bomb.yaml"): read_config_file(f)
    assert time.time() - t0 < 5
