#!/usr/bin/python3
"""Structured fuzzing of the tools, and the regression corpus it feeds.

  fuzz-tools.py fuzz   --bin build/bin [--seconds 120] [--out DIR] [--seed N]
  fuzz-tools.py replay --bin build/bin --corpus test/tools/Inputs/regress --tmp DIR

`fuzz` mutates, for a fixed time, the inputs the byte-level reader fuzzers
(scripts/fuzz.sh) do not reach: kan-opt's MLIR input (shapes, attributes,
nesting, truncation), kan-train's option space, and the files a run resumes
from or replays (checkpoint metadata and header, replay log fields, records
and checksums; some mutations re-seal the checksums so the deeper checks
run). It runs the real tools under a memory limit and a timeout; a run that
dies by a signal or does not finish is a finding, written to OUT/findings/
as a case in the corpus format below. Exit status 1 if there were findings.

`replay` runs every case of a corpus (cases.json: name, argv with {corpus}
and {tmp} placeholders and the tool name first, the expected exit status and
a substring of stderr) and fails on a signal, a timeout, another exit status
or a missing message. Each case runs in a fresh copy of the corpus, so cases
that write files cannot affect each other.
"""
import argparse
import json
import os
import random
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

TIMEOUT = 60
MEM_LIMIT = 4 << 30  # address space per run; a larger attempt must fail cleanly


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))


def run(bin_dir, argv, cwd, timeout=TIMEOUT):
    """(status, stderr): status is the exit code, -signal, or 'timeout'."""
    exe = os.path.join(bin_dir, argv[0])
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(cwd, ".cache"))
    try:
        p = subprocess.run([exe] + argv[1:], cwd=cwd, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout,
                           preexec_fn=limit_memory)
        return p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode("utf-8", "replace") if e.stderr else ""
        return "timeout", err


# ---------------------------------------------------------------- replay log

HEND, STEP = 0x444E4548, 0x50455453


def parse_log(b):
    """Offsets of a version-3 log: (fields, header_end, record_size)."""
    o = 8 + 4
    kind, dist, ndir, seed, lr, dens, npar, ilen = struct.unpack_from(
        "<IIIQddII", b, o)
    f = {"ndir": 20, "nparams": 44, "pathlen": 48}
    o += 4 * 3 + 8 * 3 + 8 + ilen
    for _ in range(npar):
        (nl,) = struct.unpack_from("<I", b, o)
        o += 4 + nl + 16
    f["start"] = o
    o += 4 + 32 + 4  # start step, hash, HEND
    return f, o + 4, 16 + 8 * ndir + 4


def reseal(b, hdr_end, rec):
    """Recomputes the header and record CRCs so mutations reach later checks."""
    b = bytearray(b)
    if len(b) >= hdr_end:
        struct.pack_into("<I", b, hdr_end - 4, zlib.crc32(bytes(b[:hdr_end - 4])))
    o = hdr_end
    while rec > 4 and o + rec <= len(b):
        struct.pack_into("<I", b, o + rec - 4, zlib.crc32(bytes(b[o:o + rec - 4])))
        o += rec
    return bytes(b)


