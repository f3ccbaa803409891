"""kancompiler.translate: the target sources of kan-translate from Python."""
import os
import subprocess

import numpy as np
import torch

import kancompiler as kc
from kanpeer import KAN, load_safetensors, save_npy

from conftest import BUILD, ROOT, max_rel_err


def test_nmquad_folder_deploys_the_model(tmp_path):
    """The folder carries the model's weights, and its host-emulation build
    (the launcher's defaults) evaluates the model as the peer does."""
    m = KAN([6, 5, 3], seed=1)
    nmq = tmp_path / "nmq"
    files = kc.translate(m, target="nmquad", out_dir=nmq)
    for f in ("Makefile", "model_core.c", "model_host.c", "model_params.h",
              "weights.safetensors"):
        assert f in files
    w, _ = load_safetensors(str(nmq / "weights.safetensors"))
    for k, v in m.state_dict().items():
        assert torch.equal(w[k], v), k
    # The Makefile's runtime prefix is the build tree (staged in the install
    # layout): no variables needed.
    out = subprocess.run(["make", "-s", "host-emu"], cwd=nmq, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    x = torch.rand(40, 6, dtype=torch.float64) * 2 - 1
    save_npy(str(tmp_path / "x.npy"), x)
    subprocess.run([str(nmq / "build" / "model_emu"), "--cores", "4", "--input",
                    str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")],
                   cwd=nmq, check=True, capture_output=True)
    assert max_rel_err(np.load(tmp_path / "y.npy"), m(x).detach()) <= 1e-12


def test_nmquad_train_step(tmp_path):
    files = kc.translate(KAN([6, 5, 3], seed=1), target="nmquad", out_dir=tmp_path,
                         train={"rule": "ternary", "n": 4, "density": 0.1})
    src = open(tmp_path / "model_core.c").read()
    assert "train" in src.lower() and "Makefile" in files


def test_cpu_target_compiles_and_matches(tmp_path):
    """The emitted C, built with the runtime, evaluates the model as the
    peer does (a small C driver reads x.npy and writes y.npy)."""
    m = KAN([5, 4, 2], seed=3)
    files = kc.translate(m, target="cpu", out_dir=tmp_path)
    assert files == ["kan_model.c", "kan_model.h"]
    lib = os.path.join(BUILD, "runtime", "libkanrt.a")
    x = torch.rand(9, 5, dtype=torch.float64) * 2 - 1
    save_npy(str(tmp_path / "x.npy"), x)
    sd = m.state_dict()
    names = [f"layers.{l}.{k}" for l in range(2)
             for k in ("grid", "base_weight", "spline_weight", "spline_scaler")]
    for i, n in enumerate(names):
        save_npy(str(tmp_path / f"p{i}.npy"), sd[n])
    driver = tmp_path / "main.c"
    driver.write_text(f"""
#include "kan_model.h"
#include "kanrt/kanrt.h"
#include <stdio.h>
int main(void) {{
  kan_tensor x, y, p[{len(names)}];
  double *ptr[{len(names)}];
  char path[4096];
  for (int i = 0; i < {len(names)}; ++i) {{
    snprintf(path, sizeof path, "{tmp_path}/p%d.npy", i);
    if (kan_npy_read(path, 0, &p[i])) return 1;
    ptr[i] = p[i].data;
  }}
  if (kan_npy_read("{tmp_path}/x.npy", 0, &x)) return 1;
  size_t shape[2] = {{x.shape[0], 2}};
  if (kan_tensor_alloc(&y, KAN_DTYPE_F64, 2, shape)) return 2;
  if (kan_forward(x.data, (int64_t)x.shape[0], ptr, y.data)) return 3;
  return kan_npy_write("{tmp_path}/y.npy", &y) ? 4 : 0;
}}
""")
    subprocess.run(["cc", "-std=c99", "-O2", f"-I{tmp_path}",
                    f"-I{os.path.join(ROOT, 'runtime', 'include')}", str(driver),
                    str(tmp_path / "kan_model.c"), lib, "-lm", "-lz", "-o",
                    str(tmp_path / "run")], check=True)
    subprocess.run([str(tmp_path / "run")], check=True)
    y = np.load(tmp_path / "y.npy")
    assert max_rel_err(y, m(x).detach()) <= 1e-12
