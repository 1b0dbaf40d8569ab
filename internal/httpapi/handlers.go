package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// runLink identifies the run an answer is about.
type runLink struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id,omitempty"`
	UIURL      string `json:"ui_url"`
}

// acceptedBody answers 202: the run took the request and goes on with it.
type acceptedBody struct {
	runLink
	Message string           `json:"message"`
	Follow  string           `json:"follow"`
	Stage   onboarding.Stage `json:"stage,omitempty"`
	Region  string           `json:"region,omitempty"`
}

type codeBody struct {
	runLink
	Accepted bool   `json:"accepted"`
	Message  string `json:"message,omitempty"`
}

type operationDone struct {
	runLink
	Stage  onboarding.Stage `json:"stage"`
	Region string           `json:"region"`
}

type statusBody struct {
	onboarding.Status
	RunID string `json:"run_id,omitempty"`
	UIURL string `json:"ui_url"`
}

type listBody struct {
	Numbers []onboarding.ListEntry `json:"numbers"`
}

// follow is the resource that shows how a number's run goes on.
func follow(number string) string { return "/v1/numbers/" + number }

// number is the path's number in E.164 with its '+'.
func number(r *http.Request) (string, error) {
	return onboarding.NormalizeE164(r.PathValue("number"))
}

// pathNumber is the path's number in E.164 if it is one, else as given:
// the Client refuses it then, together with the other refused fields.
func pathNumber(r *http.Request) string {
	if n, err := number(r); err == nil {
		return n
	}
	return r.PathValue("number")
}

// waitParams reads ?wait= and ?timeout=.
func (h *handler) waitParams(r *http.Request) (bool, time.Duration, error) {
	q := r.URL.Query()
	wait, timeout := true, h.wait
	var errs []error
	if s := q.Get("wait"); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, &onboarding.InputError{Field: "wait", Rule: "must be true or false"})
		}
		wait = v || err != nil
	}
	if s := q.Get("timeout"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > h.maxWait {
			errs = append(errs, &onboarding.InputError{Field: "timeout", Rule: "must be a duration such as \"30s\" or \"2m\", above 0 and at most " + h.maxWait.String()})
		}
		timeout = d
	}
	return wait, timeout, errors.Join(errs...)
}

// link finds the run to link to. A failure only costs the run id, never
// the answer; it runs after the operation's own wait, which may have used
// up the request's context.
func (h *handler) link(r *http.Request, number string) runLink {
	ctx, cancel := afterWait(r)
	defer cancel()
	run, err := h.c.CurrentRun(ctx, number)
	if err != nil {
		id := onboarding.WorkflowIDForE164(number)
		return runLink{WorkflowID: id, UIURL: h.c.UIURL(id, "")}
	}
	return runLink{WorkflowID: run.WorkflowID, RunID: run.RunID, UIURL: run.UIURL}
}

func (h *handler) accepted(w http.ResponseWriter, r *http.Request, number, message string) (int, any, error) {
	w.Header().Set("Location", follow(number))
	return http.StatusAccepted, acceptedBody{runLink: h.link(r, number), Message: message, Follow: follow(number)}, nil
}

// afterWait is a context for a short read after an operation's wait, which
// may have used up the request's context.
func afterWait(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
}

// bounded is the request's context ended by the request's wait.
func bounded(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d)
}

func (h *handler) onboard(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in onboarding.OnboardInput
	if err := decode(w, r, &in, maxOnboardBody, true); err != nil {
		return 0, nil, err
	}
	ctx, cancel := bounded(r, h.wait)
	defer cancel()
	run, err := h.c.Onboard(ctx, in)
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", follow(in.E164()))
	if run.AlreadyRunning {
		return http.StatusOK, run, nil
	}
	return http.StatusCreated, run, nil
}

