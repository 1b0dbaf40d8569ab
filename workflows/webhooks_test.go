package workflows_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// nameUpdate signals a name-update as internal/webhooks does, stamped with
// the workflow clock shifted by age (negative: an older event).
func (h *harness) nameUpdate(decision, name, reason string, age time.Duration, id string) {
	h.env.SignalWorkflow(onboarding.SignalNameUpdate, onboarding.NameUpdateInput{
		Decision: decision, RequestedName: name, Reason: reason, EventTime: h.env.Now().Add(age), EventID: id,
	})
}

func (h *harness) wabaUpdate(event, banState, state string, age time.Duration, id string) {
	h.env.SignalWorkflow(onboarding.SignalWABAUpdate, onboarding.WABAUpdateInput{
		Event: event, BanState: banState, State: state, EventTime: h.env.Now().Add(age), EventID: id,
	})
}

func (h *harness) numberID() string {
	h.t.Helper()
	n := h.sim.Numbers()
	require.Len(h.t, n, 1)
	return n[0].ID
}

// pendingName is a pre-verified number whose display name Meta reviews for
// a long time, re-checked only daily: only a webhook gets it registered
// within hours.
func pendingName(h *harness) onboarding.OnboardInput {
	in := registeredInput(h)
	in.NameCheckInterval = onboarding.Duration(24 * time.Hour)
	return in
}

