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
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/activities"
	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/metrics"
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
	// codeMaybeSent is set when request_code's answer was lost: Meta may
	// have sent a code at codeRequestedAt, or not.
	codeMaybeSent   bool
	codeWaitExpired bool
	codes           []pendingCode
	codeResults     map[int]onboarding.CodeResult
	nextCodeID      int
	resend          *onboarding.ResendInput

	skip bool

	ops []*operation

	awaitingFix bool
	fix         *onboarding.FixInput

	// quiet is set in runs that take changeQuietUpserts; keywords are the
	// search-attribute updates setKeyword queued for flushKeywords.
	quiet    bool
	keywords []temporal.SearchAttributeUpdate
	// restingOnly is set in runs that take changeRestingStagesOnly.
	restingOnly bool

	// sealedOnly is set in runs that take changeOwnerAndSealed: secrets
	// that arrive unsealed are refused.
	sealedOnly       bool
	plaintextRefused int // code signals dropped for arriving unsealed

	// numberUnknown is set while the run waits for a fix because Meta no
	// longer knows its phone-number ID; readd once that fix asks to add
	// the number again.
	numberUnknown bool
	readd         bool
	// nameRead is the last read of the number, kept for the display-name
	// gate while nothing was awaited since (changeVerifyReadsName).
	nameRead *activities.NumberState
	// codeMethod is how the last code was requested ("" before any).
	codeMethod onboarding.CodeMethod

	hooks webhookState // what Meta's webhooks said (webhooks.go)
}

// errReadd unwinds a run to its start when an operator asked to add a
// number Meta no longer knows again.
var errReadd = errors.New("the number is added again")

// Number onboards one WhatsApp Business number and then serves it. It ends
// only when cancelled; it continues as new, carrying the ledger, before its
// history grows large.
func Number(ctx workflow.Context, in onboarding.OnboardInput) (onboarding.Status, error) {
	in.Normalize()
	info := workflow.GetInfo(ctx)
	r := &run{
		in:          in,
		id:          info.WorkflowExecution.ID,
		logger:      workflow.GetLogger(ctx),
		startedAt:   workflow.Now(ctx),
		codeResults: map[int]onboarding.CodeResult{},
	}
	// First, so that a run refused below still answers status.
	if err := r.registerStatusQuery(ctx); err != nil {
		return onboarding.Status{}, err
	}
	// The bundle's marker first: a new run records it before any other
	// command (see changeBundle2026_11 and changeBundle2026_11b).
	hasBundle(ctx)
	r.sealedOnly = has(ctx, changeOwnerAndSealed)
	r.quiet = has(ctx, changeQuietUpserts)
	r.restingOnly = has(ctx, changeRestingStagesOnly)
	if err := in.Validate(); err != nil {
		return r.refuse(ctx, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidInput, nil))
	}
	if r.sealedOnly {
		if err := r.checkStart(info, in); err != nil {
			return r.refuse(ctx, err)
		}
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
		r.resumeWebhooks(res.Webhooks)
		r.in.Resume = nil
	}
	if err := r.registerHandlers(ctx); err != nil {
		return onboarding.Status{}, err
	}
	r.setKeyword(ctx, onboarding.SearchAttributeWABAID, r.in.WABAID)
	if r.phoneNumberID != "" {
		r.setKeyword(ctx, onboarding.SearchAttributePhoneNumberID, r.phoneNumberID)
	}

	err := r.main(ctx)
	if ctx.Err() != nil || temporal.IsCanceledError(err) {
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		r.setStage(dctx, onboarding.StageCancelled, "cancelled by an operator")
		r.answerPendingCodes("the run was cancelled")
		ctx = dctx
	}
	r.rest(ctx) // the run ends (or continues as new) in its last stage
	return r.status(ctx), err
}

func (r *run) main(ctx workflow.Context) error {
	if r.onboarded {
		r.setStage(ctx, r.stage, "continued as new; serving the number")
	}
	for {
		err := r.onboardAndServe(ctx)
		if !errors.Is(err, errReadd) {
			return err
		}
		// The old ID is gone at Meta; the ledger stays: it counts calls
		// on the phone number, whatever its ID.
		r.logger.Info("adding the number again: Meta no longer knows its ID", "old_phone_number_id", r.phoneNumberID)
		r.phoneNumberID, r.registered, r.region, r.onboarded = "", false, "", false
	}
}

