#!/usr/bin/env python3
"""Prints the number of numeric literals in a formula kan-symbolic printed
and the most significant digits any of them has:

  significant_digits.py FILE

FILE holds `--format sympy` or `--format latex` output (the last line is
the formula) or `--format mlir` output (the values of its arith.constant
ops). Names (x1, x_{1}) are not numbers; a literal's significant digits are
those of its mantissa without leading and trailing zeros (1.0 has one,
0.00125 three, 1.25e-05 three).
"""
import re
import sys

NUMBER = re.compile(r"(?<![A-Za-z_0-9.])(\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def significant(mantissa):
    digits = mantissa.replace(".", "").strip("0")
    return max(1, len(digits))


def main():
    text = open(sys.argv[1]).read()
    if "func.func" in text:
        literals = re.findall(r"arith\.constant\s+(-?[0-9.eE+-]+)\s*:", text)
        mantissas = [re.split(r"[eE]", l.lstrip("-"))[0] for l in literals]
    else:
        lines = [l for l in text.splitlines() if l.strip()]
        line = lines[-1] if lines else ""
        # LaTeX subscripts name inputs, they are no numbers.
        line = re.sub(r"_\{\d+\}", "", line)
        mantissas = [m.group(1) for m in NUMBER.finditer(line)]
    if not mantissas:
        sys.exit("%s: no numbers in the formula" % sys.argv[1])
    print("%d numbers, at most %d significant digits"
          % (len(mantissas), max(significant(m) for m in mantissas)))


if __name__ == "__main__":
    main()
