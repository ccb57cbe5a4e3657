#!/usr/bin/env bash
# The test command: ruff, mypy and pytest, against SQLite and private PostgreSQL and MariaDB
# servers that live only as long as this script.
#
#   bash scripts/test.sh [pytest args...]       e.g. bash scripts/test.sh tests/store -x
#   HVSNAP_SKIP_SERVERS=1 bash scripts/test.sh   SQLite only (server tests skip, fail under CI=1)
#   HVSNAP_TEST_WORKERS=1 bash scripts/test.sh   one pytest process (default: one worker per core)
#
# Works on a fresh Debian 12 as root with python3: makes .venv, installs the project, and
# apt-installs postgresql, mariadb-server and MIT Kerberos (a private KDC for the live
# driver's Kerberos tests; libkrb5-dev to build pyspnego's Kerberos extra, ~4 min once)
# and chromium (the console's browser tests) when their binaries are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT=${HVSNAP_TEST_PG_PORT:-55432}
MDB_PORT=${HVSNAP_TEST_MYSQL_PORT:-33306}
DB_NAME=hvsnap_test
# pytest-xdist workers, a test file each at a time; each has databases of its own on the servers
WORKERS=${HVSNAP_TEST_WORKERS:-$(nproc)}
DB_NAMES=("$DB_NAME")
for ((w = 0; w < WORKERS; w++)); do DB_NAMES+=("${DB_NAME}_gw$w"); done

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
say() { printf '== %s\n' "$*" >&2; }
T0=$(now)

# --- python environment -------------------------------------------------------------------
if [[ ! -x .venv/bin/python ]]; then
    if ! python3 -m venv .venv 2>/dev/null; then  # Debian ships ensurepip separately
        rm -rf .venv
        say "python3 -m venv failed; installing python3-venv"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv .venv
    fi
fi

# --- system packages: database servers and Kerberos ---------------------------------------
PGDIR="" MDBDIR="" MDB_PID="" PG_CTL="" WATCHDOG_PID="" POLICY=""
cleanup() {
    set +e
    [[ -n "$WATCHDOG_PID" ]] && kill "$WATCHDOG_PID" 2>/dev/null
    [[ -n "$POLICY" ]] && rm -f "$POLICY"
    if [[ -n "$PGDIR" && -f "$PGDIR/data/postmaster.pid" ]]; then
        runuser -u postgres -- "$PG_CTL" -D "$PGDIR/data" -m fast -w stop >/dev/null
    fi
    if [[ -n "$MDB_PID" ]] && kill -0 "$MDB_PID" 2>/dev/null; then
        mariadb-admin --socket="$MDBDIR/mysqld.sock" -uroot shutdown >/dev/null 2>&1 || kill "$MDB_PID"
        wait "$MDB_PID" 2>/dev/null
    fi
    [[ -n "$PGDIR" ]] && rm -rf "$PGDIR"
    [[ -n "$MDBDIR" ]] && rm -rf "$MDBDIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_bin() { { compgen -G '/usr/lib/postgresql/*/bin/initdb' || true; } | sort -V | tail -n1 | xargs -r dirname; }
have_mariadb() { command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]]; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

