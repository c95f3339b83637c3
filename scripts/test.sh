#!/usr/bin/env bash
# The project's test command: installs missing C libraries, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
swift build --build-tests
swift test --skip-build "$@"
