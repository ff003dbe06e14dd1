#!/usr/bin/env bash
# Object-storage servers for ferry's integration tests, on loopback only: s3s-fs (S3 that checks SigV4 and
# checksums), moto (S3, fast to install, accepts any key), nanio (S3 that checks SigV4 and serves reads
# fast: the benchmark's second S3 server) and Azurite (Azure Blob).
#
# Usage: scripts/object-servers.sh start|stop|env
#   start  installs what is missing (Debian 12, as root), starts the servers, creates the bucket/container;
#          idempotent: running servers are left alone.
#   stop   stops the servers this script started (by pid file).
#   env    prints `export` lines for the tests: eval "$(scripts/object-servers.sh env)".
#
# State (pid files, logs, data) lives under ${FERRY_TEST_DIR:-/tmp/ferry-test-servers}. Installed tools are
# cached under ${FERRY_TOOLS_DIR:-$HOME/.cache/ferry-test-tools} (s3s-fs takes minutes to build once).
# Ports: FERRY_S3S_PORT (9114), FERRY_MOTO_PORT (9100), FERRY_NANIO_PORT (9116), FERRY_AZURITE_PORT (10100);
# FERRY_SKIP_S3S=1 skips the s3s-fs build.
set -euo pipefail

state=${FERRY_TEST_DIR:-/tmp/ferry-test-servers}
tools=${FERRY_TOOLS_DIR:-$HOME/.cache/ferry-test-tools}
s3s_port=${FERRY_S3S_PORT:-9114}
moto_port=${FERRY_MOTO_PORT:-9100}
nanio_port=${FERRY_NANIO_PORT:-9116}
azurite_port=${FERRY_AZURITE_PORT:-10100}
bucket=ferry-test
container=ferry-test
s3s_key=FERRYTESTKEY
s3s_secret=ferry-test-secret-key
# Azurite's well-known development account (public, documented by Microsoft).
azure_account=devstoreaccount1
azure_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
servers=(s3s-fs moto nanio azurite)

running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

print_env() {
  if running s3s-fs; then
    echo "export FERRY_S3_ENDPOINT=http://127.0.0.1:$s3s_port"
    echo "export FERRY_S3_BUCKET=$bucket"
    echo "export FERRY_S3_ACCESS_KEY_ID=$s3s_key"
    echo "export FERRY_S3_SECRET_ACCESS_KEY=$s3s_secret"
  fi
  if running moto; then
    echo "export FERRY_MOTO_ENDPOINT=http://127.0.0.1:$moto_port"
    echo "export FERRY_MOTO_BUCKET=$bucket"
  fi
  if running nanio; then
    echo "export FERRY_NANIO_ENDPOINT=http://127.0.0.1:$nanio_port"
    echo "export FERRY_NANIO_BUCKET=$bucket"
  fi
  if running azurite; then
    echo "export FERRY_AZURE_ENDPOINT=http://127.0.0.1:$azurite_port/$azure_account"
    echo "export FERRY_AZURE_ACCOUNT=$azure_account"
    echo "export FERRY_AZURE_KEY='$azure_key'"
    echo "export FERRY_AZURE_CONTAINER=$container"
  fi
}

stop() {
  local pids=()
  for name in "${servers[@]}"; do
    if running "$name"; then
      pids+=("$(cat "$state/$name.pid")")
      kill "${pids[-1]}"
    fi
    rm -f "$state/$name.pid"
  done
  # Wait (up to 5 s) for them to exit, so that nothing writes into the data being removed.
  for ((i = 0; i < 50; i++)); do
    local alive=0 pid
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  # The stored objects are test data: stopping the servers throws them away, so runs and
  # benchmarks never pile gigabytes up in /tmp. A leftover is not worth failing a run over.
  rm -rf "$state/data/s3s-fs" "$state/data/nanio" "$state/data/azurite" || true
}

