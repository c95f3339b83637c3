#!/usr/bin/env bash
# Mutation check: plants small numeric bugs, one at a time, in a scratch copy of the working tree
# and runs the tests that should notice each; every one must fail. A tolerance wide enough to let
# one of these through is wider than the arithmetic needs (see README, "Mutation check").
#
#   scripts/mutate.sh            every mutation
#   scripts/mutate.sh 3 7        the 3rd and 7th only (scripts/mutate.sh --list numbers them)
#
# The real tree is never written to. The scratch copy and its build directory stay in
# $CLIP_AUDIT_MUTATE_DIR (default ${TMPDIR:-/tmp}/clip-audit-mutate) between runs, so only the
# first run builds everything; each mutation is an incremental build. The unmutated copy must
# pass the same tests first, or nothing the mutations show would mean anything. Each mutation is a
# literal search and replace that must match: if the code it targets changes, the script stops
# and says so instead of silently planting nothing. Exit status: 0 when every mutation was
# caught, 1 when one survived, 2 on a setup error (a pattern not found, a build failure).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work="${CLIP_AUDIT_MUTATE_DIR:-${TMPDIR:-/tmp}/clip-audit-mutate}"
tree="$work/tree"
build="$work/build"
logs="$work/logs"

# Test filters (Swift Testing identifiers, as --filter takes them).
network='NetworkParityTests|NetworkShapeTests|FormatParityTests|CommandTests/embedMatches|FormatCommandTests/embedMatches'
scoring='ZeroShotClassifierTests|AuditRunTests/genderProbabilities|CommandTests/classifyPrintsTheSoftmax'
imaging='ImagingParityTests|ImagingResamplerTests|FormatParityTests|CommandTests/embedMatches|FormatCommandTests/embedMatches'
statistics='StatisticsTests|DefaultLevelTests|MetricsTests|GroupSpreadTests'
kernels=Sources/CClipKernels/kernels.c

# name | file | text to find | its replacement | tests. Every occurrence is replaced (the kernels
# have a portable C and an AVX2 copy of some lines; both get the bug, whichever this CPU runs).
mutations=(
    "LayerNorm eps 1e-5 -> 1e-6 (the kernel uses eps/10)|$kernels|sqrtf(sq / (float)n + eps)|sqrtf(sq / (float)n + eps * 0.1f)|$network"
    "exact GELU -> tanh approximation|$kernels|0.5f * v * (1.0f + erff(v * inv_sqrt2))|0.5f * v * (1.0f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v)))|$network"
    "quick_gelu constant 1.702 -> 1.7|$kernels|-1.702f|-1.7f|$network"
    "attention scale 1/sqrt(d) 0.1% too large|Sources/CLIPEngine/Network/TransformerEncoder.swift|let scale = 1 / Float(headDim).squareRoot()|let scale = 1.001 / Float(headDim).squareRoot()|$network"
    "attention softmax normalised to 0.999|$kernels|float inv = 1.0f / sum;|float inv = 0.999f / sum;|$network"
    "logit scale exp(s) -> exp(s - 1e-4)|Sources/CLIPEngine/Network/CLIPModel.swift|expf(weights.logitScale)|expf(weights.logitScale - 1e-4)|$network|$scoring"
    "zero-shot softmax at temperature 1.001|Sources/CLIPEngine/ZeroShotScorer.swift|values[i] = exp(values[i] - top)|values[i] = exp((values[i] - top) / 1.001)|$scoring"
    "Pillow bicubic a = -0.5 -> -0.6|Sources/CLIPEngine/Imaging/PillowResampler.swift|let a = -0.5|let a = -0.6|$imaging"
    "Wilson z 1.959964 -> 1.96|Sources/AuditEngine/Statistics/Intervals.swift|public let z95: Double = 1.959964|public let z95: Double = 1.96|$statistics"
    "paired Newcombe psi: A - N/2 -> A - N|Sources/AuditEngine/Statistics/Intervals.swift|psi = (cross - n / 2) / scale|psi = (cross - n) / scale|$statistics"
)

field() { cut -d'|' -f"$2" <<<"$1"; }

if [ "${1:-}" = "--list" ]; then
    for i in "${!mutations[@]}"; do echo "$((i + 1)). $(field "${mutations[$i]}" 1)"; done
    exit 0
