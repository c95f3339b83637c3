#!/usr/bin/env bash
# A sharded clip-audit run on Slurm: an array of N encoder tasks, then one report job.
#   sbatch --cpus-per-task=8 --mem=8G --time=04:00:00 --array=0-7 docs/slurm-array.sh Audits/fairface.yaml [REPORT_DIR]
# Each task encodes its share (taken from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT by
# `--shard auto`) with SLURM_CPUS_PER_TASK threads into its own cache file (SQLite must not be
# shared over NFS), then marks its shard done. The task that finds every shard done submits the
# report job: one CPU and CLIP_AUDIT_REPORT_MEM (default 2G) in the array's partition, account,
# QOS and time limit; it reads every shard cache, encodes nothing (--cached-only) and writes the
# report. A shard that was killed (node failure, preemption, time limit) is rerun with
#   scontrol requeue JOBID_TASK
# (same array, same share, same cache: it resumes from what it had committed); once it is done
# the report job is submitted as usual.
# No #SBATCH line here sets CPUs, memory or time: the shards get what sbatch is given (else the
# partition's defaults), never a size guessed here that a smaller partition could not run; the
# report job, submitted from this same file, asks for its own.
#SBATCH --job-name=clip-audit
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
  exec "$bin" run "$audit" --output "$report" --cached-only --threads "${SLURM_CPUS_PER_TASK:-1}" \
    --cache "$caches/merged.sqlite" "${args[@]}"
fi

task="${SLURM_ARRAY_TASK_ID:?not a Slurm array task: submit with sbatch --array=0-N}"
"$bin" run "$audit" --shard auto --threads "${SLURM_CPUS_PER_TASK:-1}" --cache "$caches/shard-$task.sqlite"
# The marker is written only after the shard's run exited 0 (its cache is closed and complete).
touch "$caches/shard-$task.done"

count="${SLURM_ARRAY_TASK_COUNT:?SLURM_ARRAY_TASK_COUNT is not set}"
done_count=$(find "$caches" -maxdepth 1 -name 'shard-*.done' | wc -l)
# Two tasks finishing together may both count every shard: mkdir is atomic (also on NFS), so
# only one of them submits the report job.
if [ "$done_count" -ge "$count" ] && mkdir "$caches/report-submitted" 2>/dev/null; then
  # The report job asks for what it needs and carries over where and as whom the array ran.
  opts=(--job-name=clip-audit-report --output=clip-audit-report-%j.log
    --nodes=1 --ntasks=1 --cpus-per-task=1 --mem="${CLIP_AUDIT_REPORT_MEM:-2G}")
  IFS='|' read -r partition account qos limit < <(squeue -h -j "$SLURM_JOB_ID" -o '%P|%a|%q|%l')
  [[ -n "$partition" && "$partition" != "(null)" ]] && opts+=(--partition="$partition")
  [[ -n "$account" && "$account" != "(null)" ]] && opts+=(--account="$account")
  [[ -n "$qos" && "$qos" != "(null)" ]] && opts+=(--qos="$qos")
  [[ -n "$limit" && "$limit" != "(null)" ]] && opts+=(--time="$limit")
  if ! CLIP_AUDIT_STAGE=report CLIP_AUDIT_SHARD_DIR="$caches" \
    sbatch "${opts[@]}" --export=ALL "$0" "$audit" "$report"; then
    rmdir "$caches/report-submitted"
    exit 1
  fi
fi
