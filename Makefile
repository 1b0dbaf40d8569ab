# Everything a fresh machine needs is installed from here: `make run` and
# `make test` are the only two commands a newcomer has to know.
SHELL := /bin/bash
GO ?= go

TEMPORAL_CLI_VERSION := v1.5.1
# The CLI is built from its own tools module (tools/temporal), not from
# go.mod: requiring it here would pull Temporal server v1.29.1, which does not
# compile against the SDK this project uses. The tools module also lifts
# modernc.org/sqlite from the CLI's v1.34.1 to v1.44.3: v1.34.1 wedges the dev
# server after a cancelled query (every SQLite call then fails with
# "interrupted (9)"; temporalio/temporal#9198). The directory name carries the
# driver version so a stale build is never reused.
SQLITE_VERSION := v1.44.3
TOOLS_DIR := $(CURDIR)/.tools
TEMPORAL := $(TOOLS_DIR)/temporal-$(TEMPORAL_CLI_VERSION)-sqlite$(SQLITE_VERSION)/temporal
BIN := $(CURDIR)/bin

export TEMPORAL_CLI_PATH := $(TEMPORAL)

.PHONY: all build test test-short bench fuzz run sim lint tools clean

all: build

tools: $(TEMPORAL)

$(TEMPORAL): tools/temporal/go.mod tools/temporal/go.sum
	@echo "building Temporal CLI $(TEMPORAL_CLI_VERSION) with sqlite $(SQLITE_VERSION) (minutes the first time, then cached)"
	cd tools/temporal && $(GO) build -o $(TEMPORAL) github.com/temporalio/cli/cmd/temporal

build:
	$(GO) build -o $(BIN)/ ./worker ./starter ./simulator ./codecserver

# The whole stack on this machine: Temporal dev server (state in .local/,
# kept across restarts), codec server for the UI, Graph API simulator unless
# GRAPH_API_URL and WHATSAPP_ACCESS_TOKEN are set, and the worker in the
# foreground. Ctrl-C stops it all. Operators use ./scripts/starter.sh.
run: $(TEMPORAL)
	GO=$(GO) TEMPORAL_CLI_PATH=$(TEMPORAL) ./scripts/run-local.sh

# Unit tests, fuzz seed corpora and end-to-end tests against a real Temporal
# dev server that the tests start on free ports and stop afterwards.
test: $(TEMPORAL)
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# Unit tests only: no Temporal dev server.
test-short:
	$(GO) test -race -short -count=1 ./...

# Benchmarks, each reported as a ratio to a baseline measured in the same run
# (sub-benchmarks named baseline-*). Raw output is kept in .local/bench.txt.
BENCHFLAGS ?= -count 3
bench:
	@mkdir -p .local
	$(GO) test -run '^$$' -bench . -benchmem $(BENCHFLAGS) ./... | tee .local/bench.txt | $(GO) run ./internal/benchratio

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeError -fuzztime 30s ./internal/graph

# The Graph API simulator alone, e.g. make sim SIMFLAGS='-fake-clock -name-review-delay 1m'.
sim:
	$(GO) run ./simulator $(SIMFLAGS)

# Onboards 200 numbers through two worker processes against a dev server of
# its own while it injects every simulator fault, SIGKILLs workers and
# restarts the server; prints a Markdown report and exits non-zero on FAIL.
# E.g. make chaos CHAOSFLAGS='-numbers 50 -profile lost-answers'.
.PHONY: chaos
chaos: $(TEMPORAL)
	$(GO) build -o $(BIN)/ ./worker ./chaos
	$(BIN)/chaos -worker-bin $(BIN)/worker $(CHAOSFLAGS)

lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...

clean:
	rm -rf $(BIN) .local