func (r *run) onboardAndServe(ctx workflow.Context) error {
	if !r.onboarded {
		if err := r.onboard(ctx); err != nil {
			return err
		}
	}
	return r.serve(ctx)
}

// onboard adds the number, proves ownership unless it is already proven, and
// registers it.
func (r *run) onboard(ctx workflow.Context) error {
	metrics.RecordStarted(workflow.GetMetricsHandler(ctx))
	r.setStage(ctx, onboarding.StageAdding, "adding "+r.in.E164()+" to WABA "+r.in.WABAID)
	var added activities.AddNumberResult
	err := r.retryUntilFixed(ctx, callAdd.op, func(ctx workflow.Context) error {
		return r.do(ctx, callAdd, "Add "+r.in.E164()+" to WABA "+r.in.WABAID, activities.AddNumberInput{
			WABAID:        r.in.WABAID,
			CountryCode:   r.in.CountryCode,
			PhoneNumber:   r.in.PhoneNumber,
			DisplayName:   r.in.DisplayName,
			Migrate:       r.in.Migrate,
			PreverifiedID: r.in.PreverifiedID,
		}, &added)
	})
	if err != nil {
		return err
	}
	r.phoneNumberID = added.PhoneNumberID
	r.setKeyword(ctx, onboarding.SearchAttributePhoneNumberID, r.phoneNumberID)
	if added.Adopted {
		r.logger.Info("number was already on the WABA; adopted", "phone_number_id", r.phoneNumberID)
	}

	verified := r.in.PreverifiedID != ""
	// A number Meta has just created for this run is not verified; only an
	// adopted or migrated one may be, and the read decides.
	fresh := !added.Adopted && !r.in.Migrate && has(ctx, changeFreshAddIsUnverified)
	if !verified && !fresh {
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
	if err := r.registerNumber(ctx, r.in.Region, r.in.Backup); err != nil {
		return err
	}
	// The backup served its one purpose; it is not carried any further.
	r.in.Backup = nil
	r.onboarded = true
	metrics.RecordRegistered(workflow.GetMetricsHandler(ctx), workflow.Now(ctx).Sub(r.startedAt))
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
		readName := has(ctx, changeVerifyReadsName)
		var st *activities.NumberState
		var result any // untyped nil: runs before the change ignore the result
		if readName {
			st = &activities.NumberState{}
			result = st
		}
		err := r.do(ctx, callVerifyCode, "Verify the ownership code of "+r.in.E164(), activities.VerifyCodeInput{
			PhoneNumberID: r.phoneNumberID, Code: c.code, ReadAfter: readName,
		}, result)
		if err == nil {
			if st != nil && st.CodeVerificationStatus != "" {
				// Empty when the read after the verify failed, or the
				// activity ran on a worker that does not read: the
				// name gate then reads on its own.
				r.nameRead = st
			}
			r.answer(c, onboarding.CodeResult{Accepted: true, Message: "Meta accepted the code; the number is verified"})
			r.answerPendingCodes("the number was already verified by an earlier code")
			return nil
		}
		class, ge := classify(ctx, callVerifyCode.op, err)
		if class == classCanceled {
			r.answer(c, onboarding.CodeResult{Message: "the run was cancelled"})
			return err
		}
		r.recordError(ge)
		if (class == classWrongCode || ge.OutcomeUnknown) && has(ctx, changeVerifyReadsNumber) {
			// A 136025 may answer a repeat of a verify that Meta carried
			// out, its answer lost: the number says whether it did.
			st, err := r.readNumber(ctx)
			if err != nil {
				r.answer(c, onboarding.CodeResult{Message: "the run was cancelled"})
				return err
			}
			if st.CodeVerificationStatus == graph.CodeVerified {
				r.resolve(ctx, callVerifyCode)
				r.logger.Info("verify_code failed but Meta shows the number verified: the code was accepted", "class", class)
				r.answer(c, onboarding.CodeResult{Accepted: true, Message: "Meta shows the number verified: the code was accepted"})
				r.answerPendingCodes("the number was already verified by an earlier code")
				return nil
			}
		}
		if class == classWrongCode {
			r.answer(c, onboarding.CodeResult{Message: "Meta rejected the code (136025: wrong or expired); send the right one or ask for a new one with resend-code"})
			continue
		}
		if class == activities.ErrInvalidInput && r.sealedOnly {
			// A sealed code that opened to no 6 digits, or did not open:
			// Meta never saw it; the run waits for another.
			r.answer(c, onboarding.CodeResult{Message: ge.Message + "; nothing was sent to Meta: send the code again"})
			continue
		}
		r.answer(c, onboarding.CodeResult{Message: "the code could not be checked: " + describe(ge)})
		if r.isNumberUnknown(ctx, callVerifyCode.op, class) {
			if err := r.unknownNumber(ctx); err != nil {
				return err
			}
			continue
		}
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
		detail := fmt.Sprintf("waiting for the %s code sent at %s (send it with verify, or resend-code)", r.currentCodeMethod(), r.codeRequestedAt.Format(time.RFC3339))
		if r.codeMaybeSent {
			detail = fmt.Sprintf("Meta may have sent a %s code at %s (its answer to the request was lost): send that code with verify if it arrived, or ask for a new one with resend-code",
				r.currentCodeMethod(), r.codeRequestedAt.Format(time.RFC3339))
		}
		r.setStage(ctx, onboarding.StageAwaitingCode, detail)
		ok, err := r.await(ctx, wait, "Wait for the ownership code", ready)
		if err != nil || ok {
			return err
		}
	}
	r.codeWaitExpired = true
	r.setStage(ctx, onboarding.StageAwaitingCode, fmt.Sprintf(
		"no code arrived within %s: parked until a code is sent or resend-code asks for a new one", r.in.CodeWait))
	r.logger.Warn("no ownership code within the wait; run parked", "code_wait", r.in.CodeWait)
	return r.wait(ctx, ready)
}

