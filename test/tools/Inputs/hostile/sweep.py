#!/usr/bin/env python3
"""Runs every hostile input of the corpus through its tool.

  sweep.py --tools BIN_DIR --work DIR [--filter SUBSTR] [-v]

A case passes when its tool exits with a status of 1..127 (not by a signal,
not 128+N, not 0), within the time limit, with at most MAX_RSS_MB of resident
memory, and prints a message matching the case's pattern (which names the
problem, and the file where there is one). Prints one line per failure and a
summary; exits 1 if any case failed.

Every process runs with an address-space limit (KAN_SWEEP_AS_MB, default
4096; 0 = none, e.g. under AddressSanitizer) so that a regression that
allocates before checking fails here instead of exhausting the machine."""
import argparse
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.dirname(HERE)
GOLDEN = os.path.join(INPUTS, "..", "..", "golden")
SMALL_MLIR = os.path.join(INPUTS, "..", "..", "Target", "CPU", "Inputs",
                          "kan_small.mlir")
TIMEOUT = 60
MAX_RSS_MB = 400

CSV = "--train-csv {inputs}/blobs_train.csv --widths 8,6,3 --batch 8 --work-dir {tmp}"
RUN = "{golden}/kan_small.safetensors --input {golden}/kan_small_x.npy"
XLATE = "kan-translate --target=cpu -o {tmp}/out"

