"""A KAN checkpoint evaluated in numpy, independently of the tools: the
efficient-kan layer (SiLU base + Cox-de Boor B-splines) plus the symbolic
edges c f(a x + b) + d that kan-symbolic --fix-into writes (tensor
layers.{l}.symbolic, names in metadata layers.{l}.symbolic_functions).

usage:
  kan_reference.py forward MODEL X.npy OUT.npy
  kan_reference.py jvp MODEL X.npy TANGENTS.safetensors OUT.npy
      (tangents of the symbolic parameters only; other keys are refused)
  kan_reference.py write-tangent OUT.safetensors KEY D0,D1,.. V0,V1,..
  kan_reference.py inspect MODEL   (the symbolic edges, and the largest
      |base| and |spline| weight of a symbolic edge)
  kan_reference.py rmse MODEL DATA.csv [BELOW]  (RMSE against the CSV's
      last column; fails when it is not below BELOW)
  kan_reference.py strip-meta IN OUT  (the tensors without the metadata)
"""
import json
import struct
import sys

import numpy as np

FUNCS = {
    "x": (lambda u: u, lambda u: np.ones_like(u)),
    "x^2": (lambda u: u ** 2, lambda u: 2 * u),
    "x^3": (lambda u: u ** 3, lambda u: 3 * u ** 2),
    "x^4": (lambda u: u ** 4, lambda u: 4 * u ** 3),
    "1/x": (lambda u: 1 / u, lambda u: -1 / u ** 2),
    "sqrt": (np.sqrt, lambda u: 0.5 / np.sqrt(u)),
    "exp": (np.exp, np.exp),
    "log": (np.log, lambda u: 1 / u),
    "sin": (np.sin, np.cos),
    "cos": (np.cos, lambda u: -np.sin(u)),
    "tanh": (np.tanh, lambda u: 1 - np.tanh(u) ** 2),
    "gaussian": (lambda u: np.exp(-u * u), lambda u: -2 * u * np.exp(-u * u)),
    "0": (lambda u: 0 * u, lambda u: 0 * u),
}


