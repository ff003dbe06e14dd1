#!/usr/bin/env bash
# Compares `ferry run` with rclone, rsync and cp on the same data, in one run, on this machine.
#
#   bench/run_compare.sh            (from the repository root; takes about 20 minutes)
#
# Cases (issue 3): (a) 10,000 files of 4-64 KiB, local to local; (b) eight files of 256 MiB;
# (c) a no-op re-run of (a); (d) (b) downloaded over SFTP from the loopback sshd that
# scripts/test-servers.sh starts; (e) eight files of 256 MiB and 2,000 small files to S3 (s3s-fs,
# then nanio) and to Azure Blob (Azurite), started by scripts/object-servers.sh. ferry runs with
# full verification (the default: every file is read back and its BLAKE3 compared); in (a) and
# (b) also with `--durability defer`, beside `cp -a, then sync`, and the tools take turns.
# Each line: the median wall time of FERRY_BENCH_RUNS runs (3), the peak RSS (GNU time), and
# every run's wall time.
# Data lives in $FERRY_BENCH_DIR (default /tmp/ferry-bench), reused between runs.
# FERRY_BENCH_BASELINE=PATH adds an earlier ferry binary (built from an older commit) to every
# case, taking turns with this build, so that "no slowdown" is measured in the same run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
work=${FERRY_BENCH_DIR:-/tmp/ferry-bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/ferry-target}
mkdir -p "$work"
export RCLONE_CONFIG=$work/rclone.conf

need=()
for tool in rclone rsync /usr/bin/time sftp; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rclone rsync time openssh-client >/dev/null
fi
cargo build --profile dist --locked --bin ferry >&2
: >"$RCLONE_CONFIG"
ferry=$CARGO_TARGET_DIR/dist/ferry
baseline=${FERRY_BENCH_BASELINE:-}
if [ -n "$baseline" ] && [ ! -x "$baseline" ]; then echo "FERRY_BENCH_BASELINE=$baseline is not an executable" >&2 && exit 2; fi

cases=${FERRY_BENCH_CASES:-abcde}
[ -d "$work/small" ] || python3 bench/make_data.py small "$work/small"
# The large files (2 GiB) only when a case uses them.
if [[ $cases == *[bde]* ]]; then [ -d "$work/large" ] || python3 bench/make_data.py large "$work/large"; fi

# Each measurement runs FERRY_BENCH_RUNS times (default 3); the median wall time counts.
runs=${FERRY_BENCH_RUNS:-3}
# measure NAME COMMAND...: runs COMMAND $runs times, calling `$before RUN` first each time (not
# timed) when `before` names a function, with BENCH_RUN=RUN in the environment, and prints
# "NAME  median_wall_s  peak_rss_MiB  [walls]" (the peak RSS is the largest of the runs).
measure() {
  local name=$1 run wall rss walls=() peak=0
  shift
  for ((run = 1; run <= runs; run++)); do
    if [ -n "${before:-}" ]; then "$before" "$run"; fi
    export BENCH_RUN=$run
    /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$work/$name.log" 2>&1 || { echo "$name failed:"; tail -20 "$work/$name.log"; return 1; }
    read -r wall rss <"$work/time.txt"
    walls+=("$wall")
    if ((rss > peak)); then peak=$rss; fi
  done
  report "$name" "$peak" "${walls[@]}"
}

