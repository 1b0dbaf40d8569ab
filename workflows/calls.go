package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/activities"
	"github.com/wa-onboarding/onboarding/internal/graph"
)

// call is the policy of one Graph API call, written once: how its activity
// retries, whether it spends Meta's 10-per-72-hours budget, what the run does
// when the call's answer is lost (the doc of each entry below), and how
// Meta's throttle hints apply.
//
// Throttle hints apply the same way to every call: a throttled answer (4,
// 80007, 80008, 130429, HTTP 429) is never retried by the activity; it comes back to
// the workflow, which sleeps on a durable timer, visible in the status, for
// as long as Meta's Retry-After or estimated_time_to_regain_access asks (or
// throttleWait, doubling, when Meta names no wait), then calls again. A
// throttled call was refused before Meta acted, so a budgeted one gives its
// ledger entry back: a throttle storm of any length spends no budget. So
// does a call that never reached Meta (no connection); every other failure
// of a budgeted call stays counted, because Meta may have carried it out.
type call struct {
	op       string // graph.Op* name, as in GraphError.Op
	activity any
	// resolves lists the GraphError ops a success of this call puts behind
	// the run (an add that adopts the number resolves a failed list).
	resolves []string
	// budget is the ledger the call spends; "" for calls Meta does not
	// count.
	budget callKind
	// retry is the activity retry policy; nil means a single attempt.
	// Throttled answers are never retried by it (see above).
	retry *temporal.RetryPolicy
	// throttleWait is the first wait after a throttle that names none.
	throttleWait time.Duration
	// timeout bounds one attempt (a minute when 0); heartbeat, when set,
	// is the heartbeat timeout of an activity that heartbeats its progress.
	timeout, heartbeat time.Duration
}

// Retry policies of the calls.
var (
	// readRetry retries calls that are safe to repeat whatever happened to
	// the answer: reads, and the calls whose lost-answer rule makes a
	// repeat harmless.
	readRetry = &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        5 * time.Minute,
		MaximumAttempts:        20,
		NonRetryableErrorTypes: []string{classThrottled},
	}
	// sentRetry retries only failures Meta did not act on: a refused
	// connection, or Meta's own error envelope saying it failed. A lost
	// answer (activities.ErrOutcomeUnknown) comes back to the workflow.
	sentRetry = &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        5 * time.Minute,
		MaximumAttempts:        20,
		NonRetryableErrorTypes: []string{classThrottled, activities.ErrOutcomeUnknown},
	}
	// legacyRetry is the policy of every non-budgeted call in runs that
	// started before the call table (change throttleAsTimer at
	// DefaultVersion): the activity retried throttles itself.
	legacyRetry = &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
		MaximumAttempts:    20,
	}
)

// The Graph calls of an onboarding.
var (
	// callAdd adds the number to the WABA (POST /{waba}/phone_numbers).
	//
	// Lost answer: the activity retries; Meta then answers 100/2388012
	// (already on a WABA) and the activity adopts the number, looking its
	// id up with a bounded, resumable search of the WABA's numbers whose
	// cursor is heartbeated, so a retried search resumes where it stopped.
	// No second number is ever added.
	callAdd = &call{
		op: graph.OpAddPhoneNumber, activity: a.AddPhoneNumber,
		resolves: []string{graph.OpAddPhoneNumber, graph.OpListPhoneNumbers},
		retry:    readRetry, throttleWait: time.Minute,
		// A WABA of thousands of numbers takes many pages to search;
		// each page heartbeats (a page is bounded by the Graph client's
		// 30-second timeout).
		timeout: 15 * time.Minute, heartbeat: time.Minute,
	}
	// callGetNumber reads the number's verification and display-name
	// status (GET /{id}).
	//
	// Lost answer: a read; the activity retries it.
	callGetNumber = &call{
		op: graph.OpGetPhoneNumber, activity: a.GetPhoneNumber,
		retry: readRetry, throttleWait: time.Minute,
	}
	// callGetRegistration reads what Meta shows of the number's
	// registration: status and platform_type (GET /{id}) and the data
	// localization region (GET /{id}/settings).
	//
	// Lost answer: a read; the activity retries it.
	callGetRegistration = &call{
		op: graph.OpGetPhoneNumber, activity: a.GetRegistration,
		resolves: []string{graph.OpGetPhoneNumber, graph.OpGetSettings},
		retry:    readRetry, throttleWait: time.Minute,
	}
	// callRequestCode asks Meta to send an ownership code by SMS or voice.
	//
	// Lost answer: never resent on its own. A second request would send a
	// second code and void the first, the one the person reads and types.
	// The activity retries only failures Meta did not act on; when the
	// outcome is unknown the run waits for a code as if it was sent, the
	// status saying a code may have been sent at that time and that
	// resend-code asks for a new one. A person who types the code of the
	// last SMS they received is never refused for a code the run replaced.
	callRequestCode = &call{
		op: graph.OpRequestCode, activity: a.RequestCode,
		retry: sentRetry, throttleWait: time.Minute,
	}
	// callRequestCodeOnce is callRequestCode in one attempt: runs that
	// take changeRequestCodeOnce retry in the workflow only the failures
	// that never reached Meta, because an attempt that timed out (a worker
	// killed mid-call) may have sent the code.
	callRequestCodeOnce = &call{
		op: graph.OpRequestCode, activity: a.RequestCode,
		throttleWait: time.Minute,
	}
	// callVerifyCode sends the code the person typed.
	//
	// Lost answer: the activity retries, and Meta answers the repeat with
	// 136025 because the code was used up by the first attempt, which
	// verified the number. So every 136025 (not only one that follows a
	// lost answer: reading costs one GET and needs no bookkeeping across
	// activity attempts) is followed by a read of the number: when Meta
	// shows it VERIFIED, the person is answered "accepted", never "wrong".
	// A repeat of verify_code has no other effect, so the retry is safe.
	callVerifyCode = &call{
		op: graph.OpVerifyCode, activity: a.VerifyCode,
		retry: readRetry, throttleWait: time.Minute,
	}
	// callRegister registers the number for the Cloud API. Every call,
	// answered or not, spends one of the 10 register calls per 72 hours.
	//
	// Lost answer: no blind second call. Before spending another, the run
	// reads the number (callGetRegistration); when Meta already shows it
	// CONNECTED on CLOUD_API with the wanted region, the register is
	// recorded as done without a new call. A reregister of a number that
	// was already registered with that region cannot be told apart by a
	// read, so it is made again.
	callRegister = &call{
		op: graph.OpRegister, activity: a.Register, budget: kindRegister,
		throttleWait: minCallBackoff,
	}
	// callDeregister takes the number off the Cloud API; it spends one of
	// the 10 deregister calls per 72 hours.
	//
	// Lost answer: as callRegister: when the read shows the number no
	// longer CONNECTED, the deregister is recorded as done.
	callDeregister = &call{
		op: graph.OpDeregister, activity: a.Deregister, budget: kindDeregister,
		throttleWait: minCallBackoff,
	}
)

