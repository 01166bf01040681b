"""Run notebooks and save their outputs into them (`make outputs`), so the docs site shows figures, tables and
printed results without executing anything at build time (the fastai way; see CONTRIBUTING.md).

    python tests/render_notebooks.py [NOTEBOOK ...]     # default: every notebook under nbs/

Cells flagged `slow` or `gpu` are skipped, as in the test suite, and `IN_TEST` is set, so the outputs are the small,
seeded ones that the suite checks. A notebook that fails keeps its old outputs, and the script exits non-zero."""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


RUN = """
import sys, matplotlib
matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72})      # small, sharp-enough images
from nbdev.config import get_config
from nbdev.test import test_nb
cfg = get_config(sys.argv[2])
flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
ok, secs = test_nb(sys.argv[1], skip_flags=flags, basepath=sys.argv[2], save=True, cell_timeout=900)
print(f"SECONDS {secs:.1f}")
sys.exit(0 if ok else 1)
"""


def render(nb: str) -> tuple[str, bool, float]:
    "Run notebook `nb` in a fresh Python process and save its outputs into it (on success only)."
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    p = subprocess.run([sys.executable, "-c", RUN, nb, str(ROOT)], env=env, capture_output=True, text=True)
    secs = next((float(l.split()[1]) for l in p.stdout.splitlines() if l.startswith("SECONDS")), float("nan"))
    if p.returncode: sys.stderr.write(p.stderr[-3000:])
    return nb, p.returncode == 0, secs


def main(argv: list[str]) -> int:
    nbs = [str(Path(a).resolve()) for a in argv] or sorted(
        str(p) for p in (ROOT / "nbs").rglob("*.ipynb") if not p.name.startswith("_") and ".ipynb_checkpoints" not in p.parts)
    failed = []
    with ThreadPoolExecutor(max_workers=min(len(nbs), os.cpu_count() or 1)) as ex:
        for nb, ok, secs in ex.map(render, nbs):
            print(f"{'ok    ' if ok else 'FAILED'} {secs:6.1f} s  {Path(nb).relative_to(ROOT)}", flush=True)
            if not ok: failed.append(nb)
    if failed: print(f"{len(failed)} notebook(s) failed and kept their old outputs", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
