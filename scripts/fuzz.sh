#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Fuzz/, a separate package) and runs each for a bounded time on
# its seed corpus (Fuzz/corpus/<target>/). Usage: scripts/fuzz.sh [seconds-per-target] [target...]
# Default: 60 s each, all targets. Exit status 1 when any harness found a crash; the crashing
# inputs are in .build/fuzz/artifacts/<target>/ (turn each into a regression test).
# New inputs libFuzzer finds go to .build/fuzz/corpus/<target>/, not into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzJPEG FuzzPNG FuzzSafeTensors FuzzCSV FuzzAuditFile FuzzTokenizer
                                     FuzzTokenizerFiles FuzzPreprocessorConfig FuzzModelConfig FuzzPickle)

# Coverage and AddressSanitizer for Swift and the C wrapper; libFuzzer's runtime is linked, but
# `main` is the harness's (SwiftPM renames it), which hands over to LLVMFuzzerRunDriver.
flags=(-Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
       -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)
for t in "${targets[@]}"; do
  swift build --package-path Fuzz --product "$t" "${flags[@]}" 2>&1 | grep -E "error|warning: unre|Compiling|complete" | grep -v "^\[" || true
done
bin="$(swift build --package-path Fuzz --show-bin-path "${flags[@]}")"

export SWIFT_BACKTRACE=enable=no   # let AddressSanitizer and libFuzzer report crashes
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}"
work=.build/fuzz
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
  grep -E "stat::number_of_executed_runs|stat::peak_rss_mb" "$work/$t.log" | tr '\n' ' ' >&2; echo >&2
done
exit $status
