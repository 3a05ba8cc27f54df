#!/bin/sh
# Regenerate the FPU reference vectors with the host C compiler (x86-64 with FMA).
# -frounding-math keeps the compiler from folding or moving arithmetic across fesetround.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
${CC:-cc} -std=gnu11 -O1 -mfma -frounding-math -fno-fast-math -ffp-contract=off -fno-math-errno -Wall -Wextra -Wno-unknown-pragmas -o "$bin" "$here/gen.c" -lm
mkdir -p "$here/data"
"$bin" "$here/data"
