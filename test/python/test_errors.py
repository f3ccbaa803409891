"""Bad models, shapes and dtypes raise Python exceptions with the messages of
the checks (and of the runtime for files); the objects stay usable."""
import os

import numpy as np
import pytest
import torch

import kancompiler as kc
from kanpeer import KAN, KANLinear, save_safetensors

from conftest import INPUTS, blobs


@pytest.fixture(scope="module")
def model():
    return KAN([4, 5, 3], seed=1)


@pytest.fixture(scope="module")
def f(model):
    return kc.compile(model)


def test_bad_inputs(f, model):
    x = torch.rand(10, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"shape \(10, 5\), the model takes 4 features"):
        f(torch.rand(10, 5, dtype=torch.float64))
    with pytest.raises(TypeError, match="dtype int64, expected a floating-point array"):
        f(np.ones((10, 4), dtype=np.int64))
    with pytest.raises(TypeError, match="expected a floating-point tensor"):
        f(torch.ones((3, 4), dtype=torch.int32))
    with pytest.raises(TypeError, match="complex"):
        f(np.ones((3, 4), dtype=np.complex128))
    with pytest.raises(ValueError, match="scalar"):
        f(np.float64(1.0))
    bad = x.clone()
    bad[3, 2] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        f(bad)
    bad[3, 2] = float("inf")
    with pytest.raises(ValueError, match="non-finite"):
        f(bad.numpy())
    with pytest.raises(TypeError, match="floating-point array"):
        f("not an array")
    # Still fine afterwards; requires_grad tensors are detached.
    xg = x.clone().requires_grad_(True)
    assert torch.allclose(f(xg), model(x).detach(), rtol=1e-12, atol=1e-12)


def test_bad_tangents(f):
    x = torch.rand(6, 4, dtype=torch.float64)
    with pytest.raises(KeyError, match="'layers.7.base_weight' is not a tensor of the model"):
        f.jvp(x, {"layers.7.base_weight": torch.ones(5, 4, dtype=torch.float64)})
    with pytest.raises(ValueError, match=r"'layers.0.base_weight': shape \(4, 5\), expected \(5, 4\)"):
        f.jvp(x, {"layers.0.base_weight": torch.ones(4, 5, dtype=torch.float64)})
    with pytest.raises(ValueError, match="grids are not differentiated"):
        f.jvp(x, {"layers.0.grid": torch.ones(4, 12, dtype=torch.float64)})
    with pytest.raises(ValueError, match="differs from the input"):
        f.jvp(x, {"input": torch.ones(5, 4, dtype=torch.float64)})
    y, dy = f.jvp(x, {"input": torch.ones(6, 4, dtype=torch.float64)})
    assert dy.shape == (6, 3)


def test_bad_models(tmp_path, model):
    sd = model.state_dict()
    with pytest.raises(TypeError, match="expected an efficient-kan KAN module"):
        kc.compile(42)
    with pytest.raises(ValueError, match="key 'layers.0.weight' is not an efficient-kan KAN parameter"):
        kc.compile({**sd, "layers.0.weight": torch.zeros(2)})
    wrong = dict(sd)
    wrong["layers.1.spline_weight"] = torch.zeros(3, 5, 7, dtype=torch.float64)
    with pytest.raises(kc.KanError, match=r"tensor 'layers.1.spline_weight' has shape \[3,5,7\], expected \[3,5,8\]"):
        kc.compile(wrong)
    missing = {k: v for k, v in sd.items() if k != "layers.1.grid"}
    with pytest.raises(kc.KanError, match="missing tensor 'layers.1.grid'"):
        kc.compile(missing)
    with pytest.raises(kc.KanError, match="no tensor 'layers.0.base_weight'"):
        kc.compile({})
    with pytest.raises(TypeError, match="mixed dtypes"):
        kc.compile({**sd, "layers.0.grid": sd["layers.0.grid"].float()})
    with pytest.raises(TypeError, match="has dtype int64"):
        kc.compile({**sd, "layers.0.grid": sd["layers.0.grid"].long()})
    nan = dict(sd)
    nan["layers.0.base_weight"] = sd["layers.0.base_weight"].clone()
    nan["layers.0.base_weight"][0, 0] = float("nan")
    with pytest.raises(ValueError, match="'layers.0.base_weight' has non-finite values"):
        kc.compile(nan)
    with pytest.raises(FileNotFoundError, match="nothere.safetensors: no such file"):
        kc.compile(tmp_path / "nothere.safetensors")
    # The runtime's reader names the file and the problem.
    bad = os.path.join(INPUTS, "bad_header.safetensors")
    with pytest.raises(kc.KanError, match="bad_header.safetensors"):
        kc.compile(bad)
    with pytest.raises(TypeError, match="dtype float16 is not supported"):
        kc.compile(model, dtype="float16")


