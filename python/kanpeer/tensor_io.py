"""Safetensors and NPY I/O, written by hand (no `safetensors` package on Debian).

Safetensors layout:
  8 bytes   little-endian uint64 N
  N bytes   UTF-8 JSON {"__metadata__": {str: str},
                        name: {"dtype": "F64", "shape": [...], "data_offsets": [b, e]}}
            padded with spaces so that N is a multiple of 8 (keeps the buffer aligned)
  buffer    raw little-endian tensor bytes, tensors in sorted-name order, contiguous;
            data_offsets are relative to the start of the buffer.
"""
import json
import struct

import numpy as np
import torch

_TO_NP = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
          "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
_FROM_TORCH = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
               torch.int64: "I64", torch.int32: "I32", torch.int16: "I16",
               torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}


def _as_numpy(t):
    if isinstance(t, torch.Tensor):
        if t.dtype not in _FROM_TORCH:
            raise TypeError(f"unsupported dtype {t.dtype}")
        code = _FROM_TORCH[t.dtype]
        arr = t.detach().cpu().contiguous().numpy()
    else:
        arr = np.asarray(t)
        code = next((k for k, v in _TO_NP.items()
                     if np.dtype(v).kind == arr.dtype.kind
                     and np.dtype(v).itemsize == arr.dtype.itemsize), None)
        if code is None:
            raise TypeError(f"unsupported dtype {arr.dtype}")
    return code, np.ascontiguousarray(arr, dtype=_TO_NP[code])


def save_safetensors(path, tensors, metadata=None):
    """Write `tensors` (name -> torch tensor or numpy array) to `path`."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        code, arr = _as_numpy(tensors[name])
        raw = arr.tobytes(order="C")
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def load_safetensors(path, as_torch=True):
    """Return (dict name -> tensor, metadata dict). Validates offsets and sizes."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("safetensors: file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError("safetensors: header length exceeds file size")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    buf = memoryview(data)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        code = info["dtype"]
        if code not in _TO_NP:
            raise ValueError(f"safetensors: unsupported dtype {code} for {name}")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        dt = np.dtype(_TO_NP[code])
        count = int(np.prod(shape, dtype=np.int64))
        if not (0 <= begin <= end <= len(buf)) or end - begin != count * dt.itemsize:
            raise ValueError(f"safetensors: bad data_offsets for {name}")
        arr = np.frombuffer(buf[begin:end], dtype=dt).reshape(shape).copy()
        out[name] = torch.from_numpy(arr) if as_torch else arr
    return out, metadata


def save_npy(path, t):
    arr = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    np.save(path, np.ascontiguousarray(arr), allow_pickle=False)


def load_npy(path, as_torch=True):
    arr = np.load(path, allow_pickle=False)
    return torch.from_numpy(arr) if as_torch else arr
