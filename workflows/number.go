// Package workflows holds the per-number workflow: it onboards a WhatsApp
// Business number (add, verify ownership, register) and then stays its owner,
// serializing every register and deregister on the number inside Meta's
// 10-per-72-hours budget.
//
// The workflow is deterministic and does no I/O: every Graph API call is an
// activity (package activities).
package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/activities"
	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/validate"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Waits the workflow applies on its own.
const (
	// A recently deleted number (133015) can be registered again after
	// about five minutes.
	recentlyDeletedWait = 5 * time.Minute
	// Too many PIN guesses (133008/133009): Meta's details name a wait; an
	// hour is safely longer than what is seen.
	pinThrottledWait = time.Hour
	// Backoff between register/deregister attempts that failed transiently:
	// each attempt spends budget, so the workflow paces them itself.
	minCallBackoff = 30 * time.Second
	maxCallBackoff = time.Hour
	// maxPendingOperations bounds the queue of change-region, reregister
	// and deregister updates.
	maxPendingOperations = 10
)

// continueAsNewAfterEvents caps a run's history even when the server does not
// suggest continue-as-new.
var continueAsNewAfterEvents = 5000

// a is only used to name activity methods; the worker registers the real one.
var a *activities.Activities

type operationKind string

const (
	opChangeRegion operationKind = onboarding.UpdateChangeRegion
	opReregister   operationKind = onboarding.UpdateReregister
	opDeregister   operationKind = onboarding.UpdateDeregister
)

type operation struct {
	kind   operationKind
	region string
	done   bool
	result onboarding.OperationResult
}

type pendingCode struct {
	id   int // 0 for codes that came by signal: nobody waits for an answer
	code string
}

// run is the state of one run of the workflow. Handlers only append to its
// inboxes (codes, resend, ops, fix, skip); the main coroutine acts on them,
// so Graph calls on a number never overlap.
type run struct {
	in     onboarding.OnboardInput
	id     string
	logger log.Logger

	stage         onboarding.Stage
	detail        string
	phoneNumberID string
	region        string // the region applied on Meta's side
	registered    bool
	ledger        onboardingLedger
	lastError     *onboarding.GraphError
	sleepUntil    time.Time
	sleepReason   string
	startedAt     time.Time
	updatedAt     time.Time
	registeredAt  time.Time
	onboarded     bool

	awaitingCode    bool
	codeRequestedAt time.Time
	codeWaitExpired bool
	codes           []pendingCode
	codeResults     map[int]onboarding.CodeResult
	nextCodeID      int
	resend          *onboarding.ResendInput

	skip bool

	ops []*operation

	awaitingFix bool
	fix         *onboarding.FixInput
}

// Number onboards one WhatsApp Business number and then serves it. It ends
// only when cancelled; it continues as new, carrying the ledger, before its
// history grows large.
func Number(ctx workflow.Context, in onboarding.OnboardInput) (onboarding.Status, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return onboarding.Status{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidInput, nil)
	}
	info := workflow.GetInfo(ctx)
	r := &run{
		in:          in,
		id:          info.WorkflowExecution.ID,
		logger:      workflow.GetLogger(ctx),
		startedAt:   workflow.Now(ctx),
		codeResults: map[int]onboarding.CodeResult{},
	}
	if res := in.Resume; res != nil {
		r.phoneNumberID = res.PhoneNumberID
		r.stage = res.Stage
		r.region = res.Region
		r.registered = res.Stage == onboarding.StageRegistered
		r.ledger = onboardingLedger(res.Ledger)
		r.startedAt = res.StartedAt
		r.registeredAt = res.RegisteredAt
		r.onboarded = true
		r.in.Resume = nil
	}
	if err := r.registerHandlers(ctx); err != nil {
		return onboarding.Status{}, err
	}
	r.upsert(ctx, onboarding.SearchAttributeWABAID.ValueSet(r.in.WABAID))
	if r.phoneNumberID != "" {
		r.upsert(ctx, onboarding.SearchAttributePhoneNumberID.ValueSet(r.phoneNumberID))
	}

	err := r.main(ctx)
	if ctx.Err() != nil || temporal.IsCanceledError(err) {
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		r.setStage(dctx, onboarding.StageCancelled, "cancelled by an operator")
		r.answerPendingCodes("the run was cancelled")
	}
	return r.status(ctx), err
}

