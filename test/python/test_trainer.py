"""kancompiler.Trainer: the compiled noise_step train step from Python."""
import json
import os
import subprocess

import numpy as np
import pytest
import torch

import kancompiler as kc
from kanpeer import KAN, cross_entropy_loss, load_safetensors

from conftest import INPUTS, blobs, max_rel_err

TOL = 1e-12


def test_step_loss_is_the_peers_and_only_weights_move():
    m = KAN([8, 6, 3], seed=2)
    x, y = blobs("train")
    t = kc.Trainer(m, n=8, density=0.1, lr=0.05, batch=32)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    xb, yb = torch.from_numpy(x[:32]), torch.from_numpy(y[:32])
    loss = t.step(xb, yb)
    # The step's loss is the batch's cross-entropy at the weights before it.
    assert abs(loss - float(cross_entropy_loss(m(xb), yb))) <= TOL * max(1, abs(loss))
    after = t.state_dict()
    for k, v in before.items():
        if k.endswith(".grid"):
            assert torch.equal(after[k], v)
    assert any(not torch.equal(after[k], v) for k, v in before.items())
    assert t.steps == 1


def test_fit_learns_and_state_dict_loads_into_efficient_kan(tmp_path):
    m = KAN([8, 6, 3], seed=2)
    x, y = blobs("train")
    xt, yt = blobs("test")
    t = kc.Trainer(m, n=16, density=0.1, lr=0.05, batch=32, seed=1)
    acc0 = t.evaluate(xt, yt)
    seen = []
    hist = t.fit(torch.from_numpy(x), torch.from_numpy(y), epochs=15, x_test=xt,
                 y_test=yt, eval_every=25, callback=seen.append,
                 metrics=tmp_path / "metrics.jsonl")
    assert t.steps == 94  # ceil(15 * 200 / 32)
    assert [r["step"] for r in hist] == [25, 50, 75, 94] and seen == hist
    lines = [json.loads(s) for s in open(tmp_path / "metrics.jsonl")]
    assert lines == hist
    for r in lines:
        assert set(r) == {"step", "seconds", "loss", "test_accuracy", "lr", "steps_per_second"}
    assert hist[-1]["test_accuracy"] > max(acc0, 0.8)
    assert hist[-1]["loss"] < hist[0]["loss"]
    # Cosine schedule from lr to lr * 0.1 over the 94 steps (last at 93/94).
    assert hist[-1]["lr"] == pytest.approx(0.05 * (0.1 + 0.45 * (1 + np.cos(np.pi * 93 / 94))))
    # Back into the efficient-kan module: the same outputs.
    m.load_state_dict(t.state_dict())
    xt_t = torch.from_numpy(xt)
    assert max_rel_err(m(xt_t).detach(), t(xt_t)) <= TOL
    assert max_rel_err(m(xt_t).detach(), kc.compile(m)(xt_t)) <= TOL
    acc = float((m(xt_t).argmax(1).numpy() == yt).mean())
    assert acc == hist[-1]["test_accuracy"]


def test_fit_stops_on_callback_and_time_budget():
    m = KAN([8, 6, 3], seed=2)
    x, y = blobs("train")
    t = kc.Trainer(m, n=4, density=0.1, batch=16)
    hist = t.fit(x, y, steps=1000, eval_every=3, callback=lambda r: r["step"] < 9)
    assert t.steps == 9 and hist[-1]["step"] == 9
    hist = t.fit(x, y, time_budget=0.5, eval_every=10 ** 9)
    assert len(hist) == 1 and hist[0]["seconds"] >= 0.5 and t.steps > 9


def test_trainer_equals_kan_train(tmp_path, tools_dir):
    """Trainer.fit and kan-train run the same compiled step on the same
    batches: from kan-train's initial weights they end with the same bytes."""
    run = [os.path.join(tools_dir, "kan-train"), "--rule", "ternary", "--train-csv",
           os.path.join(INPUTS, "blobs_train.csv"), "--widths", "8,6,3",
           "--batch", "32", "--lr", "0.05", "--density", "0.1", "-n", "8",
           "--steps", "30", "--lr-schedule", "linear", "--seed", "7", "--threads", "1",
           "--work-dir", str(tmp_path), "--checkpoint", str(tmp_path / "ck.safetensors"),
           "--replay-log", str(tmp_path / "run.replay")]
    out = subprocess.run(run, check=True, capture_output=True, text=True).stdout
    assert json.loads(out.splitlines()[-1])["steps"] == 30
    init = tmp_path / "run.replay.init.safetensors"
    x, y = blobs("train")
    t = kc.Trainer(init, n=8, density=0.1, lr=0.05, batch=32, seed=7, threads=1)
    t.fit(x, y, steps=30, lr_schedule="linear")
    ref, _ = load_safetensors(str(tmp_path / "ck.safetensors"))
    got = t.state_dict()
    assert set(got) == set(ref)
    for k in ref:
        assert torch.equal(got[k], ref[k]), k
    # kan-train's replay log rebuilds the same weights through Trainer.replay.
    r = kc.Trainer(init, n=8, density=0.1, lr=0.05, batch=32, seed=7)
    assert r.replay(tmp_path / "run.replay") == 30 and r.steps == 30
    assert all(torch.equal(r.state_dict()[k], ref[k]) for k in ref)


