# Dockerfile: the switchboard container image (a release build in a Rust builder stage, run as a
# non-root user on debian:bookworm-slim with its SQLite database on the /data volume).
# Build: docker build -t switchboard .   Run: docker run -p 3000:3000 -v sb-data:/data switchboard

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /build

# Dependencies get their own layer, rebuilt only when Cargo.toml or Cargo.lock change: a stub
# crate with the same manifest compiles every dependency. The [[bench]] target must exist for
# cargo to read the manifest at all.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/outbox.rs \
    && cargo build --release --locked --bin switchboard \
    && rm -rf src

# sqlx::migrate! embeds migrations/ into the binary at compile time.
COPY migrations ./migrations
COPY src ./src
# COPY keeps the context's mtimes, which can be older than the stub's build: touch so cargo
# rebuilds the crate itself instead of shipping the stub.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin switchboard \
    && install -m 0755 target/release/switchboard /usr/local/bin/switchboard

FROM debian:bookworm-slim

# CA certificates for the TLS calls to Twilio's REST API; nothing else: the HEALTHCHECK is the
# binary itself, so no curl. Versions are left to the bookworm security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 switchboard \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin switchboard \
    && mkdir -p /data \
    && chown 10001:10001 /data

COPY --from=builder /usr/local/bin/switchboard /usr/local/bin/switchboard
WORKDIR /app
COPY templates /app/templates

# The database and local-mode token live on the volume so they outlive the container; the
# directory is created above owned by uid 10001 so a fresh named volume is writable.
VOLUME /data
# BIND=0.0.0.0: the default 127.0.0.1 would be unreachable from outside the container.
ENV BIND=0.0.0.0 \
    PORT=3000 \
    TEMPLATES_DIR=/app/templates \
    DATABASE_URL=sqlite:///data/switchboard.db \
    SWITCHBOARD_STATE_DIR=/data/.switchboard
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["switchboard", "healthcheck"]

USER 10001
ENTRYPOINT ["switchboard"]
CMD ["serve"]
