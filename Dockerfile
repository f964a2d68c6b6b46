# syntax=docker/dockerfile:1

# --- Build --------------------------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src
# Queries are checked against the saved data in .sqlx/: no database is needed to build.
ENV SQLX_OFFLINE=true
COPY . .
RUN cargo build --release --locked && strip target/release/carethread

# --- Run ----------------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin carethread
COPY --from=build /src/target/release/carethread /usr/local/bin/carethread
USER carethread
ENV CARETHREAD_ADDR=0.0.0.0:3000
EXPOSE 3000
# The image has no curl or wget: the binary asks its own /healthz on CARETHREAD_ADDR.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["carethread", "healthcheck"]
ENTRYPOINT ["carethread"]
CMD ["serve"]
