# okrd build and test entry points. `make test` is the command README.md
# gives and the one CI runs.

GO       ?= go
PKG      := github.com/okrd/okrd
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w \
	-X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(REVISION) \
	-X github.com/prometheus/common/version.Branch=$(BRANCH) \
	-X github.com/prometheus/common/version.BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: all build test test-short vet fmt-check bench fuzz run clean

all: build

## build: a static okrd binary (no cgo: SQLite is pure Go).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o okrd ./cmd/okrd

## test: vet, formatting and every test with the race detector, okrd's and
## the deploy kit's (deploy/ is a module of its own, which ./... leaves
## out). Tests that need PostgreSQL or Prometheus skip without them unless
## OKRD_REQUIRE_INTEGRATION=1 (CI sets it).
test: fmt-check vet
	$(GO) test -race -count=1 -timeout 20m ./...
	cd deploy && $(GO) test -race -count=1 -timeout 10m ./...

## test-short: the same without the race detector, for a quick loop.
test-short:
	$(GO) test -count=1 ./...
	cd deploy && $(GO) test -count=1 ./...

vet:
	$(GO) vet ./...
	cd deploy && $(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: every benchmark (results go into docs/benchmarks.md).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

## fuzz: a short run of each fuzz target.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./config/
	$(GO) test -run '^$$' -fuzz FuzzDocumentMatchesGoToml -fuzztime 30s ./config/
	$(GO) test -run '^$$' -fuzz FuzzParsePeriod -fuzztime 30s ./okr/
	$(GO) test -run '^$$' -fuzz FuzzCheckinBody -fuzztime 30s ./web/

## run: okrd on the example configuration with the embedded SQLite store.
run: build
	./okrd run --config config.example.toml

clean:
	rm -f okrd okrd.db okrd.db-wal okrd.db-shm