fi
selected=("$@")
if [ ${#selected[@]} -eq 0 ]; then selected=($(seq 1 ${#mutations[@]})); fi

# The scratch tree mirrors the working tree's tracked and untracked (not ignored) files; a file is
# rewritten only when its content differs, so unchanged files keep their times and stay built.
sync_tree() {
    mkdir -p "$tree" "$logs"
    { git ls-files -z -co --exclude-standard; [ -f Package.resolved ] && printf 'Package.resolved\0'; } | python3 -c '
import filecmp, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
names = [n for n in sys.stdin.buffer.read().decode().split("\0") if n and os.path.isfile(os.path.join(src, n))]
for name in names:
    a, b = os.path.join(src, name), os.path.join(dst, name)
    if not (os.path.isfile(b) and filecmp.cmp(a, b, shallow=False)):
        os.makedirs(os.path.dirname(b), exist_ok=True)
        shutil.copy2(a, b)
keep = set(names)
for root, dirs, files in os.walk(dst):
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), dst)
        if rel not in keep:
            os.remove(os.path.join(root, f))
' "$repo" "$tree"
}

# Replaces every occurrence of $3 by $4 in the scratch copy of $2; stops the script when there is none.
plant() {
    python3 - "$tree/$1" "$2" "$3" <<'EOF'
import sys
path, old, new = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
count = text.count(old)
if count == 0:
    sys.exit(f"mutate.sh: {path}: pattern not found (the code changed; update the mutation): {old}")
open(path, "w", encoding="utf-8").write(text.replace(old, new))
print(count)
EOF
}

restore() { cp -p "$repo/$1" "$tree/$1"; }

build_tree() {
    if ! swift build --build-tests --package-path "$tree" --scratch-path "$build" >"$logs/build.log" 2>&1; then
        tail -n 30 "$logs/build.log" >&2
        echo "mutate.sh: the build failed ($1); log: $logs/build.log" >&2
        exit 2
    fi
}

# Runs the tests matching $1, log in $2; prints "failed/run" and returns the test run's status.
run_tests() {
    local status=0
    swift test --skip-build --package-path "$tree" --scratch-path "$build" --filter "$1" >"$2" 2>&1 || status=$?
    local failed run
    failed=$(grep -c -E '^✘ Test [^ ]+ failed after' "$2" || true)
    run=$(grep -c -E '^(✔|✘) Test [^ ]+ (passed|failed) after' "$2" || true)
    echo "$failed/$run"
    return $status
}

sync_tree
echo "scratch copy: $tree (build: $build)"
started=$SECONDS
build_tree "unmutated"
union=$(for i in "${selected[@]}"; do field "${mutations[$((i - 1))]}" 5-; done | tr '\n' '|' | sed 's/|$//')
if ! counts=$(run_tests "$union" "$logs/baseline.log"); then
    grep -E '^✘|error' "$logs/baseline.log" | head -n 20 >&2
    echo "mutate.sh: the unmutated copy fails the tests ($counts); log: $logs/baseline.log" >&2
    exit 2
fi
echo "unmutated: every selected test passes ($counts failed/run)"

survived=0
for i in "${selected[@]}"; do
    m="${mutations[$((i - 1))]}"
    name=$(field "$m" 1) file=$(field "$m" 2) old=$(field "$m" 3) new=$(field "$m" 4) filter=$(field "$m" 5-)
    count=$(plant "$file" "$old" "$new") || exit 2
    t0=$SECONDS
    build_tree "$name"
    log="$logs/mutation-$i.log"
    if counts=$(run_tests "$filter" "$log"); then
        echo "$i. SURVIVED  $name  ($count place(s) in $file; $counts tests failed; log: $log)"
        survived=$((survived + 1))
    else
        echo "$i. caught    $name  ($count place(s) in $file; $counts tests failed, $((SECONDS - t0)) s)"
        grep -o -E '^✘ Test [^ ]+ failed after' "$log" | sed -e 's/^✘ Test /       /' -e 's/ failed after$//' | sort -u
    fi
    restore "$file"
done
echo "${#selected[@]} mutations, $((${#selected[@]} - survived)) caught, $survived survived ($((SECONDS - started)) s)"
[ "$survived" -eq 0 ] || exit 1
