# syntax=docker/dockerfile:1
#
# The gateway as a static binary in a distroless image, run as non-root.
#
#	docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t covage-gateway .
#	docker run -p 8080:8080 covage-gateway            # demo mode
#
# Not built in CI (no Docker daemon there); see README.md, Operations.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The .git directory is not copied (.dockerignore), so there is no VCS
# revision to stamp: /version reports the VERSION given here instead.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/gateway .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /gateway
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/gateway"]
