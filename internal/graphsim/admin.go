package graphsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wa-onboarding/onboarding/internal/validate"
)

// AdminPaths documents the administration paths, all under /_sim/.
var AdminPaths = []string{
	"GET    /_sim/                                   this list",
	"GET    /_sim/wabas                              WABA IDs",
	"POST   /_sim/wabas?id=ID                        create a WABA (new ID when id is empty)",
	"POST   /_sim/wabas/{id}/account-update          send the account_update webhook: event=ACCOUNT_DELETED|DISABLED_UPDATE|PARTNER_REMOVED|..., ban_state=DISABLE|REINSTATE|...",
	"GET    /_sim/numbers                            every number with its state and window counts",
	"GET    /_sim/numbers/{id}                       one number",
	"POST   /_sim/numbers                            seed a number: waba_id, cc, phone_number, verified_name, verified, registered, pin, region, name_status",
	"POST   /_sim/numbers/{id}/name?status=APPROVED  set name_status (and verified_name, rejection_reason); sends phone_number_name_update",
	"POST   /_sim/numbers/{id}/delete                delete the number from its WABA (register answers 133015 for 5 minutes)",
	"POST   /_sim/numbers/{id}/disable_two_step      turn two-step verification off (needed before migrating)",
	"POST   /_sim/numbers/{id}/forget                make Meta forget the ID: every Graph call on it answers code 100 subcode 33",
	"POST   /_sim/preverified?cc=1&phone_number=N    create a pre-verified number, answers its preverified_id",
	"GET    /_sim/codes/{id}                         last ownership code sent to a phone-number ID",
	"GET    /_sim/codes?number=+15551234567          the same, by phone number",
	"GET    /_sim/calls                              the Graph call log (pin and code masked)",
	"GET    /_sim/faults                             pending faults",
	"POST   /_sim/faults                             inject a fault (JSON Fault), e.g. {\"kind\":\"lost_answer\",\"endpoint\":\"verify_code\",\"times\":1,\"answer\":\"drop\"}",
	"DELETE /_sim/faults                             clear every fault",
	"GET    /_sim/clock                              the simulator's time",
	"POST   /_sim/clock/advance?d=72h                move a fake clock forward (only with a fake clock)",
	"POST   /_sim/clock/set?t=2026-01-02T15:04:05Z   set a fake clock (only with a fake clock)",
}

// serveAdmin answers the /_sim/ paths. Callers on the loopback interface need
// no token, which keeps `curl localhost:8090/_sim/codes/...` short; anyone
// else must send the Graph bearer token, because these paths reveal codes and
// rewrite state.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r.RemoteAddr) {
		p, _ := readParams(r)
		if _, valid := s.tokenOK(r, p); !valid {
			adminError(w, http.StatusUnauthorized, "admin paths need the simulator's bearer token from a non-loopback address")
			return
		}
	}
	s.adminMux().ServeHTTP(w, r)
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	adminJSON(w, status, map[string]string{"error": msg})
}

func (s *Server) adminMux() *http.ServeMux {
	s.adminOnce.Do(func() { s.admin = s.buildAdminMux() })
	return s.admin
}