func TestNameApprovedWebhookEndsTheNameWaitAtOnce(t *testing.T) {
	h := newHarness(t, graphsim.Options{NameReviewDelay: 1000 * time.Hour})
	var waiting, done onboarding.Status
	h.at(2*time.Hour, func() { waiting = h.status() })
	h.at(3*time.Hour, func() {
		require.NoError(t, h.sim.ApproveName(h.numberID()))
		h.nameUpdate(onboarding.NameDecisionApproved, "Acme Support", "", 0, "ev-1")
	})
	h.at(4*time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	start := h.env.Now()
	h.run(pendingName(h))

	require.Equal(t, onboarding.StageAwaitingNameApproval, waiting.Stage)
	require.Equal(t, onboarding.StageRegistered, done.Stage)
	regs := h.calls(graphsim.EndpointRegister)
	require.Len(t, regs, 1)
	require.True(t, regs[0].Time.Before(start.Add(3*time.Hour+time.Minute)), "registered when the webhook came, not at the daily re-check")
	require.Equal(t, onboarding.NameDecisionApproved, done.LastNameUpdate.Decision)
}

func TestApprovalTheNumberDoesNotShowCannotRegisterEarly(t *testing.T) {
	h := newHarness(t, graphsim.Options{NameReviewDelay: 1000 * time.Hour})
	var after onboarding.Status
	// A stale (or mistaken) APPROVED: Meta's read still says PENDING_REVIEW.
	h.at(time.Hour, func() { h.nameUpdate(onboarding.NameDecisionApproved, "Acme Support", "", 0, "ev-1") })
	h.at(2*time.Hour, func() { after = h.status(); h.env.CancelWorkflow() })
	h.run(pendingName(h))

	require.Equal(t, onboarding.StageAwaitingNameApproval, after.Stage)
	require.Empty(t, h.calls(graphsim.EndpointRegister), "no register spent on a name Meta shows pending")
	require.Equal(t, 0, after.RegisterCallsInWindow)
	require.Len(t, h.calls(graphsim.EndpointGetPhoneNumber), 2, "the webhook made the run read the number once more, nothing else")
	require.False(t, after.SleepingUntil.IsZero(), "back to waiting")
}

func TestOlderAndRepeatedNameUpdatesAreIgnored(t *testing.T) {
	h := newHarness(t, graphsim.Options{NameReviewDelay: 1000 * time.Hour})
	var st onboarding.Status
	var gets int
	h.at(time.Hour, func() {
		h.nameUpdate(onboarding.NameDecisionDeferred, "Acme Support", "", 0, "ev-new")
	})
	h.at(2*time.Hour, func() {
		gets = len(h.calls(graphsim.EndpointGetPhoneNumber))
		// Delivered late: older than the DEFERRED the run already took.
		h.nameUpdate(onboarding.NameDecisionRejected, "Acme Support", "NAME_NOT_CONSISTENT", -90*time.Minute, "ev-old")
		// The same event again.
		h.env.SignalWorkflow(onboarding.SignalNameUpdate, st.LastNameUpdate)
	})
	h.at(90*time.Minute, func() { st = h.status() })
	var last onboarding.Status
	h.at(3*time.Hour, func() { last = h.status(); h.env.CancelWorkflow() })
	h.run(pendingName(h))

	require.Equal(t, onboarding.NameDecisionDeferred, last.LastNameUpdate.Decision)
	require.Equal(t, "ev-new", last.LastNameUpdate.EventID)
	require.Equal(t, onboarding.StageAwaitingNameApproval, last.Stage)
	require.Equal(t, gets, len(h.calls(graphsim.EndpointGetPhoneNumber)), "ignored events wake nothing")
}

func TestRejectedNameParksWithMetasReason(t *testing.T) {
	h := newHarness(t, graphsim.Options{NameReviewDelay: 1000 * time.Hour})
	var st onboarding.Status
	h.at(time.Hour, func() {
		require.NoError(t, h.sim.ReviewName(h.numberID(), graphsim.NameReview{Status: graph.NameDeclined, RejectionReason: "NAME_FORMAT_UNACCEPTABLE"}))
		h.nameUpdate(onboarding.NameDecisionRejected, "Acme Support", "NAME_FORMAT_UNACCEPTABLE", 0, "ev-1")
	})
	h.at(2*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	start := h.env.Now()
	h.run(pendingName(h))

	require.Equal(t, onboarding.StageNeedsAttention, st.Stage)
	require.Contains(t, st.Detail, "DECLINED")
	require.Contains(t, st.Detail, "NAME_FORMAT_UNACCEPTABLE")
	require.Empty(t, h.calls(graphsim.EndpointRegister))
	require.True(t, st.UpdatedAt.Before(start.Add(time.Hour+time.Minute)), "parked when the webhook came, not at the daily re-check")
}

func TestApprovedNameChangeSaysAReregisterIsDue(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var due, applied onboarding.Status
	var re *outcome[onboarding.OperationResult]
	h.at(time.Hour, func() {
		require.NoError(t, h.sim.ReviewName(h.numberID(), graphsim.NameReview{Status: graph.NameApproved, Name: "Acme Help"}))
		h.nameUpdate(onboarding.NameDecisionApproved, "Acme Help", "", 0, "ev-1")
		// The first approval of the original name, delivered late.
		h.nameUpdate(onboarding.NameDecisionApproved, "Acme Support", "", -50*time.Minute, "ev-0")
	})
	h.at(2*time.Hour, func() {
		due = h.status()
		re = update[onboarding.OperationResult](h, onboarding.UpdateReregister, nil)
	})
	h.at(3*time.Hour, func() { applied = h.status(); h.env.CancelWorkflow() })
	h.run(registeredInput(h))

	require.Equal(t, onboarding.StageRegistered, due.Stage)
	require.Equal(t, "Acme Help", due.ReregisterDue)
	require.Contains(t, due.Detail, "reregister")
	require.Equal(t, 1, due.RegisterCallsInWindow, "nothing spent without the operator")
	require.NoError(t, re.err)
	require.Empty(t, applied.ReregisterDue)
	require.Equal(t, 2, applied.RegisterCallsInWindow)
}

func TestApprovedNameChangeReregistersWhenOptedIn(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	in.ReregisterOnNameApproval = true
	var st onboarding.Status
	h.at(time.Hour, func() {
		require.NoError(t, h.sim.ReviewName(h.numberID(), graphsim.NameReview{Status: graph.NameApproved, Name: "Acme Help"}))
		h.nameUpdate(onboarding.NameDecisionApproved, "Acme Help", "", 0, "ev-1")
	})
	// Meta announces the same approval again, as another event.
	h.at(2*time.Hour, func() { h.nameUpdate(onboarding.NameDecisionApproved, "Acme Help", "", 0, "ev-2") })
	h.at(3*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)

	require.Equal(t, onboarding.StageRegistered, st.Stage)
	require.Empty(t, st.ReregisterDue)
	require.Len(t, h.calls(graphsim.EndpointRegister), 2, "one register applies the name; the repeat spends nothing")
}

func TestNameChangeTheNumberDoesNotShowIsNotApplied(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	in.ReregisterOnNameApproval = true
	var st onboarding.Status
	h.at(time.Hour, func() {
		require.NoError(t, h.sim.ReviewName(h.numberID(), graphsim.NameReview{Status: graph.NamePendingReview, Name: "Acme Help"}))
		h.nameUpdate(onboarding.NameDecisionApproved, "Acme Help", "", 0, "ev-1")
	})
	h.at(2*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Len(t, h.calls(graphsim.EndpointRegister), 1)
	require.Empty(t, st.ReregisterDue)
}

// saCapture records the WhatsAppWABAState values the run upserts.
type saCapture struct {
	mu     sync.Mutex
	states []string
}

func (c *saCapture) watch(h *harness) {
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		if v, ok := sa.GetKeyword(onboarding.SearchAttributeWABAState); ok {
			c.mu.Lock()
			c.states = append(c.states, v)
			c.mu.Unlock()
		}
	})
}

func TestUnusableWABAParksBudgetedCallsUntilReinstated(t *testing.T) {
	h := newHarness(t, graphsim.Options{NameReviewDelay: 2 * time.Hour})
	var sa saCapture
	sa.watch(h)
	var marked, parked, stillParked, done onboarding.Status
	h.at(time.Hour, func() {
		h.wabaUpdate("DISABLED_UPDATE", "DISABLE", onboarding.WABAStateUnusable, 0, "ev-1")
	})
	h.at(90*time.Minute, func() { marked = h.status() })
	h.at(4*time.Hour, func() {
		parked = h.status()
		// A reinstatement older than the ban, delivered late.
		h.wabaUpdate("DISABLED_UPDATE", "REINSTATE", onboarding.WABAStateUsable, -210*time.Minute, "ev-0")
	})
	h.at(5*time.Hour, func() {
		stillParked = h.status()
		h.wabaUpdate("DISABLED_UPDATE", "REINSTATE", onboarding.WABAStateUsable, 0, "ev-2")
	})
	h.at(6*time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	h.run(registeredInput(h))

	require.Equal(t, onboarding.WABAStateUnusable, marked.WABAState)
	require.Equal(t, "DISABLED_UPDATE DISABLE", marked.WABAEvent)
	require.Equal(t, onboarding.StageAwaitingNameApproval, marked.Stage, "nothing to spend yet: the run goes on waiting for its name")

	require.Equal(t, onboarding.StageNeedsAttention, parked.Stage)
	require.Contains(t, parked.Detail, "WABA "+wabaID+" cannot be used")
	require.Equal(t, 0, parked.RegisterCallsInWindow)
	require.Equal(t, onboarding.StageNeedsAttention, stillParked.Stage, "an older reinstatement changes nothing")
	require.Equal(t, onboarding.WABAStateUnusable, stillParked.WABAState)

	require.Equal(t, onboarding.StageRegistered, done.Stage)
	require.Equal(t, onboarding.WABAStateUsable, done.WABAState)
	require.Len(t, h.calls(graphsim.EndpointRegister), 1)
	sa.mu.Lock()
	defer sa.mu.Unlock()
	require.Equal(t, []string{onboarding.WABAStateUnusable, onboarding.WABAStateUsable}, sa.states)
}

func TestFixResumesARunParkedOnAnUnusableWABA(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var parked, done onboarding.Status
	var fix *outcome[onboarding.Status]
	h.at(time.Hour, func() {
		h.wabaUpdate("PARTNER_REMOVED", "", onboarding.WABAStateUnusable, 0, "ev-1")
	})
	h.at(61*time.Minute, func() {
		update[onboarding.OperationResult](h, onboarding.UpdateChangeRegion, onboarding.ChangeRegionInput{Region: "DE"})
	})
	h.at(2*time.Hour, func() {
		parked = h.status()
		fix = update[onboarding.Status](h, onboarding.UpdateFixInput, onboarding.FixInput{})
	})
	h.at(3*time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	h.run(registeredInput(h))

	require.Equal(t, onboarding.StageNeedsAttention, parked.Stage)
	require.True(t, strings.Contains(parked.Detail, "PARTNER_REMOVED"), parked.Detail)
	require.Equal(t, 0, parked.DeregisterCallsInWindow, "the change-region's deregister waited")
	require.NoError(t, fix.err)
	require.Equal(t, onboarding.StageRegistered, done.Stage)
	require.Equal(t, "DE", done.Region)
	require.Equal(t, onboarding.WABAStateUsable, done.WABAState)
}

func TestWebhookStateSurvivesContinueAsNew(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	h.at(time.Hour, func() {
		h.wabaUpdate("ACCOUNT_DELETED", "", onboarding.WABAStateUnusable, 0, "ev-1")
		h.nameUpdate(onboarding.NameDecisionApproved, "Acme Support", "", 0, "ev-2")
	})
	h.at(2*time.Hour, func() {
		h.env.SetContinueAsNewSuggested(true)
		h.env.SignalWorkflow(onboarding.SignalSkipWait, nil) // wakes the idle run
	})
	h.run(registeredInput(h))
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(h.env.GetWorkflowError(), &can), "want continue-as-new, got %v", h.env.GetWorkflowError())
	var next onboarding.OnboardInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Resume.Webhooks)
	require.Equal(t, onboarding.WABAStateUnusable, next.Resume.Webhooks.WABAState)
	require.Equal(t, "ev-1", next.Resume.Webhooks.WABAEventID, "the next run drops a redelivery of the event by its id")

	// The next run still parks budgeted calls, and still ignores the
	// deliveries the last one took.
	h2 := newHarness(t, graphsim.Options{})
	h2.env.SetContinuedExecutionRunID("the-run-that-continued")
	var parked, after onboarding.Status
	var callsWhileParked int
	h2.at(time.Minute, func() {
		// Older than the ACCOUNT_DELETED the last run took.
		h2.wabaUpdate("ACCOUNT_RECONNECTED", "", onboarding.WABAStateUsable, -2*time.Hour, "ev-0")
		update[onboarding.OperationResult](h2, onboarding.UpdateReregister, nil)
	})
	h2.at(time.Hour, func() {
		parked = h2.status()
		callsWhileParked = len(h2.sim.Calls())
		h2.wabaUpdate("ACCOUNT_RECONNECTED", "", onboarding.WABAStateUsable, 0, "ev-3")
	})
	h2.at(2*time.Hour, func() { after = h2.status(); h2.env.CancelWorkflow() })
	h2.run(next)
	require.Equal(t, onboarding.StageNeedsAttention, parked.Stage)
	require.Contains(t, parked.Detail, "cannot be used")
	require.Equal(t, "ev-2", parked.LastNameUpdate.EventID)
	require.Zero(t, callsWhileParked)
	// Reinstated, the run goes on to Meta (this test's simulator does not
	// know the continued run's number, which is another story).
	require.Equal(t, onboarding.WABAStateUsable, after.WABAState)
	require.NotEmpty(t, h2.sim.Calls())
}