func (r *run) main(ctx workflow.Context) error {
	if !r.onboarded {
		if err := r.onboard(ctx); err != nil {
			return err
		}
	} else {
		r.setStage(ctx, r.stage, "continued as new; serving the number")
	}
	return r.serve(ctx)
}

// onboard adds the number, proves ownership unless it is already proven, and
// registers it.
func (r *run) onboard(ctx workflow.Context) error {
	r.setStage(ctx, onboarding.StageAdding, "adding "+r.in.E164()+" to WABA "+r.in.WABAID)
	var added activities.AddNumberResult
	err := r.retryUntilFixed(ctx, "add_phone_number", func(ctx workflow.Context) error {
		actx := r.activityCtx(ctx, "Add "+r.in.E164()+" to WABA "+r.in.WABAID, false)
		return workflow.ExecuteActivity(actx, a.AddPhoneNumber, activities.AddNumberInput{
			WABAID:        r.in.WABAID,
			CountryCode:   r.in.CountryCode,
			PhoneNumber:   r.in.PhoneNumber,
			DisplayName:   r.in.DisplayName,
			Migrate:       r.in.Migrate,
			PreverifiedID: r.in.PreverifiedID,
		}).Get(ctx, &added)
	})
	if err != nil {
		return err
	}
	r.phoneNumberID = added.PhoneNumberID
	r.upsert(ctx, onboarding.SearchAttributePhoneNumberID.ValueSet(r.phoneNumberID))
	if added.Adopted {
		r.logger.Info("number was already on the WABA; adopted", "phone_number_id", r.phoneNumberID)
	}

	verified := r.in.PreverifiedID != ""
	if !verified {
		st, err := r.readNumber(ctx)
		if err != nil {
			return err
		}
		verified = st.CodeVerificationStatus == graph.CodeVerified
	}
	if !verified {
		if err := r.verifyOwnership(ctx); err != nil {
			return err
		}
	}
	if err := r.registerNumber(ctx, r.in.Region); err != nil {
		return err
	}
	r.onboarded = true
	return nil
}

// verifyOwnership requests a code and waits, as long as it takes, for one
// that Meta accepts. Wrong or expired codes wait for another; resend-code
// asks for a new one.
func (r *run) verifyOwnership(ctx workflow.Context) error {
	r.awaitingCode = true
	defer func() { r.awaitingCode = false }()
	method, lang := r.in.CodeMethod, r.in.Language
	if err := r.requestCode(ctx, method, lang); err != nil {
		return err
	}
	for {
		if err := r.awaitCode(ctx); err != nil {
			return err
		}
		if res := r.resend; res != nil {
			r.resend = nil
			if res.Method != "" {
				method = res.Method
			}
			if res.Language != "" {
				lang = res.Language
			}
			if err := r.requestCode(ctx, method, lang); err != nil {
				return err
			}
			continue
		}
		c := r.codes[0]
		r.codes = r.codes[1:]
		r.setStage(ctx, onboarding.StageVerifying, "checking an ownership code with Meta")
		actx := r.activityCtx(ctx, "Verify the ownership code of "+r.in.E164(), false)
		err := workflow.ExecuteActivity(actx, a.VerifyCode, activities.VerifyCodeInput{
			PhoneNumberID: r.phoneNumberID, Code: c.code,
		}).Get(ctx, nil)
		if err == nil {
			r.answer(c, onboarding.CodeResult{Accepted: true, Message: "Meta accepted the code; the number is verified"})
			r.answerPendingCodes("the number was already verified by an earlier code")
			return nil
		}
		class, ge := classify(ctx, "verify_code", err)
		if class == classCanceled {
			r.answer(c, onboarding.CodeResult{Message: "the run was cancelled"})
			return err
		}
		r.recordError(ge)
		if class == classWrongCode {
			r.answer(c, onboarding.CodeResult{Message: "Meta rejected the code (136025: wrong or expired); send the right one or ask for a new one with resend-code"})
			continue
		}
		r.answer(c, onboarding.CodeResult{Message: "the code could not be checked: " + describe(ge)})
		if err := r.needsAttention(ctx, "verifying the code failed: "+describe(ge)); err != nil {
			return err
		}
	}
}

