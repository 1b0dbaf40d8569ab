// Package codecserver serves the Temporal remote codec protocol so that
// Temporal UI and the temporal CLI can show (and, for signals and resets,
// produce) payloads encrypted by package codec without ever holding the keys.
//
// The protocol is two endpoints, POST .../encode and POST .../decode, whose
// request and response bodies are JSON of the form {"payloads": [...]}. Any
// path prefix is accepted. When Options.Namespaces restricts the server, the
// path segment just before /encode or /decode names the namespace, so that
// each namespace has its own endpoint URL (https://codec.example/NS); a bare
// /encode or /decode is then accepted only with an X-Namespace header.
//
// Which client sends what (checked against temporal CLI 1.5.1 and the
// Temporal UI source):
//
//   - Temporal UI posts to <endpoint>/decode with "X-Namespace: <the
//     namespace being viewed>"; it does not expand "{namespace}" in the
//     endpoint.
//   - The temporal CLI replaces "{namespace}" in --codec-endpoint and sets
//     X-Namespace, both from --namespace, TEMPORAL_NAMESPACE or the profile;
//     when the namespace is only the CLI's implicit default, both are
//     empty: "{namespace}" becomes "" and X-Namespace is sent empty.
//     Endpoints with the namespace written out work in every case.
//
// Given the workers' public seal keys (Options.Sealer), /encode also seals
// the secrets in the JSON payloads it is sent, so that callers using the
// temporal CLI send them sealed; see Options.Sealer.
package codecserver

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/wa-onboarding/onboarding/internal/seal"
)

// DefaultMaxBodyBytes bounds request bodies when Options.MaxBodyBytes is zero.
// Temporal's own payload size limit is 2 MiB per payload; UI batches several.
const DefaultMaxBodyBytes = 4 << 20

// DefaultOrigins are the origins of a local "temporal server start-dev" UI.
var DefaultOrigins = []string{"http://localhost:8233", "http://127.0.0.1:8233"}

// Headers that Temporal UI and the CLI send with codec requests.
const allowedRequestHeaders = "Content-Type, X-Namespace, Authorization"

// Options configure a Handler.
type Options struct {
	// Codec encodes and decodes payloads. Required.
	Codec converter.PayloadCodec

	// Token is the bearer token every encode and decode request must
	// present as "Authorization: Bearer <Token>". The temporal CLI sends
	// it with --codec-auth; Temporal UI forwards the signed-in user's
	// access token when "pass access token" is enabled.
	Token string

	// AllowUnauthenticated must be set, and Token left empty, to serve
	// requests without authorization. It exists so that running without
	// auth is a deliberate choice and never the result of a missing
	// setting; use it only on loopback addresses.
	AllowUnauthenticated bool

	// AllowedOrigins lists the browser origins (scheme://host[:port]) of
	// the Temporal UI deployments allowed to call the server. Empty means
	// DefaultOrigins. Requests without an Origin header (the CLI) are not
	// subject to this check.
	AllowedOrigins []string

	// Namespaces, if not empty, restricts the server to requests for one of
	// them. A request names its namespace by the path segment before
	// /encode or /decode ("/NS/decode", after any prefix), or, for a bare
	// "/decode", by its X-Namespace header. A non-empty X-Namespace that
	// differs from the path's namespace is refused, as is a request that
	// names none.
	Namespaces []string

	// MaxBodyBytes limits request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Logger receives one record per request; nil discards them. Records
	// never contain bodies or credentials.
	Logger *slog.Logger
	// Sealer, if set, seals secrets in the JSON objects sent to /encode
	// before Codec encrypts them: top-level "pin" and "code" strings and
	// "backup"."password", matched without regard to case as Go's
	// encoding/json does. Give it only public keys: /decode never opens
	// sealed values.
	Sealer *seal.Sealer
}

type handler struct {
	codec      http.Handler
	tokenHash  [sha256.Size]byte
	noAuth     bool
	origins    map[string]bool
	namespaces map[string]bool
	maxBody    int64
	log        *slog.Logger
}

