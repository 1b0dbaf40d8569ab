package webhooks

import (
	"errors"
	"fmt"

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
