#!/usr/bin/env bash
# Property-based fuzzing of the admin API from its own OpenAPI document with schemathesis
# (PyPI): random valid and invalid requests on every route, failing on any 5xx and on responses
# that do not match the document. Too slow for CI; run it after changing the API.
# Usage: bench/fuzz-api.sh [SECONDS]   (default 120)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}

venv=${ZENTRALE_FUZZ_VENV:-$PWD/target/fuzz-venv}
[ -x "$venv/bin/schemathesis" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis; }
cargo build --release --quiet

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
printf '[server]\ndata_dir = "%s/data"\n[http]\nlisten = "127.0.0.1:0"\nhttps_listen = "127.0.0.1:0"\n[tftp]\nlisten = "127.0.0.1:0"\n' "$work" > "$work/zentrale.toml"
target/release/zentrale admin create --config "$work/zentrale.toml" \
    --username fuzz --password fuzz-password-1 --role system-admin > /dev/null
target/release/zentrale serve --config "$work/zentrale.toml" 2> "$work/log" &
pid=$!
# The daemon's own log line says when and where it listens.
addr=""
for _ in $(seq 1 600); do
    addr=$(sed -n 's/.*listening for HTTP on \([0-9.:]*\).*/\1/p' "$work/log")
    [ -n "$addr" ] && break
    kill -0 "$pid" || { cat "$work/log"; exit 1; }
    sleep 0.1
done
[ -n "$addr" ] || { echo "zentrale did not start"; exit 1; }

# Run from the scratch directory: schemathesis keeps a cache where it runs.
cd "$work"
"$venv/bin/schemathesis" run "http://$addr/api/v1/openapi.json" --url "http://$addr" \
    --auth fuzz:fuzz-password-1 --max-time "$seconds" --workers 2 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
