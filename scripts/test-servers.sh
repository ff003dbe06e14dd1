#!/usr/bin/env bash
# Real servers for ferry's integration tests, on loopback only.
#
#   scripts/test-servers.sh start    install what is missing, start every server, wait until each answers
#   scripts/test-servers.sh stop     stop exactly the processes this script started (by pid file)
#   scripts/test-servers.sh status   exit 0 when every server is running, 1 otherwise
#   scripts/test-servers.sh env      print `export` lines the tests read (FERRY_TEST_*)
#
# Idempotent: `start` twice reuses running servers; keys and the test user are created once.
# Debian 12, run as root (it installs packages, creates a user and binds sshd).
#
# Servers:
#   sftp-a  OpenSSH sshd on $FERRY_TEST_SFTP_HOST_A:$FERRY_TEST_SFTP_PORT_A (default 127.0.0.2:2222)
#   sftp-b  OpenSSH sshd on $FERRY_TEST_SFTP_HOST_B:$FERRY_TEST_SFTP_PORT_B (default 127.0.0.3:2223)
# Two instances with different host keys, because a plan's sources and targets need different
# IPs and the host-key tests need two identities. Both accept the user `ferry-test` with a
# password and with two authorized keys (one plain, one encrypted with the password).
#
# State (keys, configs, logs, pid files) lives in ${FERRY_TEST_DIR:-/tmp/ferry-test-servers}.
#
# Later servers (not started yet) get their own start_* / stop hooks below:
#   - S3: moto (`pip install 'moto[s3]'` in a venv under the state dir, `moto_server -H 127.0.0.1 -p 9000`)
#   - Azure Blob: Azurite (`npm install --prefix STATE azurite@3.35.0`, `azurite-blob ... --disableTelemetry`)
set -euo pipefail

STATE=${FERRY_TEST_DIR:-/tmp/ferry-test-servers}
SFTP_USER=ferry-test
HOST_A=${FERRY_TEST_SFTP_HOST_A:-127.0.0.2}
PORT_A=${FERRY_TEST_SFTP_PORT_A:-2222}
HOST_B=${FERRY_TEST_SFTP_HOST_B:-127.0.0.3}
PORT_B=${FERRY_TEST_SFTP_PORT_B:-2223}
# Every server this script knows, by name. Add `s3` and `azurite` here with their start_* functions.
SERVERS=(sftp-a sftp-b)

log() { echo "test-servers: $*" >&2; }
die() { log "$*"; exit 1; }

# --- process bookkeeping -------------------------------------------------------------------

# True when the pid file of server $1 names a live process started with our config.
running() {
  local pid_file="$STATE/$1.pid" pid
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: the process must have been started with our state dir.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STATE/" || return 1
}

