#!/usr/bin/env bash
# `just compose-test`: the real stack in Docker, checked from outside.
#
# Builds the images with `docker compose build`, starts the stack with
# `up -d --wait --scale tasks=3`, runs the checks in this directory against
# the published ports, then `down -v`. Everything belongs to one compose
# project of this run's own (COMPOSE_TEST_PROJECT, default todo-ct-<time>-<pid>)
# with its own env file (written as `just env` writes .env, in a temporary
# directory: a developer's .env is never read nor touched), its own ports
# (free ones, chosen now) and its own image names (tests/compose/images.yml),
# so it collides with no other stack on the machine. On failure the
# containers and their logs are printed. Needs Docker with Compose v2 (CI
# installs them with .ci/docker/setup).
set -euo pipefail
cd "$(dirname "$0")/../.."

PROJECT=${COMPOSE_TEST_PROJECT:-todo-ct-$(date +%s)-$$}
WORK=$(mktemp -d)
ENV_FILE=$WORK/compose-test.env
export COMPOSE_TEST_PROJECT=$PROJECT
export COMPOSE_TEST_ENV_FILE=$ENV_FILE
export COMPOSE_TEST_FILES=docker-compose.yml:tests/compose/images.yml

# docker compose with this run's project and env file, and no other
# environment (a shell's AUTH_JWT_MODE or RUST_LOG would override the file).
compose() {
    env -i PATH="$PATH" HOME="$HOME" ${DOCKER_HOST:+DOCKER_HOST="$DOCKER_HOST"} \
        docker compose -p "$PROJECT" --env-file "$ENV_FILE" \
        -f docker-compose.yml -f tests/compose/images.yml "$@"
}

START=$SECONDS
step_start=$SECONDS
step() {
    echo "compose-test: [$((SECONDS - step_start)) s] done"
    step_start=$SECONDS
    echo "compose-test: == $* =="
}

finish() {
    local status=$?
    trap - EXIT
    # --profile metrics: also Prometheus, which check_metrics.py starts
    # (a plain `down` leaves a profile's containers, and the network, alone).
    if [ "$status" -ne 0 ] && [ -f "$ENV_FILE" ]; then
        echo "compose-test: FAILED; the containers and their logs:" >&2
        compose --profile metrics ps -a >&2 || true
        compose --profile metrics logs --no-color --timestamps --tail 200 >&2 || true
    fi
    if [ -f "$ENV_FILE" ]; then
        compose --profile metrics down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true
        docker image rm "$PROJECT"/{tasks,auth-verify,edge,web} >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
    echo "compose-test: $([ "$status" -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - START)) s"
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

if ! docker compose version --short 2>/dev/null | grep -q '^v\?2\.'; then
    echo "compose-test: needs Docker with the Compose v2 plugin (\`docker compose\`); on CI machines: bash .ci/docker/setup" >&2
    exit 1
fi

echo "compose-test: == env file (as \`just env\` writes .env), free ports, project $PROJECT =="
just env "$ENV_FILE" >/dev/null
read -r WEB_PORT EDGE_PORT PROMETHEUS_PORT < <(python3 tests/compose/stack.py free-ports 3)
python3 tests/compose/stack.py set-env "$ENV_FILE" \
    "CI_IMAGE_PREFIX=$PROJECT" "WEB_PORT=$WEB_PORT" "EDGE_PORT=$EDGE_PORT" "PROMETHEUS_PORT=$PROMETHEUS_PORT" \
    "BETTER_AUTH_URL=http://localhost:$WEB_PORT" "NEXT_PUBLIC_API_URL=http://localhost:$EDGE_PORT"
echo "compose-test: web http://localhost:$WEB_PORT, edge http://localhost:$EDGE_PORT"

step "docker compose build"
if ! compose build --progress plain >"$WORK/build.log" 2>&1; then
    tail -n 80 "$WORK/build.log" >&2
    exit 1
fi
docker image ls --format '{{.Repository}}: {{.Size}}' "$PROJECT/*"

step "docker compose up -d --wait --scale tasks=3"
compose up -d --no-build --wait --wait-timeout 300 --scale tasks=3
compose ps

env_value() { sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1; }

# The edge's black-box API tests (the ones `just test` runs against native
# binaries) pointed at the containers.
step "just test-external (edge API tests against the containers)"
TEST_EDGE_URL="http://localhost:$EDGE_PORT" \
    TEST_BETTER_AUTH_SECRET="$(env_value BETTER_AUTH_SECRET)" \
    TEST_BETTER_AUTH_URL="$(env_value BETTER_AUTH_URL)" \
    just test-external

# The browser end-to-end test against the containerized web app.
step "just test-e2e-external (browser e2e against the containerized web)"
E2E_WEB_URL="http://localhost:$WEB_PORT" just test-e2e-external

step "metrics: Prometheus (metrics profile) scrapes edge, auth-verify and 3 tasks replicas; counters move"
python3 tests/compose/check_metrics.py

step "scaling: spread over 3 replicas; stop, kill -9, scale 1 → 3 under traffic"
python3 tests/compose/check_scaling.py

step "restart: restart postgres; down && up"
python3 tests/compose/check_restart.py

step "sign-out: every edge refuses the ended session's token; postgres restart; a new edge"
python3 tests/compose/check_revocation.py

step "jwks mode (edge, then auth-verify fetching keys from web)"
python3 tests/compose/check_jwks.py

step "docker compose down -v"
