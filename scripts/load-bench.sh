#!/usr/bin/env bash
# Measures `vaccred serve` end to end over HTTP on 127.0.0.1: certify latency and issued
# certificates per second, on SQLite and then on PostgreSQL, with the load generator
# `crates/vaccred-server/examples/loadgen.rs` in a separate process. Also runs the crash
# test with VACCRED_LOAD_CRASH_ITEMS items (default 10,000). Run by hand; results go into
# docs/benchmarks.md.
#
# Usage: scripts/load-bench.sh [SECONDS]   (sending time per scenario, default 20)
# LOAD_BENCH_WORKERS sets the server's signing workers (default: one per CPU);
# VACCRED_LOAD_CRASH_ITEMS=0 skips the crash test.
# PostgreSQL: VACCRED_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
# the script creates and drops its own schema there. Needs curl and psql.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
postgres_url="${VACCRED_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
crash_items="${VACCRED_LOAD_CRASH_ITEMS:-10000}"
workers="${LOAD_BENCH_WORKERS:-}"

cargo build --release -p vaccred --bin vaccred >&2
cargo build --release -p vaccred-server --example loadgen >&2
vaccred="$CARGO_TARGET_DIR/release/vaccred"
loadgen="$CARGO_TARGET_DIR/release/examples/loadgen"

work=$(mktemp -d)
schema="vaccred_load_bench_$$"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    psql -q "$postgres_url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# Removes VACCRED_* variables of the caller's shell, so only the ones set here apply.
for name in $(env | sed -n 's/^\(VACCRED_[A-Z0-9_]*\)=.*/\1/p'); do
    unset "$name"
done

# run_backend NAME [DATABASE_URL]: starts a server, runs the scenarios, stops it.
run_backend() {
    local backend="$1" database_url="${2:-}"
    local data_dir="$work/$backend"
    export VACCRED_DATA_DIR="$data_dir" VACCRED_LISTEN=127.0.0.1:18080 VACCRED_LOG_FILTER=warn
    if [ -n "$database_url" ]; then export VACCRED_DATABASE_URL="$database_url"; fi
    if [ -n "$workers" ]; then export VACCRED_WORKER_CONCURRENCY="$workers"; fi
    local secret
    secret=$("$vaccred" clients add load-bench --role facility-staff 2>/dev/null |
        sed -n 's/^client_secret: //p')
    "$vaccred" serve 2>"$work/$backend-server.log" &
    server_pid=$!
    for _ in $(seq 100); do
        curl -sf http://127.0.0.1:18080/healthz >/dev/null && break
        sleep 0.1
    done
    local common=(--url http://127.0.0.1:18080 --client-id load-bench --client-secret "$secret"
        --seconds "$seconds")
    "$loadgen" "${common[@]}" --items-per-request 1 --concurrency 8 |
        sed "s/^/{\"backend\":\"$backend\",\"scenario\":\"1 per request\"}\t/"
    "$loadgen" "${common[@]}" --items-per-request 100 --concurrency 2 |
        sed "s/^/{\"backend\":\"$backend\",\"scenario\":\"100 per request\"}\t/"
    "$loadgen" "${common[@]}" --items-per-request 1 --rate 500 |
        sed "s/^/{\"backend\":\"$backend\",\"scenario\":\"500 requests\/s\"}\t/"
    kill "$server_pid"
    wait "$server_pid" || true
    server_pid=""
    unset VACCRED_DATABASE_URL
}

run_backend sqlite
psql -q "$postgres_url" -c "CREATE SCHEMA $schema" >/dev/null
run_backend postgres "$postgres_url?options=-c%20search_path%3D$schema"

if [ "$crash_items" -gt 0 ]; then
    VACCRED_TEST_CRASH_ITEMS="$crash_items" cargo test -p vaccred --test crash \
        -- --nocapture 2>&1 | grep -E "^test |crash test:" >&2
fi
