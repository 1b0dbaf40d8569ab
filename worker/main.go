// Command worker runs the WhatsApp number onboarding workflows and their
// Graph API activities on the onboarding task queue.
//
// Configuration is read from the environment:
//
//	TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*,
//	TEMPORAL_PROFILE       Temporal connection (Temporal's env configuration)
//	WA_CODEC_KEYS or
//	WA_CODEC_KEYS_FILE     payload encryption keys (id:base64key)
//	WA_SEAL_PRIVATE_KEYS or
//	WA_SEAL_PRIVATE_KEYS_FILE
//	                       keys that open sealed PINs and codes (id:base64)
//	WA_INSECURE_PLAIN_PAYLOADS=1
//	                       run without codec or seal keys (throwaway dev
//	                       servers only)
//	GRAPH_API_URL          Graph API base URL (default the real one)
//	WHATSAPP_ACCESS_TOKEN or
//	WHATSAPP_ACCESS_TOKEN_FILE
//	                       Graph API access token
//	LOG_FORMAT, LOG_LEVEL  json (default) or console; info (default)
//	WA_METRICS_ADDR        listen address of /metrics (Prometheus: the
//	                       SDK's temporal_* metrics and the product's
//	                       whatsapp_onboarding_*, see internal/metrics),
//	                       /healthz (the process is up) and /readyz (200
//	                       when Temporal answers a health check and the
//	                       Graph API's host answers HTTP; results cached
//	                       5 s); default 127.0.0.1:9464, ":9464" in a
//	                       container
//
// Tuning, each a whole number (see README, "Worker tuning"):
//
//	WA_WORKER_STICKY_CACHE_SIZE
//	                       runs kept in memory between their workflow tasks,
//	                       for the whole process (default 500; the SDK's is
//	                       10,000). Parked runs (awaiting a code, serving a
//	                       registered number) cost about 60 KB each while
//	                       cached; an evicted run replays its history once on
//	                       its next task. 0 turns sticky execution off.
//	WA_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS (default 1000, at least 2)
//	WA_WORKER_MAX_CONCURRENT_ACTIVITIES (default 1000)
//	                       task slots; Graph calls are I/O-bound, so slots
//	                       rarely limit anything before Temporal or Meta does
//	WA_WORKER_WORKFLOW_TASK_POLLERS (default 2, at least 2)
//	WA_WORKER_ACTIVITY_TASK_POLLERS (default 2)
//	                       long polls held open on the server; more only help
//	                       when the worker is far from the server
//	WA_BENCH_FLOOR=1       also run the end-to-end benchmark's floor workflow,
//	                       with the same options (make bench-e2e sets it)
//	WA_BENCH_FLOOR_CODE_URL
//	                       where the floor's request-code step posts the
//	                       number, so the benchmark submits its code then
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/wa-onboarding/onboarding/activities"
	"github.com/wa-onboarding/onboarding/internal/benchfloor"
	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/metrics"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/secretenv"
	"github.com/wa-onboarding/onboarding/internal/temporalconn"
	"github.com/wa-onboarding/onboarding/onboarding"
	"github.com/wa-onboarding/onboarding/workflows"
)

// Environment variables read by the worker besides Temporal's and the
// codec's.
const (
	envGraphURL  = "GRAPH_API_URL"
	envToken     = "WHATSAPP_ACCESS_TOKEN"
	envTokenFile = envToken + secretenv.FileSuffix
)

