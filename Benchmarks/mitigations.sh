#!/usr/bin/env bash
# The mitigation bench at FairFace validation's size, on random unit embeddings (the cost does not
# depend on the values; a real run takes its embeddings from the cache): 10,954 images × 512
# dimensions, five designs (gender, race and age with targets, a four-class harm design and a
# five-class variant), projection, calibrated projection and CLIP-clip (100 dimensions, fitted on
# 2,000 further images) on every design: 15 variants. Prints `clip-audit bench --mitigations`'s
# JSON line ROUNDS times (default 3). Target (issue #24): `mitigations_s` under 10 s.
# Usage: Benchmarks/mitigations.sh [ROUNDS] [--threads T]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
shift || true
swift build -c release --product clip-audit >/dev/null
for _ in $(seq "$rounds"); do
  .build/release/clip-audit bench --mitigations "$@"
done
