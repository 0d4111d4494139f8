#!/usr/bin/env bash
# CI scaffolding: makes this machine able to run containers. Installs
# Debian's Docker Engine (`docker.io`) and `debootstrap` (for the stand-in
# images, see standins.sh), then starts `dockerd` in the background, logging
# to $DOCKERD_LOG, and waits until it answers. Skips whatever is already
# there: a daemon that answers is used as it is.
#
# Debian's package cannot start the daemon here (no systemd), and a daemon
# started by hand ends with the session or CI run, so CI runs this each time.
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/ci-dockerd.log}

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    echo "engine: installing docker.io and debootstrap from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        docker.io debootstrap >/dev/null
fi

if docker info >/dev/null 2>&1; then
    echo "engine: a Docker daemon already answers; using it"
    exit 0
fi

if ! pgrep -x dockerd >/dev/null; then
    echo "engine: starting dockerd (log: $DOCKERD_LOG)"
    # setsid: the daemon outlives this script (and its process group).
    setsid dockerd --storage-driver=overlay2 >>"$DOCKERD_LOG" 2>&1 </dev/null &
fi
for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
done
if ! docker info >/dev/null 2>&1; then
    echo "engine: dockerd did not answer within 30 s; the end of $DOCKERD_LOG:" >&2
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    exit 1
fi
echo "engine: $(docker version --format 'server {{.Server.Version}}, client {{.Client.Version}}')"
