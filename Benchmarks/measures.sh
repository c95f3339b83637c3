#!/usr/bin/env bash
# The retrieval-skew and association-test sections at FairFace validation's size, on random unit
# embeddings (their cost does not depend on the values; the embeddings of a real run come from the
# cache): 10,954 images × 512 dimensions, Berg et al.'s 319 queries over race (7 groups), gender (2)
# and age (9) at k 10, 100, 1000 with both desired mixes and 1,000 null permutations, and one
# 10,000-permutation association test. Prints `clip-audit bench --measures`'s JSON line ROUNDS times
# (default 3). Targets (issue #17): retrieval under 5 s, the association test under 2 s.
# Usage: Benchmarks/measures.sh [ROUNDS] [--threads T]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
shift || true
swift build -c release --product clip-audit >/dev/null
for _ in $(seq "$rounds"); do
  .build/release/clip-audit bench --measures "$@"
done