// awaitCode parks the run in awaiting-code until a code or a resend request
// arrives. When CodeWait runs out the run stays parked, flagged in the status.
func (r *run) awaitCode(ctx workflow.Context) error {
	ready := func() bool { return len(r.codes) > 0 || r.resend != nil }
	if ready() {
		return nil
	}
	deadline := r.codeRequestedAt.Add(time.Duration(r.in.CodeWait))
	if wait := deadline.Sub(workflow.Now(ctx)); wait > 0 && !r.codeWaitExpired {
		r.setStage(ctx, onboarding.StageAwaitingCode, fmt.Sprintf(
			"waiting for the %s code sent at %s (send it with verify, or resend-code)", r.in.CodeMethod, r.codeRequestedAt.Format(time.RFC3339)))
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      wait,
			TimerOptions: workflow.TimerOptions{Summary: "Wait for the ownership code"},
		}, ready)
		if err != nil || ok {
			return err
		}
	}
	r.codeWaitExpired = true
	r.setStage(ctx, onboarding.StageAwaitingCode, fmt.Sprintf(
		"no code arrived within %s: parked until a code is sent or resend-code asks for a new one", r.in.CodeWait))
	r.logger.Warn("no ownership code within the wait; run parked", "code_wait", r.in.CodeWait)
	return workflow.Await(ctx, ready)
}

func (r *run) requestCode(ctx workflow.Context, method onboarding.CodeMethod, lang string) error {
	err := r.retryUntilFixed(ctx, "request_code", func(ctx workflow.Context) error {
		r.setStage(ctx, onboarding.StageAwaitingCode, fmt.Sprintf("asking Meta to send a code by %s", method))
		actx := r.activityCtx(ctx, fmt.Sprintf("Request a %s code for %s", method, r.in.E164()), false)
		return workflow.ExecuteActivity(actx, a.RequestCode, activities.RequestCodeInput{
			PhoneNumberID: r.phoneNumberID, Method: string(method), Language: lang,
		}).Get(ctx, nil)
	})
	if err != nil {
		return err
	}
	r.codeRequestedAt = workflow.Now(ctx)
	r.codeWaitExpired = false
	return nil
}

// readNumber reads the number's status, waiting for a fix on failure: a
// status read that failed is never taken for "not verified".
func (r *run) readNumber(ctx workflow.Context) (activities.NumberState, error) {
	var st activities.NumberState
	err := r.retryUntilFixed(ctx, "get_phone_number", func(ctx workflow.Context) error {
		actx := r.activityCtx(ctx, "Read the status of "+r.in.E164(), false)
		return workflow.ExecuteActivity(actx, a.GetPhoneNumber, r.phoneNumberID).Get(ctx, &st)
	})
	return st, err
}

// awaitNameReady re-reads name_status on a durable timer until the display
// name can be registered: registering earlier costs budget for nothing.
func (r *run) awaitNameReady(ctx workflow.Context) error {
	for {
		st, err := r.readNumber(ctx)
		if err != nil {
			return err
		}
		switch st.NameStatus {
		case graph.NameApproved, graph.NameAvailableWithoutReview:
			return nil
		case graph.NameDeclined, graph.NameExpired:
			msg := fmt.Sprintf("display name %q is %s: request a new name in WhatsApp Manager, then send fix-input", r.in.DisplayName, st.NameStatus)
			if err := r.needsAttention(ctx, msg); err != nil {
				return err
			}
		default:
			reason := fmt.Sprintf("display name is %s; re-checking every %s", orNone(st.NameStatus), r.in.NameCheckInterval)
			if _, err := r.sleep(ctx, time.Duration(r.in.NameCheckInterval), onboarding.StageAwaitingNameApproval, reason); err != nil {
				return err
			}
		}
	}
}

