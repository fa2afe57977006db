# Multi-stage build: a static okrd (CGO_ENABLED=0; SQLite is pure Go) on a
# distroless nonroot image.
#
#   docker build -t okrd .
#   docker run -p 9184:9184 -v $PWD/okrd.toml:/etc/okrd/okrd.toml:ro -v okrd-data:/var/lib/okrd okrd
#
# The configuration is read from /etc/okrd/okrd.toml and the SQLite database
# should live on the /var/lib/okrd volume (set storage.dsn =
# "/var/lib/okrd/okrd.db"). okrd listens on port 9184.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION}" \
      -o /out/okrd ./cmd/okrd \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/okrd /usr/local/bin/okrd
COPY --from=build --chown=nonroot:nonroot /src/config.example.toml /etc/okrd/okrd.toml
COPY --from=build --chown=nonroot:nonroot /out/data /var/lib/okrd
VOLUME ["/var/lib/okrd"]
WORKDIR /var/lib/okrd
EXPOSE 9184
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/okrd"]
CMD ["run", "--config", "/etc/okrd/okrd.toml"]
