package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Meta's webhooks reach a run as the signals name-update and waba-update
// (package internal/webhooks). They are hints: the run acts on what it
// reads from the Graph API, never on the event alone, so a stale or replayed
// delivery cannot make it register early. Deliveries come more than once and
// out of order; a run takes an event only when it is newer than the last of
// its kind.

// webhookState is what the run took from webhooks.
type webhookState struct {
	// on is set once the run takes changeWebhookSignals.
	on bool

	nameUpdate *onboarding.NameUpdateInput
	// nameWake cuts a display-name sleep short: re-read now.
	nameWake bool
	// nameChange is an approved new display name of the registered number,
	// for the main coroutine to check and act on.
	nameChange *onboarding.NameUpdateInput
	// reregisterDue is an approved display name that shows only after a
	// register call.
	reregisterDue string

	wabaState, wabaEvent string
	wabaEventTime        time.Time
	wabaEventID          string
}

// newer reports whether an event at t with id comes after the last one
// taken (lastT, lastID): older events and the same event again are dropped.
// Two events of one second are taken in the order they arrive.
func newer(t time.Time, id string, lastT time.Time, lastID string) bool {
	if t.Before(lastT) {
		return false
	}
	return id == "" || id != lastID
}

// takeWebhooks reports whether the run acts on webhook signals, deciding it
// (workflow.GetVersion) at the first signal: runs whose history has none
// replay unchanged.
func (r *run) takeWebhooks(ctx workflow.Context, signal string) bool {
	if !r.hooks.on && has(ctx, changeWebhookSignals) {
		r.hooks.on = true
	}
	if !r.hooks.on {
		r.logger.Info("webhook signal ignored by a run started before webhooks were handled", "signal", signal)
	}
	return r.hooks.on
}

// onNameUpdate takes a name-update signal. It runs in the signal
// coroutine: it only sets state for the main coroutine.
func (r *run) onNameUpdate(ctx workflow.Context, in onboarding.NameUpdateInput) {
	if !r.takeWebhooks(ctx, onboarding.SignalNameUpdate) {
		return
	}
	if last := r.hooks.nameUpdate; last != nil && !newer(in.EventTime, in.EventID, last.EventTime, last.EventID) {
		r.logger.Info("name-update ignored: not newer than the last one taken", "decision", in.Decision,
			"event_time", in.EventTime, "last_event_time", last.EventTime)
		return
	}
	r.hooks.nameUpdate = &in
	r.nameRead = nil // Meta's decision may be newer than the last read
	r.logger.Info("name-update taken", "decision", in.Decision, "reason", in.Reason, "event_time", in.EventTime)
	switch in.Decision {
	case onboarding.NameDecisionApproved, onboarding.NameDecisionRejected:
	default:
		return
	}
	switch {
	case !r.registered:
		// A display-name wait ends at once (now, or when it starts):
		// the run re-reads the number, and the read decides.
		r.hooks.nameWake = true
	case r.registered && in.Decision == onboarding.NameDecisionApproved &&
		in.RequestedName != "" && in.RequestedName != r.in.DisplayName:
		r.hooks.nameChange = &in
	}
}

// onWABAUpdate takes a waba-update signal: it marks the run (status and the
// WhatsAppWABAState search attribute) so operators find the runs of a WABA
// Meta says cannot be used, and budgeted calls wait for a reinstatement.
func (r *run) onWABAUpdate(ctx workflow.Context, in onboarding.WABAUpdateInput) {
	if !r.takeWebhooks(ctx, onboarding.SignalWABAUpdate) {
		return
	}
	if in.State != onboarding.WABAStateUnusable && in.State != onboarding.WABAStateUsable {
		r.logger.Warn("waba-update ignored: unknown state", "state", in.State, "event", in.Event)
		return
	}
	if r.hooks.wabaState != "" && !newer(in.EventTime, in.EventID, r.hooks.wabaEventTime, r.hooks.wabaEventID) {
		r.logger.Info("waba-update ignored: not newer than the last one taken", "event", in.Event,
			"event_time", in.EventTime, "last_event_time", r.hooks.wabaEventTime)
		return
	}
	event := in.Event
	if in.BanState != "" {
		event += " " + in.BanState
	}
	r.hooks.wabaState, r.hooks.wabaEvent = in.State, event
	r.hooks.wabaEventTime, r.hooks.wabaEventID = in.EventTime, in.EventID
	r.upsert(ctx, onboarding.SearchAttributeWABAState.ValueSet(in.State))
	r.logger.Warn("Meta changed the WABA's state", "waba_id", r.in.WABAID, "state", in.State, "event", event)
}