// Change IDs of workflow.GetVersion: each guards a change of the commands
// the workflow makes, so that histories recorded before it still replay.
const (
	// changeThrottleAsTimer: throttled answers come back to the workflow
	// (non-retryable for the activity), which sleeps Meta's hint on a
	// durable timer for every call, gives a budgeted call's ledger entry
	// back, and request_code is not retried after a lost answer.
	changeThrottleAsTimer = "graph-calls-obey-throttle-hints-as-workflow-timers"
	// changeLedgerGivesBack: a register or deregister that Meta refused
	// before acting (throttled, never connected) gives its ledger entry
	// back.
	changeLedgerGivesBack = "ledger-gives-back-calls-meta-refused"
	// changeLostRequestCode: a request_code whose answer was lost is taken
	// as possibly sent; the run waits for that code instead of needing
	// attention.
	changeLostRequestCode = "request-code-lost-answer-waits-for-that-code"
	// changeVerifyReadsNumber: a 136025 (or a verify whose answer was
	// lost) is followed by a read of the number; VERIFIED means accepted.
	changeVerifyReadsNumber = "verify-code-136025-reads-number"
	// changeLostRegisterReads: a register or deregister whose answer was
	// lost is followed by a read of the number before any new call.
	changeLostRegisterReads = "register-lost-answer-reads-number-before-respending"
	// changeAwaitCancelsTimer: an await whose condition wins cancels its
	// timer, so Temporal UI no longer shows it pending.
	changeAwaitCancelsTimer = "await-cancels-its-timer-when-condition-wins"
	// changeNumberUnknown: a call on the number answered 100/33 (Meta no
	// longer knows the ID) parks the run with a plain explanation and
	// the way out, a fix that adds the number again, instead of the
	// generic needs-attention that a retry can never clear.
	changeNumberUnknown = "number-unknown-offers-readd"
	// changeWebhookSignals: the name-update and waba-update signals
	// (Meta's webhooks) are acted on: a display-name wait is cut short,
	// an approved name change of a registered number is applied or
	// announced, and budgeted calls wait while the WABA cannot be used.
	// Decided at the first such signal a run receives.
	changeWebhookSignals = "webhook-signals-wake-name-wait-and-park-unusable-waba"
	// changeRequestCodeOnce: request_code is one activity attempt; the
	// workflow retries what never reached Meta and takes a timeout as a
	// code that may have been sent.
	changeRequestCodeOnce = "request-code-single-attempt"
)

// The workflow's own retries of a request_code that never reached Meta.
const (
	requestCodeBackoff  = 5 * time.Second
	requestCodeAttempts = 20
)

