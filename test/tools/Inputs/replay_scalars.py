"""Compares the JVP scalars of two kan-train replay logs (version 3) record
by record: prints the largest relative difference over the first K records
(default 1) and PASS if it is below TOL, else FAIL.
Usage: replay_scalars.py A.replay B.replay TOL [K]"""
import struct
import sys


def records(path):
    b = open(path, "rb").read()
    assert b[:8] == b"KANRPLAY", path
    version, kind, dist, ndir = struct.unpack_from("<4I", b, 8)
    assert version == 3, (path, version)
    pos = 8 + 16 + 8 + 8 + 8
    (nparams,) = struct.unpack_from("<I", b, pos)
    pos += 4
    (plen,) = struct.unpack_from("<I", b, pos)
    pos += 4 + plen
    for _ in range(nparams):
        (nlen,) = struct.unpack_from("<I", b, pos)
        pos += 4 + nlen + 4 + 4 + 8
    pos += 4 + 32 + 4 + 4  # start step, weights hash, "HEND", CRC
    size = 4 + 4 + 8 + 8 * ndir + 4
    out = []
    while pos + size <= len(b):
        out.append(struct.unpack_from("<%dd" % ndir, b, pos + 16))
        pos += size
    return out


a, b = records(sys.argv[1]), records(sys.argv[2])
tol = float(sys.argv[3])
k = int(sys.argv[4]) if len(sys.argv) > 4 else 1
worst = 0.0
for ra, rb in zip(a[:k], b[:k]):
    assert len(ra) == len(rb)
    for x, y in zip(ra, rb):
        scale = max(abs(x), abs(y), 1e-300)
        worst = max(worst, abs(x - y) / scale)
print("max_rel_diff %.3e over %d record(s) of %d scalars: %s"
      % (worst, min(k, len(a), len(b)), len(a[0]), "PASS" if worst <= tol else "FAIL"))
