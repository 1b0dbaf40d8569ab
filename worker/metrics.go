package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/metrics"
)

// Metrics and health server settings.
const (
	envMetricsAddr     = "WA_METRICS_ADDR"
	defaultMetricsAddr = "127.0.0.1:9464"
)

// metricsAddr is WA_METRICS_ADDR, or the loopback default: metrics name
// WABAs' activity, so they are exposed beyond the host only when asked
// (":9464" in a container).
func metricsAddr(getenv func(string) string) string {
	if a := strings.TrimSpace(getenv(envMetricsAddr)); a != "" {
		return a
	}
	return defaultMetricsAddr
}

// readiness is what /readyz checks: the Temporal frontend answers the
// health check the SDK's client makes (the worker's own connection), and
// the Graph API's host answers HTTP at all (graph.Client.Reachable: no
// token, nothing spent).
func readiness(c client.Client, g *graph.Client) *metrics.Readiness {
	return metrics.NewReadiness(
		metrics.Check{Name: "temporal", Probe: func(ctx context.Context) error {
			_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
		metrics.Check{Name: "graph", Probe: g.Reachable},
	)
}

// serveMetrics listens on addr and serves /metrics, /healthz and /readyz
// until stop is called. It fails at once when addr cannot be listened on,
// so that a port clash is a start-up error, not a silent lack of metrics.
func serveMetrics(logger *zap.Logger, addr string, p *metrics.Prometheus, ready *metrics.Readiness) (stop func(), bound net.Addr, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: cannot listen on %s: %w", envMetricsAddr, addr, err)
	}
	srv := &http.Server{
		Handler:           metrics.NewMux(p.HTTPHandler(), ready),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server stopped", zap.Error(err))
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, ln.Addr(), nil
}

// onceLogger logs each distinct metrics error once: Prometheus refuses a
// metric again at every report, which would flood the log.
func onceLogger(logger *zap.Logger) func(error) {
	var seen sync.Map
	return func(err error) {
		if _, dup := seen.LoadOrStore(err.Error(), true); !dup {
			logger.Warn("Prometheus refused a metric", zap.Error(err))
		}
	}
}
