// Package graph is a typed client for the part of Meta's Graph API that
// onboards WhatsApp Business phone numbers: add a number to a WABA, list and
// read numbers, request and verify the ownership code, register, deregister
// and set the two-step PIN.
//
// Every failure is an *Error whose Class says what to do about it; callers
// decide on the Class (see Classify and the Is* predicates), never on message
// text. OutcomeUnknown says whether Meta may have carried out a failed call
// (its answer lost), so that a caller checks before repeating a write.
// Inputs are checked with package validate before any I/O, and no error
// produced here contains the access token or a PIN.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wa-onboarding/onboarding/internal/validate"
)

// DefaultUserAgent is the User-Agent a Client sends unless WithUserAgent
// says otherwise.
const DefaultUserAgent = "wa-onboarding/1.0 (+https://github.com/wa-onboarding/onboarding)"

// DefaultTimeout bounds each request of a Client built without
// WithHTTPClient, so that a silent peer cannot hang a caller that forgot a
// context deadline.
const DefaultTimeout = 30 * time.Second

// MaxBodyBytes caps how much of an answer a Client reads. Graph answers for
// these calls are a few kilobytes; anything larger is not Graph.
const MaxBodyBytes = 1 << 20

// Operation names, as found in Error.Op.
const (
	OpAddPhoneNumber   = "add_phone_number"
	OpListPhoneNumbers = "list_phone_numbers"
	OpGetPhoneNumber   = "get_phone_number"
	OpRequestCode      = "request_code"
	OpVerifyCode       = "verify_code"
	OpRegister         = "register"
	OpDeregister       = "deregister"
	OpSetTwoStepPIN    = "set_two_step_pin"
	OpGetSettings      = "get_settings"
)

// maxPages stops AllPhoneNumbers on a server that keeps inventing fresh
// cursors; no WABA holds anywhere near this many pages of numbers.
const maxPages = 1000

// redacted replaces a secret found in text that Meta or the transport handed
// back.
const redacted = "[REDACTED]"

// MaxIdleConns is how many idle connections to the Graph API a Client
// built without WithHTTPClient keeps for reuse. A worker runs many Graph
// calls at once, all to one host; net/http's default keeps 2 per host, so
// every burst beyond 2 calls closed its connections and the next burst
// opened new ones, each with a TCP and TLS handshake (milliseconds of CPU
// and a round trip to Meta apiece).
const MaxIdleConns = 128

// NewTransport is net/http's default transport with room for MaxIdleConns
// idle connections to the one host a Client calls. Other clients that call
// one host often (the benchmark's floor) use it too.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = MaxIdleConns
	t.MaxIdleConnsPerHost = MaxIdleConns
	return t
}

// A Client calls the Graph API with one access token. It is safe for
// concurrent use by multiple goroutines.
type Client struct {
	token     string
	baseURL   string
	hc        *http.Client
	userAgent string
	observe   func(CallInfo) // see WithCallObserver
}

// An Option configures a Client built by New.
type Option func(*Client)

// WithBaseURL sets the Graph API root, version included, e.g.
// "https://graph.facebook.com/v21.0" or a test server's URL. A trailing slash
// is ignored.
func WithBaseURL(u string) Option {
	return func(c *Client) { c.baseURL = strings.TrimRight(strings.TrimSpace(u), "/") }
}

// WithHTTPClient sets the HTTP client used for every call. A nil h keeps the
// default, which has a DefaultTimeout.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.hc = h
		}
	}
}

// WithUserAgent sets the User-Agent header. An empty ua keeps
// DefaultUserAgent.
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua != "" {
			c.userAgent = ua
		}
	}
}