stop_server() {
  local name=$1 pid
  if running "$name"; then
    pid=$(cat "$STATE/$name.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "stopped $name (pid $pid)"
  fi
  rm -f "$STATE/$name.pid"
}

# Waits until $1:$2 accepts TCP connections.
wait_port() {
  local host=$1 port=$2 name=$3
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "$name did not open $host:$port; its log:"
  tail -20 "$STATE/logs/$name.log" >&2 || true
  return 1
}

# --- installation --------------------------------------------------------------------------

install_packages() {
  local wanted=(openssh-server openssh-client sshpass rsync rclone) missing=() package
  for package in "${wanted[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root to install them"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- SFTP ----------------------------------------------------------------------------------

prepare_sftp() {
  local dir="$STATE/sftp"
  mkdir -p "$dir" "$STATE/logs" /run/sshd
  chmod 755 "$STATE" "$dir"
  [ -f "$dir/password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$dir/password")
  local password
  password=$(cat "$dir/password")
  [ -f "$dir/host_key_a" ] || ssh-keygen -q -t ed25519 -N '' -C ferry-test-a -f "$dir/host_key_a"
  [ -f "$dir/host_key_b" ] || ssh-keygen -q -t ed25519 -N '' -C ferry-test-b -f "$dir/host_key_b"
  [ -f "$dir/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C ferry-test-client -f "$dir/client_key"
  [ -f "$dir/client_key_encrypted" ] ||
    ssh-keygen -q -t ed25519 -N "$password" -C ferry-test-client-encrypted -f "$dir/client_key_encrypted"
  cat "$dir/client_key.pub" "$dir/client_key_encrypted.pub" >"$dir/authorized_keys"
  chmod 644 "$dir/authorized_keys"

  id "$SFTP_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$SFTP_USER"
  echo "$SFTP_USER:$password" | chpasswd
  # A directory the SFTP user owns and the tests (root) can inspect directly.
  install -d -m 755 -o "$SFTP_USER" -g "$SFTP_USER" "$STATE/data"

  # known_hosts for both servers, plain and hashed (`ssh-keygen -H`).
  {
    echo "[$HOST_A]:$PORT_A $(cut -d' ' -f1,2 "$dir/host_key_a.pub")"
    echo "[$HOST_B]:$PORT_B $(cut -d' ' -f1,2 "$dir/host_key_b.pub")"
  } >"$dir/known_hosts"
  cp "$dir/known_hosts" "$dir/known_hosts_hashed"
  ssh-keygen -q -H -f "$dir/known_hosts_hashed" >/dev/null 2>&1
  rm -f "$dir/known_hosts_hashed.old"
}

write_sshd_config() {
  local name=$1 host=$2 port=$3 key=$4
  cat >"$STATE/sftp/$name.conf" <<CONF
# Written by scripts/test-servers.sh; loopback only, for ferry's tests.
ListenAddress $host:$port
HostKey $STATE/sftp/$key
PidFile $STATE/$name.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers $SFTP_USER
AuthorizedKeysFile $STATE/sftp/authorized_keys
StrictModes no
MaxStartups 100:30:200
MaxSessions 32
MaxAuthTries 10
Subsystem sftp internal-sftp
CONF
}

start_sshd() {
  local name=$1 host=$2 port=$3 key=$4
  running "$name" && { log "$name already running"; return 0; }
  rm -f "$STATE/$name.pid"
  write_sshd_config "$name" "$host" "$port" "$key"
  /usr/sbin/sshd -t -f "$STATE/sftp/$name.conf" || die "sshd rejects $STATE/sftp/$name.conf"
  # sshd daemonizes and writes its own pid file.
  /usr/sbin/sshd -f "$STATE/sftp/$name.conf" -E "$STATE/logs/$name.log"
  wait_port "$host" "$port" "$name"
  for _ in $(seq 50); do running "$name" && break; sleep 0.1; done
  running "$name" || die "$name did not start (is $host:$port taken?); see $STATE/logs/$name.log"
  # The port answers: make sure it is our sshd (its host key), not another process on that port.
  local expected
  expected=$(cut -d' ' -f2 "$STATE/sftp/$key.pub")
  ssh-keyscan -t ed25519 -p "$port" "$host" 2>/dev/null | grep -qF "$expected" ||
    die "$host:$port answers with a host key that is not $name's; another server holds the port"
  log "$name up on $host:$port"
}

fingerprint() { ssh-keygen -lf "$STATE/sftp/$1.pub" | cut -d' ' -f2; }

# --- commands ------------------------------------------------------------------------------

start() {
  install_packages
  mkdir -p "$STATE"
  prepare_sftp
  start_sshd sftp-a "$HOST_A" "$PORT_A" host_key_a
  start_sshd sftp-b "$HOST_B" "$PORT_B" host_key_b
  # Hooks for later servers: start_s3 (moto), start_azurite.
}

stop() {
  local name
  for name in "${SERVERS[@]}"; do stop_server "$name"; done
}

status() {
  local name
  for name in "${SERVERS[@]}"; do running "$name" || return 1; done
}

print_env() {
  [ -f "$STATE/sftp/password" ] || die "no state in $STATE; run '$0 start' first"
  cat <<ENV
export FERRY_TEST_DIR='$STATE'
export FERRY_TEST_SFTP_HOST_A='$HOST_A'
export FERRY_TEST_SFTP_PORT_A='$PORT_A'
export FERRY_TEST_SFTP_FINGERPRINT_A='$(fingerprint host_key_a)'
export FERRY_TEST_SFTP_HOST_B='$HOST_B'
export FERRY_TEST_SFTP_PORT_B='$PORT_B'
export FERRY_TEST_SFTP_FINGERPRINT_B='$(fingerprint host_key_b)'
export FERRY_TEST_SFTP_USER='$SFTP_USER'
export FERRY_TEST_SFTP_PASSWORD='$(cat "$STATE/sftp/password")'
export FERRY_TEST_SFTP_KEY='$STATE/sftp/client_key'
export FERRY_TEST_SFTP_KEY_ENCRYPTED='$STATE/sftp/client_key_encrypted'
export FERRY_TEST_SFTP_KNOWN_HOSTS='$STATE/sftp/known_hosts'
export FERRY_TEST_SFTP_KNOWN_HOSTS_HASHED='$STATE/sftp/known_hosts_hashed'
export FERRY_TEST_SFTP_DATA='$STATE/data'
ENV
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) print_env ;;
  *) die "usage: $0 start|stop|status|env" ;;
esac
