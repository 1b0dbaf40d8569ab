package graphsim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FaultKind is how an injected fault answers.
type FaultKind string

// Fault kinds.
const (
	// FaultStatus answers HTTPStatus (500 when 0) with a body that is not
	// Meta's envelope: plain text, or an HTML page for 502/503/504, the way
	// a load balancer in front of the Graph API does.
	FaultStatus FaultKind = "status"
	// FaultThrottle answers HTTP 429 (or HTTPStatus) with code 4 (or Code,
	// e.g. 80007) in Meta's envelope. Codes 80007 and 80008 carry an
	// X-Business-Use-Case-Usage header whose estimated_time_to_regain_access
	// (minutes) says when to come back, as Meta's business use case limits
	// do; any other code carries Retry-After (seconds) and X-App-Usage.
	FaultThrottle FaultKind = "throttle"
	// FaultHang never answers: the request is held until the client gives
	// up (its context deadline or a closed connection) or the Server is
	// closed.
	FaultHang FaultKind = "hang"
	// FaultMalformed answers HTTP 200 (or HTTPStatus) with a truncated JSON
	// body (or Body).
	FaultMalformed FaultKind = "malformed"
	// FaultError answers Meta's envelope with Code, Subcode and HTTPStatus
	// (400 when 0, 401 for 190).
	FaultError FaultKind = "error"
	// FaultLostAnswer carries the call out exactly as without the fault
	// (the number is added, the code sent, the register counted in the
	// 72-hour window...) and then loses Meta's answer the way Answer says.
	// It is the case a client cannot tell from a call that never reached
	// Meta, and that a retry must not treat as "nothing happened".
	FaultLostAnswer FaultKind = "lost_answer"
)

// How a FaultLostAnswer loses the answer, in Fault.Answer.
const (
	// AnswerDrop closes the connection without writing a byte of the
	// answer, as a connection reset between Meta and the client does. It
	// is the default.
	AnswerDrop = "drop"
	// AnswerStatus answers a 502 HTML page, as a proxy that lost its
	// upstream does.
	AnswerStatus = "status"
	// AnswerHang holds the request until the client gives up or the
	// Server is closed, as an answer lost in a stalled connection is.
	AnswerHang = "hang"
)

// Fault makes the simulator answer some calls wrongly on purpose. Faults are
// matched in the order they were injected; the first one that matches a
// call answers it and uses up one of its Times.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// Endpoint is one of Endpoints; "" matches every endpoint.
	Endpoint string `json:"endpoint,omitempty"`
	// Number is the phone-number ID the call is about; for
	// add_phone_number and list_phone_numbers it is the WABA ID, or for
	// add_phone_number also the digits of cc+phone_number. "" matches
	// every call.
	Number string `json:"number,omitempty"`
	// Times is how many calls the fault answers; 0 answers until
	// ClearFaults.
	Times int `json:"times,omitempty"`

	HTTPStatus int    `json:"http_status,omitempty"`
	Code       int    `json:"code,omitempty"`
	Subcode    int    `json:"subcode,omitempty"`
	Type       string `json:"type,omitempty"`
	Message    string `json:"message,omitempty"`
	Details    string `json:"details,omitempty"`
	Transient  bool   `json:"is_transient,omitempty"`
	// RetryAfter is advertised by FaultThrottle (60s when 0) and, when set,
	// by FaultStatus as a Retry-After header.
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// Body replaces the body of FaultStatus and FaultMalformed.
	Body string `json:"body,omitempty"`
	// Counted makes a register or deregister call answered by the fault
	// still count toward the 10-per-72-hours window, as a request Meta
	// received but failed to answer would. FaultLostAnswer always counts:
	// it carries the whole call out.
	Counted bool `json:"counted,omitempty"`
	// Answer is how FaultLostAnswer loses the answer: AnswerDrop (when
	// empty), AnswerStatus or AnswerHang.
	Answer string `json:"answer,omitempty"`
}