# (name, command, pattern the diagnostics must match). Names: crash-* were
# killed by a signal, hang-* never ended, accept-* exited 0, option-* are the
# range checks every numeric option has.
CASES = [
    # Sizes from outside: products, zero dimensions, int64 overflow.
    ("crash-widths-product", "kan-train --train-csv {inputs}/blobs_train.csv --widths 4,100000,100000,3 --steps 1 --work-dir {tmp}",
     r"--widths 4,100000,100000,3: the model has 100009400048 parameters, more than the limit of 268435456 \(--max-params\)"),
    ("crash-batch-activations", "kan-train --train-csv {inputs}/blobs_train.csv --widths 8,4096,3 --batch 16777216 --steps 1 --work-dir {tmp}",
     r"--batch 16777216 x width 4096 = 68719476736 activations per layer, more than the limit of 268435456 \(--max-params\)"),
    ("hang-many-layers", "kan-train --train-csv {inputs}/blobs_train.csv --widths 8" + ",2" * 40000 + ",3 --steps 1 --work-dir {tmp}",
     r"--widths: 40001 layers, more than 1024"),
    ("crash-export-huge-weights", "kan-import --export {hostile}/huge_weights.mlir -o {tmp}/x.safetensors",
     r"huge_weights\.mlir: the model has \d+ parameters, more than the limit of 268435456 \(--max-params\)"),
    ("crash-zero-dim-kan-run", "kan-run {hostile}/zero_dim.safetensors --input {golden}/kan_small_x.npy",
     r"zero_dim\.safetensors: tensor 'layers\.1\.base_weight' has shape \[16777216,0\]: a dimension is 0"),
    ("crash-zero-dim-kan-import", "kan-import {hostile}/zero_dim.safetensors -o {tmp}/x.mlir",
     r"zero_dim\.safetensors: tensor 'layers\.1\.base_weight' has shape \[16777216,0\]: a dimension is 0"),
    ("crash-zero-dim-resume", "kan-train --resume {hostile}/zero_dim.safetensors " + CSV + " --steps 1",
     r"zero_dim\.safetensors: tensor 'layers\.1\.base_weight' has shape \[16777216,0\]: a dimension is 0"),
    ("crash-width0-cpu", XLATE + " {hostile}/width0.mlir",
     r"width0\.mlir:2:\d+: error: 'kan.layer' op operand 'input' has a dimension of size 0"),
    ("crash-width0-nmquad", "kan-translate --target=nmquad -o {tmp}/out {hostile}/width0.mlir",
     r"width0\.mlir:2:\d+: error: 'kan.layer' op operand 'input' has a dimension of size 0"),
    ("crash-width0-train-step", XLATE + " --train-step {hostile}/width0.mlir",
     r"width0\.mlir:2:\d+: error: 'kan.layer' op operand 'input' has a dimension of size 0"),
    ("crash-width0-kan-opt", "kan-opt --kan-compile-cpu {hostile}/width0.mlir",
     r"width0\.mlir:2:\d+: error: 'kan.layer' op operand 'input' has a dimension of size 0"),
    ("crash-threads-kan-train", "kan-train --threads=100000 " + CSV + " --steps 1",
     r"--threads: 100000 is out of range \[1, 1024\]"),
    ("crash-threads-kan-run", "kan-run --threads=100000 " + RUN,
     r"--threads: 100000 is out of range \[1, 1024\]"),
    ("crash-nested-brackets-kan-opt", "kan-opt {big}/nested_brackets.mlir",
     r"nested_brackets\.mlir:1:\d+: nesting deeper than 256 levels \(--max-nesting\)"),
    ("crash-nested-brackets-kan-import", "kan-import --export {big}/nested_brackets.mlir -o {tmp}/x.safetensors",
     r"nested_brackets\.mlir:1:\d+: nesting deeper than 256 levels \(--max-nesting\)"),
    ("crash-nested-brackets-kan-run", "kan-run {big}/nested_brackets.mlir --input {golden}/kan_small_x.npy",
     r"nested_brackets\.mlir:1:\d+: nesting deeper than 256 levels \(--max-nesting\)"),
    ("crash-nested-brackets-kan-translate", XLATE + " {big}/nested_brackets.mlir",
     r"nested_brackets\.mlir:1:\d+: nesting deeper than 256 levels \(--max-nesting\)"),
    ("crash-nested-regions-kan-opt", "kan-opt {big}/nested_regions.mlir",
     r"nested_regions\.mlir:\d+:\d+: nesting deeper than 256 levels \(--max-nesting\)"),
    ("crash-nested-regions-kan-translate", XLATE + " {big}/nested_regions.mlir",
     r"nested_regions\.mlir:\d+:\d+: nesting deeper than 256 levels \(--max-nesting\)"),
    ("crash-nested-tuple-kan-opt", "kan-opt {big}/nested_tuple.mlir",
     r"nested_tuple\.mlir:1:\d+: nesting deeper than 256 levels \(--max-nesting\)"),
    ("crash-nested-tuple-kan-import", "kan-import --export {big}/nested_tuple.mlir -o {tmp}/x.safetensors",
     r"nested_tuple\.mlir:1:\d+: nesting deeper than 256 levels \(--max-nesting\)"),
    ("crash-dev-zero-kan-opt", "kan-opt /dev/zero",
     r"/dev/zero: not MLIR text: a NUL byte at offset 0"),
    ("crash-dev-zero-kan-translate", XLATE + " /dev/zero",
     r"/dev/zero: not MLIR text: a NUL byte at offset 0"),
    ("hang-time-budget-negative", "kan-train --time-budget -5 " + CSV,
     r"--time-budget option: -5 is out of range \[0, "),

    # Accepted with exit 0.
    ("accept-width-int64-max", XLATE + " {hostile}/width_int64max.mlir",
     r"width_int64max\.mlir:2:\d+: error: 'kan.layer' op operand 'input' has a dimension of 9223372036854775807, more than 16777216"),
    ("accept-zero-out", XLATE + " {hostile}/zero_out.mlir",
     r"zero_out\.mlir:2:\d+: error: 'kan.layer' op operand 'base_weight' has a dimension of size 0"),
    ("accept-batch0", XLATE + " {hostile}/batch0.mlir",
     r"batch0\.mlir:2:\d+: error: 'kan.layer' op operand 'input' has a dimension of size 0"),
    ("accept-order50-kan-translate", XLATE + " {hostile}/order50.mlir",
     r"order50\.mlir:2:\d+: error: .*'order'.*15"),
    ("accept-order50-kan-opt", "kan-opt {hostile}/order50.mlir",
     r"order50\.mlir:2:\d+: error: .*'order'.*15"),
    ("accept-prefix-path-escape", XLATE + " --prefix ../../escape_ " + SMALL_MLIR,
     r"--prefix option: '\.\./\.\./escape_' is not a C identifier"),
    ("accept-prefix-leading-digit", XLATE + " --prefix 1abc " + SMALL_MLIR,
     r"--prefix option: '1abc' is not a C identifier"),
    ("accept-lr-inf-kan-translate", XLATE + " --train-step --lr inf " + SMALL_MLIR,
     r"--lr option: inf is out of range \(0, "),
    ("accept-lr-inf-kan-opt-pipeline", "kan-opt " + SMALL_MLIR + " '--kan-compile-cpu=train-step=1 lr=inf'",
     r"lr.*inf is out of range \(0, "),
    ("accept-lr-inf-kan-opt-pass", "kan-opt " + SMALL_MLIR + " --kan-build-train-step=lr=inf",
     r"lr.*inf is out of range \(0, "),
    ("accept-steps-negative", "kan-train --steps -5 " + CSV,
     r"--steps option: -5 is out of range \[0, "),
    ("accept-time-budget-nan", "kan-train --time-budget nan --steps 1 " + CSV,
     r"--time-budget option: nan is out of range \[0, "),
    ("accept-checkpoint-every-negative", "kan-train --checkpoint-every -1 --steps 1 " + CSV,
     r"--checkpoint-every option: -1 is out of range \[0, "),
    ("accept-non-utf8-kan-run", "kan-run {hostile}/non_utf8_header.safetensors --input {golden}/kan_small_x.npy",
     r"non_utf8_header\.safetensors: .*not valid UTF-8"),
    ("accept-non-utf8-kan-import", "kan-import {hostile}/non_utf8_header.safetensors -o {tmp}/x.mlir",
     r"non_utf8_header\.safetensors: .*not valid UTF-8"),
    ("accept-overlong-utf8-kan-import", "kan-import {hostile}/overlong_utf8_header.safetensors -o {tmp}/x.mlir",
     r"overlong_utf8_header\.safetensors: .*not valid UTF-8"),
    ("accept-unknown-tensor-kan-import", "kan-import {hostile}/unknown_tensor.safetensors -o {tmp}/x.mlir",
     r"unknown_tensor\.safetensors: tensor 'layers\.0\.bias' is not a parameter of an efficient-kan model with these layers \(--ignore-unknown-tensors to drop it\)"),
    ("accept-metadata-lr-inf-resume", "kan-train --resume {hostile}/metadata_lr_inf.safetensors --train-csv {inputs}/blobs_train.csv --steps 6 --work-dir {tmp}",
     r"metadata_lr_inf\.safetensors: metadata 'lr': inf is out of range \(0, inf\)"),
    ("accept-gzip-bomb", "kan-train --train-images {big}/bomb-images-idx3-ubyte.gz --train-labels {hostile}/bomb-labels-idx1-ubyte --widths 16,4,3 --steps 1 --work-dir {tmp}",
     r"bomb-images-idx3-ubyte\.gz: more data than the header's 4x4x4 elements"),

    # Every numeric option is range-checked when parsed.
    ("option-lr-negative", "kan-train --lr -1 --steps 1 " + CSV, r"--lr option: -1 is out of range \(0, "),
    ("option-lr-nan", "kan-train --lr nan --steps 1 " + CSV, r"--lr option: nan is out of range \(0, "),
    ("option-density-zero", "kan-train --density 0 --steps 1 " + CSV, r"--density option: 0 is out of range \(0, 1\]"),
    ("option-density-big", "kan-train --density 1.5 --steps 1 " + CSV, r"--density option: 1.5 is out of range \(0, 1\]"),
    ("option-grid-zero", "kan-train --grid 0 --steps 1 " + CSV, r"--grid option: 0 is out of range \[1, 4096\]"),
    ("option-order-16", "kan-train --order 16 --steps 1 " + CSV, r"--order option: 16 is out of range \[0, 15\]"),
    ("option-batch-zero", "kan-train --batch 0 --steps 1 " + CSV, r"--batch option: 0 is out of range \[1, "),
    ("option-directions-zero", "kan-train -n 0 --steps 1 " + CSV, r"--directions option: 0 is out of range \[1, 1048576\]"),
    ("option-eval-every-negative", "kan-train --eval-every -1 --steps 1 " + CSV, r"--eval-every option: -1 is out of range \[0, "),
    ("option-lr-final-inf", "kan-train --lr-final inf --steps 1 " + CSV, r"--lr-final option: inf is out of range \(0, 1\]"),
    ("option-lr-schedule-steps-negative", "kan-train --lr-schedule-steps -1 --steps 1 " + CSV, r"--lr-schedule-steps option: -1 is out of range \[0, "),
    ("option-max-params-zero", "kan-train --max-params 0 --steps 1 " + CSV, r"--max-params option: 0 is out of range \[1, "),
    ("option-threads-zero", "kan-train --threads 0 --steps 1 " + CSV, r"--threads: 0 is out of range \[1, 1024\]"),
    ("option-rtol-negative", "kan-run --rtol -1 " + RUN, r"--rtol option: -1 is out of range \[0, "),
    ("option-atol-nan", "kan-run --atol nan " + RUN, r"--atol option: nan is out of range \[0, "),
    ("option-translate-n-zero", XLATE + " --train-step -n 0 " + SMALL_MLIR, r"-n option: 0 is out of range \[1, 1048576\]"),
    ("option-translate-density-nan", XLATE + " --train-step --density nan " + SMALL_MLIR, r"--density option: nan is out of range \(0, 1\]"),
    ("option-translate-tile-rows-zero", XLATE + " --tile-rows 0 " + SMALL_MLIR, r"--tile-rows option: 0 is out of range \[1, "),
    ("option-opt-pipeline-n-zero", "kan-opt " + SMALL_MLIR + " '--kan-compile-cpu=train-step=1 n=0'", r"n.*0 is out of range \[1, 1048576\]"),
    ("option-opt-jvp-width-zero", "kan-opt " + SMALL_MLIR + " --kan-jvp=width=0", r"width.*0 is out of range \[1, 1048576\]"),
    ("option-nmc-sim-gemm-huge", "nmc-sim {big}/tile.s --call _kan_nmc_gemm_tile_f64_24x32 --gemm 1000000,1000000,1000000",
     r"--gemm sizes must be positive and each matrix must fit one 64 KB bank"),
    ("option-nmc-sim-gemm-negative", "nmc-sim {big}/tile.s --call _kan_nmc_gemm_tile_f64_24x32 --gemm 24,32,-256",
     r"--gemm sizes must be positive"),
    ("option-opt-tile-rows-zero", "kan-opt " + SMALL_MLIR + " --kan-compile-cpu=tile-rows=0", r"tile-rows.*0 is out of range \[1, "),
    ("option-regression-targets-zero", "kan-train --task regression --targets 0 --train-csv {inputs}/blobs_train.csv --widths 8,6,3 --steps 1 --work-dir {tmp}",
     r"--targets option: 0 is out of range \[1, inf\)"),
    ("option-regression-lamb-nan", "kan-train --task regression --lamb nan " + CSV + " --steps 1",
     r"--lamb option: .*nan.* is out of range"),
    ("option-regression-grid-eps-two", "kan-train --task regression --grid-eps 2 " + CSV + " --steps 1",
     r"--grid-eps option: 2 is out of range \[0, 1\]"),
    ("option-symbolic-top-negative", "kan-symbolic {golden}/kan_small.safetensors --top -1",
     r"--top option: -1 is out of range \[1, inf\)"),
    ("option-symbolic-weight-simple-inf", "kan-symbolic {golden}/kan_small.safetensors --weight-simple inf",
     r"--weight-simple option: inf is out of range \[0, 1\]"),
    ("option-prune-threshold-negative", "kan-prune {golden}/kan_small.safetensors --threshold -1 -o {tmp}/p.safetensors",
     r"--threshold option: -1 is out of range \[0, inf\)"),
    ("option-plot-curves-width-zero", "kan-plot curves --width 0 {tmp}/none.jsonl -o {tmp}/c.svg",
     r"--width option: 0 is out of range \[1, inf\)"),
]