def test_replay_log_rebuilds_the_weights(tmp_path):
    x, y = blobs("train")
    log = tmp_path / "py.replay"
    with kc.Trainer(KAN([8, 5, 3], seed=4), n=6, density=0.05, lr=0.02, batch=20,
                    seed=3, log=log) as t:
        t.fit(x, y, steps=12, lr_schedule="cosine")
        t.step(x[:5], y[:5], lr_scale=0.5)  # an explicit step is logged too
    final = t.state_dict()
    # From the initial weights the log names, in another trainer.
    r = kc.Trainer(KAN([8, 5, 3], seed=99), n=6, density=0.05, lr=0.02, batch=20, seed=3)
    assert r.replay(log) == 13 and r.steps == 13
    assert all(torch.equal(r.state_dict()[k], final[k]) for k in final)
    # Settings that differ from the log's are refused.
    other = kc.Trainer(KAN([8, 5, 3], seed=4), n=6, density=0.05, lr=0.02, batch=20, seed=4)
    with pytest.raises(ValueError, match="the log's seed is 3, this trainer's 4"):
        other.replay(log)
    # Other initial weights than the logged ones are refused by the runtime.
    with pytest.raises(kc.KanError, match="py.replay"):
        r.replay(log, init=KAN([8, 5, 3], seed=5))
    # A torn tail (a partial last record) is left out, with a warning.
    data = open(log, "rb").read()
    open(tmp_path / "cut.replay", "wb").write(data[:-5])
    with pytest.warns(RuntimeWarning, match="1 damaged or partial record"):
        assert r.replay(tmp_path / "cut.replay") == 12
    assert r.steps == 12
    # Not a replay log: an error of the runtime's reader, with the path.
    open(tmp_path / "junk.replay", "wb").write(b"KANRPLAY" + bytes(40))
    with pytest.raises(kc.KanError, match="junk.replay"):
        r.replay(tmp_path / "junk.replay")


def test_replay_with_kan_train(tmp_path, tools_dir):
    x, y = blobs("train")
    log = tmp_path / "py.replay"
    with kc.Trainer(KAN([8, 5, 3], seed=4), n=6, density=0.05, lr=0.02, batch=20,
                    seed=3, log=log) as t:
        t.fit(x, y, steps=10)
        t.save(tmp_path / "final.safetensors")
    out = subprocess.run([os.path.join(tools_dir, "kan-train"), "--replay", str(log),
                          "--compare", str(tmp_path / "final.safetensors")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["identical"] is True


def test_float32_and_numpy_models():
    x, y = blobs("train")
    m = KAN([8, 6, 3], seed=2, dtype=torch.float32)
    t = kc.Trainer(m, n=8, density=0.1, lr=0.05, batch=32)
    t.fit(x, y, steps=5)
    sd = t.state_dict()
    assert sd["layers.0.base_weight"].dtype == torch.float32
    m.load_state_dict(sd)
    tn = kc.Trainer({k: v.double().numpy() for k, v in m.state_dict().items()}, n=4,
                    density=0.1, batch=8)
    tn.step(x[:8], y[:8])
    assert isinstance(tn.state_dict()["layers.0.grid"], np.ndarray)


@pytest.mark.parametrize("dist", ["normal", "rademacher"])
def test_forward_gradient_rule_logs_and_replays(tmp_path, dist):
    x, y = blobs("train")
    log = tmp_path / "fg.replay"
    with kc.Trainer(KAN([8, 5, 3], seed=6), rule="fg", dist=dist, n=8, lr=0.05,
                    batch=25, log=log) as t:
        t.fit(x, y, steps=8)
    r = kc.Trainer(KAN([8, 5, 3], seed=6), rule="fg", dist=dist, n=8, lr=0.05, batch=25)
    assert r.replay(log) == 8
    assert all(torch.equal(r.state_dict()[k], v) for k, v in t.state_dict().items())
    # The same seed and rule with the other distribution is another log.
    other = "rademacher" if dist == "normal" else "normal"
    o = kc.Trainer(KAN([8, 5, 3], seed=6), rule="fg", dist=other, n=8, lr=0.05, batch=25)
    with pytest.raises(ValueError, match=f"the log's dist is '{dist}'"):
        o.replay(log)
