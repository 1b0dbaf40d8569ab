// Package graphsim is a stateful, in-memory simulator of the part of Meta's
// Graph API that onboards WhatsApp Business phone numbers: adding a number to
// a WhatsApp Business Account (WABA), the ownership code, register and
// deregister with their 10-per-72-hours limit, and the two-step PIN.
//
// A Server is an http.Handler. Graph paths are served under any version
// prefix (/v21.0/..., /v23.0/...) and answer with Meta's error envelope and
// codes; administration paths live under /_sim/ and never collide with Graph
// object IDs, which are numeric. Tests drive the same state through Go
// methods (SeedNumber, InjectFault, Calls, ...) and move time with a
// ManualClock.
//
// The simulator is a development tool: it logs the ownership codes it
// "sends", because reading them is the point of running it locally.
package graphsim

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default option values.
const (
	DefaultToken    = "sim-token"
	DefaultCodeTTL  = 10 * time.Minute
	DefaultPageSize = 25
	// MaxPageSize caps limit on list_phone_numbers, as the Graph API does.
	MaxPageSize = 100
)

// Limits Meta applies, mirrored by the simulator.
const (
	// WindowLimit is how many register (and, counted apart, deregister)
	// requests a number may make in any Window.
	WindowLimit = 10
	// Window is the moving window of WindowLimit, and also how long the
	// operation stays blocked after the request that exceeded it.
	Window = 72 * time.Hour
	// DeletedBlock is how long register answers 133015 after a number was
	// deleted from its WABA.
	DeletedBlock = 5 * time.Minute
)

// Endpoint names, used in Call.Endpoint and Fault.Endpoint.
const (
	EndpointAddPhoneNumber   = "add_phone_number"
	EndpointListPhoneNumbers = "list_phone_numbers"
	EndpointGetPhoneNumber   = "get_phone_number"
	EndpointRequestCode      = "request_code"
	EndpointVerifyCode       = "verify_code"
	EndpointRegister         = "register"
	EndpointDeregister       = "deregister"
	EndpointSetPIN           = "set_pin"
	EndpointGetSettings      = "get_settings"
)

// Endpoints lists every endpoint name the simulator serves.
var Endpoints = []string{
	EndpointAddPhoneNumber, EndpointListPhoneNumbers, EndpointGetPhoneNumber,
	EndpointRequestCode, EndpointVerifyCode, EndpointRegister, EndpointDeregister, EndpointSetPIN,
	EndpointGetSettings,
}

// Options configures a Server. The zero value is usable.
type Options struct {
	// Token is the only access token accepted; DefaultToken when empty.
	Token string
	// Clock drives every time rule; the wall clock when nil. The /_sim/clock
	// paths are served only when it is an AdjustableClock.
	Clock Clock
	// NameReviewDelay is how long a new number's display name stays
	// PENDING_REVIEW before it reads APPROVED; 0 approves at once.
	NameReviewDelay time.Duration
	// CodeTTL is how long an ownership code stays valid; DefaultCodeTTL when 0.
	CodeTTL time.Duration
	// CodeRequestLimit is how many request_code calls a number may make per
	// hour before the simulator answers 136024; 10 when 0, no limit when
	// negative.
	CodeRequestLimit int
	// Logger receives one line per Graph call and per state change;
	// slog.Default() when nil.
	Logger *slog.Logger
	// PageSize is list_phone_numbers' page size when the caller sends no
	// limit; DefaultPageSize when 0.
	PageSize int
	// FirstID is where the ID sequence starts: the first WABA, number or
	// pre-verified ID handed out is FirstID+1. 0 means DefaultFirstID.
	// The simulator command seeds it from the time, so that a fresh state
	// never hands out an ID an earlier run did.
	FirstID int64

	// WebhookURL, when set, receives the webhooks Meta would send
	// (phone_number_name_update when a display name is reviewed,
	// account_update from AccountUpdate), signed with WebhookAppSecret in
	// X-Hub-Signature-256.
	WebhookURL       string
	WebhookAppSecret []byte
	// WebhookClient posts them; a client with a 10-second timeout when nil.
	WebhookClient *http.Client
	// WebhookAttempts is how often a delivery is tried before it is given
	// up (DefaultWebhookAttempts when 0), waiting WebhookBackoff
	// (DefaultWebhookBackoff when 0), doubled each time, in between.
	WebhookAttempts int
	WebhookBackoff  time.Duration
}

