#!/usr/bin/env bash
# Builds the clip-audit image from Containerfile and tests it.
#   scripts/container.sh build    builds localhost/clip-audit:latest (CLIP_AUDIT_IMAGE sets the name)
#   scripts/container.sh test     builds, then runs the demo audit inside the image and compares
#                                 its report folder with a run of the host's build, byte for byte
# With buildah (installed from Debian when missing and run as root). Where the public base images
# cannot be pulled (no registry reachable), it makes local ones instead and builds the same
# Containerfile from them: Debian bookworm from Debian's own packages (debootstrap, through the
# machine's apt sources) and, for the build stage, that system plus the Swift toolchain's
# libraries with the machine's toolchain mounted read-only at its own path. Those bases and
# debootstrap's file system are kept in CLIP_AUDIT_CONTAINER_CACHE (default
# /var/tmp/clip-audit-container), outside the repository, so a second build reuses them.
# Containers run with `buildah run --isolation chroot`, which works in sandboxes where podman
# cannot set its resource limits.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
mode="${1:-}"
[[ "$mode" == build || "$mode" == test ]] || {
  echo "usage: scripts/container.sh build|test" >&2
  exit 2
}
image="${CLIP_AUDIT_IMAGE:-localhost/clip-audit:latest}"
cache="${CLIP_AUDIT_CONTAINER_CACHE:-/var/tmp/clip-audit-container}"
public_runtime=docker.io/library/debian:bookworm-slim
local_runtime=localhost/clip-audit-base:bookworm-slim
local_swift=localhost/clip-audit-swift:bookworm-host-toolchain

