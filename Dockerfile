# syntax=docker/dockerfile:1
#
# The `locus` binary in a small image that runs as a non-root user; by
# default it is the gateway (`locus serve`) on port 8080. Build:
#
#   docker build -t locus .
#
# Listening beyond loopback, `locus serve` refuses to start without client
# API keys: mount a file of keys and pass `--api-keys` (see
# deploy/kubernetes/locus-gateway.yaml and docs/serve.md).

FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The caches keep the registry and the build between image builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --package locus-cli \
    && install -m 0755 target/release/locus /locus

# glibc and nothing else (no shell, no package manager); TLS roots are
# compiled into the binary. uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /locus /usr/local/bin/locus
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/locus"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
