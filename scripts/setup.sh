#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent, non-interactive;
# run as root on Debian 12 (bookworm). Skips apt when everything is present.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
  libopenblas-dev python3 python3-numpy
  dataset-fashion-mnist
  # The kancompiler Python package and its tests against the PyTorch peer
  # (python/kanpeer); librsvg2-bin renders kan-plot's SVG in the tests.
  python3-dev pybind11-dev python3-pytest python3-torch librsvg2-bin
  libopenmpi-dev openmpi-bin
  # kan-symbolic's computer algebra and the formula checks.
  libginac-dev python3-sympy
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
