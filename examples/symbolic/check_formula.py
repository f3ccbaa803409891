#!/usr/bin/env python3
"""Checks a formula printed by `kan-symbolic --format sympy` against the
equation it was learnt from, on fresh points.

  check_formula.py NAME FORMULA_FILE [--points N] [--seed S]
                   [--require sin,exp] [--max-relative-rmse 0.01]
                   [--write-npy PREFIX]

Reads the formula from the last line of FORMULA_FILE, parses it with SymPy
(inputs x1, x2, ...), evaluates it at N fresh uniform points of the
equation's input ranges (make_data.py) and prints the RMSE against the true
function relative to the function's standard deviation. Fails (exit 1) when
a required function is missing or the relative RMSE exceeds the bound.
With --write-npy, writes PREFIX.x.npy (the points) and PREFIX.y.npy (the
printed formula's values, float64) for `kan-run FORMULA.mlir --compare`.
"""
import argparse
import math
import os
import random
import sys

import numpy as np
import sympy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_data import EQUATIONS  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=sorted(EQUATIONS))
    ap.add_argument("formula_file")
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--require", default="")
    ap.add_argument("--max-relative-rmse", type=float, default=None)
    ap.add_argument("--write-npy", default=None)
    a = ap.parse_args()
    ranges, f = EQUATIONS[a.name]
    lines = [l for l in open(a.formula_file).read().splitlines() if l.strip()]
    if not lines:
        sys.exit("%s: no formula" % a.formula_file)
    text = lines[-1]
    xs = sympy.symbols(" ".join("x%d" % (i + 1) for i in range(len(ranges))))
    xs = xs if isinstance(xs, tuple) else (xs,)
    expr = sympy.parse_expr(text, local_dict={s.name: s for s in xs})
    print("parsed:", expr)
    names = {type(n).__name__.lower() for n in sympy.preorder_traversal(expr)}
    for req in filter(None, a.require.split(",")):
        if req.lower() not in names:
            sys.exit("the formula has no %s: %s" % (req, text))
    rng = random.Random(a.seed)
    pts = np.array([[rng.uniform(lo, hi) for lo, hi in ranges]
                    for _ in range(a.points)], dtype=np.float64)
    fn = sympy.lambdify(xs, expr, modules="numpy")
    got = np.broadcast_to(np.asarray(fn(*pts.T), dtype=np.float64), (a.points,))
    true = np.array([f(*p) for p in pts])
    rmse = math.sqrt(float(np.mean((got - true) ** 2)))
    rel = rmse / float(np.std(true))
    print("fresh points: %d, RMSE %.3e, relative to std(f) %.3e" % (a.points, rmse, rel))
    if a.write_npy:
        np.save(a.write_npy + ".x.npy", pts)
        np.save(a.write_npy + ".y.npy", got.reshape(-1, 1).astype(np.float64))
    if a.max_relative_rmse is not None and not rel < a.max_relative_rmse:
        sys.exit("relative RMSE %.3e is not below %g" % (rel, a.max_relative_rmse))


if __name__ == "__main__":
    main()
