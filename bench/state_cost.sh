#!/usr/bin/env bash
# State cost (issue 13): case (a) of bench/run_compare.sh (10,000 files of 4-64 KiB, local to
# local, verify full) with the state in a SQLite file and in PostgreSQL, taking turns
# FERRY_BENCH_RUNS (3) times. Goal: PostgreSQL at most 1.2x the wall time of SQLite. Prints the
# median of each and the ratio.
#
#   eval "$(scripts/postgres-server.sh env)"       # the server of scripts/postgres-server.sh
#   bench/state_cost.sh
#   STATE_COST_DATA=/tmp/few FERRY_BIN=target/debug/ferry FERRY_BENCH_RUNS=1 bench/state_cost.sh   # smoke
#
# STATE_COST_DATA names another source folder (default: case (a)'s, made by bench/make_data.py).
set -euo pipefail
# psql says nothing but errors.
export PGOPTIONS="-c client_min_messages=warning"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=${FERRY_BENCH_DIR:-/tmp/ferry-bench}
runs=${FERRY_BENCH_RUNS:-3}
if [ -z "${FERRY_POSTGRES_URL:-}" ]; then
  eval "$(scripts/postgres-server.sh env)"
fi
if [ -z "${FERRY_BIN:-}" ]; then
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/ferry-target}
  cargo build --profile dist --locked --bin ferry >&2
  FERRY_BIN=$CARGO_TARGET_DIR/dist/ferry
fi
ferry=$(realpath "$FERRY_BIN")
mkdir -p "$work"
data=${STATE_COST_DATA:-$work/small}
[ -d "$data" ] || python3 bench/make_data.py small "$data"
export FERRY_BENCH_PASSWORD=unused

cat >"$work/state-cost.yaml" <<PLAN
version: 1
sources:
  bench:
    ip: 192.0.2.1
    credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }
    mountpoints: [ { name: /, size: 4 GiB } ]
    connection: { local: { path: $data } }
targets:
  out:
    cloud: vsphere
    credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }
    vm:
      ip: 198.51.100.1
      credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }
      connection: { local: { path: $work/state-cost-out } }
migrations:
  - { name: bench, source: bench, target: out, mounts: [/] }
PLAN

database=ferry_state_cost_$$
url="${FERRY_POSTGRES_URL%/*}/$database?sslmode=disable"
# Before each run: no output, an empty state of either kind, and the source in the page cache.
fresh() {
  rm -rf "$work/state-cost-out" "$work"/state-cost.db* && sync
  psql -q "$FERRY_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database" >/dev/null
  find "$data" -type f -exec cat {} + >/dev/null
}
# timed STATE: one run's wall time in seconds.
timed() {
  local start end
  fresh
  start=$(date +%s.%N)
  "$ferry" --quiet run "$work/state-cost.yaml" --state "$1" --report-output "$work/state-cost-report.txt" \
    >"$work/state-cost.log" 2>&1 || { echo "ferry run --state $1 failed:"; tail -20 "$work/state-cost.log"; exit 1; }
  end=$(date +%s.%N)
  awk "BEGIN { printf \"%.2f\", $end - $start }"
}
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

sqlite=() postgres=()
for ((run = 1; run <= runs; run++)); do
  sqlite+=("$(timed "$work/state-cost.db")")
  postgres+=("$(timed "$url")")
done
psql -q "$FERRY_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $database" >/dev/null
rm -rf "$work/state-cost-out" "$work"/state-cost.db*
files=$(find "$data" -type f | wc -l)
s=$(median "${sqlite[@]}") p=$(median "${postgres[@]}")
echo "ferry state cost, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $files files, local to local, verify full"
printf '%-12s %10s  %s\n' state median_s runs
printf '%-12s %10s  [%s]\n' sqlite "$s" "${sqlite[*]}" postgresql "$p" "${postgres[*]}"
printf '%-12s %10s\n' ratio "$(awk "BEGIN { printf \"%.2f\", $p / $s }")"
