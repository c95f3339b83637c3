#!/usr/bin/env bash
# The `robustness:` section of Audits/fairface.yaml (or AUDIT) at FairFace validation's size, on
# random unit embeddings (the cost does not depend on the values; a real run takes the image
# embeddings from the cache): 10,954 images × 512 dimensions, the audit's designs, attributes and
# intersections, its 20 drawn specifications scored and measured. Prints
# `clip-audit bench --robustness`'s JSON line ROUNDS times (default 3). What a real run adds is
# encoding the specifications' distinct prompts (`prompts` in the line) once, at the model's
# texts_per_s (`clip-audit bench --model M`); they are cached afterwards.
# Target (issue #23): 20 specifications add under a minute once the images are cached.
# Usage: Benchmarks/robustness.sh [ROUNDS] [AUDIT] [--threads T]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
audit="${2:-Audits/fairface.yaml}"
shift 2 || shift $# || true
swift build -c release --product clip-audit >/dev/null
for _ in $(seq "$rounds"); do
  .build/release/clip-audit bench --robustness "$audit" "$@"
done
