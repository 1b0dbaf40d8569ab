package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/wa-onboarding/onboarding/internal/metrics"
)

func TestMetricsAddr(t *testing.T) {
	assert.Equal(t, "127.0.0.1:9464", metricsAddr(envOf(nil)), "loopback unless told otherwise")
	assert.Equal(t, ":9464", metricsAddr(envOf(map[string]string{envMetricsAddr: " :9464 "})))
}

func TestServeMetricsServesAllThreePathsAndFailsOnAClash(t *testing.T) {
	p := metrics.NewPrometheus(nil)
	defer p.Close()
	metrics.RecordStarted(p.Handler())
	down := errors.New("frontend unavailable")
	ready := metrics.NewReadiness(
		metrics.Check{Name: "temporal", Probe: func(context.Context) error { return down }},
		metrics.Check{Name: "graph", Probe: func(context.Context) error { return nil }},
	)
	stop, addr, err := serveMetrics(zap.NewNop(), "127.0.0.1:0", p, ready)
	require.NoError(t, err)
	defer stop()

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr.String() + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, _ := get("/healthz")
	assert.Equal(t, http.StatusOK, code)
	code, body := get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, down.Error())
	code, body = get("/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "# TYPE go_goroutines gauge", "the registry is the one served")

	_, _, err = serveMetrics(zap.NewNop(), addr.String(), p, ready)
	require.Error(t, err, "the address is taken")
	assert.Contains(t, err.Error(), envMetricsAddr)
	var op *net.OpError
	assert.ErrorAs(t, err, &op)
}

func TestOnceLoggerLogsEachErrorOnce(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	f := onceLogger(zap.New(core))
	for range 3 {
		f(errors.New("a previously registered descriptor"))
	}
	f(errors.New("another"))
	assert.Equal(t, 2, logs.Len())
}
