#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test
# (lit: FileCheck tests, GoogleTest unit tests, end-to-end tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cmake --build "${BUILD_DIR:-build}" --target check-kan