func (h *handler) list(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	stage := onboarding.Stage(r.URL.Query().Get("stage"))
	if _, err := onboarding.ListQuery(stage); err != nil {
		return 0, nil, err
	}
	ctx, cancel := bounded(r, h.wait)
	defer cancel()
	entries, err := h.c.List(ctx, stage)
	if err != nil {
		return 0, nil, err
	}
	if entries == nil {
		entries = []onboarding.ListEntry{}
	}
	return http.StatusOK, listBody{Numbers: entries}, nil
}

func (h *handler) status(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	n, err := number(r)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := bounded(r, h.wait)
	defer cancel()
	st, err := h.c.Status(ctx, n)
	if err != nil {
		return 0, nil, err
	}
	return h.statusOK(r, n, st)
}

// statusOK answers 200 with st and the link to its run.
func (h *handler) statusOK(r *http.Request, n string, st onboarding.Status) (int, any, error) {
	l := h.link(r, n)
	return http.StatusOK, statusBody{Status: st, RunID: l.RunID, UIURL: l.UIURL}, nil
}

func (h *handler) cancel(w http.ResponseWriter, r *http.Request) (int, any, error) {
	n, err := number(r)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := bounded(r, h.wait)
	defer cancel()
	// The link is read first: after a cancel the run may be gone from the
	// running set, but its history is what to look at.
	l := h.link(r, n)
	if err := h.c.Cancel(ctx, n); err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", follow(n))
	return http.StatusAccepted, acceptedBody{runLink: l, Message: "asked the run of " + n + " to stop; the number stays as it is at Meta", Follow: follow(n)}, nil
}

func (h *handler) sendCode(w http.ResponseWriter, r *http.Request) (int, any, error) {
	n := pathNumber(r)
	wait, timeout, werr := h.waitParams(r)
	var in onboarding.CodeInput
	if err := errors.Join(werr, decode(w, r, &in, maxBody, true)); err != nil {
		return 0, nil, err
	}
	ctx, cancel := bounded(r, timeout)
	defer cancel()
	if !wait {
		if err := h.c.SignalCode(ctx, n, in.Code); err != nil {
			return 0, nil, err
		}
		return h.accepted(w, r, n, "code delivered to the run of "+n+"; whether Meta accepts it shows in GET "+follow(n))
	}
	res, err := h.c.SendCode(ctx, n, in.Code)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, codeBody{runLink: h.link(r, n), Accepted: res.Accepted, Message: res.Message}, nil
}

func (h *handler) resendCode(w http.ResponseWriter, r *http.Request) (int, any, error) {
	n := pathNumber(r)
	var in onboarding.ResendInput
	if err := decode(w, r, &in, maxBody, false); err != nil {
		return 0, nil, err
	}
	ctx, cancel := bounded(r, h.wait)
	defer cancel()
	if err := h.c.ResendCode(ctx, n, in); err != nil {
		return 0, nil, err
	}
	by := "by the method of its last request"
	if in.Method != "" {
		by = "by " + string(in.Method)
	}
	return h.accepted(w, r, n, "asked the run of "+n+" to request a new code "+by+"; send it with POST "+follow(n)+"/code")
}

// changeRegionBody tells a missing region from "" (none).
type changeRegionBody struct {
	Region *string `json:"region"`
}

func (h *handler) changeRegion(w http.ResponseWriter, r *http.Request) (int, any, error) {
	n := pathNumber(r)
	wait, timeout, werr := h.waitParams(r)
	var in changeRegionBody
	err := errors.Join(werr, decode(w, r, &in, maxBody, true))
	if err == nil && in.Region == nil {
		_, nerr := number(r)
		err = errors.Join(nerr, &onboarding.InputError{Field: "region", Rule: `is required: a region such as "CH", or "" to turn local storage off`})
	}
	if err != nil {
		return 0, nil, err
	}
	region := *in.Region
	return h.operation(w, r, n, "change-region to "+regionName(region), wait, timeout, func(ctx context.Context) (onboarding.OperationResult, error) {
		return h.c.ChangeRegion(ctx, n, region, wait)
	})
}

