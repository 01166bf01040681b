"""Every notebook in `nbs/` is a test: it is executed with nbdev's runner (cells flagged `slow` or `gpu`
are skipped, as `nbdev-test` does) and must finish without an error."""
from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as _run_nb

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb")
             if not p.name.startswith("_") and ".ipynb_checkpoints" not in p.parts
             and not (p.parent / ".notest").exists())


@pytest.mark.parametrize("nb", NBS, ids=[str(p.relative_to(ROOT / "nbs")) for p in NBS])
def test_notebook(nb):
    cfg = get_config(ROOT)
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    ok, secs = _run_nb(nb, skip_flags=flags, basepath=str(ROOT), cell_timeout=900)
    assert ok, f"{nb.name} failed (see the traceback above)"
