#!/usr/bin/env bash
# Installs the C libraries clip-audit links against (Debian/Ubuntu packages), only those missing.
# With --test, also what the test suite uses: headless Chromium and a font, to render report.html,
# GNU time, to measure peak memory, and python3, whose sqlite3 module holds a cache's lock from
# another process in a test, with python3-venv, in which scripts/parity-golden.sh installs torch
# and transformers (perl, also used, is part of every Debian system).
# Swift itself (6.1 or later) must already be on PATH: https://www.swift.org/install/linux/
set -euo pipefail
packages=(libopenblas-dev libjpeg-dev libpng-dev libcsv-dev libsqlite3-dev libssl-dev pkg-config)
if [ "${1:-}" = "--test" ]; then
  packages+=(chromium fonts-dejavu-core time python3 python3-venv)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install Swift 6.1 or later first" >&2; exit 1; }
