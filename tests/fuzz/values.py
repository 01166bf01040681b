"""Valid arguments (providers) and the catalogue of hostile ones, by the kind of the valid value they replace.

A hostile value comes with what it should cause (`harness.INVALID`: a `ValueError`; `EQUIV`: the same result as the
valid value; `ROBUST`: a result or a `ValueError`, never a traceback, hang or mutation)."""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from harness import EQUIV, INVALID, ROBUST

TMP = Path(tempfile.mkdtemp(prefix="spectral_align_fuzz_"))


def gen(seed: int = 0) -> torch.Generator: return torch.Generator().manual_seed(seed)

def images(n: int = 4, c: int = 3, s: int = 32) -> torch.Tensor: return torch.rand(n, c, s, s, generator=gen())

def labels(n: int = 4) -> torch.Tensor: return torch.arange(n) % 10

def tiny_model(n_classes: int = 10, in_channels: int = 3) -> nn.Module:
    from spectral_align.models import build_model
    torch.manual_seed(0)
    return build_model("small_cnn", n_classes, in_channels, width=4).eval()


class WrongBatch(nn.Module):
    "A classifier whose output has one row whatever the batch size."
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, x): return self.m(x)[:1]

class TupleOut(nn.Module):
    "A classifier that returns a tuple (logits, features), as some libraries' models do."
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, x): return (self.m(x), x)

class ImagesOut(nn.Module):
    "Not a classifier: returns its input."
    def forward(self, x): return x * 1.0


class NaNOut(nn.Module):
    "Returns NaN of its input's shape."
    def forward(self, x): return x * float("nan")

def _nan_model(m):
    import copy
    m = copy.deepcopy(m)
    ps = list(m.parameters())
    if not ps: return NaNOut()
    with torch.no_grad(): ps[0].fill_(float("nan"))
    return m

def _train_mode(m):
    import copy
    return copy.deepcopy(m).train()


def _strided(t: torch.Tensor) -> torch.Tensor:
    "A non-contiguous tensor with the values of `t` (every other element of a wider one)."
    big = torch.zeros(*t.shape[:-1], t.shape[-1] * 2, dtype=t.dtype)
    big[..., ::2] = t
    return big[..., ::2]

def _with(t: torch.Tensor, v) -> torch.Tensor:
    t = t.clone()
    t.view(-1)[0] = v
    return t


PATH_NAMES = {"path", "file", "fname", "out", "folder", "data_path", "src", "dst", "cache", "source", "neural"}
COUNT_NAMES = {"n", "bs", "size", "steps", "epochs", "seed", "h", "w", "width", "depth", "n_classes", "in_channels",
               "n_boot", "n_eps", "iters", "n_points", "n_images", "n_target", "n_units", "n_out", "n_bands", "batch_size",
               "valid_bs", "n_partner_seeds", "n_repeats", "n_components", "order", "num_workers", "level", "k", "min_size",
               "mn_starts", "mn_steps", "predictor_epochs", "threads", "max_parallel", "n_train", "n_valid", "n_eval",
               "n_attack", "n_minimal", "seeds", "first_seed", "pgd_steps", "min_images", "ref_size", "channels"}


def hostile(name: str, v) -> list:
    "[(case, value, expectation)] for the argument `name` whose valid value is `v`."
    if isinstance(v, torch.Tensor): return _tensor_cases(v)
    if isinstance(v, nn.Module): return _model_cases(v)
    if isinstance(v, bool): return [("str 'yes'", "yes", INVALID), ("int 2", 2, INVALID), ("numpy bool", np.bool_(v), EQUIV)]
    if isinstance(v, int) and not isinstance(v, bool): return _int_cases(name, v)
    if isinstance(v, float): return _float_cases(name, v)
    if isinstance(v, torch.device) or (name == "device" and isinstance(v, str)):
        return [("cuda:99", "cuda:99", INVALID), ("meta", "meta", INVALID), ("tpu", "tpu", INVALID), ("int 3", 3, INVALID),
                ("torch.device", torch.device("cpu"), EQUIV)]
    if isinstance(v, (str, os.PathLike)) and (name in PATH_NAMES or isinstance(v, os.PathLike)): return _path_cases(v)
    if isinstance(v, str): return _str_cases(v)
    if isinstance(v, torch.dtype): return [("int64 dtype", torch.int64, ROBUST), ("complex dtype", torch.complex64, ROBUST),
                                           ("str dtype", "float32", ROBUST)]
    if isinstance(v, np.ndarray): return _array_cases(v)
    try:
        import pandas as pd
        if isinstance(v, pd.DataFrame): return _frame_cases(v)
    except ImportError: pass
    if isinstance(v, dict): return [("empty dict", {}, ROBUST), ("unknown key", {**v, "bogus": 1}, ROBUST), ("list", [], ROBUST),
                                    ("deep dict", _deep(10_000), ROBUST)]
    if isinstance(v, (list, tuple)):
        return [("empty list", type(v)(), ROBUST), ("list of None", [None], ROBUST), ("huge list", list(range(10**6)), ROBUST),
                ("str", "a,b", ROBUST)]
    if v is None: return [("str", "bogus", ROBUST), ("int -1", -1, ROBUST), ("float nan", float("nan"), ROBUST)]
    return [("None", None, ROBUST), ("int 3", 3, ROBUST)]


def _deep(n: int):
    d = {}
    cur = d
    for _ in range(n): cur["a"] = {}; cur = cur["a"]
    return d