// requestCode asks Meta for a code, once: a request whose answer was lost
// is taken as possibly sent (see callRequestCode).
func (r *run) requestCode(ctx workflow.Context, method onboarding.CodeMethod, lang string) error {
	maybe := false
	err := r.retryUntilFixed(ctx, callRequestCode.op, func(ctx workflow.Context) error {
		// A worker that dies while Meta sends the code times the activity
		// out; an activity retry would then send a second code and void
		// the one the person reads. So the activity makes one attempt and
		// the run retries only what it knows never reached Meta.
		c, once := callRequestCode, has(ctx, changeRequestCodeOnce)
		if once {
			c = callRequestCodeOnce
		}
		backoff := requestCodeBackoff
		for attempt := 1; ; attempt++ {
			r.setStage(ctx, onboarding.StageAwaitingCode, fmt.Sprintf("asking Meta to send a code by %s", method))
			err := r.do(ctx, c, fmt.Sprintf("Request a %s code for %s", method, r.in.E164()), activities.RequestCodeInput{
				PhoneNumberID: r.phoneNumberID, Method: string(method), Language: lang,
			}, nil)
			if err == nil {
				return nil
			}
			class, ge := classify(ctx, c.op, err)
			if class != classCanceled && ge.OutcomeUnknown && has(ctx, changeLostRequestCode) {
				r.recordError(ge)
				r.logger.Warn("request_code's answer was lost: a code may have been sent; not asking again on our own", "method", string(method))
				maybe = true
				return nil
			}
			if !once || class != classTransient || attempt >= requestCodeAttempts {
				return err
			}
			// Never reached Meta (no connection): safe to ask again.
			r.recordError(ge)
			if _, err := r.sleep(ctx, backoff, onboarding.StageAwaitingCode, "request_code did not reach Meta; asking again"); err != nil {
				return err
			}
			backoff = min(2*backoff, maxCallBackoff)
		}
	})
	if err != nil {
		return err
	}
	r.codeRequestedAt = workflow.Now(ctx)
	r.codeWaitExpired = false
	r.codeMaybeSent = maybe
	r.codeMethod = method
	return nil
}

// currentCodeMethod is how the code the run waits for was requested: a
// resend may have asked for it by another method than the start's.
func (r *run) currentCodeMethod() onboarding.CodeMethod {
	if r.codeMethod != "" {
		return r.codeMethod
	}
	return r.in.CodeMethod
}

// readNumber reads the number's status, waiting for a fix on failure: a
// status read that failed is never taken for "not verified".
func (r *run) readNumber(ctx workflow.Context) (activities.NumberState, error) {
	var st activities.NumberState
	err := r.retryUntilFixed(ctx, callGetNumber.op, func(ctx workflow.Context) error {
		return r.do(ctx, callGetNumber, "Read the status of "+r.in.E164(), r.phoneNumberID, &st)
	})
	if err == nil && has(ctx, changeVerifyReadsName) {
		r.nameRead = &st
	}
	return st, err
}