func main() {
	plain := flag.Bool("insecure-plain-payloads", false,
		"run without payload or seal keys, storing PINs and codes in clear (throwaway dev servers only; same as "+temporalconn.EnvInsecurePlainPayloads+"=1)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: worker [-insecure-plain-payloads]\n\n"+
			"Runs the WhatsApp onboarding workflows on task queue %q. Configured by environment:\n"+
			"TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, WA_CODEC_KEYS(_FILE),\n"+
			"%s(_FILE) (required), %s, %s or %s, LOG_FORMAT, LOG_LEVEL, %s (default %s),\n"+
			"WA_WORKER_* (cache and concurrency; see README, Worker tuning).\n\n", onboarding.TaskQueue, seal.EnvPrivateKeys,
			envGraphURL, envToken, envTokenFile, envMetricsAddr, defaultMetricsAddr)
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "worker: unexpected argument %q (configuration comes from the environment; see -h)\n", flag.Arg(0))
		os.Exit(2)
	}
	if err := run(*plain); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(plainPayloads bool) error {
	logger, err := temporalconn.NewLogger(os.Getenv, temporalconn.LoggerDefaults{Format: "json", Level: zapcore.InfoLevel})
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()
	tune, err := tuningFromEnv(os.Getenv)
	if err != nil {
		return err
	}

	// Graph settings come first: a missing token is a configuration error
	// that should not wait for a dial timeout to be reported.
	prom := metrics.NewPrometheus(onceLogger(logger))
	defer func() { _ = prom.Close() }()
	g, graphURL, err := graphClient(os.Getenv, os.ReadFile, graph.WithCallObserver(metrics.GraphObserver(prom.Handler())))
	if err != nil {
		return err
	}
	// Loaded here so that a malformed key fails at start-up; the activities
	// will open sealed PINs and codes with it (see package internal/seal).
	opener, err := sealOpener(os.Getenv, os.ReadFile, plainPayloads)
	if err != nil {
		return err
	}

	c, info, err := temporalconn.Dial(context.Background(), temporalconn.Config{Logger: logger, AllowPlainPayloads: plainPayloads,
		MetricsHandler: prom.Handler()})
	if err != nil {
		return err
	}
	defer c.Close()
	stopMetrics, metricsAt, err := serveMetrics(logger, metricsAddr(os.Getenv), prom, readiness(c, g))
	if err != nil {
		return err
	}
	defer stopMetrics()

	opts := worker.Options{
		// A Graph call in flight at shutdown is let finish: a register that
		// reached Meta but whose answer is lost still spent budget, and the
		// workflow would only learn of it by a retry.
		WorkerStopTimeout: graph.DefaultTimeout + 5*time.Second,
	}
	tune.apply(&opts)
	w := worker.New(c, onboarding.TaskQueue, opts)
	w.RegisterWorkflowWithOptions(workflows.Number, workflow.RegisterOptions{Name: onboarding.WorkflowType})
	w.RegisterActivity(activities.New(g, opener))
	if tune.BenchFloor {
		benchfloor.Register(w, &benchfloor.Activities{CodeURL: tune.BenchFloorCode})
	}

	logger.Info("worker starting",
		zap.String("task_queue", onboarding.TaskQueue),
		zap.String("workflow_type", onboarding.WorkflowType),
		zap.String("temporal_address", info.HostPort),
		zap.String("temporal_address_source", info.HostPortSource),
		zap.String("namespace", info.Namespace),
		zap.Bool("tls", info.TLS),
		zap.Bool("payloads_encrypted", !info.PlainPayloads()),
		zap.Strings("codec_key_ids", info.KeyIDs),
		zap.String("codec_primary_key_id", info.PrimaryKeyID),
		zap.Strings("seal_key_ids", sealKeyIDs(opener)),
		zap.String("graph_api_host", graphURL.Host),
		zap.String("graph_api_path", graphURL.Path),
		zap.String("metrics_addr", metricsAt.String()),
	)
	logger.Info("worker tuning", tune.logFields()...)
	// Run returns on SIGINT or SIGTERM after in-flight tasks finish or
	// their grace period ends; workflows resume on the next worker.
	if err := w.Run(worker.InterruptCh()); err != nil {
		return fmt.Errorf("worker stopped: %w", err)
	}
	logger.Info("worker stopped")
	return nil
}

// graphClient builds the Graph API client from the environment and returns
// its parsed base URL for logging (host and path only: a URL may embed
// credentials).
func graphClient(getenv func(string) string, readFile func(string) ([]byte, error), opts ...graph.Option) (*graph.Client, *url.URL, error) {
	base := strings.TrimSpace(getenv(envGraphURL))
	if base == "" {
		base = graph.DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("%s: must be an http(s) URL such as %s", envGraphURL, graph.DefaultBaseURL)
	}
	token, err := accessToken(getenv, readFile)
	if err != nil {
		return nil, nil, err
	}
	g, err := graph.New(token, append([]graph.Option{graph.WithBaseURL(base)}, opts...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("graph client: %w", err)
	}
	return g, u, nil
}

// sealOpener loads the workers' seal keys from WA_SEAL_PRIVATE_KEYS or
// WA_SEAL_PRIVATE_KEYS_FILE. Without them the worker could open no PIN or
// code that callers send sealed, so it refuses to start, unless told to run
// insecurely (the -insecure-plain-payloads flag, insecure, or
// WA_INSECURE_PLAIN_PAYLOADS=1), for a throwaway dev server: it then returns
// nil and serves only secrets sent in clear.
func sealOpener(getenv func(string) string, readFile func(string) ([]byte, error), insecure bool) (*seal.Opener, error) {
	o, err := seal.LoadOpener(getenv, readFile)
	if errors.Is(err, seal.ErrNoKeys) {
		if insecure || getenv(temporalconn.EnvInsecurePlainPayloads) == "1" {
			return nil, nil
		}
		return nil, fmt.Errorf("no seal keys: set %s or %s%s (the keys that open sealed PINs and codes; see sealkey), "+
			"or %s=1 on a throwaway dev server", seal.EnvPrivateKeys, seal.EnvPrivateKeys, secretenv.FileSuffix,
			temporalconn.EnvInsecurePlainPayloads)
	}
	return o, err
}

func sealKeyIDs(o *seal.Opener) []string {
	if o == nil {
		return nil
	}
	return o.IDs()
}

// accessToken reads the Graph API token from WHATSAPP_ACCESS_TOKEN or the
// file WHATSAPP_ACCESS_TOKEN_FILE names (a mounted secret), by the rules of
// package secretenv. Errors never quote the token.
func accessToken(getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	sec, err := secretenv.Lookup(getenv, readFile, envToken)
	switch {
	case errors.Is(err, secretenv.ErrNotSet):
		return "", fmt.Errorf("no Graph API access token: set %s or %s (a file holding the token)", envToken, envTokenFile)
	case err != nil:
		return "", fmt.Errorf("the Graph API access token: %w", err)
	}
	if strings.ContainsAny(sec.Value, " \t\r\n") {
		return "", fmt.Errorf("the Graph API access token: %s must be a single line without spaces", sec.Source())
	}
	return sec.Value, nil
}