// DefaultFirstID is where IDs start unless Options.FirstID says otherwise:
// the first number is 106540352242923, close to the IDs in Meta's examples.
const DefaultFirstID = 106540352242922

// Server is the simulator. Create it with New; all methods are safe for
// concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger

	// mu guards everything below. Handlers hold it for the whole state
	// transition so a request is atomic, but never while a hang fault waits.
	mu          sync.Mutex
	wabas       map[string]bool
	numbers     map[string]*number // by phone-number ID, deleted ones included
	live        map[string]*number // by E.164 digits, numbers on a WABA only
	deleted     map[string]time.Time
	preverified map[string]*preverified
	windows     map[windowKey]*window
	faults      []*faultEntry
	calls       []Call
	nextID      int64
	seq         int64

	statePath string // "" keeps the state in memory only; see PersistTo
	saved     []byte // what statePath holds

	closeOnce sync.Once
	done      chan struct{}

	adminOnce sync.Once
	admin     *http.ServeMux

	webhooks         sync.WaitGroup
	webhooksInFlight atomic.Int64
}

// New returns a Server with no WABA: create them with CreateWABA.
func New(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = DefaultCodeTTL
	}
	if opts.CodeRequestLimit == 0 {
		opts.CodeRequestLimit = 10
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.PageSize > MaxPageSize {
		opts.PageSize = MaxPageSize
	}
	if opts.WebhookClient == nil {
		opts.WebhookClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = DefaultWebhookAttempts
	}
	if opts.WebhookBackoff <= 0 {
		opts.WebhookBackoff = DefaultWebhookBackoff
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		opts:        opts,
		log:         log.With("component", "graphsim"),
		wabas:       map[string]bool{},
		numbers:     map[string]*number{},
		live:        map[string]*number{},
		deleted:     map[string]time.Time{},
		preverified: map[string]*preverified{},
		windows:     map[windowKey]*window{},
		nextID:      cmp.Or(opts.FirstID, DefaultFirstID),
		done:        make(chan struct{}),
	}
	if s.webhooksOn() {
		go s.sweepLoop()
	}
	return s
}

// Close releases requests held by hang faults and stops webhook retries and
// the review sweep. The Server keeps answering other requests; Close exists
// so a shutdown is not held up by a hang.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
}

func (s *Server) now() time.Time { return s.opts.Clock.Now() }

// newID hands out numeric IDs from one sequence so WABA, phone-number and
// pre-verified IDs never collide.
func (s *Server) newID() string {
	for {
		s.nextID++
		id := strconv.FormatInt(s.nextID, 10)
		if !s.wabas[id] && s.numbers[id] == nil && s.preverified[id] == nil {
			return id
		}
	}
}

// Call is one Graph API request as the simulator saw it.
type Call struct {
	Time          time.Time         `json:"time"`
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Endpoint      string            `json:"endpoint"` // one of Endpoints, "" for unknown paths
	PhoneNumberID string            `json:"phone_number_id,omitempty"`
	WABAID        string            `json:"waba_id,omitempty"`
	Params        map[string]string `json:"params"` // pin, code, access_token and backup secrets read "******"
	// HTTPStatus, ErrorCode and ErrorSubcode are the answer the call got.
	// For a lost_answer fault they are the answer Meta gave and the
	// client never saw.
	HTTPStatus   int    `json:"http_status"`
	ErrorCode    int    `json:"error_code,omitempty"`
	ErrorSubcode int    `json:"error_subcode,omitempty"`
	Fault        string `json:"fault,omitempty"` // kind of the injected fault that answered, if any
}

// Calls returns a copy of every Graph API call so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.Params = cloneMap(c.Params)
		out[i] = c
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// apiError is an answer in Meta's error envelope.
type apiError struct {
	HTTPStatus int
	Code       int
	Subcode    int
	Type       string
	Message    string
	Details    string
	UserTitle  string
	UserMsg    string
	Transient  bool
	Header     http.Header
}

type envelope struct {
	Error envelopeBody `json:"error"`
}

type envelopeBody struct {
	Message      string     `json:"message"`
	Type         string     `json:"type"`
	Code         int        `json:"code"`
	ErrorSubcode int        `json:"error_subcode,omitempty"`
	ErrorData    *errorData `json:"error_data,omitempty"`
	UserTitle    string     `json:"error_user_title,omitempty"`
	UserMsg      string     `json:"error_user_msg,omitempty"`
	IsTransient  bool       `json:"is_transient"`
	FBTraceID    string     `json:"fbtrace_id"`
}

