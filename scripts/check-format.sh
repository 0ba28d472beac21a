#!/usr/bin/env bash
# Fails when a C file differs from the project's .clang-format style.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find kubeletd pkg include tests -name '*.[ch]')
[ "${#files[@]}" -gt 0 ] || exit 0
clang-format --dry-run -Werror "${files[@]}"
echo "format: ${#files[@]} files clean"
