#!/usr/bin/env python3
"""Runs the hello-world sequence of README.md (train, prune, train, fix the
edges, train, formula) on several data sets and prints one JSON line per
data set, then a summary line.

  sweep_hello.py WORK_DIR [--seeds 0,1,2,3,4] [--samples 300,1000]
                 [--jobs 2] [--bin DIR] [--set STEP=ARGS ...]
  sweep_hello.py - --check-docs README.md ../../test/examples/symbolic-hello.test

Every data set is `make_data.py hello WORK_DIR/data-S-N --train N --test 300
--seed S`; the formula is measured by check_formula.py on 2,000 fresh
points. A line holds the seed, the sample count, the widths after pruning,
the edges' functions, whether the formula has sin and exp, its RMSE relative
to std(f), whether that is below 1 %, the seconds taken and the formula.
--set STEP=ARGS replaces the extra options of one step (train, prune,
sparse2, prune2, tune, fix, final, formula; sparse2=- leaves out the second
regularised round and its pruning) to try other settings; without it the
run is the documented sequence. The tools are taken from --bin (default: build/bin of this
checkout) and PATH. --check-docs runs nothing: it checks that the files
(README code blocks, lit RUN lines) give every command of the sequence as
written (with data in `data`, checkpoints in `run`).
"""
import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import time

PYTHON = sys.executable
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The extra options of each step of the documented sequence (README.md).
STEPS = {
    "train": "--widths 2,5,1 --steps 300 --reg-metric std-ratio --lamb 0.002 --lamb-entropy 2",
    "prune": "--importance attribution",
    "sparse2": "--steps 600 --reg-metric std-ratio --lamb 0.005 --lamb-entropy 2",
    "prune2": "--importance attribution --threshold 0.05",
    "tune": "--steps 1400",
    "fix": "--refine 0 --lib x,x^2,x^3,x^4,exp,log,sqrt,tanh,sin,abs",
    "final": "--steps 1800",
    "formula": "--refine 0",
}


def run(cmd, log):
    log.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
    log.flush()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    log.write(p.stderr + p.stdout)
    if p.returncode:
        raise RuntimeError("%s failed (exit %d), see %s" % (cmd[0], p.returncode, log.name))
    return p.stdout, p.stderr


def sequence(d, r, n, seed, steps, tool=lambda t: t, py="python3", here=HERE):
    """The commands of the sequence: (step, argv), data in d, checkpoints in r."""
    train = os.path.join(d, "hello.train.csv")
    test = os.path.join(d, "hello.test.csv")
    ck = lambda name: os.path.join(r, name + ".safetensors")
    reg = lambda *a: [tool("kan-train"), "--task", "regression", "--train-csv", train] + list(a)
    out = lambda name: ["--work-dir", r, "--checkpoint", ck(name)]
    seq = [("data", [py, os.path.join(here, "make_data.py"), "hello", d, "--train", str(n),
                     "--test", "300"] + (["--seed", str(seed)] if seed else [])),
           ("train", reg(*shlex.split(steps["train"])) + out("sparse")),
           ("prune", [tool("kan-prune"), ck("sparse"), "--data", train] +
            shlex.split(steps["prune"]) + ["-o", ck("pruned")])]
    pruned = ck("pruned")
    if steps["sparse2"] != "-":
        seq += [("sparse2", reg("--resume", pruned, *shlex.split(steps["sparse2"])) + out("sparse2")),
                ("prune2", [tool("kan-prune"), ck("sparse2"), "--data", train] +
                 shlex.split(steps["prune2"]) + ["-o", ck("pruned2")])]
        pruned = ck("pruned2")
    seq += [("tune", reg("--test-csv", test, "--resume", pruned, *shlex.split(steps["tune"])) +
             out("fine")),
            ("fix", [tool("kan-symbolic"), ck("fine"), "--data", train, "--suggest"] +
             shlex.split(steps["fix"]) + ["--fix-into", ck("symbolic")]),
            ("final", reg("--resume", ck("symbolic"), *shlex.split(steps["final"])) + out("tuned")),
            ("formula", [tool("kan-symbolic"), ck("tuned"), "--data", train] +
             shlex.split(steps["formula"]))]
    return seq


