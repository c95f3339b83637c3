#!/usr/bin/env bash
# Formats the package's Swift files with .swift-format (swift-format ships with the Swift
# toolchain). `scripts/format.sh --check` changes nothing and fails, naming the files, when
# formatting would change any: CI runs it so the tree stays formatted.
# Generated files (a "generated" note in their first two lines) stay as their generator writes them.
set -euo pipefail
cd "$(dirname "$0")/.."
formatter=(swift-format)
command -v swift-format >/dev/null || formatter=(swift format)

files=()
while IFS= read -r file; do
    head -2 "$file" | grep -qi 'generated' || files+=("$file")
done < <(git ls-files '*.swift')

if [[ "${1:-}" != --check ]]; then
    "${formatter[@]}" format --in-place --parallel --configuration .swift-format "${files[@]}"
    exit 0
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for file in "${files[@]}"; do
    mkdir -p "$scratch/$(dirname "$file")"
    cp "$file" "$scratch/$file"
done
cp .swift-format "$scratch/"
(cd "$scratch" && "${formatter[@]}" format --in-place --parallel --configuration .swift-format "${files[@]}")
unformatted=()
for file in "${files[@]}"; do
    cmp -s "$file" "$scratch/$file" || unformatted+=("$file")
done
if ((${#unformatted[@]})); then
    echo "scripts/format.sh --check: ${#unformatted[@]} file(s) are not formatted (run scripts/format.sh): ${unformatted[*]}" >&2
    exit 1
fi
echo "scripts/format.sh --check: ${#files[@]} Swift files formatted"