def test_unsupported_activation():
    class ReluKAN(KAN):
        pass
    m = ReluKAN([3, 2])
    m.layers[0].base_activation = torch.nn.ReLU()
    with pytest.raises(ValueError, match="base activation ReLU.. is not supported"):
        kc.compile(m)
    with pytest.raises(TypeError, match="not an efficient-kan KAN"):
        kc.compile(KANLinear(3, 2))


def test_bad_trainer_arguments(model):
    with pytest.raises(ValueError, match="rule must be 'ternary' or 'fg'"):
        kc.Trainer(model, rule="adam")
    with pytest.raises(ValueError, match="n .directions per step. must be"):
        kc.Trainer(model, n=0)
    with pytest.raises(ValueError, match="density must be in"):
        kc.Trainer(model, density=2.0)
    with pytest.raises(ValueError, match="lr must be positive"):
        kc.Trainer(model, lr=float("inf"))
    # The engine's own check of the rule/distribution pair.
    with pytest.raises(kc.KanError, match="rule 'fg' needs unit-variance directions"):
        kc.Trainer(model, rule="fg", dist="sparse_ternary")
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        kc.Trainer(model, threads=0)


def test_bad_training_data(model):
    t = kc.Trainer(model, n=4, batch=8)
    x, y = np.random.default_rng(0).uniform(-1, 1, (8, 4)), np.arange(8) % 3
    with pytest.raises(ValueError, match=r"label 3 is not a class in \[0, 3\)"):
        t.step(x, np.arange(8) % 4)
    with pytest.raises(ValueError, match="label -1"):
        t.step(x, -np.ones(8, dtype=np.int64))
    with pytest.raises(TypeError, match="expected integer class labels"):
        t.step(x, y.astype(np.float64))
    with pytest.raises(ValueError, match=r"shape \(7,\), expected \(8,\)"):
        t.step(x, y[:7])
    with pytest.raises(ValueError, match="expected .batch, features."):
        t.step(x.reshape(2, 4, 4), y)
    with pytest.raises(ValueError, match="fit needs epochs, steps or time_budget"):
        t.fit(x, y)
    with pytest.raises(ValueError, match="x_test and y_test go together"):
        t.fit(x, y, steps=1, x_test=x)
    with pytest.raises(ValueError, match="lr_scale must be finite"):
        t.step(x, y, lr_scale=float("nan"))
    assert t.steps == 0
    t.step(x, y)
    assert t.steps == 1
    with pytest.raises(FileNotFoundError):
        t.replay("/nonexistent/run.replay")
    with pytest.raises(kc.KanError, match="bad_header.safetensors"):
        t.replay(os.path.join(INPUTS, "bad_header.safetensors"))


def test_bad_translate(tmp_path, model):
    with pytest.raises(ValueError, match="unknown target 'gpu'"):
        kc.translate(model, target="gpu", out_dir=tmp_path)
    with pytest.raises(ValueError, match="translate needs out_dir"):
        kc.translate(model)
    with pytest.raises(ValueError, match="unknown options"):
        kc.translate(model, out_dir=tmp_path, train={"momentum": 0.9})