func (h *handler) reregister(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return h.bareOperation(w, r, "reregister", h.c.Reregister)
}

func (h *handler) deregister(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return h.bareOperation(w, r, "deregister", h.c.Deregister)
}

func (h *handler) bareOperation(w http.ResponseWriter, r *http.Request, what string,
	op func(context.Context, string, bool) (onboarding.OperationResult, error)) (int, any, error) {
	n := pathNumber(r)
	wait, timeout, werr := h.waitParams(r)
	// No body is expected; one that is there must still be an empty JSON
	// object, so that a caller's misplaced fields are not ignored.
	var none struct{}
	if err := errors.Join(werr, decode(w, r, &none, maxBody, false)); err != nil {
		return 0, nil, err
	}
	return h.operation(w, r, n, what, wait, timeout, func(ctx context.Context) (onboarding.OperationResult, error) {
		return op(ctx, n, wait)
	})
}

// operation runs an update that returns an OperationResult: 200 when done,
// 202 when only accepted (wait=false).
func (h *handler) operation(w http.ResponseWriter, r *http.Request, n, what string, wait bool, timeout time.Duration,
	op func(context.Context) (onboarding.OperationResult, error)) (int, any, error) {
	ctx, cancel := bounded(r, timeout)
	defer cancel()
	res, err := op(ctx)
	if err != nil {
		return 0, nil, err
	}
	l := h.link(r, n)
	if wait {
		return http.StatusOK, operationDone{runLink: l, Stage: res.Stage, Region: res.Region}, nil
	}
	w.Header().Set("Location", follow(n))
	msg := what + " accepted for " + n + " and queued; the run does it in turn (follow it with GET " + follow(n) + ")"
	if res.Stage == onboarding.StageNeedsAttention {
		msg += "; it needs attention first: see GET " + follow(n) + ", then POST " + follow(n) + "/fix"
	}
	return http.StatusAccepted, acceptedBody{runLink: l, Message: msg, Follow: follow(n), Stage: res.Stage, Region: res.Region}, nil
}

func regionName(region string) string {
	if region == "" {
		return "none"
	}
	return region
}

func (h *handler) fix(w http.ResponseWriter, r *http.Request) (int, any, error) {
	n := pathNumber(r)
	_, timeout, werr := h.waitParams(r)
	var in onboarding.FixInput
	if err := errors.Join(werr, decode(w, r, &in, maxBody, false)); err != nil {
		return 0, nil, err
	}
	ctx, cancel := bounded(r, timeout)
	defer cancel()
	st, err := h.c.FixInput(ctx, n, in)
	if err != nil {
		return 0, nil, err
	}
	// The update answers once the run has taken the fix, which may be
	// before it left needs_attention; a fresh status says where it went.
	qctx, qcancel := afterWait(r)
	defer qcancel()
	if now, err := h.c.Status(qctx, n); err == nil {
		st = now
	}
	return h.statusOK(r, n, st)
}

// skipWait signals only when the run sleeps: the workflow ignores the
// signal otherwise, and "skipped" would claim an effect there is none of.
func (h *handler) skipWait(w http.ResponseWriter, r *http.Request) (int, any, error) {
	n, err := number(r)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := bounded(r, h.wait)
	defer cancel()
	st, err := h.c.Status(ctx, n)
	if err != nil {
		return 0, nil, err
	}
	if st.SleepingUntil.IsZero() {
		detail := "nothing to skip: the run of " + n + " is not in a durable wait (stage " + string(st.Stage)
		if st.Detail != "" {
			detail += ": " + st.Detail
		}
		return 0, nil, &problemError{status: http.StatusConflict, code: codeNothingToSkip, detail: detail + ")"}
	}
	if err := h.c.SkipWait(ctx, n); err != nil {
		return 0, nil, err
	}
	return h.accepted(w, r, n, "cut short the wait of "+n+" that was to last until "+
		st.SleepingUntil.UTC().Format(time.RFC3339)+" ("+st.SleepReason+"); the run goes on now")
}
