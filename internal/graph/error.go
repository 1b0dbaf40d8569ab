package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wa-onboarding/onboarding/internal/validate"
)

// Class is what a caller should do about a failed Graph call. The workflow
// decides on a Class, never on an error's message text.
type Class int

// Error classes, from the most specific to the catch-all.
const (
	ClassUnknown                  Class = iota // not a Graph error at all
	ClassWindowExhausted                       // 133016: 10 register or deregister calls per 72 h spent
	ClassThrottled                             // 4, 80007, 80008, 130429, HTTP 429: app or WABA call-rate limit
	ClassTransient                             // 1, 2, 131000, 133004, 2494100, 5xx, transport errors, bad bodies
	ClassWrongCode                             // 136025: wrong or expired ownership code
	ClassPINMismatch                           // 133005: two-step PIN does not match
	ClassNameNotReady                          // 100 with subcode 2388001: display name still processing
	ClassNeedsReverification                   // 133006: ownership must be verified again
	ClassRecentlyDeleted                       // 133015: number deleted minutes ago
	ClassAlreadyExists                         // 2388012 (code or subcode): number already on a WABA
	ClassDeregistrationIncomplete              // 133000: deregister again, then register
	ClassPINThrottled                          // 133008, 133009: too many PIN guesses / too fast
	ClassPermanent                             // everything else: 0, 190, 3, 10, 200-299, 100, 131031, 368, ...
)

// Error is a failed Graph API call: Meta's error envelope, or a transport
// failure or unreadable answer wrapped in the same shape. Its Error string
// never contains the access token or a PIN.
type Error struct {
	HTTPStatus  int    // 0 for transport errors
	Code        int    // error.code; 0 when the answer had no envelope
	Subcode     int    // error.error_subcode (deprecated by Meta, still seen)
	Type        string // error.type, e.g. OAuthException
	Message     string // error.message
	Details     string // error.error_data.details
	UserTitle   string // error.error_user_title
	UserMessage string // error.error_user_msg
	FBTraceID   string // error.fbtrace_id
	IsTransient bool   // error.is_transient
	HasEnvelope bool   // the answer carried a decodable {"error":{...}} object
	// RetryAfter is the wait Meta asked for on a throttle (ClassThrottled)
	// or a transient 503: the longer of Retry-After (seconds or an HTTP
	// date) and the largest estimated_time_to_regain_access (minutes) in
	// X-Business-Use-Case-Usage. It is 0 when Meta named no wait, and on
	// every other error, where a usage header says nothing about retrying.
	RetryAfter time.Duration
	Op         string // the call that failed, e.g. "register"
	Err        error  // underlying transport or decoding error, if any
}

// Sentinel causes carried in Error.Err. Test for them with errors.Is.
var (
	// ErrMalformedResponse means Meta (or something in front of it) answered
	// with a body this package could not read: empty, not JSON, truncated,
	// too large or of the wrong shape. The call may well have happened.
	ErrMalformedResponse = errors.New("malformed response body")

	// ErrNoSuccess means a 2xx answer to a POST did not say
	// {"success":true}. Meta gives no reason, so retrying would not help.
	ErrNoSuccess = errors.New(`answer did not say "success":true`)

	// ErrCursorLoop means list paging handed back a cursor it had already
	// given, which would otherwise page forever.
	ErrCursorLoop = errors.New("paging cursor repeated")
)

// maxRetryAfter bounds server-supplied waits so that a hostile or broken
// header cannot overflow a time.Duration or park a caller for years.
const maxRetryAfter = 30 * 24 * time.Hour

