# The Rust services. One build stage compiles every binary once; one small
# runtime stage per service, chosen with `--target edge|tasks|auth-verify`
# (docker-compose.yml does). Every runtime image also carries `probe`, the
# health check (gRPC health or HTTP GET), since distroless has no shell or curl.
#
#   docker build --target tasks -t todo/tasks .
#
# protoc comes from the protoc-bin-vendored crate: no system package needed.

# The builder's Debian must match the runtime's (glibc): bookworm ↔ debian12.
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p edge -p tasks -p auth-verify -p probe \
    && mkdir -p /out \
    && cp target/release/edge target/release/tasks target/release/auth-verify target/release/probe /out/

# glibc, libgcc, CA certificates; user `nonroot` (uid 65532), no shell.
FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /home/nonroot
COPY --from=build /out/probe /usr/local/bin/probe
ENV RUST_LOG=info
USER nonroot

FROM runtime AS edge
COPY --from=build /out/edge /usr/local/bin/edge
ENV EDGE_LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/probe", "http", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/edge"]

FROM runtime AS tasks
COPY --from=build /out/tasks /usr/local/bin/tasks
# Without DATABASE_URL, tasks keeps an SQLite file under the user's home.
ENV TASKS_LISTEN_ADDR=0.0.0.0:50052 \
    TASKS_SQLITE_PATH=/home/nonroot/.data/tasks.db
EXPOSE 50052
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/probe", "grpc", "http://127.0.0.1:50052", "todo.tasks.v1.Tasks"]
ENTRYPOINT ["/usr/local/bin/tasks"]

FROM runtime AS auth-verify
COPY --from=build /out/auth-verify /usr/local/bin/auth-verify
ENV AUTH_VERIFY_LISTEN_ADDR=0.0.0.0:50051
EXPOSE 50051
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/probe", "grpc", "http://127.0.0.1:50051", "todo.auth.v1.AuthVerify"]
ENTRYPOINT ["/usr/local/bin/auth-verify"]
