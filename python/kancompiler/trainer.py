"""kancompiler.Trainer: noise_step training through the compiled train step."""
import json
import math
import os
import time
import warnings

import numpy as np

from . import _convert, _core
from ._convert import Input
from .compiled import _engine

_RULES = ("ternary", "fg")
_DISTS = ("sparse_ternary", "sparse", "normal", "rademacher")
_SCHEDULES = ("cosine", "linear", "constant")


def _labels(y, n, classes, what="labels"):
    if _convert.is_tensor(y):
        y = y.detach().cpu().numpy()
    a = np.asarray(y)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{what}: dtype {a.dtype}, expected integer class labels")
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{what}: shape {a.shape}, expected ({n},) (one label per row)")
    if n and (a.min() < 0 or a.max() >= classes):
        bad = a[(a < 0) | (a >= classes)][0]
        raise ValueError(f"{what}: label {bad} is not a class in [0, {classes})")
    return np.ascontiguousarray(a, dtype=np.int64)


def lr_scale_at(schedule, lr_final, p):
    """The step-size factor at schedule progress p in [0, 1] (as kan-train)."""
    p = min(max(p, 0.0), 1.0)
    if schedule == "linear":
        return 1.0 - (1.0 - lr_final) * p
    if schedule == "cosine":
        return lr_final + (1.0 - lr_final) * 0.5 * (1.0 + math.cos(math.pi * p))
    return 1.0


