#!/usr/bin/env bash
# Runs docs/slurm-array.sh on a real Slurm: starts a private one-node cluster (munged, slurmctld,
# slurmd, all in a temporary folder, on free ports), submits the array as the README says, and
# checks that the report is byte-identical to a one-machine run; then kills a shard of a larger
# audit mid-run with SIGKILL, requeues it, and checks that report too.
#   scripts/slurm-test.sh            (root; installs Debian's slurmctld, slurmd and munge if missing)
# It prints one "slurm test: SKIPPED: ..." line and exits 0 where Slurm cannot be installed or
# started (not root, no apt-get, no package source) or when CLIP_AUDIT_SLURM_TEST=0.
# CLIP_AUDIT_BIN picks the binary (default: the debug build that scripts/test.sh makes).
# Everything it starts is stopped and its folder removed, also when it fails or is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin="${CLIP_AUDIT_BIN:-$repo/.build/debug/clip-audit}"
started=$SECONDS

skip() {
  echo "slurm test: SKIPPED: $*"
  exit 0
}
say() { echo "slurm test: $*"; }
fail() {
  echo "slurm test: FAILED: $*" >&2
  exit 1
}

[ "${CLIP_AUDIT_SLURM_TEST:-1}" != 0 ] || skip "CLIP_AUDIT_SLURM_TEST=0"
# The private cluster runs slurmd and the jobs as root (slurmd must be able to become the job's user).
[ "$(id -u)" = 0 ] || skip "it starts its own slurmctld and slurmd, which needs root"
[ -x "$bin" ] || fail "$bin is not built (swift build --product clip-audit)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
  ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get"
  say "installing slurmctld, slurmd, slurm-client and munge"
  # Only the daemons and the client: slurm-wlm would pull in every plugin (about twice the time).
  install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      slurmctld slurmd slurm-client munge >/dev/null
  }
  install 2>/dev/null || { apt-get update -q >/dev/null 2>&1 && install; } ||
    skip "could not install Slurm from the package sources"
fi
command -v python3 >/dev/null || skip "python3 is missing (scripts/install-deps.sh --test installs it)"

work=$(mktemp -d "${TMPDIR:-/tmp}/clip-audit-slurm.XXXXXX")
# munged refuses a socket whose folder others cannot search; jobs run as root here anyway.
chmod 755 "$work"
pids=()
export SLURM_CONF="$work/slurm.conf"

