#!/usr/bin/env bash
# Installs what is missing, builds, and installs the tools, the runtime and
# the kancompiler Python package under PREFIX (default /usr/local, where
# Debian's /usr/bin/python3 finds <prefix>/lib/python3.X/dist-packages).
#   scripts/install.sh [PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-/usr/local}
bash scripts/build.sh
cmake --install "${BUILD_DIR:-build}" --prefix "$PREFIX" >/dev/null
site=$(ls -d "$PREFIX"/lib/python3*/dist-packages 2>/dev/null | head -1)
echo "install: tools in $PREFIX/bin, kancompiler in $site"
