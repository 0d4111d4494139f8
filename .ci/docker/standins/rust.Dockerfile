# CI stand-in (no container registry is reachable here) for the official
# `rust:<version>-slim-bookworm`: Debian bookworm with gcc and libc6-dev, and
# the host's Rust toolchain at the official image's paths. Built by
# .ci/docker/standins.sh only when no image of that name exists; a user with
# a registry gets the real image.
FROM todo-ci-standin/debian:bookworm
ARG TOOLCHAIN
ARG RUST_VERSION
ARG TAG
LABEL todo.ci.standin="${TAG}"
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    RUST_VERSION=${RUST_VERSION}
COPY bin /usr/local/rustup/toolchains/${TOOLCHAIN}/bin
COPY lib /usr/local/rustup/toolchains/${TOOLCHAIN}/lib
RUN mkdir -p /usr/local/cargo/bin \
    && for tool in cargo rustc rustdoc; do \
         ln -s "/usr/local/rustup/toolchains/${TOOLCHAIN}/bin/$tool" "/usr/local/cargo/bin/$tool"; \
       done \
    && chmod a+w /usr/local/cargo \
    && cargo --version && rustc --version
