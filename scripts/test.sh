#!/usr/bin/env bash
# THE test command: starts the real test servers, then runs formatting, lint and every test.
#
#   scripts/test.sh            (also what CI runs, through .ci/run)
#
# Works on a fresh clone, as root, non-interactively (Debian 12): scripts/test-servers.sh
# installs what is missing. Servers this run started are stopped on exit, even on failure.
# Build output goes to $CARGO_TARGET_DIR, by default $HOME/.cache/ferry-target, which persists
# between runs so CI on the same machine stays fast.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/ferry-target}
export FERRY_TEST_DIR=${FERRY_TEST_DIR:-/tmp/ferry-test-servers}
mkdir -p "$FERRY_TEST_DIR" "$CARGO_TARGET_DIR"

# One test run at a time per server state dir: a second run waits instead of stopping the
# servers under the first one's feet.
exec 9>"$FERRY_TEST_DIR/test-run.lock"
if ! flock -n 9; then
  echo "test.sh: another test run holds $FERRY_TEST_DIR/test-run.lock; waiting" >&2
  flock 9
fi

started_servers=0
started_object_servers=0
started_postgres=0
stop_servers() {
  local status=$?
  if [ "$started_servers" = 1 ]; then scripts/test-servers.sh stop || true; fi
  if [ "$started_object_servers" = 1 ]; then scripts/object-servers.sh stop || true; fi
  if [ "$started_postgres" = 1 ]; then scripts/postgres-server.sh stop || true; fi
  exit "$status"
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

if ! scripts/test-servers.sh status; then started_servers=1; fi
scripts/test-servers.sh start
eval "$(scripts/test-servers.sh env)"
# The object stores (s3s-fs, moto, Azurite) for the s3/azblob tests; `env` prints nothing when none runs.
if [ -z "$(scripts/object-servers.sh env)" ]; then started_object_servers=1; fi
scripts/object-servers.sh start
eval "$(scripts/object-servers.sh env)"
# PostgreSQL, for the shared-state tests.
if [ -z "$(scripts/postgres-server.sh env)" ]; then started_postgres=1; fi
scripts/postgres-server.sh start
eval "$(scripts/postgres-server.sh env)"
export FERRY_REQUIRE_SERVERS=1

step() { echo "==> $*" >&2; "$@"; }
step cargo fmt --all --check
step cargo clippy --all-targets --locked -- -D warnings
# The local-only build (no SFTP, no object storage) must keep compiling, lint-clean.
step cargo clippy --all-targets --locked --no-default-features -- -D warnings
step cargo build --locked --no-default-features
# Outside validators (ajv strict, check-jsonschema) over the committed schema and the plans.
step scripts/schema-validators.sh
# The README's demo command first, as a new user runs it: it leaves its state in the checkout
# (.ferry/state.db) and its targets in plans/demo-out/, and the suite must not care.
step cargo run --release --locked -- run plans/demo.yaml >/dev/null
step cargo test --doc --locked
log=$FERRY_TEST_DIR/cargo-test.log
step cargo test --all-targets --locked 2>&1 | tee "$log"
# And in the other order: after the suite, the demo runs again on the state it left (nothing to do).
step cargo run --release --locked -- run plans/demo.yaml >/dev/null
echo "test.sh: all checks passed" >&2
# One closing line for the whole suite (the last runner's own line may be an example with no tests).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
