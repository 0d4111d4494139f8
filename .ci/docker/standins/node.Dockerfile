# CI stand-in (no container registry is reachable here) for the official
# `node:<major>-bookworm` (BUILD_PACKAGES="build-essential python3": the
# compilers native modules fall back to) and `node:<major>-bookworm-slim`
# (none): Debian bookworm, the user `node` (1000), and the host's node, npm,
# corepack and Node headers at the official image's paths. Built by
# .ci/docker/standins.sh only when no image of that name exists; a user with
# a registry gets the real image.
FROM todo-ci-standin/debian:bookworm
ARG BUILD_PACKAGES=""
ARG NODE_VERSION
ARG TAG
LABEL todo.ci.standin="${TAG}"
RUN groupadd --gid 1000 node \
    && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
    && if [ -n "$BUILD_PACKAGES" ]; then \
         apt-get update \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $BUILD_PACKAGES \
         && rm -rf /var/lib/apt/lists/*; \
       fi
COPY bin/node /usr/local/bin/node
COPY lib/node_modules /usr/local/lib/node_modules
COPY include/node /usr/local/include/node
# Stand-in only: TLS to the npm registry is intercepted by this machine's CA
# (in the base image's bundle), and node-gyp must use the headers above
# instead of downloading them (unreachable here).
ENV NODE_VERSION=${NODE_VERSION} \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    npm_config_nodedir=/usr/local
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && ln -s ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack \
    && node --version && npm --version
CMD ["node"]
