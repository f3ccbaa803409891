"""Steps/s of kan-train on P ranks, modelled from one-process measurements
(bench/mpi/scaling.sh) and an assumed network.

Per step, with n directions, batch B, per-rank block m bytes:
  directions: t = a + j * n / P + u * n + allgather(P, 8 * (3 + n / P))
  data:       t = c + r * B / P + allgather(P, 8 * (3 + n))
where a = the fixed part of a step (forward of the batch, packing; measured
as the intercept over n), j = one direction's JVP (slope over n less the
update's share u), u = the update per direction (a replay: every rank
applies all n), c = the part that does not shrink with the rows (the
update, the fixed overhead), r = the cost per batch row (slope over B).
allgather(P, m) = alpha * ceil(log2 P) + (P - 1) * m / beta (recursive
doubling for the latency, every block received once).
Usage: model.py a_ms j_ms u_ms c_ms r_ms [alpha_us beta_GBps]"""
import math
import sys

a, j, u, c, r = (float(v) / 1e3 for v in sys.argv[1:6])
alpha = float(sys.argv[6]) * 1e-6 if len(sys.argv) > 6 else 2e-6
beta = float(sys.argv[7]) * 1e9 if len(sys.argv) > 7 else 12.5e9


def allgather(p, m):
    return 0.0 if p == 1 else alpha * math.ceil(math.log2(p)) + (p - 1) * m / beta


print("| P | n | B | directions: steps/s | exchange | data: steps/s | exchange |")
print("|---|---|---|---|---|---|---|")
for p, n, b in [(1, 128, 128), (8, 128, 128), (32, 128, 128), (128, 128, 128),
                (256, 1024, 1024), (1024, 1024, 1024)]:
    td_ex = allgather(p, 8 * (3 + n / p))
    td = a + j * n / p + u * n + td_ex
    tb_ex = allgather(p, 8 * (3 + n))
    tb = c + r * b / p + tb_ex
    # At n, B = 1024 the fixed part and the row cost grow with B and the
    # update with n (one-process figures scaled linearly).
    scale_b = b / 128
    td = a * scale_b + j * scale_b * n / p + u * n + td_ex
    tb = (c - u * 128) + u * n + r * b / p + tb_ex
    print("| %d | %d | %d | %.1f | %.0f us (%.0f%%) | %.1f | %.0f us (%.0f%%) |"
          % (p, n, b, 1 / td, td_ex * 1e6, 100 * td_ex / td, 1 / tb,
             tb_ex * 1e6, 100 * tb_ex / tb))