// takeNameRead returns the read of the number made in this workflow task
// with nothing awaited since (setStage, which precedes every wait, and a
// name-update webhook drop it), and forgets it.
func (r *run) takeNameRead() (activities.NumberState, bool) {
	st := r.nameRead
	r.nameRead = nil
	if st == nil {
		return activities.NumberState{}, false
	}
	return *st, true
}

// readRegistration reads what Meta shows of the number's registration,
// waiting for a fix on failure.
func (r *run) readRegistration(ctx workflow.Context) (activities.RegistrationState, error) {
	var st activities.RegistrationState
	err := r.retryUntilFixed(ctx, callGetRegistration.op, func(ctx workflow.Context) error {
		return r.do(ctx, callGetRegistration, "Read the registration of "+r.in.E164(), r.phoneNumberID, &st)
	})
	return st, err
}

// awaitNameReady re-reads name_status on a durable timer until the display
// name can be registered: registering earlier costs budget for nothing.
func (r *run) awaitNameReady(ctx workflow.Context) error {
	for {
		// The read that decided the verification (or that VerifyCode
		// made once Meta accepted the code) was made right before, as
		// this one would be: the gate stays exact.
		st, ok := r.takeNameRead()
		if !ok {
			var err error
			if st, err = r.readNumber(ctx); err != nil {
				return err
			}
			r.nameRead = nil
		}
		switch st.NameStatus {
		case graph.NameApproved, graph.NameAvailableWithoutReview:
			return nil
		case graph.NameDeclined, graph.NameExpired:
			msg := fmt.Sprintf("display name %q is %s%s: request a new name in WhatsApp Manager, then resume with fix --name NEW_NAME",
				r.in.DisplayName, st.NameStatus, r.rejectionText())
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
// ledger, until Meta accepts or the run is cancelled. backup is sent by a
// number migrating from the On-Premises API.
func (r *run) registerNumber(ctx workflow.Context, region string, backup *onboarding.Backup) error {
	// A read proves a register whose answer was lost only when it shows a
	// state the number was not in before the call.
	provable := !r.registered || r.region != region
	return r.budgeted(ctx, budgetedCall{
		c:       callRegister,
		stage:   onboarding.StageRegistering,
		doing:   "registering for the Cloud API" + regionText(region),
		summary: "Register " + r.in.E164() + regionText(region),
		arg: func() any {
			return activities.RegisterInput{PhoneNumberID: r.phoneNumberID, PIN: r.in.PIN, Region: region, Backup: backup}
		},
		before: r.awaitNameReady,
		reached: func(st activities.RegistrationState) bool {
			return provable && st.PlatformType == graph.PlatformCloudAPI && st.Status == graph.StatusConnected && st.Region == region
		},
		done: func(ctx workflow.Context) {
			r.registered = true
			r.region = region
			r.registeredAt = workflow.Now(ctx)
			r.nameApplied()
			r.setStage(ctx, onboarding.StageRegistered, "registered for the Cloud API"+regionText(region))
		},
	})
}

// deregisterNumber deregisters the number within the ledger.
func (r *run) deregisterNumber(ctx workflow.Context) error {
	return r.budgeted(ctx, budgetedCall{
		c:       callDeregister,
		stage:   onboarding.StageDeregistering,
		doing:   "deregistering from the Cloud API",
		summary: "Deregister " + r.in.E164(),
		arg:     func() any { return r.phoneNumberID },
		reached: func(st activities.RegistrationState) bool {
			return st.Status == graph.StatusDisconnected || st.PlatformType != graph.PlatformCloudAPI
		},
		done: func(ctx workflow.Context) {
			r.registered = false
			r.region = ""
			r.setStage(ctx, onboarding.StageDeregistered, "deregistered; local storage is off")
		},
	})
}

// budgetedCall is a register or deregister for budgeted.
type budgetedCall struct {
	c       *call
	stage   onboarding.Stage
	doing   string // the stage detail while calling
	summary string
	arg     func() any                              // the activity input, built at each attempt (a fix may change the PIN)
	before  func(workflow.Context) error            // run before each attempt; nil for none
	reached func(activities.RegistrationState) bool // Meta shows the call carried out
	done    func(workflow.Context)                  // records the success
}

// budgeted makes a register or deregister call within the ledger until Meta
// has carried it out or the run is cancelled, deciding on each failure's
// class: sleeps for Meta's hints and locks, a read of the number after a
// lost answer, needs-attention for what a person must fix.
func (r *run) budgeted(ctx workflow.Context, b budgetedCall) error {
	k := b.c.budget
	backoff := minCallBackoff
	var throttleWait time.Duration
	for {
		if err := r.awaitUsableWABA(ctx, k); err != nil {
			return err
		}
		if b.before != nil {
			if err := b.before(ctx); err != nil {
				return err
			}
			// The WABA may have gone while the name was awaited.
			if err := r.awaitUsableWABA(ctx, k); err != nil {
				return err
			}
		}
		at, err := r.spend(ctx, k)
		if err != nil {
			return err
		}
		r.setStage(ctx, b.stage, b.doing)
		err = r.exec(ctx, b.c, b.summary, b.arg(), nil)
		if err == nil {
			b.done(ctx)
			return nil
		}
		class, ge := classify(ctx, b.c.op, err)
		if class == classCanceled {
			return err
		}
		r.recordError(ge)
		if ge.OutcomeUnknown && has(ctx, changeLostRegisterReads) {
			st, err := r.readRegistration(ctx)
			if err != nil {
				return err
			}
			if b.reached(st) {
				r.logger.Info("the answer was lost but Meta shows the call carried out", "op", b.c.op)
				r.resolve(ctx, b.c)
				b.done(ctx)
				return nil
			}
		}
		if class == activities.ErrInvalidInput && r.sealedOnly {
			// Refused by the activity before any call (a secret that
			// does not open): Meta counted nothing.
			r.giveBack(ctx, k, at)
		}
		// Classes only register answers with; a deregister answered so
		// needs a person, as before the call table.
		reg := k == kindRegister
		switch {
		case class == classWindowExhausted:
			r.metaLock(ctx, k)
		case class == classThrottled && has(ctx, changeThrottleAsTimer):
			// Meta refused the call before acting on it: it spends no
			// budget, and the wait is Meta's.
			r.giveBack(ctx, k, at)
			if err := r.sleepOutThrottle(ctx, b.c, ge, onboarding.StageRateLimited, &throttleWait); err != nil {
				return err
			}
		case class == classThrottled || class == classTransient:
			// Throttles reach here only in runs from before the change.
			if class == classTransient && !ge.OutcomeUnknown && ge.Code == 0 {
				// No connection to Meta: the call never reached it.
				r.giveBack(ctx, k, at)
			}
			if _, err := r.sleep(ctx, backoff, b.stage, string(k)+" failed transiently; retrying"); err != nil {
				return err
			}
			backoff = min(2*backoff, maxCallBackoff)
		case class == classNameNotReady && reg:
			reason := "Meta is still processing the display name (100/2388001)"
			if _, err := r.sleep(ctx, time.Duration(r.in.NameCheckInterval), onboarding.StageAwaitingNameApproval, reason); err != nil {
				return err
			}
		case class == classNeedsReverification && reg:
			if err := r.verifyOwnership(ctx); err != nil {
				return err
			}
		case class == classRecentlyDeleted && reg:
			if _, err := r.sleep(ctx, recentlyDeletedWait, b.stage, "the number was deleted minutes ago (133015)"); err != nil {
				return err
			}
		case class == classDeregistrationIncomplete && reg:
			if err := r.deregisterNumber(ctx); err != nil {
				return err
			}
		case class == classPINThrottled && reg:
			if _, err := r.sleep(ctx, pinThrottledWait, b.stage, "too many PIN attempts ("+fmt.Sprint(ge.Code)+")"); err != nil {
				return err
			}
		case class == classPINMismatch && reg:
			if err := r.needsAttention(ctx, "the two-step PIN does not match the number's (133005): resume with fix --new-pin and the right PIN"); err != nil {
				return err
			}
		case r.isNumberUnknown(ctx, b.c.op, class):
			if err := r.unknownNumber(ctx); err != nil {
				return err
			}
		default:
			if err := r.needsAttention(ctx, describe(ge)); err != nil {
				return err
			}
		}
	}
}

// giveBack returns the ledger entry of a call Meta refused before acting on
// it.
func (r *run) giveBack(ctx workflow.Context, k callKind, at time.Time) {
	if has(ctx, changeLedgerGivesBack) {
		r.ledger.unrecord(k, at)
		metrics.RecordBudgetReturned(workflow.GetMetricsHandler(ctx), string(k))
	}
}

// sleepOutThrottle sleeps, in stage, for as long as Meta's throttle of c
// asks (throttleWait).
func (r *run) sleepOutThrottle(ctx workflow.Context, c *call, ge *onboarding.GraphError, stage onboarding.Stage, unnamed *time.Duration) error {
	metrics.RecordThrottleWait(workflow.GetMetricsHandler(ctx), c.op)
	d := r.throttleWait(ctx, c, ge, unnamed)
	_, err := r.sleep(ctx, d, stage, throttleReason(c, ge))
	return err
}

// throttleWait is how long to wait after a throttled answer: what Meta asked
// for, or c's own wait, doubling while Meta keeps naming none. It sets the
// error's NextAttemptAt for the status.
func (r *run) throttleWait(ctx workflow.Context, c *call, ge *onboarding.GraphError, unnamed *time.Duration) time.Duration {
	d := time.Duration(ge.RetryAfterSeconds) * time.Second
	if d <= 0 {
		*unnamed = min(max(2**unnamed, c.throttleWait), maxCallBackoff)
		d = *unnamed
	}
	ge.NextAttemptAt = workflow.Now(ctx).Add(d)
	return d
}

func throttleReason(c *call, ge *onboarding.GraphError) string {
	if ge.RetryAfterSeconds > 0 {
		return fmt.Sprintf("Meta throttled %s (%d) and asked to wait %s", c.op, ge.Code, time.Duration(ge.RetryAfterSeconds)*time.Second)
	}
	return fmt.Sprintf("Meta throttled %s (%d) without naming a wait", c.op, ge.Code)
}

// metaLock records the 72-hour lock Meta announced with 133016: calls made
// outside this worker spent the budget. spend then sleeps it out.
func (r *run) metaLock(ctx workflow.Context, k callKind) {
	*r.ledger.blockedUntil(k) = workflow.Now(ctx).Add(Window + WindowMargin)
	metrics.RecordMetaLock(workflow.GetMetricsHandler(ctx), string(k))
	r.logger.Warn("Meta answered 133016: the number is locked for 72 hours", "operation", string(k))
}

// spend takes one call from the ledger, first sleeping on a durable timer
// until the window allows it. An operator's skip-wait makes the call at once.
func (r *run) spend(ctx workflow.Context, k callKind) (time.Time, error) {
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
			return time.Time{}, err
		}
		if skipped {
			*r.ledger.blockedUntil(k) = time.Time{}
			break
		}
	}
	at := workflow.Now(ctx)
	r.ledger.record(k, at)
	metrics.RecordBudgetSpent(workflow.GetMetricsHandler(ctx), string(k))
	return at, nil
}

// sleep waits d on a durable timer, visible in the status. skip-wait cuts it
// short; it reports whether it was.
func (r *run) sleep(ctx workflow.Context, d time.Duration, stage onboarding.Stage, reason string) (bool, error) {
	r.sleepUntil = workflow.Now(ctx).Add(d)
	r.sleepReason = reason
	r.setStage(ctx, stage, reason+"; sleeping until "+r.sleepUntil.UTC().Format(time.RFC3339))
	r.skip = false
	// A name-update webhook cuts a display-name wait short: the run
	// re-reads the number at once instead of at the next interval.
	nameWait := stage == onboarding.StageAwaitingNameApproval
	skipped, err := r.await(ctx, d, reason, func() bool { return r.skip || (nameWait && r.hooks.nameWake) })
	woken := skipped && !r.skip
	r.skip = false
	if nameWait {
		r.hooks.nameWake = false
	}
	r.sleepUntil, r.sleepReason = time.Time{}, ""
	switch {
	case woken:
		r.logger.Info("display-name wait cut short by a name-update webhook; re-reading the number", "reason", reason)
	case skipped:
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
		if r.isNumberUnknown(ctx, op, class) {
			if err := r.unknownNumber(ctx); err != nil {
				return err
			}
			continue
		}
		if err := r.needsAttention(ctx, describe(ge)); err != nil {
			return err
		}
	}
}

// isNumberUnknown reports whether a failure of op says Meta no longer knows
// the run's phone-number ID (100/33). On add the unknown object is the WABA,
// which only a person can settle: that stays a plain needs-attention.
func (r *run) isNumberUnknown(ctx workflow.Context, op, class string) bool {
	return class == classUnknownObject && r.phoneNumberID != "" &&
		op != callAdd.op && op != graph.OpListPhoneNumbers && has(ctx, changeNumberUnknown)
}

// unknownNumber parks a run whose phone-number ID Meta no longer knows until
// an operator decides: a fix with readd adds the number again (errReadd
// unwinds the run to its start), any other fix retries as is, cancel ends
// the run. Retrying on its own could never succeed.
func (r *run) unknownNumber(ctx workflow.Context) error {
	r.numberUnknown = true
	defer func() { r.numberUnknown = false }()
	r.logger.Warn("Meta no longer knows the number's ID", "phone_number_id", r.phoneNumberID)
	reason := fmt.Sprintf("Meta no longer knows phone-number ID %s of %s (Graph error 100/33): the number was deleted from WABA %s, "+
		"or the Graph API's state was reset (a restarted simulator). Add it again with fix --readd (it gets a new ID and ownership is proven again), "+
		"or cancel this run and onboard the number again", r.phoneNumberID, r.in.E164(), r.in.WABAID)
	if err := r.needsAttention(ctx, reason); err != nil {
		return err
	}
	if r.readd {
		r.readd = false
		return errReadd
	}
	return nil
}

// exec runs c's activity with c's policy.
func (r *run) exec(ctx workflow.Context, c *call, summary string, arg, result any) error {
	if !r.restingOnly {
		r.flushKeywords(ctx)
	}
	actx := workflow.WithActivityOptions(ctx, c.options(ctx, summary))
	err := workflow.ExecuteActivity(actx, c.activity, arg).Get(ctx, result)
	if err == nil {
		r.resolve(ctx, c)
	}
	return err
}

// do runs a call that spends no budget, sleeping out Meta's throttles on
// durable timers until it is answered otherwise.
func (r *run) do(ctx workflow.Context, c *call, summary string, arg, result any) error {
	var unnamed time.Duration
	for {
		err := r.exec(ctx, c, summary, arg, result)
		if err == nil {
			return nil
		}
		class, ge := classify(ctx, c.op, err)
		if class != classThrottled || !has(ctx, changeThrottleAsTimer) {
			return err
		}
		r.recordError(ge)
		if err := r.sleepOutThrottle(ctx, c, ge, r.stage, &unnamed); err != nil {
			return err
		}
	}
}

// resolve marks the last error resolved when it came from c's op.
func (r *run) resolve(ctx workflow.Context, c *call) {
	e := r.lastError
	if e == nil || !e.ResolvedAt.IsZero() {
		return
	}
	if e.Op == c.op || slices.Contains(c.resolves, e.Op) {
		e.ResolvedAt = workflow.Now(ctx)
	}
}

// await waits until cond holds or d passes, on a timer named by summary; it
// reports whether cond won. When it does, the timer is cancelled, so
// Temporal UI does not show a wait that is over as pending (the SDK's
// AwaitWithOptions leaves it running unless an SDK flag is on).
func (r *run) await(ctx workflow.Context, d time.Duration, summary string, cond func() bool) (bool, error) {
	r.rest(ctx) // before the timer: its command follows the upsert
	tctx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: summary})
	if err := workflow.Await(ctx, func() bool { return timer.IsReady() || cond() }); err != nil {
		return false, err
	}
	if timer.IsReady() {
		cancel() // a fired timer cancels nothing: it only releases tctx
		return false, nil
	}
	// Histories recorded before the change left the timer to fire.
	if has(ctx, changeAwaitCancelsTimer) {
		cancel()
	}
	return true, nil
}

