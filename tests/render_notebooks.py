"""Run notebooks and save their outputs into them (`make outputs`), so the docs site shows figures, tables and
printed results without executing anything at build time (the fastai way; see CONTRIBUTING.md).

    python tests/render_notebooks.py [NOTEBOOK ...]     # default: every notebook under nbs/

Cells flagged `slow` or `gpu` are skipped, as in the test suite, and `IN_TEST` is set, so the outputs are the small,
seeded ones that the suite checks. A notebook that fails keeps its old outputs, and the script exits non-zero."""
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render(nb: str) -> tuple[str, bool, float]:
    os.environ.setdefault("MPLBACKEND", "Agg"); os.environ.setdefault("OMP_NUM_THREADS", "1")
    import matplotlib
    matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72})      # small, sharp-enough images
    from nbdev.config import get_config
    from nbdev.test import test_nb
    cfg = get_config(ROOT)
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    ok, secs = test_nb(nb, skip_flags=flags, basepath=str(ROOT), save=True, cell_timeout=900)
    return nb, ok, secs


def main(argv: list[str]) -> int:
    nbs = [str(Path(a).resolve()) for a in argv] or sorted(
        str(p) for p in (ROOT / "nbs").rglob("*.ipynb") if not p.name.startswith("_") and ".ipynb_checkpoints" not in p.parts)
    failed = []
    with ProcessPoolExecutor(max_workers=min(len(nbs), os.cpu_count() or 1)) as ex:
        for nb, ok, secs in ex.map(render, nbs):
            print(f"{'ok    ' if ok else 'FAILED'} {secs:6.1f} s  {Path(nb).relative_to(ROOT)}", flush=True)
            if not ok: failed.append(nb)
    if failed: print(f"{len(failed)} notebook(s) failed and kept their old outputs", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