// UnmarshalJSON accepts retry_after as a Go duration string ("90s") or
// seconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var aux struct {
		plain
		RetryAfter any `json:"retry_after,omitempty"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*f = Fault(aux.plain)
	switch v := aux.RetryAfter.(type) {
	case nil:
	case float64:
		f.RetryAfter = time.Duration(v * float64(time.Second))
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("retry_after: %w", err)
		}
		f.RetryAfter = d
	default:
		return fmt.Errorf("retry_after: want a duration string or seconds")
	}
	return nil
}

// MarshalJSON writes retry_after as a duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	aux := struct {
		plain
		RetryAfter string `json:"retry_after,omitempty"`
	}{plain: plain(f)}
	if f.RetryAfter > 0 {
		aux.RetryAfter = f.RetryAfter.String()
	}
	return json.Marshal(aux)
}

type faultEntry struct {
	Fault
	left int // calls left; meaningless when Times is 0
}

// InjectFault adds a fault after those already injected.
func (s *Server) InjectFault(f Fault) error {
	switch f.Kind {
	case FaultStatus, FaultThrottle, FaultHang, FaultMalformed:
	case FaultLostAnswer:
		switch f.Answer {
		case "":
			f.Answer = AnswerDrop
		case AnswerDrop, AnswerStatus, AnswerHang:
		default:
			return fmt.Errorf("graphsim: unknown answer %q for a lost_answer fault (want %s, %s or %s)",
				f.Answer, AnswerDrop, AnswerStatus, AnswerHang)
		}
	case FaultError:
		if f.Code == 0 {
			return fmt.Errorf("graphsim: an error fault needs a code")
		}
	default:
		return fmt.Errorf("graphsim: unknown fault kind %q", f.Kind)
	}
	if f.Endpoint != "" && !slices.Contains(Endpoints, f.Endpoint) {
		return fmt.Errorf("graphsim: unknown endpoint %q (want one of %s)", f.Endpoint, strings.Join(Endpoints, ", "))
	}
	if f.Times < 0 {
		return fmt.Errorf("graphsim: times must be >= 0")
	}
	if f.Answer != "" && f.Kind != FaultLostAnswer {
		return fmt.Errorf("graphsim: answer is only for a lost_answer fault")
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultEntry{Fault: f, left: f.Times})
	s.mu.Unlock()
	s.log.Info("fault injected", "kind", f.Kind, "endpoint", orAll(f.Endpoint), "number", orAll(f.Number),
		"times", f.Times, "code", f.Code, "http_status", f.HTTPStatus, "answer", f.Answer)
	return nil
}

func orAll(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// Faults returns the faults still pending, with Times set to the calls each
// has left (0: until cleared).
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, e := range s.faults {
		out[i] = e.Fault
		if e.Times > 0 {
			out[i].Times = e.left
		}
	}
	return out
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
	s.log.Info("faults cleared")
}

func (f *Fault) matches(rt route, p params) bool {
	if f.Endpoint != "" && f.Endpoint != rt.endpoint {
		return false
	}
	if f.Number == "" || f.Number == rt.id {
		return true
	}
	return rt.endpoint == EndpointAddPhoneNumber &&
		f.Number == strings.TrimPrefix(p.get("cc"), "+")+p.get("phone_number")
}

// takeFault consumes the first fault matching the call, counting the call
// toward the register window when the fault says so.
func (s *Server) takeFault(rt route, p params) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.faults {
		if !e.matches(rt, p) {
			continue
		}
		if e.Times > 0 {
			e.left--
			if e.left <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		f := e.Fault
		if f.Counted && f.Kind != FaultLostAnswer && (rt.endpoint == EndpointRegister || rt.endpoint == EndpointDeregister) {
			if n := s.numbers[rt.id]; n != nil && n.deletedAt.IsZero() {
				_ = s.countWindow(n, rt.endpoint)
			}
		}
		return &f
	}
	return nil
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f *Fault, call Call, start time.Time) {
	call.Fault = string(f.Kind)
	switch f.Kind {
	case FaultHang:
		call.HTTPStatus = 0
		s.record(call)
		s.hold(r, call, start)
	case FaultStatus:
		status := cmp0(f.HTTPStatus, http.StatusInternalServerError)
		body, ct := f.Body, "text/plain; charset=utf-8"
		if body == "" {
			ct, body = proxyPage(status)
		}
		if f.RetryAfter > 0 {
			// A 503 from Meta's edge may say when to come back.
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
		}
		s.finishRaw(w, r, call, status, ct, body, start)
	case FaultMalformed:
		status := cmp0(f.HTTPStatus, http.StatusOK)
		body := f.Body
		if body == "" {
			body = `{"success":tr`
			if call.Endpoint == EndpointListPhoneNumbers {
				body = `{"data":[{"id":"1065`
			}
		}
		s.finishRaw(w, r, call, status, "application/json; charset=UTF-8", body, start)
	case FaultThrottle:
		code := cmp0(f.Code, 4)
		e := &apiError{HTTPStatus: cmp0(f.HTTPStatus, http.StatusTooManyRequests), Code: code, Subcode: f.Subcode,
			Type: f.Type, Message: f.Message, Details: f.Details, Transient: true, Header: http.Header{}}
		retry := f.RetryAfter
		if retry <= 0 {
			retry = time.Minute
		}
		if code == 80007 || code == 80008 {
			// Business use case throttles: Meta says when access comes
			// back in X-Business-Use-Case-Usage, keyed by the business
			// object (here the WABA), in minutes.
			if e.Message == "" {
				e.Message = fmt.Sprintf("(#%d) There have been too many calls to this WhatsApp Business account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.", code)
			}
			usage := map[string][]map[string]any{s.businessOf(call): {{
				"type": "whatsapp_business_management", "call_count": 100, "total_cputime": 1, "total_time": 1,
				"estimated_time_to_regain_access": int(math.Ceil(retry.Minutes())),
			}}}
			b, _ := json.Marshal(usage)
			e.Header.Set("X-Business-Use-Case-Usage", string(b))
		} else {
			if e.Message == "" {
				e.Message = fmt.Sprintf("(#%d) Application request limit reached", code)
			}
			e.Header.Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
			e.Header.Set("X-App-Usage", `{"call_count":100,"total_cputime":1,"total_time":1}`)
		}
		s.finish(w, r, call, fail(e), start)
	default: // FaultError
		e := &apiError{HTTPStatus: f.HTTPStatus, Code: f.Code, Subcode: f.Subcode, Type: f.Type,
			Message: f.Message, Details: f.Details, Transient: f.Transient}
		if e.Message == "" {
			e.Message = fmt.Sprintf("(#%d) Simulated error", f.Code)
		}
		s.finish(w, r, call, fail(e), start)
	}
}

