package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/validate"
)

// envelope builds a Meta error body the way Graph writes one.
func envelope(code, subcode int, typ, msg, details, trace string) string {
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": trace}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	if details != "" {
		e["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": details}
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return string(b)
}

// metaUsageExample is the X-Business-Use-Case-Usage example of Meta's
// OpenAPI document (components.headers.x-business-use-case-usage).
const metaUsageExample = `{"102290129340398":[{"type":"whatsapp_business_management","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0},{"type":"whatsapp","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}`

func TestDecodeError(t *testing.T) {
	usage := `{"102290129340398":[{"type":"whatsapp","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":5},{"type":"whatsapp","call_count":100,"estimated_time_to_regain_access":62}]}`
	tests := []struct {
		name        string
		status      int
		header      http.Header
		body        string
		class       Class
		code        int
		subcode     int
		details     string
		trace       string
		retryAfter  time.Duration
		hasEnvelope bool
		malformed   bool // Err wraps ErrMalformedResponse
	}{
		{
			name:   "register window exhausted",
			status: 400,
			body: envelope(133016, 0, "OAuthException", "(#133016) Account register deregister rate limit exceeded",
				"Rate limit exceeded. Try again in 72 hours.", "AbCdEf"),
			class: ClassWindowExhausted, code: 133016, details: "Rate limit exceeded. Try again in 72 hours.", trace: "AbCdEf", hasEnvelope: true,
		},
		{
			name:   "133016 wins over 429, a subcode and is_transient",
			status: 429,
			body:   `{"error":{"message":"x","code":133016,"error_subcode":2388001,"is_transient":true,"fbtrace_id":"T1"}}`,
			class:  ClassWindowExhausted, code: 133016, subcode: 2388001, trace: "T1", hasEnvelope: true,
		},
		{
			name:   "133016 as a string on a 503",
			status: 503,
			body:   `{"error":{"message":"x","code":"133016"}}`,
			class:  ClassWindowExhausted, code: 133016, hasEnvelope: true,
		},
		{
			name:   "display name still processing",
			status: 400,
			body: `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2388001,` +
				`"is_transient":false,"error_user_title":"Cannot Create Certificate","error_user_msg":"The display name is being processed.","fbtrace_id":"A1b2"}}`,
			class: ClassNameNotReady, code: 100, subcode: 2388001, trace: "A1b2", hasEnvelope: true,
		},
		{
			name:   "token expired",
			status: 401,
			body: `{"error":{"message":"Error validating access token: Session has expired.","type":"OAuthException",` +
				`"code":190,"error_subcode":463,"fbtrace_id":"Ez"}}`,
			class: ClassPermanent, code: 190, subcode: 463, trace: "Ez", hasEnvelope: true,
		},
		{
			name:   "token invalid code 0",
			status: 401,
			body:   envelope(0, 0, "OAuthException", "(#0) AuthException", "", "z0"),
			class:  ClassPermanent, trace: "z0", hasEnvelope: true,
		},
		{
			name:   "app rate limit with Retry-After",
			status: 429,
			header: http.Header{"Retry-After": {"120"}},
			body:   envelope(4, 0, "OAuthException", "(#4) Application request limit reached", "", "r4"),
			class:  ClassThrottled, code: 4, trace: "r4", retryAfter: 2 * time.Minute, hasEnvelope: true,
		},
		{
			name:   "WABA rate limit with business usage header",
			status: 429,
			header: http.Header{"X-Business-Use-Case-Usage": {usage}},
			body:   envelope(80007, 0, "OAuthException", "(#80007) Rate limit issues", "", "r8"),
			class:  ClassThrottled, code: 80007, trace: "r8", retryAfter: 62 * time.Minute, hasEnvelope: true,
		},
		{
			name:   "the longer of Retry-After and usage wins",
			status: 400,
			header: http.Header{"Retry-After": {"7200"}, "X-Business-Use-Case-Usage": {usage}},
			body:   envelope(130429, 0, "OAuthException", "(#130429) Rate limit hit", "", ""),
			class:  ClassThrottled, code: 130429, retryAfter: 2 * time.Hour, hasEnvelope: true,
		},
		{
			name:   "HTTP 429 with an unknown code",
			status: 429,
			body:   envelope(999999, 0, "OAuthException", "slow down", "", ""),
			class:  ClassThrottled, code: 999999, hasEnvelope: true,
		},
		{
			name:   "service temporarily unavailable",
			status: 500,
			body:   envelope(131000, 0, "OAuthException", "(#131000) Something went wrong", "", "s1"),
			class:  ClassTransient, code: 131000, trace: "s1", hasEnvelope: true,
		},
		{name: "code 1", status: 500, body: envelope(1, 0, "OAuthException", "An unknown error occurred", "", ""), class: ClassTransient, code: 1, hasEnvelope: true},
		{name: "code 2", status: 503, body: envelope(2, 0, "OAuthException", "Service temporarily unavailable", "", ""), class: ClassTransient, code: 2, hasEnvelope: true},
		{name: "133004 server unavailable", status: 503, body: envelope(133004, 0, "OAuthException", "(#133004) Server temporarily unavailable", "", ""), class: ClassTransient, code: 133004, hasEnvelope: true},
		{name: "maintenance mode", status: 400, body: envelope(2494100, 0, "OAuthException", "maintenance", "", ""), class: ClassTransient, code: 2494100, hasEnvelope: true},
		{
			name:   "PIN mismatch",
			status: 400,
			body:   envelope(133005, 0, "OAuthException", "(#133005) Two step verification PIN Mismatch", "Verify the PIN.", "p5"),
			class:  ClassPINMismatch, code: 133005, details: "Verify the PIN.", trace: "p5", hasEnvelope: true,
		},
		{
			name:   "wrong ownership code",
			status: 400,
			body:   envelope(136025, 0, "OAuthException", "(#136025) Verify code error", "Code couldn't be verified.", "c5"),
			class:  ClassWrongCode, code: 136025, details: "Code couldn't be verified.", trace: "c5", hasEnvelope: true,
		},
		{name: "request code failed", status: 400, body: envelope(136024, 0, "OAuthException", "(#136024) Request code error", "", ""), class: ClassPermanent, code: 136024, hasEnvelope: true},
		{name: "needs reverification", status: 400, body: envelope(133006, 0, "OAuthException", "(#133006) Phone number re-verification needed", "", ""), class: ClassNeedsReverification, code: 133006, hasEnvelope: true},
		{name: "recently deleted", status: 400, body: envelope(133015, 0, "OAuthException", "(#133015) Please wait a few minutes", "", ""), class: ClassRecentlyDeleted, code: 133015, hasEnvelope: true},
		{name: "deregistration incomplete", status: 400, body: envelope(133000, 0, "OAuthException", "(#133000) Incomplete deregistration", "", ""), class: ClassDeregistrationIncomplete, code: 133000, hasEnvelope: true},
		{name: "too many PIN guesses", status: 400, body: envelope(133008, 0, "OAuthException", "(#133008) Too many two step verification PIN guesses", "Try again in 1 hour.", ""), class: ClassPINThrottled, code: 133008, details: "Try again in 1 hour.", hasEnvelope: true},
		{name: "PIN guessed too fast", status: 400, body: envelope(133009, 0, "OAuthException", "(#133009) Two step verification PIN guessed too fast", "", ""), class: ClassPINThrottled, code: 133009, hasEnvelope: true},
		{name: "already exists as code", status: 400, body: envelope(2388012, 0, "OAuthException", "Phone number already exists", "", ""), class: ClassAlreadyExists, code: 2388012, hasEnvelope: true},
		{name: "already exists as subcode", status: 400, body: envelope(100, 2388012, "OAuthException", "Invalid parameter", "", ""), class: ClassAlreadyExists, code: 100, subcode: 2388012, hasEnvelope: true},
		{name: "not eligible for a code", status: 400, body: envelope(100, 2388091, "OAuthException", "Invalid parameter", "", ""), class: ClassPermanent, code: 100, subcode: 2388091, hasEnvelope: true},
		{name: "cannot migrate", status: 400, body: envelope(2388103, 0, "OAuthException", "cannot migrate", "", ""), class: ClassPermanent, code: 2388103, hasEnvelope: true},
		{name: "policy block", status: 400, body: envelope(368, 0, "OAuthException", "(#368) Temporarily blocked for policies violations", "", ""), class: ClassPermanent, code: 368, hasEnvelope: true},
		{name: "account locked", status: 400, body: envelope(131031, 0, "OAuthException", "(#131031) Account has been locked", "", ""), class: ClassPermanent, code: 131031, hasEnvelope: true},
		{name: "permission missing", status: 403, body: envelope(200, 0, "OAuthException", "(#200) Permissions error", "", ""), class: ClassPermanent, code: 200, hasEnvelope: true},
		{name: "capability missing", status: 403, body: envelope(10, 0, "OAuthException", "(#10) Application does not have permission", "", ""), class: ClassPermanent, code: 10, hasEnvelope: true},
		{name: "invalid parameter", status: 400, body: envelope(100, 0, "OAuthException", "(#100) Invalid parameter", "", ""), class: ClassPermanent, code: 100, hasEnvelope: true},
		{name: "known permanent code on a 429 stays permanent", status: 429, body: envelope(190, 0, "OAuthException", "Invalid OAuth access token", "", ""), class: ClassPermanent, code: 190, hasEnvelope: true},
		{name: "envelope without code on a 429", status: 429, body: `{"error":{"message":"Too Many Requests"}}`, class: ClassThrottled, hasEnvelope: true},
		{name: "known permanent code on a 503 stays permanent", status: 503, body: envelope(100, 0, "OAuthException", "(#100) Invalid parameter", "", ""), class: ClassPermanent, code: 100, hasEnvelope: true},
		{name: "unknown code on a 503", status: 503, body: envelope(424242, 0, "OAuthException", "?", "", ""), class: ClassTransient, code: 424242, hasEnvelope: true},
		{name: "unknown code on a 400", status: 400, body: envelope(424242, 0, "OAuthException", "?", "", ""), class: ClassPermanent, code: 424242, hasEnvelope: true},
		{name: "unknown code marked transient", status: 400, body: `{"error":{"code":424242,"is_transient":true}}`, class: ClassTransient, code: 424242, hasEnvelope: true},
		{name: "known permanent code marked transient", status: 400, body: `{"error":{"code":190,"is_transient":true}}`, class: ClassPermanent, code: 190, hasEnvelope: true},
		{name: "envelope without code on a 502", status: 502, body: `{"error":{"message":"Bad gateway"}}`, class: ClassTransient, hasEnvelope: true},
		{name: "code and subcode as strings", status: 400, body: `{"error":{"code":"100","error_subcode":"2388001"}}`, class: ClassNameNotReady, code: 100, subcode: 2388001, hasEnvelope: true},
		{name: "fields of the wrong type are skipped", status: 400, body: `{"error":{"code":133005,"message":5,"error_data":"x","fbtrace_id":["a"]}}`, class: ClassPINMismatch, code: 133005, hasEnvelope: true},
		{name: "HTML from a proxy", status: 502, body: "<html><body><h1>502 Bad Gateway</h1></body></html>", class: ClassTransient, malformed: true},
		{name: "HTML on a 404", status: 404, body: "<!DOCTYPE html><html>Not Found</html>", class: ClassTransient, malformed: true},
		{name: "empty body", status: 500, body: "", class: ClassTransient, malformed: true},
		{name: "empty body on a 400", status: 400, body: "  \n", class: ClassTransient, malformed: true},
		{name: "truncated JSON", status: 400, body: `{"error":{"message":"(#133016) Account register`, class: ClassTransient, malformed: true},
		{name: "error as a string", status: 400, body: `{"error":"string"}`, class: ClassPermanent},
		{name: "error as a string on a 500", status: 500, body: `{"error":"string"}`, class: ClassTransient},
		{name: "error null", status: 400, body: `{"error":null}`, class: ClassPermanent},
		{name: "no envelope on a 429", status: 429, header: http.Header{"Retry-After": {"30"}}, body: "Too Many Requests", class: ClassThrottled, retryAfter: 30 * time.Second, malformed: true},
		{name: "JSON array", status: 400, body: `[1,2]`, class: ClassTransient, malformed: true},
		{name: "absurd Retry-After is capped", status: 429, header: http.Header{"Retry-After": {"99999999999999"}}, body: envelope(4, 0, "", "", "", ""), class: ClassThrottled, code: 4, retryAfter: maxRetryAfter, hasEnvelope: true},
		{name: "negative Retry-After is ignored", status: 429, header: http.Header{"Retry-After": {"-5"}}, body: envelope(4, 0, "", "", "", ""), class: ClassThrottled, code: 4, hasEnvelope: true},
		{
			name:   "business use case limit 80008 with usage over two businesses",
			status: 400,
			header: http.Header{"X-Business-Use-Case-Usage": {`{"1":[{"type":"whatsapp_business_management","estimated_time_to_regain_access":3}],"2":[{"type":"whatsapp","estimated_time_to_regain_access":"45"}]}`}},
			body:   envelope(80008, 0, "OAuthException", "(#80008) There have been too many calls to this WhatsApp Business account.", "", ""),
			class:  ClassThrottled, code: 80008, retryAfter: 45 * time.Minute, hasEnvelope: true,
		},
		{name: "Meta's documented idle usage header asks no wait", status: 429, header: http.Header{"X-Business-Use-Case-Usage": {metaUsageExample}}, body: envelope(80007, 0, "", "", "", ""), class: ClassThrottled, code: 80007, hasEnvelope: true},
		{name: "Retry-After as an HTTP date", status: 429, header: http.Header{"Retry-After": {"Sun, 01 Mar 2026 09:10:00 GMT"}}, body: envelope(4, 0, "", "", "", ""), class: ClassThrottled, code: 4, retryAfter: 10 * time.Minute, hasEnvelope: true},
		{name: "Retry-After as a past HTTP date", status: 429, header: http.Header{"Retry-After": {"Sun, 01 Mar 2026 08:00:00 GMT"}}, body: envelope(4, 0, "", "", "", ""), class: ClassThrottled, code: 4, hasEnvelope: true},
		{name: "503 page with Retry-After", status: 503, header: http.Header{"Retry-After": {"30"}}, body: "<html>503 Service Unavailable</html>", class: ClassTransient, retryAfter: 30 * time.Second, malformed: true},
		{name: "503 code 2 with Retry-After", status: 503, header: http.Header{"Retry-After": {"20"}}, body: envelope(2, 0, "", "Service temporarily unavailable", "", ""), class: ClassTransient, code: 2, retryAfter: 20 * time.Second, hasEnvelope: true},
		{name: "no wait on a 500", status: 500, header: http.Header{"Retry-After": {"20"}}, body: envelope(1, 0, "", "", "", ""), class: ClassTransient, code: 1, hasEnvelope: true},
		{name: "no wait on a refusal that carries a usage header", status: 400, header: http.Header{"X-Business-Use-Case-Usage": {usage}}, body: envelope(136025, 0, "", "", "", ""), class: ClassWrongCode, code: 136025, hasEnvelope: true},
		{name: "no wait on 133016 even on a 429", status: 429, header: http.Header{"Retry-After": {"60"}}, body: envelope(133016, 0, "", "", "", ""), class: ClassWindowExhausted, code: 133016, hasEnvelope: true},
		{name: "garbage usage header is ignored", status: 429, header: http.Header{"X-Business-Use-Case-Usage": {`{"1":"x"}`}}, body: envelope(80007, 0, "", "", "", ""), class: ClassThrottled, code: 80007, hasEnvelope: true},
	}
	defer func(f func() time.Time) { timeNow = f }(timeNow)
	timeNow = func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := DecodeError("register", tt.status, tt.header, []byte(tt.body))
			require.NotNil(t, e)
			require.Equal(t, tt.class, e.Class(), "class %s, want %s", e.Class(), tt.class)
			require.Equal(t, tt.class, Classify(fmt.Errorf("activity: %w", e)), "through a wrapper")
			require.Equal(t, tt.code, e.Code)
			require.Equal(t, tt.subcode, e.Subcode)
			require.Equal(t, tt.details, e.Details)
			require.Equal(t, tt.trace, e.FBTraceID)
			require.Equal(t, tt.retryAfter, e.RetryAfter)
			require.Equal(t, tt.hasEnvelope, e.HasEnvelope)
			require.Equal(t, tt.status, e.HTTPStatus)
			require.Equal(t, "register", e.Op)
			require.True(t, strings.HasPrefix(e.Error(), "graph register:"), e.Error())
			if tt.trace != "" {
				require.Contains(t, e.Error(), "[fbtrace_id="+tt.trace+"]")
			}
			require.Equal(t, tt.malformed, errors.Is(e, ErrMalformedResponse))
		})
	}
}

