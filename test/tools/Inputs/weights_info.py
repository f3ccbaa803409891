"""Prints the step (checkpoint metadata) and the SHA-256 of the trainable
weights of a kan-train safetensors file: the bytes of base_weight,
spline_weight and spline_scaler of every layer, in that order, as
kan_weights_sha256 hashes them (an independent check of weights_sha256)."""
import hashlib
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    data = f.read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
body = data[8 + n:]
meta = header.pop("__metadata__", {})
layers = sorted({int(k.split(".")[1]) for k in header if k.startswith("layers.")})
h = hashlib.sha256()
for l in layers:
    for which in ("base_weight", "spline_weight", "spline_scaler"):
        name = "layers.%d.%s" % (l, which)
        if name in header:
            begin, end = header[name]["data_offsets"]
            h.update(body[begin:end])
print("step=%s sha256=%s" % (meta.get("step", "?"), h.hexdigest()))