def one(work, seed, n, steps):
    d = os.path.join(work, "data-%d-%d" % (seed, n))
    r = os.path.join(work, "run-%d-%d" % (seed, n))
    os.makedirs(r, exist_ok=True)
    row = {"seed": seed, "samples": n}
    t0 = time.time()
    with open(os.path.join(r, "log.txt"), "w") as log:
        try:
            for step, argv in sequence(d, r, n, seed, steps, py=PYTHON):
                out, err = run(argv, log)
                if step in ("prune", "prune2"):
                    m = re.search(r'"widths":"([0-9,]+)"', out)
                    row["widths"] = m.group(1) if m else None
                elif step == "fix":
                    row["edges"] = dict(re.findall(r"^(edge \(\d+,\d+,\d+\)): (\S+), r2",
                                                   err, re.M))
            formula = out.splitlines()[-1]
            ftxt = os.path.join(r, "formula.txt")
            with open(ftxt, "w") as f:
                f.write(formula + "\n")
            row["formula"] = formula
            out, _ = run([PYTHON, os.path.join(HERE, "check_formula.py"), "hello", ftxt], log)
            m = re.search(r"relative to std\(f\) (\S+)", out)
            row["relative_rmse"] = float(m.group(1)) if m else None
            parsed = re.search(r"^parsed: (.*)$", out, re.M).group(1)
            row["sin"] = "sin(" in parsed
            row["exp"] = "exp(" in parsed
        except Exception as e:  # one failing data set is a row, not the end
            row["error"] = str(e)
    row["seconds"] = round(time.time() - t0, 1)
    rel = row.get("relative_rmse")
    row["pass"] = bool(row.get("sin") and row.get("exp") and rel is not None and rel < 0.01)
    return row


def documented_commands(path):
    """The commands of a README's sh blocks or a lit test's RUN lines, one
    string each: continuation lines joined, comments, redirections and pipes
    dropped, lit's %python and %kan_src_root/examples/symbolic/ removed."""
    text = open(path).read()
    if path.endswith(".test"):
        lines = [l.split("RUN:", 1)[1] for l in text.splitlines() if "RUN:" in l]
    else:
        lines = [l for block in re.findall(r"```sh\n(.*?)```", text, re.S)
                 for l in block.splitlines()]
    cmds, cur = [], ""
    for l in lines:
        l = re.sub(r"(^|\s)#.*$", "", l).rstrip()
        if l.endswith("\\"):
            cur += l[:-1] + " "
            continue
        cur += l
        for c in re.split(r"&&|\|", cur):
            c = re.sub(r"\s*\d?>\s*\S+", "", c)
            c = c.replace("%python", "python3").replace("%kan_src_root/examples/symbolic/", "")
            c = " ".join(c.split())
            if c:
                cmds.append(c)
        cur = ""
    return cmds


def check_docs(paths, steps):
    """Whether every command of the sequence (data in `data`, run in `run`,
    seed 0, 300 samples) is in each of `paths` as written."""
    seq = [" ".join(argv) for _, argv in sequence("data", "run", 300, 0, steps, here="")]
    seq[0] = seq[0].replace("/make_data.py", "make_data.py")
    ok = True
    for p in paths:
        have = documented_commands(p)
        for c in seq:
            if c not in have:
                print("%s: the sequence's command is missing: %s" % (p, c))
                ok = False
    if ok:
        print("the %d commands of the sequence are in %s" % (len(seq), ", ".join(paths)))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work_dir")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--samples", default="300,1000")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--set", action="append", default=[], metavar="STEP=ARGS")
    ap.add_argument("--check-docs", nargs="+", metavar="FILE",
                    help="check that README/test FILEs give the sequence's commands, run nothing")
    a = ap.parse_args()
    steps = dict(STEPS)
    for s in a.set:
        k, _, v = s.partition("=")
        if k not in steps:
            ap.error("--set %s: the steps are %s" % (s, ", ".join(steps)))
        steps[k] = v
    if a.check_docs:
        return 0 if check_docs(a.check_docs, steps) else 1
    os.environ["PATH"] = os.path.abspath(a.bin) + os.pathsep + os.environ.get("PATH", "")
    try:
        seeds = [int(s) for s in a.seeds.split(",")]
        samples = [int(s) for s in a.samples.split(",")]
    except ValueError:
        ap.error("--seeds and --samples take comma-separated integers")
    print(json.dumps({"steps": steps}), flush=True)
    jobs = [(s, n) for n in samples for s in seeds]
    rows = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        for row in ex.map(lambda j: one(a.work_dir, j[0], j[1], steps), jobs):
            print(json.dumps(row), flush=True)
            rows.append(row)
    rels = [r["relative_rmse"] for r in rows if r.get("relative_rmse") is not None]
    print(json.dumps({"data_sets": len(rows), "passed": sum(r["pass"] for r in rows),
                      "worst_relative_rmse": max(rels) if rels else None}), flush=True)
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
