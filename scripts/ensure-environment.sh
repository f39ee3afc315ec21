#!/usr/bin/env bash
# Makes a fresh clone on a fresh machine ready for `npm test` and `npm run demo`: npm dependencies
# installed, Redis answering on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 with the current user able
# to connect, and OpenSSH's sshd and ssh-keygen installed (the SFTP suites run their own sshd). Starts, and as
# root installs, what is missing. Idempotent; prints one line per thing it did
# and nothing when everything is already fine.
#
# A service given through TEST_REDIS_URL or TEST_DATABASE_SERVER (what the test fixtures use) is the
# caller's to run: this script then leaves it alone.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly HOST=127.0.0.1
readonly REDIS_PORT=6379
readonly PG_PORT=5432
readonly WAIT_SECONDS=30
# Redis started here keeps no data (tests isolate themselves and clean up); only its log lands here.
readonly REDIS_DIR="$PWD/.data/redis"
# Who the apps and tests connect as when DATABASE_URL names no user (node-postgres: PGUSER, else USER).
DB_USER="${PGUSER:-${USER:-$(id -un)}}"
readonly DB_USER

say() { printf 'ensure-environment: %s\n' "$*"; }
die() {
  printf 'ensure-environment: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# Runs a command with its output held back; shows the output only if the command fails.
quietly() {
  local log status=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 || status=$?
  if ((status != 0)); then
    cat "$log" >&2
    rm -f "$log"
    return "$status"
  fi
  rm -f "$log"
}

# Polls `check` until it succeeds or WAIT_SECONDS pass.
wait_for() {
  local what=$1 check=$2 deadline=$((SECONDS + WAIT_SECONDS))
  until "$check"; do
    ((SECONDS < deadline)) || die "$what did not answer within ${WAIT_SECONDS}s"
    sleep 0.1
  done
}

apt_updated=false
apt_install() {
  is_root || return 1
  have apt-get || return 1
  if ! $apt_updated; then
    quietly apt-get update -qq || die "apt-get update failed"
    apt_updated=true
  fi
  quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" ||
    die "apt-get install $* failed"
  say "installed $* with apt-get"
}

# --- npm dependencies --------------------------------------------------------------------------------

ensure_node_modules() {
  [[ -d node_modules ]] && return 0
  quietly npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed"
  say "installed npm dependencies (npm ci)"
}

# --- Redis -------------------------------------------------------------------------------------------

# Speaks the protocol over bash's /dev/tcp, so no redis-cli is needed; a loading server answers -LOADING.
redis_answers() {
  timeout 2 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "PING\r\n" >&3
    IFS= read -r -t 2 reply <&3 && [[ $reply == +PONG* ]]' "$HOST" "$REDIS_PORT" 2>/dev/null
}

start_redis() {
  mkdir -p "$REDIS_DIR"
  quietly redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --maxmemory-policy noeviction --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" ||
    die "redis-server did not start (log: $REDIS_DIR/redis.log)"
  wait_for "Redis on $HOST:$REDIS_PORT" redis_answers
  say "started Redis on $HOST:$REDIS_PORT (log: ${REDIS_DIR#"$PWD"/}/redis.log)"
}

# BullMQ loses jobs silently when Redis evicts keys. Without redis-cli the policy cannot be read;
# a Redis started by this script has the right one already.
ensure_noeviction() {
  have redis-cli || return 0
  local policy
  policy=$(redis-cli -h "$HOST" -p "$REDIS_PORT" --raw CONFIG GET maxmemory-policy | sed -n 2p) || policy=''
  [[ $policy == noeviction ]] && return 0
  [[ $(redis-cli -h "$HOST" -p "$REDIS_PORT" CONFIG SET maxmemory-policy noeviction) == OK ]] ||
    die "could not set Redis maxmemory-policy to noeviction (it is $policy); BullMQ requires it"
  say "set Redis maxmemory-policy to noeviction (was ${policy:-unknown}; not persisted to its config file)"
}

ensure_redis() {
  if ! redis_answers; then
    if ! have redis-server; then
      apt_install redis-server ||
        die "Redis is not answering on $HOST:$REDIS_PORT and redis-server is not installed; install Redis (e.g. apt-get install redis-server) or set TEST_REDIS_URL"
    fi
    # Installing may have started it already.
    redis_answers || start_redis
  fi
  ensure_noeviction
}

# --- PostgreSQL --------------------------------------------------------------------------------------

pg_answers() {
  if have pg_isready; then
    pg_isready -q -h "$HOST" -p "$PG_PORT" -t 2
  else
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$PG_PORT" 2>/dev/null
  fi
}

start_postgres() {
  have pg_ctlcluster ||
    die "PostgreSQL is installed but not answering on $HOST:$PG_PORT, and this is not a Debian-style install (no pg_ctlcluster): start it yourself"
  local version
  # The newest installed major version, should there be several.
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [[ -n $version && -d /etc/postgresql/$version/main ]] ||
    die "no PostgreSQL cluster \"main\" under /etc/postgresql; create one with: pg_createcluster <version> main"
  quietly pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
    die "pg_ctlcluster $version main start failed (log: /var/log/postgresql/postgresql-$version-main.log)"
  wait_for "PostgreSQL on $HOST:$PG_PORT" pg_answers
  say "started PostgreSQL $version cluster main on $HOST:$PG_PORT"
}

pg_user_connects() {
  psql -h "$HOST" -p "$PG_PORT" -U "$DB_USER" -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1
}

# As the postgres superuser over the Unix socket (peer authentication), from / so that psql is not refused
# the current directory, and without the caller's PG* settings, which name another user or host.
as_postgres() { (cd / && env -u PGUSER -u PGHOST -u PGDATABASE -u PGPASSWORD su postgres -c "$1"); }
as_postgres_sql() { as_postgres "psql -p $PG_PORT -Atqc \"$1\""; }

# The apps and tests connect over TCP without a password (DATABASE_URL postgres://127.0.0.1:5432/...),
# as the current user: that needs a role of that name and trust authentication for loopback connections.
# Both are fine for a development or test machine only, which is what this script prepares.
ensure_pg_access() {
  have psql || return 0
  pg_user_connects && return 0
  is_root ||
    die "PostgreSQL answers but user $DB_USER cannot connect to $HOST:$PG_PORT without a password; give $DB_USER a superuser role and trust authentication for 127.0.0.1, or set TEST_DATABASE_SERVER"
  if [[ -z $(as_postgres_sql "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'") ]]; then
    quietly as_postgres "createuser -p $PG_PORT --superuser $DB_USER" || die "could not create PostgreSQL role $DB_USER"
    say "created PostgreSQL superuser role $DB_USER"
  fi
  local hba
  hba=$(as_postgres_sql 'SHOW hba_file')
  if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    # The first matching line wins, so these go on top of the distribution's password rules.
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    quietly as_postgres_sql 'SELECT pg_reload_conf()'
    say "enabled trust authentication for loopback connections in $hba"
  fi
  wait_for "PostgreSQL login as $DB_USER" pg_user_connects
}

ensure_postgres() {
  if ! pg_answers; then
    if ! have pg_ctlcluster && ! have postgres && ! have pg_ctl; then
      apt_install postgresql ||
        die "PostgreSQL is not answering on $HOST:$PG_PORT and is not installed; install it (e.g. apt-get install postgresql) or set TEST_DATABASE_SERVER"
    fi
    pg_answers || start_postgres
  fi
  ensure_pg_access
}

# --- OpenSSH -----------------------------------------------------------------------------------------

# The SFTP destination suites start their own sshd on a loopback port (packages/testing/src/sftp-server.ts),
# with keys made by ssh-keygen. Only the binaries are needed: no system sshd has to run.
ensure_openssh() {
  if (have sshd || [[ -x /usr/sbin/sshd ]]) && have ssh-keygen; then return 0; fi
  apt_install openssh-server openssh-client ||
    die "sshd or ssh-keygen is missing; install OpenSSH (e.g. apt-get install openssh-server openssh-client)"
}

# Called from plain statements, never from a condition, so that `set -e` stays in force inside them.
ensure_node_modules
if [[ -z ${TEST_REDIS_URL:-} ]]; then ensure_redis; fi
if [[ -z ${TEST_DATABASE_SERVER:-} ]]; then ensure_postgres; fi
ensure_openssh
