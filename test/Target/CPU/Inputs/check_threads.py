"""Compares two outputs of check_threads.c: the same lines, every value
within --rtol of the other (relative to max(1, |value|)). Prints
"PASS max_rel_err E same_bits S/T" or the first mismatch."""
import argparse
import sys

p = argparse.ArgumentParser()
p.add_argument("a")
p.add_argument("b")
p.add_argument("--rtol", type=float, default=1e-12)
args = p.parse_args()
a = open(args.a).read().split("\n")
b = open(args.b).read().split("\n")
if len(a) != len(b) or len(a) < 3:
    sys.exit("FAIL: %d lines against %d" % (len(a), len(b)))
worst, same, total = 0.0, 0, 0
for i, (la, lb) in enumerate(zip(a, b)):
    if not la and not lb:
        continue
    ka, va = la.split()
    kb, vb = lb.split()
    if ka != kb:
        sys.exit("FAIL: line %d is %r against %r" % (i + 1, ka, kb))
    x, y = float.fromhex(va), float.fromhex(vb)
    total += 1
    same += va == vb
    err = abs(x - y) / max(1.0, abs(x))
    worst = max(worst, err)
    if not err <= args.rtol:
        sys.exit("FAIL: line %d (%s): %r against %r" % (i + 1, ka, x, y))
print("PASS max_rel_err %.3g same_bits %d/%d" % (worst, same, total))
