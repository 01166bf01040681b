"""Fuzz spectral_align's public API and its commands, and print the outcomes' counts by class.

    python tests/fuzz/run.py                  # everything (API of every module, then every command case and scenario)
    python tests/fuzz/run.py --part api --module core experiment
    python tests/fuzz/run.py --part cli --show silent traceback
    python tests/fuzz/run.py --quick          # the small subset tests/test_fuzz.py runs

Each module's API cases and the command cases run in a child process (address space limited to `--mem-gb`), which
reports every outcome as one JSON line; a case that runs past its time limit is a `hang` (the child is killed and
restarted after it). The exit status is 1 when a failure class (`harness.FAILURES`) has a case, else 0.
See harness.py for the classes."""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from harness import CLASSES, FAILURES, Outcome  # noqa: E402


def _limit_memory(gb: float):
    def f():
        import resource
        b = int(gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (b, b))
    return f


def worker(part: str, module: str | None, log: Path, skip: set, secs: float, quick: bool) -> None:
    "Run the cases of `part` (and `module`), appending one JSON line per event to `log`."
    os.environ.setdefault("SPECTRAL_ALIGN_DOWNLOAD", "0")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import torch
    torch.set_num_threads(1)
    with open(log, "a") as f:
        def emit(**d): f.write(json.dumps(d) + "\n"); f.flush()
        def events():
            if part == "api":
                import api
                import spectral_align.measures  # noqa: F401  (registers the built-in measures)
                tg = api.targets([module])
                if quick: tg = [t for t in tg if t[0] in QUICK_API]
                for target, fn in tg:
                    for kind, v in api.fuzz_target(target, fn, secs=secs, skip=skip): yield target, kind, v
            else:
                import commands
                for case in commands.cases(quick):
                    if case.key in skip: continue
                    yield case.key, "case", case.key
                    for o in case.run(secs): yield case.key, "outcome", o
        for target, kind, v in events():
            if kind == "case": emit(start=v, t=time.time())
            elif kind == "outcome": emit(outcome=v.as_dict())
            else: emit(skipped=target, why=v)
            if kind != "case": emit(done=None)


QUICK_API = {"core.check_images", "core.check_labels", "core.describe", "core.accuracy", "core.predict_labels",
             "experiment.parse_eps", "experiment.ExperimentConfig", "experiment.read_config_file", "experiment.check_arm_params",
             "models.load_checkpoint", "experiment.read_results"}


def run_part(part: str, module: str | None, secs: float, mem_gb: float, quick: bool, echo) -> tuple[list, dict]:
    "Outcomes and skipped targets of one child's cases; a child that overruns a case is killed, the case a `hang`."
    outcomes, skipped, done = [], {}, set()
    log = Path(tempfile.mkstemp(prefix="fuzz_", suffix=".jsonl")[1])
    while True:
        log.write_text("")
        cmd = [sys.executable, str(HERE / "run.py"), "--worker", part, "--log", str(log), "--secs", str(secs)]
        if module: cmd += ["--module", module]
        if quick: cmd.append("--quick")
        skip_file = Path(str(log) + ".skip")
        skip_file.write_text(json.dumps(sorted(done)))
        cmd += ["--skip", str(skip_file)]
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "OMP_NUM_THREADS": "1",
               "PYTHONWARNINGS": "ignore"}
        err_file = open(str(log) + ".err", "w+")             # a file, not a pipe: a full pipe would block the child
        cwd = tempfile.mkdtemp(prefix="fuzz_cwd_")      # a case that writes to a relative path writes here, not into the caller's folder
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err_file, preexec_fn=_limit_memory(mem_gb), cwd=cwd)
        current, started, pos, killed = None, None, 0, False
        while True:
            rc = p.poll()
            with open(log) as f:
                f.seek(pos)
                chunk = f.read()
            lines = chunk.split("\n")
            pos += len(chunk) - len(lines[-1])
            for line in lines[:-1]:
                d = json.loads(line)
                if "start" in d: current, started = d["start"], time.time()
                elif "outcome" in d:
                    o = Outcome(**d["outcome"]); outcomes.append(o); echo(o)
                elif "skipped" in d: skipped[d["skipped"]] = d["why"]
                elif "done" in d:
                    if current: done.add(current)
                    current = None
            if rc is not None: break
            limit = 3 * secs + 30 if part == "api" else max(3 * secs + 30, 1800)   # a scenario runs many commands
            if current is not None and time.time() - started > limit:          # stuck in C code: the alarm cannot fire
                p.kill(); p.wait(); killed = True
                break
            time.sleep(0.1)
        err_file.seek(0)
        err = err_file.read()[-2000:]
        err_file.close()
        if current is None and not killed and rc == 0: break
        if current is None:
            outcomes.append(Outcome(f"{part}:{module or ''}", "-", "child", "traceback", f"child exited {rc}: {err[-300:]}"))
            break
        t, prm, case = (current.split("|") + ["-", "-"])[:3]
        o = Outcome(t, prm, case, "hang" if killed else "traceback",
                    "killed after running too long" if killed else f"child died (status {rc}): {err.strip()[-300:]}")
        outcomes.append(o); echo(o)
        done.add(current)
    log.unlink(missing_ok=True)
    Path(str(log) + ".skip").unlink(missing_ok=True)
    Path(str(log) + ".err").unlink(missing_ok=True)
    return outcomes, skipped