// registerNumber registers the number with region ("" for none), within the
// ledger, until Meta accepts or the run is cancelled.
func (r *run) registerNumber(ctx workflow.Context, region string) error {
	backoff := minCallBackoff
	for {
		if err := r.awaitNameReady(ctx); err != nil {
			return err
		}
		if err := r.spend(ctx, kindRegister); err != nil {
			return err
		}
		r.setStage(ctx, onboarding.StageRegistering, "registering for the Cloud API"+regionText(region))
		actx := r.activityCtx(ctx, "Register "+r.in.E164()+regionText(region), true)
		err := workflow.ExecuteActivity(actx, a.Register, activities.RegisterInput{
			PhoneNumberID: r.phoneNumberID, PIN: r.in.PIN, Region: region,
		}).Get(ctx, nil)
		if err == nil {
			r.registered = true
			r.region = region
			r.registeredAt = workflow.Now(ctx)
			r.setStage(ctx, onboarding.StageRegistered, "registered for the Cloud API"+regionText(region))
			return nil
		}
		class, ge := classify(ctx, "register", err)
		if class == classCanceled {
			return err
		}
		r.recordError(ge)
		switch class {
		case classWindowExhausted:
			r.metaLock(ctx, kindRegister)
		case classNameNotReady:
			reason := "Meta is still processing the display name (100/2388001)"
			if _, err := r.sleep(ctx, time.Duration(r.in.NameCheckInterval), onboarding.StageAwaitingNameApproval, reason); err != nil {
				return err
			}
		case classNeedsReverification:
			if err := r.verifyOwnership(ctx); err != nil {
				return err
			}
		case classRecentlyDeleted:
			if _, err := r.sleep(ctx, recentlyDeletedWait, onboarding.StageRegistering, "the number was deleted minutes ago (133015)"); err != nil {
				return err
			}
		case classDeregistrationIncomplete:
			if err := r.deregisterNumber(ctx); err != nil {
				return err
			}
		case classPINThrottled:
			if _, err := r.sleep(ctx, pinThrottledWait, onboarding.StageRegistering, "too many PIN attempts ("+fmt.Sprint(ge.Code)+")"); err != nil {
				return err
			}
		case classTransient, classThrottled:
			if _, err := r.sleep(ctx, backoff, onboarding.StageRegistering, "register failed transiently; retrying"); err != nil {
				return err
			}
			backoff = min(2*backoff, maxCallBackoff)
		case classPINMismatch:
			if err := r.needsAttention(ctx, "the two-step PIN does not match the number's (133005): send fix-input with the right PIN"); err != nil {
				return err
			}
		default:
			if err := r.needsAttention(ctx, describe(ge)); err != nil {
				return err
			}
		}
	}
}

// deregisterNumber deregisters the number within the ledger.
func (r *run) deregisterNumber(ctx workflow.Context) error {
	backoff := minCallBackoff
	for {
		if err := r.spend(ctx, kindDeregister); err != nil {
			return err
		}
		r.setStage(ctx, onboarding.StageDeregistering, "deregistering from the Cloud API")
		actx := r.activityCtx(ctx, "Deregister "+r.in.E164(), true)
		err := workflow.ExecuteActivity(actx, a.Deregister, r.phoneNumberID).Get(ctx, nil)
		if err == nil {
			r.registered = false
			r.region = ""
			r.setStage(ctx, onboarding.StageDeregistered, "deregistered; local storage is off")
			return nil
		}
		class, ge := classify(ctx, "deregister", err)
		if class == classCanceled {
			return err
		}
		r.recordError(ge)
		switch class {
		case classWindowExhausted:
			r.metaLock(ctx, kindDeregister)
		case classTransient, classThrottled:
			if _, err := r.sleep(ctx, backoff, onboarding.StageDeregistering, "deregister failed transiently; retrying"); err != nil {
				return err
			}
			backoff = min(2*backoff, maxCallBackoff)
		default:
			if err := r.needsAttention(ctx, describe(ge)); err != nil {
				return err
			}
		}
	}
}

// metaLock records the 72-hour lock Meta announced with 133016: calls made
// outside this worker spent the budget. spend then sleeps it out.
func (r *run) metaLock(ctx workflow.Context, k callKind) {
	*r.ledger.blockedUntil(k) = workflow.Now(ctx).Add(Window + WindowMargin)
	r.logger.Warn("Meta answered 133016: the number is locked for 72 hours", "operation", string(k))
}

// spend takes one call from the ledger, first sleeping on a durable timer
// until the window allows it. An operator's skip-wait makes the call at once.
func (r *run) spend(ctx workflow.Context, k callKind) error {
	for {
		now := workflow.Now(ctx)
		next := r.ledger.next(k, now)
		if !next.After(now) {
			break
		}
		var reason string
		if b := *r.ledger.blockedUntil(k); !b.Before(next) {
			reason = fmt.Sprintf("Meta locked %s for 72 hours (133016)", k)
		} else {
			reason = fmt.Sprintf("%d %s calls in the last 72 hours; the oldest leaves the window", WindowLimit, k)
		}
		skipped, err := r.sleep(ctx, next.Sub(now), onboarding.StageRateLimited, reason)
		if err != nil {
			return err
		}
		if skipped {
			*r.ledger.blockedUntil(k) = time.Time{}
			break
		}
	}
	r.ledger.record(k, workflow.Now(ctx))
	return nil
}

