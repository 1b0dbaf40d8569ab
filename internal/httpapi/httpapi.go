// Package httpapi serves the onboarding operations as JSON over HTTP, for
// services that do not speak Temporal. It is a thin layer over
// onboarding.Client: the Client validates every input and seals secrets, and
// this package maps its answers and errors to HTTP statuses and the problem
// documents described in api/openapi.yaml.
//
// Request bodies are never logged: they carry two-step PINs and ownership
// codes.
package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/wa-onboarding/onboarding/api"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Defaults of Options.
const (
	// DefaultWait is how long an operation waits for the run's answer
	// before it answers 202, unless the request's timeout says otherwise.
	DefaultWait = 30 * time.Second
	// DefaultMaxWait bounds the timeout a request may ask for.
	DefaultMaxWait = 2 * time.Minute
	// DefaultReadyTTL is how long a readiness answer is reused, so that a
	// probe storm costs Temporal one call every few seconds.
	DefaultReadyTTL = 2 * time.Second
)

// Body limits. An onboarding carries an On-Premises backup of up to 1 MiB;
// every other body is a few fields.
const (
	maxOnboardBody = 2 << 20
	maxBody        = 64 << 10
)

// Realm is the realm named in WWW-Authenticate.
const Realm = "whatsapp-onboarding"

// Options configures New.
type Options struct {
	// Client carries out the operations. It must seal secrets (see
	// onboarding.WithSealer) unless the workers accept them unsealed.
	Client *onboarding.Client
	// Token is the bearer token every /v1 request must present.
	Token string
	// Ready reports whether Temporal answers, for /readyz; nil is always
	// ready.
	Ready func(context.Context) error
	// Logger receives one line per request and the causes of 5xx answers;
	// nil discards them.
	Logger   *zap.Logger
	Wait     time.Duration // default DefaultWait
	MaxWait  time.Duration // default DefaultMaxWait
	ReadyTTL time.Duration // default DefaultReadyTTL
}

type handler struct {
	c         *onboarding.Client
	tokenHash [sha256.Size]byte
	log       *zap.Logger
	wait      time.Duration
	maxWait   time.Duration
	ready     readiness
	mux       *http.ServeMux
}

// A route is one operation of the API. Its path is written as in the
// OpenAPI document, which is also the syntax of http.ServeMux patterns.
type route struct {
	method, path string
	public       bool // served without the bearer token
	serve        func(h *handler, w http.ResponseWriter, r *http.Request) (int, any, error)
}

var routes = []route{
	{"GET", "/healthz", true, (*handler).healthz},
	{"GET", "/readyz", true, (*handler).readyz},
	{"GET", "/openapi.yaml", true, (*handler).openapi},
	{"POST", "/v1/numbers", false, (*handler).onboard},
	{"GET", "/v1/numbers", false, (*handler).list},
	{"GET", "/v1/numbers/{number}", false, (*handler).status},
	{"DELETE", "/v1/numbers/{number}", false, (*handler).cancel},
	{"POST", "/v1/numbers/{number}/code", false, (*handler).sendCode},
	{"POST", "/v1/numbers/{number}/resend-code", false, (*handler).resendCode},
	{"POST", "/v1/numbers/{number}/change-region", false, (*handler).changeRegion},
	{"POST", "/v1/numbers/{number}/reregister", false, (*handler).reregister},
	{"POST", "/v1/numbers/{number}/deregister", false, (*handler).deregister},
	{"POST", "/v1/numbers/{number}/fix", false, (*handler).fix},
	{"POST", "/v1/numbers/{number}/skip-wait", false, (*handler).skipWait},
}

// Routes lists the operations served, as "METHOD /path" with path
// parameters in braces, so that tests can hold them against the OpenAPI
// document.
func Routes() []string {
	out := make([]string, len(routes))
	for i, rt := range routes {
		out[i] = rt.method + " " + rt.path
	}
	return out
}

// New returns the handler of the API: /v1/..., /healthz, /readyz and
// /openapi.yaml.
func New(o Options) (http.Handler, error) {
	if o.Client == nil {
		return nil, errors.New("httpapi: no onboarding client")
	}
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("httpapi: no API token")
	}
	h := &handler{
		c:         o.Client,
		tokenHash: sha256.Sum256([]byte(o.Token)),
		log:       o.Logger,
		wait:      o.Wait,
		maxWait:   o.MaxWait,
		ready:     readiness{check: o.Ready, ttl: o.ReadyTTL},
		mux:       http.NewServeMux(),
	}
	if h.log == nil {
		h.log = zap.NewNop()
	}
	if h.maxWait <= 0 {
		h.maxWait = DefaultMaxWait
	}
	if h.wait <= 0 {
		h.wait = min(DefaultWait, h.maxWait)
	}
	if h.ready.ttl <= 0 {
		h.ready.ttl = DefaultReadyTTL
	}
	for _, rt := range routes {
		h.mux.Handle(rt.method+" "+rt.path, h.endpoint(rt))
	}
	return http.HandlerFunc(h.serveHTTP), nil
}

