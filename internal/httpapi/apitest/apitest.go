// Package apitest checks HTTP traffic against the API's OpenAPI document
// (api/openapi.yaml), for the tests of the server and of the gateway: the
// document and the server must agree on every request a test makes.
package apitest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/wa-onboarding/onboarding/api"
)

// RequestErrorHeader is set on a response returned through a Validator's
// transport when the document refuses the request that caused it, with
// the reason; tests of refused input assert that the document refuses it
// too.
const RequestErrorHeader = "X-Test-Openapi-Request-Error"

// Doc loads and validates api/openapi.yaml.
func Doc(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// Operations lists the document's operations as "METHOD /path".
func Operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// A Validator checks requests and responses against the document and
// notes which operations were answered.
type Validator struct {
	doc    *openapi3.T
	router routers.Router

	mu       sync.Mutex
	answered map[string][]int // "METHOD /path" → statuses seen
}

// New returns a Validator of api/openapi.yaml.
func New(t testing.TB) *Validator {
	t.Helper()
	doc := Doc(t)
	// Requests go to test servers on any address.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return &Validator{doc: doc, router: router, answered: map[string][]int{}}
}

// Answered returns the statuses each operation was answered with.
func (v *Validator) Answered() map[string][]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string][]int, len(v.answered))
	for k, s := range v.answered {
		out[k] = slices.Clone(s)
	}
	return out
}

// Doc returns the document.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// Client returns an http.Client whose every exchange is checked: the
// response must be one the document describes for the operation, and a
// request the document refuses must not be answered with success. t's
// test fails otherwise.
func (v *Validator) Client(t testing.TB) *http.Client {
	return &http.Client{Transport: &transport{t: t, v: v, next: http.DefaultTransport}}
}

type transport struct {
	t    testing.TB
	v    *Validator
	next http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t := tr.t
	ctx := context.Background()
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		reqBody = b
	}
	reset := func() {
		if reqBody != nil {
			req.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
	}
	reset()
	route, params, err := tr.v.router.FindRoute(req)
	if err != nil {
		t.Errorf("%s %s: not in api/openapi.yaml: %v", req.Method, req.URL.Path, err)
		return tr.next.RoundTrip(req)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.SecuritySchemeName == "bearer" {
				scheme, tok, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
				if !ok || !strings.EqualFold(scheme, "bearer") || tok == "" {
					return errors.New("no bearer token")
				}
			}
			return nil
		},
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	reset()

	resp, err := tr.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	op := req.Method + " " + route.Path

	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: opts}
	rin.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		t.Errorf("%s: the %d answer disagrees with api/openapi.yaml: %v\nbody: %s", op, resp.StatusCode, err, body)
	}
	if reqErr != nil {
		resp.Header.Set(RequestErrorHeader, strings.Join(strings.Fields(reqErr.Error()), " "))
		if resp.StatusCode < 300 {
			t.Errorf("%s: answered %d to a request api/openapi.yaml refuses: %v", op, resp.StatusCode, reqErr)
		}
	}
	tr.v.mu.Lock()
	tr.v.answered[op] = append(tr.v.answered[op], resp.StatusCode)
	tr.v.mu.Unlock()
	return resp, nil
}