func (s *Server) buildAdminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sim/{$}", func(w http.ResponseWriter, r *http.Request) {
		adminJSON(w, http.StatusOK, map[string]any{"paths": AdminPaths, "endpoints": Endpoints})
	})
	mux.HandleFunc("GET /_sim/wabas", func(w http.ResponseWriter, r *http.Request) {
		adminJSON(w, http.StatusOK, map[string]any{"data": s.WABAs()})
	})
	mux.HandleFunc("POST /_sim/wabas", func(w http.ResponseWriter, r *http.Request) {
		p, _ := readParams(r)
		id := p.get("id")
		if id != "" {
			if err := validate.ID("id", id); err != nil {
				adminError(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		adminJSON(w, http.StatusOK, map[string]string{"id": s.CreateWABA(id)})
	})
	mux.HandleFunc("POST /_sim/wabas/{id}/account-update", func(w http.ResponseWriter, r *http.Request) {
		jsonBodyAsJSON(r)
		p, perr := readParams(r)
		if perr != nil {
			adminError(w, http.StatusBadRequest, perr.Details)
			return
		}
		err := s.AccountUpdate(r.PathValue("id"), p.get("event"), p.get("ban_state"))
		switch {
		case errors.Is(err, ErrNotFound):
			adminError(w, http.StatusNotFound, err.Error())
		case err != nil:
			adminError(w, http.StatusBadRequest, err.Error())
		default:
			adminJSON(w, http.StatusOK, map[string]any{"waba_id": r.PathValue("id"), "event": p.get("event"),
				"webhook_url": s.opts.WebhookURL})
		}
	})
	mux.HandleFunc("GET /_sim/numbers", func(w http.ResponseWriter, r *http.Request) {
		adminJSON(w, http.StatusOK, map[string]any{"data": s.Numbers()})
	})
	mux.HandleFunc("GET /_sim/numbers/{id}", func(w http.ResponseWriter, r *http.Request) {
		n, found := s.Number(r.PathValue("id"))
		if !found {
			adminError(w, http.StatusNotFound, "no such phone number")
			return
		}
		adminJSON(w, http.StatusOK, n)
	})
	mux.HandleFunc("POST /_sim/numbers", func(w http.ResponseWriter, r *http.Request) {
		p, perr := readParams(r)
		if perr != nil {
			adminError(w, http.StatusBadRequest, perr.Details)
			return
		}
		var opts []SeedOption
		if v := p.get("verified_name"); v != "" {
			opts = append(opts, WithVerifiedName(v))
		}
		if parseBool(p.get("verified")) {
			opts = append(opts, Verified())
		}
		if v := p.get("pin"); v != "" {
			opts = append(opts, WithPIN(v))
		}
		if parseBool(p.get("registered")) {
			pin := p.get("pin")
			if pin == "" {
				adminError(w, http.StatusBadRequest, "a registered number needs its pin")
				return
			}
			opts = append(opts, Registered(pin, p.get("region")))
		}
		if v := p.get("name_status"); v != "" {
			opts = append(opts, WithNameStatus(v))
		}
		id, err := s.SeedNumber(p.get("waba_id"), p.get("cc"), p.get("phone_number"), opts...)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		n, _ := s.Number(id)
		adminJSON(w, http.StatusOK, n)
	})
	mux.HandleFunc("POST /_sim/numbers/{id}/name", func(w http.ResponseWriter, r *http.Request) {
		p, _ := readParams(r)
		status := p.get("status")
		if status == "" {
			status = "APPROVED"
		}
		err := s.ReviewName(r.PathValue("id"), NameReview{Status: status, Name: p.get("verified_name"),
			RejectionReason: p.get("rejection_reason")})
		if err != nil && !errors.Is(err, ErrNotFound) {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.adminUpdate(w, r, err)
	})
	mux.HandleFunc("POST /_sim/numbers/{id}/delete", func(w http.ResponseWriter, r *http.Request) {
		s.adminUpdate(w, r, s.DeleteNumber(r.PathValue("id")))
	})
	mux.HandleFunc("POST /_sim/numbers/{id}/disable_two_step", func(w http.ResponseWriter, r *http.Request) {
		s.adminUpdate(w, r, s.DisableTwoStep(r.PathValue("id")))
	})
	mux.HandleFunc("POST /_sim/numbers/{id}/forget", func(w http.ResponseWriter, r *http.Request) {
		s.adminUpdate(w, r, s.ForgetNumber(r.PathValue("id")))
	})
	mux.HandleFunc("POST /_sim/preverified", func(w http.ResponseWriter, r *http.Request) {
		p, _ := readParams(r)
		cc, nat := strings.TrimPrefix(p.get("cc"), "+"), p.get("phone_number")
		if err := errors.Join(validate.CountryCode("cc", cc), validate.PhoneNumber("phone_number", cc, nat)); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, map[string]string{"preverified_id": s.AddPreverifiedNumber(cc, nat)})
	})
	mux.HandleFunc("GET /_sim/codes/{id}", func(w http.ResponseWriter, r *http.Request) {
		c, found := s.SentCode(r.PathValue("id"))
		if !found {
			adminError(w, http.StatusNotFound, "no code was sent to this phone-number ID")
			return
		}
		adminJSON(w, http.StatusOK, s.codeView(r.PathValue("id"), c))
	})
	mux.HandleFunc("GET /_sim/codes", func(w http.ResponseWriter, r *http.Request) {
		num := r.URL.Query().Get("number")
		if num == "" {
			adminError(w, http.StatusBadRequest, "pass number=+15551234567 or use /_sim/codes/{phone-number-id}")
			return
		}
		c, id, found := s.SentCodeFor(num)
		if !found {
			adminError(w, http.StatusNotFound, "no code was sent to "+num)
			return
		}
		adminJSON(w, http.StatusOK, s.codeView(id, c))
	})
	mux.HandleFunc("GET /_sim/calls", func(w http.ResponseWriter, r *http.Request) {
		adminJSON(w, http.StatusOK, map[string]any{"data": s.Calls()})
	})
	mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		adminJSON(w, http.StatusOK, map[string]any{"data": s.Faults()})
	})
	mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&f); err != nil {
			adminError(w, http.StatusBadRequest, "body must be a JSON Fault: "+err.Error())
			return
		}
		if err := s.InjectFault(f); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, map[string]any{"data": s.Faults()})
	})
	mux.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		adminJSON(w, http.StatusOK, map[string]any{"data": []Fault{}})
	})
	mux.HandleFunc("GET /_sim/clock", func(w http.ResponseWriter, r *http.Request) {
		_, adjustable := s.opts.Clock.(AdjustableClock)
		adminJSON(w, http.StatusOK, map[string]any{"now": s.now(), "adjustable": adjustable})
	})
	mux.HandleFunc("POST /_sim/clock/{op}", func(w http.ResponseWriter, r *http.Request) {
		c, adjustable := s.opts.Clock.(AdjustableClock)
		if !adjustable {
			adminError(w, http.StatusNotFound, "the clock is the wall clock; start the simulator with -fake-clock to move it")
			return
		}
		q := r.URL.Query()
		switch r.PathValue("op") {
		case "advance":
			d, err := time.ParseDuration(q.Get("d"))
			if err != nil {
				adminError(w, http.StatusBadRequest, "d must be a Go duration, e.g. 72h or 5m30s")
				return
			}
			c.Advance(d)
		case "set":
			t, err := time.Parse(time.RFC3339, q.Get("t"))
			if err != nil {
				adminError(w, http.StatusBadRequest, "t must be RFC 3339, e.g. 2026-01-02T15:04:05Z")
				return
			}
			c.Set(t)
		default:
			adminError(w, http.StatusNotFound, "unknown clock operation; use advance or set")
			return
		}
		s.log.Info("clock moved", "now", s.now())
		s.mu.Lock()
		s.persist()
		s.mu.Unlock()
		adminJSON(w, http.StatusOK, map[string]any{"now": s.now(), "adjustable": true})
	})
	mux.HandleFunc("/_sim/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, "unknown admin path; GET /_sim/ lists them")
	})
	return mux
}

// jsonBodyAsJSON marks a body that is a JSON object as JSON whatever its
// Content-Type, so that `curl -d '{"event":...}'`, which labels it a form,
// works on the admin paths.
func jsonBodyAsJSON(r *http.Request) {
	if r.Body == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err == nil && len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '{' {
		r.Header.Set("Content-Type", "application/json")
	}
}

func (s *Server) adminUpdate(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		adminError(w, http.StatusNotFound, err.Error())
		return
	}
	n, _ := s.Number(r.PathValue("id"))
	adminJSON(w, http.StatusOK, n)
}

func (s *Server) codeView(id string, c SentCode) map[string]any {
	return map[string]any{"phone_number_id": id, "code": c.Code, "method": c.Method, "language": c.Language,
		"sent_at": c.SentAt, "expires_at": c.ExpiresAt, "expired": !s.now().Before(c.ExpiresAt)}
}
