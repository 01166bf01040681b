"""The fuzz harness's machinery: outcome classes, calls under a time limit, result comparison, and snapshots that
detect a mutated argument.

Every case ends in exactly one class (`CLASSES`):

- `clean`      refused with a one-line `ValueError` (a command: status ≠ 0, one line on stderr) naming the argument;
- `unnamed`    refused with a `ValueError` (or one line) that does not name the argument;
- `ok`         accepted, and that was right: an equivalent input gave the same result, a robust one no error;
- `refused_valid`  an input equivalent to a valid one was refused (too strict, not wrong);
- `late`       a command refused its input only after it had trained or written files;
- `traceback`  any other exception (a command: a traceback, several lines, or an internal error);
- `hang`       no answer within the case's time limit;
- `data_loss`  a file the package did not write was deleted or changed;
- `silent`     a wrong result without an error: an invalid input accepted, or an equivalent one giving another result;
- `mutation`   the caller's tensor or model was changed by a function that should only read it.
"""
from __future__ import annotations

import contextlib
import math
import re
import signal
import time
from dataclasses import dataclass, field

CLASSES = ("clean", "unnamed", "ok", "refused_valid", "late", "traceback", "hang", "data_loss", "silent", "mutation")
FAILURES = ("traceback", "hang", "data_loss", "silent", "mutation")      # what the "done when" counts

INVALID, EQUIV, ROBUST = "invalid", "equivalent", "robust"


@dataclass
class Outcome:
    "One fuzz case and its class."
    target: str                   # e.g. 'core.check_images' or 'cli experiment'
    param: str                    # the argument or flag, or the scenario's name
    case: str                     # the hostile value's name
    cls: str                      # one of CLASSES
    detail: str = ""              # the message, or what went wrong
    secs: float = 0.0

    def as_dict(self) -> dict: return dict(self.__dict__)


class Hang(BaseException):
    "Raised by the alarm inside a call that ran past its time limit (a BaseException, so no `except Exception` eats it)."


@contextlib.contextmanager
def time_limit(secs: float):
    "Raise `Hang` in the main thread once `secs` have passed (checked between Python bytecodes)."
    def _alarm(signum, frame): raise Hang(f"no answer within {secs:g} s")
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, secs)
    try: yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def names_argument(msg: str, names) -> bool:
    "Whether `msg` names one of `names` as a word (`x` matches '`x`' or 'x must', not 'max')."
    for n in names:
        if not n: continue
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", msg): return True
    return False


def first_line(s: str, n: int = 300) -> str:
    s = str(s).strip().splitlines()
    return (s[0] if s else "")[:n]


# --- comparing results ------------------------------------------------------------------------------------------------

def same(a, b, rtol: float = 1e-4, atol: float = 1e-5, _depth: int = 0) -> bool:
    "Whether two results are equal up to float rounding (tensors, arrays, frames, numbers, containers; others by type)."
    import numpy as np
    import pandas as pd
    import torch
    if _depth > 6: return True
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)): return False
        if a.shape != b.shape: return False
        if a.device.type == "meta" or b.device.type == "meta": return True
        if a.is_floating_point() or a.is_complex() or b.is_floating_point():
            return bool(torch.allclose(a.detach().cpu().double(), b.detach().cpu().double(), rtol=rtol, atol=atol, equal_nan=True))
        return bool(torch.equal(a.detach().cpu(), b.detach().cpu()))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape: return False
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return bool(np.allclose(a.astype(complex), b.astype(complex), rtol=rtol, atol=atol, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        if not (isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)): return False
        if list(a.columns) != list(b.columns) or a.shape != b.shape: return False
        for c in a.columns:
            if not same(a[c].to_numpy(), b[c].to_numpy(), rtol, atol, _depth + 1): return False
        return True
    if isinstance(a, pd.Series): return isinstance(b, pd.Series) and same(a.to_numpy(), b.to_numpy(), rtol, atol, _depth + 1)
    if isinstance(a, bool) or isinstance(b, bool): return a == b
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        a, b = float(a), float(b)
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, rtol, atol, _depth + 1) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rtol, atol, _depth + 1) for k in a)
    if isinstance(a, torch.nn.Module) and isinstance(b, torch.nn.Module):
        return same(dict(a.state_dict()), dict(b.state_dict()), rtol, atol, _depth + 1)
    if isinstance(a, (str, bytes, type(None))) or isinstance(b, (str, bytes, type(None))): return a == b
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return same(dict(a.__dict__), dict(b.__dict__), rtol, atol, _depth + 1)
    return type(a) is type(b)


