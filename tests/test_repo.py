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


# The module map of DESIGN.md, in its order: a module imports only from modules above it.
MODULE_ORDER = ["core", "spectra", "filters", "data", "models", "probes", "masking", "channel", "profile", "attacks",
                "corruptions", "similarity", "neural", "predictor", "regularizers", "train", "experiment", "measures", "report",
                "widgets", "cli"]


def _package_imports(path: Path):
    "(line, module imported, names imported) for every import of a spectral_align module in `path`, lazy ones included."
    import ast
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1: mod = "spectral_align" + ("." + mod if mod else "")
            if mod == "spectral_align":
                for a in node.names: yield node.lineno, "spectral_align." + a.name, []
            elif mod.startswith("spectral_align."): yield node.lineno, mod, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("spectral_align."): yield node.lineno, a.name, []


def test_imports_flow_one_way():
    "Each module imports only modules above it in the module map, and never another module's private name."
    pkg = ROOT / "spectral_align"
    mods = sorted(p.stem for p in pkg.glob("*.py") if not p.stem.startswith("_"))
    assert sorted(MODULE_ORDER) == mods, f"update MODULE_ORDER (and DESIGN.md's module map): modules are {mods}"
    bad = []
    for m in MODULE_ORDER:
        for line, imported, names in _package_imports(pkg / f"{m}.py"):
            other = imported.split(".")[1]
            if other.startswith("__") or other not in MODULE_ORDER: continue       # e.g. `from spectral_align import __version__`
            if MODULE_ORDER.index(other) >= MODULE_ORDER.index(m): bad.append(f"{m}.py:{line} imports {other} (not above it)")
            bad += [f"{m}.py:{line} imports the private name {other}.{n}" for n in names if n.startswith("_")]
    assert not bad, "\n".join(bad)
