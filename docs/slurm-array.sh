#!/usr/bin/env bash
# A sharded clip-audit run on Slurm: an array of N encoder tasks, then one report task.
#   sbatch --array=0-7 docs/slurm-array.sh Audits/fairface.yaml          # the shards (N = 8 here)
# Each task encodes its share (taken from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT by
# `--shard auto`) into its own cache file (SQLite must not be shared over NFS). When the array
# is done, the report job (submitted by task 0 with a dependency on the whole array) reads every
# shard cache, encodes nothing (--cached-only) and writes the report.
#SBATCH --job-name=clip-audit
#SBATCH --cpus-per-task=8
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=clip-audit-%A_%a.log
set -euo pipefail
audit="${1:?usage: sbatch --array=0-N docs/slurm-array.sh AUDIT.yaml [REPORT_DIR]}"
report="${2:-Reports/$(basename "$audit" .yaml)}"
caches="${CLIP_AUDIT_SHARD_DIR:-$PWD/shard-caches/${SLURM_ARRAY_JOB_ID:-local}}"
mkdir -p "$caches"
bin="${CLIP_AUDIT_BIN:-clip-audit}"

if [ "${CLIP_AUDIT_STAGE:-shard}" = "report" ]; then
  args=()
  for c in "$caches"/shard-*.sqlite; do args+=(--cache "$c"); done
  exec "$bin" run "$audit" --output "$report" --cached-only --cache "$caches/merged.sqlite" "${args[@]}"
fi

"$bin" run "$audit" --shard auto --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --cache "$caches/shard-${SLURM_ARRAY_TASK_ID}.sqlite"

if [ "${SLURM_ARRAY_TASK_ID}" = "${SLURM_ARRAY_TASK_MIN:-0}" ]; then
  CLIP_AUDIT_STAGE=report CLIP_AUDIT_SHARD_DIR="$caches" \
    sbatch --dependency="afterok:${SLURM_ARRAY_JOB_ID}" --array=0 --export=ALL "$0" "$audit" "$report"
fi
