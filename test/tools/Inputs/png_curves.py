"""Checks a PNG rendering (rsvg-convert) of `kan-plot curves`, by pixels.

usage: png_curves.py IMAGE.png TITLE_ROWS RUNS [EXPECT...]

The image is split as kan-plot lays it out: a header (legend, and a title
when TITLE_ROWS is 1), then four panels: loss vs steps, loss vs seconds
(top), accuracy vs steps, accuracy vs seconds (bottom). For each of the
first RUNS palette colours it finds the pixels of that colour in each panel
and prints one line per panel and run:
  <panel> run<i>: <n> pixels, x <min>..<max>, y at left <yl>, y at right <yr>
(x as a fraction of the panel width, y of its height, 0 = top). EXPECT
items check them: "<panel>:<run>:falls" (y at right below y at left on the
screen, i.e. the value decreases), "rises", "xmax<F" or "xmax>F".
Only the standard library: the PNG is decoded with zlib.
"""
import sys

from pngdecode import read_png

PALETTE = [(0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e), (0x2c, 0xa0, 0x2c), (0xd6, 0x27, 0x28)]


def main():
    path, title, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    width, height, bpp, rows = read_png(path)
    head = 30 + 24 * title
    pw, ph = width / 2, (height - head) / 2
    panels = {"loss-steps": (0, head), "loss-seconds": (pw, head),
              "accuracy-steps": (0, head + ph), "accuracy-seconds": (pw, head + ph)}
    # The plot area inside a panel (kan-plot's insets: left 64, right 12,
    # top 28, bottom 44).
    stats = {}
    for name, (x0, y0) in panels.items():
        ax, ay, aw, ah = x0 + 64, y0 + 28, pw - 76, ph - 72
        for r in range(runs):
            col = PALETTE[r]
            pts = []
            for y in range(int(ay), int(ay + ah) + 1):
                line = rows[y]
                for x in range(int(ax), int(ax + aw) + 1):
                    p = line[x * bpp:x * bpp + 3]
                    if sum(abs(p[i] - col[i]) for i in range(3)) < 24:
                        pts.append(((x - ax) / aw, (y - ay) / ah))
            if not pts:
                print(f"{name} run{r}: 0 pixels")
                stats[(name, r)] = None
                continue
            xs = [p[0] for p in pts]
            lo, hi = min(xs), max(xs)
            left = [p[1] for p in pts if p[0] <= lo + 0.03]
            right = [p[1] for p in pts if p[0] >= hi - 0.03]
            yl, yr = sum(left) / len(left), sum(right) / len(right)
            stats[(name, r)] = (lo, hi, yl, yr)
            print(f"{name} run{r}: {len(pts)} pixels, x {lo:.2f}..{hi:.2f}, "
                  f"y at left {yl:.2f}, y at right {yr:.2f}")
    ok = True
    for e in sys.argv[4:]:
        name, r, cond = e.split(":")
        s = stats[(name, int(r))]
        good = s is not None and (
            (cond == "falls" and s[3] > s[2] + 0.1) or
            (cond == "rises" and s[3] < s[2] - 0.1) or
            (cond.startswith("xmax<") and s[1] < float(cond[5:])) or
            (cond.startswith("xmax>") and s[1] > float(cond[5:])))
        if not good:
            print(f"FAILED: {e}")
            ok = False
    print("all checks passed" if ok else "some checks failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
