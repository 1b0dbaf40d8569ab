package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/wa-onboarding/onboarding/internal/httpapi"
	"github.com/wa-onboarding/onboarding/internal/httpapi/apitest"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/seal/sealtest"
	"github.com/wa-onboarding/onboarding/onboarding"
)

const token = "test-token-0123456789abcdef"

var (
	validator     *apitest.Validator
	validatorOnce sync.Once
)

// TestMain checks, after a full run, that the tests exercised every
// operation of the document with a successful answer.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && validator != nil && flag.Lookup("test.run").Value.String() == "" {
		answered := validator.Answered()
		for _, op := range apitest.Operations(validator.Doc()) {
			if !slices.ContainsFunc(answered[op], func(s int) bool { return s < 300 }) {
				fmt.Fprintf(os.Stderr, "FAIL: no test got a successful answer from %s (statuses seen: %v)\n", op, answered[op])
				code = 1
			}
		}
	}
	os.Exit(code)
}

type env struct {
	t      *testing.T
	f      *fakeTemporal
	srv    *httptest.Server
	client *http.Client
	logs   *observer.ObservedLogs
	opener *seal.Opener
}

func setup(t *testing.T, opts ...func(*httpapi.Options)) *env {
	t.Helper()
	validatorOnce.Do(func() { validator = apitest.New(t) })
	sealer, opener := sealtest.KeyPair("test-seal-1")

	f := newFake()
	core, logs := observer.New(zap.DebugLevel)
	o := httpapi.Options{
		Client: onboarding.NewClient(f, onboarding.WithSealer(sealer), onboarding.WithAddress("127.0.0.1:7233")),
		Token:  token,
		Ready: func(ctx context.Context) error {
			_, err := f.CheckHealth(ctx, nil)
			return err
		},
		Logger: zap.New(core),
	}
	for _, opt := range opts {
		opt(&o)
	}
	h, err := httpapi.New(o)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, f: f, srv: srv, client: validator.Client(t), logs: logs, opener: opener}
}

