// Package temporalconn dials Temporal the same way for every command of the
// project (worker, starter): connection settings from Temporal's standard
// environment configuration, payloads encrypted with the project's codec
// keys, and SDK logs through zap.
package temporalconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	tlog "go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"

	"github.com/wa-onboarding/onboarding/internal/codec"
)

// EnvInsecurePlainPayloads, set to 1, lets a command run without payload
// encryption keys, storing PINs and codes in clear in Temporal. It exists for
// throwaway dev servers only.
const EnvInsecurePlainPayloads = "WA_INSECURE_PLAIN_PAYLOADS"

// DefaultDialTimeout bounds how long Dial waits for the server to answer.
const DefaultDialTimeout = 10 * time.Second

// Config says how to dial. The zero value reads the process environment and
// refuses to run without encryption keys.
type Config struct {
	// Logger receives SDK logs and the warning for plain payloads. Nil
	// discards them.
	Logger *zap.Logger
	// AllowPlainPayloads has the effect of EnvInsecurePlainPayloads=1 (a
	// command-line flag sets it).
	AllowPlainPayloads bool
	// Getenv and ReadFile default to os.Getenv and os.ReadFile; tests
	// replace them.
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	// DialTimeout defaults to DefaultDialTimeout.
	DialTimeout time.Duration
	// MetricsHandler receives the SDK's metrics; nil keeps the SDK's
	// default, which drops them.
	MetricsHandler client.MetricsHandler
}

// Info describes the connection Options or Dial configured, for start-up
// logs. It holds no secret.
type Info struct {
	HostPort string
	// HostPortSource says where HostPort came from: "TEMPORAL_ADDRESS",
	// "config profile" or "default".
	HostPortSource string
	Namespace      string
	// KeyIDs are the ids of the payload keys, the primary (encrypting) one
	// last; empty when payloads are plain.
	KeyIDs       []string
	PrimaryKeyID string
	TLS          bool
	APIKey       bool
}

// PlainPayloads reports whether payloads travel unencrypted.
func (i Info) PlainPayloads() bool { return len(i.KeyIDs) == 0 }

func (c *Config) defaults() {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.ReadFile == nil {
		c.ReadFile = os.ReadFile
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
}

// Options returns the client options Dial would use, without dialing: the
// Temporal environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE and the profile file),
// the zap logger, and the data and failure converters that encrypt payloads
// with the keys of WA_CODEC_KEYS or WA_CODEC_KEYS_FILE.
func Options(cfg Config) (client.Options, Info, error) {
	cfg.defaults()
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{
		EnvLookup: envLookup(cfg.Getenv),
	})
	if err != nil {
		return client.Options{}, Info{}, fmt.Errorf("temporal: client configuration: %w", err)
	}
	info := Info{
		HostPort:       opts.HostPort,
		HostPortSource: "config profile",
		Namespace:      opts.Namespace,
		TLS:            opts.ConnectionOptions.TLS != nil,
		APIKey:         opts.Credentials != nil,
	}
	switch {
	case strings.TrimSpace(cfg.Getenv("TEMPORAL_ADDRESS")) != "":
		info.HostPortSource = "TEMPORAL_ADDRESS"
	case info.HostPort == "":
		info.HostPort, info.HostPortSource = client.DefaultHostPort, "default; set TEMPORAL_ADDRESS"
	}
	if info.Namespace == "" {
		info.Namespace = client.DefaultNamespace
	}

	// The SDK logs expected activity failures at error level; stack traces
	// of its own logging call sites would only bury them.
	h := zapslog.NewHandler(cfg.Logger.Core(), zapslog.WithName("temporal-sdk"), zapslog.AddStacktraceAt(slog.Level(math.MaxInt32)))
	opts.Logger = tlog.NewStructuredLogger(slog.New(h))
	if cfg.MetricsHandler != nil {
		opts.MetricsHandler = cfg.MetricsHandler
	}

	keys, err := codec.LoadKeys(cfg.Getenv, cfg.ReadFile)
	switch {
	case err == nil:
		opts.DataConverter, opts.FailureConverter = codec.ClientOptions(keys)
		info.KeyIDs, info.PrimaryKeyID = keys.IDs(), keys.PrimaryID()
	case errors.Is(err, codec.ErrNoKeys) && (cfg.AllowPlainPayloads || cfg.Getenv(EnvInsecurePlainPayloads) == "1"):
		cfg.Logger.Warn("!!! PAYLOADS ARE NOT ENCRYPTED: two-step PINs and ownership codes are stored in clear in Temporal's history and shown in its UI. " +
			"Use this only with a throwaway dev server; set " + codec.EnvKeys + " or " + codec.EnvKeysFile + " for anything else.")
	case errors.Is(err, codec.ErrNoKeys):
		return client.Options{}, Info{}, fmt.Errorf("payload encryption: no key configured: set %s or %s (generate a key with: go run ./codecserver -generate-key), or %s=1 for a throwaway dev server",
			codec.EnvKeys, codec.EnvKeysFile, EnvInsecurePlainPayloads)
	default:
		return client.Options{}, Info{}, fmt.Errorf("payload encryption: %w", err)
	}
	return opts, info, nil
}

// Dial connects to Temporal as Options configures and checks that the server
// answers, so that a wrong address fails at start-up with one line naming
// the address and where it came from.
func Dial(ctx context.Context, cfg Config) (client.Client, Info, error) {
	cfg.defaults()
	opts, info, err := Options(cfg)
	if err != nil {
		return nil, info, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, info, fmt.Errorf("temporal: cannot reach %s (%s), namespace %s: %s",
			info.HostPort, info.HostPortSource, info.Namespace, oneLine(err))
	}
	return c, info, nil
}

// oneLine flattens gRPC errors, whose details can span lines, so the failure
// stays a single log or terminal line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

type envLookup func(string) string

func (e envLookup) LookupEnv(key string) (string, bool) {
	v := e(key)
	return v, v != ""
}

// Environ is needed by envconfig only for TEMPORAL_GRPC_META_* variables;
// they are read from the process environment, which Getenv defaults to.
func (e envLookup) Environ() []string { return os.Environ() }

// LoggerDefaults are the format and level NewLogger uses when LOG_FORMAT or
// LOG_LEVEL is not set.
type LoggerDefaults struct {
	// Format is "json" or "console".
	Format string
	Level  zapcore.Level
}

// NewLogger returns the logger of a command: JSON on stderr unless
// LOG_FORMAT=console, at LOG_LEVEL (debug, info, warn, error). getenv
// defaults to os.Getenv.
func NewLogger(getenv func(string) string, d LoggerDefaults) (*zap.Logger, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	format := strings.ToLower(strings.TrimSpace(getenv("LOG_FORMAT")))
	if format == "" {
		format = d.Format
	}
	level := d.Level
	if s := strings.TrimSpace(getenv("LOG_LEVEL")); s != "" {
		l, err := zapcore.ParseLevel(s)
		if err != nil {
			return nil, fmt.Errorf("LOG_LEVEL: must be debug, info, warn or error, got %q", s)
		}
		level = l
	}
	var zc zap.Config
	switch format {
	case "", "json":
		zc = zap.NewProductionConfig()
	case "console":
		zc = zap.NewDevelopmentConfig()
		zc.Development = false
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		if fi, err := os.Stderr.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			zc.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		}
	default:
		return nil, fmt.Errorf("LOG_FORMAT: must be json or console, got %q", format)
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.DisableStacktrace = level > zapcore.DebugLevel
	return zc.Build()
}
