#!/usr/bin/env bash
# Contract test: schemathesis against the real edge and tasks binaries
# (debug builds, a throw-away SQLite file, free ports, generated secrets),
# with a valid token for the test user. Every documented operation is
# exercised; no 5xx and every response conforming to crates/edge/openapi.json.
# Usage: tests/contract/run.sh MAX_EXAMPLES   (`just test-contract`: short; `just contract`: long)
set -euo pipefail
cd "$(dirname "$0")/../.."
examples=${1:-20}
user=contract-user

command -v schemathesis >/dev/null || pip install --quiet 'schemathesis>=4,<5'
cargo build -q -p tasks -p edge --bins
cargo build -q -p auth-core --example dev-token

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; }
tasks_port=$(free_port)
edge_port=$(free_port)
export BETTER_AUTH_SECRET=$(secret) INTERNAL_AUTH_SECRET=$(secret)
export BETTER_AUTH_URL=http://localhost:3000
export TASKS_SQLITE_PATH="$tmp/tasks.db" TASKS_LISTEN_ADDR=127.0.0.1:$tasks_port
export TASKS_URL=http://127.0.0.1:$tasks_port EDGE_LISTEN_ADDR=127.0.0.1:$edge_port
export RUST_LOG=${RUST_LOG:-warn}
unset DATABASE_URL OTEL_EXPORTER_OTLP_ENDPOINT AUTH_VERIFY_URL

./target/debug/tasks > "$tmp/tasks.log" 2>&1 & pids+=($!)
./target/debug/edge > "$tmp/edge.log" 2>&1 & pids+=($!)
base=http://127.0.0.1:$edge_port
for _ in $(seq 1 300); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$base/readyz" >/dev/null || { cat "$tmp"/*.log; echo "contract: the edge never became ready" >&2; exit 1; }

token=$(./target/debug/examples/dev-token "$user")
status=0
schemathesis --config-file tests/contract/schemathesis.toml run crates/edge/openapi.json --url "$base" \
    -H "Authorization: Bearer $token" \
    --max-examples "$examples" --seed 1 --no-color || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- edge log"; tail -50 "$tmp/edge.log"; echo "--- tasks log"; tail -50 "$tmp/tasks.log"
fi
exit "$status"