# turns NAME COMMAND [NAME COMMAND]...: like `measure`, for several shell command lines that take
# turns: one run of each, then the next round, FERRY_BENCH_RUNS rounds. A slow spell of this
# shared machine then falls on all of them alike. Odd rounds go down the list, even rounds back
# up: a tool's run is slowed by what the run before it left behind (in case (d), whichever ran
# right after OpenSSH's `sftp` took 10-18% longer, bench/README.md 2026-12-07), so no tool
# may always follow the same one.
turns() {
  local -a names=() commands=() walls=() peaks=()
  local run index wall rss turn
  while (($# >= 2)); do names+=("$1") commands+=("$2") && shift 2; done
  for ((run = 1; run <= runs; run++)); do
    export BENCH_RUN=$run
    for ((turn = 0; turn < ${#names[@]}; turn++)); do
      index=$((run % 2 ? turn : ${#names[@]} - 1 - turn))
      if [ -n "${before:-}" ]; then "$before" "$run"; fi
      /usr/bin/time -f '%e %M' -o "$work/time.txt" bash -c "${commands[index]}" >"$work/${names[index]}.log" 2>&1 ||
        { echo "${names[index]} failed:"; tail -20 "$work/${names[index]}.log"; return 1; }
      read -r wall rss <"$work/time.txt"
      walls[index]="${walls[index]:-}${walls[index]:+ }$wall"
      if ((rss > ${peaks[index]:-0})); then peaks[index]=$rss; fi
    done
  done
  for index in "${!names[@]}"; do
    # shellcheck disable=SC2086 # one word per run
    report "${names[index]}" "${peaks[index]}" ${walls[index]}
  done
}

# report NAME PEAK_KIB WALL...: "NAME  median_wall_s  peak_rss_MiB  [walls]".
report() {
  local name=$1 peak=$2 median
  shift 2
  median=$(printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p")
  printf '%-44s %8.2f s %8.1f MiB  [%s]\n' "$name" "$median" "$(awk "BEGIN { print $peak / 1024 }")" "$*"
}

# A ferry plan that copies DIR (as the mount `/`) to OUT; $3 is an optional sftp connection.
plan() {
  local data=$1 out=$2 connection=${3:-"{ local: { path: $1 } }"}
  cat <<PLAN
version: 1
sources:
  bench:
    ip: ${FERRY_TEST_SFTP_HOST_A:-192.0.2.1}
    credentials: { username: ${FERRY_TEST_SFTP_USER:-bench}, password: { env: FERRY_BENCH_PASSWORD } }
    mountpoints: [ { name: /, size: 4 GiB } ]
    connection: $connection
targets:
  out:
    cloud: vsphere
    credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }
    vm:
      ip: 198.51.100.1
      credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }
      connection: { local: { path: $out } }
migrations:
  - { name: bench, source: bench, target: out, mounts: [/] }
PLAN
}

# Before every measured run: an empty output folder, written data flushed, and the source in the
# page cache (rclone drops the cache of the files it reads, which would otherwise slow whatever
# runs next). Local cases give each tool its own new output folder and delete them all after the
# case: a mass delete slows the next file creations on ext4 for a while, which would penalise
# whichever tool ran right after one.
fresh() {
  rm -rf "$work"/state*.db* && sync
  if [ -n "${warm:-}" ]; then find "$warm" -type f -exec cat {} + >/dev/null; fi
}
fresh_out() { rm -rf "$work/out" && mkdir -p "$work/out" && fresh; }
# Before each run of a local case: every tool's last output moved aside (10,000 small files,
# deleted with the case) or deleted (eight large files, which would fill the disk otherwise).
set_aside() {
  local target
  for target in "$out"/*/target; do
    if [ ! -e "$target" ]; then continue; fi
    if [ "$case" = large ]; then rm -rf "$target"; else mv "$target" "$target.$1.$RANDOM"; fi
  done
  fresh
}


echo "ferry benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores; wall time and peak RSS"
# FERRY_BENCH_CASES=e runs only the object-storage case, `ac` only the small files (a) and their
# no-op re-run (c), `b` only the large files; the default runs them all.
for case in small large; do
  if [ "$case" = small ]; then [[ $cases == *[ac]* ]] || continue; else [[ $cases == *b* ]] || continue; fi
  label=$([ "$case" = small ] && echo "(a) 10,000 files 4-64 KiB" || echo "(b) 8 x 256 MiB")
  echo "== $label"
  out=$work/out-$case
  rm -rf "$out" && mkdir -p "$out"/{ferry,ferry-defer,baseline,rclone,rsync,cp,cp-sync} && sync
  plan "$work/$case" "$out/ferry/target" >"$work/$case.yaml"
  plan "$work/$case" "$out/ferry-defer/target" >"$work/$case-defer.yaml"
  plan "$work/$case" "$out/baseline/target" >"$work/$case-baseline.yaml"
  warm=$work/$case
  baseline_turn=()
  if [ -n "$baseline" ]; then
    baseline_turn=("baseline ferry run (verify full)" "$baseline run --state $work/state-baseline.db $work/$case-baseline.yaml")
  fi
  # `cp -a, then sync` waits for the disk as ferry's default (`--durability wait`) does;
  # `--durability defer` leaves the disk to the system as cp, rsync and rclone do.
  before=set_aside turns \
    "ferry run (verify full)" "$ferry run --state $work/state.db $work/$case.yaml" \
    "${baseline_turn[@]}" \
    "ferry run --durability defer" "$ferry run --durability defer --state $work/state-defer.db $work/$case-defer.yaml" \
    "rclone copy" "rclone copy --transfers 8 --checkers 16 $work/$case $out/rclone/target" \
    "rsync -a" "rsync -a $work/$case/ $out/rsync/target/" \
    "cp -a" "cp -a $work/$case $out/cp/target" \
    "cp -a, then sync" "cp -a $work/$case $out/cp-sync/target && sync"
  if [ "$case" = small ]; then
    set_aside last && "$ferry" run --state "$work/state.db" "$work/$case.yaml" >/dev/null 2>&1
    measure "(c) ferry run, no-op re-run" "$ferry" run --state "$work/state.db" "$work/$case.yaml"
    if [ -n "$baseline" ]; then
      "$baseline" run --state "$work/state-baseline.db" "$work/$case-baseline.yaml" >/dev/null 2>&1
      measure "(c) baseline ferry run, no-op re-run" "$baseline" run --state "$work/state-baseline.db" "$work/$case-baseline.yaml"
    fi
    rsync -a "$work/$case/" "$work/rsync-target/"
    measure "(c) rsync -a, no-op re-run" rsync -a "$work/$case/" "$work/rsync-target/"
    rm -rf "$work/rsync-target"
  fi
  rm -rf "$out" "$work"/state*.db*
done
warm=

if [[ $cases == *d* ]]; then
echo "== (d) 8 x 256 MiB over SFTP from the loopback sshd"
scripts/test-servers.sh start >&2
eval "$(scripts/test-servers.sh env)"
remote=$FERRY_TEST_SFTP_DATA/bench-large
if [ ! -d "$remote" ]; then cp -a "$work/large" "$remote" && chown -R "$FERRY_TEST_SFTP_USER" "$remote"; fi
export FERRY_BENCH_PASSWORD=$FERRY_TEST_SFTP_PASSWORD
plan "$remote" "$work/out/target" "{ sftp: { port: $FERRY_TEST_SFTP_PORT_A, root: $remote, known_hosts: $FERRY_TEST_SFTP_KNOWN_HOSTS } }" >"$work/sftp.yaml"
printf '[bench]\ntype = sftp\nhost = %s\nport = %s\nuser = %s\npass = %s\nknown_hosts_file = %s\n' \
  "$FERRY_TEST_SFTP_HOST_A" "$FERRY_TEST_SFTP_PORT_A" "$FERRY_TEST_SFTP_USER" "$(rclone obscure "$FERRY_TEST_SFTP_PASSWORD")" \
  "$FERRY_TEST_SFTP_KNOWN_HOSTS" >>"$RCLONE_CONFIG"
printf 'get -r %s %s\n' "$remote" "$work/out/target" >"$work/sftp-batch"
# The three take turns, as in (a) and (b): the loopback sshd shares the 2 cores with the client,
# and a slow spell of the machine then falls on all of them alike.
baseline_turn=()
if [ -n "$baseline" ]; then
  sed "s|$work/out/target|$work/out/baseline|" "$work/sftp.yaml" >"$work/sftp-baseline.yaml"
  baseline_turn=("baseline ferry run over SFTP (verify full)" "$baseline run --state $work/state-baseline.db $work/sftp-baseline.yaml")
fi
before=fresh_out turns \
  "ferry run over SFTP (verify full)" "$ferry run --state $work/state.db $work/sftp.yaml" \
  "${baseline_turn[@]}" \
  "rclone copy (sftp)" "rclone copy --transfers 8 bench:$remote $work/out/target" \
  "OpenSSH sftp get -r" "sftp -q -i $FERRY_TEST_SFTP_KEY -o UserKnownHostsFile=$FERRY_TEST_SFTP_KNOWN_HOSTS -P $FERRY_TEST_SFTP_PORT_A -b $work/sftp-batch $FERRY_TEST_SFTP_USER@$FERRY_TEST_SFTP_HOST_A"
fresh_out
# Stopping keeps the served data (bench-large) for the next run.
scripts/test-servers.sh stop >&2
fi

[[ $cases == *e* ]] || exit 0
echo "== (e) 8 x 256 MiB + 2,000 files of 4-64 KiB to object storage on loopback"
if [ ! -d "$work/mixed" ]; then
  python3 bench/make_data.py mixed "$work/mixed" && cp -al "$work/large" "$work/mixed/large"
fi
scripts/object-servers.sh start >&2
eval "$(scripts/object-servers.sh env)"
# object-target PLAN-NAME CLOUD CONNECTION USERNAME: a plan copying mixed/ to an object store.
object_plan() {
  cat <<PLAN
version: 1
sources:
  bench:
    ip: 192.0.2.1
    credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }
    mountpoints: [ { name: /, size: 4 GiB } ]
    connection: { local: { path: $work/mixed } }
targets:
  out:
    cloud: $1
    credentials: { username: $3, password: { env: FERRY_BENCH_STORE_KEY } }
    vm:
      ip: 198.51.100.1
      credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }
      connection: $2
migrations:
  - { name: bench, source: bench, target: out, mounts: [/] }
PLAN
}
# object_case LABEL CLOUD CONNECTION USERNAME KEY REMOTE: ferry with full verification (every
# object read back through the server), then with sizes only (the upload alone, as rclone copy
# does it); rclone copy, then `rclone check --download` (rclone's own read-back of every byte).
# CONNECTION is the plan's connection with %s where the prefix goes; REMOTE is rclone's bucket.
# Every run starts on freshly started, empty servers (a server holding the earlier runs' objects
# slows down: Azurite took 33 s, then 46 s and 47 s for the same rclone copy), under a new prefix.
object_case() {
  local label=$1 cloud=$2 connection=$3 username=$4 key=$5 remote=$6 verify last=$runs
  for verify in full size; do
    before=object_run FERRY_BENCH_STORE_KEY=$key measure "ferry run to $label (verify $verify)" \
      "$ferry" run --verify "$verify" --state "$work/state.db" "$work/object.yaml"
    if [ -n "$baseline" ]; then
      before=object_run FERRY_BENCH_STORE_KEY=$key measure "baseline ferry run to $label (verify $verify)" \
        "$baseline" run --verify "$verify" --state "$work/state.db" "$work/object.yaml"
    fi
  done
  # shellcheck disable=SC2016 # expanded by the inner shell, once per run
  before=restart measure "rclone copy to $label" \
    bash -c 'exec rclone copy --transfers 8 "$0" "$1-$BENCH_RUN"' "$work/mixed" "$remote/bench-rclone-$stamp"
  runs=1 measure "rclone check --download ($label)" \
    rclone check --download --checkers 8 "$work/mixed" "$remote/bench-rclone-$stamp-$last"
}
# Before a ferry run of object_case: a plan for the next prefix, no state, written data flushed.
object_run() {
  # shellcheck disable=SC2059 # the connection is the format
  object_plan "$cloud" "$(printf "$connection" "bench-ferry-$stamp-$verify-$1")" "$username" >"$work/object.yaml"
  restart
}
# Stopping the servers discards what they stored; starting them again makes the bucket and container.
restart() {
  scripts/object-servers.sh stop >&2 && scripts/object-servers.sh start >/dev/null 2>&1
  rm -f "$work/state.db"* && sync
}
stamp=$(date +%s)
# rclone refuses to start when AWS_CA_BUNDLE is set (LoadCustomCABundleError); the servers are plain HTTP.
unset AWS_CA_BUNDLE
s3_remote='type = s3\nprovider = Other\naccess_key_id = %s\nsecret_access_key = %s\nendpoint = %s\nregion = us-east-1\nforce_path_style = true\n'
{
  printf "[s3]\n$s3_remote\n" "$FERRY_S3_ACCESS_KEY_ID" "$FERRY_S3_SECRET_ACCESS_KEY" "$FERRY_S3_ENDPOINT"
  # nanio's older ListObjects (v1) ignores the continuation marker: rclone must list with v2.
  printf "[nanio]\n${s3_remote}list_version = 2\n\n" "$FERRY_S3_ACCESS_KEY_ID" "$FERRY_S3_SECRET_ACCESS_KEY" "$FERRY_NANIO_ENDPOINT"
  # Azurite's development account: rclone's emulator mode knows its key.
  printf '[azure]\ntype = azureblob\nuse_emulator = true\nendpoint = %s\n' "$FERRY_AZURE_ENDPOINT"
} >>"$RCLONE_CONFIG"
object_case "S3 (s3s-fs)" aws "{ s3: { bucket: $FERRY_S3_BUCKET, prefix: %s, endpoint: '$FERRY_S3_ENDPOINT' } }" \
  "$FERRY_S3_ACCESS_KEY_ID" "$FERRY_S3_SECRET_ACCESS_KEY" "s3:$FERRY_S3_BUCKET"
object_case "S3 (nanio)" aws "{ s3: { bucket: $FERRY_NANIO_BUCKET, prefix: %s, endpoint: '$FERRY_NANIO_ENDPOINT' } }" \
  "$FERRY_S3_ACCESS_KEY_ID" "$FERRY_S3_SECRET_ACCESS_KEY" "nanio:$FERRY_NANIO_BUCKET"
object_case "Azure Blob" azure "{ azblob: { container: $FERRY_AZURE_CONTAINER, prefix: %s, endpoint: '$FERRY_AZURE_ENDPOINT' } }" \
  "$FERRY_AZURE_ACCOUNT" "$FERRY_AZURE_KEY" "azure:$FERRY_AZURE_CONTAINER"
rm -f "$work/state.db"*
# Leave the servers as empty as they were: stopping them discards what they stored.
scripts/object-servers.sh stop >&2