// reqInfo travels in the request's context so that the access log, written
// by the outermost layer, learns what the inner ones decided.
type reqInfo struct {
	id    string
	route string
	code  string // problem code of an error answer
	cause error  // the error behind a 5xx, for the log only
}

type ctxKey struct{}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// serveHTTP logs every request, without its body or query, and recovers
// from panics.
func (h *handler) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ri := &reqInfo{id: requestID(r.Header.Get("X-Request-Id"))}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
	rec := &recorder{ResponseWriter: w}
	rec.Header().Set("X-Request-Id", ri.id)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic serving request", zap.String("request_id", ri.id), zap.Any("panic", p), zap.Stack("stack"))
			if !rec.wrote {
				h.problem(rec, r, http.StatusInternalServerError, codeInternal, "unexpected failure; see the gateway's log under request_id "+ri.id, nil)
			}
		}
		fields := []zap.Field{
			zap.String("request_id", ri.id),
			zap.String("method", r.Method),
			zap.String("path", r.URL.Path),
			zap.String("route", ri.route),
			zap.Int("status", rec.status),
			zap.Int64("bytes", rec.bytes),
			zap.Duration("duration", time.Since(start)),
			zap.String("remote", r.RemoteAddr),
		}
		if ri.code != "" {
			fields = append(fields, zap.String("problem", ri.code))
		}
		if ri.cause != nil {
			fields = append(fields, zap.String("cause", ri.cause.Error()))
			h.log.Warn("request failed", fields...)
			return
		}
		h.log.Info("request", fields...)
	}()
	h.mux.ServeHTTP(rec, r)
}

// requestID keeps a caller's X-Request-Id when it is short and plain, so
// that logs correlate across services, and makes one otherwise.
func requestID(given string) string {
	if len(given) > 0 && len(given) <= 64 && strings.Trim(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == "" {
		return given
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// endpoint wraps a route with authentication and the JSON answer.
func (h *handler) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		ri.route = rt.method + " " + rt.path
		if !rt.public {
			if given, ok := bearer(r); !ok || subtle.ConstantTimeCompare(hashOf(given), h.tokenHash[:]) != 1 {
				// RFC 6750: no error attribute when no token came.
				challenge := `Bearer realm="` + Realm + `"`
				detail := "send Authorization: Bearer <token>"
				if ok {
					challenge += `, error="invalid_token"`
					detail = "the bearer token is not this gateway's"
				}
				w.Header().Set("WWW-Authenticate", challenge)
				h.problem(w, r, http.StatusUnauthorized, codeUnauthorized, detail, nil)
				return
			}
		}
		status, body, err := rt.serve(h, w, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, status, "application/json", body)
	})
}

// hashOf hashes a token so that comparing it takes the same time whatever
// its length: subtle.ConstantTimeCompare returns at once on a length
// mismatch.
func hashOf(token string) []byte {
	s := sha256.Sum256([]byte(token))
	return s[:]
}

func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// recorder notes the status and size of an answer for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// readiness caches the answer of a readiness check for ttl.
type readiness struct {
	check func(context.Context) error
	ttl   time.Duration

	mu  sync.Mutex
	at  time.Time
	err error
}

func (rd *readiness) get(ctx context.Context) error {
	if rd.check == nil {
		return nil
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.at.IsZero() && time.Since(rd.at) < rd.ttl {
		return rd.err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	rd.err, rd.at = rd.check(ctx), time.Now()
	return rd.err
}

type health struct {
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

func (h *handler) healthz(http.ResponseWriter, *http.Request) (int, any, error) {
	return http.StatusOK, health{Status: "ok"}, nil
}

func (h *handler) readyz(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := h.ready.get(r.Context()); err != nil {
		// The cause may name internal addresses; it goes to the log, not
		// to an unauthenticated caller.
		info(r).cause = err
		return http.StatusServiceUnavailable, health{Status: "unavailable", Detail: "cannot reach Temporal"}, nil
	}
	return http.StatusOK, health{Status: "ok"}, nil
}

func (h *handler) openapi(w http.ResponseWriter, _ *http.Request) (int, any, error) {
	w.Header().Set("Content-Type", "application/yaml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(api.OpenAPI)
	return 0, nil, nil
}