// businessOf is the WABA a call is about: the key of Meta's
// X-Business-Use-Case-Usage header.
func (s *Server) businessOf(call Call) string {
	if call.WABAID != "" {
		return call.WABAID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.numbers[call.PhoneNumberID]; n != nil && n.wabaID != "" {
		return n.wabaID
	}
	return call.PhoneNumberID
}

// hold keeps a request unanswered until its client gives up or the Server
// is closed. It holds no lock.
func (s *Server) hold(r *http.Request, call Call, start time.Time) {
	s.log.Warn("fault: holding the request until the client gives up", "endpoint", call.Endpoint,
		"path", call.Path)
	select {
	case <-r.Context().Done():
	case <-s.done:
	}
	s.log.Warn("fault: hung request released", "endpoint", call.Endpoint, "path", call.Path,
		"held", time.Since(start).Round(time.Millisecond))
}

// proxyPage is the body a load balancer in front of the Graph API answers
// with: an HTML page for 502, 503 and 504, plain text otherwise.
func proxyPage(status int) (contentType, body string) {
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "text/html; charset=utf-8", fmt.Sprintf("<!DOCTYPE html>\n<html><head><title>Error</title></head><body><h1>%d %s</h1><p>Sorry, something went wrong.</p></body></html>\n",
			status, http.StatusText(status))
	}
	return "text/plain; charset=utf-8", http.StatusText(status) + "\n"
}

// loseAnswer serves a FaultLostAnswer: the call has been carried out and
// recorded with the answer Meta gave; the client gets none of it.
func (s *Server) loseAnswer(w http.ResponseWriter, r *http.Request, f *Fault, call Call, start time.Time) {
	s.log.Warn("fault: call carried out, answer lost", "endpoint", call.Endpoint, "path", call.Path,
		"answer", f.Answer, "meta_status", call.HTTPStatus, "meta_error_code", call.ErrorCode)
	switch f.Answer {
	case AnswerHang:
		s.hold(r, call, start)
	case AnswerStatus:
		ct, body := proxyPage(http.StatusBadGateway)
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, body)
	default: // AnswerDrop
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
		// HTTP/2 cannot hijack; aborting the handler resets the stream
		// without an answer.
		panic(http.ErrAbortHandler)
	}
}

// finishRaw records and answers a fault whose body is not Meta's envelope.
func (s *Server) finishRaw(w http.ResponseWriter, r *http.Request, call Call, status int, contentType, body string, start time.Time) {
	call.HTTPStatus = status
	s.record(call)
	s.logCall(r.Context(), call, nil, start)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
