// Command codecserver serves the Temporal remote codec protocol for this
// project's encrypted payloads, so that Temporal UI and the temporal CLI can
// show workflow inputs, results, signals and failures in clear to people
// allowed to see them, while the Temporal server only ever stores ciphertext.
//
// Usage:
//
//	WA_CODEC_KEYS=id:base64key WA_CODEC_AUTH_TOKEN=... codecserver [flags]
//	codecserver -generate-key
//
// Keys are read from WA_CODEC_KEYS or WA_CODEC_KEYS_FILE (see package
// internal/codec); the bearer token from WA_CODEC_AUTH_TOKEN or
// WA_CODEC_AUTH_TOKEN_FILE; the workers' public seal keys, if any, from
// WA_SEAL_PUBLIC_KEYS or WA_SEAL_PUBLIC_KEYS_FILE. Flags default to the
// environment variables named in their usage text.
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

	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/codecserver"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/secretenv"
)

// Environment variables, in addition to those of codec.LoadKeys.
const (
	envAddr       = "WA_CODEC_ADDR"
	envOrigins    = "WA_CODEC_ORIGINS"
	envNamespaces = "WA_CODEC_NAMESPACES"
	envToken      = "WA_CODEC_AUTH_TOKEN"
	envTokenFile  = envToken + secretenv.FileSuffix
	envTLSCert    = "WA_CODEC_TLS_CERT"
	envTLSKey     = "WA_CODEC_TLS_KEY"
)

const (
	defaultAddr = "127.0.0.1:8081"
	// minTokenLen rejects tokens short enough to guess.
	minTokenLen     = 16
	shutdownTimeout = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.ReadFile, os.Stdout, os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0) // as the worker, starter and simulator do for -h
	case err != nil:
		fmt.Fprintln(os.Stderr, "codecserver:", err)
		os.Exit(1)
	}
}