INTERESTING32 = [0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x100000,
                 0x100001, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def mutate_log(rng, b):
    f, hdr_end, rec = parse_log(b)
    b = bytearray(b)
    how = rng.randrange(7)
    if how == 0:  # a header field, re-sealed
        off = f[rng.choice(["ndir", "nparams", "pathlen", "start"])]
        struct.pack_into("<I", b, off, rng.choice(INTERESTING32))
        return reseal(b, hdr_end, rec), "header field"
    if how == 1:  # truncation anywhere
        return bytes(b[:rng.randrange(len(b) + 1)]), "truncated"
    if how == 2:  # byte flips, not re-sealed (checksums must catch them)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b), "bit flips"
    if how == 3:  # a record value (step, lr_scale, a_i), re-sealed
        if len(b) > hdr_end + rec:
            o = hdr_end + rec * rng.randrange((len(b) - hdr_end) // rec)
            val = rng.choice([float("nan"), float("inf"), -1.0, 0.0, 1e308, -1e308])
            pos = rng.choice([4, 8] + [16 + 8 * d for d in range((rec - 20) // 8)])
            if pos == 4:
                struct.pack_into("<I", b, o + 4, rng.choice(INTERESTING32))
            else:
                struct.pack_into("<d", b, o + pos, val)
        return reseal(b, hdr_end, rec), "record value"
    if how == 4:  # garbage or zeros appended
        tail = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3 * rec)))
        return bytes(b) + rng.choice([tail, bytes(len(tail))]), "tail"
    if how == 5:  # a record duplicated or removed
        n = (len(b) - hdr_end) // rec
        if n:
            i = rng.randrange(n)
            r = bytes(b[hdr_end + i * rec:hdr_end + (i + 1) * rec])
            if rng.randrange(2):
                b[hdr_end + i * rec:hdr_end + i * rec] = r
            else:
                del b[hdr_end + i * rec:hdr_end + (i + 1) * rec]
        return bytes(b), "record order"
    b[8] = rng.choice([0, 1, 2, 4, 255])  # version
    return bytes(b), "version"


# ---------------------------------------------------------------- checkpoint

def st_split(b):
    (n,) = struct.unpack_from("<Q", b, 0)
    return json.loads(b[8:8 + n]), b[8 + n:]


def st_join(hdr, data):
    j = json.dumps(hdr).encode()
    return struct.pack("<Q", len(j)) + j + data


META_VALUES = ["-1", "0", "1", "abc", "", "nan", "inf", "1e308", "4294967296",
               "99999999999999999999", "8,6,4", "8,0,3", "f16", "x", "0.5",
               "16777217", "-0"]


def mutate_checkpoint(rng, b):
    hdr, data = st_split(b)
    how = rng.randrange(5)
    if how == 0:
        meta = hdr.setdefault("__metadata__", {})
        key = rng.choice(sorted(meta) or ["step"])
        meta[key] = rng.choice(META_VALUES)
        return st_join(hdr, data), "metadata " + key
    tensors = [k for k in hdr if k != "__metadata__"]
    name = rng.choice(tensors)
    if how == 1:
        shape = hdr[name]["shape"]
        if shape:
            shape[rng.randrange(len(shape))] = rng.choice(
                [0, 1, 2, 16777216, 2 ** 31, 2 ** 62])
        return st_join(hdr, data), "shape " + name
    if how == 2:
        hdr[name]["dtype"] = rng.choice(["F32", "F16", "I64", "U8", "BOOL"])
        return st_join(hdr, data), "dtype " + name
    if how == 3:
        del hdr[name]
        return st_join(hdr, data), "drop " + name
    b = bytearray(b)
    for _ in range(rng.randint(1, 4)):
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return bytes(b), "bit flips"


# ---------------------------------------------------------------------- MLIR

SHAPE_VALUES = ["0", "1", "?", "3", "16777216", "2147483648",
                "9223372036854775807", "65536"]


def mutate_mlir(rng, text):
    how = rng.randrange(7)
    if how == 0:  # a dimension of a tensor type
        ms = list(re.finditer(r"(?<=[<x])(\d+|\?)(?=x)", text))
        if ms:
            m = rng.choice(ms)
            text = text[:m.start()] + rng.choice(SHAPE_VALUES) + text[m.end():]
        return text, "tensor dimension"
    if how == 1:  # an integer attribute
        ms = list(re.finditer(r"(?<==\s)-?\d+(?=\s*:\s*i\d+)", text))
        if ms:
            m = rng.choice(ms)
            text = text[:m.start()] + rng.choice(
                ["0", "-1", "50", "16", "2147483647", "-2147483648"]) + text[m.end():]
        return text, "integer attribute"
    if how == 2:  # a float literal
        ms = list(re.finditer(r"-?\d+\.\d+(e[-+]?\d+)?", text))
        if ms:
            m = rng.choice(ms)
            text = text[:m.start()] + rng.choice(
                ["0x7FF8000000000000", "0x7FF0000000000000", "-0.0", "1e308",
                 "0.0"]) + text[m.end():]
        return text, "float literal"
    lines = text.split("\n")
    if how == 3:
        i = rng.randrange(len(lines))
        if rng.randrange(2):
            del lines[i]
        else:
            lines.insert(i, lines[rng.randrange(len(lines))])
        return "\n".join(lines), "line edit"
    if how == 4:  # deep nesting, within what the parser takes
        depth = rng.choice([16, 64, 200])
        i = rng.randrange(len(lines))
        lines.insert(i, "  %n = arith.constant dense<" + "[" * depth + "1.0" +
                     "]" * depth + "> : tensor<" + "1x" * depth + "f64>")
        return "\n".join(lines), "nesting"
    if how == 5:
        return text[:rng.randrange(len(text) + 1)], "truncated"
    b = bytearray(text.encode())
    for _ in range(rng.randint(1, 4)):
        b[rng.randrange(len(b))] = rng.randrange(32, 127)
    return b.decode("latin-1"), "byte edits"


# ------------------------------------------------------------ kan-train argv

OPTIONS = {
    "--widths": ["8,6,3", "8,3", "8,1,3", "8,6,6,3", "8,0,3", "8", "x", "8,6,3,"],
    "--grid": ["1", "5", "0", "-1", "64"],
    "--order": ["0", "1", "3", "15", "16"],
    "--dtype": ["f32", "f64", "f16"],
    "--rule": ["ternary", "fg", "activity", "x"],
    "--dist": ["sparse", "normal", "rademacher", "x", ""],
    "--directions": ["1", "2", "0", "-1", "1048577"],
    "--density": ["0.5", "1", "0", "-1", "2", "nan", "1e-300"],
    "--lr": ["0.1", "0", "-1", "nan", "inf", "1e308"],
    "--lr-schedule": ["cosine", "linear", "constant", "step"],
    "--lr-final": ["0.5", "1", "0", "2", "nan"],
    "--lr-schedule-steps": ["0", "1", "-1", "5"],
    "--batch": ["1", "8", "0", "-1", "100000"],
    "--seed": ["0", "1", "18446744073709551615", "-1"],
    "--init-seed": ["0", "7", "-1"],
    "--steps": ["1", "3", "0", "-5"],
    "--time-budget": ["5", "0.01", "-5", "nan", "inf"],
    "--eval-every": ["0", "1", "-1"],
    "--checkpoint-every": ["0", "1", "-1"],
    "--threads": ["1", "2", "0", "-1", "64", "100000"],
    "--validation": ["0", "1", "7", "-1", "1000000"],
    "--select": ["best", "last", "x"],
    "--average": ["0", "0.5", "0.999", "1", "-0.1", "nan"],
    "--local-losses": ["true", "false", "x"],
    "--patience": ["0", "1", "3", "-1", "x"],
}


def train_argv(rng, csv):
    args = {"--train-csv": csv, "--widths": "8,6,3", "--steps": "3",
            "--time-budget": "20", "--batch": "8", "--directions": "8"}
    for k in rng.sample(sorted(OPTIONS), rng.randint(1, 4)):
        args[k] = rng.choice(OPTIONS[k])
    argv = ["kan-train"]
    for k, v in args.items():
        argv.append(k + "=" + v)
    return argv


# ----------------------------------------------------------------- fuzz loop

def fuzz(a):
    rng = random.Random(a.seed)
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    inputs = os.path.join(src, "test", "tools", "Inputs")
    out = os.path.abspath(a.out)
    work = os.path.join(out, "work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.makedirs(os.path.join(out, "findings"), exist_ok=True)
    csv = os.path.join(work, "train.csv")
    shutil.copy(os.path.join(inputs, "blobs_train.csv"), csv)
    # Seeds: a trained checkpoint and its log, the model as MLIR.
    # (noise_step: its log replays from seeds and scalars, without the data)
    st, err = run(a.bin, ["kan-train", "--rule=ternary", "--train-csv=" + csv,
                          "--widths=8,6,3",
                          "--steps=4", "--batch=8", "--directions=8",
                          "--work-dir=" + work, "--checkpoint=seed.safetensors"],
                  work)
    st2, err2 = run(a.bin, ["kan-import", "seed.safetensors", "-o", "seed.mlir"], work)
    if st != 0 or st2 != 0:
        sys.exit("fuzz-tools: cannot make the seeds:\n" + err + err2)
    seeds = {n: open(os.path.join(work, n), "rb").read()
             for n in ("seed.safetensors", "seed.replay", "seed.mlir")}
    init = "seed.replay.init.safetensors"

    stats, findings = {}, 0
    end = time.time() + a.seconds
    n = 0
    while time.time() < end:
        n += 1
        family = rng.choice(["opt", "train", "resume", "replay"])
        case_dir = os.path.join(work, "case")
        shutil.rmtree(case_dir, ignore_errors=True)
        os.makedirs(case_dir)
        shutil.copy(csv, case_dir)
        shutil.copy(os.path.join(work, init), case_dir)
        files = {}
        if family == "opt":
            text, what = mutate_mlir(rng, seeds["seed.mlir"].decode())
            files["in.mlir"] = text.encode("latin-1", "replace")
            argv = ["kan-opt", "{corpus}/in.mlir"]
            if rng.randrange(3):
                argv.append("--kan-compile-cpu")
            argv += ["-o", "{tmp}/out.mlir"]
        elif family == "train":
            argv, what = train_argv(rng, "{corpus}/train.csv"), "options"
            argv += ["--work-dir={tmp}"]
        elif family == "resume":
            data, what = mutate_checkpoint(rng, seeds["seed.safetensors"])
            files["ck.safetensors"] = data
            argv = ["kan-train", "--train-csv={corpus}/train.csv",
                    "--resume={corpus}/ck.safetensors", "--steps=6",
                    "--work-dir={tmp}", "--checkpoint={tmp}/out.safetensors"]
        else:
            data, what = mutate_log(rng, seeds["seed.replay"])
            files["log.replay"] = data
            argv = ["kan-train", "--replay={corpus}/log.replay",
                    "--checkpoint-in={corpus}/" + init,
                    "--output={tmp}/out.safetensors"]
        for name, data in files.items():
            with open(os.path.join(case_dir, name), "wb") as f:
                f.write(data)
        tmp = os.path.join(case_dir, "tmp")
        os.makedirs(tmp)
        real = [x.replace("{corpus}", case_dir).replace("{tmp}", tmp) for x in argv]
        status, err = run(a.bin, real, case_dir, timeout=a.timeout)
        key = family + ":" + str(status)
        stats[key] = stats.get(key, 0) + 1
        if status == "timeout" or (isinstance(status, int) and status < 0):
            findings += 1
            dest = os.path.join(out, "findings", "%s-%d" % (family, n))
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(case_dir, dest, ignore=shutil.ignore_patterns("tmp", ".cache"))
            case = {"name": "%s-%d" % (family, n), "what": what, "argv": argv,
                    "exit": 1, "stderr": "error", "found": str(status),
                    "found_stderr": err[-2000:]}
            with open(os.path.join(dest, "case.json"), "w") as f:
                json.dump(case, f, indent=1)
            print("finding: %s %s (%s): %s" % (family, status, what, " ".join(argv)))
    print("fuzz-tools: %d runs in %d s, %d findings" % (n, a.seconds, findings))
    for k in sorted(stats):
        print("  %-16s %d" % (k, stats[k]))
    return 1 if findings else 0


def replay(a):
    corpus = os.path.abspath(a.corpus)
    with open(os.path.join(corpus, "cases.json")) as f:
        cases = json.load(f)
    failed = 0
    base = os.path.abspath(a.tmp)
    shutil.rmtree(base, ignore_errors=True)
    for c in cases:
        work = os.path.join(base, c["name"])
        shutil.copytree(corpus, work)
        tmp = os.path.join(work, "tmp")
        os.makedirs(tmp)
        argv = [x.replace("{corpus}", work).replace("{tmp}", tmp) for x in c["argv"]]
        status, err = run(a.bin, argv, work)
        problem = None
        if status == "timeout":
            problem = "did not finish in %d s" % TIMEOUT
        elif status < 0:
            problem = "died by signal %d" % -status
        elif status != c["exit"]:
            problem = "exit %d, expected %d" % (status, c["exit"])
        elif c.get("stderr", "") not in err:
            problem = "stderr lacks %r" % c["stderr"]
        if problem:
            failed += 1
            print("FAIL %s: %s\n  %s\n  %s" % (c["name"], problem, " ".join(argv),
                                             err.strip().replace("\n", "\n  ")))
        else:
            print("ok   %s" % c["name"])
    print("%d of %d cases as expected" % (len(cases) - failed, len(cases)))
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fuzz")
    f.add_argument("--bin", required=True)
    f.add_argument("--seconds", type=int, default=120)
    f.add_argument("--timeout", type=int, default=30)
    f.add_argument("--seed", type=int, default=int(time.time()))
    f.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "kan-fuzz-tools"))
    r = sub.add_parser("replay")
    r.add_argument("--bin", required=True)
    r.add_argument("--corpus", required=True)
    r.add_argument("--tmp", required=True)
    a = p.parse_args()
    a.bin = os.path.abspath(a.bin)
    sys.exit(fuzz(a) if a.cmd == "fuzz" else replay(a))


if __name__ == "__main__":
    main()
