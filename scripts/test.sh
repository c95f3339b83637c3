#!/usr/bin/env bash
# The project's test command: installs missing C libraries, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
# The full-size parity golden (scripts/parity-golden.sh: torch and transformers, cached after the
# first run) is made beside the build; without it that one check is listed as skipped. A set
# CLIP_AUDIT_PARITY_CHECKPOINT (even empty) is used as it is.
if [ -z "${CLIP_AUDIT_PARITY_CHECKPOINT+set}" ]; then
    golden=$(mktemp -d)
    timeout 480 scripts/parity-golden.sh >"$golden/dir" 2>"$golden/log" &
    golden_pid=$!
    trap 'kill "$golden_pid" 2>/dev/null || true; rm -rf "$golden"' EXIT
fi
swift build --build-tests
if [ -n "${golden_pid:-}" ]; then
    if wait "$golden_pid"; then
        export CLIP_AUDIT_PARITY_CHECKPOINT="$(tail -n 1 "$golden/dir")"
    else
        echo "test.sh: no full-size parity golden, its check is skipped: $(tail -n 1 "$golden/log")" >&2
    fi
fi
swift test --skip-build "$@"
# The sharded run on a real one-node Slurm (about a minute; one SKIPPED line where it cannot run).
# Not with arguments: those select unit tests.
if [ $# -eq 0 ]; then scripts/slurm-test.sh; fi
# The container image, built and run (several minutes: a release build): opt-in.
if [ "${CLIP_AUDIT_CONTAINER_TEST:-0}" = 1 ]; then scripts/container.sh test; fi
