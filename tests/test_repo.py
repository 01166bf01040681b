"""Repository hygiene that CI enforces: notebooks are clean (`nbdev-clean`) and the library is what
`nbdev-export` makes of the notebooks. Both checks run on a copy, so they never touch the work tree."""
import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _copy_project(dst: Path) -> Path:
    for name in ("nbs", "spectral_align"):
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dst / name)
    return dst


def _differences(a: Path, b: Path, pattern: str):
    out = []
    for p in sorted(a.rglob(pattern)):
        if "__pycache__" in p.parts or ".ipynb_checkpoints" in p.parts: continue
        q = b / p.relative_to(a)
        if not q.exists() or not filecmp.cmp(p, q, shallow=False): out.append(str(p.relative_to(a)))
    for q in sorted(b.rglob(pattern)):
        if "__pycache__" in q.parts: continue
        if not (a / q.relative_to(b)).exists(): out.append(str(q.relative_to(b)))
    return out


def test_notebooks_are_clean(tmp_path):
    work = _copy_project(tmp_path)
    subprocess.run([str(BIN / "nbdev-clean")], cwd=work, check=True, capture_output=True)
    diff = _differences(ROOT / "nbs", work / "nbs", "*.ipynb")
    assert not diff, f"run `make export` (nbdev-clean) and commit: these notebooks are not clean: {diff}"


def test_library_matches_notebooks(tmp_path):
    work = _copy_project(tmp_path)
    subprocess.run([str(BIN / "nbdev-export")], cwd=work, check=True, capture_output=True)
    diff = _differences(ROOT / "spectral_align", work / "spectral_align", "*.py")
    assert not diff, f"run `make export` (nbdev-export) and commit: the library is out of sync in {diff}"


def test_readme_follows_index():
    "README.md says what nbs/index.ipynb says (kept by hand where nbdev-readme, which needs Quarto, cannot run)."
    import json
    nb = json.loads((ROOT / "nbs" / "index.ipynb").read_text())
    readme = (ROOT / "README.md").read_text()
    missing = []
    for c in nb["cells"]:
        src = "".join(c["source"])
        if src.startswith("#| hide"): continue
        for line in src.splitlines():
            line = line.strip().replace("](images/", "](nbs/images/")
            if line and line not in readme: missing.append(line)
    assert not missing, f"README.md is out of step with nbs/index.ipynb; lines missing from README: {missing[:5]}"