type errorData struct {
	MessagingProduct string `json:"messaging_product"`
	Details          string `json:"details"`
}

// transientCodes are the codes Meta marks is_transient.
var transientCodes = map[int]bool{1: true, 2: true, 4: true, 17: true, 80007: true, 80008: true, 130429: true, 131000: true, 133004: true, 2494100: true}

func (e *apiError) status() int {
	if e.HTTPStatus != 0 {
		return e.HTTPStatus
	}
	switch {
	case e.Code == 190 || e.Code == 102:
		return http.StatusUnauthorized
	case e.Code == 10 || (e.Code >= 200 && e.Code <= 299):
		return http.StatusForbidden
	case e.Code == 4 || e.Code == 80007 || e.Code == 80008 || e.Code == 130429:
		return http.StatusTooManyRequests
	case e.Code == 1 || e.Code == 2:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func (e *apiError) envelope() envelope {
	typ := e.Type
	if typ == "" {
		typ = "OAuthException"
	}
	b := envelopeBody{
		Message:      e.Message,
		Type:         typ,
		Code:         e.Code,
		ErrorSubcode: e.Subcode,
		UserTitle:    e.UserTitle,
		UserMsg:      e.UserMsg,
		IsTransient:  e.Transient || transientCodes[e.Code],
		FBTraceID:    traceID(),
	}
	if e.Details != "" {
		b.ErrorData = &errorData{MessagingProduct: "whatsapp", Details: e.Details}
	}
	return envelope{Error: b}
}

func traceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "A" + base64.RawURLEncoding.EncodeToString(b[:])[:22]
}

// errParam is Meta's generic "(#100) Invalid parameter" with the reason in
// error_data.details, where Meta puts it.
func errParam(details string) *apiError {
	return &apiError{Code: 100, Message: "(#100) Invalid parameter", Details: details}
}

func errRequired(name string) *apiError {
	return &apiError{Code: 100, Message: "(#100) The parameter " + name + " is required",
		Details: "The parameter " + name + " is required"}
}

// errNoObject is what the Graph API answers for an ID it does not know, or
// that does not support the call.
func errNoObject(method, id string) *apiError {
	return &apiError{
		Code: 100, Subcode: 33, Type: "GraphMethodException",
		Message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
			strings.ToLower(method), id),
	}
}

// reply is what a handler decided: a success body or an error.
type reply struct {
	body any
	err  *apiError
}

func ok(body any) reply      { return reply{body: body} }
func fail(e *apiError) reply { return reply{err: e} }
func success() reply         { return ok(map[string]bool{"success": true}) }

var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// phoneNumberEdges are the POST-only edges of a phone number; each is served
// by the endpoint of the same name.
var phoneNumberEdges = []string{EndpointRequestCode, EndpointVerifyCode, EndpointRegister, EndpointDeregister}

// route is a parsed Graph path.
type route struct {
	endpoint string
	id       string // the object in the path: a WABA or phone-number ID
	edge     string
}

func parseRoute(method, path string) (route, *apiError) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 2 || !versionRE.MatchString(parts[0]) || parts[1] == "" {
		return route{}, &apiError{Code: 2500, Message: "Unknown path components: " + path +
			" (the simulator serves /v{N}.{M}/{object-id}[/{edge}])"}
	}
	rt := route{id: parts[1]}
	if len(parts) > 3 {
		return rt, &apiError{Code: 2500, Message: "Unknown path components: /" + strings.Join(parts[3:], "/")}
	}
	if len(parts) == 3 {
		rt.edge = parts[2]
	}
	switch {
	case rt.edge == "" && method == http.MethodGet:
		rt.endpoint = EndpointGetPhoneNumber
	case rt.edge == "" && method == http.MethodPost:
		rt.endpoint = EndpointSetPIN
	case rt.edge == "phone_numbers" && method == http.MethodGet:
		rt.endpoint = EndpointListPhoneNumbers
	case rt.edge == "phone_numbers" && method == http.MethodPost:
		rt.endpoint = EndpointAddPhoneNumber
	case rt.edge == "settings" && method == http.MethodGet:
		rt.endpoint = EndpointGetSettings
	case slices.Contains(phoneNumberEdges, rt.edge) && method == http.MethodPost:
		rt.endpoint = rt.edge
	case slices.Contains(phoneNumberEdges, rt.edge) || rt.edge == "phone_numbers" || rt.edge == "settings" || rt.edge == "":
		return rt, errNoObject(method, rt.id)
	default:
		return rt, &apiError{Code: 2500, Message: "Unknown path components: /" + rt.edge}
	}
	return rt, nil
}

