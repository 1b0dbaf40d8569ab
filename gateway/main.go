// Command gateway serves the onboarding HTTP API (package internal/httpapi,
// described by api/openapi.yaml) for services that do not speak Temporal,
// and Meta's webhooks.
//
// Configuration is read from the environment:
//
//	WA_GATEWAY_ADDR        listen address (default 127.0.0.1:8088; :8088 in containers)
//	WA_API_TOKEN or
//	WA_API_TOKEN_FILE      bearer token of the API (at least 16 characters)
//	WA_SEAL_PUBLIC_KEYS or
//	WA_SEAL_PUBLIC_KEYS_FILE
//	                       workers' public keys: PINs and codes are sealed here
//	WA_INSECURE_UNSEALED_SECRETS=1
//	                       send them unsealed when no seal keys are set (dev only)
//	TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*,
//	TEMPORAL_PROFILE       Temporal connection (Temporal's env configuration)
//	WA_CODEC_KEYS or
//	WA_CODEC_KEYS_FILE     payload encryption keys, the worker's
//	TEMPORAL_UI_URL        Temporal UI for links (default http://localhost:8233)
//	WA_WEBHOOK_APP_SECRET or
//	WA_WEBHOOK_APP_SECRET_FILE
//	                       Meta app secret that signs webhooks; none: no webhook endpoint
//	WA_WEBHOOK_VERIFY_TOKEN or
//	WA_WEBHOOK_VERIFY_TOKEN_FILE
//	                       hub.verify_token of the subscription handshake
//	LOG_FORMAT, LOG_LEVEL  json (default) or console; info (default)
//
// It serves plain HTTP: put it behind a TLS-terminating proxy or load
// balancer anywhere but on loopback, since PINs travel in request bodies.
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
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"

	"github.com/wa-onboarding/onboarding/internal/httpapi"
	"github.com/wa-onboarding/onboarding/internal/secretenv"
	"github.com/wa-onboarding/onboarding/internal/temporalconn"
	"github.com/wa-onboarding/onboarding/internal/webhooks"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Environment variables besides Temporal's, the codec's and the seal keys'.
const (
	envAddr      = "WA_GATEWAY_ADDR"
	envToken     = "WA_API_TOKEN"
	envTokenFile = envToken + secretenv.FileSuffix
	envUnsealed  = "WA_INSECURE_UNSEALED_SECRETS"
	envUIURL     = "TEMPORAL_UI_URL"
)