// run is main with its dependencies passed in; ready, if not nil, is called
// with the listening address once the server accepts connections.
func run(ctx context.Context, args []string, env func(string) string, readFile func(string) ([]byte, error),
	stdout, stderr io.Writer, ready func(net.Addr)) error {
	fs := flag.NewFlagSet("codecserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", orDefault(env(envAddr), defaultAddr), "listen `address`; keep it on loopback unless TLS and a token protect it (env "+envAddr+")")
	origins := fs.String("origins", env(envOrigins), "comma-separated Temporal UI `origins` allowed by CORS (env "+envOrigins+", default "+strings.Join(codecserver.DefaultOrigins, ",")+")")
	namespaces := fs.String("namespaces", env(envNamespaces), "comma-separated `namespaces` to serve: endpoint URL .../NAMESPACE, or X-Namespace with a bare /decode; empty serves all (env "+envNamespaces+")")
	tlsCert := fs.String("tls-cert", env(envTLSCert), "TLS certificate `file`; serve HTTPS when set with -tls-key (env "+envTLSCert+")")
	tlsKey := fs.String("tls-key", env(envTLSKey), "TLS private key `file` (env "+envTLSKey+")")
	sealKeysFile := fs.String("seal-public-keys-file", "", "`file` of the workers' public seal keys: /encode seals pin, code and backup.password with them (env "+seal.EnvPublicKeys+" or "+seal.EnvPublicKeys+secretenv.FileSuffix+")")
	noAuth := fs.Bool("insecure-no-auth", false, "serve without a bearer token; local development on a loopback address only")
	genKey := fs.Bool("generate-key", false, "print a new random base64 AES-256 key and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	if *genKey {
		k, err := codec.GenerateKey()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, k)
		return err
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))

	keys, err := codec.LoadKeys(env, readFile)
	if err != nil {
		return fmt.Errorf("refusing to start without keys: %w", err)
	}
	sealer, err := loadSealer(env, readFile, *sealKeysFile)
	if err != nil {
		return err
	}
	token, err := loadToken(env, readFile)
	if err != nil {
		return err
	}
	switch {
	case *noAuth && token != "":
		return errors.New("-insecure-no-auth conflicts with " + envToken + "/" + envTokenFile + "; drop one")
	case *noAuth && !isLoopback(*addr):
		return fmt.Errorf("-insecure-no-auth is only allowed on a loopback address, not %q", *addr)
	case !*noAuth && token == "":
		return errors.New("no auth token: set " + envToken + " or " + envTokenFile + " (or pass -insecure-no-auth for local development)")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("-tls-cert and -tls-key must be set together")
	}

	allowedOrigins, servedNamespaces := codecserver.ParseList(*origins), codecserver.ParseList(*namespaces)
	h, err := codecserver.New(codecserver.Options{
		Codec:                codec.NewCodec(keys),
		Token:                token,
		AllowUnauthenticated: *noAuth,
		AllowedOrigins:       allowedOrigins,
		Namespaces:           servedNamespaces,
		Logger:               log,
		Sealer:               sealer,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	authMode := "bearer token"
	if *noAuth {
		authMode = "NONE (-insecure-no-auth)"
	}
	log.Info("codec server listening",
		"addr", ln.Addr().String(),
		"tls", *tlsCert != "",
		"auth", authMode,
		"key_ids", keys.IDs(),
		"primary_key_id", keys.PrimaryID(),
		"origins", orDefaultList(allowedOrigins, codecserver.DefaultOrigins),
		"namespaces", servedNamespaces,
		"seal_key_id", sealKeyID(sealer),
	)
	if sealer == nil {
		log.Warn("no public seal keys (" + seal.EnvPublicKeys + " or " + seal.EnvPublicKeys + secretenv.FileSuffix +
			"): /encode will not seal pin, code and backup.password, so secrets sent with --codec-endpoint stay readable to anyone who can decode")
	}

	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	if ready != nil {
		ready(ln.Addr())
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loadSealer reads the workers' public seal keys, from file if the flag
// names one; it returns nil without keys, as sealing on /encode is optional.
// The private keys are refused outright: a codec server that held them
// would show every sealed secret to whoever can call /decode.
func loadSealer(env func(string) string, readFile func(string) ([]byte, error), file string) (*seal.Sealer, error) {
	for _, name := range []string{seal.EnvPrivateKeys, seal.EnvPrivateKeys + secretenv.FileSuffix} {
		if env(name) != "" {
			return nil, fmt.Errorf("refusing to start with %s set: the codec server must never hold private seal keys; give it %s (the public keys) only", name, seal.EnvPublicKeys)
		}
	}
	if file != "" {
		if env(seal.EnvPublicKeys) != "" {
			return nil, fmt.Errorf("-seal-public-keys-file conflicts with %s; drop one", seal.EnvPublicKeys)
		}
		getenv := env
		env = func(name string) string {
			if name == seal.EnvPublicKeys+secretenv.FileSuffix {
				return file
			}
			return getenv(name)
		}
	}
	s, err := seal.LoadSealer(env, readFile)
	if errors.Is(err, seal.ErrNoKeys) {
		return nil, nil
	}
	return s, err
}

func sealKeyID(s *seal.Sealer) string {
	if s == nil {
		return "none"
	}
	return s.KeyID()
}

// loadToken reads the bearer token by the rules of package secretenv; it is
// optional here because -insecure-no-auth runs without one.
func loadToken(env func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	sec, err := secretenv.Lookup(env, readFile, envToken)
	switch {
	case errors.Is(err, secretenv.ErrNotSet):
		return "", nil
	case err != nil:
		return "", err
	}
	if len(sec.Value) < minTokenLen {
		return "", fmt.Errorf("%s: auth token must be at least %d characters (generate one with: openssl rand -base64 32)", sec.Source(), minTokenLen)
	}
	if strings.ContainsAny(sec.Value, " \t\r\n") {
		return "", fmt.Errorf("%s: auth token must not contain whitespace", sec.Source())
	}
	return sec.Value, nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orDefaultList(s, def []string) []string {
	if len(s) == 0 {
		return def
	}
	return s
}
