#!/usr/bin/env bash
# Makes, once, the golden of the full-size network parity check and prints its directory (the
# last line of stdout; everything else goes to stderr): a random-weight ViT-B/16 checkpoint and
# transformers' outputs for it (Fixtures/Generators/make_parity_golden.py). At 600 MB it is not
# committed; it is cached outside the repository, keyed by the hash of what makes it, so an
# edited generator makes a new one. Run the check with
#   CLIP_AUDIT_PARITY_CHECKPOINT=$(scripts/parity-golden.sh) swift test --filter fullSizeCheckpoint
# (scripts/test.sh does this itself when python3 can get torch and transformers).
#
# Cache: $CLIP_AUDIT_CACHE, else $XDG_CACHE_HOME/clip-audit, else ~/.cache/clip-audit; its venv/
# holds torch (the wheel in /opt/wheels when there is one, else PyPI) and transformers 5.24.0.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${CLIP_AUDIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clip-audit}"
inputs=(Fixtures/Generators/make_parity_golden.py Benchmarks/make_checkpoint.py
        Fixtures/clip-reference/tiny-clip/vocab.json Fixtures/clip-reference/tiny-clip/merges.txt
        Fixtures/clip-reference/tiny-clip/preprocessor_config.json Fixtures/clip-reference/images/*)
key=$(cat "${inputs[@]}" | sha256sum | cut -c1-16)
dir="$cache/parity-b16-$key"
if [ -f "$dir/golden.safetensors" ]; then
    echo "$dir"
    exit 0
fi
command -v python3 >/dev/null || { echo "parity-golden.sh: python3 not found" >&2; exit 1; }
mkdir -p "$cache"
# One maker at a time (two test runs at once share the cache).
exec 9>"$cache/.parity-golden.lock"
flock 9
if [ ! -f "$dir/golden.safetensors" ]; then
    py=$(CLIP_AUDIT_VENV="$cache/venv" Benchmarks/setup_venv.sh | tail -n 1)
    partial="$cache/making-$key"
    rm -rf "$partial"
    "$py" Fixtures/Generators/make_parity_golden.py "$partial" >&2
    # Goldens of earlier generator versions are 600 MB each: keep only this one.
    rm -rf "$cache"/parity-b16-*
    mv -T "$partial" "$dir"
fi
echo "$dir"
