#!/usr/bin/env bash
# Coordination scales (issue 13): one plan of FLEET_MIGRATIONS (200) migrations of FLEET_FILES (50)
# small files (4-32 KiB) each, local to local, run by 1, 2 and 4 `ferry run` processes at once on
# one PostgreSQL state, each runner limited by `--bwlimit FLEET_BWLIMIT` (4MiB) to stand for one
# machine's link (this machine's 2 cores cannot show network scaling otherwise). Goal: 4 runners
# take at most 0.3x the wall time of 1. Prints a table; takes a few minutes at the full size.
#
#   eval "$(scripts/postgres-server.sh env)"        # or: scripts/postgres-server.sh start (root)
#   bench/fleet.sh                                   # the measurement
#   FLEET_MIGRATIONS=4 FLEET_FILES=5 FERRY_BIN=target/debug/ferry bench/fleet.sh   # a smoke run
#
# Each case gets a new database on the server of FERRY_POSTGRES_URL and an empty output folder.
# Data lives in $FERRY_BENCH_DIR/fleet (default /tmp/ferry-bench/fleet), reused between runs.
set -euo pipefail
# psql says nothing but errors.
export PGOPTIONS="-c client_min_messages=warning"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=${FERRY_BENCH_DIR:-/tmp/ferry-bench}/fleet
migrations=${FLEET_MIGRATIONS:-200}
files=${FLEET_FILES:-50}
bwlimit=${FLEET_BWLIMIT:-4MiB}
counts=${FLEET_RUNNERS:-1 2 4}
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

# The data and the plan, made once per size.
data=$work/data-$migrations-$files
if [ ! -f "$data/plan.yaml" ]; then
  rm -rf "$data"
  python3 - "$data" "$migrations" "$files" <<'PY'
import os, random, sys
root, migrations, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(13)
lines = ["version: 1", "sources:"]
for m in range(migrations):
    folder = os.path.join(root, "source", f"m{m:03}")
    os.makedirs(folder)
    for f in range(files):
        with open(os.path.join(folder, f"f{f:03}.bin"), "wb") as out:
            out.write(rng.randbytes(rng.randint(4096, 32768)))
    lines += [f"  s{m:03}:", f"    ip: 10.{m // 250}.{m % 250}.1",
              "    credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }",
              "    mountpoints: [ { name: /, size: 1 GiB } ]",
              f"    connection: {{ local: {{ path: ./source/m{m:03} }} }}"]
lines.append("targets:")
for m in range(migrations):
    lines += [f"  t{m:03}:", "    cloud: vsphere",
              "    credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }",
              f"    vm:", f"      ip: 172.16.{m // 250}.{m % 250 + 1}",
              "      credentials: { username: bench, password: { env: FERRY_BENCH_PASSWORD } }",
              f"      connection: {{ local: {{ path: ./out/m{m:03} }} }}"]
lines.append("migrations:")
lines += [f"  - {{ name: m{m:03}, source: s{m:03}, target: t{m:03}, mounts: [/] }}" for m in range(migrations)]
with open(os.path.join(root, "plan.yaml"), "w") as plan:
    plan.write("\n".join(lines) + "\n")
PY
fi

# A new, empty database for one case: its URL.
database() {
  local name=ferry_fleet_$1_$$ base server
  base=$FERRY_POSTGRES_URL
  psql -q "$base" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
  server=${base%/*}
  echo "$server/$name?sslmode=disable"
}

echo "ferry fleet benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $migrations migrations x $files files, --bwlimit $bwlimit per runner"
printf '%-8s %10s %8s\n' runners wall_s ratio
one=
for runners in $counts; do
  url=$(database "$runners")
  rm -rf "$data/out"
  start=$(date +%s.%N)
  pids=()
  for ((index = 1; index <= runners; index++)); do
    (cd "$data" && exec "$ferry" --quiet run plan.yaml --state "$url" --parallel 4 --bwlimit "$bwlimit" \
      --report-output "$work/report-$runners-$index.txt") >"$work/runner-$runners-$index.log" 2>&1 &
    pids+=($!)
  done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
  end=$(date +%s.%N)
  if ((status != 0)); then echo "a runner failed ($status): see $work/runner-$runners-*.log"; exit 1; fi
  wall=$(awk "BEGIN { printf \"%.2f\", $end - $start }")
  one=${one:-$wall}
  printf '%-8s %10s %8s\n' "$runners" "$wall" "$(awk "BEGIN { printf \"%.2f\", $wall / $one }")"
  psql -q "$FERRY_POSTGRES_URL" -c "DROP DATABASE IF EXISTS ferry_fleet_${runners}_$$" >/dev/null
done
