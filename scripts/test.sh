#!/usr/bin/env bash
# The project's test command: installs missing C libraries, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
swift build --build-tests
swift test --skip-build "$@"
# The sharded run on a real one-node Slurm (about a minute; one SKIPPED line where it cannot run).
# Not with arguments: those select unit tests.
if [ $# -eq 0 ]; then scripts/slurm-test.sh; fi
# The container image, built and run (several minutes: a release build): opt-in.
if [ "${CLIP_AUDIT_CONTAINER_TEST:-0}" = 1 ]; then scripts/container.sh test; fi
