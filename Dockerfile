# One image holds every command of the project (worker, gateway, codecserver,
# starter, simulator, sealkey), built from one commit in one go;
# docker-compose.yml picks the process with `command`. One image rather than
# a stage per command because the worker, the gateway and the codec server
# must agree on payload keys, sealing and workflow names: a single tag rolls
# them out together and cannot mix versions. The price is size: each static
# binary carries its own copy of the Temporal SDK, so the six make about
# 91 MB against 23 MB for the worker alone (measured with this build line).
#
# Nothing secret is copied or set here: .dockerignore admits only go.mod,
# go.sum and the source directories, and keys and tokens are mounted at run
# time (docker-compose.yml, secrets:).
#
#   docker build -t wa-onboarding:dev .

# Pinned to a patch release, like every base image of the project
# (deploy/compose_test.go checks it); go.mod's go line is the floor.
FROM golang:1.26.8-trixie AS build
WORKDIR /src
# Static binaries for scratch; no toolchain download behind our back; go.mod
# and go.sum as committed.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/bin/ \
		./worker ./gateway ./codecserver ./starter ./simulator ./sealkey \
	&& mkdir -p /out/data

# scratch: nothing to patch or pin but the CA bundle, taken from the pinned
# build stage (the Graph API and Temporal Cloud are reached over TLS).
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/bin/ /usr/local/bin/
# /data is where the simulator keeps its state file (a volume in compose);
# owned by the runtime user so a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV PATH=/usr/local/bin
WORKDIR /data
# Not root: 65532 is distroless' "nonroot"; no process needs a privilege.
USER 65532:65532
CMD ["worker"]
