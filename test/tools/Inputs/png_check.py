#!/usr/bin/env python3
"""Pixel checks of a PNG rendered by rsvg-convert (8-bit RGB/RGBA, not
interlaced), for the kan-plot tests. Standard library only.

  png_check.py IMAGE.png LAYOUT.json   network plot: every edge box with
      opacity >= 0.5 holds a drawn curve (dark pixels), every box with
      opacity < 0.02 is blank, node centres are dark.
  png_check.py IMAGE.png --edge [--fit]  per-edge plot: histogram bars, the
      black curve and (with --fit) the red dashed fit are present.
"""
import json
import sys

import pngdecode


def read_png(path):
    w, h, bpp, rows = pngdecode.read_png(path)

    def pixel(x, y):
        px = rows[y][x * bpp:(x + 1) * bpp]
        r, g, b = px[0], px[1], px[2]
        alpha = px[3] if bpp == 4 else 255
        # Composite on white.
        return tuple(int(v * alpha / 255 + 255 * (1 - alpha / 255)) for v in (r, g, b))
    return w, h, pixel


def count(pixel, x0, y0, x1, y1, pred):
    return sum(1 for y in range(int(y0), int(y1)) for x in range(int(x0), int(x1))
               if pred(*pixel(x, y)))


def dark(r, g, b):
    return r + g + b < 200


def main():
    w, h, pixel = read_png(sys.argv[1])
    if sys.argv[2] == "--edge":
        bars = count(pixel, 0, 0, w, h, lambda r, g, b: (r, g, b) == (153, 170, 187))
        curve = count(pixel, 0, 0, w, h, dark)
        red = count(pixel, 0, 0, w, h, lambda r, g, b: r > 200 and g < 80 and b < 80)
        print("edge plot: %d bar pixels, %d dark, %d red" % (bars, curve, red))
        assert bars > 1000, "no histogram"
        assert curve > 300, "no curve"
        assert ("--fit" not in sys.argv) or red > 100, "no fit overlay"
        return
    layout = json.load(open(sys.argv[2]))
    assert (w, h) == (round(layout["width"]), round(layout["height"])), (w, h)
    shown = blank = 0
    for e in layout["edges"]:
        x, y, bw, bh = e["box"]
        inner = count(pixel, x + 3, y + 3, x + bw - 3, y + bh - 3, dark)
        if e["opacity"] >= 0.5:
            assert inner >= 20, ("edge %s: no curve drawn" % e["edge"], inner)
            shown += 1
        elif e["opacity"] < 0.02:
            anything = count(pixel, x, y, x + bw, y + bh,
                             lambda r, g, b: r + g + b < 740)
            assert anything == 0, ("edge %s should be invisible" % e["edge"], anything)
            blank += 1
    print("network plot: %d edges drawn, %d invisible" % (shown, blank))


if __name__ == "__main__":
    main()
