#!/usr/bin/env bash
# Installs what is missing, builds clip-audit (release) and runs the demo audit on the fixtures.
# The report lands in Reports/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product clip-audit
.build/release/clip-audit run Audits/demo.yaml "$@"