class Trainer:
    """Trains a KAN classifier without backpropagation.

    Each step evaluates the softmax cross-entropy of a batch and its JVPs
    along ``n`` directions regenerated from (seed, step, direction) in one
    compiled forward sweep, then applies the ``rule``: ``ternary``
    (noise_step, sparse ternary directions) or ``fg`` (forward gradient,
    ``dist`` normal or rademacher). The update is the runtime's optimiser
    bit for bit, so ``log`` (a kan-train replay log) rebuilds the weights.

    model: an efficient-kan ``KAN`` module, its state_dict, or a
    .safetensors/.mlir path; the trainer works on a copy (``state_dict()``
    gives the weights back).
    """

    def __init__(self, model, rule="ternary", n=128, density=2e-3, lr=1e-2,
                 dist=None, batch=128, seed=0, threads=None, dtype=None, log=None):
        if rule not in _RULES:
            raise ValueError(f"rule must be 'ternary' or 'fg', not {rule!r}")
        if dist is not None and dist not in _DISTS:
            raise ValueError(f"dist must be one of {', '.join(_DISTS)}, not {dist!r}")
        if not isinstance(n, (int, np.integer)) or not 1 <= n <= 1 << 20:
            raise ValueError(f"n (directions per step) must be an integer in [1, 2^20], not {n!r}")
        if not (isinstance(density, (int, float)) and 0 < density <= 1):
            raise ValueError(f"density must be in (0, 1], not {density!r}")
        if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be positive and finite, not {lr!r}")
        if not isinstance(batch, (int, np.integer)) or not 1 <= batch <= 1 << 24:
            raise ValueError(f"batch must be an integer in [1, 2^24], not {batch!r}")
        if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 1 << 64:
            raise ValueError(f"seed must be an integer in [0, 2^64), not {seed!r}")
        self._kind = _convert.source_kind(model)
        self._core = _convert.to_core(model, _convert.resolve_dtype(dtype))
        self.rule, self.n, self.density, self.lr = rule, int(n), float(density), float(lr)
        self.dist = dist or ""
        self.batch, self.seed = int(batch), int(seed)
        self._train = {"rule": rule, "dist": self.dist, "n": self.n,
                       "density": self.density, "lr": self.lr}
        from . import _threads
        nthreads = _threads(threads)
        # As kan-train: row tiles of ceil(batch / threads) rows (a multiple
        # of 8, at most 128) so that every thread has a tile.
        per = -(-self.batch // nthreads)
        tile = min(max((per + 7) // 8 * 8, 8), 128)
        self._engine = _engine(self._core, nthreads, tile, train=self._train)
        #: Index of the next step (the batch order and the directions are
        #: functions of (seed, step)).
        self.steps = 0
        self._log = None
        self.log_path = None
        if log is not None:
            self._open_log(os.fspath(log))

    # ------------------------------------------------------------------ model

    @property
    def widths(self):
        return list(self._core.widths)

    @property
    def dtype(self):
        return _convert.model_dtype(self._core)

    def state_dict(self):
        """The current weights under efficient-kan's keys: loads into the
        efficient-kan module with ``load_state_dict`` (torch tensors when the
        model came from torch, NumPy arrays otherwise)."""
        return _convert.state_dict(self._core, self._kind)

    def save(self, path):
        """Writes the weights (safetensors, with the step and options)."""
        self._core.metadata = self._metadata()
        self._core.save(os.fspath(path))

    def __call__(self, x):
        """The model's output on x with the current weights."""
        inp = Input(x, self.widths[0], self.dtype)
        return inp.wrap(self._forward(inp.array))

    def _forward(self, xa, chunk=1024):
        y = np.empty((xa.shape[0], self.widths[-1]), dtype=self.dtype)
        for s in range(0, xa.shape[0], chunk):
            self._engine.forward(self._core, xa[s:s + chunk], y[s:s + chunk])
        return y

    def evaluate(self, x, y):
        """Classification accuracy (fraction of rows whose largest output is
        the label)."""
        inp = Input(x, self.widths[0], self.dtype)
        labels = _labels(y, inp.array.shape[0], self.widths[-1])
        if labels.size == 0:
            raise ValueError("evaluate: no rows")
        return float(np.mean(np.argmax(self._forward(inp.array), axis=1) == labels))

    # --------------------------------------------------------------- training

    def step(self, x, y, lr_scale=1.0):
        """One training step on the batch (x: (B, I) floats, y: B integer
        labels); updates the weights and returns the batch loss."""
        inp = Input(x, self.widths[0], self.dtype)
        if len(inp.lead) != 1:
            raise ValueError(f"step: input of shape {inp.lead + (self.widths[0],)}, "
                             "expected (batch, features)")
        labels = _labels(y, inp.array.shape[0], self.widths[-1])
        if not (math.isfinite(lr_scale) and lr_scale >= 0):
            raise ValueError(f"lr_scale must be finite and >= 0, not {lr_scale!r}")
        return self._step(inp.array, labels, float(lr_scale))

    def _step(self, xa, labels, lr_scale):
        loss, alphas = self._engine.train_step(self._core, xa, labels, self.seed,
                                               self.steps, lr_scale)
        if self._log is not None:
            self._log.append(self.steps, lr_scale, alphas)
        self.steps += 1
        if not math.isfinite(loss):
            raise _core.KanError(f"the loss became {loss} at step {self.steps - 1}; "
                                 "try a smaller lr")
        return loss

    def fit(self, x, y, epochs=None, time_budget=None, steps=None,
            lr_schedule="cosine", lr_final=0.1, x_test=None, y_test=None,
            eval_every=None, callback=None, metrics=None):
        """Trains on (x, y) in batches of ``batch`` rows, in kan-train's order
        (a pure function of the seed and the step, continuing from
        ``self.steps``), until ``epochs`` passes over the data, ``steps``
        steps or ``time_budget`` seconds, whichever comes first.

        The step size follows ``lr_schedule`` (cosine, linear or constant)
        from lr down to lr * lr_final over the run (its steps, else its time
        budget). Every ``eval_every`` steps (default: 20 records per run) and
        at the end, a record {step, seconds, loss (moving average), lr,
        steps_per_second, test_accuracy (with x_test/y_test, else None)} is
        appended to the returned history, written as a JSON line to
        ``metrics`` (the format of kan-train's metrics file) and passed to
        ``callback``; a callback returning False stops the run.
        """
        if epochs is None and time_budget is None and steps is None:
            raise ValueError("fit needs epochs, steps or time_budget")
        if lr_schedule not in _SCHEDULES:
            raise ValueError(f"lr_schedule must be cosine, linear or constant, not {lr_schedule!r}")
        if not 0 < lr_final <= 1:
            raise ValueError(f"lr_final must be in (0, 1], not {lr_final!r}")
        inp = Input(x, self.widths[0], self.dtype, "x")
        xa = inp.array
        if len(inp.lead) != 1 or xa.shape[0] == 0:
            raise ValueError(f"x: shape {inp.lead + (self.widths[0],)}, expected "
                             "(rows, features) with rows >= 1")
        ya = _labels(y, xa.shape[0], self.widths[-1], "y")
        test = None
        if (x_test is None) != (y_test is None):
            raise ValueError("x_test and y_test go together")
        if x_test is not None:
            ti = Input(x_test, self.widths[0], self.dtype, "x_test")
            test = (ti.array, _labels(y_test, ti.array.shape[0], self.widths[-1], "y_test"))
        planned = None
        if epochs is not None:
            if not epochs > 0:
                raise ValueError(f"epochs must be positive, not {epochs!r}")
            planned = math.ceil(epochs * xa.shape[0] / self.batch)
        if steps is not None:
            if not (isinstance(steps, (int, np.integer)) and steps >= 1):
                raise ValueError(f"steps must be a positive integer, not {steps!r}")
            planned = steps if planned is None else min(planned, steps)
        if time_budget is not None and not time_budget > 0:
            raise ValueError(f"time_budget must be positive seconds, not {time_budget!r}")
        if eval_every is None:
            eval_every = max(1, planned // 20) if planned else 100
        sampler = _core.BatchSampler(xa.shape[0], self.batch, self.seed)
        out = open(metrics, "a") if metrics is not None else None
        history = []
        ema = ema_w = 0.0
        first = self.steps
        start = time.monotonic()
        lr_scale = 1.0

        def record(done):
            elapsed = time.monotonic() - start
            acc = None
            if test is not None:
                acc = float(np.mean(np.argmax(self._forward(test[0]), axis=1) == test[1]))
            r = {"step": self.steps, "seconds": round(elapsed, 6),
                 "loss": ema if ema_w > 0 else None, "test_accuracy": acc,
                 "lr": self.lr * lr_scale,
                 "steps_per_second": done / elapsed if elapsed > 0 else None}
            history.append(r)
            if out is not None:
                out.write(json.dumps(r) + "\n")
                out.flush()
            return callback(r) if callback is not None else None

        try:
            while True:
                done = self.steps - first
                elapsed = time.monotonic() - start
                if planned is not None and done >= planned:
                    break
                if time_budget is not None and elapsed >= time_budget:
                    break
                if planned is not None:
                    p = done / planned
                else:
                    p = elapsed / time_budget
                lr_scale = lr_scale_at(lr_schedule, lr_final, p)
                idx = sampler.indices(self.steps)
                loss = self._step(xa[idx], ya[idx], lr_scale)
                ema_w = 0.99 * ema_w + 0.01
                ema += (loss - ema) * (0.01 / ema_w)
                if (done + 1) % eval_every == 0 and record(done + 1) is False:
                    return history
            if not history or history[-1]["step"] != self.steps:
                record(self.steps - first)
        finally:
            if out is not None:
                out.close()
        return history

    # ----------------------------------------------------------------- replay

    def _metadata(self):
        s = self._core
        return {"format": "efficient-kan", "base_activation": "silu",
                "widths": ",".join(map(str, s.widths)), "grid_size": str(s.grid_size),
                "spline_order": str(s.spline_order), "dtype": "f32" if s.f32 else "f64",
                "step": str(self.steps), "seed": str(self.seed), "batch": str(self.batch),
                "rule": self.rule, "dist": self._resolved_dist(), "directions": str(self.n),
                "density": repr(self.density), "lr": repr(self.lr)}

    def _resolved_dist(self):
        if self.dist == "sparse":
            return "sparse_ternary"
        return self.dist or ("normal" if self.rule == "fg" else "sparse_ternary")

    def _open_log(self, path):
        init = os.path.abspath(path + ".init.safetensors")
        self._core.metadata = self._metadata()
        self._core.save(init)
        self._log = _core.ReplayWriter(self._core, self._train, self.seed, path, init,
                                       self.steps)
        self.log_path = path

    def close(self):
        """Closes the replay log (fsync); further steps are not logged."""
        if self._log is not None:
            log, self._log = self._log, None
            log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def replay(self, log, init=None):
        """Rebuilds weights from a replay log (this trainer's or kan-train's):
        every logged step is applied to the initial weights (``init``, else
        the checkpoint the log names; their SHA-256 must be the one the log
        recorded) with the runtime's optimiser, bit for bit as in the logged
        run. A torn tail (a partial last record) is left out with a
        RuntimeWarning. The log's optimiser settings must be this
        trainer's. The trainer continues from the log's last step. Returns
        the number of steps replayed."""
        if self._log is not None:
            raise ValueError("replay: this trainer is writing a replay log; close() it first")
        log = os.fspath(log)
        if not os.path.exists(log):
            raise FileNotFoundError(f"{log}: no such file")
        info = _core.replay_info(log)
        mine = {"kind": self.rule, "dist": self._resolved_dist(), "n": self.n,
                "seed": self.seed, "lr": self.lr, "density": self.density}
        for k, v in mine.items():
            if k == "density" and mine["dist"] != "sparse_ternary":
                continue
            if info[k] != v:
                raise ValueError(f"{log}: the log's {k} is {info[k]!r}, this trainer's {v!r}")
        if init is None:
            if not info["init_checkpoint"]:
                raise ValueError(f"{log}: the log names no initial weights; pass init=")
            init = info["init_checkpoint"]
        core = _convert.to_core(init, self.dtype)
        if (list(core.widths) != self.widths or core.grid_size != self._core.grid_size
                or core.spline_order != self._core.spline_order
                or core.with_scaler != self._core.with_scaler):
            raise ValueError(f"{log}: the initial weights' shape differs from this trainer's model")
        count = _core.replay_apply(core, log)
        if info["dropped_records"]:
            warnings.warn(f"{log}: {info['dropped_records']} damaged or partial record(s) "
                          f"at the end ({info['dropped_bytes']} bytes, a torn tail) were "
                          f"left out; replayed {count} steps", RuntimeWarning, stacklevel=2)
        self._core = core
        if info["final_step"] >= 0:
            self.steps = info["final_step"]
        return count
