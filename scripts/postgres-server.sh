#!/usr/bin/env bash
# A throwaway PostgreSQL for ferry's integration tests (shared state, runner fleets), on loopback only.
#
# Usage: scripts/postgres-server.sh start|stop|env
#   start  installs Debian's `postgresql` when initdb is missing (as root), creates a cluster of its own
#          (never the package's `main` cluster), starts it on 127.0.0.1, and creates the `ferry` login
#          role (scram-sha-256 password) with the right to create databases; idempotent.
#   stop   stops that cluster (fast, then immediate, then the postmaster's pid) and deletes it.
#   env    prints `export` lines for the tests: eval "$(scripts/postgres-server.sh env)".
#
# TLS is on, with a certificate for the name `localhost` only (not 127.0.0.1) from a CA made here, so
# the tests can tell sslmode verify-full from verify-ca; FERRY_POSTGRES_CA names the CA's PEM file.
# The tests connect over TCP with the password, as a real deployment would, and give every test its
# own database. State lives under ${FERRY_TEST_DIR:-/tmp/ferry-test-servers}/postgres; the port is
# FERRY_POSTGRES_PORT (9132).
set -euo pipefail

state=${FERRY_TEST_DIR:-/tmp/ferry-test-servers}
port=${FERRY_POSTGRES_PORT:-9132}
root=$state/postgres
data=$root/data
sockets=$root/sockets
log=$root/server.log
role=ferry
password=ferry-test-password

# A user's own PG* settings must not reach the server programs.
while IFS='=' read -r name _; do
  case "$name" in PG*) unset "$name" ;; esac
done < <(env)

bin_dir() {
  local initdb
  initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$initdb" ] && dirname "$initdb"
}

as_postgres() { runuser -u postgres -- "$@"; }

running() { [ -n "$(bin_dir)" ] && [ -f "$data/postmaster.pid" ] && as_postgres "$(bin_dir)/pg_ctl" status -D "$data" >/dev/null 2>&1; }

print_env() {
  if running; then
    echo "export FERRY_POSTGRES_URL=postgres://$role:$password@127.0.0.1:$port/postgres"
    echo "export FERRY_POSTGRES_CA=$root/tls/ca.pem"
  fi
}

install_postgres() {
  if [ -z "$(bin_dir)" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
  fi
}

start() {
  install_postgres
  local bin
  bin=$(bin_dir)
  mkdir -p "$root"
  chmod 755 "$state" "$root"
  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    install -d -o postgres -g postgres -m 700 "$data" "$sockets"
    as_postgres "$bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$root/initdb.log" 2>&1 ||
      { cat "$root/initdb.log" >&2; return 1; }
  fi
  install -d -o postgres -g postgres -m 700 "$sockets"
  make_certificates
  if ! running; then
    # A killed run may have left a stale pid file behind: pg_ctl start copes with a dead pid.
    touch "$log" && chown postgres:postgres "$log"
    as_postgres "$bin/pg_ctl" start -D "$data" -l "$log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$sockets -c max_connections=200 -c fsync=off -c ssl=on -c ssl_cert_file=$root/tls/server.pem -c ssl_key_file=$root/tls/server.key" >&2 ||
      { tail -20 "$log" >&2; return 1; }
  fi
  for ((i = 0; i < 300; i++)); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.1
  done
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" || { tail -20 "$log" >&2; return 1; }
  echo "postgres up on 127.0.0.1:$port" >&2
  as_postgres "$bin/psql" -q -h "$sockets" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL >&2
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
}

# A CA, and a server certificate it signs for DNS:localhost only.
make_certificates() {
  local tls=$root/tls
  [ -f "$tls/server.pem" ] && return 0
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ferry test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 30 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
  chown postgres:postgres "$tls/server.key" "$tls/server.pem"
  chmod 600 "$tls/server.key"
}

stop() {
  local bin
  bin=$(bin_dir)
  if [ -n "$bin" ] && [ -f "$data/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl" stop -D "$data" -m fast -w -t 20 >/dev/null 2>&1 ||
      as_postgres "$bin/pg_ctl" stop -D "$data" -m immediate -w -t 20 >/dev/null 2>&1 ||
      kill -9 "$(head -1 "$data/postmaster.pid")" 2>/dev/null || true
  fi
  # The cluster holds only test databases: stopping throws it away.
  rm -rf "$root"
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
