#!/usr/bin/env bash
# A large-manifest run: ROWS rows (default 100000) over a few fixture images, each row its own
# file name (hard links, so the rows are distinct files but only 6 distinct contents: the run
# encodes 6 images and takes the rest from the cache). Prints rows/s and peak RSS of the run.
# Usage: Benchmarks/large_manifest.sh [ROWS] [extra clip-audit run flags...]
# The manifest and links are kept in ${TMPDIR:-/tmp}/clip-audit-large-ROWS for the next run; the
# audit file is written each time (it names this checkout's fixture model).
# CLIP_AUDIT_BINARY=PATH runs that binary (e.g. an earlier build, for a before/after) instead of
# building this checkout's release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-100000}"
shift || true
binary="${CLIP_AUDIT_BINARY:-}"
if [ -z "$binary" ]; then
  swift build -c release --product clip-audit >/dev/null
  binary=.build/release/clip-audit
fi
work="${TMPDIR:-/tmp}/clip-audit-large-$rows"
if [ ! -f "$work/manifest.csv" ]; then
  rm -rf "$work"
  mkdir -p "$work/src" "$work/img"
  python3 - "$work" "$rows" "$PWD/Fixtures/clip-reference/images" <<'PY'
import os, shutil, sys
work, rows, fixtures = sys.argv[1], int(sys.argv[2]), sys.argv[3]
images = ["tiny_upscale.png", "gradient_gray16.png", "gradient_gray.jpg", "gradient_rgb.jpg",
          "gradient_progressive.jpg", "gradient_palette.png"]
# A file takes at most 65,000 hard links on ext4: a fresh copy of the sources every 50,000 links
# each (same bytes, so still 6 distinct contents).
per_copy = 50000 * len(images)
for copy in range((rows + per_copy - 1) // per_copy):
    for name in images:
        shutil.copy(os.path.join(fixtures, name), os.path.join(work, "src", "%d-%s" % (copy, name)))
races = ["White", "Black", "East Asian", "Indian", "Latino_Hispanic", "Middle Eastern", "Southeast Asian"]
ages = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
with open(os.path.join(work, "manifest.csv"), "w") as out:
    out.write("file,age,gender,race\n")
    for i in range(rows):
        src = images[i % len(images)]
        name = "img/%07d%s" % (i, os.path.splitext(src)[1])
        os.link(os.path.join(work, "src", "%d-%s" % (i // per_copy, src)), os.path.join(work, name))
        out.write("%s,%s,%s,%s\n" % (name, ages[(i // 7) % len(ages)], "Male" if (i // 3) % 2 else "Female", races[(i // 11) % len(races)]))
PY
fi
sed -e "s#^model: .*#model: $PWD/Fixtures/clip-reference/tiny-clip#" \
    -e "s#^  path: .*#  path: $work/manifest.csv#" -e "s#^  image_root: .*#  image_root: $work#" \
    -e "s#^name: demo#name: large#" Audits/demo.yaml > "$work/audit.yaml"
rm -f "$work/cache.sqlite"*
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/rss_kb" "$binary" run "$work/audit.yaml" --output "$work/report" \
  --cache "$work/cache.sqlite" "$@" >/dev/null
end=$(date +%s.%N)
python3 - "$rows" "$start" "$end" "$(cat "$work/rss_kb")" <<'PY'
import json, sys
rows, start, end, rss = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(json.dumps({"rows": rows, "seconds": round(end - start, 2), "rows_per_s": round(rows / (end - start)),
                  "peak_rss_mb": round(rss / 1024, 1)}))
PY