# --- detecting a mutated argument -------------------------------------------------------------------------------------

@dataclass
class Snapshot:
    "Copies of every tensor reachable from some arguments (containers, modules' state and training flags)."
    items: list = field(default_factory=list)

    @classmethod
    def of(cls, obj) -> "Snapshot":
        s = cls()
        s._add(obj, "arg", 0, set())
        return s

    def _add(self, o, path, depth, seen):
        import torch
        if depth > 4 or id(o) in seen: return
        seen.add(id(o))
        if isinstance(o, torch.Tensor):
            if o.device.type != "meta" and o.layout == torch.strided: self.items.append((path, o, o.detach().clone(), None))
        elif isinstance(o, torch.nn.Module):
            for k, t in o.state_dict(keep_vars=True).items(): self._add(t, f"{path}.{k}", depth + 1, seen)
            self.items.append((f"{path}.training", o, None, tuple(m.training for m in o.modules())))
        elif isinstance(o, dict):
            for k, v in list(o.items())[:50]: self._add(v, f"{path}[{k!r}]", depth + 1, seen)
        elif isinstance(o, (list, tuple)):
            for i, v in enumerate(o[:50]): self._add(v, f"{path}[{i}]", depth + 1, seen)

    def changed(self) -> str | None:
        "The path of the first tensor (or module mode) that differs from its copy, else None."
        import torch
        for path, o, copy, modes in self.items:
            if copy is None:
                if tuple(m.training for m in o.modules()) != modes: return f"{path} (train/eval mode)"
            elif o.shape != copy.shape or o.dtype != copy.dtype or not _equal(o.detach(), copy): return path
        return None


def _equal(a, b) -> bool:
    "Equal values, NaN equal to NaN."
    import torch
    if a.is_floating_point() or a.is_complex():
        return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return bool(torch.equal(a, b))


def timed(f, *args, secs: float = 20.0, **kwargs):
    "(result, exception, seconds) of `f(*args, **kwargs)` under a time limit; a `Hang` is returned as the exception."
    t0 = time.time()
    try:
        with time_limit(secs): r = f(*args, **kwargs)
        return r, None, time.time() - t0
    except Hang as e: return None, e, time.time() - t0
    except KeyboardInterrupt: raise
    except BaseException as e: return None, e, time.time() - t0     # SystemExit too: a library must not exit


def classify_call(expect: str, result, exc, names, reference=None, has_reference: bool = False, mutated: str | None = None):
    "(class, detail) of one API call with the hostile value's expectation."
    if isinstance(exc, Hang): return "hang", str(exc)
    if exc is not None:
        msg = f"{type(exc).__name__}: {first_line(exc)}"
        if isinstance(exc, ValueError):
            if expect == EQUIV: return "refused_valid", msg
            return ("clean" if names_argument(str(exc), names) else "unnamed"), msg
        return "traceback", msg
    if mutated: return "mutation", f"changed {mutated}"
    if expect == INVALID and _non_finite(result): return "ok", "visible: the result holds NaN or inf"
    if expect == INVALID: return "silent", f"accepted; returned {_brief(result)}"
    if expect == EQUIV and has_reference and not same(result, reference):
        return "silent", f"gave another result than the equivalent input: {_brief(result)} vs {_brief(reference)}"
    return "ok", ""


def _non_finite(v, depth: int = 0) -> bool:
    "Whether a result carries NaN or inf (a bad input made visible rather than silently wrong)."
    import numpy as np
    import torch
    if depth > 3: return False
    if isinstance(v, torch.Tensor):
        return v.device.type != "meta" and (v.is_floating_point() or v.is_complex()) and not bool(torch.isfinite(v).all())
    if isinstance(v, float): return not math.isfinite(v)
    if isinstance(v, np.ndarray) and v.dtype.kind in "fc": return not bool(np.isfinite(v).all())
    if isinstance(v, (list, tuple)): return any(_non_finite(o, depth + 1) for o in v[:20])
    if isinstance(v, dict): return any(_non_finite(o, depth + 1) for o in list(v.values())[:20])
    return False


def _brief(v) -> str:
    try:
        import torch
        if isinstance(v, torch.Tensor): return f"tensor{tuple(v.shape)} {v.dtype}"
        r = repr(v) if isinstance(v, (int, float, str, bool, type(None))) else type(v).__name__
    except Exception: r = type(v).__name__
    return r[:80]
