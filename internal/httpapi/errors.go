package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// Problem codes, the stable part of an error answer (see api/openapi.yaml).
const (
	codeInvalidInput     = "invalid_input"
	codeInvalidJSON      = "invalid_json"
	codeUnauthorized     = "unauthorized"
	codeNoRun            = "no_run"
	codeRefused          = "refused"
	codeNothingToSkip    = "nothing_to_skip"
	codeTooLarge         = "body_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeInternal         = "internal"
	codeUnavailable      = "temporal_unavailable"
	codeNoAnswer         = "no_answer"
)

// problem is an RFC 9457 problem document.
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Code      string       `json:"code"`
	Detail    string       `json:"detail"`
	Errors    []fieldError `json:"errors,omitempty"`
	Follow    string       `json:"follow,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
}

type fieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

// problemError is an error answer decided by this package.
type problemError struct {
	status int
	code   string
	detail string
}

func (e *problemError) Error() string { return e.detail }

func (h *handler) problem(w http.ResponseWriter, r *http.Request, status int, code, detail string, p *problem) {
	if p == nil {
		p = &problem{}
	}
	p.Type, p.Title, p.Status, p.Code, p.Detail = "about:blank", http.StatusText(status), status, code, detail
	ri := info(r)
	p.RequestID, ri.code = ri.id, code
	writeJSON(w, status, "application/problem+json", p)
}

// fail answers err. The onboarding.Client's errors are mapped by kind;
// their text is passed on only where it is the Client's or the workflow's
// own words, never the SDK's or gRPC's.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	n, _ := number(r) // "" for routes without a number
	var pe *problemError
	switch {
	case errors.As(err, &pe):
		h.problem(w, r, pe.status, pe.code, pe.detail, nil)
	case inputErrors(err) != nil:
		fields := inputErrors(err)
		parts := make([]string, len(fields))
		for i, f := range fields {
			parts[i] = f.Field + ": " + f.Rule
		}
		h.problem(w, r, http.StatusBadRequest, codeInvalidInput, "invalid input: "+strings.Join(parts, "; "), &problem{Errors: fields})
	case errors.Is(err, onboarding.ErrStillRunning):
		// The run took the operation; only the wait for its end ran out.
		w.Header().Set("Location", follow(n))
		writeJSON(w, http.StatusAccepted, "application/json", acceptedBody{
			runLink: h.link(r, n),
			Message: "accepted, still running: the run took the request and goes on with it; follow it with GET " + follow(n),
			Follow:  follow(n),
		})
	case errors.Is(err, onboarding.ErrNoRun):
		detail := "no onboarding run owns " + n + ": it was never onboarded or its run is closed; onboard it with POST /v1/numbers, or look for it with GET /v1/numbers"
		h.problem(w, r, http.StatusNotFound, codeNoRun, detail, nil)
	case unavailable(err):
		info(r).cause = err
		h.problem(w, r, http.StatusServiceUnavailable, codeUnavailable, "the gateway cannot reach Temporal; try again later", nil)
	case timedOut(err):
		info(r).cause = err
		p := &problem{}
		detail := "no answer from Temporal in time"
		if n != "" {
			p.Follow = follow(n)
			detail += "; whether the run took the request, GET " + follow(n) + " shows"
		}
		h.problem(w, r, http.StatusGatewayTimeout, codeNoAnswer, detail, p)
	case refused(err):
		// A workflow's own words, such as "the run does not need attention
		// (stage registered)", reduced by OperationError to its message.
		h.problem(w, r, http.StatusConflict, codeRefused, reason(err), nil)
	default:
		info(r).cause = err
		h.problem(w, r, http.StatusInternalServerError, codeInternal, "the request failed; see the gateway's log under request_id "+info(r).id, nil)
	}
}

// inputErrors returns the refused fields in err, nil if it refuses none.
func inputErrors(err error) []fieldError {
	var out []fieldError
	for _, e := range onboarding.SplitErrors(err) {
		if ie, ok := errors.AsType[*onboarding.InputError](e); ok {
			out = append(out, fieldError{Field: ie.Field, Rule: ie.Rule})
		}
	}
	return out
}

func reason(err error) string {
	if oe, ok := errors.AsType[*onboarding.OperationError](err); ok {
		return oe.Reason()
	}
	return err.Error()
}

func grpcCode(err error) (codes.Code, bool) {
	if se, ok := errors.AsType[serviceerror.ServiceError](err); ok {
		return se.Status().Code(), true
	}
	if s, ok := status.FromError(err); ok && s != nil {
		return s.Code(), true
	}
	return codes.OK, false
}

func unavailable(err error) bool {
	c, ok := grpcCode(err)
	return ok && c == codes.Unavailable
}

func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	if _, ok := errors.AsType[*client.WorkflowUpdateServiceTimeoutOrCanceledError](err); ok {
		return true
	}
	c, ok := grpcCode(err)
	return ok && (c == codes.DeadlineExceeded || c == codes.Canceled)
}

// refused reports whether the workflow turned the request down: an update
// validator or handler returned an error.
func refused(err error) bool {
	_, ok := errors.AsType[*temporal.ApplicationError](err)
	return ok
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	if status == 0 { // the route wrote its answer itself
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<token>" reads better than "\u003ctoken\u003e"
	err := enc.Encode(v)
	b := buf.Bytes()
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"code":"internal","detail":"cannot encode the answer"}`+"\n")
		contentType = "application/problem+json"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