// call sends an authenticated JSON request; body "" sends none.
func (e *env) call(method, path, body string) (*http.Response, []byte) {
	e.t.Helper()
	return e.send(method, path, body, map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"})
}

func (e *env) send(method, path, body string, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	require.NoError(e.t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	resp.Body.Close()
	return resp, b
}

// logText is every log entry with its fields, as they would be written.
func (e *env) logText() string {
	var sb strings.Builder
	for _, l := range e.logs.All() {
		b, _ := json.Marshal(l.ContextMap())
		sb.WriteString(l.Message + " " + string(b) + "\n")
	}
	return sb.String()
}

type problem struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	Follow    string `json:"follow"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field string `json:"field"`
		Rule  string `json:"rule"`
	} `json:"errors"`
}

func decodeProblem(t *testing.T, resp *http.Response, b []byte) problem {
	t.Helper()
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), string(b))
	var p problem
	require.NoError(t, json.Unmarshal(b, &p), string(b))
	require.Equal(t, resp.StatusCode, p.Status)
	return p
}

func (p problem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	sort.Strings(out)
	return out
}

func TestEveryRouteIsDocumentedAndEveryOperationServed(t *testing.T) {
	doc := apitest.Doc(t)
	routes := httpapi.Routes()
	sort.Strings(routes)
	require.Equal(t, apitest.Operations(doc), routes)
}

// TestSchemasFollowTheContract holds the document's schemas against the Go
// types the server encodes and decodes: a field added to the contract must
// be documented, and a documented field must exist.
func TestSchemasFollowTheContract(t *testing.T) {
	doc := apitest.Doc(t)
	for schema, c := range map[string]struct {
		typ    any
		extra  []string // documented fields the server adds
		hidden []string // contract fields not offered over HTTP
	}{
		"OnboardInput":      {typ: onboarding.OnboardInput{}, hidden: []string{"resume"}},
		"Backup":            {typ: onboarding.Backup{}},
		"CodeInput":         {typ: onboarding.CodeInput{}},
		"ResendInput":       {typ: onboarding.ResendInput{}},
		"ChangeRegionInput": {typ: onboarding.ChangeRegionInput{}},
		"FixInput":          {typ: onboarding.FixInput{}},
		"Run":               {typ: onboarding.Run{}},
		"ListEntry":         {typ: onboarding.ListEntry{}},
		"GraphError":        {typ: onboarding.GraphError{}},
		"NumberStatus":      {typ: onboarding.Status{}, extra: []string{"run_id", "ui_url"}},
	} {
		t.Run(schema, func(t *testing.T) {
			s := doc.Components.Schemas[schema]
			require.NotNil(t, s, "components.schemas.%s", schema)
			var documented []string
			for name := range s.Value.Properties {
				documented = append(documented, name)
			}
			want := append(slices.Clone(c.extra), jsonNames(reflect.TypeOf(c.typ), c.hidden)...)
			sort.Strings(documented)
			sort.Strings(want)
			assert.Equal(t, want, documented)
		})
	}
	// Every input says additionalProperties: false, as the server refuses
	// unknown fields.
	for _, name := range []string{"OnboardInput", "Backup", "CodeInput", "ResendInput", "ChangeRegionInput", "FixInput"} {
		ap := doc.Components.Schemas[name].Value.AdditionalProperties
		assert.True(t, ap.Has != nil && !*ap.Has, "%s: additionalProperties must be false", name)
	}
}

func jsonNames(t reflect.Type, hidden []string) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || slices.Contains(hidden, name) {
			continue
		}
		out = append(out, name)
	}
	return out
}

func TestAuthentication(t *testing.T) {
	e := setup(t)
	for name, c := range map[string]struct {
		header    map[string]string
		challenge string
	}{
		"no token":     {nil, `Bearer realm="whatsapp-onboarding"`},
		"wrong token":  {map[string]string{"Authorization": "Bearer " + token + "x"}, `Bearer realm="whatsapp-onboarding", error="invalid_token"`},
		"prefix":       {map[string]string{"Authorization": "Bearer " + token[:10]}, `Bearer realm="whatsapp-onboarding", error="invalid_token"`},
		"basic scheme": {map[string]string{"Authorization": "Basic " + token}, `Bearer realm="whatsapp-onboarding"`},
		"empty bearer": {map[string]string{"Authorization": "Bearer "}, `Bearer realm="whatsapp-onboarding"`},
	} {
		t.Run(name, func(t *testing.T) {
			resp, b := e.send("GET", "/v1/numbers/+15551234567", "", c.header)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(b))
			assert.Equal(t, c.challenge, resp.Header.Get("WWW-Authenticate"))
			assert.Equal(t, "unauthorized", decodeProblem(t, resp, b).Code)
		})
	}
	require.Zero(t, e.f.health, "nothing reached Temporal")
	// Lower-case scheme is the same scheme (RFC 9110, 11.1).
	resp, b := e.send("GET", "/v1/numbers/+15551234567", "", map[string]string{"Authorization": "bearer " + token})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	// Health and the document need no token.
	for _, p := range []string{"/healthz", "/readyz", "/openapi.yaml"} {
		resp, b := e.send("GET", p, "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", p, b)
	}
	require.NotContains(t, e.logText(), token)
}

const onboardBody = `{"waba_id":"100000000000001","country_code":"1","phone_number":"5551234567","display_name":"Acme Support","pin":"024680","region":"CH","code_wait":"2h"}`

func TestOnboardSealsThePINAndStartsOnce(t *testing.T) {
	e := setup(t)
	resp, b := e.call("POST", "/v1/numbers", onboardBody)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
	require.Equal(t, "/v1/numbers/+15551234567", resp.Header.Get("Location"))
	var run onboarding.Run
	require.NoError(t, json.Unmarshal(b, &run))
	require.Equal(t, "whatsapp-number-+15551234567", run.WorkflowID)
	require.False(t, run.AlreadyRunning)

	require.Len(t, e.f.startArgs, 1)
	in := e.f.startArgs[0].(onboarding.OnboardInput)
	require.True(t, seal.IsSealed(in.PIN), "the PIN leaves the gateway sealed")
	pin, err := e.opener.Open(seal.PurposePIN, in.PIN)
	require.NoError(t, err)
	require.Equal(t, "024680", pin)
	require.Equal(t, 2*time.Hour, time.Duration(in.CodeWait), "durations arrive as Go duration strings")
	require.Equal(t, "CH", in.Region)

	// Again, while the run runs: the running run, 200.
	e.f.startErr = serviceerror.NewWorkflowExecutionAlreadyStarted("started", "", "run-0")
	resp, b = e.call("POST", "/v1/numbers", onboardBody)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.NoError(t, json.Unmarshal(b, &run))
	require.True(t, run.AlreadyRunning)
	require.Equal(t, "run-0", run.RunID)
	require.NotContains(t, e.logText(), "024680")
}

func TestRefusedInputNamesFieldAndRule(t *testing.T) {
	for name, c := range map[string]struct {
		method, path, body string
		fields             []string
		rule               string // in the rule of the first field
		docRefuses         bool   // the document can say so too
	}{
		"bad pin":              {"POST", "/v1/numbers", strings.Replace(onboardBody, `"024680"`, `"02468x"`, 1), []string{"pin"}, "6 ASCII digits", true},
		"missing fields":       {"POST", "/v1/numbers", `{"pin":"024680"}`, []string{"country_code", "display_name", "phone_number", "waba_id"}, "required", true},
		"bad region":           {"POST", "/v1/numbers", strings.Replace(onboardBody, `"CH"`, `"XX"`, 1), []string{"region"}, "", true},
		"too long with cc":     {"POST", "/v1/numbers", strings.Replace(strings.Replace(onboardBody, `"5551234567"`, `"1234567890123"`, 1), `"country_code":"1"`, `"country_code":"353"`, 1), []string{"phone_number"}, "at most 15 digits", false},
		"misspelt field":       {"POST", "/v1/numbers", strings.Replace(onboardBody, `"region"`, `"regoin"`, 1), []string{"regoin"}, "is not a field", true},
		"nested unknown":       {"POST", "/v1/numbers", strings.Replace(onboardBody, `"region":"CH"`, `"backup":{"data":"x","password":"p","pasword":"q"}`, 1), []string{"backup.pasword"}, "is not a field", true},
		"duration not string":  {"POST", "/v1/numbers", strings.Replace(onboardBody, `"2h"`, `"two hours"`, 1), []string{"code_wait"}, "duration", true},
		"duration too short":   {"POST", "/v1/numbers", strings.Replace(onboardBody, `"2h"`, `"30s"`, 1), []string{"code_wait"}, "at least 1m", false},
		"wrong type":           {"POST", "/v1/numbers", strings.Replace(onboardBody, `"024680"`, `24680`, 1), []string{"pin"}, "must be a string", true},
		"resume":               {"POST", "/v1/numbers", strings.Replace(onboardBody, `"region":"CH"`, `"resume":{}`, 1), []string{"resume"}, "must be empty", true},
		"empty body":           {"POST", "/v1/numbers", "", []string{"body"}, "required", true},
		"not an object":        {"POST", "/v1/numbers", `[1]`, []string{"body"}, "JSON object", true},
		"bad number":           {"GET", "/v1/numbers/12ab", "", []string{"number"}, "E.164", true},
		"bad stage":            {"GET", "/v1/numbers?stage=done", "", []string{"stage"}, "one of", true},
		"bad code":             {"POST", "/v1/numbers/+15551234567/code", `{"code":"12345"}`, []string{"code"}, "", false},
		"bad timeout":          {"POST", "/v1/numbers/+15551234567/code?timeout=1h", `{"code":"123456"}`, []string{"timeout"}, "at most 2m", false},
		"bad wait":             {"POST", "/v1/numbers/+15551234567/deregister?wait=maybe", "", []string{"wait"}, "true or false", true},
		"region missing":       {"POST", "/v1/numbers/+15551234567/change-region", `{}`, []string{"region"}, `or ""`, true},
		"fix region and clear": {"POST", "/v1/numbers/+15551234567/fix", `{"region":"DE","clear_region":true}`, []string{"region"}, "clear_region", false},
		"body on deregister":   {"POST", "/v1/numbers/+15551234567/deregister", `{"region":"DE"}`, []string{"region"}, "is not a field", false},
		"resend method":        {"POST", "/v1/numbers/+15551234567/resend-code", `{"method":"FAX"}`, []string{"method"}, "", true},
		"number and code":      {"POST", "/v1/numbers/0/code", `{"code":"1"}`, []string{"code", "number"}, "", true},
	} {
		t.Run(name, func(t *testing.T) {
			e := setup(t)
			resp, b := e.call(c.method, c.path, c.body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(b))
			p := decodeProblem(t, resp, b)
			require.Equal(t, "invalid_input", p.Code)
			require.Equal(t, c.fields, p.fields())
			require.Contains(t, p.Detail, p.Errors[0].Field+": "+p.Errors[0].Rule)
			if c.rule != "" {
				require.Contains(t, p.Errors[0].Rule, c.rule)
			}
			if c.docRefuses {
				require.NotEmpty(t, resp.Header.Get(apitest.RequestErrorHeader), "api/openapi.yaml should refuse this request too")
			}
			require.NotContains(t, string(b), "02468x", "a refused PIN is not echoed")
			require.Empty(t, e.f.startArgs, "nothing reached Temporal")
			require.Empty(t, e.f.updates)
			require.Empty(t, e.f.signals)
		})
	}
}

func TestBodyRules(t *testing.T) {
	e := setup(t)
	resp, b := e.send("POST", "/v1/numbers", onboardBody, map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"})
	require.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode, string(b))
	require.Equal(t, "unsupported_media_type", decodeProblem(t, resp, b).Code)

	resp, b = e.call("POST", "/v1/numbers", `{"waba_id": "1"`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, "invalid_json", decodeProblem(t, resp, b).Code)

	big := `{"code":"` + strings.Repeat("1", 70<<10) + `"}`
	resp, b = e.call("POST", "/v1/numbers/+15551234567/code", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Equal(t, "body_too_large", decodeProblem(t, resp, b).Code)
	// A backup of 1 MiB fits an onboarding.
	backup := strings.Replace(onboardBody, `"region":"CH"`, `"backup":{"data":"`+strings.Repeat("A", 1<<20)+`","password":"pw"}`, 1)
	resp, b = e.call("POST", "/v1/numbers", backup)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(b[:min(len(b), 300)]))
	require.Empty(t, e.f.updates)
}

func TestErrorsAreMapped(t *testing.T) {
	appErr := func(msg string) error {
		fc := temporal.GetDefaultFailureConverter()
		return fc.FailureToError(fc.ErrorToFailure(temporal.NewApplicationError(msg, "refused")))
	}
	for name, c := range map[string]struct {
		set      func(f *fakeTemporal)
		method   string
		path     string
		body     string
		status   int
		code     string
		contains string
		hidden   string // must not show in the answer
	}{
		"no run": {func(f *fakeTemporal) { f.queryErr = serviceerror.NewNotFound("workflow not found for ID: x") },
			"GET", "/v1/numbers/+15551234567", "", 404, "no_run", "POST /v1/numbers", "workflow not found"},
		"update on closed run": {func(f *fakeTemporal) { f.updateErr = serviceerror.NewNotFound("workflow execution already completed") },
			"POST", "/v1/numbers/+15551234567/reregister", "", 404, "no_run", "+15551234567", "already completed"},
		"temporal down": {func(f *fakeTemporal) {
			f.signalErr = serviceerror.NewUnavailable(`connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.7:7233: connect: connection refused"`)
		}, "POST", "/v1/numbers/+15551234567/resend-code", "", 503, "temporal_unavailable", "cannot reach Temporal", "10.0.0.7"},
		"no answer": {func(f *fakeTemporal) { f.cancelErr = serviceerror.NewDeadlineExceeded("context deadline exceeded") },
			"DELETE", "/v1/numbers/+15551234567", "", 504, "no_answer", "GET /v1/numbers/+15551234567", "context deadline"},
		"run refuses": {func(f *fakeTemporal) { f.updateErr = appErr("the run does not need attention (stage registered)") },
			"POST", "/v1/numbers/+15551234567/fix", "{}", 409, "refused", "the run does not need attention (stage registered)", "type: refused"},
		"unexpected": {func(f *fakeTemporal) { f.startErr = serviceerror.NewInternal("sql: database is locked (5)") },
			"POST", "/v1/numbers", onboardBody, 500, "internal", "request_id", "database"},
		"nothing to skip": {nil, "POST", "/v1/numbers/+15551234567/skip-wait", "", 409, "nothing_to_skip", "not in a durable wait (stage awaiting_code", ""},
	} {
		t.Run(name, func(t *testing.T) {
			e := setup(t)
			if c.set != nil {
				c.set(e.f)
			}
			resp, b := e.call(c.method, c.path, c.body)
			require.Equal(t, c.status, resp.StatusCode, string(b))
			p := decodeProblem(t, resp, b)
			require.Equal(t, c.code, p.Code)
			require.Contains(t, p.Detail, c.contains)
			require.Equal(t, resp.Header.Get("X-Request-Id"), p.RequestID)
			if c.hidden != "" {
				require.NotContains(t, string(b), c.hidden, "SDK or server text stays in the log")
			}
			if c.status >= 500 {
				require.Contains(t, e.logText(), p.RequestID, "the cause is logged under the request id")
			}
		})
	}
}