// changeBundle2026_11 bundles every change above, and the ones below that
// have no marker of their own, into one marker recorded by the first
// command of a run (Number asks for it first). Each GetVersion that a run
// takes costs a MarkerRecorded and a TemporalChangeVersion search-attribute
// upsert (two history events); a happy path used to take four of them.
//
// A run that recorded the bundle takes every bundled change without asking
// for its own marker. A run recorded before the bundle has no bundle marker:
// on replay the SDK answers DefaultVersion for it (GetVersion answers
// DefaultVersion to a change ID first asked for while replaying), and has
// falls back to each change's own marker, exactly as before. Changes made
// after the bundle get their own IDs (or a next bundle), never this one.
const changeBundle2026_11 = "onboarding-2026-11"

// bundled lists the changes changeBundle2026_11 implies.
var bundled = map[string]bool{
	changeOwnerAndSealed:    true,
	changeThrottleAsTimer:   true,
	changeLedgerGivesBack:   true,
	changeLostRequestCode:   true,
	changeVerifyReadsNumber: true,
	changeLostRegisterReads: true,
	changeAwaitCancelsTimer: true,
	changeNumberUnknown:     true,
	changeWebhookSignals:    true,
	changeRequestCodeOnce:   true,
}

// Changes made with the bundle, which only runs that recorded it take (has
// asks for no marker of their own: runs without the bundle never take them).
const (
	// changeFreshAddIsUnverified: a number the run has just added (not
	// adopted, not migrated, not pre-verified) is not read before its
	// code is requested: a number Meta created this instant cannot be
	// VERIFIED yet.
	changeFreshAddIsUnverified = "fresh-add-skips-the-verification-read"
	// changeVerifyReadsName: VerifyCode reads the number right after Meta
	// accepted the code, and the display-name gate before register takes
	// that read (or the read after an adopting add) instead of its own
	// when nothing was awaited in between.
	changeVerifyReadsName = "verify-code-reads-the-name-for-register"
	// changeQuietUpserts: search attributes are upserted only when their
	// value changes (the start's WhatsAppStage and WhatsAppWABAID, set by
	// the client, are not upserted again), and the phone-number ID goes
	// out with the next stage change or activity in one upsert.
	changeQuietUpserts = "search-attributes-upserted-only-on-change-and-together"
)

// bundleOnly lists the changes only a run with the bundle takes.
var bundleOnly = map[string]bool{
	changeFreshAddIsUnverified: true,
	changeVerifyReadsName:      true,
	changeQuietUpserts:         true,
}

// changeBundle2026_11b is the next bundle, the same way: a run that
// recorded it takes everything changeBundle2026_11 implies (without that
// marker) and the changes of bundleBOnly. Number asks for it before
// changeBundle2026_11, so a new run records this marker alone; a run
// recorded with changeBundle2026_11 finds no marker of this one when it
// replays and goes on as before.
const changeBundle2026_11b = "onboarding-2026-11b"

// Changes only a run with changeBundle2026_11b takes.
const (
	// changeRestingStagesOnly: search attributes are written when a run
	// rests (waits for a code, a fix, a timer or an operation, or ends;
	// see rest), in one upsert of what changed: WhatsAppStage holds the
	// stage the run rests in. The working stages (adding, verifying,
	// registering, deregistering), which a run passes in the time of one
	// Graph call, show in the status query and the current details but
	// are never upserted: each upsert is a visibility write on the server
	// that no list of runs could show.
	changeRestingStagesOnly = "search-attribute-stage-holds-resting-stages-only"
)

// bundleBOnly lists the changes only a run with changeBundle2026_11b takes.
var bundleBOnly = map[string]bool{
	changeRestingStagesOnly: true,
}

// hasBundleB reports whether the run recorded changeBundle2026_11b. Number
// asks first, so a new run records it in its first workflow task; later
// calls answer from the SDK's cache and record nothing.
func hasBundleB(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeBundle2026_11b, workflow.DefaultVersion, 1) == 1
}

// hasBundle reports whether the run takes changeBundle2026_11: it recorded
// that marker, or the next bundle's, which implies it.
func hasBundle(ctx workflow.Context) bool {
	if hasBundleB(ctx) {
		return true
	}
	return workflow.GetVersion(ctx, changeBundle2026_11, workflow.DefaultVersion, 1) == 1
}

// has reports whether the run takes the change: true for runs that reach
// the change point with this code, false for histories recorded before.
func has(ctx workflow.Context, change string) bool {
	if bundleBOnly[change] {
		return hasBundleB(ctx)
	}
	if bundleOnly[change] {
		return hasBundle(ctx)
	}
	if bundled[change] && hasBundle(ctx) {
		return true
	}
	return workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) == 1
}

// options returns the activity options of c for this run.
func (c *call) options(ctx workflow.Context, summary string) workflow.ActivityOptions {
	policy := c.retry
	if policy == nil {
		policy = &temporal.RetryPolicy{MaximumAttempts: 1}
	} else if !has(ctx, changeThrottleAsTimer) {
		policy = legacyRetry
	}
	timeout := c.timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	return workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    c.heartbeat,
		RetryPolicy:         policy,
		Summary:             summary,
	}
}
