"""kancompiler.compile against the PyTorch peer (efficient-kan formulation)."""
import os

import numpy as np
import pytest
import torch

import kancompiler as kc
from kancompiler._convert import Input
from kanpeer import KAN, jvp, kan_forward, save_safetensors

from conftest import max_rel_err

TOL = 1e-12


def inputs(n, width, seed=0, lo=-1.2, hi=1.2):
    # Slightly beyond the grid range [-1, 1]: the extended knots and the
    # zero spline outside them are exercised too.
    g = torch.Generator().manual_seed(seed)
    return lo + (hi - lo) * torch.rand((n, width), generator=g, dtype=torch.float64)


@pytest.mark.parametrize("widths,grid,order", [([5, 7, 3], 5, 3), ([16, 12, 8, 4], 3, 2),
                                                ([3, 1], 8, 1), ([64, 32, 10], 5, 3)])
def test_forward_matches_peer(widths, grid, order):
    m = KAN(widths, grid_size=grid, spline_order=order, seed=3)
    f = kc.compile(m)
    assert f.widths == widths and f.grid_size == grid and f.spline_order == order
    x = inputs(301, widths[0])
    y = f(x)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float64
    assert y.shape == (301, widths[-1])
    assert max_rel_err(y, m(x).detach()) <= TOL


def test_numpy_in_numpy_out_and_leading_dims():
    m = KAN([6, 5, 2], seed=4)
    f = kc.compile(m.state_dict())
    x = inputs(24, 6).numpy()
    y = f(x)
    assert isinstance(y, np.ndarray) and y.shape == (24, 2)
    ref = m(torch.from_numpy(x)).detach().numpy()
    assert max_rel_err(y, ref) <= TOL
    # (..., I) -> (..., O) as efficient-kan's forward reshapes; a single row.
    assert max_rel_err(f(x.reshape(2, 3, 4, 6)), ref.reshape(2, 3, 4, 2)) <= TOL
    assert f(x[5]).shape == (2,)
    assert max_rel_err(f(x[5]), ref[5]) <= TOL
    # Other float types and layouts are converted.
    assert max_rel_err(f(np.asfortranarray(x)), ref) <= TOL
    assert max_rel_err(f(x[::-1]), ref[::-1]) <= TOL
    assert f(np.zeros((0, 6))).shape == (0, 2)


def test_inputs_are_not_copied_when_the_layout_allows():
    x = np.random.default_rng(0).standard_normal((8, 3))
    assert np.shares_memory(Input(x, 3, np.float64).array, x)
    t = torch.from_numpy(x)
    assert np.shares_memory(Input(t, 3, np.float64).array, x)
    # Transposed or of another dtype: a converted copy.
    assert not np.shares_memory(Input(x.T.copy().T, 3, np.float64).array, x)
    assert Input(x.astype(np.float32), 3, np.float64).array.dtype == np.float64


def test_without_spline_scaler():
    m = KAN([4, 6, 3], seed=5)
    sd = {k: v for k, v in m.state_dict().items() if not k.endswith("spline_scaler")}
    f = kc.compile(sd)
    x = inputs(50, 4)
    assert max_rel_err(f(x), kan_forward(sd, x)) <= TOL


def test_float32_model_and_dtype_conversion():
    m64 = KAN([8, 6, 4], seed=6)
    m32 = KAN([8, 6, 4], seed=6, dtype=torch.float32)
    x = inputs(40, 8)
    f32 = kc.compile(m32)
    assert f32.dtype == np.float32
    y = f32(x.float())
    assert y.dtype == torch.float32
    assert max_rel_err(y, m32(x.float()).detach()) <= 1e-5
    g = kc.compile(m64, dtype="float32")
    assert g.dtype == np.float32
    assert max_rel_err(g(x), m64(x).detach()) <= 1e-5
    h = kc.compile(m32, dtype=torch.float64)
    assert h(x).dtype == torch.float64


def test_batch_chunks_and_threads_agree():
    m = KAN([10, 9, 5], seed=7)
    x = inputs(1000, 10)
    ref = m(x).detach()
    for batch, threads in [(7, 1), (128, 2), (None, 2), (1, 1)]:
        assert max_rel_err(kc.compile(m, batch=batch, threads=threads)(x), ref) <= TOL


def test_files(tmp_path):
    m = KAN([5, 4, 3], seed=8)
    path = tmp_path / "m.safetensors"
    save_safetensors(str(path), m.state_dict())
    x = inputs(30, 5)
    f = kc.compile(path)
    assert max_rel_err(f(x), m(x).detach()) <= TOL
    f.save(tmp_path / "again.safetensors")
    assert max_rel_err(kc.compile(str(tmp_path / "again.safetensors"))(x),
                       m(x).detach()) <= TOL
    sd = kc.load(path)
    assert set(sd) == set(m.state_dict())
    assert all(np.array_equal(sd[k], v.numpy()) for k, v in m.state_dict().items())


def test_mlir_module(tmp_path, tools_dir):
    m = KAN([5, 4, 3], seed=9)
    save_safetensors(str(tmp_path / "m.safetensors"), m.state_dict())
    assert os.system(f"{tools_dir}/kan-import {tmp_path}/m.safetensors "
                     f"-o {tmp_path}/m.mlir") == 0
    x = inputs(30, 5)
    assert max_rel_err(kc.compile(tmp_path / "m.mlir")(x), m(x).detach()) <= TOL


def test_jvp_matches_forward_mode_ad():
    m = KAN([6, 5, 3], seed=10)
    sd = m.state_dict()
    f = kc.compile(m)
    x = inputs(64, 6)
    g = torch.Generator().manual_seed(1)
    tangents = {k: torch.randn(v.shape, generator=g, dtype=torch.float64)
                for k, v in sd.items() if not k.endswith(".grid")}
    y, dy = f.jvp(x, tangents)
    ry, rdy = jvp(sd, x, tangents)
    assert max_rel_err(y, ry) <= TOL and max_rel_err(dy, rdy) <= TOL
    # Missing tangents are zero; the input too.
    part = {"layers.1.spline_weight": tangents["layers.1.spline_weight"],
            "input": torch.randn((64, 6), generator=g, dtype=torch.float64)}
    y, dy = f.jvp(x.numpy(), {k: v.numpy() for k, v in part.items()})
    assert isinstance(dy, np.ndarray)
    ry, rdy = jvp(sd, x, part)
    assert max_rel_err(dy, rdy) <= TOL
    # JVP is linear in the tangent: zero tangents give zero.
    _, dz = f.jvp(x, {})
    assert float(torch.abs(dz).max()) == 0.0


def test_weights_are_a_snapshot_and_load_state_dict():
    m = KAN([4, 3, 2], seed=11)
    f = kc.compile(m)
    x = inputs(20, 4)
    before = m(x).detach()
    with torch.no_grad():
        m.layers[0].base_weight.mul_(2)
    assert max_rel_err(f(x), before) <= TOL
    f.load_state_dict(m.state_dict())
    assert max_rel_err(f(x), m(x).detach()) <= TOL
    sd = f.state_dict()
    assert isinstance(sd["layers.0.grid"], torch.Tensor)
    m2 = KAN([4, 3, 2], seed=99)
    m2.load_state_dict(sd)
    assert max_rel_err(m2(x).detach(), m(x).detach()) == 0.0