def _tensor_cases(v: torch.Tensor) -> list:
    out = [("None", None, INVALID), ("str", "abc", INVALID)]
    if v.numel() == 0: return out
    if v.is_floating_point():
        out += [("NaN", _with(v, float("nan")), INVALID), ("inf", _with(v, float("inf")), INVALID),
                ("complex", v.to(torch.complex64), INVALID), ("bool", v > 0.5, INVALID),
                ("meta device", torch.empty(v.shape, device="meta"), INVALID),
                ("float64", v.double(), ROBUST), ("float16", v.half(), ROBUST),
                ("non-contiguous", _strided(v), EQUIV), ("requires_grad", v.clone().requires_grad_(), EQUIV),
                ("empty", v[:0], INVALID if v.ndim >= 1 else ROBUST), ("one more dim", v[None], INVALID),
                ("one dim less", v[0], INVALID)]
        if v.ndim == 4:
            out += [("uint8", (v * 255).round().to(torch.uint8), ROBUST), ("int64", (v * 255).long(), ROBUST),
                    ("values up to 4", v * 4, INVALID), ("negative values", v - 0.5, INVALID),
                    ("channels_last", v.contiguous(memory_format=torch.channels_last), EQUIV),
                    ("1 channel", v[:, :1].contiguous(), ROBUST), ("1x1 pixels", v[..., :1, :1].contiguous(), ROBUST),
                    ("odd size 31x30", v[..., :31, :30].contiguous(), ROBUST), ("batch of 1", v[:1].clone(), ROBUST),
                    ("sparse", v.to_sparse(), INVALID)]
    elif v.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
        out += [("float labels", v.float(), INVALID), ("negative", _with(v, -1), INVALID), ("huge label", _with(v, 10**6), INVALID),
                ("one short", v[:-1], ROBUST), ("2-D", v[None], INVALID), ("bool", v > 0, INVALID),
                ("list", v.tolist(), EQUIV), ("numpy", v.numpy().copy(), EQUIV), ("int32", v.int(), EQUIV),
                ("non-contiguous", _strided(v), EQUIV)]
    return out


def _model_cases(v: nn.Module) -> list:
    return [("None", None, INVALID), ("str", "model", INVALID), ("returns its input", ImagesOut(), INVALID),
            ("wrong batch size", WrongBatch(v), INVALID), ("NaN weights", _nan_model(v), INVALID),
            ("returns a tuple", TupleOut(v), INVALID), ("in train mode", _train_mode(v), EQUIV)]


def _int_cases(name: str, v: int) -> list:
    count = name in COUNT_NAMES or name.startswith("n_") or name.endswith("_size")
    out = [("float 1.5", 1.5, INVALID), ("NaN", float("nan"), INVALID), ("inf", float("inf"), INVALID),
           ("str", str(v), INVALID), ("bool True", True, INVALID), ("numpy int64", np.int64(v), EQUIV),
           ("-1", -1, INVALID if count else ROBUST), ("0", 0, ROBUST), ("10**12", 10**12, ROBUST), ("2**70", 2**70, ROBUST)]
    if float(v).is_integer(): out.append(("float of it", float(v), ROBUST))
    return out


def _float_cases(name: str, v: float) -> list:
    out = [("NaN", float("nan"), INVALID), ("inf", float("inf"), INVALID), ("-inf", float("-inf"), INVALID),
           ("bool True", True, INVALID), ("complex", complex(v, 1), INVALID), ("str", "abc", INVALID),
           ("numpy float64", np.float64(v), EQUIV), ("-1.0", -1.0, ROBUST), ("0.0", 0.0, ROBUST), ("1e308", 1e308, ROBUST),
           ("10**400 (int)", 10**400, ROBUST), ("numeric str", repr(v), ROBUST)]
    if math.isfinite(v) and v == int(v): out.append(("int of it", int(v), EQUIV))
    return out


def _str_cases(v: str) -> list:
    return [("empty", "", ROBUST), ("unknown", "bogus-value", ROBUST), ("None", None, ROBUST), ("int 3", 3, ROBUST),
            ("1 MB string", "x" * 10**6, ROBUST), ("other case", v.upper() if v != v.upper() else v.lower(), ROBUST)]


def _path_cases(v) -> list:
    (TMP / "empty_file").write_bytes(b"")
    (TMP / "garbage.bin").write_bytes(os.urandom(256))
    return [("missing", str(TMP / "does" / "not" / "exist"), ROBUST), ("a folder", str(TMP), ROBUST),
            ("empty file", str(TMP / "empty_file"), ROBUST), ("garbage file", str(TMP / "garbage.bin"), ROBUST),
            ("NUL byte", "a\0b", ROBUST), ("300-char name", "x" * 300, ROBUST), ("int 3", 3, ROBUST), ("None", None, ROBUST),
            ("under a file", str(TMP / "empty_file" / "x"), ROBUST)]


def _array_cases(v: np.ndarray) -> list:
    out = [("None", None, INVALID), ("str", "abc", INVALID)]
    if v.dtype.kind == "f" and v.size:
        bad = v.copy(); bad.flat[0] = np.nan
        out += [("NaN", bad, INVALID), ("non-contiguous", np.repeat(v, 2, axis=-1)[..., ::2], EQUIV)]
    return out


def _frame_cases(v) -> list:
    import pandas as pd
    out = [("None", None, INVALID), ("dict", v.to_dict(), ROBUST), ("empty", v.iloc[:0], ROBUST)]
    if len(v.columns): out.append(("first column dropped", v.drop(columns=v.columns[0]), ROBUST))
    num = [c for c in v.columns if pd.api.types.is_float_dtype(v[c])]
    if num:
        bad = v.copy(); bad[num[-1]] = bad[num[-1]].astype(object); bad.iloc[0, bad.columns.get_loc(num[-1])] = "abc"
        out.append(("a value as text", bad, ROBUST))
        inf = v.copy(); inf.iloc[0, inf.columns.get_loc(num[-1])] = math.inf
        out.append(("an inf value", inf, ROBUST))
    return out
