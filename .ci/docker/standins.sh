#!/usr/bin/env bash
# CI scaffolding: no container registry is reachable from these machines, so
# the base images that Dockerfile, web/Dockerfile and docker-compose.yml name
# are built here from Debian's packages, under those exact names, when no
# image of that name exists (BuildKit and Compose then use the local image
# without pulling). A machine that has the real images keeps them: nothing
# here replaces an existing image, and nothing here is used outside CI.
#
#   rust:<v>-slim-bookworm                 bookworm + gcc + the host's toolchain
#   gcr.io/distroless/cc-debian12:nonroot  scratch + Debian 12 runtime libraries
#   node:<v>-bookworm, node:<v>-bookworm-slim   bookworm + the host's node
#   postgres:<v>-bookworm                  trixie + Debian's postgresql-<v>
#   prom/prometheus:<v>                    trixie + Debian's prometheus
#
# Not stood in: grafana/grafana-oss (not in Debian), jaegertracing/all-in-one
# (not in Debian); compose-test runs neither.
#
# Two base images come first, `todo-ci-standin/debian:bookworm` and
# `:trixie`, made with debootstrap from the machine's Debian mirror, with the
# host's extra CA certificates trusted (TLS to the package registries is
# intercepted by a local CA; without them cargo and npm fail inside builds).
# Each image's recipe is a Dockerfile beside this script.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/.ci/docker/standins"
LOG_DIR=$(mktemp -d)
trap 'rm -rf "$LOG_DIR"' EXIT

# The names the project's files use (ARG defaults and `image:` lines).
arg_default() { sed -n "s/^ARG $2=\(.*\)$/\1/p" "$1" | head -n 1; }
RUST_IMAGE=$(arg_default "$ROOT/Dockerfile" RUST_IMAGE)
RUNTIME_IMAGE=$(arg_default "$ROOT/Dockerfile" RUNTIME_IMAGE)
NODE_MAJOR=$(arg_default "$ROOT/web/Dockerfile" NODE_VERSION)
compose_image() { sed -n "s|^ *image: *\($1:[^ ]*\) *$|\1|p" "$ROOT/docker-compose.yml" | head -n 1; }
POSTGRES_IMAGE=$(compose_image postgres)
PROMETHEUS_IMAGE=$(compose_image prom/prometheus)
for name in RUST_IMAGE RUNTIME_IMAGE NODE_MAJOR POSTGRES_IMAGE PROMETHEUS_IMAGE; do
    [ -n "${!name}" ] || { echo "standins: could not read $name from the project's files" >&2; exit 1; }
done

# Each stand-in's recipe: the files of this directory it is built from.
declare -A RECIPE=(
    ["$RUST_IMAGE"]="rust.Dockerfile"
    ["$RUNTIME_IMAGE"]="distroless-cc.Dockerfile"
    ["node:$NODE_MAJOR-bookworm"]="node.Dockerfile"
    ["node:$NODE_MAJOR-bookworm-slim"]="node.Dockerfile"
    ["$POSTGRES_IMAGE"]="postgres.Dockerfile postgres-entrypoint.sh"
    ["$PROMETHEUS_IMAGE"]="prometheus.Dockerfile"
)
recipe_hash() {
    local files
    read -ra files <<<"${RECIPE[$1]}"
    (cd "$HERE" && cat "${files[@]}") | sha256sum | cut -c1-16
}

# An image is there when it exists and is either not ours (a real image:
# kept) or a stand-in built from its current recipe (its hash, in the label
# todo.ci.recipe; a stand-in from an older recipe is built again, the others
# are kept).
have() {
    local labels
    labels=$(docker image inspect --format \
        '{{index .Config.Labels "todo.ci.standin"}}/{{index .Config.Labels "todo.ci.recipe"}}' "$1" 2>/dev/null) || return 1
    case "$labels" in
        /*) return 0 ;;                   # not a stand-in: the real image
        debian/*) return 0 ;;             # a base image (debootstrap, no recipe file)
        */"$(recipe_hash "$1")") return 0 ;;  # a stand-in from its current recipe
        *) echo "standins: $1 is from an older recipe; building it again"; return 1 ;;
    esac
}

# Runs a build, its output in a log shown only when it fails.
quietly() {
    local log="$LOG_DIR/$1.log"
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "standins: failed: $*" >&2
        tail -n 40 "$log" >&2
        return 1
    fi
}