// Error returns a one-line description naming the call, Meta's code, subcode,
// type, HTTP status, message, details and trace id. It never contains the
// access token or a PIN: the client redacts both before an Error escapes it.
func (e *Error) Error() string {
	if e == nil {
		return "graph: <nil>"
	}
	var b strings.Builder
	b.WriteString("graph")
	if e.Op != "" {
		b.WriteString(" ")
		b.WriteString(e.Op)
	}
	if e.HasEnvelope || e.HTTPStatus != 0 {
		b.WriteString(":")
	}
	if e.HasEnvelope {
		b.WriteString(" code ")
		b.WriteString(strconv.Itoa(e.Code))
		if e.Subcode != 0 {
			b.WriteString(" subcode ")
			b.WriteString(strconv.Itoa(e.Subcode))
		}
		if e.Type != "" {
			b.WriteString(" (")
			b.WriteString(e.Type)
			b.WriteString(")")
		}
	}
	if e.HTTPStatus != 0 {
		b.WriteString(" HTTP ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
	}
	b.WriteString(":")
	switch {
	case e.HasEnvelope:
		msg := e.Message
		if msg == "" {
			msg = "no message"
		}
		b.WriteString(" ")
		b.WriteString(msg)
		if e.Details != "" && e.Details != e.Message {
			b.WriteString(": ")
			b.WriteString(e.Details)
		}
	case e.Err != nil:
		b.WriteString(" ")
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(" answer without an error envelope")
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteString(")")
	}
	if e.FBTraceID != "" {
		b.WriteString(" [fbtrace_id=")
		b.WriteString(e.FBTraceID)
		b.WriteString("]")
	}
	return b.String()
}

// Unwrap returns the transport or decoding error behind e, if any, so that
// errors.Is(err, context.DeadlineExceeded) works through an *Error.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// permanentCode reports the codes Meta documents as needing a person or a
// new input. They matter only where a 429, a 503 or is_transient would
// otherwise make a code retryable: a documented code keeps its meaning.
func permanentCode(code int) bool {
	switch code {
	case 0, 3, 10, 100, 190, 131009, 131031, 368, 133010, 136024,
		2388091, 2388093, 2388103:
		return true
	}
	return code >= 200 && code <= 299
}

// Class reports what the caller should do about e. It looks only at the
// code, subcode, HTTP status, is_transient and the kind of cause, never at
// message text, which Meta localises and rewords.
func (e *Error) Class() Class {
	if e == nil {
		return ClassUnknown
	}
	if !e.HasEnvelope {
		var verr *validate.Error
		switch {
		case errors.As(e.Err, &verr), errors.Is(e.Err, ErrNoSuccess):
			return ClassPermanent
		case e.HTTPStatus == http.StatusTooManyRequests:
			return ClassThrottled
		case e.Err != nil, e.HTTPStatus == 0, e.HTTPStatus >= 500:
			return ClassTransient
		}
		// Well-formed JSON without an envelope on a 4xx, such as
		// {"error":"string"}: nothing says waiting would change the answer.
		return ClassPermanent
	}
	// 133016 comes first and wins over everything: any retry of register or
	// deregister in the 72-hour window extends the block.
	switch e.Code {
	case 133016:
		return ClassWindowExhausted
	case 4, 80007, 80008, 130429:
		return ClassThrottled
	case 136025:
		return ClassWrongCode
	case 133005:
		return ClassPINMismatch
	case 133006:
		return ClassNeedsReverification
	case 133015:
		return ClassRecentlyDeleted
	case 2388012:
		return ClassAlreadyExists
	case 133000:
		return ClassDeregistrationIncomplete
	case 133008, 133009:
		return ClassPINThrottled
	case 1, 2, 131000, 133004, 2494100:
		return ClassTransient
	}
	switch {
	case e.Code == 100 && e.Subcode == 2388001:
		return ClassNameNotReady
	case e.Subcode == 2388012:
		return ClassAlreadyExists
	// Code 0 is the token error when it comes with a 401; on a 429 or a 5xx
	// it only means the envelope named no code, as gateways in front of
	// Graph do.
	case e.Code == 0 && e.HTTPStatus == http.StatusTooManyRequests:
		return ClassThrottled
	case e.Code == 0 && e.HTTPStatus >= 500:
		return ClassTransient
	case permanentCode(e.Code):
		return ClassPermanent
	case e.HTTPStatus == http.StatusTooManyRequests:
		return ClassThrottled
	case e.HTTPStatus == http.StatusServiceUnavailable, e.IsTransient:
		return ClassTransient
	}
	return ClassPermanent
}

// Classify returns the Class of err: that of the first *Error in its chain,
// ClassTransient for a bare context.DeadlineExceeded or net.Error, and
// ClassUnknown for nil and for anything else.
func Classify(err error) Class {
	if err == nil {
		return ClassUnknown
	}
	var ge *Error
	if errors.As(err, &ge) {
		return ge.Class()
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) {
		return ClassTransient
	}
	return ClassUnknown
}

// IsWindowExhausted reports whether err is Meta's 133016: the 10 register or
// deregister calls allowed per number in 72 hours are spent.
func IsWindowExhausted(err error) bool { return Classify(err) == ClassWindowExhausted }

// IsThrottled reports whether err is a call-rate limit (4, 80007, 80008,
// 130429, HTTP 429). See Error.RetryAfter for how long Meta asked to wait.
func IsThrottled(err error) bool { return Classify(err) == ClassThrottled }

// IsTransient reports whether err is worth a bounded retry with backoff. It
// is false for throttling, which has its own class.
func IsTransient(err error) bool { return Classify(err) == ClassTransient }

// IsWrongCode reports whether err is 136025: a wrong or expired ownership code.
func IsWrongCode(err error) bool { return Classify(err) == ClassWrongCode }

// IsPINMismatch reports whether err is 133005: the two-step PIN is wrong.
func IsPINMismatch(err error) bool { return Classify(err) == ClassPINMismatch }

// IsNameNotReady reports whether err is code 100 subcode 2388001: the display
// name is still being processed.
func IsNameNotReady(err error) bool { return Classify(err) == ClassNameNotReady }

// IsNeedsReverification reports whether err is 133006: ownership must be
// verified again.
func IsNeedsReverification(err error) bool { return Classify(err) == ClassNeedsReverification }

// IsRecentlyDeleted reports whether err is 133015: the number was deleted
// minutes ago.
func IsRecentlyDeleted(err error) bool { return Classify(err) == ClassRecentlyDeleted }

// IsAlreadyExists reports whether err is 2388012, as code or subcode: the
// number is already on a WABA.
func IsAlreadyExists(err error) bool { return Classify(err) == ClassAlreadyExists }

// IsPermanent reports whether err needs a person or a different input.
func IsPermanent(err error) bool { return Classify(err) == ClassPermanent }

var classNames = [...]string{
	ClassUnknown:                  "unknown",
	ClassWindowExhausted:          "window_exhausted",
	ClassThrottled:                "throttled",
	ClassTransient:                "transient",
	ClassWrongCode:                "wrong_code",
	ClassPINMismatch:              "pin_mismatch",
	ClassNameNotReady:             "name_not_ready",
	ClassNeedsReverification:      "needs_reverification",
	ClassRecentlyDeleted:          "recently_deleted",
	ClassAlreadyExists:            "already_exists",
	ClassDeregistrationIncomplete: "deregistration_incomplete",
	ClassPINThrottled:             "pin_throttled",
	ClassPermanent:                "permanent",
}

// String returns the class's stable snake_case name. Activities use it as
// the Temporal application-error type, so the names never change; values
// outside the enum read "unknown".
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return "unknown"
	}
	return classNames[c]
}

