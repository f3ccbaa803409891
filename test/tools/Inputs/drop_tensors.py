#!/usr/bin/python3
"""usage: drop_tensors.py IN OUT PREFIX: copies the safetensors file IN to
OUT without the tensors whose names start with PREFIX (metadata kept)."""
import json
import struct
import sys

src, dst, prefix = sys.argv[1:4]
data = open(src, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
body = data[8 + n:]
out, kept = bytearray(), {}
for k, v in header.items():
    if k == "__metadata__":
        kept[k] = v
        continue
    if k.startswith(prefix):
        continue
    s, e = v["data_offsets"]
    kept[k] = dict(v, data_offsets=[len(out), len(out) + e - s])
    out += body[s:e]
text = json.dumps(kept).encode()
text += b" " * (-len(text) % 8)
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + out)