say() { echo "container: $*"; }
fail() {
  echo "container: FAILED: $*" >&2
  exit 1
}
# Installs Debian packages for commands that are missing (root only).
need() {
  local missing=()
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
  [ ${#missing[@]} = 0 ] && return 0
  [ "$(id -u)" = 0 ] || fail "missing ${missing[*]} (install them, or run as root)"
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}
need buildah:buildah

temps=()
containers=()
cleanup() {
  local rc=$?
  set +e
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1; done
  for t in "${temps[@]}"; do rm -rf "$t"; done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The first deb URI of the machine's apt sources (deb822 or one-line format), so that debootstrap
# reads the same Debian archive apt does; empty: debootstrap's own default.
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ && $2 !~ /security/ {print $2; exit} /^deb / && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' "$f"
  done | head -n 1
}

have_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# Debian bookworm made from Debian's packages, standing in for debian:bookworm-slim.
make_local_runtime() {
  have_image "$local_runtime" && return 0
  need debootstrap:debootstrap
  mkdir -p "$cache"
  if [ ! -f "$cache/bookworm-minbase.tar" ]; then
    say "making Debian bookworm with debootstrap (a few minutes, once)"
    rm -rf "$cache/rootfs"
    local mirror
    mirror=$(apt_mirror)
    debootstrap --variant=minbase bookworm "$cache/rootfs" ${mirror:+"$mirror"} >"$cache/debootstrap.log" 2>&1 ||
      fail "debootstrap failed: $(tail -n 1 "$cache/debootstrap.log")"
    rm -rf "$cache/rootfs/var/lib/apt/lists/"* "$cache/rootfs/var/cache/apt/"*.bin
    tar -C "$cache/rootfs" -cf "$cache/bookworm-minbase.tar.tmp" .
    mv "$cache/bookworm-minbase.tar.tmp" "$cache/bookworm-minbase.tar"
    rm -rf "$cache/rootfs"
  fi
  local c
  c=$(buildah from scratch)
  containers+=("$c")
  buildah add --quiet "$c" "$cache/bookworm-minbase.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$c"
  buildah commit --quiet "$c" "$local_runtime" >/dev/null
}

# That system with what the Swift toolchain needs (the packages of the official swift:bookworm
# image); the toolchain itself is mounted from the machine at build time.
make_local_swift() {
  local toolchain=$1
  have_image "$local_swift" && return 0
  say "making the build base: Debian bookworm + the Swift toolchain's libraries"
  local c
  c=$(buildah from "$local_runtime")
  containers+=("$c")
  buildah run --isolation chroot "$c" -- sh -c 'apt-get update -q >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      binutils git ca-certificates libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev libpython3-dev \
      libsqlite3-0 libstdc++-12-dev libxml2-dev libncurses-dev libz3-dev pkg-config tzdata zlib1g-dev >/dev/null &&
    rm -rf /var/lib/apt/lists/*'
  buildah config --env "PATH=$toolchain/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$c"
  buildah commit --quiet "$c" "$local_swift" >/dev/null
}

build() {
  local t0=$SECONDS ctx args=()
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/clip-audit-context.XXXXXX")
  temps+=("$ctx")
  # Only what the image is built from: a small context, and no host build products in it.
  cp -r Containerfile Package.swift Package.resolved Sources Tests "$ctx/"
  if buildah pull --quiet "$public_runtime" >/dev/null 2>&1; then
    say "building from the public base images"
  else
    say "no registry reachable: building from local Debian bases and this machine's Swift toolchain"
    local swift toolchain
    swift=$(command -v swift) || fail "no swift on PATH to build with"
    toolchain=$(cd "$(dirname "$(readlink -f "$swift")")/../.." && pwd)
    make_local_runtime
    make_local_swift "$toolchain"
    # SwiftPM cannot fetch the dependencies either: bring the host's resolved checkouts.
    [ -d .build/checkouts ] || swift package resolve >/dev/null
    mkdir -p "$ctx/offline-deps/.build"
    cp -r .build/checkouts .build/repositories .build/workspace-state.json "$ctx/offline-deps/.build/"
    args+=(--build-arg "SWIFT_IMAGE=$local_swift" --build-arg "RUNTIME_IMAGE=$local_runtime"
      --volume "$toolchain:$toolchain:ro")
  fi
  say "building $image (release build: several minutes)"
  buildah bud --isolation chroot --layers --quiet "${args[@]}" -f "$ctx/Containerfile" -t "$image" "$ctx" \
    >"$ctx/build.log" 2>&1 || {
    tail -n 20 "$ctx/build.log" >&2
    fail "buildah bud failed"
  }
  say "built $image in $((SECONDS - t0)) s ($(buildah images --noheading --format '{{.Size}}' "$image"))"
}

# Compares two report folders: every file byte for byte but run.json, and run.json without the
# fields that cannot agree (see the Python). A third argument "sharded": $2 was made from shard
# caches.
compare() {
  diff -r -x run.json "$1" "$2" || fail "$2 differs from $1"
  python3 - "$1/run.json" "$2/run.json" "${3:-}" <<'EOF' || fail "$2/run.json differs from $1/run.json"
import json, sys
# "cache" is each run's own cache file and "timings_s" are seconds measured; everything else
# (paths included: both runs see the repository at the same path) must be equal, but for the
# counts of where embeddings came from when the report was made from shard caches.
def strip(path):
    run = json.load(open(path))
    run.pop("cache"); run.pop("timings_s")
    if sys.argv[3] == "sharded":
        for k in ("images_encoded", "images_from_cache", "prompts_encoded"):
            run["counts"].pop(k)
    return run
a, b = (strip(p) for p in sys.argv[1:3])
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k): print("run.json differs in", k, file=sys.stderr)
    sys.exit(1)
EOF
}

test_image() {
  local t0=$SECONDS work c host_bin
  host_bin="${CLIP_AUDIT_BIN:-$repo/.build/debug/clip-audit}"
  [ -x "$host_bin" ] || fail "$host_bin is not built (swift build --product clip-audit)"
  # What Kubernetes relies on: the entrypoint, a non-root user, the Hugging Face cache volume.
  local config
  config=$(buildah inspect --type image --format '{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.User}} {{.OCIv1.Config.Volumes}}' "$image")
  [[ "$config" == "[clip-audit] 10001:10001 map[/home/audit/.cache/huggingface:{}]" ]] ||
    fail "image config is $config"
  work=$(mktemp -d "${TMPDIR:-/tmp}/clip-audit-container-test.XXXXXX")
  temps+=("$work")
  # The image's user writes the report here; the repository is mounted read-only at its own path,
  # so both runs name the same audit file.
  chmod 777 "$work"
  c=$(buildah from "$image")
  containers+=("$c")
  local run=(buildah run --isolation chroot -v "$repo:$repo:ro" -v "$work:$work" "$c" --)
  [ "$("${run[@]}" id -u)" = 10001 ] || fail "the image does not run as its non-root user"
  local t1=$SECONDS
  "${run[@]}" clip-audit run "$repo/Audits/demo.yaml" --output "$work/container" --cache "$work/container.sqlite" \
    >"$work/container.out" 2>&1 || fail "demo audit in the image: $(tail -n 1 "$work/container.out")"
  local in_image=$((SECONDS - t1))
  "$host_bin" run Audits/demo.yaml --output "$work/host" --cache "$work/host.sqlite" >/dev/null 2>"$work/host.err" ||
    fail "demo audit on the host: $(tail -n 1 "$work/host.err")"
  compare "$work/host" "$work/container"
  say "demo audit in the image ($in_image s) is byte-identical to the host's"
  # docs/k8s-indexed-job.yaml's commands in the image: three shard pods, then the report pod's
  # merge and --cached-only run (the yaml runs the binary directly and the report through sh).
  t1=$SECONDS
  mkdir -m 777 "$work/caches"
  for k in 0 1 2; do
    "${run[@]}" env JOB_COMPLETION_INDEX=$k clip-audit run "$repo/Audits/demo.yaml" --shard auto --shard-count 3 \
      --threads 1 --cache "$work/caches/shard-$k.sqlite" >>"$work/k8s.out" 2>&1 ||
      fail "shard $k in the image: $(tail -n 1 "$work/k8s.out")"
  done
  "${run[@]}" sh -c "clip-audit cache merge $work/caches/merged.sqlite $work/caches/shard-*.sqlite &&
    clip-audit run $repo/Audits/demo.yaml --cached-only --cache $work/caches/merged.sqlite --output $work/k8s" \
    >>"$work/k8s.out" 2>&1 || fail "report in the image: $(tail -n 1 "$work/k8s.out")"
  compare "$work/host" "$work/k8s" sharded
  say "the Kubernetes job's shard and report commands in the image: byte-identical ($((SECONDS - t1)) s)"
  say "test took $((SECONDS - t0)) s"
}

build
if [ "$mode" = test ]; then test_image; fi
