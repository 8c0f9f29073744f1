# Shared settings for the project's scripts (sourced, not run).
# Every path lives inside the repository's ignored .local/ folder, except the Odoo tree and,
# when its owner cannot reach .local/, the PostgreSQL cluster (see PG_ENV_FILE).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="$REPO_ROOT/.local"
VENV_DIR="$REPO_ROOT/.venv"
ODOO_SRC="${ODOO_SRC:-$HOME/odoo-18.0}"
ODOO_BRANCH_URL="https://github.com/odoo/odoo.git"

PG_BIN_DIR="${PG_BIN_DIR:-}"
PG_ROLE="odoo"
# Where the private cluster lives and its port are chosen once by scripts/setup and remembered
# in .local/pg.env: as root the cluster belongs to an unprivileged user who may not reach this
# clone (under /root, in a `mktemp -d` folder), and two clones on one machine need two ports.
# Without that file: .local/ and the first port.
PG_ENV_FILE="$LOCAL_DIR/pg.env"
# Clusters of clones their owner cannot reach live here, one folder per clone.
PG_SHARED_ROOT="/var/lib/logistics-connector"
# The first port tried: unlikely to be taken by a system PostgreSQL (5432) or another project's.
PG_FIRST_PORT=55433
SAVED_PG_HOME=""
SAVED_PG_PORT=""
if [ -f "$PG_ENV_FILE" ]; then source "$PG_ENV_FILE"; fi

set_pg_home() {
    PG_HOME="$1"
    PG_DATA="$PG_HOME/pgdata"
    PG_SOCKET_DIR="$PG_HOME/pgrun"
    PG_LOG="$PG_HOME/log/postgresql.log"
}
set_pg_home "${SAVED_PG_HOME:-$LOCAL_DIR}"
PG_PORT="${LC_PG_PORT:-${SAVED_PG_PORT:-$PG_FIRST_PORT}}"

ODOO_CONF="$LOCAL_DIR/odoo.conf"
TEST_DB="${LC_TEST_DB:-lc_test}"
DEMO_DB="${LC_DEMO_DB:-lc_demo}"
HTTP_PORT="${LC_HTTP_PORT:-8069}"
ADDONS="logistics_connector_base,logistics_connector_3pl,logistics_connector_carrier,logistics_connector_edi"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

find_pg_bin() {
    if [ -n "$PG_BIN_DIR" ] && [ -x "$PG_BIN_DIR/pg_ctl" ]; then return 0; fi
    local candidate
    for candidate in /usr/lib/postgresql/*/bin; do
        if [ -x "$candidate/pg_ctl" ]; then PG_BIN_DIR="$candidate"; fi
    done
    if [ -z "$PG_BIN_DIR" ] && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN_DIR="$(dirname "$(command -v pg_ctl)")"
    fi
    [ -n "$PG_BIN_DIR" ] || die "PostgreSQL server binaries not found. Install them (Debian: apt-get install postgresql) or set PG_BIN_DIR."
}

# PostgreSQL refuses to run as root: the private cluster belongs to an unprivileged user.
pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then echo "${LC_PG_USER:-postgres}"; else id -un; fi
}

as_pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        # From /: the owner may not be allowed into the current folder (initdb and pg_ctl warn).
        (cd / && runuser -u "$(pg_owner)" -- "$@")
    else
        "$@"
    fi
}

remember_pg_settings() {
    local content
    content="$(printf '# Written by scripts/setup: where the private PostgreSQL of this clone lives, and its port.\nSAVED_PG_HOME=%q\nSAVED_PG_PORT=%q' "$PG_HOME" "$PG_PORT")"
    if [ "$(cat "$PG_ENV_FILE" 2>/dev/null)" != "$content" ]; then printf '%s\n' "$content" >"$PG_ENV_FILE"; fi
    SAVED_PG_HOME="$PG_HOME"
    SAVED_PG_PORT="$PG_PORT"
}

# Taken: something answers on the port, or another cluster's socket for it exists. (A stopped
# cluster of another clone cannot be seen: pg_start moves to a free port if it started since.)
port_taken() {
    local socket
    if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; then return 0; fi
    for socket in "/tmp/.s.PGSQL.$1" "/var/run/postgresql/.s.PGSQL.$1" "$PG_SHARED_ROOT"/*/pgrun/".s.PGSQL.$1"; do
        if [ -S "$socket" ] && [ "$socket" != "$PG_SOCKET_DIR/.s.PGSQL.$1" ]; then return 0; fi
    done
    return 1
}

