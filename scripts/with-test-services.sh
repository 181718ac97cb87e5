#!/usr/bin/env bash
# Run a command with Postgres and Redis available, then stop whatever was started for it.
#
#   scripts/with-test-services.sh COMMAND [ARG...]
#
# DATABASE_URL and REDIS_URL are used as they are when set. Otherwise a throwaway server is
# started from the local binaries on a free 127.0.0.1 port, its URL is exported to COMMAND,
# and the server and its data are removed when COMMAND ends.
#
# Overrides: PG_BIN_DIR (directory holding initdb and pg_ctl), REDIS_SERVER (path to
# redis-server).
# Exit status: COMMAND's own; 2 on bad usage or a missing binary; 3 if a throwaway server
# does not start (its log is printed).
set -euo pipefail

prog=${0##*/}

if [[ $# -eq 0 ]]; then
    echo "usage: $prog COMMAND [ARG...]" >&2
    exit 2
fi

say() { echo "$prog: $*" >&2; }

# Everything the cleanup needs is global so the trap can reach it from any exit point.
pg_dir=""
pg_ctl=""
pg_owner=""
redis_dir=""
redis_pid=""

# shellcheck disable=SC2317  # only ever called by the EXIT trap
cleanup() {
    if [[ -n $pg_ctl && -f $pg_dir/data/postmaster.pid ]]; then
        # The data is thrown away next, so skip the shutdown checkpoint.
        as_pg_owner "$pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [[ -n $redis_pid ]]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    [[ -z $pg_dir ]] || rm -rf "$pg_dir"
    [[ -z $redis_dir ]] || rm -rf "$redis_dir"
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap runs once, with the usual 128+N status.
trap 'exit 130' INT
trap 'exit 143' TERM

# Hide the password in a URL (user:password@host, or a password= query parameter).
mask_url() {
    sed -E -e 's#^([A-Za-z][A-Za-z0-9+.-]*://[^:@/]*):[^@/]*@#\1:****@#' \
        -e 's#([?&]password=)[^&]*#\1****#' <<<"$1"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A random port below Linux's ephemeral range (32768+), so outgoing connections made by the
# tests cannot take it between this check and the server binding it.
free_port() {
    local port
    for _ in $(seq 100); do
        port=$((15000 + RANDOM % 17000))
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    say "no free port found on 127.0.0.1"
    exit 3
}

new_temp_dir() {
    mktemp -d "${TMPDIR:-/tmp}/hashwatch-$1.XXXXXX"
}

show_log_and_fail() {
    say "$1; its log follows"
    tail -n 40 "$2" >&2 || true
    exit 3
}

# Where initdb and pg_ctl may be: PG_BIN_DIR alone when it is set, else PATH, else the
# versioned installs, newest first (Debian/Ubuntu packages and Homebrew's keg-only
# postgresql@N formulas keep them off PATH).
pg_bin_candidates() {
    local initdb
    if [[ -n ${PG_BIN_DIR:-} ]]; then
        echo "$PG_BIN_DIR"
        return 0
    fi
    if initdb=$(command -v initdb); then
        dirname "$initdb"
    fi
    shopt -s nullglob
    printf '%s\n' /usr/lib/postgresql/*/bin /opt/homebrew/opt/postgresql@*/bin \
        /usr/local/opt/postgresql@*/bin | sort -Vr
}

find_pg_bin() {
    local dir
    while IFS= read -r dir; do
        if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
            echo "$dir"
            return 0
        fi
    done < <(pg_bin_candidates)
    return 1
}

# initdb refuses to run as root, so a root caller hands the cluster to pg_owner. runuser is
# util-linux (Linux only); su is the fallback elsewhere. The command runs from the cluster's
# directory because the caller's (e.g. /root) may be unreadable to pg_owner.
as_pg_owner() {
    (
        cd "$pg_dir"
        if [[ -z $pg_owner ]]; then
            "$@"
        elif command -v runuser >/dev/null; then
            runuser -u "$pg_owner" -- "$@"
        else
            su -s /bin/sh "$pg_owner" -c "$(printf '%q ' "$@")"
        fi
    )
}

start_postgres() {
    local bin=$1 port number options
    pg_dir=$(new_temp_dir pg)
    if [[ $(id -u) -eq 0 ]]; then
        pg_owner=nobody
        if id postgres >/dev/null 2>&1; then
            pg_owner=postgres
        fi
        chown "$pg_owner" "$pg_dir"
    fi

    # The superuser is named postgres whoever owns the files, so the URL has the same shape
    # everywhere. The C locale accepts UTF8 whatever locale the caller has set.
    if ! as_pg_owner "$bin/initdb" -D "$pg_dir/data" --username=postgres --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$pg_dir/initdb.log" 2>&1; then
        show_log_and_fail "initdb failed" "$pg_dir/initdb.log"
    fi

    port=$(free_port)
    # Durability is off: this cluster lives only as long as the command. pg_ctl hands these
    # options to a shell, hence one line and the quoted socket directory.
    options="-c listen_addresses=127.0.0.1 -p $port -k '$pg_dir'"
    options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    pg_ctl=$bin/pg_ctl
    if ! as_pg_owner "$pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
        -o "$options" start >/dev/null 2>&1; then
        show_log_and_fail "Postgres did not start" "$pg_dir/server.log"
    fi

    read -r _ _ number _ < <(as_pg_owner "$pg_ctl" --version)
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    pg_note="throwaway PostgreSQL $number from $bin"
}

redis_answers_ping() {
    (
        reply=""
        exec 4<>"/dev/tcp/127.0.0.1/$1"
        printf 'PING\r\n' >&4
        read -r -t 1 reply <&4 || true
        [[ $reply == "+PONG"* ]]
    )
}

start_redis() {
    local server=$1 port version
    redis_dir=$(new_temp_dir redis)
    port=$(free_port)
    # A child of this script rather than --daemonize, so its pid is known without a pidfile.
    "$server" --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize no \
        --dir "$redis_dir" >"$redis_dir/server.log" 2>&1 &
    redis_pid=$!

    for _ in $(seq 100); do
        if redis_answers_ping "$port" 2>/dev/null; then
            version=$("$server" --version)
            version=${version#*v=}
            export REDIS_URL="redis://127.0.0.1:$port/0"
            redis_note="throwaway Redis ${version%% *} from $server"
            return 0
        fi
        if ! kill -0 "$redis_pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    show_log_and_fail "Redis did not start" "$redis_dir/server.log"
}

# Look for every missing binary before starting anything, so one run reports them all.
pg_bin=""
redis_server=""
missing=0
if [[ -z ${DATABASE_URL:-} ]] && ! pg_bin=$(find_pg_bin); then
    say "Postgres not found${PG_BIN_DIR:+ in PG_BIN_DIR=$PG_BIN_DIR}: set DATABASE_URL to a" \
        "server you can use, or install it (Debian/Ubuntu: sudo apt-get install postgresql;" \
        "macOS: brew install postgresql@16)"
    missing=1
fi
if [[ -z ${REDIS_URL:-} ]] && ! redis_server=$(command -v "${REDIS_SERVER:-redis-server}"); then
    say "Redis not found${REDIS_SERVER:+ at REDIS_SERVER=$REDIS_SERVER}: set REDIS_URL to a" \
        "server you can use, or install it (Debian/Ubuntu: sudo apt-get install redis-server;" \
        "macOS: brew install redis)"
    missing=1
fi
[[ $missing -eq 0 ]] || exit 2

pg_note="given in DATABASE_URL"
redis_note="given in REDIS_URL"
if [[ -n $pg_bin ]]; then
    start_postgres "$pg_bin"
fi
if [[ -n $redis_server ]]; then
    start_redis "$redis_server"
fi

say "Postgres $(mask_url "$DATABASE_URL") ($pg_note); Redis $(mask_url "$REDIS_URL") ($redis_note)"

status=0
"$@" || status=$?
exit "$status"