// needsAttention parks the run until fix-input arrives, and applies it.
func (r *run) needsAttention(ctx workflow.Context, reason string) error {
	r.awaitingFix = true
	defer func() { r.awaitingFix = false }()
	r.setStage(ctx, onboarding.StageNeedsAttention, reason+" (resume with fix, or cancel)")
	metrics.RecordNeedsAttention(workflow.GetMetricsHandler(ctx))
	r.logger.Warn("run needs attention", "reason", reason)
	if err := r.wait(ctx, func() bool { return r.fix != nil }); err != nil {
		return err
	}
	r.applyFix()
	return nil
}

// applyFix takes the fix-input an operator sent into the run's input.
func (r *run) applyFix() {
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
	r.readd = f.Readd
	r.fix = nil
}

// serve runs change-region, reregister and deregister updates one at a time,
// and continues as new when the history grows large.
func (r *run) serve(ctx workflow.Context) error {
	for {
		if err := r.wait(ctx, func() bool {
			return len(r.ops) > 0 || r.hooks.nameChange != nil || r.shouldContinueAsNew(ctx)
		}); err != nil {
			return err
		}
		if nc := r.hooks.nameChange; nc != nil {
			r.hooks.nameChange = nil
			if err := r.applyNameChange(ctx, *nc); err != nil {
				return err
			}
			continue
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
		return r.registerNumber(ctx, o.region, nil)
	case opReregister:
		region := r.region
		if !r.registered {
			region = r.in.Region
		}
		return r.registerNumber(ctx, region, nil)
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
		Webhooks:      r.webhookResume(),
	}
	return in
}

func (r *run) setStage(ctx workflow.Context, s onboarding.Stage, detail string) {
	r.nameRead = nil // a wait follows, or at least another step
	changed := s != r.stage
	if changed {
		r.stage = s
		metrics.RecordStage(workflow.GetMetricsHandler(ctx), string(s))
	}
	// Runs that take changeRestingStagesOnly write their attributes in
	// rest. For others every wait follows a setStage: the stage, and what
	// is queued, go out before it.
	if !r.restingOnly {
		if changed {
			r.setKeyword(ctx, onboarding.SearchAttributeStage, string(s))
		}
		r.flushKeywords(ctx)
	}
	r.detail = detail
	r.updatedAt = workflow.Now(ctx)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** — %s", s, detail))
}

// setKeyword sets a keyword search attribute of the run. Runs that take
// changeQuietUpserts skip a value the attribute already holds (the client
// sets WhatsAppStage and WhatsAppWABAID at start) and queue the update for
// flushKeywords, so that the updates of one workflow task go out as one
// upsert command; other runs upsert at once, as before.
func (r *run) setKeyword(ctx workflow.Context, key temporal.SearchAttributeKeyKeyword, v string) {
	if !r.quiet {
		r.upsert(ctx, key.ValueSet(v))
		return
	}
	if cur, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(key); ok && cur == v {
		return
	}
	r.keywords = append(r.keywords, key.ValueSet(v))
}

// flushKeywords upserts what setKeyword queued, in one command. setStage and
// exec call it: every wait and every activity of the run follows one of
// them.
func (r *run) flushKeywords(ctx workflow.Context) {
	if len(r.keywords) == 0 {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, r.keywords...); err != nil {
		r.logger.Warn("cannot upsert search attributes", "error", err)
	}
	r.keywords = nil
}

// rest writes the search attributes of a run that is about to wait for
// something from outside (a code, a fix, a timer, an operation) or to end:
// its stage, when the run rests in it, and what setKeyword queued, in one
// upsert, and only what changed. wait and await call it; the run's end and
// a refusal call it too. A run that
// goes through a step without waiting (a code that came with the answer to
// its request) writes nothing for it: no list of runs could have shown it.
// Only runs that take changeRestingStagesOnly; for others setStage writes.
func (r *run) rest(ctx workflow.Context) {
	if !r.restingOnly {
		return
	}
	if !r.stage.Working() {
		r.setKeyword(ctx, onboarding.SearchAttributeStage, string(r.stage))
	}
	r.flushKeywords(ctx)
}

// wait is workflow.Await for the main coroutine's waits on the outside
// world: it rests first (await, with its timer, rests as well).
func (r *run) wait(ctx workflow.Context, cond func() bool) error {
	r.rest(ctx)
	return workflow.Await(ctx, cond)
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
		CodeMethod:              r.currentCodeMethod(),
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
		PlaintextSecretsRefused: r.plaintextRefused,
		PlaintextNote:           r.plaintextNote(),
		WABAState:               r.hooks.wabaState,
		WABAEvent:               r.hooks.wabaEvent,
		LastNameUpdate:          r.hooks.nameUpdate,
		ReregisterDue:           r.hooks.reregisterDue,
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