// New returns a Client that authenticates with token. It fails if token is
// empty or holds characters that cannot go in a header, and if the base URL
// is not an absolute http or https URL. Its errors never echo the token.
func New(token string, opts ...Option) (*Client, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("graph: access token is required")
	}
	for i := 0; i < len(token); i++ {
		// net/http would refuse such a header at call time, possibly in an
		// error that quotes it; refuse it here, without quoting it.
		if token[i] <= ' ' || token[i] >= 0x7f {
			return nil, errors.New("graph: access token contains whitespace, control or non-ASCII characters")
		}
	}
	c := &Client{
		token:     token,
		baseURL:   DefaultBaseURL,
		hc:        &http.Client{Timeout: DefaultTimeout, Transport: NewTransport()},
		userAgent: DefaultUserAgent,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	u, err := url.Parse(c.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("graph: base URL %q must be an absolute http or https URL", c.baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		// Credentials or a query in the base URL would end up in every
		// error message that quotes a request URL.
		return nil, fmt.Errorf("graph: base URL must not carry credentials, a query or a fragment")
	}
	return c, nil
}

// BaseURL returns the Graph API root the Client calls, without a trailing
// slash.
func (c *Client) BaseURL() string { return c.baseURL }

// String describes c without its token, so a Client can be logged.
func (c *Client) String() string { return "graph.Client{baseURL: " + c.baseURL + "}" }

// GoString keeps the token out of %#v.
func (c *Client) GoString() string { return c.String() }

// AddPhoneNumber adds a number to the WABA req.WABAID and returns the new
// phone number id. migrate_phone_number is sent only when true and
// preverified_id only when set.
func (c *Client) AddPhoneNumber(ctx context.Context, req AddPhoneNumberRequest) (id string, err error) {
	const op = OpAddPhoneNumber
	if err := firstErr(
		validate.ID("waba_id", req.WABAID),
		validate.CountryCode("cc", req.CC),
		validate.PhoneNumber("phone_number", req.CC, req.PhoneNumber),
		validate.DisplayName("verified_name", req.VerifiedName),
		optionalID("preverified_id", req.PreverifiedID),
	); err != nil {
		return "", invalid(op, err)
	}
	form := url.Values{
		"cc":            {req.CC},
		"phone_number":  {req.PhoneNumber},
		"verified_name": {req.VerifiedName},
	}
	if req.MigratePhoneNumber {
		form.Set("migrate_phone_number", "true")
	}
	if req.PreverifiedID != "" {
		form.Set("preverified_id", req.PreverifiedID)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, op, http.MethodPost, pathOf(req.WABAID, "phone_numbers"), nil, formBody(form), &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", &Error{Op: op, HTTPStatus: http.StatusOK, Err: fmt.Errorf("%w: no id", ErrMalformedResponse)}
	}
	return out.ID, nil
}

// ListPhoneNumbers reads one page of the numbers of WABA wabaID. Pass the
// previous page's Paging.Cursors.After in opts.After to read the next.
func (c *Client) ListPhoneNumbers(ctx context.Context, wabaID string, opts ListOptions) (*PhoneNumberPage, error) {
	const op = OpListPhoneNumbers
	if err := validate.ID("waba_id", wabaID); err != nil {
		return nil, invalid(op, err)
	}
	if opts.Limit < 0 {
		return nil, invalid(op, &validate.Error{Field: "limit", Rule: "must not be negative"})
	}
	q := url.Values{"fields": {fieldList(opts.Fields)}}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.After != "" {
		q.Set("after", opts.After)
	}
	page := new(PhoneNumberPage)
	if err := c.call(ctx, op, http.MethodGet, pathOf(wabaID, "phone_numbers"), q, nil, page); err != nil {
		return nil, err
	}
	return page, nil
}

// AllPhoneNumbers reads every number of WABA wabaID, following the paging
// cursors while Meta announces a next page. It fails with ErrCursorLoop
// rather than loop if a cursor comes back twice.
func (c *Client) AllPhoneNumbers(ctx context.Context, wabaID string, fields ...string) ([]PhoneNumber, error) {
	var all []PhoneNumber
	seen := make(map[string]bool)
	opts := ListOptions{Fields: fields}
	for range maxPages {
		page, err := c.ListPhoneNumbers(ctx, wabaID, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.Paging == nil || page.Paging.Next == "" || page.Paging.Cursors.After == "" {
			return all, nil
		}
		after := page.Paging.Cursors.After
		if seen[after] {
			return nil, &Error{Op: OpListPhoneNumbers, HTTPStatus: http.StatusOK, Err: ErrCursorLoop}
		}
		seen[after] = true
		opts.After = after
	}
	return nil, &Error{Op: OpListPhoneNumbers, HTTPStatus: http.StatusOK,
		Err: fmt.Errorf("%w: more than %d pages", ErrCursorLoop, maxPages)}
}

// MaxListLimit is the page size FindPhoneNumberFrom asks for: the largest
// the Graph API takes on list edges such as phone_numbers (larger limits are
// cut to it), so a WABA of thousands of numbers costs tens of calls, not
// hundreds.
const MaxListLimit = 100

// findFields are the only fields FindPhoneNumberFrom asks for: enough to
// match and adopt a number, and cheap for Meta to serve.
var findFields = []string{"id", "display_phone_number"}

// FindOptions bound and resume a FindPhoneNumberFrom search.
type FindOptions struct {
	// After resumes the search after this paging cursor, one that an
	// earlier search handed to Progress; "" starts at the first page.
	After string
	// Progress, when set, is called after each page that did not hold the
	// number and has a next page, with the cursor to resume from. An
	// activity records it in its heartbeat so that a retry resumes there
	// instead of paging the WABA again from the start.
	Progress func(after string)
}

// FindPhoneNumber returns the number of WABA wabaID whose
// display_phone_number, stripped to its digits, is cc followed by number,
// with only ID and DisplayPhoneNumber filled in. It returns (nil, nil) when
// the WABA has no such number. It is FindPhoneNumberFrom without a resume
// cursor or progress callback.
func (c *Client) FindPhoneNumber(ctx context.Context, wabaID, cc, number string) (*PhoneNumber, error) {
	return c.FindPhoneNumberFrom(ctx, wabaID, cc, number, FindOptions{})
}

// FindPhoneNumberFrom is FindPhoneNumber bounded for large WABAs: it pages
// through the WABA's numbers MaxListLimit at a time asking only for id and
// display_phone_number, stops at the first page that holds the number,
// starts after opts.After when set, and reports each page's resume cursor to
// opts.Progress. A cursor Meta repeats fails with ErrCursorLoop.
func (c *Client) FindPhoneNumberFrom(ctx context.Context, wabaID, cc, number string, opts FindOptions) (*PhoneNumber, error) {
	const op = OpListPhoneNumbers
	if err := firstErr(
		validate.ID("waba_id", wabaID),
		validate.CountryCode("cc", cc),
		validate.PhoneNumber("phone_number", cc, number),
	); err != nil {
		return nil, invalid(op, err)
	}
	want := cc + number
	list := ListOptions{Fields: findFields, Limit: MaxListLimit, After: opts.After}
	seen := map[string]bool{}
	for range maxPages {
		page, err := c.ListPhoneNumbers(ctx, wabaID, list)
		if err != nil {
			return nil, err
		}
		for i := range page.Data {
			if digits(page.Data[i].DisplayPhoneNumber) == want {
				p := page.Data[i]
				return &p, nil
			}
		}
		if page.Paging == nil || page.Paging.Next == "" || page.Paging.Cursors.After == "" {
			return nil, nil
		}
		after := page.Paging.Cursors.After
		if seen[after] || after == list.After {
			return nil, &Error{Op: op, HTTPStatus: http.StatusOK, Err: ErrCursorLoop}
		}
		seen[after] = true
		list.After = after
		if opts.Progress != nil {
			opts.Progress(after)
		}
	}
	return nil, &Error{Op: op, HTTPStatus: http.StatusOK,
		Err: fmt.Errorf("%w: more than %d pages", ErrCursorLoop, maxPages)}
}

// GetPhoneNumber reads one number, asking for fields or, when none are
// given, DefaultPhoneNumberFields.
func (c *Client) GetPhoneNumber(ctx context.Context, phoneNumberID string, fields ...string) (*PhoneNumber, error) {
	const op = OpGetPhoneNumber
	if err := validate.ID("phone_number_id", phoneNumberID); err != nil {
		return nil, invalid(op, err)
	}
	q := url.Values{"fields": {fieldList(fields)}}
	p := new(PhoneNumber)
	if err := c.call(ctx, op, http.MethodGet, pathOf(phoneNumberID), q, nil, p); err != nil {
		return nil, err
	}
	if p.ID == "" {
		return nil, &Error{Op: op, HTTPStatus: http.StatusOK, Err: fmt.Errorf("%w: no id", ErrMalformedResponse)}
	}
	return p, nil
}

// GetSettings reads the number's settings (GET /{PHONE_NUMBER_ID}/settings),
// of which the onboarding needs the storage configuration: whether local
// storage is on and in which region. After a register whose answer was lost
// it tells "registered with region X" from "not registered with it"; see
// PhoneNumberSettings.Region.
func (c *Client) GetSettings(ctx context.Context, phoneNumberID string) (*PhoneNumberSettings, error) {
	const op = OpGetSettings
	if err := validate.ID("phone_number_id", phoneNumberID); err != nil {
		return nil, invalid(op, err)
	}
	var out PhoneNumberSettings
	if err := c.call(ctx, op, http.MethodGet, pathOf(phoneNumberID, "settings"), nil, nil, &out); err != nil {
		return nil, err
	}
	if out.StorageConfiguration == nil || out.StorageConfiguration.Status == "" {
		return nil, &Error{Op: op, HTTPStatus: http.StatusOK,
			Err: fmt.Errorf("%w: no storage_configuration.status", ErrMalformedResponse)}
	}
	return &out, nil
}

// RequestCode asks Meta to send an ownership code to the number by SMS or
// voice call, in language (a locale such as en_US).
func (c *Client) RequestCode(ctx context.Context, phoneNumberID string, method CodeMethod, language string) error {
	const op = OpRequestCode
	if err := firstErr(
		validate.ID("phone_number_id", phoneNumberID),
		validate.CodeMethod("code_method", string(method)),
		validate.Language("language", language),
	); err != nil {
		return invalid(op, err)
	}
	form := url.Values{"code_method": {string(method)}, "language": {language}}
	return c.post(ctx, op, pathOf(phoneNumberID, "request_code"), formBody(form))
}

// VerifyCode sends the ownership code the number received. code must be the
// six digits (validate.Code); strip the separators people type with
// validate.NormalizeCode first.
func (c *Client) VerifyCode(ctx context.Context, phoneNumberID, code string) error {
	const op = OpVerifyCode
	if err := firstErr(
		validate.ID("phone_number_id", phoneNumberID),
		validate.Code("code", code),
	); err != nil {
		return invalid(op, err)
	}
	return c.post(ctx, op, pathOf(phoneNumberID, "verify_code"), formBody(url.Values{"code": {code}}), code)
}

// Register registers a verified number with the Cloud API. Each call counts
// against Meta's 10 per number per 72 hours, success or not: callers must
// not retry on ClassWindowExhausted and should bound every other retry.
func (c *Client) Register(ctx context.Context, phoneNumberID string, req RegisterRequest) error {
	const op = OpRegister
	errs := []error{
		validate.ID("phone_number_id", phoneNumberID),
		validate.PIN("pin", req.PIN),
		validate.Region("data_localization_region", req.DataLocalizationRegion),
	}
	if req.Backup != nil {
		if req.Backup.Password == "" {
			errs = append(errs, &validate.Error{Field: "backup.password", Rule: "is required with a backup"})
		}
		if req.Backup.Data == "" {
			errs = append(errs, &validate.Error{Field: "backup.data", Rule: "is required with a backup"})
		}
	}
	if err := firstErr(errs...); err != nil {
		return invalid(op, err)
	}
	body := struct {
		MessagingProduct       string  `json:"messaging_product"`
		PIN                    string  `json:"pin"`
		DataLocalizationRegion string  `json:"data_localization_region,omitempty"`
		Backup                 *Backup `json:"backup,omitempty"`
	}{"whatsapp", req.PIN, req.DataLocalizationRegion, req.Backup}
	secrets := []string{req.PIN}
	if req.Backup != nil {
		secrets = append(secrets, req.Backup.Password)
	}
	return c.post(ctx, op, pathOf(phoneNumberID, "register"), jsonBody(body), secrets...)
}

// Deregister takes a number off the Cloud API, keeping it and its history on
// the WABA. It shares Register's limit of 10 calls per 72 hours.
func (c *Client) Deregister(ctx context.Context, phoneNumberID string) error {
	const op = OpDeregister
	if err := validate.ID("phone_number_id", phoneNumberID); err != nil {
		return invalid(op, err)
	}
	return c.post(ctx, op, pathOf(phoneNumberID, "deregister"), nil)
}

// SetTwoStepPIN sets or changes the number's six-digit two-step verification
// PIN.
func (c *Client) SetTwoStepPIN(ctx context.Context, phoneNumberID, pin string) error {
	const op = OpSetTwoStepPIN
	if err := firstErr(
		validate.ID("phone_number_id", phoneNumberID),
		validate.PIN("pin", pin),
	); err != nil {
		return invalid(op, err)
	}
	body := struct {
		PIN string `json:"pin"`
	}{pin}
	return c.post(ctx, op, pathOf(phoneNumberID), jsonBody(body), pin)
}

// requestBody is a prepared body and its Content-Type.
type requestBody struct {
	contentType string
	data        []byte
}

func formBody(v url.Values) *requestBody {
	return &requestBody{"application/x-www-form-urlencoded", []byte(v.Encode())}
}

func jsonBody(v any) *requestBody {
	// The bodies are fixed structs of strings: Marshal cannot fail on them.
	data, _ := json.Marshal(v)
	return &requestBody{"application/json", data}
}

// post makes a POST whose success answer is {"success":true}.
func (c *Client) post(ctx context.Context, op, path string, body *requestBody, secrets ...string) error {
	var out struct {
		Success *bool `json:"success"`
	}
	if err := c.call(ctx, op, http.MethodPost, path, nil, body, &out, secrets...); err != nil {
		return err
	}
	if out.Success == nil || !*out.Success {
		return &Error{Op: op, HTTPStatus: http.StatusOK, Err: ErrNoSuccess}
	}
	return nil
}

// callOnce makes one request and decodes a 2xx answer into out. Every failure is
// an *Error with the token and secrets redacted from it.
func (c *Client) callOnce(ctx context.Context, op, method, path string, q url.Values, body *requestBody, out any, secrets ...string) error {
	status, header, data, err := c.roundTrip(ctx, method, path, q, body)
	if err != nil {
		var ns *notSentError
		notSent := errors.As(err, &ns)
		if notSent {
			err = ns.err
		}
		return c.redact(&Error{Op: op, HTTPStatus: status, Err: err, notSent: notSent}, secrets)
	}
	if status < 200 || status > 299 {
		return c.redact(DecodeError(op, status, header, data), secrets)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return c.redact(&Error{Op: op, HTTPStatus: status,
			Err: fmt.Errorf("%w: %w", ErrMalformedResponse, err)}, secrets)
	}
	return nil
}

func (c *Client) roundTrip(ctx context.Context, method, path string, q url.Values, body *requestBody) (int, http.Header, []byte, error) {
	u := c.baseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body.data)
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, nil, &notSentError{err}
	}
	var trace sendTrace
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace.hooks()), method, u, r)
	if err != nil {
		return 0, nil, nil, &notSentError{err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", body.contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if trace.nothingSent(err) {
			return 0, nil, nil, &notSentError{err}
		}
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return resp.StatusCode, resp.Header, nil, fmt.Errorf("reading body: %w", err)
	}
	if len(data) > MaxBodyBytes {
		return resp.StatusCode, resp.Header, nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformedResponse, MaxBodyBytes)
	}
	return resp.StatusCode, resp.Header, data, nil
}