func TestDecodeErrorFields(t *testing.T) {
	body := `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"error_subcode":2388001,` +
		`"error_data":{"messaging_product":"whatsapp","details":"Display name not approved"},` +
		`"error_user_title":"Cannot Create Certificate","error_user_msg":"Try later","is_transient":"true","fbtrace_id":"AbC"}}`
	e := DecodeError("register", 400, nil, []byte(body))
	require.Equal(t, &Error{
		HTTPStatus: 400, Code: 100, Subcode: 2388001, Type: "OAuthException", Message: "(#100) Invalid parameter",
		Details: "Display name not approved", UserTitle: "Cannot Create Certificate", UserMessage: "Try later",
		FBTraceID: "AbC", IsTransient: true, HasEnvelope: true, Op: "register",
	}, e)
	require.Equal(t, "graph register: code 100 subcode 2388001 (OAuthException) HTTP 400: (#100) Invalid parameter: Display name not approved [fbtrace_id=AbC]", e.Error())
}

func TestClassify(t *testing.T) {
	require.Equal(t, ClassUnknown, Classify(nil))
	require.Equal(t, ClassUnknown, Classify(errors.New("boom")))
	require.Equal(t, ClassUnknown, Classify(&validate.Error{Field: "pin", Rule: "bad"}))
	require.Equal(t, ClassTransient, Classify(context.DeadlineExceeded))
	require.Equal(t, ClassTransient, Classify(fmt.Errorf("dial: %w", context.DeadlineExceeded)))
	require.Equal(t, ClassTransient, Classify(&netErr{}))
	require.Equal(t, ClassUnknown, Classify((*Error)(nil)))
	require.Equal(t, ClassPermanent, Classify(&Error{Op: "register", Err: &validate.Error{Field: "pin", Rule: "bad"}}))
	require.Equal(t, ClassPermanent, Classify(&Error{Op: "register", HTTPStatus: 200, Err: ErrNoSuccess}))
	require.Equal(t, ClassTransient, Classify(&Error{Op: "register", Err: context.Canceled}))

	we := &Error{HasEnvelope: true, Code: 133016}
	require.True(t, IsWindowExhausted(we))
	require.False(t, IsTransient(we))
	require.False(t, IsPermanent(we))
	require.True(t, IsThrottled(&Error{HasEnvelope: true, Code: 80007}))
	require.True(t, IsTransient(&Error{HasEnvelope: true, Code: 131000}))
	require.True(t, IsWrongCode(&Error{HasEnvelope: true, Code: 136025}))
	require.True(t, IsPINMismatch(&Error{HasEnvelope: true, Code: 133005}))
	require.True(t, IsNameNotReady(&Error{HasEnvelope: true, Code: 100, Subcode: 2388001}))
	require.True(t, IsNeedsReverification(&Error{HasEnvelope: true, Code: 133006}))
	require.True(t, IsRecentlyDeleted(&Error{HasEnvelope: true, Code: 133015}))
	require.True(t, IsAlreadyExists(&Error{HasEnvelope: true, Code: 2388012}))
	require.True(t, IsPermanent(&Error{HasEnvelope: true, Code: 368}))
	require.False(t, IsPermanent(nil))
}

