# Shared settings for the project's scripts (sourced, not run).
# Every path lives inside the repository's ignored .local/ folder, except the Odoo tree.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="$REPO_ROOT/.local"
VENV_DIR="$REPO_ROOT/.venv"
ODOO_SRC="${ODOO_SRC:-$HOME/odoo-18.0}"
ODOO_BRANCH_URL="https://github.com/odoo/odoo.git"

PG_BIN_DIR="${PG_BIN_DIR:-}"
PG_DATA="$LOCAL_DIR/pgdata"
PG_SOCKET_DIR="$LOCAL_DIR/pgrun"
PG_LOG="$LOCAL_DIR/log/postgresql.log"
# A port unlikely to be taken by a system PostgreSQL (5432) or another project's.
PG_PORT="${LC_PG_PORT:-55433}"
PG_ROLE="odoo"

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
        runuser -u "$(pg_owner)" -- "$@"
    else
        "$@"
    fi
}

pg_is_running() {
    find_pg_bin
    as_pg_owner "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_start() {
    find_pg_bin
    [ -f "$PG_DATA/PG_VERSION" ] || die "No PostgreSQL cluster in $PG_DATA: run scripts/setup first."
    if ! pg_is_running; then
        say "Starting the private PostgreSQL on port $PG_PORT (socket in $PG_SOCKET_DIR)"
        # Throwaway development data: durability is traded for speed.
        as_pg_owner "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
            -o "-p $PG_PORT -k $PG_SOCKET_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null || { tail -20 "$PG_LOG" >&2; die "PostgreSQL did not start (log: $PG_LOG)"; }
    fi
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
}

# A plain command (not a function), so that `"${ODOO_CMD[@]}" ... &` gives the PID of Odoo itself.
ODOO_CMD=("$VENV_DIR/bin/python" "$VENV_DIR/bin/odoo" -c "$ODOO_CONF")
odoo_bin() {
    "${ODOO_CMD[@]}" "$@"
}
