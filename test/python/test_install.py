"""`cmake --install` puts a self-contained package (with the runtime the
compiled models link against) into <prefix>/lib/python3.X/dist-packages."""
import glob
import os
import subprocess
import sys

import pytest

from conftest import BUILD

SCRIPT = """
import os, sys, numpy as np
import kancompiler as kc
assert kc.__file__.startswith(sys.argv[1]), kc.__file__
rt = kc._runtime_dir()
assert rt and os.path.exists(os.path.join(rt, "include", "kanrt", "kanrt.h")), rt
from kanpeer import KAN
import torch
m = KAN([3, 4, 2], seed=1)
x = torch.rand(7, 3, dtype=torch.float64)
print(float((kc.compile(m)(x) - m(x).detach()).abs().max()))
"""


def test_installed_package(tmp_path):
    if not os.path.exists(os.path.join(BUILD, "cmake_install.cmake")):
        pytest.skip(f"{BUILD} is not a configured build tree")
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", BUILD, "--prefix", str(prefix),
                    "--component", "python"], check=True, capture_output=True)
    site = glob.glob(str(prefix / "lib" / "python3*" / "dist-packages"))
    assert len(site) == 1
    kanpeer = os.path.join(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))), "python")
    # A fresh JIT cache: the model is compiled against the packaged runtime.
    env = dict(os.environ, PYTHONPATH=site[0] + os.pathsep + kanpeer,
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", SCRIPT, site[0]], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) <= 1e-12
    assert glob.glob(str(tmp_path / "cache" / "kan" / "*" / "model.so"))