// sleep waits d on a durable timer, visible in the status. skip-wait cuts it
// short; it reports whether it was.
func (r *run) sleep(ctx workflow.Context, d time.Duration, stage onboarding.Stage, reason string) (bool, error) {
	r.sleepUntil = workflow.Now(ctx).Add(d)
	r.sleepReason = reason
	r.setStage(ctx, stage, reason+"; sleeping until "+r.sleepUntil.UTC().Format(time.RFC3339))
	r.skip = false
	skipped, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      d,
		TimerOptions: workflow.TimerOptions{Summary: reason},
	}, func() bool { return r.skip })
	r.skip = false
	r.sleepUntil, r.sleepReason = time.Time{}, ""
	if skipped {
		r.logger.Info("sleep cut short by skip-wait", "reason", reason)
	}
	return skipped, err
}

// retryUntilFixed runs a call whose activity retries transient failures on
// its own; whatever still fails parks the run in needs-attention until an
// operator fixes the input or cancels, then the call is tried again.
func (r *run) retryUntilFixed(ctx workflow.Context, op string, call func(workflow.Context) error) error {
	for {
		err := call(ctx)
		if err == nil {
			return nil
		}
		class, ge := classify(ctx, op, err)
		if class == classCanceled {
			return err
		}
		r.recordError(ge)
		if err := r.needsAttention(ctx, describe(ge)); err != nil {
			return err
		}
	}
}

// needsAttention parks the run until fix-input arrives, and applies it.
func (r *run) needsAttention(ctx workflow.Context, reason string) error {
	r.awaitingFix = true
	defer func() { r.awaitingFix = false }()
	r.setStage(ctx, onboarding.StageNeedsAttention, reason+" (send fix-input to retry, or cancel)")
	r.logger.Warn("run needs attention", "reason", reason)
	if err := workflow.Await(ctx, func() bool { return r.fix != nil }); err != nil {
		return err
	}
	f := *r.fix
	if f.PIN != "" {
		r.in.PIN = f.PIN
	}
	if f.Region != "" {
		r.in.Region = f.Region
	}
	if f.ClearRegion {
		r.in.Region = ""
	}
	if f.DisplayName != "" {
		r.in.DisplayName = f.DisplayName
	}
	r.fix = nil
	return nil
}

// serve runs change-region, reregister and deregister updates one at a time,
// and continues as new when the history grows large.
func (r *run) serve(ctx workflow.Context) error {
	for {
		if err := workflow.Await(ctx, func() bool { return len(r.ops) > 0 || r.shouldContinueAsNew(ctx) }); err != nil {
			return err
		}
		if len(r.ops) == 0 {
			// Let accepted updates reach the queue before handing over.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || len(r.ops) > 0 }); err != nil {
				return err
			}
			if len(r.ops) > 0 {
				continue
			}
			return workflow.NewContinueAsNewError(ctx, onboarding.WorkflowType, r.resumeInput(ctx))
		}
		o := r.ops[0]
		if err := r.runOperation(ctx, o); err != nil {
			return err
		}
		o.result = onboarding.OperationResult{Stage: r.stage, Region: r.region}
		o.done = true
		r.ops = r.ops[1:]
	}
}

func (r *run) runOperation(ctx workflow.Context, o *operation) error {
	switch o.kind {
	case opChangeRegion:
		if r.registered {
			if err := r.deregisterNumber(ctx); err != nil {
				return err
			}
		}
		r.in.Region = o.region
		return r.registerNumber(ctx, o.region)
	case opReregister:
		region := r.region
		if !r.registered {
			region = r.in.Region
		}
		return r.registerNumber(ctx, region)
	case opDeregister:
		if !r.registered {
			return nil
		}
		return r.deregisterNumber(ctx)
	}
	return nil
}

func (r *run) shouldContinueAsNew(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= continueAsNewAfterEvents
}

