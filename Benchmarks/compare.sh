#!/usr/bin/env bash
# Side by side, in one run: `clip-audit bench` and the PyTorch reference (Hugging Face transformers'
# CLIPModel, fp32, CPU) on the same random-weight checkpoint of the real ViT-B/16 sizes, with the
# same batch and thread count. The two alternate for --rounds rounds (ours first in odd rounds,
# theirs first in even ones) so a change in the machine's load hits both; each round prints both
# JSON lines and its ratios, and the last line is a summary (median and range of the ratios).
#
# usage: Benchmarks/compare.sh [--batch B] [--threads T] [--seconds S] [--rounds R] [--checkpoint DIR]
#   --checkpoint  a CLIP checkpoint directory (default: Benchmarks/checkpoints/clip-vit-base-patch16-random,
#                 made by make_checkpoint.py when missing)
#   CLIP_AUDIT_BENCH_PYTHON  a python with torch and transformers (default: Benchmarks/.venv, made by setup_venv.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
batch=32 threads=2 seconds=20 rounds=3
ckpt="$here/checkpoints/clip-vit-base-patch16-random"
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --checkpoint) ckpt="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
py="${CLIP_AUDIT_BENCH_PYTHON:-}"
[ -n "$py" ] || py=$("$here/setup_venv.sh" | tail -n 1)
[ -f "$ckpt/model.safetensors" ] || "$py" "$here/make_checkpoint.py" "$ckpt" >&2
(cd "$root" && "$root/scripts/install-deps.sh" && swift build -c release --product clip-audit >&2)
bin="$(cd "$root" && swift build -c release --product clip-audit --show-bin-path)/clip-audit"

ours() { "$bin" bench --model "$ckpt" --batch "$batch" --threads "$threads" --seconds "$seconds"; }
theirs() {
  OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" \
    "$py" "$here/torch_bench.py" "$ckpt" --batch "$batch" --threads "$threads" --seconds "$seconds" 2>/dev/null
}

results=()
for ((r = 1; r <= rounds; r++)); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  if ((r % 2)); then a=$(ours); b=$(theirs); else b=$(theirs); a=$(ours); fi
  echo "round $r (1-min load before: $load)"
  echo "  clip-audit:  $a"
  echo "  pytorch:     $b"
  results+=("$a" "$b")
done
"$py" - "${results[@]}" <<'PY'
import json, statistics, sys
lines = [json.loads(s) for s in sys.argv[1:]]
pairs = list(zip(lines[0::2], lines[1::2]))
def summary(key):
    ratios = [a[key] / b[key] for a, b in pairs]
    return {"median": round(statistics.median(ratios), 3), "min": round(min(ratios), 3), "max": round(max(ratios), 3)}
for i, (a, b) in enumerate(pairs, 1):
    print(f"  round {i} ratios: images {a['images_per_s'] / b['images_per_s']:.3f}, texts {a['texts_per_s'] / b['texts_per_s']:.3f}")
print(json.dumps({"rounds": len(pairs), "batch": pairs[0][0]["batch"], "threads": pairs[0][0]["threads"],
                  "images_ratio": summary("images_per_s"), "texts_ratio": summary("texts_per_s"),
                  "rss_clip_audit_mb": max(a["peak_rss_mb"] for a, _ in pairs),
                  "rss_pytorch_mb": max(b["peak_rss_mb"] for _, b in pairs)}))
PY