// notSentError marks a transport error after which no byte of the request
// can have reached the server. It never escapes the client: call unwraps it
// into Error.notSent.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// sendTrace follows one request through net/http's transport to tell a
// request that never left from one whose answer was lost.
type sendTrace struct {
	getConn atomic.Bool // the transport reports to the trace at all
	wrote   atomic.Bool // request headers (at least) went to the connection
}

func (t *sendTrace) hooks() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn:      func(string) { t.getConn.Store(true) },
		WroteHeaders: func() { t.wrote.Store(true) },
		WroteRequest: func(httptrace.WroteRequestInfo) { t.wrote.Store(true) },
	}
}

// nothingSent reports whether err, from http.Client.Do, happened before any
// of the request was written: a failed dial or DNS lookup, or (when the
// transport reports to traces, as net/http's does) a failure before the
// headers were written, such as a context deadline while connecting. In
// doubt it says false: the request may have been sent.
func (t *sendTrace) nothingSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return t.getConn.Load() && !t.wrote.Load()
}

// redact removes the token and the call's secrets from whatever text Meta or
// the transport put into e. Meta is not known to echo them, but a proxy or a
// future message format might, and these strings end up in logs and in
// Temporal history.
func (c *Client) redact(e *Error, secrets []string) *Error {
	secrets = append([]string{c.token}, secrets...)
	scrub := func(s string) string {
		for _, sec := range secrets {
			if sec != "" {
				s = strings.ReplaceAll(s, sec, redacted)
			}
		}
		return s
	}
	for _, f := range []*string{&e.Type, &e.Message, &e.Details, &e.UserTitle, &e.UserMessage, &e.FBTraceID} {
		*f = scrub(*f)
	}
	if e.Err != nil {
		msg := e.Err.Error()
		if clean := scrub(msg); clean != msg {
			e.Err = &redactedError{msg: clean, err: e.Err}
		}
	}
	return e
}

// redactedError shows a scrubbed message while keeping the cause reachable
// for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

// invalid wraps a refused input. Its Class is ClassPermanent: the same input
// would be refused again.
func invalid(op string, err error) *Error { return &Error{Op: op, Err: err} }

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// optionalID checks an id that may be left out.
func optionalID(field, id string) error {
	if id == "" {
		return nil
	}
	return validate.ID(field, id)
}

// pathOf joins escaped path segments into "/a/b".
func pathOf(segs ...string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

func fieldList(fields []string) string {
	if len(fields) == 0 {
		fields = DefaultPhoneNumberFields
	}
	return strings.Join(fields, ",")
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