install_servers() {
    local pkgs=()
    [[ -n "$(pg_bin)" ]] || pkgs+=(postgresql)
    have_mariadb || pkgs+=(mariadb-server)
    command -v krb5-config >/dev/null || pkgs+=(libkrb5-dev)
    command -v krb5kdc >/dev/null || [[ -x /usr/sbin/krb5kdc ]] || pkgs+=(krb5-kdc)
    command -v kadmin.local >/dev/null || [[ -x /usr/sbin/kadmin.local ]] || pkgs+=(krb5-admin-server)
    ((${#pkgs[@]})) || return 0
    if [[ $EUID -ne 0 ]]; then
        say "missing ${pkgs[*]} and not root: install them, or set HVSNAP_SKIP_SERVERS=1"
        exit 1
    fi
    local T
    T=$(now)
    # Keep the packages' own services from starting (and outliving us): we run private ones.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        POLICY=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod +x "$POLICY"
    fi
    say "installing ${pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
    if [[ -n "$POLICY" ]]; then rm -f "$POLICY"; POLICY=""; fi
    say "apt-get install: $(secs "$T") s"
}

start_postgres() {
    local bin
    bin=$(pg_bin)
    PG_CTL="$bin/pg_ctl"
    port_busy "$PG_PORT" && PG_PORT=$(free_port)
    PGDIR=$(mktemp -d /tmp/hvsnap-pg.XXXXXX)
    chown postgres:postgres "$PGDIR"
    runuser -u postgres -- "$bin/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; return 1; }
    runuser -u postgres -- "$PG_CTL" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PGDIR -c fsync=off" start >/dev/null \
        || { cat "$PGDIR/server.log" >&2; return 1; }
    local db
    for db in "${DB_NAMES[@]}"; do
        runuser -u postgres -- "$bin/psql" -h "$PGDIR" -p "$PG_PORT" -U postgres -qAt \
            -c "CREATE DATABASE $db" >/dev/null
    done
    export HVSNAP_TEST_PG_URL="postgresql+psycopg2://postgres@127.0.0.1:$PG_PORT/$DB_NAME"
}

start_mariadb() {
    port_busy "$MDB_PORT" && MDB_PORT=$(free_port)
    MDBDIR=$(mktemp -d /tmp/hvsnap-mdb.XXXXXX)
    chown mysql:mysql "$MDBDIR"
    local sock="$MDBDIR/mysqld.sock"
    mariadb-install-db --no-defaults --user=mysql --datadir="$MDBDIR/data" --auth-root-authentication-method=normal \
        --skip-test-db >"$MDBDIR/install.log" 2>&1 || { cat "$MDBDIR/install.log" >&2; return 1; }
    mariadbd --no-defaults --user=mysql --datadir="$MDBDIR/data" --socket="$sock" --port="$MDB_PORT" \
        --bind-address=127.0.0.1 --pid-file="$MDBDIR/mysqld.pid" --log-error="$MDBDIR/error.log" \
        --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
        --innodb-flush-log-at-trx-commit=0 --innodb-flush-method=nosync --innodb-doublewrite=0 \
        --innodb-file-per-table=0 --max-connections=100 --table-open-cache=400 >>"$MDBDIR/stdout.log" 2>&1 &
    MDB_PID=$!
    local i
    for ((i = 0; i < 300; i++)); do
        mariadb-admin --socket="$sock" -uroot ping >/dev/null 2>&1 && break
        kill -0 "$MDB_PID" 2>/dev/null || { cat "$MDBDIR/error.log" >&2; return 1; }
        sleep 0.1
    done
    local db sql="CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'pw';"
    for db in "${DB_NAMES[@]}"; do sql+=" CREATE DATABASE $db; GRANT ALL ON $db.* TO 'app'@'127.0.0.1';"; done
    mariadb --socket="$sock" -uroot -e "$sql"
    export HVSNAP_TEST_MYSQL_URL="mysql+pymysql://app:pw@127.0.0.1:$MDB_PORT/$DB_NAME"
}

if [[ "${HVSNAP_SKIP_SERVERS:-}" != 1 ]]; then
    install_servers
fi

# Debian's Chromium for the console's and the reports' browser tests (Playwright drives it;
# it downloads no browser of its own). Without it, and not root, those tests skip (fail under CI=1).
if [[ ! -x /usr/bin/chromium ]]; then
    if [[ $EUID -eq 0 ]]; then
        T=$(now)
        say "installing chromium"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        say "apt-get install chromium: $(secs "$T") s"
    else
        say "no /usr/bin/chromium and not root: the console's browser tests skip"
    fi
fi

# --- python environment, continued: the project and its test extras -----------------------
EXTRAS=test
command -v krb5-config >/dev/null && EXTRAS=test,kerberos  # else the Kerberos tests skip (fail under CI)
STAMP=.venv/.hvsnap-test-install
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1) $EXTRAS"
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]]; then
    T=$(now)
    .venv/bin/pip install -q --disable-pip-version-check -e ".[$EXTRAS]"
    echo "$WANT" >"$STAMP"
    say "pip install .[$EXTRAS]: $(secs "$T") s"
fi

# --- checks -------------------------------------------------------------------------------
failed=()
T=$(now)
.venv/bin/ruff check . || failed+=(ruff)
.venv/bin/mypy || failed+=(mypy)
.venv/bin/mypy harness/store/migrations || failed+=(mypy-migrations)  # not a package: checked by path
say "ruff + mypy: $(secs "$T") s"

if [[ "${HVSNAP_SKIP_SERVERS:-}" == 1 ]]; then
    say "HVSNAP_SKIP_SERVERS=1: no private PostgreSQL/MariaDB (tests use HVSNAP_TEST_*_URL if set, else skip)"
else
    T=$(now)
    start_postgres
    start_mariadb
    # Even if this script is killed (SIGKILL skips the trap), the servers go with it.
    (
        trap - EXIT
        while kill -0 $$ 2>/dev/null; do sleep 1; done
        cleanup
    ) </dev/null >/dev/null 2>&1 &
    WATCHDOG_PID=$!
    say "servers up in $(secs "$T") s (PostgreSQL :$PG_PORT, MariaDB :$MDB_PORT)"
fi

T=$(now)
rc=0
# the slowest tests are listed after the run: the suite must stay under 15 min on 2 cores
parallel=()
((WORKERS > 1)) && parallel=(-n "$WORKERS" --dist loadfile)
.venv/bin/pytest "${parallel[@]}" --durations=15 --durations-min=5 --alluredir reports/out/allure-results \
    --clean-alluredir "$@" || rc=$?
say "pytest: $(secs "$T") s (exit $rc)"
if ((rc == 5)); then
    say "pytest collected no tests"
fi
((rc == 0)) || failed+=(pytest)

# The same features again over real WinRM/PSRP (the live driver against the emulated host)
# run inside pytest: tests/live_driver/test_readme.py runs the README's live section as
# printed, `pytest features --driver live --hyperv-host 127.0.0.1:5985` included.

# --- Allure HTML report (Allure 3 from package.json; needs node) ---------------------------
if command -v npm >/dev/null; then
    T=$(now)
    if [[ ! -x node_modules/.bin/allure ]]; then
        npm ci --no-audit --no-fund --loglevel=error >/dev/null || say "npm ci failed: no HTML report"
    fi
    if [[ -x node_modules/.bin/allure ]] && compgen -G 'reports/out/allure-results/*-result.json' >/dev/null; then
        .venv/bin/hvsnap report >/dev/null || failed+=(report)
        say "report: reports/out/allure-report/index.html ($(secs "$T") s)"
    fi
else
    say "no node/npm: Allure results in reports/out/allure-results, no HTML report"
fi

if ((${#failed[@]})); then
    say "FAILED: ${failed[*]} (total $(secs "$T0") s)"
    exit 1
fi
say "OK (total $(secs "$T0") s)"
