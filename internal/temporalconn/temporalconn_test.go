package temporalconn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/wa-onboarding/onboarding/internal/codec"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// isolated keeps the developer's own temporal.toml out of the tests.
func isolated(m map[string]string) map[string]string {
	m["TEMPORAL_CONFIG_FILE"] = "/nonexistent/temporal.toml"
	return m
}

func TestOptionsRefusesPlainPayloadsByDefault(t *testing.T) {
	_, _, err := Options(Config{Getenv: envOf(isolated(map[string]string{}))})
	require.Error(t, err)
	assert.Contains(t, err.Error(), codec.EnvKeys)
	assert.Contains(t, err.Error(), EnvInsecurePlainPayloads)
}

func TestOptionsPlainPayloadsWarnLoudly(t *testing.T) {
	for name, cfg := range map[string]Config{
		"env":  {Getenv: envOf(isolated(map[string]string{EnvInsecurePlainPayloads: "1"}))},
		"flag": {Getenv: envOf(isolated(map[string]string{})), AllowPlainPayloads: true},
	} {
		t.Run(name, func(t *testing.T) {
			core, logs := observer.New(zapcore.WarnLevel)
			cfg.Logger = zap.New(core)
			opts, info, err := Options(cfg)
			require.NoError(t, err)
			assert.Nil(t, opts.DataConverter)
			assert.True(t, info.PlainPayloads())
			require.Equal(t, 1, logs.Len())
			assert.Contains(t, logs.All()[0].Message, "NOT ENCRYPTED")
		})
	}
}

func TestOptionsWithKeys(t *testing.T) {
	key, err := codec.GenerateKey()
	require.NoError(t, err)
	opts, info, err := Options(Config{Getenv: envOf(isolated(map[string]string{
		codec.EnvKeys:      "old:" + key + ",new:" + key,
		"TEMPORAL_ADDRESS": "temporal.example:7233", "TEMPORAL_NAMESPACE": "ops",
	}))})
	require.NoError(t, err)
	assert.NotNil(t, opts.DataConverter)
	assert.NotNil(t, opts.FailureConverter)
	assert.NotNil(t, opts.Logger)
	assert.Equal(t, "temporal.example:7233", opts.HostPort)
	assert.Equal(t, "ops", opts.Namespace)
	assert.Equal(t, Info{HostPort: "temporal.example:7233", HostPortSource: "TEMPORAL_ADDRESS", Namespace: "ops",
		KeyIDs: []string{"old", "new"}, PrimaryKeyID: "new"}, info)
}

func TestOptionsBadKeyIsAnError(t *testing.T) {
	_, _, err := Options(Config{Getenv: envOf(isolated(map[string]string{codec.EnvKeys: "k:short", EnvInsecurePlainPayloads: "1"}))})
	require.Error(t, err, "a broken key must not fall back to plain payloads")
}

func TestDialUnreachableIsOneLine(t *testing.T) {
	start := time.Now()
	_, _, err := Dial(context.Background(), Config{
		Getenv:      envOf(isolated(map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1", EnvInsecurePlainPayloads: "1"})),
		DialTimeout: 5 * time.Second,
	})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "temporal: cannot reach 127.0.0.1:1 (TEMPORAL_ADDRESS)"), msg)
	assert.NotContains(t, msg, "\n")
}

func TestDefaultAddressIsNamed(t *testing.T) {
	_, info, err := Options(Config{Getenv: envOf(isolated(map[string]string{EnvInsecurePlainPayloads: "1"}))})
	require.NoError(t, err)
	assert.Equal(t, "localhost:7233", info.HostPort)
	assert.Contains(t, info.HostPortSource, "TEMPORAL_ADDRESS")
	assert.Equal(t, "default", info.Namespace)
}

func TestNewLogger(t *testing.T) {
	l, err := NewLogger(envOf(map[string]string{"LOG_FORMAT": "console", "LOG_LEVEL": "debug"}), LoggerDefaults{Format: "json", Level: zapcore.InfoLevel})
	require.NoError(t, err)
	assert.True(t, l.Core().Enabled(zapcore.DebugLevel))

	l, err = NewLogger(envOf(nil), LoggerDefaults{Format: "json", Level: zapcore.WarnLevel})
	require.NoError(t, err)
	assert.False(t, l.Core().Enabled(zapcore.InfoLevel))

	_, err = NewLogger(envOf(map[string]string{"LOG_LEVEL": "loud"}), LoggerDefaults{})
	assert.ErrorContains(t, err, "LOG_LEVEL")
	_, err = NewLogger(envOf(map[string]string{"LOG_FORMAT": "xml"}), LoggerDefaults{})
	assert.ErrorContains(t, err, "LOG_FORMAT")
}

func TestOptionsPassTheMetricsHandler(t *testing.T) {
	env := envOf(isolated(map[string]string{EnvInsecurePlainPayloads: "1"}))
	opts, _, err := Options(Config{Getenv: env})
	require.NoError(t, err)
	assert.Nil(t, opts.MetricsHandler, "the SDK's default when none is given")
	h := client.MetricsNopHandler
	opts, _, err = Options(Config{Getenv: env, MetricsHandler: h})
	require.NoError(t, err)
	assert.Equal(t, h, opts.MetricsHandler)
}
