# syntax=docker/dockerfile:1
#
# The Valence server in a container (docs/OPERATIONS.md, "Container").
#
#   docker build -t valence .
#   docker run --rm -v valence-etc:/etc/valence valence \
#       token create --name ops --role admin --file /etc/valence/tokens.toml   # prints the token once
#   docker run -d --name valence -p 8181:8181 \
#       -v valence-etc:/etc/valence -v valence-data:/var/lib/valence valence
#
# Inside a container the server must listen on 0.0.0.0, and Valence refuses to listen beyond
# loopback without API tokens: it does not start until /etc/valence/tokens.toml exists.

# Build on the same Debian release as the runtime image, so the binary's glibc and libssl match.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target/ between builds; the binary is copied out of the
# cached target/ in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin valence \
    && install -D -m 0755 target/release/valence /out/valence

FROM debian:bookworm-slim
# ca-certificates: PODMs with certificates from a public or corporate CA in the system store;
# libssl3: the bundled libpq's TLS to PostgreSQL; curl: the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 valence \
    && useradd --system --uid 10001 --gid valence --home-dir /var/lib/valence \
        --shell /usr/sbin/nologin valence \
    && install -d -m 0750 -o valence -g valence /var/lib/valence /etc/valence
COPY --from=build /out/valence /usr/local/bin/valence

# Defaults for a container; a mounted /etc/valence/valence.toml (VALENCE_CONFIG) or -e overrides
# them. Environment variables win over the file (docs/CONFIGURATION.md).
ENV VALENCE_LISTEN=0.0.0.0:8181 \
    VALENCE_DATABASE_URL=sqlite:///var/lib/valence/valence.db \
    VALENCE_TOKEN_FILE=/etc/valence/tokens.toml \
    VALENCE_LOG_FORMAT=json

USER 10001:10001
WORKDIR /var/lib/valence
VOLUME ["/var/lib/valence"]
EXPOSE 8181
# /healthz is open (no token). With HTTPS (server.tls_cert), override it with https:// and -k
# or --cacert.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8181/healthz"]
# SIGTERM: finish requests, wait up to server.shutdown_grace (30 s) for composes; give
# `docker stop -t 45`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/valence"]
CMD ["serve"]
