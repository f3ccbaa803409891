"""docs/PYTHON.md's tutorial: the Python block runs as written (its asserts
compare the compiled model with the PyTorch module within 1e-12)."""
import contextlib
import io
import os
import re

import numpy as np

from conftest import ROOT

DOC = os.path.join(ROOT, "docs", "PYTHON.md")


def tutorial_code():
    text = open(DOC).read()
    section = text[text.index("## Tutorial"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_tutorial_is_short():
    lines = [l for l in tutorial_code().splitlines() if l.strip()]
    assert len(lines) < 30, len(lines)


def test_tutorial_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    scope = {"__name__": "tutorial"}
    with contextlib.redirect_stdout(out):
        exec(compile(tutorial_code(), DOC, "exec"), scope)
    printed = out.getvalue().splitlines()
    # One record per epoch.
    assert [l.split()[0] for l in printed[:-1]] == ["47", "94"]
    m = re.fullmatch(r"test accuracy (0\.\d+), first 500 in torch (0\.\d+)", printed[-1])
    assert m, printed[-1]
    # Trained: far above chance (10 classes) after 94 steps.
    assert float(m.group(1)) > 0.5
    assert scope["history"][-1]["step"] == 94
    assert os.path.exists(tmp_path / "kan-nmquad" / "weights.safetensors")
    assert len(open(tmp_path / "run.jsonl").readlines()) == len(scope["history"])
    # The module now holds the trained weights.
    sd = scope["trainer"].state_dict()
    for k, v in scope["model"].state_dict().items():
        assert np.array_equal(v.numpy(), sd[k].numpy()), k
