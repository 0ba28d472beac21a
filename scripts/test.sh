#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (root):
# installs the packages, builds the normal tree (gcc) and the sanitizer tree
# (clang, AddressSanitizer + UBSan, with the libFuzzer targets), checks the
# format, and runs ctest in both trees.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/install-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

cmake -S . -B build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
  -DKD_SANITIZE=ON -DKD_FUZZ=ON >/dev/null
cmake --build build-asan -j "$jobs"

scripts/check-format.sh

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build && ctest --output-on-failure -j "$jobs")
(cd build-asan && ctest --output-on-failure -j "$jobs")