def limit_memory():
    mb = int(os.environ.get("KAN_SWEEP_AS_MB", "4096"))
    if mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
    os.setsid()  # its own process group, so a hang is killed with children


def run_case(name, command, pattern, subst, tools, verbose):
    tmp = os.path.join(subst["work"], name)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    argv = [a.format(tmp=tmp, **subst) for a in shlex.split(command)]
    argv[0] = os.path.join(tools, argv[0])
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(subst["work"], "cache"))
    start = time.time()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env, cwd=tmp,
                         preexec_fn=limit_memory)
    verdict = None
    try:
        out, _ = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        verdict = "hang"
    # ru_maxrss of this child alone.
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    text = out.decode("utf-8", "replace")
    rc = p.returncode
    if verdict:
        pass
    elif rc < 0 or rc >= 128:
        verdict = "signal %s" % (signal.Signals(-rc if rc < 0 else rc - 128).name
                                 if 0 < abs(rc if rc < 0 else rc - 128) < 65 else rc)
    elif rc == 0:
        verdict = "accepted"
    elif rss_mb > MAX_RSS_MB:
        verdict = "memory %d MB" % rss_mb
    elif not re.search(pattern, text):
        verdict = "message"
    if verbose or verdict:
        print("%-40s %-10s %5.1fs %5d MB  %s" % (
            name, verdict or "ok", time.time() - start, rss_mb,
            " ".join((os.path.basename(a) if os.path.isabs(a) else a)[:60]
                     for a in argv)))
        if verdict:
            lines = text.strip().splitlines()
            for line in lines[:3] + (["..."] if len(lines) > 6 else []) + lines[max(3, len(lines) - 3):]:
                print("    | " + line[:200])
    return verdict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--filter", default="")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    big = os.path.join(args.work, "big")
    subprocess.check_call([sys.executable, os.path.join(HERE, "make_hostile.py"), "--big", big])
    # A valid NMC tile kernel for nmc-sim's --gemm cases.
    with open(os.path.join(big, "tile.s"), "w") as f:
        subprocess.check_call([os.path.join(args.tools, "nmc-sim"), "--emit", "f64", "--m", "24"], stdout=f)
    subst = {"hostile": HERE, "inputs": INPUTS, "golden": os.path.normpath(GOLDEN),
             "big": big, "work": os.path.abspath(args.work)}
    counts = {}
    cases = [c for c in CASES if args.filter in c[0]]
    # RUSAGE_CHILDREN is a maximum over all children: run each case from a
    # fresh forked sweeper so that its figure is its own.
    for name, command, pattern in cases:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            v = run_case(name, command, pattern, subst, os.path.abspath(args.tools), args.v)
            sys.stdout.flush()
            os.write(w, (v or "ok").encode())
            os._exit(0)
        os.close(w)
        with os.fdopen(r) as f:
            v = f.read() or "sweeper died"
        os.waitpid(pid, 0)
        kind = v.split()[0]
        counts[kind] = counts.get(kind, 0) + 1
    bad = len(cases) - counts.get("ok", 0)
    print("%d cases: %d signals, %d hangs, %d wrong accepts, %d wrong messages, "
          "%d over %d MB; %d failed" % (
              len(cases), counts.get("signal", 0), counts.get("hang", 0),
              counts.get("accepted", 0), counts.get("message", 0),
              counts.get("memory", 0), MAX_RSS_MB, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
