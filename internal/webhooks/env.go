package webhooks

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/wa-onboarding/onboarding/internal/secretenv"
)

// Environment variables of the gateway's webhook endpoint, each also read
// from the file named by NAME_FILE (package secretenv).
const (
	EnvAppSecret   = "WA_WEBHOOK_APP_SECRET"
	EnvVerifyToken = "WA_WEBHOOK_VERIFY_TOKEN"
)

// ErrNotConfigured is wrapped by ConfigFromEnv's error when no app secret is
// set: the gateway then serves no webhooks rather than unsigned ones.
var ErrNotConfigured = errors.New("webhooks: not configured")

// ConfigFromEnv reads the app secret and verify token; the caller fills in
// Messenger and Logger. Without a verify token the endpoint still takes
// signed deliveries but refuses the subscription handshake, which is only
// needed when the URL is set in the App Dashboard.
func ConfigFromEnv(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	secret, err := secretenv.Lookup(getenv, readFile, EnvAppSecret)
	if errors.Is(err, secretenv.ErrNotSet) {
		return Config{}, fmt.Errorf("%w: set %s or %s%s", ErrNotConfigured, EnvAppSecret, EnvAppSecret, secretenv.FileSuffix)
	}
	if err != nil {
		return Config{}, err
	}
	cfg := Config{AppSecret: []byte(secret.Value)}
	token, err := secretenv.Lookup(getenv, readFile, EnvVerifyToken)
	switch {
	case err == nil:
		cfg.VerifyToken = token.Value
	case !errors.Is(err, secretenv.ErrNotSet):
		return Config{}, err
	}
	return cfg, nil
}

// NewFromEnv is the gateway's one call: ConfigFromEnv, then New with a
// TemporalMessenger on tc (whose data converter must be the worker's) in
// namespace. Its error wraps ErrNotConfigured when no app secret is set.
func NewFromEnv(getenv func(string) string, readFile func(string) ([]byte, error), tc TemporalClient, namespace string, logger *slog.Logger) (*Handler, error) {
	cfg, err := ConfigFromEnv(getenv, readFile)
	if err != nil {
		return nil, err
	}
	cfg.Messenger = TemporalMessenger{Client: tc, Namespace: namespace}
	cfg.Logger = logger
	h, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.VerifyToken == "" {
		h.log.Warn("no " + EnvVerifyToken + ": the subscription handshake is refused; signed deliveries are taken")
	}
	return h, nil
}
