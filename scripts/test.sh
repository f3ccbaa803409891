#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test
# (lit: FileCheck tests, GoogleTest unit tests, end-to-end tests), then the
# fuzzers for a fixed time (KAN_FUZZ_SECONDS per target, default 15; 0
# skips them): the runtime's readers under ASan/UBSan and the structured
# tool fuzzer (kan-opt input, kan-train options, resume and replay files).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cmake --build "${BUILD_DIR:-build}" --target check-kan
if [ "${KAN_FUZZ_SECONDS:-15}" != 0 ]; then
  FUZZ_SECONDS=${KAN_FUZZ_SECONDS:-15} KAN_BIN="${BUILD_DIR:-build}/bin" \
    bash scripts/fuzz.sh
fi
