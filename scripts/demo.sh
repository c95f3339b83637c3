#!/usr/bin/env bash
# Installs what is missing, builds clip-audit (release) and runs the demo audit on the fixtures.
# The report lands in Reports/demo/.
#   scripts/demo.sh [RUN OPTIONS]          one model (Audits/demo.yaml)
#   scripts/demo.sh models [RUN OPTIONS]   two models on the same images (Audits/demo-models.yaml):
#                                          Reports/demo-models/{tiny,openclip}/ and models.csv
set -euo pipefail
cd "$(dirname "$0")/.."
audit=Audits/demo.yaml
if [[ "${1:-}" == models ]]; then
  audit=Audits/demo-models.yaml
  shift
fi
scripts/install-deps.sh
swift build -c release --product clip-audit
.build/release/clip-audit run "$audit" "$@"
