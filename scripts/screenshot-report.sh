#!/bin/sh
# Renders a report folder's report.html in headless Chromium and saves a screenshot, so a test
# (and a person) can check the page as a reader sees it.
#
#   scripts/screenshot-report.sh REPORT_DIR OUT.png [WIDTH,HEIGHT]
#
# Installs Debian's `chromium` with apt-get when it is missing (needs root, or passwordless
# sudo); exits non-zero with a one-line reason when it cannot. The page loads nothing from the
# network; Chromium runs with a throw-away profile.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 REPORT_DIR OUT.png [WIDTH,HEIGHT]" >&2
    exit 2
fi
report_dir=$1
out=$2
size=${3:-1280,2400}
html="$report_dir/report.html"
if [ ! -f "$html" ]; then
    echo "screenshot-report: no report.html in $report_dir" >&2
    exit 1
fi

find_chromium() {
    for name in chromium chromium-browser google-chrome; do
        if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
    done
    return 1
}

if ! browser=$(find_chromium); then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else sudo=none; fi
    if [ "$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "screenshot-report: chromium is not installed and cannot be installed here (needs apt-get as root): apt-get install chromium" >&2
        exit 1
    fi
    echo "screenshot-report: installing chromium with apt-get" >&2
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >&2; then
        echo "screenshot-report: apt-get could not install chromium" >&2
        exit 1
    fi
    browser=$(find_chromium) || { echo "screenshot-report: chromium still not found after installing it" >&2; exit 1; }
fi

abs_html=$(cd "$(dirname "$html")" && pwd)/report.html
case $out in /*) abs_out=$out ;; *) abs_out=$(pwd)/$out ;; esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# --virtual-time-budget lets the inline script run before the capture.
"$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --no-first-run --no-default-browser-check --disable-extensions --user-data-dir="$profile" \
    --virtual-time-budget=2000 --window-size="$size" --screenshot="$abs_out" "file://$abs_html" >/dev/null 2>&1 || true

if [ ! -s "$abs_out" ]; then
    echo "screenshot-report: chromium wrote no screenshot to $abs_out" >&2
    exit 1
fi
echo "$abs_out"
