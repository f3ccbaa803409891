"""ternary_margin.py BOARD.replay CPU.replay TOL: why a board run's weights
equal the CPU's under the ternary rule although its JVP scalars do not.

The chips sum each scalar in another order than the CPU kernels, so the
scalars of the two logs agree only to rounding. The ternary rule keeps
sign(a_i) where |a_i| reaches the lower median of |a| and the update adds
+-lr at drawn positions, so the weights are equal when every decision is:
when no |a_i| lies within rounding of 0 and the median's neighbours in
sorted order are farther apart than that. This prints, over all records,
the largest relative difference of the scalars, the steps whose decisions
(and lr_scale) agree, and the smallest such margin relative to max |a|; PASS
needs the difference below TOL, every decision equal, and the margin a
thousand times the difference.
"""
import struct
import sys


def records(path):
    b = open(path, "rb").read()
    assert b[:8] == b"KANRPLAY", path
    version, kind, dist, ndir = struct.unpack_from("<4I", b, 8)
    assert version == 3 and kind == 1, (path, version, kind)
    pos = 8 + 16 + 8 + 8 + 8
    (nparams,) = struct.unpack_from("<I", b, pos)
    pos += 4
    (plen,) = struct.unpack_from("<I", b, pos)
    pos += 4 + plen
    for _ in range(nparams):
        (nlen,) = struct.unpack_from("<I", b, pos)
        pos += 4 + nlen + 4 + 4 + 8
    pos += 4 + 32 + 4 + 4
    size = 4 + 4 + 8 + 8 * ndir + 4
    out = []
    while pos + size <= len(b):
        step, scale = struct.unpack_from("<Id", b, pos + 4)
        out.append((step, scale, struct.unpack_from("<%dd" % ndir, b, pos + 16)))
        pos += size
    return out


def ternary(a):
    m = sorted(abs(x) for x in a)
    med = m[(len(a) - 1) // 2]
    return [(x > 0) - (x < 0) if abs(x) >= med else 0 for x in a], m


board, cpu = records(sys.argv[1]), records(sys.argv[2])
tol = float(sys.argv[3])
assert len(board) == len(cpu) and board, (len(board), len(cpu))
diff, margin, same = 0.0, float("inf"), 0
for (sb, lb, a), (sc, lc, c) in zip(board, cpu):
    big = max(abs(x) for x in c)
    diff = max(diff, max(abs(x - y) for x, y in zip(a, c)) / big)
    ta, m = ternary(a)
    tc, _ = ternary(c)
    same += sb == sc and lb == lc and ta == tc
    k = (len(a) - 1) // 2
    gaps = [m[k] - m[k - 1] if k > 0 else big, m[k + 1] - m[k], min(m)]
    margin = min(margin, min(gaps) / big)
ok = diff < tol and same == len(cpu) and margin > 1000 * diff
print("steps %d: scalars differ by %.1e at most, decisions equal in %d, "
      "smallest margin %.1e %s" % (len(cpu), diff, same, margin,
                                   "PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