// params are a request's parameters merged the way the Graph API merges
// them: query string, then form or JSON body, the body winning.
type params struct {
	values  map[string]string
	objects map[string]json.RawMessage // JSON objects, e.g. backup
}

func (p params) get(k string) string { return p.values[k] }

func (p params) has(k string) bool {
	_, ok := p.values[k]
	if !ok {
		_, ok = p.objects[k]
	}
	return ok
}

const maxBody = 1 << 20

func readParams(r *http.Request) (params, *apiError) {
	p := params{values: map[string]string{}, objects: map[string]json.RawMessage{}}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p.values[k] = v[0]
		}
	}
	if r.Body == nil {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return p, errParam("could not read the request body: " + err.Error())
	}
	if len(body) > maxBody {
		return p, errParam("request body larger than 1 MiB")
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json" || (ct == "" && trimmed[0] == '{'):
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return p, &apiError{Code: 100, Message: "(#100) Invalid JSON in the request body",
				Details: "the body is not a JSON object: " + err.Error()}
		}
		for k, v := range obj {
			switch v := v.(type) {
			case string:
				p.values[k] = v
			case json.Number:
				p.values[k] = v.String()
			case bool:
				p.values[k] = strconv.FormatBool(v)
			case nil:
				p.values[k] = ""
			default:
				raw, _ := json.Marshal(v)
				p.objects[k] = raw
			}
		}
	case ct == "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return p, errParam("unreadable multipart body: " + err.Error())
		}
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				p.values[k] = v[0]
			}
		}
	default:
		form, err := url.ParseQuery(string(trimmed))
		if err != nil {
			return p, errParam("unreadable form body: " + err.Error())
		}
		for k, v := range form {
			if len(v) > 0 {
				p.values[k] = v[0]
			}
		}
		// Graph clients send objects in forms as JSON strings.
		for k, v := range p.values {
			if strings.HasPrefix(strings.TrimSpace(v), "{") && json.Valid([]byte(v)) {
				p.objects[k] = json.RawMessage(v)
				delete(p.values, k)
			}
		}
	}
	return p, nil
}

// secretParams never reach the call log or the log lines in clear.
var secretParams = map[string]bool{"pin": true, "code": true, "access_token": true, "password": true, "data": true}

const masked = "******"

func (p params) masked() map[string]string {
	out := make(map[string]string, len(p.values))
	for k, v := range p.values {
		if secretParams[k] {
			v = masked
		}
		out[k] = v
	}
	for k, raw := range p.objects {
		var obj map[string]any
		if json.Unmarshal(raw, &obj) != nil {
			out[k] = masked
			continue
		}
		for kk, vv := range obj {
			if secretParams[kk] || k == "backup" {
				out[k+"."+kk] = masked
			} else {
				out[k+"."+kk] = fmt.Sprint(vv)
			}
		}
	}
	return out
}

func (s *Server) tokenOK(r *http.Request, p params) (bool, bool) {
	tok := ""
	if h := r.Header.Get("Authorization"); h != "" {
		if f := strings.Fields(h); len(f) == 2 && (strings.EqualFold(f[0], "Bearer") || strings.EqualFold(f[0], "OAuth")) {
			tok = f[1]
		} else {
			tok = "\x00malformed"
		}
	}
	if tok == "" {
		tok = p.get("access_token")
	}
	return tok != "", tok == s.opts.Token
}

// ServeHTTP serves the Graph paths under /v{N}.{M}/ and the admin paths
// under /_sim/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sim" || strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveAdmin(w, r)
		return
	}
	s.serveGraph(w, r)
}

