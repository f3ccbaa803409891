"""pytest configuration of the kancompiler tests.

lit (test/python/pytest.test) puts the build's package directory and
python/ (kanpeer, the PyTorch peer) on PYTHONPATH and the build directory in
KAN_BUILD_DIR; run by hand:

    PYTHONPATH=build/python_packages:python KAN_BUILD_DIR=build \\
      /usr/bin/python3 -m pytest -q test/python
"""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try:
    import kanpeer  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(ROOT, "python"))

INPUTS = os.path.join(ROOT, "test", "tools", "Inputs")


BUILD = os.path.abspath(os.environ.get("KAN_BUILD_DIR") or os.path.join(ROOT, "build"))


@pytest.fixture
def tools_dir():
    d = os.path.join(BUILD, "bin")
    if not os.path.exists(os.path.join(d, "kan-train")):
        pytest.skip(f"kan-train is not built in {d} (set KAN_BUILD_DIR)")
    return d


def blobs(split):
    """test/tools/Inputs/blobs_{train,test}.csv: 8 features, 3 classes."""
    a = np.loadtxt(os.path.join(INPUTS, f"blobs_{split}.csv"), delimiter=",")
    return a[:, 1:].copy(), a[:, 0].astype(np.int64)


def max_rel_err(got, ref):
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)))