wait_port() { # name port seconds
  for ((i = 0; i < $3 * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
      echo "$1 up on 127.0.0.1:$2 after $(((i + 1) * 100)) ms" >&2
      return 0
    fi
    sleep 0.1
  done
  echo "$1 did not open 127.0.0.1:$2; its log:" >&2
  tail -20 "$state/logs/$1.log" >&2
  return 1
}

launch() { # name command...
  local name=$1
  shift
  running "$name" && return 0
  nohup "$@" >"$state/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
}

install_packages() {
  local wanted=(curl python3-venv) missing=()
  command -v npm >/dev/null || wanted+=(nodejs npm)
  for package in "${wanted[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
  if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

start() {
  mkdir -p "$state/logs" "$state/data/s3s-fs/$bucket" "$state/data/nanio/$bucket" "$state/data/azurite" "$tools"
  install_packages
  if [ ! -x "$tools/moto/bin/moto_server" ]; then
    python3 -m venv "$tools/moto"
    "$tools/moto/bin/pip" install -q 'moto[s3,server]==5.2.5' >&2
  fi
  if [ ! -x "$tools/nanio/bin/nanio" ]; then
    python3 -m venv "$tools/nanio"
    "$tools/nanio/bin/pip" install -q 'nanio==0.1.7' >&2
  fi
  if [ "${FERRY_SKIP_S3S:-}" != 1 ] && [ ! -x "$tools/bin/s3s-fs" ]; then
    # s3s-fs 0.15+ needs a newer rustc than Debian's CI images carry; 0.14.1 is pinned.
    CARGO_TARGET_DIR="$tools/build" cargo install -q --locked s3s-fs@0.14.1 --features binary --root "$tools" >&2
  fi
  if [ ! -x "$tools/azurite/node_modules/.bin/azurite-blob" ]; then
    npm install -s --prefix "$tools/azurite" --no-audit --no-fund azurite@3.35.0 >&2
  fi

  if [ "${FERRY_SKIP_S3S:-}" != 1 ]; then
    # s3s-fs serves DATA_DIR/<bucket>: the bucket is the folder made above.
    launch s3s-fs "$tools/bin/s3s-fs" --host 127.0.0.1 --port "$s3s_port" \
      --access-key "$s3s_key" --secret-key "$s3s_secret" "$state/data/s3s-fs"
  fi
  launch moto "$tools/moto/bin/moto_server" -H 127.0.0.1 -p "$moto_port"
  # nanio serves DATA_DIR/<bucket> too, with the same key as s3s-fs.
  NANIO_ACCESS_KEY=$s3s_key NANIO_SECRET_KEY=$s3s_secret launch nanio "$tools/nanio/bin/nanio" serve \
    --data-dir "$state/data/nanio" --host 127.0.0.1 --port "$nanio_port" --no-access-log --log-level warning
  launch azurite "$tools/azurite/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 \
    --blobPort "$azurite_port" --location "$state/data/azurite" --skipApiVersionCheck --loose \
    --disableTelemetry

  if [ "${FERRY_SKIP_S3S:-}" != 1 ]; then wait_port s3s-fs "$s3s_port" 30; fi
  wait_port moto "$moto_port" 30
  wait_port nanio "$nanio_port" 30
  wait_port azurite "$azurite_port" 30
  # moto keeps buckets in memory and accepts unsigned path-style requests.
  curl -fsS -X PUT "http://127.0.0.1:$moto_port/$bucket" -o /dev/null
  create_container
}

# Creates the Azurite container with a Shared Key request (Python's standard library; 409 = exists).
create_container() {
  AZURE_ACCOUNT=$azure_account AZURE_KEY=$azure_key AZURE_PORT=$azurite_port AZURE_CONTAINER=$container \
    python3 - <<'PYTHON'
import base64, hashlib, hmac, os, urllib.error, urllib.request
from email.utils import formatdate
account, container = os.environ["AZURE_ACCOUNT"], os.environ["AZURE_CONTAINER"]
date, version = formatdate(usegmt=True), "2021-08-06"
to_sign = "PUT\n" + "\n" * 11 + f"x-ms-date:{date}\nx-ms-version:{version}\n" \
    + f"/{account}/{account}/{container}\nrestype:container"
key = base64.b64decode(os.environ["AZURE_KEY"])
signature = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha256).digest()).decode()
request = urllib.request.Request(
    f"http://127.0.0.1:{os.environ['AZURE_PORT']}/{account}/{container}?restype=container",
    method="PUT",
    headers={"x-ms-date": date, "x-ms-version": version, "Content-Length": "0",
             "Authorization": f"SharedKey {account}:{signature}"},
)
try:
    urllib.request.urlopen(request).close()
except urllib.error.HTTPError as error:
    if error.code != 409:
        raise
PYTHON
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