// New returns an http.Handler serving the remote codec protocol with CORS,
// authorization, namespace and body-size checks applied in front of it.
func New(opts Options) (http.Handler, error) {
	if opts.Codec == nil {
		return nil, errors.New("codecserver: Options.Codec is required")
	}
	switch {
	case opts.Token == "" && !opts.AllowUnauthenticated:
		return nil, errors.New("codecserver: no auth token configured; set Options.Token, or Options.AllowUnauthenticated to run without auth")
	case opts.Token != "" && opts.AllowUnauthenticated:
		return nil, errors.New("codecserver: Options.Token and Options.AllowUnauthenticated are mutually exclusive")
	}
	codec := opts.Codec
	if opts.Sealer != nil {
		codec = sealingCodec{PayloadCodec: codec, sealer: opts.Sealer}
	}
	h := &handler{
		codec:   converter.NewPayloadCodecHTTPHandler(codec),
		noAuth:  opts.AllowUnauthenticated,
		origins: make(map[string]bool),
		maxBody: opts.MaxBodyBytes,
		log:     opts.Logger,
	}
	if opts.Token != "" {
		// Comparing fixed-size digests keeps the comparison constant-time
		// in the token length too.
		h.tokenHash = sha256.Sum256([]byte(opts.Token))
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	origins := opts.AllowedOrigins
	if len(origins) == 0 {
		origins = DefaultOrigins
	}
	for _, o := range origins {
		n, err := normalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("codecserver: allowed origin %q: %w", o, err)
		}
		h.origins[n] = true
	}
	if len(opts.Namespaces) > 0 {
		h.namespaces = make(map[string]bool)
		for _, ns := range opts.Namespaces {
			if ns = strings.TrimSpace(ns); ns != "" {
				h.namespaces[ns] = true
			}
		}
	}
	return h, nil
}

// normalizeOrigin checks that o is a bare scheme://host[:port] and returns it
// in the lower-case form browsers send.
func normalizeOrigin(o string) (string, error) {
	o = strings.TrimSuffix(strings.TrimSpace(o), "/")
	if o == "*" {
		// A wildcard cannot be combined with credentials, and would let
		// any web page a logged-in user visits decrypt payloads.
		return "", errors.New("wildcard origins are not supported")
	}
	u, err := url.Parse(o)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("want scheme://host[:port]")
	}
	return strings.ToLower(o), nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	h.serve(rec, r)
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "codec request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("x_namespace", r.Header.Get("X-Namespace")),
		slog.String("origin", r.Header.Get("Origin")),
		slog.String("remote", r.RemoteAddr),
		slog.Int("status", rec.status),
		slog.Duration("duration", time.Since(start)),
	)
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin != "" {
		if !h.origins[strings.ToLower(origin)] {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Access-Control-Allow-Credentials", "true")
	}

	prefix, ok := strings.CutSuffix(r.URL.Path, "/encode")
	if !ok {
		if prefix, ok = strings.CutSuffix(r.URL.Path, "/decode"); !ok {
			http.NotFound(w, r)
			return
		}
	}

	switch r.Method {
	case http.MethodOptions:
		// Browsers send preflights without credentials, so they are
		// answered before the authorization check.
		hdr.Set("Access-Control-Allow-Methods", http.MethodPost)
		hdr.Set("Access-Control-Allow-Headers", allowedRequestHeaders)
		hdr.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		hdr.Set("Allow", "POST, OPTIONS")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}

	if !h.authorized(r) {
		hdr.Set("WWW-Authenticate", `Bearer realm="codec"`)
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	if h.namespaces != nil {
		if msg := h.checkNamespace(prefix, r.Header.Get("X-Namespace")); msg != "" {
			http.Error(w, msg, http.StatusForbidden)
			return
		}
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request body larger than "+strconv.FormatInt(h.maxBody, 10)+" bytes", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	// Decoded payloads hold the very secrets the codec protects.
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	h.codec.ServeHTTP(w, r)
}

// checkNamespace applies Options.Namespaces to a request whose path before
// /encode or /decode is prefix; it returns the reason for refusing it, or "".
func (h *handler) checkNamespace(prefix, header string) string {
	// Temporal UI appends "/decode" to the configured endpoint, so an
	// endpoint ending in '/' yields "//decode".
	prefix = strings.TrimRight(prefix, "/")
	fromPath := prefix[strings.LastIndexByte(prefix, '/')+1:]
	header = strings.TrimSpace(header)
	ns := fromPath
	switch {
	case fromPath != "" && header != "" && header != fromPath:
		return fmt.Sprintf("X-Namespace %q does not match namespace %q of the endpoint path", bounded(header), bounded(fromPath))
	case fromPath == "" && header == "":
		return "no namespace: use the endpoint URL that ends in /<namespace>, or send X-Namespace " +
			"(the temporal CLI sends it empty unless --namespace or TEMPORAL_NAMESPACE is set)"
	case fromPath == "":
		ns = header
	}
	if !h.namespaces[ns] {
		return fmt.Sprintf("namespace %q is not served here", bounded(ns))
	}
	return ""
}

// bounded shortens client-supplied names echoed in responses.
func bounded(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

func (h *handler) authorized(r *http.Request) bool {
	if h.noAuth {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], h.tokenHash[:]) == 1
}

// statusRecorder remembers the response status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ParseList splits a comma-separated flag or environment value, dropping
// empty elements.
func ParseList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}
