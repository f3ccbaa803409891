"""kancompiler: efficient-kan models compiled for the CPU and trained without
backpropagation, from Python.

    import kancompiler as kc
    f = kc.compile(model)                  # efficient-kan KAN, state_dict or path
    y = f(x)                               # NumPy array or CPU torch tensor
    y, dy = f.jvp(x, {"layers.0.base_weight": v})
    t = kc.Trainer(model, rule="ternary", n=128)
    t.fit(x_train, y_train, epochs=1)
    model.load_state_dict(t.state_dict())
    kc.translate(model, target="nmquad", out_dir="deploy")

Errors of the compiler and the runtime are raised as ``KanError`` (a
RuntimeError) with their messages; inputs of the wrong shape raise
ValueError, of the wrong dtype TypeError.
"""
import os

from . import _core
from ._core import KanError
from ._convert import resolve_dtype, source_kind, to_core
from .compiled import CompiledModel
from .trainer import Trainer, lr_scale_at

__all__ = ["compile", "translate", "Trainer", "CompiledModel", "KanError",
           "load", "isa"]

_HERE = os.path.dirname(os.path.abspath(__file__))


def _runtime_dir():
    """The runtime an installed package ships (runtime/include, runtime/lib);
    "" in the build tree, where the compiled-in paths are used."""
    d = os.path.join(_HERE, "runtime")
    return d if os.path.exists(os.path.join(d, "lib", "libkanrt.a")) else ""


def _threads(threads):
    if threads is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - non-Linux
            return max(1, os.cpu_count() or 1)
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive integer or None, not {threads!r}")
    return threads


def compile(model, batch=None, dtype=None, threads=None):  # noqa: A001
    """Compiles a KAN for the CPU and returns a :class:`CompiledModel`.

    model: an efficient-kan ``KAN`` module (SiLU base activation), its
        ``state_dict`` (torch tensors or NumPy arrays), or the path of a
        ``.safetensors`` file with efficient-kan keys or a ``.mlir`` module
        as kan-import writes it. The weights are copied.
    batch: rows per call of the compiled code; larger inputs are evaluated
        in chunks of this many rows (bounds the working memory). None: all
        rows in one call.
    dtype: float32 or float64 (NumPy, torch or a string) to convert the
        weights to; None keeps the model's.
    threads: threads over row tiles (None: the CPUs this process may use).

    The generated C is compiled with the system C compiler on first use and
    cached under $XDG_CACHE_HOME/kan (~/.cache/kan) by source hash.
    """
    kind = source_kind(model)
    return CompiledModel(to_core(model, resolve_dtype(dtype)), batch=batch,
                         threads=threads, kind=kind)


def load(path):
    """Reads weights (.safetensors or .mlir) as a state_dict of NumPy arrays."""
    from ._convert import state_dict
    return state_dict(to_core(path), "numpy")


def _runtime_prefix():
    """The prefix an installed package lives under (<prefix>/lib/python3.X/
    dist-packages/kancompiler); "" in the build tree."""
    if not _runtime_dir():
        return ""
    return os.path.abspath(os.path.join(_HERE, os.pardir, os.pardir, os.pardir, os.pardir))


def translate(model, target="nmquad", out_dir=None, train=None, tile_rows=128,
              prefix="kan_", report=False, runtime_prefix=None):
    """Writes the model's target sources into ``out_dir``, as kan-translate:

    target="nmquad": the NM Quad folder (core C, FPU assembly, host
        launcher, Makefile, and the model's weights in float64 as
        weights.safetensors, the launcher's default --weights);
        target="cpu": kan_model.c/.h (C99, link with kanrt).
    train: None, or a dict of Trainer options (rule, n, density, lr, dist)
        to emit the noise_step training step too.
    runtime_prefix: the default KANRT_PREFIX of the NM Quad Makefile, where
        the runtime is installed (None: this package's install prefix, or
        the build tree).
    Returns the list of files written (and, with report=True for nmquad,
    prints the schedule report).
    """
    if out_dir is None:
        raise ValueError("translate needs out_dir")
    if target not in ("cpu", "nmquad"):
        raise ValueError(f"unknown target {target!r} (expected 'cpu' or 'nmquad')")
    if not isinstance(tile_rows, int) or tile_rows < 1:
        raise ValueError(f"tile_rows must be a positive integer, not {tile_rows!r}")
    # The NM Quad target computes in float64.
    core = to_core(model, resolve_dtype("float64") if target == "nmquad" else None)
    cfg = None
    if train is not None:
        unknown = set(train) - {"rule", "n", "density", "lr", "dist"}
        if unknown:
            raise ValueError(f"train: unknown options {sorted(unknown)}")
        cfg = {"rule": train.get("rule", "ternary"), "dist": train.get("dist") or "",
               "n": int(train.get("n", 32)), "density": float(train.get("density", 2e-3)),
               "lr": float(train.get("lr", 3e-3))}
    out_dir = os.fspath(out_dir)
    before = _listing(out_dir)
    if runtime_prefix is None:
        runtime_prefix = _runtime_prefix()
    text = _core.translate(core, target, out_dir, cfg, tile_rows, prefix, report,
                           os.fspath(runtime_prefix))
    if report and text:
        print(text, end="")
    after = _listing(out_dir)
    return sorted(p for p, m in after.items() if before.get(p) != m)


def _listing(d):
    out = {}
    if os.path.isdir(d):
        for root, _, files in os.walk(d):
            for f in files:
                p = os.path.join(root, f)
                st = os.stat(p)
                out[os.path.relpath(p, d)] = (st.st_mtime_ns, st.st_size)
    return out


def isa():
    """The runtime kernel level in use (KAN_ISA forces one)."""
    return _core.isa()
