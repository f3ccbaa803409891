#!/usr/bin/env bash
# Builds the kanrt reader fuzzers (npy, safetensors, idx, csv, replay log) and runs each
# for FUZZ_SECONDS seconds (default 30). Uses clang's libFuzzer when it
# works, otherwise gcc with the standalone mutation driver; both run under
# AddressSanitizer + UndefinedBehaviorSanitizer, so any finding fails.
# Then, when the tools are built (KAN_BIN, default build/bin), runs the
# structured tool fuzzer scripts/fuzz-tools.py (kan-opt input, kan-train
# options, resume checkpoints, replay logs) for FUZZ_SECONDS as well.
#   FUZZ_SECONDS=60 scripts/fuzz.sh          KANRT_FUZZ_BUILD=/tmp/x scripts/fuzz.sh (default <build>/fuzz)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MAIN_BUILD=${BUILD_DIR:-build}
case "$MAIN_BUILD" in /*) ;; *) MAIN_BUILD="$ROOT/$MAIN_BUILD" ;; esac
BUILD=${KANRT_FUZZ_BUILD:-$MAIN_BUILD/fuzz}
SECS=${FUZZ_SECONDS:-30}
TARGETS=(npy safetensors idx csv replay)

CC=gcc
CXX=g++
if command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1; then
  probe=$(mktemp -d)
  printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t*d,size_t n){(void)d;(void)n;return 0;}\n' >"$probe/p.c"
  if clang -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
    CC=clang
    CXX=clang++
  fi
  rm -rf "$probe"
fi
[ "$CC" = clang ] || echo "fuzz.sh: clang with libFuzzer not available; using gcc + the mutation driver"

cmake -S "$ROOT/runtime" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DKANRT_BUILD_TESTS=OFF -DKANRT_BUILD_FUZZERS=ON >/dev/null
ninja -C "$BUILD" -j2 "${TARGETS[@]/#/kanrt-fuzz-}"

# Seed corpora: small valid files of each format (+ the golden vectors).
CORPUS="$BUILD/corpus"
mkdir -p "${TARGETS[@]/#/$CORPUS/}"
/usr/bin/python3 - "$CORPUS" <<'PY'
import gzip, json, os, struct, sys
c = sys.argv[1]
def npy(dtype, shape, data):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (dtype, shape)
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data
open(f"{c}/npy/f8.npy", "wb").write(npy("<f8", "(2, 3)", struct.pack("<6d", *range(6))))
open(f"{c}/npy/f4.npy", "wb").write(npy("<f4", "(4,)", struct.pack("<4f", 1, 2, 3, 4)))
open(f"{c}/npy/u1.npy", "wb").write(npy("|u1", "()", b"\x07"))
def st(tensors, meta=None):
    hdr, off, data = {}, 0, b""
    if meta: hdr["__metadata__"] = meta
    for name, (dt, shape, raw) in tensors.items():
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw); data += raw
    j = json.dumps(hdr).encode(); j += b" " * ((8 - len(j) % 8) % 8)
    return struct.pack("<Q", len(j)) + j + data
open(f"{c}/safetensors/a.safetensors", "wb").write(st(
    {"layers.0.grid": ("F64", [1, 4], struct.pack("<4d", 0, 1, 2, 3)),
     "layers.0.base_weight": ("F32", [2, 1], struct.pack("<2f", 1, 2))},
    {"grid_size": "5", "spline_order": "3"}))
idx = b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 2, 3) + bytes(range(12))
open(f"{c}/idx/a.idx", "wb").write(idx)
open(f"{c}/idx/a.idx.gz", "wb").write(gzip.compress(idx))
open(f"{c}/idx/labels.idx", "wb").write(b"\x00\x00\x08\x01" + struct.pack(">I", 3) + b"\x01\x02\x03")
open(f"{c}/csv/a.csv", "wb").write(b"a,b\n1,2\n3.5,-4e3\n")
open(f"{c}/csv/b.csv", "wb").write(b"1, 2 ,3\r\n\r\n4,5,6\n")
import hashlib, zlib
def rlog(version, ndir=2, steps=3, torn=0):
    w = struct.pack("<dddd", 0.5, -1, 2, 0.25)
    h = b"KANRPLAY" + struct.pack("<IIIIQddI", version, 1, 2, ndir, 7, 1e-2, 0.1, 1)
    h += struct.pack("<I", 4) + b"i.st" + struct.pack("<I", 1) + b"w" + struct.pack("<IIQ", 0, 1, 4)
    if version >= 3:
        h += struct.pack("<I", 5) + hashlib.sha256(w).digest()
    h += struct.pack("<I", 0x444E4548)
    if version >= 3:
        h += struct.pack("<I", zlib.crc32(h))
    for s in range(steps):
        r = struct.pack("<II", 0x50455453, 5 + s)
        if version >= 2:
            r += struct.pack("<d", 1.0)
        r += struct.pack("<%dd" % ndir, *[(-1) ** d * (d + s) for d in range(ndir)])
        if version >= 3:
            r += struct.pack("<I", zlib.crc32(r))
        h += r
    return h[:len(h) - torn]
for v in (1, 2, 3):
    open(f"{c}/replay/v{v}.replay", "wb").write(rlog(v))
open(f"{c}/replay/torn.replay", "wb").write(rlog(3, torn=5))
PY
for f in "$ROOT"/test/golden/*.npy; do [ -e "$f" ] && cp "$f" "$CORPUS/npy/"; done
for f in "$ROOT"/test/golden/*.safetensors; do [ -e "$f" ] && cp "$f" "$CORPUS/safetensors/"; done

status=0
for t in "${TARGETS[@]}"; do
  echo "== kanrt-fuzz-$t for ${SECS}s"
  if ! (cd "$BUILD" && "$BUILD/test/fuzz/kanrt-fuzz-$t" -max_total_time="$SECS" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$CORPUS/$t" \
        2>&1 | tail -n 5); then
    echo "fuzz.sh: kanrt-fuzz-$t FAILED"; status=1
  fi
done
BIN=${KAN_BIN:-$ROOT/build/bin}
if [ -x "$BIN/kan-train" ] && [ -x "$BIN/kan-opt" ]; then
  echo "== fuzz-tools.py for ${SECS}s"
  /usr/bin/python3 "$ROOT/scripts/fuzz-tools.py" fuzz --bin "$BIN" \
    --seconds "$SECS" --out "$BUILD/fuzz-tools" || {
    echo "fuzz.sh: fuzz-tools.py FAILED (findings in $BUILD/fuzz-tools/findings)"; status=1; }
else
  echo "fuzz.sh: no tools in $BIN (build them, or set KAN_BIN); skipping fuzz-tools.py"
fi
exit $status
