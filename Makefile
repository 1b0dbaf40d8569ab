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
# workflowcheck (non-deterministic calls in workflow code) and staticcheck,
# pinned by the tools module tools/lint so they never touch go.mod; rebuilt
# when its go.mod or go.sum changes.
LINT_BIN := $(TOOLS_DIR)/lint
WORKFLOWCHECK := $(LINT_BIN)/workflowcheck
STATICCHECK := $(LINT_BIN)/staticcheck

export TEMPORAL_CLI_PATH := $(TEMPORAL)

.PHONY: all build test test-short bench fuzz run sim lint tools clean record-histories schemas deploy-secrets

all: build

tools: $(TEMPORAL) $(WORKFLOWCHECK) $(STATICCHECK)

$(WORKFLOWCHECK) $(STATICCHECK) &: tools/lint/go.mod tools/lint/go.sum
	cd tools/lint && $(GO) build -o $(LINT_BIN)/ go.temporal.io/sdk/contrib/tools/workflowcheck honnef.co/go/tools/cmd/staticcheck
	touch $(WORKFLOWCHECK) $(STATICCHECK)

$(TEMPORAL): tools/temporal/go.mod tools/temporal/go.sum
	@echo "building Temporal CLI $(TEMPORAL_CLI_VERSION) with sqlite $(SQLITE_VERSION) (minutes the first time, then cached)"
	cd tools/temporal && CGO_ENABLED=0 $(GO) build -ldflags '-s -w -X github.com/temporalio/cli/temporalcli.Version=$(TEMPORAL_CLI_VERSION:v%=%)' -o $(TEMPORAL) github.com/temporalio/cli/cmd/temporal

build:
	$(GO) build -o $(BIN)/ ./worker ./starter ./simulator ./codecserver ./sealkey ./gateway

# The whole stack on this machine: Temporal dev server (state in .local/,
# kept across restarts), codec server for the UI, Graph API simulator unless
# GRAPH_API_URL and WHATSAPP_ACCESS_TOKEN are set, and the worker in the
# foreground. Ctrl-C stops it all. Operators use ./scripts/starter.sh.
run: $(TEMPORAL)
	GO=$(GO) TEMPORAL_CLI_PATH=$(TEMPORAL) ./scripts/run-local.sh

# Unit tests, fuzz seed corpora and end-to-end tests against a real Temporal
# dev server that the tests start on free ports and stop afterwards.
# The small chaos run goes last, on its own: it runs a dev server, two
# workers and twenty onboardings, and beside the other end-to-end packages on
# two cores it starved their workers past their timeouts.
CHAOS_TEST := TestSmallChaosRunPasses
test: $(TEMPORAL) lint
	$(GO) test -race -count=1 -timeout 20m -skip '^$(CHAOS_TEST)$$' ./...
	$(GO) test -race -count=1 -timeout 10m -run '^$(CHAOS_TEST)$$' ./internal/chaos

# Unit tests only: no Temporal dev server.
test-short:
	$(GO) test -race -short -count=1 ./...

# Records replay-corpus histories (workflows/testdata/histories) that do not
# exist yet, on a dev server of their own; existing files are never rewritten.
# RECORDFLAGS=-record-tag=v2 records every scenario again as NAME.v2.json.
# See README, "Changing workflow code".
RECORDFLAGS ?=
record-histories: $(TEMPORAL)
	$(GO) test -count=1 -v -run '^TestRecordHistories$$' ./workflows -record $(RECORDFLAGS)

# Benchmarks, each reported as a ratio to a baseline measured in the same run
# (sub-benchmarks named baseline-*). Raw output is kept in .local/bench.txt.
BENCHFLAGS ?= -count 3
bench:
	@mkdir -p .local
	$(GO) test -run '^$$' -bench . -benchmem $(BENCHFLAGS) ./... | tee .local/bench.txt | $(GO) run ./internal/benchratio

# The end-to-end benchmark: the product against its floor workflow on one dev
# server and one worker process, then the cost of runs parked awaiting their
# code; writes bench/results/e2e.md and e2e.svg. About a quarter of an hour
# here, most of it parking 10,000 runs; a quick
# look: make bench-e2e BENCHE2EFLAGS='-rounds 1 -batch 20 -parked 200'.
.PHONY: bench-e2e
BENCHE2EFLAGS ?=
bench-e2e: $(TEMPORAL)
	$(GO) build -o $(BIN)/ ./worker
	$(GO) run ./bench -worker $(BIN)/worker -temporal $(TEMPORAL) $(BENCHE2EFLAGS)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeError -fuzztime 30s ./internal/graph

# JSON Schemas of the workflow's inputs and results, for callers in other
# languages; make test fails when they are out of date.
schemas:
	$(GO) run ./internal/schemagen

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

# Development secrets for docker-compose.yml in deploy/secrets/ (git-ignored);
# existing files are kept. See README, "Production".
deploy-secrets:
	GO=$(GO) ./deploy/secrets.sh

lint: $(WORKFLOWCHECK) $(STATICCHECK)
	gofmt -l . | (! grep .)
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(WORKFLOWCHECK) ./...

clean:
	rm -rf $(BIN) .local
