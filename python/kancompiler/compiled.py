"""kancompiler.compile: a KAN evaluated through the compiled CPU path."""
import numpy as np

from . import _convert, _core
from ._convert import Input


def _engine(core, threads, tile_rows=128, train=None, jvp=""):
    from . import _runtime_dir, _threads
    return _core.Engine(core, train=train, threads=_threads(threads),
                        tile_rows=tile_rows, jvp=jvp, runtime_dir=_runtime_dir())


def _check_batch(batch):
    if batch is not None and (not isinstance(batch, (int, np.integer)) or batch < 1):
        raise ValueError(f"batch must be a positive integer or None, not {batch!r}")
    return None if batch is None else int(batch)


class CompiledModel:
    """A KAN compiled for the CPU (the generated C of ``kan-translate
    --target=cpu``, compiled and loaded; cached by source hash).

    Calling it evaluates the model on a NumPy array or CPU torch tensor of
    shape (..., I) and returns the same kind of object of shape (..., O).
    The weights are a snapshot taken by :func:`compile`; ``load_state_dict``
    replaces them.
    """

    def __init__(self, core, batch=None, threads=None, kind="torch"):
        self._core = core
        self._batch = _check_batch(batch)
        self._threads = threads
        self._kind = kind
        self._fwd = _engine(core, threads)
        self._jvp = {}

    @property
    def widths(self):
        return list(self._core.widths)

    @property
    def grid_size(self):
        return self._core.grid_size

    @property
    def spline_order(self):
        return self._core.spline_order

    @property
    def dtype(self):
        return _convert.model_dtype(self._core)

    def _chunks(self, n):
        step = self._batch or max(n, 1)
        for start in range(0, n, step):
            yield slice(start, min(n, start + step))

    def __call__(self, x):
        inp = Input(x, self.widths[0], self.dtype)
        xa = inp.array
        y = np.empty((xa.shape[0], self.widths[-1]), dtype=self.dtype)
        for s in self._chunks(xa.shape[0]):
            self._fwd.forward(self._core, xa[s], y[s])
        return inp.wrap(y)

    def jvp(self, x, tangents):
        """(y, dy): the output and its derivative along ``tangents``, a dict
        from parameter names (``layers.<l>.base_weight``, ``spline_weight``,
        ``spline_scaler``; missing ones are zero) and optionally ``input``
        (same shape as x) to tensors or arrays."""
        inp = Input(x, self.widths[0], self.dtype)
        xa = inp.array
        t = self._core.zeros_like()
        xt = None
        for name, v in dict(tangents).items():
            if name == "input":
                tin = Input(v, self.widths[0], self.dtype, "tangents['input']")
                if tin.lead != inp.lead:
                    raise ValueError(f"tangents['input']: shape {tin.lead + (self.widths[0],)}"
                                     f" differs from the input's {inp.lead + (self.widths[0],)}")
                xt = tin.array
                continue
            if name.endswith(".grid"):
                raise ValueError(f"tangents: '{name}' is a grid; grids are not "
                                 "differentiated")
            a = _convert._tensor_to_numpy(name, v, "tangents")
            if a.dtype.kind != "f":
                raise TypeError(f"tangents: tensor '{name}' has dtype {a.dtype}, "
                                "expected floating point")
            t.set(name, np.ascontiguousarray(a, dtype=self.dtype), "tangents")
        mode = "input" if xt is not None else "weights"
        if mode not in self._jvp:
            self._jvp[mode] = _engine(self._core, self._threads, jvp=mode)
        eng = self._jvp[mode]
        n = xa.shape[0]
        y = np.empty((n, self.widths[-1]), dtype=self.dtype)
        dy = np.empty_like(y)
        for s in self._chunks(n):
            eng.jvp(self._core, xa[s], t, None if xt is None else xt[s], y[s], dy[s])
        return inp.wrap(y), inp.wrap(dy)

    def state_dict(self):
        """The weights under efficient-kan's keys (torch tensors if the model
        came from torch)."""
        return _convert.state_dict(self._core, self._kind)

    def load_state_dict(self, state_dict):
        """Replaces the weights (same shapes and dtype; no recompilation)."""
        new = _convert.to_core(state_dict, self.dtype)
        if (list(new.widths) != self.widths or new.grid_size != self.grid_size
                or new.spline_order != self.spline_order
                or new.with_scaler != self._core.with_scaler):
            raise ValueError("load_state_dict: the model's shape differs from the "
                             "compiled one")
        self._core = new

    def save(self, path):
        """Writes the weights as efficient-kan safetensors."""
        self._core.save(str(path))

    def __repr__(self):
        return (f"CompiledModel(widths={self.widths}, grid_size={self.grid_size}, "
                f"spline_order={self.spline_order}, dtype={self.dtype})")
