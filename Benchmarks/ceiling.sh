#!/usr/bin/env bash
# The ceiling this machine puts on the encoder: the AVX2 FMA peak (one core, all cores), the packed
# product on operands that stay in cache, and the product as the encoder calls it, with
# its weight in cache and from memory. Compiles Benchmarks/ceiling.c against the project's own
# kernels (Sources/CClipKernels) with the system C compiler; see Benchmarks/README.md.
#
# usage: Benchmarks/ceiling.sh   (run it on a quiet machine: it reports the best of 3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cc -O2 -std=gnu11 -I"$root/Sources/CClipKernels/include" "$here/ceiling.c" \
  "$root/Sources/CClipKernels/packed_gemm.c" "$root/Sources/CClipKernels/kernels.c" -lm -lpthread -o "$out/ceiling"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; 1-min load $(cut -d' ' -f1 /proc/loadavg)"
"$out/ceiling"