type netErr struct{}

func (*netErr) Error() string   { return "net: i/o timeout" }
func (*netErr) Timeout() bool   { return true }
func (*netErr) Temporary() bool { return true }

// TestClassString pins the class names. They are a wire contract, not an
// implementation detail: activities use them as Temporal application-error
// types, so they are recorded in workflow histories and matched by
// workflows. Renaming one breaks workflows already running, so the names are
// written out here on purpose rather than derived from classNames.
func TestClassString(t *testing.T) {
	pinned := map[Class]string{
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
	for c, s := range pinned {
		require.Equal(t, s, c.String())
	}
	// Properties the pin alone does not give: every class up to the
	// catch-all has a name of its own, distinct from the out-of-range
	// "unknown", and a new name cannot ship without being pinned above.
	seen := map[string]Class{}
	for c := ClassUnknown; c <= ClassPermanent; c++ {
		name := c.String()
		require.Regexp(t, `^[a-z]+(_[a-z]+)*$`, name, "class %d", int(c))
		prev, dup := seen[name]
		require.False(t, dup, "classes %d and %d share the name %q", int(prev), int(c), name)
		seen[name] = c
	}
	require.Len(t, classNames, int(ClassPermanent)+1, "ClassPermanent must stay the last class")
	require.Len(t, pinned, len(classNames), "every class name must be pinned")
	require.Equal(t, "unknown", Class(-1).String())
	require.Equal(t, "unknown", Class(len(classNames)).String())
}

const plantedToken = "EAAJBplantedSECRETtoken123"

func FuzzDecodeError(f *testing.F) {
	seeds := []struct {
		status int
		retry  string
		usage  string
		body   string
	}{
		{400, "", "", envelope(133016, 0, "OAuthException", "(#133016) rate limit", "Try again in 72 hours", "AbCdEf")},
		{429, "60", "", `{"error":{"code":"133016","error_subcode":2388001,"is_transient":true}}`},
		{503, "", "", `{"error":{"code":133016.0}}`},
		{400, "", "", `{"error":{"code":1.33016e5}}`},
		{400, "", "", `{"error":{"code":133016,"code":100}}`},
		{400, "", "", `{"error":{"code":100,"code":133016}}`},
		{400, "", "", envelope(100, 2388001, "OAuthException", "Invalid parameter", "", "x")},
		{401, "", "", envelope(190, 463, "OAuthException", "Session has expired", "", "y")},
		{429, "", `{"1":[{"type":"whatsapp","call_count":100,"estimated_time_to_regain_access":62}]}`, envelope(80007, 0, "OAuthException", "Rate limit", "", "")},
		{429, "Wed, 21 Oct 2015 07:28:00 GMT", "", envelope(4, 0, "OAuthException", "Application request limit", "", "")},
		{500, "", "", envelope(131000, 0, "OAuthException", "Something went wrong", "", "")},
		{400, "", "", envelope(2388012, 0, "", "exists", "", "")},
		{400, "", "", `{"error":{"code":100,"error_subcode":"2388012"}}`},
		{502, "", "", "<html><body>Bad Gateway</body></html>"},
		{500, "", "", ""},
		{400, "", "", `{"error":{"message":"(#133016) trunc`},
		{400, "", "", `{"error":"string"}`},
		{400, "", "", `{"error":null}`},
		{400, "", "", `{"error":[]}`},
		{400, "", "", `null`},
		{400, "", "", `[{"error":{"code":133016}}]`},
		{400, "", "", `{"error":{"code":9223372036854775808,"error_subcode":-1e400}}`},
		{400, "", "", `{"error":{"code":"NaN","error_data":{"details":null}}}`},
		{400, "-1", `{"1":[{"estimated_time_to_regain_access":"1e308"}]}`, `{"error":{"code":4}}`},
		{400, "1e9", `{"1":[{"estimated_time_to_regain_access":-5}],"2":null}`, `{"error":{"code":4}}`},
		{400, plantedToken, `{"` + plantedToken + `":[{"type":"` + plantedToken + `"}]}`, `{"error":{"code":100}}`},
		{400, "", "", "{\"error\":{\"message\":\"\xff\xfe\",\"code\":133016}}"},
		{0, "", "", `{}`},
		{-1, "", "", `{"error":{}}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.retry, s.usage, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, retry, usage string, body []byte) {
		h := http.Header{}
		h.Set("Retry-After", retry)
		h.Set("X-Business-Use-Case-Usage", usage)
		h.Set("X-Echo", plantedToken)
		e := DecodeError("register", status, h, body)
		require.NotNil(t, e)
		_ = e.Class().String()
		msg := e.Error()
		_ = fmt.Sprintf("%v %+v", e, e)
		require.GreaterOrEqual(t, e.RetryAfter, time.Duration(0))
		require.LessOrEqual(t, e.RetryAfter, maxRetryAfter)
		if !strings.Contains(string(body), plantedToken) {
			require.NotContains(t, msg, plantedToken, "Error() echoed a header")
		}

		var top map[string]any
		if json.Unmarshal(body, &top) != nil {
			return
		}
		env, ok := top["error"].(map[string]any)
		if !ok {
			require.False(t, e.HasEnvelope)
			return
		}
		require.True(t, e.HasEnvelope)
		if code := env["code"]; code == float64(133016) || code == "133016" {
			require.Equal(t, ClassWindowExhausted, e.Class(), "body %q", body)
			require.True(t, IsWindowExhausted(fmt.Errorf("wrapped: %w", e)))
		}
	})
}

// BenchmarkDecodeError compares decoding and classifying an envelope with a
// bare json.Unmarshal of the same body into a map, the least any decoder does.
func BenchmarkDecodeError(b *testing.B) {
	body := []byte(envelope(133016, 0, "OAuthException", "(#133016) Account register deregister rate limit exceeded",
		"Rate limit exceeded. Try again in 72 hours.", "AbCdEf"))
	h := http.Header{"Retry-After": {"3600"}}
	b.Run("baseline-json-unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-and-classify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if DecodeError("register", 400, h, body).Class() != ClassWindowExhausted {
				b.Fatal("wrong class")
			}
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	err := fmt.Errorf("activity register: %w", &Error{HasEnvelope: true, HTTPStatus: 400, Code: 100, Subcode: 2388001})
	b.ReportAllocs()
	for b.Loop() {
		if Classify(err) != ClassNameNotReady {
			b.Fatal("wrong class")
		}
	}
}
