// Package webhooks receives Meta's WhatsApp Business Account webhooks and
// passes the events that matter to onboarding on to the numbers' runs.
//
// A Handler serves one endpoint (mounted at Path): the GET subscription
// handshake, and POST deliveries whose X-Hub-Signature-256 must be the
// HMAC-SHA256 of the raw body keyed with the app secret. Two events are
// acted on:
//
//   - phone_number_name_update: the display-name review decision goes to the
//     number's run as the signal onboarding.SignalNameUpdate;
//   - account_update events that make a WABA unusable (deleted, disabled,
//     unshared, offboarded) or usable again go to every open run of the WABA
//     as onboarding.SignalWABAUpdate.
//
// Meta delivers an event more than once and out of order. The runs decide
// on order (each signal carries the event's time and ID, and a run ignores
// one older than the last it took); the Handler only skips deliveries it
// has already passed on, from a bounded memory that correctness does not
// depend on. A delivery is answered 200 once every event reached Temporal or
// could not be used (an unknown number, an event of no interest); 503 when
// Temporal could not be reached, so that Meta delivers it again.
package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// Path is where the gateway mounts the Handler.
const Path = "/webhooks/whatsapp"

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body.
const SignatureHeader = "X-Hub-Signature-256"

// Defaults of Config.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultDeliveryTimeout = 10 * time.Second
	DefaultDedupeSize      = 4096
)

// ErrNoRun is returned by a Messenger when no run owns the number or WABA;
// the Handler logs it and answers 200, since Meta delivering again would not
// help.
var ErrNoRun = errors.New("webhooks: no run owns it")

// Messenger passes events on to the runs. TemporalMessenger is the real one;
// tests use a fake.
type Messenger interface {
	// NameUpdate signals the run with workflowID. It returns an error
	// wrapping ErrNoRun when there is no open run.
	NameUpdate(ctx context.Context, workflowID string, in onboarding.NameUpdateInput) error
	// WABAUpdate signals every open run of the WABA and returns how many it
	// reached.
	WABAUpdate(ctx context.Context, wabaID string, in onboarding.WABAUpdateInput) (int, error)
}

// Config configures a Handler.
type Config struct {
	// AppSecret keys the HMAC of X-Hub-Signature-256; required.
	AppSecret []byte
	// VerifyToken is the hub.verify_token set in the App Dashboard; when
	// empty every handshake is refused.
	VerifyToken string
	// Messenger receives the events; required.
	Messenger Messenger
	// Logger gets one line per delivery and per event; slog.Default() when
	// nil. Bodies, signatures and tokens are never logged.
	Logger *slog.Logger
	// MaxBodyBytes bounds a delivery; DefaultMaxBodyBytes when 0.
	MaxBodyBytes int64
	// DeliveryTimeout bounds passing one delivery's events to Temporal, so
	// that Meta gets its answer in time; DefaultDeliveryTimeout when 0.
	DeliveryTimeout time.Duration
	// DedupeSize is how many recent events are remembered to skip repeated
	// deliveries; DefaultDedupeSize when 0.
	DedupeSize int
	// Now tells the time for events without one; time.Now when nil.
	Now func() time.Time
}

// Handler is the webhook endpoint. Create it with New.
type Handler struct {
	cfg  Config
	log  *slog.Logger
	seen *recent
}

