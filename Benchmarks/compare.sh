#!/usr/bin/env bash
# Side by side, in one run: clip-audit bench and the PyTorch reference on the same random-weight
# checkpoint of the real ViT-B/16 sizes, with the same thread count; prints both JSON lines and the
# ratios. usage: Benchmarks/compare.sh [--batch B] [--threads T] [--seconds S]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
batch=32 threads=2 seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
py=$("$here/setup_venv.sh" | tail -n 1)
ckpt="$here/checkpoints/clip-vit-base-patch16-random"
[ -f "$ckpt/model.safetensors" ] || "$py" "$here/make_checkpoint.py" "$ckpt" >&2
(cd "$root" && "$root/scripts/install-deps.sh" && swift build -c release --product clip-audit >&2)
ours=$("$root/.build/release/clip-audit" bench --model "$ckpt" --batch "$batch" --threads "$threads" --seconds "$seconds")
theirs=$(OMP_NUM_THREADS="$threads" "$py" "$here/torch_bench.py" "$ckpt" --batch "$batch" --threads "$threads" --seconds "$seconds")
echo "clip-audit:  $ours"
echo "pytorch:     $theirs"
"$py" - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"images_ratio": round(a["images_per_s"] / b["images_per_s"], 3),
                  "texts_ratio": round(a["texts_per_s"] / b["texts_per_s"], 3),
                  "rss_clip_audit_mb": a["peak_rss_mb"], "rss_pytorch_mb": b["peak_rss_mb"]}))
PY