func TestSendCode(t *testing.T) {
	e := setup(t)
	e.f.result = onboarding.CodeResult{Accepted: true, Message: "Meta accepted the code; the number is verified."}
	resp, b := e.call("POST", "/v1/numbers/15551234567/code", `{"code":"443-102"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var got struct {
		Accepted   bool   `json:"accepted"`
		Message    string `json:"message"`
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	require.NoError(t, json.Unmarshal(b, &got))
	require.True(t, got.Accepted)
	require.Equal(t, "whatsapp-number-+15551234567", got.WorkflowID)
	require.Equal(t, "run-1", got.RunID)
	require.Len(t, e.f.updates, 1)
	require.Equal(t, onboarding.UpdateSubmitCode, e.f.updates[0].UpdateName)
	code, err := e.opener.Open(seal.PurposeOwnershipCode, e.f.updates[0].Args[0].(onboarding.CodeInput).Code)
	require.NoError(t, err)
	require.Equal(t, "443102", code)

	// Refused by Meta: an answer, not an error.
	e.f.result = onboarding.CodeResult{Accepted: false, Message: "Meta refused the code (wrong or expired)."}
	resp, b = e.call("POST", "/v1/numbers/+15551234567/code", `{"code":"000000"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.NoError(t, json.Unmarshal(b, &got))
	require.False(t, got.Accepted)

	// Without waiting: a signal, 202.
	resp, b = e.call("POST", "/v1/numbers/+15551234567/code?wait=false", `{"code":"443102"}`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
	require.Equal(t, "/v1/numbers/+15551234567", resp.Header.Get("Location"))
	sig := e.f.signals[onboarding.SignalVerificationCode].(onboarding.CodeInput)
	require.True(t, seal.IsSealed(sig.Code))
	require.NotContains(t, e.logText(), "443102")
	require.NotContains(t, e.logText(), "443-102")
}

func TestOperations(t *testing.T) {
	e := setup(t)
	e.f.result = onboarding.OperationResult{Stage: onboarding.StageRegistered, Region: "DE"}
	resp, b := e.call("POST", "/v1/numbers/+15551234567/change-region", `{"region":"DE"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.JSONEq(t, `{"workflow_id":"whatsapp-number-+15551234567","run_id":"run-1","ui_url":"http://localhost:8233/namespaces/default/workflows/whatsapp-number-+15551234567/run-1/history","stage":"registered","region":"DE"}`, string(b))
	require.Equal(t, onboarding.ChangeRegionInput{Region: "DE"}, e.f.updates[0].Args[0])

	// "" turns local storage off.
	resp, b = e.call("POST", "/v1/numbers/+15551234567/change-region", `{"region":""}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.Equal(t, onboarding.ChangeRegionInput{Region: ""}, e.f.updates[1].Args[0])

	// Without waiting: accepted, with the stage now.
	e.f.status.Stage = onboarding.StageRegistered
	for _, op := range []string{"reregister", "deregister"} {
		resp, b = e.call("POST", "/v1/numbers/+15551234567/"+op+"?wait=false", "")
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
		require.Contains(t, string(b), `"stage":"registered"`)
		require.Contains(t, string(b), op+" accepted for +15551234567 and queued")
	}
	require.Equal(t, onboarding.UpdateDeregister, e.f.updates[len(e.f.updates)-1].UpdateName)

	// Waiting, and the wait runs out after the run took it: 202, follow.
	e.f.getBlocks = true
	resp, b = e.call("POST", "/v1/numbers/+15551234567/deregister?timeout=50ms", "")
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
	require.Equal(t, "/v1/numbers/+15551234567", resp.Header.Get("Location"))
	require.Contains(t, string(b), `"follow":"/v1/numbers/+15551234567"`)
	require.Contains(t, string(b), "still running")
	resp, b = e.call("POST", "/v1/numbers/+15551234567/fix?timeout=50ms", `{"pin":"135790"}`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
	require.NotContains(t, e.logText(), "135790")
}

func TestFixResendCancelSkipList(t *testing.T) {
	e := setup(t)
	e.f.result = onboarding.Status{Stage: onboarding.StageRegistering}
	e.f.status.Stage = onboarding.StageRegistering
	resp, b := e.call("POST", "/v1/numbers/+15551234567/fix", `{"pin":"135790","display_name":"Acme Help"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.Contains(t, string(b), `"stage":"registering"`)
	fix := e.f.updates[0].Args[0].(onboarding.FixInput)
	pin, err := e.opener.Open(seal.PurposePIN, fix.PIN)
	require.NoError(t, err)
	require.Equal(t, "135790", pin)
	require.Equal(t, "Acme Help", fix.DisplayName)

	resp, b = e.call("POST", "/v1/numbers/+15551234567/resend-code", `{"method":"VOICE"}`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
	require.Equal(t, onboarding.ResendInput{Method: onboarding.CodeVoice}, e.f.signals[onboarding.SignalResendCode])
	resp, b = e.call("POST", "/v1/numbers/+15551234567/resend-code", "")
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))

	resp, b = e.call("DELETE", "/v1/numbers/+15551234567", "")
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
	require.Equal(t, 1, e.f.cancels)

	e.f.status.SleepingUntil = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	e.f.status.SleepReason = "Meta's register window"
	resp, b = e.call("POST", "/v1/numbers/+15551234567/skip-wait", "")
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
	require.Contains(t, string(b), "2030-01-02T03:04:05Z")
	require.Contains(t, e.f.signals, onboarding.SignalSkipWait)

	resp, b = e.call("GET", "/v1/numbers?stage=registered", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.JSONEq(t, `{"numbers":[]}`, string(b))
	require.Contains(t, e.f.listQuery, "WhatsAppStage = 'registered'")

	resp, b = e.call("GET", "/v1/numbers/+15551234567", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var st struct {
		onboarding.Status
		RunID string `json:"run_id"`
		UIURL string `json:"ui_url"`
	}
	require.NoError(t, json.Unmarshal(b, &st))
	require.Equal(t, onboarding.StageRegistering, st.Stage)
	require.Equal(t, "run-1", st.RunID)
}

func TestReadinessIsCachedAndSaysWhy(t *testing.T) {
	e := setup(t, func(o *httpapi.Options) { o.ReadyTTL = time.Hour })
	e.f.healthErr = errors.New("dial tcp 10.1.2.3:7233: connect: connection refused")
	for range 3 {
		resp, b := e.send("GET", "/readyz", "", nil)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.JSONEq(t, `{"status":"unavailable","detail":"cannot reach Temporal"}`, string(b))
	}
	require.Equal(t, 1, e.f.health, "answers are reused within the TTL")
	require.Contains(t, e.logText(), "10.1.2.3", "the cause goes to the log")

	e2 := setup(t, func(o *httpapi.Options) { o.ReadyTTL = time.Nanosecond })
	for range 2 {
		resp, _ := e2.send("GET", "/readyz", "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	require.Equal(t, 2, e2.f.health)
	resp, b := e2.send("GET", "/openapi.yaml", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(b), "openapi: 3.0")
}

func TestRequestLogHasNoSecretsOrBodies(t *testing.T) {
	e := setup(t)
	resp, _ := e.send("POST", "/v1/numbers", onboardBody, map[string]string{
		"Authorization": "Bearer " + token, "Content-Type": "application/json", "X-Request-Id": "abc-123"})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, "abc-123", resp.Header.Get("X-Request-Id"))
	entries := e.logs.FilterMessage("request").All()
	require.Len(t, entries, 1)
	m := entries[0].ContextMap()
	require.Equal(t, "abc-123", m["request_id"])
	require.Equal(t, "POST /v1/numbers", m["route"])
	require.EqualValues(t, 201, m["status"])
	text := e.logText()
	for _, secret := range []string{"024680", token, "Acme Support"} {
		require.NotContains(t, text, secret)
	}
	// A request id that could forge log lines is replaced.
	resp, _ = e.send("GET", "/healthz", "", map[string]string{"X-Request-Id": "x\" injected"})
	require.Len(t, resp.Header.Get("X-Request-Id"), 24)
}
