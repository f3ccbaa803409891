#!/usr/bin/env python3
"""Data sets of the symbolic-regression examples: CSV files whose last
column is the target, inputs uniform on the ranges below.

  make_data.py NAME OUT_DIR [--train N] [--test N] [--seed S]

NAME is `hello` (pykan's f(x, y) = exp(sin(pi x) + y^2) on [-1, 1]^2) or one
of the AI Feynman equations (Udrescu & Tegmark, "AI Feynman: a
physics-inspired method for symbolic regression", Sci. Adv. 2020; the
equation numbers of the Feynman Lectures used by its benchmark table):

  I.6.2a   f = exp(-theta^2 / 2) / sqrt(2 pi),          theta in [1, 3]
  I.12.1   F = mu * N_n,                                 mu, N_n in [1, 5]
  I.14.4   U = k_spring * x^2 / 2,                       k, x in [1, 5]
  II.38.14 mu_S = Y / (2 (1 + sigma)),                   Y, sigma in [1, 5]

Writes OUT_DIR/NAME.train.csv and OUT_DIR/NAME.test.csv (no header).
"""
import argparse
import math
import os
import random

EQUATIONS = {
    "hello": ([(-1, 1), (-1, 1)],
              lambda x, y: math.exp(math.sin(math.pi * x) + y * y)),
    "I.6.2a": ([(1, 3)],
               lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi)),
    "I.12.1": ([(1, 5), (1, 5)], lambda mu, n: mu * n),
    "I.14.4": ([(1, 5), (1, 5)], lambda k, x: k * x * x / 2),
    "II.38.14": ([(1, 5), (1, 5)], lambda y, s: y / (2 * (1 + s))),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=sorted(EQUATIONS))
    ap.add_argument("out_dir")
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    ranges, f = EQUATIONS[a.name]
    os.makedirs(a.out_dir, exist_ok=True)
    for part, n, seed in (("train", a.train, a.seed), ("test", a.test, a.seed + 1)):
        rng = random.Random(seed)
        path = os.path.join(a.out_dir, "%s.%s.csv" % (a.name, part))
        with open(path, "w") as out:
            for _ in range(n):
                x = [rng.uniform(lo, hi) for lo, hi in ranges]
                out.write(",".join(repr(v) for v in x + [f(*x)]) + "\n")


if __name__ == "__main__":
    main()