// DecodeError turns a non-2xx Graph answer into an *Error. It reads Meta's
// envelope leniently (code and subcode as numbers or strings, fields of the
// wrong type skipped), takes RetryAfter from the Retry-After and
// X-Business-Use-Case-Usage headers on throttles and transient 503s, and
// never panics: a body it cannot read yields an *Error without envelope
// whose Err wraps ErrMalformedResponse. header may be nil.
func DecodeError(op string, status int, header http.Header, body []byte) *Error {
	e := decodeBody(op, status, body)
	e.hint(header)
	return e
}

func decodeBody(op string, status int, body []byte) *Error {
	e := &Error{Op: op, HTTPStatus: status}
	if len(bytes.TrimSpace(body)) == 0 {
		e.Err = fmt.Errorf("%w: empty", ErrMalformedResponse)
		return e
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		e.Err = fmt.Errorf("%w: %w", ErrMalformedResponse, err)
		return e
	}
	var env map[string]json.RawMessage
	if raw, ok := top["error"]; !ok || json.Unmarshal(raw, &env) != nil || env == nil {
		return e
	}
	e.HasEnvelope = true
	e.Code = flexInt(env["code"])
	e.Subcode = flexInt(env["error_subcode"])
	e.Type = flexString(env["type"])
	e.Message = flexString(env["message"])
	e.UserTitle = flexString(env["error_user_title"])
	e.UserMessage = flexString(env["error_user_msg"])
	e.FBTraceID = flexString(env["fbtrace_id"])
	e.IsTransient = flexBool(env["is_transient"])
	var data map[string]json.RawMessage
	if json.Unmarshal(env["error_data"], &data) == nil {
		e.Details = flexString(data["details"])
	}
	return e
}

// flexInt reads a JSON number or a string holding one; anything else,
// fractional or beyond float64's exact integers, is 0.
func flexInt(raw json.RawMessage) int {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return 0
	}
	var f float64
	switch t := v.(type) {
	case float64:
		f = t
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(t), 64); err != nil {
			return 0
		}
	default:
		return 0
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0
	}
	return int(f)
}

func flexString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func flexBool(raw json.RawMessage) bool {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch t := v.(type) {
	case bool:
		return t
	case string:
		b, _ := strconv.ParseBool(strings.TrimSpace(t))
		return b
	}
	return false
}

// hint sets RetryAfter from the headers when e is a throttle or a transient
// 503, the answers on which Meta's wait means "come back then".
func (e *Error) hint(h http.Header) {
	switch c := e.Class(); {
	case c == ClassThrottled, c == ClassTransient && e.HTTPStatus == http.StatusServiceUnavailable:
		e.RetryAfter = retryAfter(h)
	}
}

// timeNow is time.Now, replaced in tests of HTTP-date Retry-After.
var timeNow = time.Now

// retryAfter returns the longest wait the headers ask for: Retry-After in
// seconds or as an HTTP date, and the largest estimated_time_to_regain_access
// (minutes) in X-Business-Use-Case-Usage.
func retryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	var d time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
			d = clampWait(float64(secs), time.Second)
		} else if t, err := http.ParseTime(v); err == nil {
			d = clampWait(float64(t.Sub(timeNow())), 1)
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var usage map[string][]map[string]any
		if json.Unmarshal([]byte(v), &usage) == nil {
			for _, entries := range usage {
				for _, u := range entries {
					var mins float64
					switch t := u["estimated_time_to_regain_access"].(type) {
					case float64:
						mins = t
					case string:
						mins, _ = strconv.ParseFloat(strings.TrimSpace(t), 64)
					}
					d = max(d, clampWait(mins, time.Minute))
				}
			}
		}
	}
	return d
}

// clampWait converts n units to a Duration within [0, maxRetryAfter],
// treating NaN and negatives as no wait.
func clampWait(n float64, unit time.Duration) time.Duration {
	if !(n > 0) {
		return 0
	}
	if n >= float64(maxRetryAfter/unit) {
		return maxRetryAfter
	}
	return time.Duration(n * float64(unit))
}
