#!/usr/bin/env python3
"""Writes a kan-dialect model (func.func @model, dynamic batch) of a given shape.

    make_model.py --widths 784,64,10 [--grid-size 5] [--order 3] [--dtype f64|f32] -o model.mlir

The text matches what buildModel (lib/Dialect/Kan/KanModel.cpp) produces: per layer
the arguments grid (I x (G+2k+1)), base_weight (O x I), spline_weight (O x I x (G+k))
and spline_scaler (O x I), SiLU base activation.
"""
import argparse


def model_text(widths, grid_size, order, dtype):
    t = dtype
    nknots = grid_size + 2 * order + 1
    args = [f"%x: tensor<?x{widths[0]}x{t}>"]
    body = []
    prev = "%x"
    for l, (i, o) in enumerate(zip(widths[:-1], widths[1:])):
        args += [f"%g{l}: tensor<{i}x{nknots}x{t}>", f"%b{l}: tensor<{o}x{i}x{t}>",
                 f"%c{l}: tensor<{o}x{i}x{grid_size + order}x{t}>", f"%s{l}: tensor<{o}x{i}x{t}>"]
        types = (f"tensor<?x{i}x{t}>, tensor<{i}x{nknots}x{t}>, tensor<{o}x{i}x{t}>, "
                 f"tensor<{o}x{i}x{grid_size + order}x{t}>, tensor<{o}x{i}x{t}>")
        body.append(f"  %y{l} = kan.layer {prev}, %g{l}, %b{l}, %c{l} scaler %s{l} order {order} act silu\n"
                    f"      : {types} -> tensor<?x{o}x{t}>")
        prev = f"%y{l}"
    out = f"tensor<?x{widths[-1]}x{t}>"
    return ("func.func @model(" + ",\n                 ".join(args) + f") -> {out} {{\n"
            + "\n".join(body) + f"\n  return {prev} : {out}\n}}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", required=True)
    ap.add_argument("--grid-size", type=int, default=5)
    ap.add_argument("--order", type=int, default=3)
    ap.add_argument("--dtype", choices=["f64", "f32"], default="f64")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    widths = [int(w) for w in a.widths.split(",")]
    with open(a.output, "w") as f:
        f.write(model_text(widths, a.grid_size, a.order, a.dtype))


if __name__ == "__main__":
    main()