// awaitUsableWABA parks the run before a budgeted call while Meta says its
// WABA cannot be used: the call would fail and still spend the 72-hour
// budget. A reinstatement (waba-update usable) or an operator's fix resumes
// it; the fix is taken as the operator's word that the WABA works again.
func (r *run) awaitUsableWABA(ctx workflow.Context, k callKind) error {
	if r.hooks.wabaState != onboarding.WABAStateUnusable {
		return nil
	}
	r.awaitingFix = true
	defer func() { r.awaitingFix = false }()
	reason := fmt.Sprintf("Meta says WABA %s cannot be used (account_update %s): a %s call would fail and spend the 72-hour budget. "+
		"Waiting for Meta to reinstate it, or resume with fix once it works again (or cancel)", r.in.WABAID, r.hooks.wabaEvent, k)
	r.setStage(ctx, onboarding.StageNeedsAttention, reason)
	r.logger.Warn("run parked: the WABA cannot be used", "waba_id", r.in.WABAID, "event", r.hooks.wabaEvent)
	if err := r.wait(ctx, func() bool { return r.hooks.wabaState != onboarding.WABAStateUnusable || r.fix != nil }); err != nil {
		return err
	}
	if r.fix != nil {
		r.applyFix()
		r.hooks.wabaState, r.hooks.wabaEvent = onboarding.WABAStateUsable, "fix by an operator"
		r.upsert(ctx, onboarding.SearchAttributeWABAState.ValueSet(onboarding.WABAStateUsable))
	}
	return nil
}

// applyNameChange checks an approved display-name change against the number
// and, when Meta shows the name approved, registers again if the operator
// opted in (ReregisterOnNameApproval), or says a reregister is due.
func (r *run) applyNameChange(ctx workflow.Context, nc onboarding.NameUpdateInput) error {
	if nc.RequestedName == r.in.DisplayName || !r.registered {
		return nil // applied meanwhile, or no longer registered: the next register applies it
	}
	st, err := r.readNumber(ctx)
	if err != nil {
		return err
	}
	if st.NameStatus != graph.NameApproved && st.NameStatus != graph.NameAvailableWithoutReview {
		r.logger.Info("name-update said APPROVED but the number reads otherwise; nothing to do", "name_status", st.NameStatus)
		return nil
	}
	r.hooks.reregisterDue = nc.RequestedName
	if !r.in.ReregisterOnNameApproval {
		r.setStage(ctx, r.stage, fmt.Sprintf("registered for the Cloud API%s; Meta approved the display name %q, which shows only "+
			"after a reregister (one register call of the 72-hour budget): send reregister", regionText(r.region), nc.RequestedName))
		return nil
	}
	r.logger.Info("registering again to apply the approved display name", "name", nc.RequestedName)
	return r.runOperation(ctx, &operation{kind: opReregister})
}

// nameApplied records that a register call applied the approved name.
func (r *run) nameApplied() {
	if r.hooks.reregisterDue != "" {
		r.in.DisplayName = r.hooks.reregisterDue
		r.hooks.reregisterDue = ""
	}
}

// webhookResume is the webhook state carried over a continue-as-new.
func (r *run) webhookResume() *onboarding.WebhookState {
	h := r.hooks
	if h.nameUpdate == nil && h.wabaState == "" && h.reregisterDue == "" {
		return nil
	}
	return &onboarding.WebhookState{WABAState: h.wabaState, WABAEvent: h.wabaEvent, WABAEventTime: h.wabaEventTime,
		WABAEventID: h.wabaEventID, NameUpdate: h.nameUpdate, ReregisterDue: h.reregisterDue}
}

// resumeWebhooks restores what webhookResume carried.
func (r *run) resumeWebhooks(ws *onboarding.WebhookState) {
	if ws == nil {
		return
	}
	r.hooks.wabaState, r.hooks.wabaEvent, r.hooks.wabaEventTime = ws.WABAState, ws.WABAEvent, ws.WABAEventTime
	r.hooks.wabaEventID = ws.WABAEventID
	r.hooks.nameUpdate, r.hooks.reregisterDue = ws.NameUpdate, ws.ReregisterDue
}

// rejectionText is Meta's reason for a rejected display name, from the last
// name-update, for the needs-attention detail.
func (r *run) rejectionText() string {
	if u := r.hooks.nameUpdate; u != nil && u.Decision == onboarding.NameDecisionRejected && u.Reason != "" {
		return " (Meta's reason: " + u.Reason + ")"
	}
	return ""
}