def counts(outcomes) -> dict:
    c = collections.Counter(o.cls for o in outcomes)
    return {k: c.get(k, 0) for k in CLASSES}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("api", "cli", "all"), default="all")
    ap.add_argument("--module", nargs="*", help="API modules to fuzz (default: all)")
    ap.add_argument("--quick", action="store_true", help="the small subset the test suite runs")
    ap.add_argument("--secs", type=float, default=20.0, help="time limit of one case, in seconds (default 20)")
    ap.add_argument("--mem-gb", type=float, default=5.0, help="address-space limit of each child, in GB (default 5)")
    ap.add_argument("--show", nargs="*", default=list(FAILURES), help="print the cases of these classes (default: the failures)")
    ap.add_argument("--json", help="write every outcome to this JSON file")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case as it ends")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--log", help=argparse.SUPPRESS)
    ap.add_argument("--skip", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        mod = a.module[0] if a.module else None
        skip = set(json.loads(Path(a.skip).read_text())) if a.skip else set()
        worker(a.worker, mod, Path(a.log), skip, a.secs, a.quick)
        return 0
    sys.path.insert(0, str(ROOT))
    import api
    echo = (lambda o: print(f"  {o.cls:13s} {o.target} {o.param} [{o.case}] {o.detail[:120]}", flush=True)) if a.verbose else (lambda o: None)
    t0, outcomes, skipped = time.time(), [], {}
    if a.part in ("api", "all"):
        for m in a.module or api.MODULES:
            if a.quick and not any(t.startswith(m + ".") for t in QUICK_API): continue
            o, s = run_part("api", m, a.secs, a.mem_gb, a.quick, echo)
            outcomes += o; skipped.update(s)
            print(f"api {m:13s} {len(o):5d} cases  " + "  ".join(f"{k} {v}" for k, v in counts(o).items() if v), flush=True)
    if a.part in ("cli", "all"):
        o, s = run_part("cli", None, a.secs, a.mem_gb, a.quick, echo)
        outcomes += o; skipped.update(s)
        print(f"commands          {len(o):5d} cases  " + "  ".join(f"{k} {v}" for k, v in counts(o).items() if v), flush=True)
    shown = [o for o in outcomes if o.cls in set(a.show)]
    if shown:
        print("\ncases of class " + ", ".join(a.show) + ":")
        for o in sorted(shown, key=lambda o: (o.cls, o.target, o.param)):
            print(f"  {o.cls:10s} {o.target} {o.param} [{o.case}]: {o.detail[:200]}")
    if skipped:
        print(f"\nnot fuzzed ({len(skipped)}): " + "; ".join(f"{k}: {v}" for k, v in sorted(skipped.items())))
    c = counts(outcomes)
    print(f"\n{len(outcomes)} cases in {time.time() - t0:.0f} s; by class:")
    for k, v in c.items(): print(f"  {k:14s} {v}")
    if a.json: Path(a.json).write_text(json.dumps(dict(counts=c, outcomes=[o.as_dict() for o in outcomes], skipped=skipped), indent=1))
    return 1 if any(c[k] for k in FAILURES) else 0


if __name__ == "__main__":
    sys.exit(main())
