"""pykan's attribution scores (MultKAN.attribute) recomputed from a
checkpoint in numpy, independently of the tools: the efficient-kan forward
(SiLU base + Cox-de Boor B-splines), torch.std's unbiased deviations, the
back-propagation of the scores from the outputs. Compares them with the
'edge (l,o,i): v' / 'node (l,j): v' lines kan-prune --show-importance
printed, within --rtol (plus 1e-9 absolute).

usage: attribution_ref.py MODEL.safetensors DATA.csv PRINTED.txt [--rtol R]
"""
import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kan_reference import Model  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("printed")
    ap.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    m = Model(a.model)
    L = m.layers
    data = np.loadtxt(a.data, delimiter=",", ndmin=2)
    inputs = m.t["layers.0.base_weight"].shape[1]
    x = m.scale_inputs(data[:, :inputs])
    edge_std, node_std = [], []
    for l in range(L):
        phi = m.layer_phi(l, x)
        edge_std.append(np.std(phi, axis=0, ddof=1))
        x = phi.sum(axis=2)
        node_std.append(np.std(x, axis=0, ddof=1))
    # MultKAN.attribute() for a KAN without multiplication nodes.
    K = x.shape[1]
    node_score = np.eye(K)
    nodes, edges = [node_score.sum(0)], []
    for l in range(L - 1, -1, -1):
        e = np.einsum("ij,ki,i->kij", edge_std[l], node_score, 1 / (node_std[l] + 1e-4))
        node_score = e.sum(1)
        edges.append(e.sum(0))
        nodes.append(node_score.sum(0))
    nodes.reverse()
    edges.reverse()

    printed = {}
    for line in open(a.printed):
        m = re.match(r"(edge|node) \(([0-9,]+)\): (\S+)", line)
        if m:
            printed[(m.group(1), tuple(int(v) for v in m.group(2).split(",")))] = float(m.group(3))
    expected = {}
    for l, e in enumerate(edges):
        for o in range(e.shape[0]):
            for i in range(e.shape[1]):
                expected[("edge", (l, o, i))] = e[o, i]
    for l, nd in enumerate(nodes):
        for j in range(len(nd)):
            expected[("node", (l, j))] = nd[j]
    bad = 0
    for key, v in expected.items():
        got = printed.get(key)
        if got is None or abs(got - v) > a.rtol * abs(v) + 1e-9:
            print("mismatch %s %s: printed %s, reference %.9g" % (key[0], key[1], got, v))
            bad += 1
    if set(printed) - set(expected):
        print("unexpected scores: %s" % sorted(set(printed) - set(expected)))
        bad += 1
    print("%d scores, %d mismatches" % (len(expected), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