choose_pg_port() {
    local port="$PG_FIRST_PORT"
    while port_taken "$port"; do
        port=$((port + 1))
        [ "$port" -lt $((PG_FIRST_PORT + 100)) ] \
            || die "No free port for PostgreSQL in $PG_FIRST_PORT-$((port - 1)): set LC_PG_PORT and run scripts/setup."
    done
    PG_PORT="$port"
}

pg_is_running() {
    find_pg_bin
    as_pg_owner "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_start() {
    find_pg_bin
    [ -f "$PG_DATA/PG_VERSION" ] || die "No PostgreSQL cluster in $PG_DATA: run scripts/setup first."
    if ! pg_is_running; then
        if port_taken "$PG_PORT"; then
            [ -z "${LC_PG_PORT:-}" ] || die "Port $PG_PORT (LC_PG_PORT) is taken by another program: choose another one."
            # Another clone's cluster started since this one was set up, or another program.
            local taken="$PG_PORT"
            choose_pg_port
            remember_pg_settings
            if [ -f "$ODOO_CONF" ]; then sed -i "s/^db_port = .*/db_port = $PG_PORT/" "$ODOO_CONF"; fi
            say "Port $taken is taken by another program: this clone's PostgreSQL moves to port $PG_PORT"
        fi
        say "Starting the private PostgreSQL on port $PG_PORT (socket in $PG_SOCKET_DIR)"
        if ! pg_ctl_start && [ -z "${LC_PG_PORT:-}" ] && tail -5 "$PG_LOG" | grep -q "already in use"; then
            # Another program took the port between the check and the start: move once more.
            local taken="$PG_PORT"
            choose_pg_port
            remember_pg_settings
            if [ -f "$ODOO_CONF" ]; then sed -i "s/^db_port = .*/db_port = $PG_PORT/" "$ODOO_CONF"; fi
            say "Port $taken was taken meanwhile: starting on port $PG_PORT instead"
            pg_ctl_start || { tail -20 "$PG_LOG" >&2; die "PostgreSQL did not start (log: $PG_LOG)"; }
        elif ! pg_is_running; then
            tail -20 "$PG_LOG" >&2
            die "PostgreSQL did not start (log: $PG_LOG)"
        fi
    fi
}

pg_ctl_start() {
    # Throwaway development data: durability is traded for speed.
    as_pg_owner "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
        -o "-p $PG_PORT -k $PG_SOCKET_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null
}

pg_stop() {
    find_pg_bin
    if pg_is_running; then
        as_pg_owner "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null
    fi
}

psql_local() {
    "$PG_BIN_DIR/psql" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_ROLE" -d postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

db_exists() {
    [ "$(psql_local -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" = "1" ]
}

require_setup() {
    [ -x "$VENV_DIR/bin/python" ] && [ -f "$ODOO_CONF" ] || die "The project is not set up: run scripts/setup first."
    # odoo.conf names the port scripts/setup chose: a cluster started on another one is not found.
    if [ -n "${LC_PG_PORT:-}" ] && [ -n "$SAVED_PG_PORT" ] && [ "$LC_PG_PORT" != "$SAVED_PG_PORT" ]; then
        die "LC_PG_PORT=$LC_PG_PORT, but scripts/setup chose port $SAVED_PG_PORT: run LC_PG_PORT=$LC_PG_PORT scripts/setup to switch."
    fi
}

# A plain command (not a function), so that `"${ODOO_CMD[@]}" ... &` gives the PID of Odoo itself.
ODOO_CMD=("$VENV_DIR/bin/python" "$VENV_DIR/bin/odoo" -c "$ODOO_CONF")
odoo_bin() {
    "${ODOO_CMD[@]}" "$@"
}
