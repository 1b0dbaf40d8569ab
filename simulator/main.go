// Command simulator serves the Graph API simulator of package graphsim for
// running the onboarding locally without Meta.
//
//	go run ./simulator -addr 127.0.0.1:8090 -name-review-delay 30s -fake-clock
//
// It seeds one WABA, prints the base URL, token and WABA ID to use, logs every
// Graph call (and every ownership code it "sends") to stderr, and serves the
// admin paths under /_sim/. With -state FILE its state (WABAs, numbers,
// codes, 72-hour windows, the fake clock's offset, the ID counter) survives
// restarts in FILE; without it a restart forgets everything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/secretenv"
	"github.com/wa-onboarding/onboarding/internal/validate"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "simulator:", err)
		os.Exit(1)
	}
}

type config struct {
	addr            string
	token           string
	waba            string
	nameReviewDelay time.Duration
	codeTTL         time.Duration
	fakeClock       bool
	logFormat       string
	logLevel        string
	state           string
	webhookURL      string
	webhookSecret   string // never logged
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", env("GRAPHSIM_ADDR", "127.0.0.1:8090"), "listen address (env GRAPHSIM_ADDR)")
	fs.StringVar(&c.token, "token", env("GRAPHSIM_TOKEN", graphsim.DefaultToken), "the access token the simulator accepts (env GRAPHSIM_TOKEN)")
	fs.StringVar(&c.waba, "waba", env("GRAPHSIM_WABA", "100000000000001"), "ID of the WABA seeded at start (env GRAPHSIM_WABA)")
	fs.DurationVar(&c.nameReviewDelay, "name-review-delay", 0, "how long a new number's display name stays PENDING_REVIEW (0: approved at once)")
	fs.DurationVar(&c.codeTTL, "code-ttl", graphsim.DefaultCodeTTL, "how long an ownership code stays valid")
	fs.BoolVar(&c.fakeClock, "fake-clock", false, "let POST /_sim/clock/advance and /_sim/clock/set move the simulator's clock")
	fs.StringVar(&c.logFormat, "log-format", env("GRAPHSIM_LOG_FORMAT", "text"), "log format on stderr: text or json (env GRAPHSIM_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", env("GRAPHSIM_LOG_LEVEL", "info"), "debug, info, warn or error (env GRAPHSIM_LOG_LEVEL)")
	fs.StringVar(&c.state, "state", env("GRAPHSIM_STATE", ""), "file that keeps the state across restarts, written after every change (env GRAPHSIM_STATE; default: memory only)")
	fs.StringVar(&c.webhookURL, "webhook-url", env("GRAPHSIM_WEBHOOK_URL", ""), "URL that receives Meta's webhooks, signed (env GRAPHSIM_WEBHOOK_URL; default: none sent)")
	secretFile := fs.String("webhook-app-secret-file", "", "file holding the app secret that signs webhooks (or env GRAPHSIM_WEBHOOK_APP_SECRET / GRAPHSIM_WEBHOOK_APP_SECRET_FILE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("-log-format must be text or json, not %q", c.logFormat)
	}
	if err := validate.ID("-waba", c.waba); err != nil {
		return c, err
	}
	if c.webhookURL != "" {
		u, err := url.Parse(c.webhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("-webhook-url must be an http or https URL, not %q", c.webhookURL)
		}
		secret, err := webhookSecret(*secretFile, getenv, os.ReadFile)
		if err != nil {
			return c, err
		}
		c.webhookSecret = secret
	} else if *secretFile != "" {
		return c, errors.New("-webhook-app-secret-file needs -webhook-url")
	}
	return c, nil
}

// webhookSecret reads the app secret from -webhook-app-secret-file, else
// from GRAPHSIM_WEBHOOK_APP_SECRET(_FILE).
func webhookSecret(file string, getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	if file != "" {
		b, err := readFile(file)
		if err != nil {
			return "", fmt.Errorf("-webhook-app-secret-file: %w", err)
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("-webhook-app-secret-file %s is empty", file)
	}
	s, err := secretenv.Lookup(getenv, readFile, "GRAPHSIM_WEBHOOK_APP_SECRET")
	if errors.Is(err, secretenv.ErrNotSet) {
		return "", errors.New("-webhook-url needs the app secret: -webhook-app-secret-file, GRAPHSIM_WEBHOOK_APP_SECRET or GRAPHSIM_WEBHOOK_APP_SECRET_FILE")
	}
	if err != nil {
		return "", err
	}
	return s.Value, nil
}

// idSeed is where a run's IDs start: 15 digits like Meta's, growing by 10
// each millisecond, so that a fresh state (no -state, or a new file) does not
// hand out the IDs of an earlier run that a Temporal history still holds,
// unless that run made more than 10 IDs per millisecond between the two
// starts. A loaded state file goes on from its own counter when that is
// further.
func idSeed(now time.Time) int64 {
	return 100_000_000_000_000 + now.UnixMilli()*10
}

// run serves until ctx is done. ready, when not nil, receives the base URL
// once the listener is up, for tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	c, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	var logger *slog.Logger
	if c.logFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(stderr, hopts))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, hopts))
	}

	opts := graphsim.Options{Token: c.token, NameReviewDelay: c.nameReviewDelay, CodeTTL: c.codeTTL, Logger: logger,
		FirstID: idSeed(time.Now()), WebhookURL: c.webhookURL, WebhookAppSecret: []byte(c.webhookSecret)}
	if c.fakeClock {
		opts.Clock = graphsim.NewShiftedClock()
	}
	sim := graphsim.New(opts)
	if c.state != "" {
		if err := sim.PersistTo(c.state); err != nil {
			return err
		}
	}
	sim.CreateWABA(c.waba)

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Graph API simulator listening\n  base URL: %s/v21.0\n  token:    %s\n  WABA ID:  %s\n  admin:    %s/_sim/\n",
		base, c.token, c.waba, base)
	logger.Info("simulator started", "base_url", base+"/v21.0", "waba_id", c.waba, "fake_clock", c.fakeClock,
		"name_review_delay", c.nameReviewDelay, "code_ttl", c.codeTTL, "state_file", c.state,
		"webhook_url", c.webhookURL)

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- base
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sim.Close() // releases requests held by hang faults so Shutdown can finish
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