const (
	defaultAddr = "127.0.0.1:8088"
	minTokenLen = 16
	// shutdownTimeout bounds the wait for requests in flight at shutdown;
	// their waits for the run end at once and answer 202 (follow the run).
	shutdownTimeout = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.ReadFile, os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// run is main with its dependencies passed in; ready, if not nil, is called
// with the listening address once the server accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, readFile func(string) ([]byte, error),
	stderr io.Writer, ready func(net.Addr)) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", orDefault(getenv(envAddr), defaultAddr), "listen `address` (env "+envAddr+")")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gateway [-addr ADDR]\n\nServes the onboarding HTTP API (/v1, /healthz, /readyz, /openapi.yaml)\n"+
			"and, with an app secret, Meta's webhooks (/webhooks/whatsapp).\n"+
			"Configured by environment: %s, %s or %s, WA_SEAL_PUBLIC_KEYS(_FILE), TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,\n"+
			"TEMPORAL_API_KEY, TEMPORAL_TLS*, WA_CODEC_KEYS(_FILE), %s, WA_WEBHOOK_APP_SECRET(_FILE),\n"+
			"WA_WEBHOOK_VERIFY_TOKEN(_FILE), LOG_FORMAT, LOG_LEVEL.\n\n", envAddr, envToken, envTokenFile, envUIURL)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (configuration comes from the environment; see -h)", fs.Arg(0))
	}

	logger, err := temporalconn.NewLogger(getenv, temporalconn.LoggerDefaults{Format: "json", Level: zapcore.InfoLevel})
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()

	// Settings first: a missing token or key should not wait for Temporal.
	token, err := apiToken(getenv, readFile)
	if err != nil {
		return err
	}
	sealOpt, sealing, err := sealOption(getenv, readFile)
	if err != nil {
		return err
	}
	if !sealing {
		logger.Warn("!!! " + envUnsealed + "=1 and no seal keys: PINs and codes go to Temporal unsealed, readable by anyone who can use the codec server")
	}
	hooks, err := webhooks.ConfigFromEnv(getenv, readFile)
	hooksOn := err == nil
	switch {
	case errors.Is(err, webhooks.ErrNotConfigured):
		logger.Warn("Meta's webhooks are off: " + err.Error())
	case err != nil:
		return err
	}
	opts, info, err := temporalconn.Options(temporalconn.Config{Logger: logger, Getenv: getenv, ReadFile: readFile})
	if err != nil {
		return err
	}
	// Lazy: the gateway starts while Temporal is down, says so on /readyz,
	// and connects once it answers.
	tc, err := client.NewLazyClient(opts)
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()
	oc := onboarding.NewClient(tc, onboarding.WithNamespace(info.Namespace), onboarding.WithUIBaseURL(getenv(envUIURL)),
		onboarding.WithAddress(info.HostPort), sealOpt)

	api, err := httpapi.New(httpapi.Options{
		Client: oc,
		Token:  token,
		Ready: func(ctx context.Context) error {
			_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
		Logger: logger.Named("http"),
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	if hooksOn {
		// Meta's webhooks, signed with the app secret instead of the API token.
		hooks.Messenger = webhooks.TemporalMessenger{Client: tc, Namespace: info.Namespace}
		hooks.Logger = slog.New(zapslog.NewHandler(logger.Named("webhooks").Core()))
		wh, err := webhooks.New(hooks)
		if err != nil {
			return err
		}
		if hooks.VerifyToken == "" {
			logger.Warn("no " + webhooks.EnvVerifyToken + ": Meta's subscription handshake is refused; signed deliveries are taken")
		}
		mux.Handle(webhooks.Path, wh)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Requests' contexts end when shutdown starts, so that a request
	// waiting for a run answers 202 at once instead of holding shutdown.
	base, stopRequests := context.WithCancel(context.Background())
	defer stopRequests()
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Long enough for the longest wait a request may ask for.
		WriteTimeout:   httpapi.DefaultMaxWait + 30*time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		BaseContext:    func(net.Listener) context.Context { return base },
		ErrorLog:       zap.NewStdLog(logger.Named("http-server")),
	}
	logger.Info("gateway listening",
		zap.String("addr", ln.Addr().String()),
		zap.String("temporal_address", info.HostPort),
		zap.String("temporal_address_source", info.HostPortSource),
		zap.String("namespace", info.Namespace),
		zap.Bool("tls", info.TLS),
		zap.Bool("payloads_encrypted", !info.PlainPayloads()),
		zap.Strings("codec_key_ids", info.KeyIDs),
		zap.Bool("secrets_sealed", sealing),
	)
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if _, err := tc.CheckHealth(hctx, &client.CheckHealthRequest{}); err != nil {
		logger.Warn("Temporal does not answer yet; /readyz says so until it does", zap.String("temporal_address", info.HostPort), zap.Error(err))
	}
	cancel()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	stopRequests()
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("gateway stopped")
	return nil
}

// apiToken reads the API's bearer token by the rules of package secretenv.
// Errors never quote it.
func apiToken(getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	sec, err := secretenv.Lookup(getenv, readFile, envToken)
	switch {
	case errors.Is(err, secretenv.ErrNotSet):
		return "", fmt.Errorf("no API token: set %s or %s (generate one with: openssl rand -base64 32)", envToken, envTokenFile)
	case err != nil:
		return "", fmt.Errorf("the API token: %w", err)
	}
	if len(sec.Value) < minTokenLen {
		return "", fmt.Errorf("%s: the API token must be at least %d characters (generate one with: openssl rand -base64 32)", sec.Source(), minTokenLen)
	}
	if strings.ContainsAny(sec.Value, " \t\r\n") {
		return "", fmt.Errorf("%s: the API token must not contain white space", sec.Source())
	}
	return sec.Value, nil
}

// sealOption returns the Client option that seals PINs and codes with the
// workers' public keys. Unlike the starter, the gateway refuses to start
// without them (unless WA_INSECURE_UNSEALED_SECRETS=1): a server that
// refused every onboarding for want of keys would only fail later.
func sealOption(getenv func(string) string, readFile func(string) ([]byte, error)) (onboarding.ClientOption, bool, error) {
	s, err := onboarding.LoadSealer(getenv, readFile)
	switch {
	case err == nil:
		return onboarding.WithSealer(s), true, nil
	case !errors.Is(err, onboarding.ErrNoSealKeys):
		return nil, false, err
	case getenv(envUnsealed) == "1":
		return onboarding.WithUnsealedSecrets(), false, nil
	}
	return nil, false, fmt.Errorf("no public seal keys: set WA_SEAL_PUBLIC_KEYS or WA_SEAL_PUBLIC_KEYS_FILE (the workers' public keys; sealkey public prints them), or %s=1 for a dev stack whose workers take secrets unsealed", envUnsealed)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