cleanup() {
  local rc=$?
  set +e
  if [ -f "$work/slurmctld.up" ]; then
    scancel --quiet --user="$(id -un)" 2>/dev/null
    # Cancelled jobs' processes end under slurmd; wait for them before the daemons go.
    for _ in $(seq 1 50); do
      [ -z "$(squeue -h 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
  done
  if [ -f "$work/munged.pid" ]; then
    pid=$(cat "$work/munged.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  if [ "$rc" != 0 ] && [ -d "$work" ]; then
    # The daemons' and jobs' logs say why; show their ends before the folder goes.
    for f in "$work"/slurmctld.log "$work"/slurmd.log "$work"/submit*/*.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; } >&2
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the cluster -----------------------------------------------------------------------------
mkdir -p "$work/state" "$work/spool"
head -c 1024 /dev/urandom >"$work/munge.key"
chmod 400 "$work/munge.key"
# --force: munged would refuse to run as root.
munged --force --key-file="$work/munge.key" --socket="$work/munge.socket" --pid-file="$work/munged.pid" \
  --log-file="$work/munged.log" --seed-file="$work/munged.seed" ||
  skip "munged does not start here ($(tail -n 1 "$work/munged.log" 2>/dev/null))"

read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("", 0))
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 512))
# cred_expire also sets how long a requeued job waits before it may start again (default 120 s),
# and sched_interval how soon after that the scheduler looks again (default 60 s).
cat >"$SLURM_CONF" <<EOF
ClusterName=clipaudittest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge.socket,cred_expire=5
CredType=cred/munge
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -c -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
pids+=($!)
touch "$work/slurmctld.up"
slurmd -D -f "$SLURM_CONF" -N "$host" >"$work/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break
  sleep 0.2
done
[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] || skip "the one-node Slurm did not come up here (sinfo: $(sinfo -h -o %t 2>&1 | head -n 1))"
say "one-node Slurm up ($cpus CPUs) in $((SECONDS - started)) s"

# --- helpers ---------------------------------------------------------------------------------
# Waits (at most $1 seconds) until the queue is empty: shards, then the report job a shard submits
# before it ends, so the queue is never empty in between.
wait_queue() {
  local limit=$1 t0=$SECONDS
  while [ -n "$(squeue -h)" ]; do
    ((SECONDS - t0 < limit)) || fail "jobs still queued after $limit s: $(squeue -h -o '%i %T %r' | tr '\n' ';')"
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a Slurm daemon died"; done
    sleep 0.5
  done
}
# JobState of every task of an array job (or of one job), one per line.
states() { scontrol -o show job "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
# The id of the report job (named clip-audit-report) submitted after job $1, if any.
report_job() {
  scontrol -o show jobs | grep 'JobName=clip-audit-report ' | grep -o '^JobId=[0-9]*' | cut -d= -f2 |
    awk -v after="$1" '$1 > after'
}
# Compares two report folders: every file byte for byte but run.json, and run.json without the
# fields a sharded run must have otherwise (see the comment in the Python).
compare() {
  diff -r -x run.json "$1" "$2" || fail "$2 differs from the one-machine run $1"
  python3 - "$1/run.json" "$2/run.json" <<'EOF' || fail "$2/run.json differs from $1/run.json"
import json, sys
# Left out, because they cannot agree: "cache" is the cache path (each run has its own),
# "timings_s" are seconds measured, and three counts say where embeddings came from (the report
# job encodes nothing: every image comes from the shard caches).
def strip(path):
    run = json.load(open(path))
    run.pop("cache"); run.pop("timings_s")
    for k in ("images_encoded", "images_from_cache", "prompts_encoded"):
        run["counts"].pop(k)
    return run
a, b = (strip(p) for p in sys.argv[1:])
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k): print("run.json differs in", k, file=sys.stderr)
    sys.exit(1)
EOF
}
# The shards find clip-audit on PATH, as a user's jobs would.
bindir=$(cd "$(dirname "$bin")" && pwd)
export PATH="$bindir:$PATH"

# --- 1. the demo audit, submitted as the README says -----------------------------------------
t0=$SECONDS
clip-audit run "$repo/Audits/demo.yaml" --output "$work/single-demo" --cache "$work/single-demo.sqlite" \
  >/dev/null 2>"$work/single-demo.err" || fail "one-machine run: $(tail -n 1 "$work/single-demo.err")"
mkdir "$work/submit1"
cd "$work/submit1"
array=$(sbatch --parsable --cpus-per-task=1 --mem=1G --array=0-2 \
  "$repo/docs/slurm-array.sh" "$repo/Audits/demo.yaml" "$work/slurm-demo")
wait_queue 180
[ "$(states "$array" | sort -u)" = COMPLETED ] || fail "shards of $array: $(states "$array" | tr '\n' ' ')"
rj=$(report_job "$array")
[ -n "$rj" ] || fail "no report job was submitted"
[ "$(states "$rj")" = COMPLETED ] || fail "report job $rj: $(states "$rj")"
# The report job asked for one CPU and its own memory, not a shard's.
scontrol -o show job "$rj" | grep -q 'NumCPUs=1 ' || fail "report job $rj did not ask for one CPU"
compare "$work/single-demo" "$work/slurm-demo"
say "demo: 3 shards + report job on Slurm, byte-identical to one machine ($((SECONDS - t0)) s)"

# --- 2. a shard killed mid-run and requeued --------------------------------------------------
# The demo's shards encode four images each, too few to be killed in the middle; a FairFace-shaped
# audit of 150 images (50 a shard, 4 batches) on the same fixture model is.
t0=$SECONDS
cd "$repo"
python3 scripts/make-fairface-shaped.py "$work/shaped" 150 >/dev/null
mkdir "$work/submit2"
cd "$work/submit2"
# With a time limit this time: the report job must carry it over.
array=$(sbatch --parsable --cpus-per-task=1 --mem=1G --time=30:00 --array=0-2 \
  "$repo/docs/slurm-array.sh" "$work/shaped/audit.yaml" "$work/slurm-shaped")
cache="$work/submit2/shard-caches/$array/shard-1.sqlite"
rows() { python3 -c 'import sqlite3, sys
try: print(sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True).execute("select count(*) from image_embeddings").fetchone()[0])
except Exception: print(0)' "$cache"; }
# Killed once it has committed a batch: what it committed must be kept, the rest encoded on requeue.
for _ in $(seq 1 600); do
  [ "$(rows)" -ge 16 ] && break
  sleep 0.2
done
before=$(rows)
[ "$before" -ge 16 ] || fail "shard 1 committed no batch in 120 s"
# listpids takes the task's own job id, not ARRAY_TASK.
victim=$(scontrol listpids "$(squeue -h -j "${array}_1" -o %A)" | awk 'NR > 1 {print $1}' | while read -r p; do
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = clip-audit ] && echo "$p"; done | head -n 1)
[ -n "$victim" ] || fail "no clip-audit process in shard 1"
kill -KILL "$victim"
# The report must not run without shard 1: the others finish, and nothing more is queued.
wait_queue 180
[ -z "$(report_job "$array")" ] || fail "a report job was submitted although shard 1 was killed"
[ "$(states "${array}_1")" = FAILED ] || fail "killed shard 1 is $(states "${array}_1"), not FAILED"
killed=$(rows)
((killed < 50)) || fail "shard 1 had finished ($killed images) before it was killed: nothing was tested"
say "shard 1 killed (SIGKILL) with $killed of 50 images committed; requeued"
scontrol requeue "${array}_1"
wait_queue 240
[ "$(states "$array" | sort -u)" = COMPLETED ] || fail "shards of $array: $(states "$array" | tr '\n' ' ')"
rj=$(report_job "$array")
[ -n "$rj" ] || fail "no report job was submitted after the requeue"
[ "$(states "$rj")" = COMPLETED ] || fail "report job $rj after the requeue: $(states "$rj")"
job=$(scontrol -o show job "$rj")
for want in NumCPUs=1 TimeLimit=00:30:00 Partition=test MinMemoryNode=2G; do
  [[ " $job " == *" $want "* ]] || fail "report job $rj: expected $want in: $job"
done
grep -q "[1-9][0-9]* already cached" "clip-audit-${array}_1.log" ||
  fail "the requeued shard did not resume from its cache: $(tail -n 1 "clip-audit-${array}_1.log")"
clip-audit run "$work/shaped/audit.yaml" --output "$work/single-shaped" --cache "$work/single-shaped.sqlite" \
  >/dev/null 2>"$work/single-shaped.err" || fail "one-machine run: $(tail -n 1 "$work/single-shaped.err")"
compare "$work/single-shaped" "$work/slurm-shaped"
say "shaped: shard killed and requeued, report byte-identical to one machine ($((SECONDS - t0)) s)"
say "passed in $((SECONDS - started)) s"
