#!/usr/bin/python3
"""Writes the regression corpus of damaged resume checkpoints and replay logs
(cases.json, replayed by test/tools/regression-corpus.test through
scripts/fuzz-tools.py replay). Run from a build: make_corpus.py build/bin.
Findings of `fuzz-tools.py fuzz` are added to cases.json in the same form."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(sys.argv[1])


def put(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def get(name):
    with open(os.path.join(HERE, name), "rb") as f:
        return f.read()


def train(work, *args):
    subprocess.run([os.path.join(BIN, "kan-train"), "--train-csv=train.csv",
                    "--widths=8,6,3", "--batch=8", "--directions=8",
                    "--work-dir=" + work] + list(args), cwd=HERE, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


shutil.copy(os.path.join(HERE, "..", "blobs_train.csv"), os.path.join(HERE, "train.csv"))
work = tempfile.mkdtemp()
train(work, "--steps=4", "--checkpoint=" + work + "/seed.safetensors")
train(work, "--steps=4", "--init-seed=7", "--checkpoint=" + work + "/other.safetensors")
shutil.copy(work + "/seed.safetensors", os.path.join(HERE, "seed.safetensors"))
shutil.copy(work + "/seed.replay.init.safetensors", os.path.join(HERE, "init.safetensors"))
shutil.copy(work + "/other.replay.init.safetensors", os.path.join(HERE, "other-init.safetensors"))
log = open(work + "/seed.replay", "rb").read()
shutil.rmtree(work)

# The log's layout: header, then records of 16 + 8 * ndir + 4 bytes.
ndir = struct.unpack_from("<I", log, 20)[0]
rec = 16 + 8 * ndir + 4
hdr = len(log) - 4 * rec
assert (len(log) - hdr) % rec == 0 and struct.unpack_from("<I", log, hdr - 8)[0] == 0x444E4548
put("seed.replay", log)
put("torn.replay", log[:-5])
put("zeros-tail.replay", log + bytes(2 * rec + 3))
b = bytearray(log)
b[hdr + rec + 20] ^= 1
put("damaged-middle.replay", bytes(b))
b = bytearray(log)
b[hdr + 3 * rec + 20] ^= 1
put("damaged-last.replay", bytes(b))
b = bytearray(log)
b[30] ^= 1
put("bad-header-crc.replay", bytes(b))
put("truncated-header.replay", log[:hdr - 3])
# ndir = 2^20 + 1 with the header checksum recomputed: the limit check runs.
b = bytearray(log[:hdr])
struct.pack_into("<I", b, 20, (1 << 20) + 1)
struct.pack_into("<I", b, hdr - 4, zlib.crc32(bytes(b[:hdr - 4])))
put("huge-ndir.replay", bytes(b))
# Version 2 (no start step, hash or checksums): still read.
v2 = bytearray(log[:hdr - 4 - 4 - 36] + log[hdr - 8:hdr - 4])
v2[8] = 2
for s in range(4):
    v2 += log[hdr + s * rec:hdr + (s + 1) * rec - 4]
put("v2.replay", bytes(v2))


def checkpoint_with(meta):
    b = get("seed.safetensors")
    (n,) = struct.unpack_from("<Q", b, 0)
    h = json.loads(b[8:8 + n])
    h["__metadata__"].update(meta)
    j = json.dumps(h).encode()
    return struct.pack("<Q", len(j)) + j + b[8 + n:]


put("step-negative.safetensors", checkpoint_with({"step": "-1"}))
put("step-2p32.safetensors", checkpoint_with({"step": "4294967296"}))
put("step-text.safetensors", checkpoint_with({"step": "four"}))
put("lr-progress-2.safetensors", checkpoint_with({"lr_progress": "2"}))

R = ["kan-train", "--output={tmp}/out.safetensors"]
T = ["kan-train", "--train-csv={corpus}/train.csv", "--work-dir={tmp}"]
cases = [
    ("replay-seed", R + ["--replay={corpus}/seed.replay", "--checkpoint-in={corpus}/init.safetensors"], 0, ""),
    ("replay-torn-tail", R + ["--replay={corpus}/torn.replay", "--checkpoint-in={corpus}/init.safetensors"], 0, "ignored a torn tail"),
    ("replay-zeros-tail", R + ["--replay={corpus}/zeros-tail.replay", "--checkpoint-in={corpus}/init.safetensors"], 0, "3 records incomplete or damaged"),
    ("replay-damaged-last", R + ["--replay={corpus}/damaged-last.replay", "--checkpoint-in={corpus}/init.safetensors"], 0, "replaying the 3 whole records"),
    ("replay-damaged-middle", R + ["--replay={corpus}/damaged-middle.replay", "--checkpoint-in={corpus}/init.safetensors"], 1, "step record 1 is damaged"),
    ("replay-bad-header-crc", R + ["--replay={corpus}/bad-header-crc.replay", "--checkpoint-in={corpus}/init.safetensors"], 1, "header checksum mismatch"),
    ("replay-truncated-header", R + ["--replay={corpus}/truncated-header.replay", "--checkpoint-in={corpus}/init.safetensors"], 1, "truncated header"),
    ("replay-huge-ndir", R + ["--replay={corpus}/huge-ndir.replay", "--checkpoint-in={corpus}/init.safetensors"], 1, "invalid optimiser configuration"),
    ("replay-version-2", R + ["--replay={corpus}/v2.replay", "--checkpoint-in={corpus}/init.safetensors"], 0, ""),
    ("replay-other-weights", R + ["--replay={corpus}/seed.replay", "--checkpoint-in={corpus}/other-init.safetensors"], 1, "not the ones the log starts from"),
    ("replay-wrong-step", R + ["--replay={corpus}/seed.replay", "--checkpoint-in={corpus}/seed.safetensors"], 1, "is at step 4 but the replay log"),
    ("replay-not-a-log", R + ["--replay={corpus}/train.csv", "--checkpoint-in={corpus}/init.safetensors"], 1, "bad magic"),
    ("resume-step-negative", T + ["--resume={corpus}/step-negative.safetensors", "--steps=6"], 1, "no valid 'step'"),
    ("resume-step-2p32", T + ["--resume={corpus}/step-2p32.safetensors", "--steps=6"], 1, "no valid 'step'"),
    ("resume-step-text", T + ["--resume={corpus}/step-text.safetensors", "--steps=6"], 1, "no valid 'step'"),
    ("resume-lr-progress", T + ["--resume={corpus}/lr-progress-2.safetensors", "--steps=6"], 1, "'lr_progress' = '2'"),
    ("resume-seed", T + ["--resume={corpus}/seed.safetensors", "--steps=6"], 0, ""),
    ("resume-log-not-checkpoint", T + ["--resume={corpus}/seed.replay", "--steps=6"], 1, "seed.replay"),
]
with open(os.path.join(HERE, "cases.json"), "w") as f:
    json.dump([{"name": n, "argv": a, "exit": e, "stderr": s} for n, a, e, s in cases], f, indent=1)
    f.write("\n")