func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	p, perr := readParams(r)
	rt, rerr := parseRoute(r.Method, r.URL.Path)

	call := Call{Method: r.Method, Path: r.URL.Path, Endpoint: rt.endpoint, Params: p.masked()}
	switch rt.endpoint {
	case EndpointAddPhoneNumber, EndpointListPhoneNumbers:
		call.WABAID = rt.id
	case "":
	default:
		call.PhoneNumberID = rt.id
	}

	var res reply
	present, valid := s.tokenOK(r, p)
	switch {
	case !present:
		res = fail(&apiError{Code: 190, HTTPStatus: http.StatusUnauthorized,
			Message: "An access token is required to request this resource.",
			Header:  http.Header{"Www-Authenticate": {`OAuth "Facebook Platform" "invalid_request" "An access token is required to request this resource."`}}})
	case !valid:
		res = fail(&apiError{Code: 190, HTTPStatus: http.StatusUnauthorized,
			Message: "Invalid OAuth access token - Cannot parse access token",
			Header:  http.Header{"Www-Authenticate": {`OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token - Cannot parse access token"`}}})
	case rerr != nil:
		res = fail(rerr)
	case perr != nil:
		res = fail(perr)
	default:
		f := s.takeFault(rt, p)
		if f != nil && f.Kind != FaultLostAnswer {
			s.serveFault(w, r, f, call, start)
			return
		}
		s.mu.Lock()
		res = s.handle(r, rt, p)
		s.persist()
		s.mu.Unlock()
		if f != nil { // FaultLostAnswer: carried out as above, answer lost
			call.Fault = string(f.Kind)
			s.account(&call, res)
			s.record(call)
			s.logCall(r.Context(), call, res.err, start)
			s.loseAnswer(w, r, f, call, start)
			return
		}
	}
	s.finish(w, r, call, res, start)
}

// handle runs one Graph call against the state. The caller holds s.mu.
func (s *Server) handle(r *http.Request, rt route, p params) reply {
	switch rt.endpoint {
	case EndpointAddPhoneNumber:
		return s.addPhoneNumber(rt.id, p)
	case EndpointListPhoneNumbers:
		return s.listPhoneNumbers(r, rt.id, p)
	case EndpointGetPhoneNumber:
		return s.getPhoneNumber(rt.id, p)
	case EndpointRequestCode:
		return s.requestCode(rt.id, p)
	case EndpointVerifyCode:
		return s.verifyCode(rt.id, p)
	case EndpointRegister:
		return s.register(rt.id, p)
	case EndpointDeregister:
		return s.deregister(rt.id)
	case EndpointSetPIN:
		return s.setPIN(rt.id, p)
	case EndpointGetSettings:
		return s.getSettings(rt.id)
	}
	return fail(errNoObject(r.Method, rt.id))
}

// account fills in the call's status and error code from the answer the
// state gave.
func (s *Server) account(call *Call, res reply) {
	call.HTTPStatus = http.StatusOK
	if res.err != nil {
		call.HTTPStatus = res.err.status()
		call.ErrorCode, call.ErrorSubcode = res.err.Code, res.err.Subcode
	}
}

func (s *Server) finish(w http.ResponseWriter, r *http.Request, call Call, res reply, start time.Time) {
	var body []byte
	s.account(&call, res)
	status := call.HTTPStatus
	if res.err != nil {
		env := res.err.envelope()
		body, _ = json.Marshal(env)
		for k, v := range res.err.Header {
			w.Header()[k] = v
		}
		w.Header().Set("X-Fb-Trace-Id", env.Error.FBTraceID)
	} else {
		body, _ = json.Marshal(res.body)
	}
	s.record(call)
	s.logCall(r.Context(), call, res.err, start)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if v := versionOf(r.URL.Path); v != "" {
		w.Header().Set("Facebook-Api-Version", v)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func versionOf(path string) string {
	v, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if versionRE.MatchString(v) {
		return v
	}
	return ""
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	c.Time = s.now()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func (s *Server) logCall(ctx context.Context, c Call, e *apiError, start time.Time) {
	attrs := []any{"method", c.Method, "path", c.Path, "endpoint", c.Endpoint, "status", c.HTTPStatus,
		"duration", time.Since(start).Round(time.Microsecond)}
	if c.PhoneNumberID != "" {
		attrs = append(attrs, "phone_number_id", c.PhoneNumberID)
	}
	if c.WABAID != "" {
		attrs = append(attrs, "waba_id", c.WABAID)
	}
	if c.Fault != "" {
		attrs = append(attrs, "fault", c.Fault)
	}
	if e != nil {
		attrs = append(attrs, "error_code", e.Code)
		if e.Subcode != 0 {
			attrs = append(attrs, "error_subcode", e.Subcode)
		}
		if e.Details != "" {
			attrs = append(attrs, "details", e.Details)
		} else {
			attrs = append(attrs, "message", e.Message)
		}
	}
	if len(c.Params) > 0 {
		keys := make([]string, 0, len(c.Params))
		for k := range c.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(k + "=" + c.Params[k])
		}
		attrs = append(attrs, "params", b.String())
	}
	level := slog.LevelInfo
	if e != nil || c.Fault != "" {
		level = slog.LevelWarn
	}
	s.log.Log(ctx, level, "graph call", attrs...)
}