def read_safetensors(path):
    raw = open(path, "rb").read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F64", info["dtype"]
        a, b = info["data_offsets"]
        tensors[name] = np.frombuffer(raw[8 + hlen + a:8 + hlen + b],
                                      dtype="<f8").reshape(info["shape"])
    return tensors, meta


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(arr.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def bsplines(x, grid, k):
    """x: n x I, grid: I x (G+2k+1) -> n x I x (G+k) (efficient-kan)."""
    x = x[:, :, None]
    g = grid[None, :, :]
    b = ((x >= g[:, :, :-1]) & (x < g[:, :, 1:])).astype(float)
    for p in range(1, k + 1):
        b = ((x - g[:, :, :-(p + 1)]) / (g[:, :, p:-1] - g[:, :, :-(p + 1)])
             * b[:, :, :-1]
             + (g[:, :, p + 1:] - x) / (g[:, :, p + 1:] - g[:, :, 1:-p])
             * b[:, :, 1:])
    return b


class Model:
    def __init__(self, path):
        self.t, self.meta = read_safetensors(path)
        self.layers = len([k for k in self.t if k.endswith(".base_weight")])

    def symbolic(self, l):
        names = self.meta.get("layers.%d.symbolic_functions" % l)
        if names is None:
            return None, None
        o, i = self.t["layers.%d.base_weight" % l].shape
        return (np.array(names.split(","), dtype=object).reshape(o, i),
                self.t["layers.%d.symbolic" % l])

    def scale_inputs(self, x):
        if "input_shift" in self.meta:
            shift = np.array([float(v) for v in self.meta["input_shift"].split(",")])
            scale = np.array([float(v) for v in self.meta["input_scale"].split(",")])
            x = (x - shift) * scale
        return x

    def layer_phi(self, l, x):
        """Edge activations n x out x in of layer l on its inputs x."""
        t = self.t
        grid = t["layers.%d.grid" % l]
        wb = t["layers.%d.base_weight" % l]
        ws = t["layers.%d.spline_weight" % l]
        sc = t.get("layers.%d.spline_scaler" % l, np.ones_like(wb))
        k = grid.shape[1] - ws.shape[2] - 1
        silu = x / (1 + np.exp(-x))
        phi = (wb[None] * silu[:, None, :]
               + np.einsum("nij,oij->noi", bsplines(x, grid, k), ws * sc[:, :, None]))
        names, p = self.symbolic(l)
        if names is not None:
            for o in range(names.shape[0]):
                for i in range(names.shape[1]):
                    if names[o, i]:
                        a, b, c, d = p[o, i]
                        phi[:, o, i] += c * FUNCS[names[o, i]][0](a * x[:, i] + b) + d
        return phi

    def forward(self, x, trace=None):
        x = self.scale_inputs(x)
        for l in range(self.layers):
            if trace is not None:
                trace.append(x)
            x = self.layer_phi(l, x).sum(axis=2)
        return x


def main(argv):
    cmd = argv[1]
    if cmd == "forward":
        m = Model(argv[2])
        np.save(argv[4], m.forward(np.load(argv[3])))
    elif cmd == "jvp":
        m = Model(argv[2])
        tan, _ = read_safetensors(argv[4])  # one direction, parameter shapes
        xs = []
        m.forward(np.load(argv[3]), xs)
        assert m.layers == 1, "the reference JVP covers one-layer models"
        dy = np.zeros((xs[0].shape[0], m.t["layers.0.base_weight"].shape[0]))
        for key, dp in tan.items():
            assert key == "layers.0.symbolic", "only symbolic tangents: " + key
            names, p = m.symbolic(0)
            x = xs[0]
            for o in range(names.shape[0]):
                for i in range(names.shape[1]):
                    if not names[o, i]:
                        continue
                    a, b, c, d = p[o, i]
                    da, db, dc, dd = dp[o, i]
                    f, df = FUNCS[names[o, i]]
                    u = a * x[:, i] + b
                    dy[:, o] += c * df(u) * (x[:, i] * da + db) + f(u) * dc + dd
        np.save(argv[5], dy)
    elif cmd == "write-tangent":
        shape = [int(v) for v in argv[4].split(",")]
        vals = np.array([float(v) for v in argv[5].split(",")]).reshape(shape)
        write_safetensors(argv[2], {argv[3]: vals})
    elif cmd == "inspect":
        m = Model(argv[2])
        for l in range(m.layers):
            names, p = m.symbolic(l)
            if names is None:
                continue
            wb = m.t["layers.%d.base_weight" % l]
            ws = m.t["layers.%d.spline_weight" % l]
            for o in range(names.shape[0]):
                for i in range(names.shape[1]):
                    if names[o, i]:
                        print("edge (%d,%d,%d): %s a=%.6g b=%.6g c=%.6g d=%.6g "
                              "max|base,spline|=%g" % (
                                  l, o, i, names[o, i], *p[o, i],
                                  max(abs(wb[o, i]), np.abs(ws[o, i]).max())))
                    else:
                        print("edge (%d,%d,%d): spline max|spline|=%g" % (
                            l, o, i, np.abs(ws[o, i]).max()))
    elif cmd == "rmse":
        m = Model(argv[2])
        data = np.loadtxt(argv[3], delimiter=",", ndmin=2)
        y = m.forward(data[:, :-1])[:, 0]
        rmse = float(np.sqrt(np.mean((y - data[:, -1]) ** 2)))
        print("rmse %.2e" % rmse)
        if len(argv) > 4 and not rmse < float(argv[4]):
            sys.exit("rmse %.3g is not below %s" % (rmse, argv[4]))
    elif cmd == "strip-meta":
        t, _ = read_safetensors(argv[2])
        write_safetensors(argv[3], t)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