func (r *run) resumeInput(ctx workflow.Context) onboarding.OnboardInput {
	in := r.in
	in.Resume = &onboarding.ResumeState{
		PhoneNumberID: r.phoneNumberID,
		Stage:         r.stage,
		Region:        r.region,
		Ledger:        r.ledger.pruned(workflow.Now(ctx)),
		StartedAt:     r.startedAt,
		RegisteredAt:  r.registeredAt,
	}
	return in
}

// activityCtx sets the options of one Graph call. single is for register and
// deregister: one attempt, because every attempt spends Meta's budget and the
// workflow, not a retry policy, decides when to spend more.
func (r *run) activityCtx(ctx workflow.Context, summary string, single bool) workflow.Context {
	policy := &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
		MaximumAttempts:    20,
	}
	if single {
		policy = &temporal.RetryPolicy{MaximumAttempts: 1}
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         policy,
		Summary:             summary,
	})
}

func (r *run) setStage(ctx workflow.Context, s onboarding.Stage, detail string) {
	if s != r.stage {
		r.stage = s
		r.upsert(ctx, onboarding.SearchAttributeStage.ValueSet(string(s)))
	}
	r.detail = detail
	r.updatedAt = workflow.Now(ctx)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** — %s", s, detail))
}

func (r *run) upsert(ctx workflow.Context, u temporal.SearchAttributeUpdate) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, u); err != nil {
		r.logger.Warn("cannot upsert search attribute", "error", err)
	}
}

func (r *run) recordError(ge *onboarding.GraphError) {
	r.lastError = ge
	r.logger.Warn("Graph call failed", "op", ge.Op, "class", ge.Class, "code", ge.Code, "subcode", ge.Subcode, "fbtrace_id", ge.FBTraceID)
}

func (r *run) answer(c pendingCode, res onboarding.CodeResult) {
	if c.id != 0 {
		r.codeResults[c.id] = res
	}
}

func (r *run) answerPendingCodes(msg string) {
	for _, c := range r.codes {
		r.answer(c, onboarding.CodeResult{Message: msg})
	}
	r.codes = nil
}

func (r *run) status(ctx workflow.Context) onboarding.Status {
	now := workflow.Now(ctx)
	return onboarding.Status{
		WorkflowID:              r.id,
		Number:                  r.in.E164(),
		WABAID:                  r.in.WABAID,
		PhoneNumberID:           r.phoneNumberID,
		Stage:                   r.stage,
		Detail:                  r.detail,
		Region:                  r.region,
		Registered:              r.registered,
		CodeMethod:              r.in.CodeMethod,
		CodeRequestedAt:         r.codeRequestedAt,
		CodeWaitExpired:         r.awaitingCode && r.codeWaitExpired,
		RegisterCallsInWindow:   r.ledger.used(kindRegister, now),
		DeregisterCallsInWindow: r.ledger.used(kindDeregister, now),
		WindowLimit:             WindowLimit,
		NextRegisterAllowedAt:   r.ledger.next(kindRegister, now),
		NextDeregisterAllowedAt: r.ledger.next(kindDeregister, now),
		SleepingUntil:           r.sleepUntil,
		SleepReason:             r.sleepReason,
		LastError:               r.lastError,
		PendingOperations:       len(r.ops),
		StartedAt:               r.startedAt,
		UpdatedAt:               r.updatedAt,
		RegisteredAt:            r.registeredAt,
	}
}

func regionText(region string) string {
	if region == "" {
		return " without local storage"
	}
	return " with local storage in " + region
}

func orNone(s string) string {
	if s == "" {
		return "not set"
	}
	return s
}

var errNotOnboarded = errors.New("the number is still being onboarded; wait for stage registered")

// checkOperation is the validator of change-region, reregister and
// deregister: refused updates never reach history.
func (r *run) checkOperation(kind operationKind, region string) error {
	if !r.onboarded {
		return fmt.Errorf("%w (stage %s)", errNotOnboarded, r.stage)
	}
	if len(r.ops) >= maxPendingOperations {
		return fmt.Errorf("%d operations are already queued on this number", len(r.ops))
	}
	if kind == opChangeRegion {
		if err := validate.Region("region", region); err != nil {
			return err
		}
		if r.registered && len(r.ops) == 0 && region == r.region {
			return fmt.Errorf("region: the number is already registered %s", regionText(region)[1:])
		}
	}
	return nil
}
