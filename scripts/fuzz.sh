#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Fuzz/, a separate package) and runs each for a bounded time on
# its seed corpus (Fuzz/corpus/<target>/). Usage: scripts/fuzz.sh [seconds-per-target] [target...]
# Default: 60 s each, all targets. CI (.ci/run) runs every target for a few seconds each.
# Exit status 1 when any harness found a crash (a sanitizer report, a failed property
# precondition, a timeout or an out-of-memory); the crashing inputs are in
# .build/fuzz/artifacts/<target>/ (turn each into a regression test); 2 when a build failed.
# New inputs libFuzzer finds go to .build/fuzz/corpus/<target>/, not into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
all=(FuzzJPEG FuzzPNG FuzzSafeTensors FuzzCSV FuzzAuditFile FuzzTokenizer
     FuzzTokenizerFiles FuzzPreprocessorConfig FuzzModelConfig FuzzPickle)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
start=$(date +%s)

# Coverage and AddressSanitizer for Swift and the C wrapper; libFuzzer's runtime is linked, but
# `main` is the harness's (SwiftPM renames it), which hands over to LLVMFuzzerRunDriver.
flags=(-Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
       -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)
work=.build/fuzz
mkdir -p "$work"
# Product by product: they share the instrumented clip-audit modules, built once; a plain
# `swift build` would also link clip-audit's own executable with the fuzzer runtime, which has no
# test function. A failed build stops here with its errors, not as a "crash" later.
: >"$work/build.log"
for t in "${targets[@]}"; do
  if ! swift build --package-path Fuzz --product "$t" "${flags[@]}" >>"$work/build.log" 2>&1; then
    grep -E "error" "$work/build.log" | head -20 >&2 || tail -20 "$work/build.log" >&2
    echo "!! $t did not build: see $work/build.log" >&2
    exit 2
  fi
done
bin="$(swift build --package-path Fuzz --show-bin-path "${flags[@]}")"
echo "== built in $(( $(date +%s) - start ))s" >&2

export SWIFT_BACKTRACE=enable=no   # let AddressSanitizer and libFuzzer report crashes
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}"
status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  echo "== $t: ${seconds}s" >&2
  if ! "$bin/$t" "$work/corpus/$t" "Fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" >"$work/$t.log" 2>&1; then
    echo "!! $t found a crash: see $work/$t.log and $work/artifacts/$t/" >&2
    grep -E "ERROR|Fatal error|Precondition|panic|SUMMARY" "$work/$t.log" | head -5 >&2 || true
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$t.log" | tr '\n' ' ' >&2; echo >&2
done
echo "== fuzzing done in $(( $(date +%s) - start ))s" >&2
exit $status