# The machine's Debian mirror (deb822 or one-line sources), for debootstrap.
debian_mirror() {
    local uri
    uri=$(sed -n 's/^URIs: *\(\S*\/debian\)\/\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    [ -n "$uri" ] || uri=$(sed -n 's/^deb \(\S*\/debian\)\/\? .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
    echo "${uri:-http://deb.debian.org/debian}"
}

# todo-ci-standin/debian:SUITE: minbase + ca-certificates + the host's extra CAs.
base_image() {
    local suite=$1 name="todo-ci-standin/debian:$1" mirror dir
    have "$name" && return 0
    mirror=$(debian_mirror)
    dir=$(mktemp -d)
    echo "standins: debootstrap $suite from $mirror"
    quietly "debootstrap-$suite" debootstrap --variant=minbase --include=ca-certificates \
        "$suite" "$dir/rootfs" "$mirror"
    cp /usr/local/share/ca-certificates/*.crt "$dir/rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
    quietly "ca-$suite" chroot "$dir/rootfs" update-ca-certificates
    cat > "$dir/rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
SOURCES
    rm -rf "$dir/rootfs/var/lib/apt/lists/"* "$dir/rootfs/var/cache/apt/"*.bin
    tar -C "$dir/rootfs" -c . | docker import \
        --change 'LABEL todo.ci.standin=debian' --change 'CMD ["bash"]' - "$name" >/dev/null
    rm -rf "$dir"
    echo "standins: built $name"
}

# `docker build` reading its context (this directory's Dockerfile and files,
# plus host directories) as a tar on stdin. The legacy builder: the stand-ins
# use no BuildKit-only syntax, and the machine's client has no buildx.
build() {
    local tag=$1 dockerfile=$2
    shift 2
    echo "standins: building $tag"
    DOCKER_BUILDKIT=0 quietly "${tag//[\/:]/_}" docker build --tag "$tag" --file "$dockerfile" \
        --label "todo.ci.recipe=$(recipe_hash "$tag")" "$@"
    echo "standins: built $tag"
}

rust_image() {
    have "$RUST_IMAGE" && return 0
    local want host sysroot
    want=$(echo "$RUST_IMAGE" | sed -n 's/^rust:\([0-9.]*\)-slim-bookworm$/\1/p')
    host=$(rustc --version | awk '{print $2}')
    [ -n "$want" ] || { echo "standins: cannot make a stand-in for $RUST_IMAGE" >&2; return 1; }
    case "$host" in
        "$want" | "$want".*) ;;
        *) echo "standins: $RUST_IMAGE wanted, but the host's rustc is $host" >&2; return 1 ;;
    esac
    sysroot=$(rustc --print sysroot)
    tar -c -C "$HERE" rust.Dockerfile -C "$sysroot" bin lib |
        build "$RUST_IMAGE" rust.Dockerfile \
            --build-arg "TOOLCHAIN=$host-x86_64-unknown-linux-gnu" --build-arg "RUST_VERSION=$host" \
            --build-arg "TAG=$RUST_IMAGE" -
}

distroless_image() {
    have "$RUNTIME_IMAGE" && return 0
    build "$RUNTIME_IMAGE" "$HERE/distroless-cc.Dockerfile" "$HERE"
}

node_image() {
    local tag=$1 packages=$2 host prefix
    have "$tag" && return 0
    host=$(node --version)
    case "$host" in
        "v$NODE_MAJOR".*) ;;
        *) echo "standins: $tag wanted, but the host's node is $host" >&2; return 1 ;;
    esac
    prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
    tar -c -C "$HERE" node.Dockerfile -C "$prefix" bin/node lib/node_modules/npm \
        lib/node_modules/corepack include/node |
        build "$tag" node.Dockerfile --build-arg "BUILD_PACKAGES=$packages" \
            --build-arg "NODE_VERSION=${host#v}" --build-arg "TAG=$tag" -
}

postgres_image() {
    have "$POSTGRES_IMAGE" && return 0
    build "$POSTGRES_IMAGE" "$HERE/postgres.Dockerfile" --build-arg "TAG=$POSTGRES_IMAGE" "$HERE"
}

prometheus_image() {
    have "$PROMETHEUS_IMAGE" && return 0
    build "$PROMETHEUS_IMAGE" "$HERE/prometheus.Dockerfile" --build-arg "TAG=$PROMETHEUS_IMAGE" "$HERE"
}

# Base images first, then the stand-ins, each group in parallel: the work is
# mostly downloading and unpacking Debian packages.
in_parallel() {
    local pids=() failed=0 pid
    for step in "$@"; do
        $step &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || failed=1
    done
    return $failed
}
bookworm_done() { have "$RUST_IMAGE" && have "$RUNTIME_IMAGE" && have "node:$NODE_MAJOR-bookworm" && have "node:$NODE_MAJOR-bookworm-slim"; }
bookworm() { bookworm_done || base_image bookworm; }
trixie_done() { have "$POSTGRES_IMAGE" && have "$PROMETHEUS_IMAGE"; }
trixie() { trixie_done || base_image trixie; }
node_full() { node_image "node:$NODE_MAJOR-bookworm" "build-essential python3"; }
node_slim() { node_image "node:$NODE_MAJOR-bookworm-slim" ""; }

start=$SECONDS
in_parallel bookworm trixie
in_parallel rust_image distroless_image node_full node_slim postgres_image prometheus_image
echo "standins: ready in $((SECONDS - start)) s: $RUST_IMAGE, $RUNTIME_IMAGE, node:$NODE_MAJOR-bookworm(-slim), $POSTGRES_IMAGE, $PROMETHEUS_IMAGE"
