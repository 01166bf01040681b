"""The docs site, minus Quarto: `nbdev-proc-nbs` (the step of `nbdev-docs` that runs before Quarto renders) must
process every notebook, and every page that draws a figure must carry it (the notebooks are committed with their
outputs; `make outputs` refreshes them). Both checks work on a copy, so they never touch the work tree."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NBS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb") if not p.name.startswith("_") and ".ipynb_checkpoints" not in p.parts)
# a cell "draws" when a line at its top level (not inside a function, not a `test_fail`) calls matplotlib or one of
# the package's plot_* / show_* helpers, and the cell does not close the figure again (test cells that only inspect one)
DRAWS = re.compile(r"^(?!(def |class |#|test_fail))\S.*\b(plt\.(plot|imshow|subplots|figure|bar|scatter|hist)|plot_\w+\(|show_\w+\()", re.M)
SKIP = re.compile(r"^#\|\s*(export|exports|hide|eval:\s*false|slow|gpu)\b", re.M)


def test_docs_build(tmp_path):
    "`nbdev-proc-nbs` runs every notebook's import, export and show_doc cells without an error."
    for name in ("nbs", "spectral_align"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for name in ("pyproject.toml", "_quarto.yml", "README.md"):
        if (ROOT / name).exists(): shutil.copy(ROOT / name, tmp_path / name)
    p = subprocess.run([str(BIN / "nbdev-proc-nbs"), "--n-workers", "1", "--force"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=1200)
    errors = [l for l in (p.stdout + p.stderr).splitlines() if l.startswith("Exception: Error in notebook")]
    assert p.returncode == 0 and not errors, f"nbdev-proc-nbs failed: {errors[:5]}\n{p.stderr[-3000:]}"


def _drawing_cells(nb):
    for c in nb["cells"]:
        src = "".join(c["source"])
        if c["cell_type"] != "code" or SKIP.search(src) or "show_doc(" in src or "plt.close(" in src: continue
        if DRAWS.search(src): yield c


@pytest.mark.parametrize("nb", NBS, ids=[str(p.relative_to(ROOT / "nbs")) for p in NBS])
def test_figures_are_published(nb):
    "A cell that draws a figure carries it in the committed notebook, so the built page shows it."
    cells = list(_drawing_cells(json.loads(nb.read_text())))
    missing = ["".join(c["source"]).splitlines()[0][:70] for c in cells
               if not any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert not missing, (f"{nb.name}: {len(missing)} of {len(cells)} figure cells have no image output; run "
                         f"`make outputs` and commit (first lines: {missing[:3]})")


def test_sidebar_lists_the_pages():
    "nbs/sidebar.yml (kept by hand) lists every notebook once and nothing that is not a page (no nbdev.yml, styles.css, images)."
    import yaml
    def pages(items):
        for it in items:
            if isinstance(it, dict): yield from pages(it.get("contents", []))
            else: yield it
    listed = list(pages(yaml.safe_load((ROOT / "nbs" / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]))
    nbs = sorted(str(p.relative_to(ROOT / "nbs")) for p in NBS)
    assert sorted(listed) == nbs, (f"nbs/sidebar.yml lists {sorted(set(listed) - set(nbs))} that are not notebooks and "
                                   f"misses {sorted(set(nbs) - set(listed))}; repeated: {[p for p in listed if listed.count(p) > 1]}")


def test_workflows_follow_nbdev():
    "The CI and docs workflows exist, parse, run `make test` and deploy with nbdev's Quarto action."
    import yaml
    wf = ROOT / ".github" / "workflows"
    test, deploy = (yaml.safe_load((wf / f).read_text()) for f in ("test.yaml", "deploy.yaml"))
    assert any(s.get("run") == "make test" for s in test["jobs"]["test"]["steps"]), test
    assert any(s.get("uses", "").startswith("fastai/workflows/quarto-ghp3@") for s in deploy["jobs"]["deploy"]["steps"]), deploy