// New returns a Handler, or an error naming the missing setting.
func New(cfg Config) (*Handler, error) {
	if len(cfg.AppSecret) == 0 {
		return nil, errors.New("webhooks: the app secret is required (WA_WEBHOOK_APP_SECRET or WA_WEBHOOK_APP_SECRET_FILE)")
	}
	if cfg.Messenger == nil {
		return nil, errors.New("webhooks: a Messenger is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.DeliveryTimeout <= 0 {
		cfg.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if cfg.DedupeSize <= 0 {
		cfg.DedupeSize = DefaultDedupeSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Handler{cfg: cfg, log: log.With("component", "webhooks"), seen: newRecent(cfg.DedupeSize)}, nil
}

// ServeHTTP answers the GET handshake and POST deliveries.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.handshake(w, r)
	case http.MethodPost:
		h.deliver(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		plain(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

// maxChallenge bounds the echoed hub.challenge; Meta sends a short number.
const maxChallenge = 256

func (h *Handler) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	mode, token, challenge := q.Get("hub.mode"), q.Get("hub.verify_token"), q.Get("hub.challenge")
	ok := mode == "subscribe" && h.cfg.VerifyToken != "" &&
		subtle.ConstantTimeCompare([]byte(token), []byte(h.cfg.VerifyToken)) == 1
	if !ok || challenge == "" || len(challenge) > maxChallenge {
		h.log.Warn("webhook handshake refused", "remote", r.RemoteAddr, "mode", mode,
			"token_given", token != "", "challenge_given", challenge != "")
		plain(w, http.StatusForbidden, "forbidden")
		return
	}
	h.log.Info("webhook handshake accepted", "remote", r.RemoteAddr)
	plain(w, http.StatusOK, challenge)
}

func (h *Handler) deliver(w http.ResponseWriter, r *http.Request) {
	sig, ok := parseSignature(r.Header.Get(SignatureHeader))
	if !ok {
		// Refused before the body is read: an unsigned caller costs nothing.
		h.log.Warn("webhook refused: missing or malformed "+SignatureHeader, "remote", r.RemoteAddr)
		plain(w, http.StatusUnauthorized, "missing or malformed "+SignatureHeader)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log.Warn("webhook refused: body too large", "remote", r.RemoteAddr, "limit", h.cfg.MaxBodyBytes)
			plain(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		plain(w, http.StatusBadRequest, "could not read the body")
		return
	}
	if !hmac.Equal(sig, Sign(h.cfg.AppSecret, body)) {
		h.log.Warn("webhook refused: signature does not match the body", "remote", r.RemoteAddr, "bytes", len(body))
		plain(w, http.StatusForbidden, "signature does not match")
		return
	}
	events, err := parse(body, h.cfg.Now().UTC())
	if err != nil {
		h.log.Warn("webhook refused: signed but unreadable", "remote", r.RemoteAddr, "error", err)
		plain(w, http.StatusBadRequest, "not a WhatsApp Business Account webhook")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.DeliveryTimeout)
	defer cancel()
	failed := 0
	for _, ev := range events {
		if err := h.dispatch(ctx, ev); err != nil {
			failed++
		}
	}
	if failed > 0 {
		// Meta delivers the whole body again; the events that did get
		// through are skipped by the dedupe or ignored by the runs.
		plain(w, http.StatusServiceUnavailable, "could not reach the workflows; deliver again")
		return
	}
	plain(w, http.StatusOK, "ok")
}

// dispatch passes one event on. It returns an error only when delivering
// again could help.
func (h *Handler) dispatch(ctx context.Context, ev event) error {
	log := h.log.With("field", ev.field, "event_id", ev.key)
	if ev.ignore != "" {
		log.Info("webhook event ignored", "reason", ev.ignore)
		return nil
	}
	if h.seen.has(ev.key) {
		log.Info("webhook event already passed on; skipped")
		return nil
	}
	switch {
	case ev.name != nil:
		log = log.With("number", ev.number, "workflow_id", ev.workflowID, "decision", ev.name.Decision,
			"event_time", ev.name.EventTime)
		err := h.cfg.Messenger.NameUpdate(ctx, ev.workflowID, *ev.name)
		switch {
		case errors.Is(err, ErrNoRun):
			log.Warn("name update for a number no run owns; dropped")
		case err != nil:
			log.Error("name update not delivered; Meta will deliver it again", "error", err)
			return err
		default:
			log.Info("name update passed on", "rejection_reason", ev.name.Reason)
		}
	case ev.waba != nil:
		log = log.With("waba_id", ev.wabaID, "event", ev.waba.Event, "state", ev.waba.State,
			"event_time", ev.waba.EventTime)
		n, err := h.cfg.Messenger.WABAUpdate(ctx, ev.wabaID, *ev.waba)
		switch {
		case errors.Is(err, ErrNoRun) || (err == nil && n == 0):
			log.Warn("WABA update for a WABA no open run belongs to; dropped")
		case err != nil:
			log.Error("WABA update not delivered to every run; Meta will deliver it again", "error", err, "runs", n)
			return err
		default:
			log.Info("WABA update passed on", "runs", n)
		}
	}
	h.seen.add(ev.key)
	return nil
}

// Sign returns the HMAC-SHA256 of body keyed with secret, the value of
// X-Hub-Signature-256 after "sha256=".
func Sign(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// SignatureValue is the X-Hub-Signature-256 header Meta sends with body.
func SignatureValue(secret, body []byte) string {
	return "sha256=" + hex.EncodeToString(Sign(secret, body))
}

func parseSignature(v string) ([]byte, bool) {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(v), "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return nil, false
	}
	sig, err := hex.DecodeString(hexSig)
	return sig, err == nil
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

// recent is a bounded set of event keys, oldest forgotten first.
type recent struct {
	mu   sync.Mutex
	set  map[string]struct{}
	ring []string
	next int
}

func newRecent(size int) *recent {
	return &recent{set: make(map[string]struct{}, size), ring: make([]string, size)}
}

func (r *recent) has(k string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.set[k]
	return ok
}

func (r *recent) add(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[k]; ok {
		return
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = k
	r.set[k] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}
