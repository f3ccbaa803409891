"""Conversions between what PyTorch users hold and the compiled core.

Models arrive as an efficient-kan ``KAN`` module, its ``state_dict`` (torch
tensors or NumPy arrays), a ``.safetensors`` file or a ``.mlir`` module as
kan-import writes it; inputs as NumPy arrays or CPU torch tensors.
"""
import os
import re

import numpy as np

from . import _core

try:  # torch is optional: NumPy users need nothing else.
    import torch
except ImportError:  # pragma: no cover - exercised where torch is absent
    torch = None

_KEY = re.compile(r"layers\.(\d+)\.(grid|base_weight|spline_weight|spline_scaler)$")


def is_tensor(x):
    return torch is not None and isinstance(x, torch.Tensor)


def resolve_dtype(dtype):
    """None, "float32"/"float64", np.float32/np.float64 or torch.float32/64
    -> np.dtype or None."""
    if dtype is None:
        return None
    if torch is not None and isinstance(dtype, torch.dtype):
        if dtype == torch.float32:
            return np.dtype(np.float32)
        if dtype == torch.float64:
            return np.dtype(np.float64)
        raise TypeError(f"dtype {dtype} is not supported (float32 or float64)")
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype {dtype!r} is not supported (float32 or float64)") from None
    if d not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype {d} is not supported (float32 or float64)")
    return d


def _tensor_to_numpy(name, v, what):
    if is_tensor(v):
        if v.device.type != "cpu":
            raise ValueError(f"{what}: tensor '{name}' is on {v.device}; "
                             "move the model to the CPU first")
        return v.detach().numpy()
    return np.asarray(v)


def _check_activation(module):
    layers = getattr(module, "layers", None)
    if layers is None:
        raise TypeError(f"{type(module).__name__} is not an efficient-kan KAN "
                        "(it has no .layers of KANLinear)")
    for i, layer in enumerate(layers):
        act = getattr(layer, "base_activation", None)
        if act is None:
            continue
        if isinstance(act, type):  # efficient-kan stores the class...
            ok = act is torch.nn.SiLU
        else:                      # ...and instantiates it in KANLinear
            ok = isinstance(act, torch.nn.SiLU)
        if not ok:
            raise ValueError(f"layers.{i}: base activation {act} is not "
                             "supported (the compiler implements SiLU)")


def source_kind(model):
    """'torch' when the model came as torch objects (state_dict() returns
    torch tensors then), else 'numpy'."""
    if torch is not None and isinstance(model, torch.nn.Module):
        return "torch"
    if hasattr(model, "items"):
        for v in model.values():
            return "torch" if is_tensor(v) else "numpy"
    return "torch" if torch is not None else "numpy"


def to_core(model, dtype=None):
    """Any accepted model form -> _core.Model (a copy of the weights)."""
    if isinstance(model, _core.Model):
        core = model.copy()
    elif isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file")
        core = _core.Model.load(path)
    else:
        what = "state_dict"
        if torch is not None and isinstance(model, torch.nn.Module):
            _check_activation(model)
            what = type(model).__name__ + ".state_dict()"
            model = model.state_dict()
        if not hasattr(model, "items"):
            raise TypeError("expected an efficient-kan KAN module, its state_dict, "
                            "or the path of a .safetensors/.mlir file, not "
                            f"{type(model).__name__}")
        arrays = {}
        for name, v in model.items():
            if not _KEY.match(name):
                raise ValueError(f"{what}: key '{name}' is not an efficient-kan KAN "
                                 "parameter (layers.<l>.grid, base_weight, "
                                 "spline_weight, spline_scaler)")
            a = _tensor_to_numpy(name, v, what)
            if a.dtype not in (np.float32, np.float64):
                raise TypeError(f"{what}: tensor '{name}' has dtype {a.dtype}, "
                                "expected float32 or float64")
            arrays[name] = a
        dtypes = {a.dtype for a in arrays.values()}
        if len(dtypes) > 1:
            raise TypeError(f"{what}: tensors of mixed dtypes "
                            f"({', '.join(sorted(map(str, dtypes)))})")
        if dtype is not None:
            arrays = {k: a.astype(dtype) for k, a in arrays.items()}
        for k, a in arrays.items():
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{what}: tensor '{k}' has non-finite values")
        return _core.Model.from_arrays(arrays, what)
    if dtype is not None and np.dtype(dtype) != model_dtype(core):
        arrays = {n: core.get(n).astype(dtype) for n in core.names()}
        converted = _core.Model.from_arrays(arrays, "model")
        converted.metadata = core.metadata
        core = converted
    return core


def model_dtype(core):
    return np.dtype(np.float32 if core.f32 else np.float64)


def state_dict(core, kind):
    """The weights under efficient-kan's keys (torch tensors for kind 'torch')."""
    out = {}
    for name in core.names():
        a = core.get(name)
        out[name] = torch.from_numpy(a) if kind == "torch" and torch is not None else a
    return out


class Input:
    """An input batch as the core takes it: C-contiguous (N, I) in the model's
    dtype (no copy when it already is), plus how to shape the result like
    the caller's data (leading dimensions, NumPy or torch)."""

    def __init__(self, x, width, dtype, what="input"):
        self.torch = is_tensor(x)
        if self.torch:
            if x.device.type != "cpu":
                raise ValueError(f"{what}: tensor is on {x.device}; the compiled "
                                 "model runs on the CPU")
            if not (x.is_floating_point()):
                raise TypeError(f"{what}: dtype {x.dtype}, expected a floating-point tensor")
            x = x.detach()
            if x.dtype not in (torch.float32, torch.float64):
                x = x.to(torch.float64)
            a = x.numpy()
        else:
            a = np.asarray(x)
            if a.dtype.kind != "f":
                raise TypeError(f"{what}: dtype {a.dtype}, expected a floating-point array")
        if a.ndim == 0:
            raise ValueError(f"{what}: a scalar; expected an array (..., {width})")
        if a.shape[-1] != width:
            raise ValueError(f"{what}: shape {tuple(a.shape)}, the model takes "
                             f"{width} features in the last dimension")
        self.lead = a.shape[:-1]
        self.array = np.ascontiguousarray(a.reshape(-1, width), dtype=dtype)
        if not np.all(np.isfinite(self.array)):
            raise ValueError(f"{what}: non-finite values (NaN or infinity)")

    def wrap(self, y):
        """(N, O) result -> the caller's leading dimensions and array type."""
        y = y.reshape(self.lead + (y.shape[-1],))
        return torch.from_numpy(y) if self.torch else y
