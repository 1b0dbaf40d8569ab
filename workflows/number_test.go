package workflows_test

import (
	"context"
	"errors"
	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/activities"
	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
	"github.com/wa-onboarding/onboarding/workflows"
)

const (
	wabaID   = "100000000000001"
	cc       = "1"
	national = "5551234567"
	pin      = "012345"
)

// envClock makes the simulator live on the test environment's skipped time,
// so a 72-hour window passes in milliseconds for both sides.
type envClock struct {
	env *testsuite.TestWorkflowEnvironment
}

func (c envClock) Now() time.Time { return c.env.Now() }

type harness struct {
	t   testing.TB
	env *testsuite.TestWorkflowEnvironment
	sim *graphsim.Server
	g   *graph.Client
}

func newHarness(t testing.TB, opts graphsim.Options, gopts ...graph.Option) *harness {
	t.Helper()
	return newHarnessMetered(t, nil, opts, gopts...)
}

// newHarnessMetered is newHarness whose workflow metrics go to mh (none when
// nil).
func newHarnessMetered(t testing.TB, mh client.MetricsHandler, opts graphsim.Options, gopts ...graph.Option) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	suite.SetLogger(log.NewStructuredLogger(quiet))
	if mh != nil {
		suite.SetMetricsHandler(mh)
	}
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	opts.Clock = envClock{env}
	opts.Logger = quiet
	opts.CodeTTL = 1000 * time.Hour // codes expire in their own test
	sim := graphsim.New(opts)
	sim.CreateWABA(wabaID)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	g, err := graph.New(graphsim.DefaultToken, append([]graph.Option{graph.WithBaseURL(srv.URL + "/v21.0")}, gopts...)...)
	require.NoError(t, err)
	env.RegisterWorkflowWithOptions(workflows.Number, workflow.RegisterOptions{Name: onboarding.WorkflowType})
	env.RegisterActivity(activities.New(g, testOpener))
	// The number's own workflow id: the workflow refuses any other.
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: onboarding.WorkflowID(cc, national)})
	return &harness{t: t, env: env, sim: sim, g: g}
}

func input() onboarding.OnboardInput {
	return onboarding.OnboardInput{
		WABAID: wabaID, CountryCode: cc, PhoneNumber: national, DisplayName: "Acme Support",
		PIN: sealed(seal.PurposePIN, pin), CodeWait: onboarding.Duration(2 * time.Hour), NameCheckInterval: onboarding.Duration(30 * time.Minute),
	}
}

// at runs f when the workflow clock has advanced by d since the start.
func (h *harness) at(d time.Duration, f func()) { h.env.RegisterDelayedCallback(f, d) }

func (h *harness) status() onboarding.Status {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(onboarding.QueryStatus)
	require.NoError(h.t, err)
	var st onboarding.Status
	require.NoError(h.t, v.Get(&st))
	return st
}

// outcome is filled in when the test environment has run an update: its
// callbacks come after the call returns, so tests read it after run.
type outcome[T any] struct {
	rejected error
	err      error
	value    T
	done     bool
}

func update[T any](h *harness, name string, arg any) *outcome[T] {
	o := &outcome[T]{}
	cb := &testsuite.TestUpdateCallback{
		OnReject: func(err error) { o.rejected, o.done = err, true },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			o.err, o.done = err, true
			if err == nil && v != nil {
				o.value = v.(T)
			}
		},
	}
	if arg == nil {
		h.env.UpdateWorkflow(name, "", cb)
	} else {
		h.env.UpdateWorkflow(name, "", cb, arg)
	}
	return o
}

// sendCode submits code sealed, as every client does.
func (h *harness) sendCode(code string) *outcome[onboarding.CodeResult] {
	return update[onboarding.CodeResult](h, onboarding.UpdateSubmitCode, onboarding.CodeInput{Code: sealed(seal.PurposeOwnershipCode, code)})
}

func (h *harness) sentCode() string {
	h.t.Helper()
	st := h.status()
	code, ok := h.sim.LastCode(st.PhoneNumberID)
	require.True(h.t, ok, "the simulator sent no code to %s", st.PhoneNumberID)
	return code
}

func (h *harness) calls(endpoint string) []graphsim.Call {
	var out []graphsim.Call
	for _, c := range h.sim.Calls() {
		if c.Endpoint == endpoint {
			out = append(out, c)
		}
	}
	return out
}

// run executes the workflow; the last callback is expected to cancel it.
func (h *harness) run(in onboarding.OnboardInput) {
	h.env.ExecuteWorkflow(onboarding.WorkflowType, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
}

func (h *harness) requireCancelled() {
	h.t.Helper()
	err := h.env.GetWorkflowError()
	require.Error(h.t, err)
	var canceled *temporal.CanceledError
	require.True(h.t, errors.As(err, &canceled), "want a cancelled run, got %v", err)
}

func TestHappyPath(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var registered onboarding.Status
	var codeRes *outcome[onboarding.CodeResult]
	h.at(time.Minute, func() {
		st := h.status()
		require.Equal(t, onboarding.StageAwaitingCode, st.Stage)
		require.NotEmpty(t, st.PhoneNumberID)
		codeRes = h.sendCode(h.sentCode())
	})
	h.at(time.Hour, func() {
		registered = h.status()
		h.env.CancelWorkflow()
	})
	h.run(input())
	h.requireCancelled()

	require.True(t, codeRes.done)
	require.NoError(t, codeRes.err)
	require.True(t, codeRes.value.Accepted, codeRes.value.Message)
	require.Equal(t, onboarding.StageRegistered, registered.Stage)
	require.True(t, registered.Registered)
	require.Equal(t, 1, registered.RegisterCallsInWindow)
	n, ok := h.sim.Number(registered.PhoneNumberID)
	require.True(t, ok)
	require.Equal(t, graph.StatusConnected, n.Status)
	require.Equal(t, pin, n.PIN, "the PIN keeps its leading zero")
	var order []string
	for _, c := range h.sim.Calls() {
		order = append(order, c.Endpoint)
	}
	// No read after a fresh add (changeFreshAddIsUnverified); the read
	// that gates register on the display name is VerifyCode's own
	// (changeVerifyReadsName).
	require.Equal(t, []string{"add_phone_number", "request_code", "verify_code", "get_phone_number", "register"}, order)
	for _, c := range h.calls(graphsim.EndpointRegister) {
		require.Equal(t, "******", c.Params["pin"])
	}
}

func TestAlreadyVerifiedNumberIsAdoptedWithoutACode(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	id, err := h.sim.SeedNumber(wabaID, cc, national, graphsim.Verified())
	require.NoError(t, err)
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.Equal(t, id, st.PhoneNumberID, "the number already on the WABA is adopted")
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	require.Empty(t, h.calls(graphsim.EndpointRequestCode))
	require.Len(t, h.calls(graphsim.EndpointGetPhoneNumber), 1,
		"the read that found the adopted number verified also opens the display-name gate")
}

// When VerifyCode's read of the number fails after Meta accepted the code,
// the code is still accepted and the display-name gate reads on its own.
func TestNameGateReadsWhenVerifysReadFails(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var codeRes *outcome[onboarding.CodeResult]
	var st onboarding.Status
	h.at(time.Minute, func() {
		require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultStatus, Endpoint: graphsim.EndpointGetPhoneNumber, Times: 1, HTTPStatus: 503}))
		codeRes = h.sendCode(h.sentCode())
	})
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.True(t, codeRes.done)
	require.True(t, codeRes.value.Accepted, codeRes.value.Message)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	var order []string
	for _, c := range h.sim.Calls() {
		order = append(order, c.Endpoint)
	}
	require.Equal(t, []string{"add_phone_number", "request_code", "verify_code", "get_phone_number", "get_phone_number", "register"}, order)
}

func TestPreverifiedNumberNeedsNoCode(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := input()
	in.PreverifiedID = h.sim.AddPreverifiedNumber(cc, national)
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	require.Empty(t, h.calls(graphsim.EndpointRequestCode))
	require.Empty(t, h.calls(graphsim.EndpointVerifyCode))
}

func TestWrongCodeThenRightCode(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var wrong, right *outcome[onboarding.CodeResult]
	var between onboarding.Status
	h.at(time.Minute, func() {
		code := h.sentCode()
		bad := "000000"
		if code == bad {
			bad = "111111"
		}
		wrong = h.sendCode(bad)
	})
	h.at(2*time.Minute, func() {
		between = h.status()
		right = h.sendCode(h.sentCode())
	})
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.False(t, wrong.value.Accepted)
	require.Contains(t, wrong.value.Message, "136025")
	require.Equal(t, onboarding.StageAwaitingCode, between.Stage)
	require.NotNil(t, between.LastError)
	require.Equal(t, 136025, between.LastError.Code)
	require.True(t, right.value.Accepted)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
}

func TestMalformedCodeIsRefusedBeforeAcceptance(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var res *outcome[onboarding.CodeResult]
	var st onboarding.Status
	h.at(time.Minute, func() { res = h.sendCode("12ab56") })
	h.at(2*time.Minute, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	// The workflow cannot read a sealed code: the activity checks it after
	// opening, before any call to Meta, and the person is told.
	require.True(t, res.done)
	require.False(t, res.value.Accepted)
	require.Contains(t, res.value.Message, "code: must be the 6 digits")
	require.NotContains(t, res.value.Message, "12ab56")
	require.Equal(t, onboarding.StageAwaitingCode, st.Stage, "the run waits for another code")
	require.Empty(t, h.calls(graphsim.EndpointVerifyCode), "a refused code never reaches Meta")
}

func TestResendCodeByVoice(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var first string
	h.at(time.Minute, func() {
		first = h.sentCode()
		h.env.SignalWorkflow(onboarding.SignalResendCode, onboarding.ResendInput{Method: onboarding.CodeVoice})
	})
	h.at(2*time.Minute, func() {
		h.env.SignalWorkflow(onboarding.SignalVerificationCode, onboarding.CodeInput{Code: sealed(seal.PurposeOwnershipCode, h.sentCode())})
	})
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	reqs := h.calls(graphsim.EndpointRequestCode)
	require.Len(t, reqs, 2)
	require.Equal(t, "SMS", reqs[0].Params["code_method"])
	require.Equal(t, "VOICE", reqs[1].Params["code_method"])
	require.NotEmpty(t, first)
	require.Equal(t, onboarding.StageRegistered, st.Stage, "the code sent by signal was accepted")
}

func TestStatusNamesTheMethodOfTheLastCodeRequest(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var before, after onboarding.Status
	h.at(time.Minute, func() {
		before = h.status()
		h.env.SignalWorkflow(onboarding.SignalResendCode, onboarding.ResendInput{Method: onboarding.CodeVoice})
	})
	h.at(2*time.Minute, func() { after = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.Equal(t, onboarding.CodeSMS, before.CodeMethod)
	require.Contains(t, before.Detail, "waiting for the SMS code")
	require.Equal(t, onboarding.CodeVoice, after.CodeMethod)
	require.Contains(t, after.Detail, "waiting for the VOICE code", "a resend by voice is what the person waits for")
	require.NotContains(t, after.Detail, "SMS")
}

// A run awaiting its code whose number Meta forgot (deleted from the WABA, a
// simulator restarted without its state) says so in plain words, does not
// loop on a plain fix or a resend, and adds the number again on fix --readd.
func TestNumberMetaNoLongerKnowsIsAddedAgainOnReadd(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var oldID string
	var stuck, stillStuck, done onboarding.Status
	var badReadd, plain, readd *outcome[onboarding.Status]
	h.at(time.Minute, func() {
		oldID = h.status().PhoneNumberID
		badReadd = update[onboarding.Status](h, onboarding.UpdateFixInput, onboarding.FixInput{Readd: true})
		require.NoError(t, h.sim.ForgetNumber(oldID))
		h.env.SignalWorkflow(onboarding.SignalResendCode, onboarding.ResendInput{})
	})
	h.at(2*time.Minute, func() {
		stuck = h.status()
		plain = update[onboarding.Status](h, onboarding.UpdateFixInput, onboarding.FixInput{})
	})
	h.at(3*time.Minute, func() {
		stillStuck = h.status()
		readd = update[onboarding.Status](h, onboarding.UpdateFixInput, onboarding.FixInput{Readd: true})
	})
	h.at(4*time.Minute, func() { h.sendCode(h.sentCode()) })
	h.at(time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	h.run(input())

	require.ErrorContains(t, badReadd.rejected, "does not need attention", "readd is refused while the run is fine")
	require.Equal(t, onboarding.StageNeedsAttention, stuck.Stage)
	require.Equal(t, 100, stuck.LastError.Code)
	require.Equal(t, 33, stuck.LastError.Subcode)
	require.Contains(t, stuck.Detail, "Meta no longer knows phone-number ID "+oldID)
	require.Contains(t, stuck.Detail, "fix --readd")
	require.Contains(t, stuck.Detail, "cancel this run and onboard")
	require.NoError(t, plain.err)
	require.Equal(t, onboarding.StageNeedsAttention, stillStuck.Stage, "a plain fix retries once and parks again, it does not loop")
	require.Contains(t, stillStuck.Detail, "fix --readd")
	require.NoError(t, readd.err)

	require.Equal(t, onboarding.StageRegistered, done.Stage)
	require.NotEmpty(t, done.PhoneNumberID)
	require.NotEqual(t, oldID, done.PhoneNumberID, "the number was added again under a new ID")
	require.Len(t, h.calls(graphsim.EndpointAddPhoneNumber), 2)
	require.Equal(t, 1, done.RegisterCallsInWindow)
}

func TestReaddIsRefusedWhenMetaKnowsTheNumber(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	_, err := h.sim.SeedNumber(wabaID, cc, national, graphsim.Verified(), graphsim.WithPIN("654321"))
	require.NoError(t, err)
	var readd *outcome[onboarding.Status]
	h.at(time.Hour, func() {
		readd = update[onboarding.Status](h, onboarding.UpdateFixInput, onboarding.FixInput{Readd: true})
	})
	h.at(2*time.Hour, func() { h.env.CancelWorkflow() })
	h.run(input())
	require.ErrorContains(t, readd.rejected, "readd: only a run whose phone-number ID Meta no longer knows")
	require.Len(t, h.calls(graphsim.EndpointAddPhoneNumber), 1)
}

func TestCodeWaitRunsOutAndParks(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := input()
	in.CodeWait = onboarding.Duration(3 * time.Hour)
	var before, parked, after onboarding.Status
	h.at(2*time.Hour, func() { before = h.status() })
	h.at(50*time.Hour, func() {
		parked = h.status()
		h.sendCode(h.sentCode())
	})
	h.at(51*time.Hour, func() { after = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageAwaitingCode, before.Stage)
	require.False(t, before.CodeWaitExpired)
	require.Equal(t, onboarding.StageAwaitingCode, parked.Stage, "the run is parked, not failed")
	require.True(t, parked.CodeWaitExpired)
	require.Contains(t, parked.Detail, "parked")
	require.Equal(t, onboarding.StageRegistered, after.Stage, "a late code still completes the onboarding")
}

func TestDisplayNamePendingThenApproved(t *testing.T) {
	h := newHarness(t, graphsim.Options{NameReviewDelay: 5 * time.Hour})
	in := input()
	in.PreverifiedID = h.sim.AddPreverifiedNumber(cc, national)
	var pending, done onboarding.Status
	h.at(2*time.Hour, func() { pending = h.status() })
	h.at(7*time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	start := h.env.Now()
	h.run(in)
	require.Equal(t, onboarding.StageAwaitingNameApproval, pending.Stage)
	require.False(t, pending.SleepingUntil.IsZero())
	require.Equal(t, 0, pending.RegisterCallsInWindow, "no register is spent while the name is pending")
	require.Equal(t, onboarding.StageRegistered, done.Stage)
	regs := h.calls(graphsim.EndpointRegister)
	require.Len(t, regs, 1)
	require.False(t, regs[0].Time.Before(start.Add(5*time.Hour)), "registered only after the name was approved")
	require.True(t, regs[0].Time.Before(start.Add(5*time.Hour+31*time.Minute)), "re-checked on the interval, not much later")
	gets := h.calls(graphsim.EndpointGetPhoneNumber)
	require.LessOrEqual(t, len(gets), 12, "name_status is re-read on durable timers, not in a hot loop")
}

func TestRegisterBeforeNameReadyWaitsAndRetries(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := input()
	in.PreverifiedID = h.sim.AddPreverifiedNumber(cc, national)
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultError, Endpoint: graphsim.EndpointRegister,
		Times: 1, HTTPStatus: 400, Code: 100, Subcode: 2388001, Message: "Cannot Create Certificate", Counted: true}))
	var waiting, done onboarding.Status
	h.at(10*time.Minute, func() { waiting = h.status() })
	h.at(2*time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageAwaitingNameApproval, waiting.Stage)
	require.Equal(t, 2388001, waiting.LastError.Subcode)
	require.Equal(t, onboarding.StageRegistered, done.Stage)
	require.Len(t, h.calls(graphsim.EndpointRegister), 2)
}

// registeredInput is the input of a pre-verified number: the run registers
// it without waiting for a code.
func registeredInput(h *harness) onboarding.OnboardInput {
	in := input()
	in.PreverifiedID = h.sim.AddPreverifiedNumber(cc, national)
	return in
}

func TestLedgerRefusesAnEleventhCallAndWaitsExactlyForTheWindow(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	// The onboarding spends one register; nine reregisters spend the rest.
	var re []*outcome[onboarding.OperationResult]
	for i := 1; i <= 9; i++ {
		h.at(time.Duration(i)*time.Hour, func() {
			re = append(re, update[onboarding.OperationResult](h, onboarding.UpdateReregister, nil))
		})
	}
	var limited, after onboarding.Status
	var eleventh *outcome[onboarding.OperationResult]
	h.at(10*time.Hour, func() {
		eleventh = update[onboarding.OperationResult](h, onboarding.UpdateReregister, nil)
	})
	h.at(11*time.Hour, func() { limited = h.status() })
	h.at(80*time.Hour, func() { after = h.status(); h.env.CancelWorkflow() })
	h.run(in)

	regs := h.calls(graphsim.EndpointRegister)
	require.Len(t, regs, 11)
	require.Equal(t, onboarding.StageRateLimited, limited.Stage)
	require.Equal(t, 10, limited.RegisterCallsInWindow)
	want := regs[0].Time.Add(workflows.Window + workflows.WindowMargin)
	for _, o := range re {
		require.NoError(t, o.err)
	}
	require.WithinDuration(t, want, limited.NextRegisterAllowedAt, 0)
	require.WithinDuration(t, want, limited.SleepingUntil, 0)
	require.WithinDuration(t, want, regs[10].Time, 0, "the 11th call waits exactly until the oldest leaves the window")
	for _, c := range regs {
		require.Zero(t, c.ErrorCode, "Meta never had to refuse a call")
	}
	require.Equal(t, onboarding.StageRegistered, after.Stage)
	require.Equal(t, onboarding.StageRegistered, eleventh.value.Stage)
}

func TestMetaLockSleepsSeventyTwoHoursThenSucceeds(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	id, err := h.sim.SeedNumber(wabaID, cc, national, graphsim.Verified())
	require.NoError(t, err)
	// Someone else spent the budget and tripped the lock outside this worker.
	for range 11 {
		_ = h.g.Register(t.Context(), id, graph.RegisterRequest{PIN: pin})
	}
	var locked, done onboarding.Status
	h.at(time.Hour, func() { locked = h.status() })
	h.at(80*time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	start := h.env.Now()
	h.run(input())
	require.Equal(t, onboarding.StageRateLimited, locked.Stage)
	require.NotNil(t, locked.LastError)
	require.Equal(t, 133016, locked.LastError.Code)
	require.WithinDuration(t, start.Add(workflows.Window+workflows.WindowMargin), locked.SleepingUntil, time.Second)
	require.WithinDuration(t, locked.SleepingUntil, locked.NextRegisterAllowedAt, 0)
	require.Equal(t, onboarding.StageRegistered, done.Stage)
	regs := h.calls(graphsim.EndpointRegister)
	require.Len(t, regs, 13, "11 outside calls, one refused with 133016, one after the lock")
	require.Equal(t, 133016, regs[11].ErrorCode)
	require.Zero(t, regs[12].ErrorCode)
}

func TestSkipWaitCutsASleepShort(t *testing.T) {
	h := newHarness(t, graphsim.Options{NameReviewDelay: 100 * time.Hour})
	in := registeredInput(h)
	in.NameCheckInterval = onboarding.Duration(10 * time.Hour)
	var st onboarding.Status
	h.at(time.Hour, func() {
		require.NoError(t, h.sim.ApproveName(h.status().PhoneNumberID))
		h.env.SignalWorkflow(onboarding.SignalSkipWait, nil)
	})
	h.at(2*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageRegistered, st.Stage, "registered long before the 10-hour re-check")
}

func TestChangeRegionDeregistersThenRegisters(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	in.Region = "CH"
	var same, bad, toDE, off *outcome[onboarding.OperationResult]
	var st onboarding.Status
	change := func(region string) *outcome[onboarding.OperationResult] {
		return update[onboarding.OperationResult](h, onboarding.UpdateChangeRegion, onboarding.ChangeRegionInput{Region: region})
	}
	h.at(time.Hour, func() { same = change("CH") })
	h.at(time.Hour+time.Minute, func() { bad = change("XX") })
	h.at(time.Hour+2*time.Minute, func() { toDE = change("DE") })
	h.at(2*time.Hour, func() { off = change("") })
	h.at(3*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.ErrorContains(t, same.rejected, "already registered", "a no-op change spends no budget")
	require.ErrorContains(t, bad.rejected, "region: must be empty or one of")
	require.Equal(t, onboarding.OperationResult{Stage: onboarding.StageRegistered, Region: "DE"}, toDE.value)
	require.Equal(t, onboarding.OperationResult{Stage: onboarding.StageRegistered}, off.value)
	n, _ := h.sim.Number(st.PhoneNumberID)
	require.Empty(t, n.DataLocalizationRegion)
	require.Equal(t, 3, st.RegisterCallsInWindow)
	require.Equal(t, 2, st.DeregisterCallsInWindow)
	var seq []string
	for _, c := range h.sim.Calls() {
		if c.Endpoint == graphsim.EndpointRegister || c.Endpoint == graphsim.EndpointDeregister {
			seq = append(seq, c.Endpoint+":"+c.Params["data_localization_region"])
		}
	}
	require.Equal(t, []string{"register:CH", "deregister:", "register:DE", "deregister:", "register:"}, seq)
}

func TestReregisterAndDeregister(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	var re, de *outcome[onboarding.OperationResult]
	h.at(time.Hour, func() { re = update[onboarding.OperationResult](h, onboarding.UpdateReregister, nil) })
	h.at(2*time.Hour, func() { de = update[onboarding.OperationResult](h, onboarding.UpdateDeregister, nil) })
	var st onboarding.Status
	h.at(3*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageRegistered, re.value.Stage)
	require.Equal(t, onboarding.StageDeregistered, de.value.Stage)
	require.Len(t, h.calls(graphsim.EndpointRegister), 2)
	require.Len(t, h.calls(graphsim.EndpointDeregister), 1)
	n, _ := h.sim.Number(st.PhoneNumberID)
	require.Equal(t, graph.StatusDisconnected, n.Status)
	require.False(t, st.Registered)
}

func TestPINMismatchNeedsAttentionUntilFixed(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	_, err := h.sim.SeedNumber(wabaID, cc, national, graphsim.Verified(), graphsim.WithPIN("654321"))
	require.NoError(t, err)
	var stuck onboarding.Status
	var bad, fixed *outcome[onboarding.Status]
	h.at(time.Hour, func() {
		stuck = h.status()
		bad = update[onboarding.Status](h, onboarding.UpdateFixInput, onboarding.FixInput{PIN: "654321"})
	})
	h.at(time.Hour+time.Minute, func() {
		fixed = update[onboarding.Status](h, onboarding.UpdateFixInput, onboarding.FixInput{PIN: sealed(seal.PurposePIN, "654321")})
	})
	var st onboarding.Status
	h.at(5*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.Equal(t, onboarding.StageNeedsAttention, stuck.Stage)
	require.Equal(t, 133005, stuck.LastError.Code)
	require.Equal(t, 1, stuck.RegisterCallsInWindow, "a PIN mismatch is not retried with the same PIN")
	require.ErrorContains(t, bad.rejected, "pin: arrived unsealed")
	require.ErrorContains(t, bad.rejected, "--codec-endpoint", "the refusal says how to send it")
	require.NotContains(t, bad.rejected.Error(), "654321", "a refused PIN is not echoed")
	require.NoError(t, fixed.err)
	require.True(t, fixed.done)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	require.Len(t, h.calls(graphsim.EndpointRegister), 2)
}

func TestPermanentErrorNeedsAttentionWithoutCrashLoop(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultError, Endpoint: graphsim.EndpointAddPhoneNumber,
		Times: 1, HTTPStatus: 403, Code: 200, Message: "Permissions error"}))
	var stuck, st onboarding.Status
	h.at(3*time.Hour, func() {
		stuck = h.status()
		update[onboarding.Status](h, onboarding.UpdateFixInput, onboarding.FixInput{})
	})
	h.at(4*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(registeredInput(h))
	require.Equal(t, onboarding.StageNeedsAttention, stuck.Stage)
	require.Equal(t, 200, stuck.LastError.Code)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	require.Len(t, h.calls(graphsim.EndpointAddPhoneNumber), 2, "one failure, one retry after the fix: no crash loop")
}

func TestTransientErrorsRetryWithBackoff(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultStatus, Endpoint: graphsim.EndpointGetPhoneNumber, Times: 2, HTTPStatus: 503}))
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultStatus, Endpoint: graphsim.EndpointRegister, Times: 1, HTTPStatus: 500, Counted: true}))
	var st onboarding.Status
	h.at(3*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(registeredInput(h))
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	require.Len(t, h.calls(graphsim.EndpointRegister), 2, "the workflow, not a retry policy, re-spends budget")
	require.Equal(t, 2, st.RegisterCallsInWindow)
}

func TestCancelAtEachStage(t *testing.T) {
	tests := []struct {
		stage onboarding.Stage
		sim   graphsim.Options
		setup func(h *harness, in *onboarding.OnboardInput)
	}{
		{onboarding.StageAdding, graphsim.Options{}, func(h *harness, in *onboarding.OnboardInput) {
			require.NoError(h.t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultStatus, Endpoint: graphsim.EndpointAddPhoneNumber, HTTPStatus: 503}))
		}},
		{onboarding.StageAwaitingCode, graphsim.Options{}, func(h *harness, in *onboarding.OnboardInput) {}},
		{onboarding.StageAwaitingNameApproval, graphsim.Options{NameReviewDelay: 1000 * time.Hour}, func(h *harness, in *onboarding.OnboardInput) {
			in.PreverifiedID = h.sim.AddPreverifiedNumber(cc, national)
		}},
		{onboarding.StageRateLimited, graphsim.Options{}, func(h *harness, in *onboarding.OnboardInput) {
			id, err := h.sim.SeedNumber(wabaID, cc, national, graphsim.Verified())
			require.NoError(h.t, err)
			for range 11 {
				_ = h.g.Register(h.t.Context(), id, graph.RegisterRequest{PIN: pin})
			}
		}},
		{onboarding.StageNeedsAttention, graphsim.Options{}, func(h *harness, in *onboarding.OnboardInput) {
			_, err := h.sim.SeedNumber(wabaID, cc, national, graphsim.Verified(), graphsim.WithPIN("999999"))
			require.NoError(h.t, err)
		}},
		{onboarding.StageRegistered, graphsim.Options{}, func(h *harness, in *onboarding.OnboardInput) {
			in.PreverifiedID = h.sim.AddPreverifiedNumber(cc, national)
		}},
	}
	for _, tc := range tests {
		t.Run(string(tc.stage), func(t *testing.T) {
			h := newHarness(t, tc.sim)
			in := input()
			tc.setup(h, &in)
			var before onboarding.Status
			h.at(30*time.Minute, func() { before = h.status(); h.env.CancelWorkflow() })
			h.run(in)
			h.requireCancelled()
			require.Equal(t, tc.stage, before.Stage)
			require.Equal(t, onboarding.StageCancelled, h.status().Stage, "the final stage says cancelled")
		})
	}
}

func TestContinueAsNewKeepsTheLedger(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	h.at(time.Hour, func() { update[onboarding.OperationResult](h, onboarding.UpdateReregister, nil) })
	h.at(2*time.Hour, func() {
		h.env.SetContinueAsNewSuggested(true)
		h.env.SignalWorkflow(onboarding.SignalSkipWait, nil) // wakes the idle run
	})
	h.run(in)
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(h.env.GetWorkflowError(), &can), "want continue-as-new, got %v", h.env.GetWorkflowError())
	require.Equal(t, onboarding.WorkflowType, can.WorkflowType.Name)
	var next onboarding.OnboardInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Resume)
	require.Len(t, next.Resume.Ledger.Register, 2)
	require.Equal(t, onboarding.StageRegistered, next.Resume.Stage)
	require.Equal(t, in.PIN, next.PIN, "the PIN is carried sealed")

	// The next run serves the number with the same ledger, without onboarding again.
	h2 := newHarness(t, graphsim.Options{})
	h2.env.SetContinuedExecutionRunID("the-run-that-continued")
	var st onboarding.Status
	h2.at(time.Minute, func() { st = h2.status(); h2.env.CancelWorkflow() })
	h2.run(next)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	require.Equal(t, 2, st.RegisterCallsInWindow)
	require.Empty(t, h2.sim.Calls(), "a continued run makes no Graph call on its own")
}

func TestInvalidInputFailsAtStart(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := input()
	in.PIN = "98765"
	in.Region = "FR"
	h.env.ExecuteWorkflow(onboarding.WorkflowType, in)
	err := h.env.GetWorkflowError()
	require.ErrorContains(t, err, "pin: must be exactly 6 ASCII digits")
	require.ErrorContains(t, err, "region: must be empty or one of")
	require.NotContains(t, err.Error(), "98765")
	require.Empty(t, h.sim.Calls())
	st := h.status()
	require.Equal(t, onboarding.StageRefused, st.Stage, "a refused run answers status")
	require.Contains(t, st.Detail, "region: must be empty or one of")
}

func TestThrottleHintIsObeyedAndSpendsNoBudget(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	// A throttle of hours, five times over: more than the ten-call ledger
	// would allow if each refused call counted.
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultThrottle, Endpoint: graphsim.EndpointRegister,
		Times: 12, Code: 80007, RetryAfter: 3 * time.Hour}))
	var sleeping, done onboarding.Status
	h.at(4*time.Hour, func() { sleeping = h.status() })
	h.at(40*time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	h.run(in)

	regs := h.calls(graphsim.EndpointRegister)
	require.Len(t, regs, 13, "12 throttled calls, then one answered")
	for i := 1; i < len(regs); i++ {
		require.Equal(t, 3*time.Hour, regs[i].Time.Sub(regs[i-1].Time), "each retry waits what Meta asked, no more, no less")
	}
	require.Equal(t, onboarding.StageRateLimited, sleeping.Stage)
	require.Contains(t, sleeping.SleepReason, "80007")
	require.Equal(t, 80007, sleeping.LastError.Code)
	require.Equal(t, int64(3*3600), sleeping.LastError.RetryAfterSeconds)
	require.WithinDuration(t, regs[1].Time.Add(3*time.Hour), sleeping.SleepingUntil, 0)
	require.Equal(t, sleeping.SleepingUntil, sleeping.LastError.NextAttemptAt)
	require.Equal(t, 0, sleeping.RegisterCallsInWindow, "a throttled register gives its ledger entry back")
	require.Equal(t, onboarding.StageRegistered, done.Stage)
	require.Equal(t, 1, done.RegisterCallsInWindow, "only the call Meta carried out counts")
	require.False(t, done.LastError.ResolvedAt.IsZero(), "the throttle is history once register succeeded")
}

func TestThrottledReadWaitsOnATimerNotInTheActivity(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultThrottle, Endpoint: graphsim.EndpointGetPhoneNumber,
		Times: 1, Code: 4, RetryAfter: 10 * time.Minute}))
	var sleeping, done onboarding.Status
	h.at(5*time.Minute, func() { sleeping = h.status() })
	h.at(time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	gets := h.calls(graphsim.EndpointGetPhoneNumber)
	require.GreaterOrEqual(t, len(gets), 2)
	require.Equal(t, 10*time.Minute, gets[1].Time.Sub(gets[0].Time))
	require.False(t, sleeping.SleepingUntil.IsZero(), "the wait is the workflow's, shown in the status")
	require.Contains(t, sleeping.SleepReason, "get_phone_number")
	require.Equal(t, onboarding.StageRegistered, done.Stage)
}

func TestAWaitThatEndsCancelsItsTimer(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	scheduled := map[string]time.Duration{}
	var cancelled []time.Duration
	h.env.SetOnTimerScheduledListener(func(id string, d time.Duration) { scheduled[id] = d })
	h.env.SetOnTimerCanceledListener(func(id string) { cancelled = append(cancelled, scheduled[id]) })
	in := input()
	h.at(time.Minute, func() { h.sendCode(h.sentCode()) })
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	require.Contains(t, cancelled, time.Duration(in.CodeWait), "the code wait is not left pending once the code arrived")
}

func TestOnPremisesBackupIsSentWithTheFirstRegisterOnly(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	in.Backup = &onboarding.Backup{Data: "QkFDS1VQLURBVEE=", Password: sealed(seal.PurposeBackupPassword, "backup-pass")}
	h.at(time.Hour, func() { update[onboarding.OperationResult](h, onboarding.UpdateReregister, nil) })
	var st onboarding.Status
	h.at(2*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageRegistered, st.Stage, "%+v", st.LastError)
	regs := h.calls(graphsim.EndpointRegister)
	require.Len(t, regs, 2)
	require.Equal(t, "******", regs[0].Params["backup.data"], "the simulator received the backup (it refuses one without data and password)")
	require.Equal(t, "******", regs[0].Params["backup.password"])
	require.NotContains(t, regs[1].Params, "backup.data", "a later register does not resend the migration backup")
}

// lose makes the simulator carry out the next call to endpoint and lose its
// answer the way answer says.
func (h *harness) lose(endpoint, answer string) {
	h.t.Helper()
	require.NoError(h.t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultLostAnswer, Endpoint: endpoint, Times: 1, Answer: answer}))
}

func TestVerifyWhoseAnswerWasLostIsAccepted(t *testing.T) {
	for _, answer := range []string{graphsim.AnswerDrop, graphsim.AnswerStatus} {
		t.Run(answer, func(t *testing.T) {
			h := newHarness(t, graphsim.Options{})
			h.lose(graphsim.EndpointVerifyCode, answer)
			var res *outcome[onboarding.CodeResult]
			h.at(time.Minute, func() { res = h.sendCode(h.sentCode()) })
			var st onboarding.Status
			h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
			h.run(input())
			verifies := h.calls(graphsim.EndpointVerifyCode)
			require.Len(t, verifies, 2, "the lost answer was retried")
			require.Equal(t, 136025, verifies[1].ErrorCode, "Meta refused the repeat: the code was used up")
			require.True(t, res.value.Accepted, "the right code is never called wrong: %s", res.value.Message)
			require.Equal(t, onboarding.StageRegistered, st.Stage)
			require.False(t, st.LastError.ResolvedAt.IsZero())
		})
	}
}

func TestRequestCodeWhoseAnswerWasLostIsNotResent(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	h.lose(graphsim.EndpointRequestCode, graphsim.AnswerDrop)
	var waiting onboarding.Status
	var res *outcome[onboarding.CodeResult]
	h.at(time.Minute, func() {
		waiting = h.status()
		res = h.sendCode(h.sentCode()) // the code of the one SMS the person got
	})
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.Len(t, h.calls(graphsim.EndpointRequestCode), 1, "no second SMS replaced the first")
	require.Equal(t, onboarding.StageAwaitingCode, waiting.Stage)
	require.Contains(t, waiting.Detail, "may have sent")
	require.Contains(t, waiting.Detail, "resend-code")
	require.True(t, waiting.LastError.OutcomeUnknown)
	require.True(t, res.value.Accepted, res.value.Message)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
}

// A worker killed while Meta sends the code times the activity out: Meta
// sent it, the answer died with the worker. The run takes that code as sent
// and never asks for a second one that would void it.
func TestRequestCodeThatTimedOutIsNotResent(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	calls := 0
	h.env.OnActivity("RequestCode", mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.RequestCodeInput) error {
			calls++
			if calls == 1 {
				require.NoError(t, h.g.RequestCode(ctx, in.PhoneNumberID, graph.CodeMethod(in.Method), in.Language))
				return temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_START_TO_CLOSE, nil)
			}
			return h.g.RequestCode(ctx, in.PhoneNumberID, graph.CodeMethod(in.Method), in.Language)
		})
	var waiting onboarding.Status
	var res *outcome[onboarding.CodeResult]
	h.at(5*time.Minute, func() {
		waiting = h.status()
		res = h.sendCode(h.sentCode())
	})
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.Equal(t, 1, calls, "a timed-out request_code is not attempted again")
	require.Len(t, h.calls(graphsim.EndpointRequestCode), 1, "no second SMS replaced the first")
	require.Equal(t, onboarding.StageAwaitingCode, waiting.Stage)
	require.Contains(t, waiting.Detail, "may have sent")
	require.True(t, res.value.Accepted, res.value.Message)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
}

func TestRequestCodeRefusedConnectionIsRetried(t *testing.T) {
	// A request that Meta answered with its own error did not send a code:
	// the activity may repeat it.
	h := newHarness(t, graphsim.Options{})
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultError, Endpoint: graphsim.EndpointRequestCode,
		Times: 1, HTTPStatus: 400, Code: 131000, Message: "Something went wrong"}))
	var res *outcome[onboarding.CodeResult]
	h.at(time.Minute, func() { res = h.sendCode(h.sentCode()) })
	h.at(time.Hour, func() { h.env.CancelWorkflow() })
	h.run(input())
	reqs := h.calls(graphsim.EndpointRequestCode)
	require.Len(t, reqs, 2)
	require.Equal(t, 131000, reqs[0].ErrorCode)
	require.True(t, res.value.Accepted)
}

func TestRegisterWhoseAnswerWasLostIsNotRepeated(t *testing.T) {
	for _, answer := range []string{graphsim.AnswerDrop, graphsim.AnswerStatus} {
		t.Run(answer, func(t *testing.T) {
			h := newHarness(t, graphsim.Options{})
			in := registeredInput(h)
			h.lose(graphsim.EndpointRegister, answer)
			var st onboarding.Status
			h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
			h.run(in)
			require.Len(t, h.calls(graphsim.EndpointRegister), 1, "Meta shows it registered: no second budgeted call")
			require.Equal(t, onboarding.StageRegistered, st.Stage)
			require.Equal(t, 1, st.RegisterCallsInWindow)
			require.True(t, st.LastError.OutcomeUnknown)
			require.False(t, st.LastError.ResolvedAt.IsZero())
		})
	}
}

func TestDeregisterWhoseAnswerWasLostIsNotRepeated(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	var de *outcome[onboarding.OperationResult]
	h.at(time.Hour, func() {
		h.lose(graphsim.EndpointDeregister, graphsim.AnswerDrop)
		de = update[onboarding.OperationResult](h, onboarding.UpdateDeregister, nil)
	})
	var st onboarding.Status
	h.at(2*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Len(t, h.calls(graphsim.EndpointDeregister), 1)
	require.Equal(t, onboarding.StageDeregistered, de.value.Stage)
	require.Equal(t, 1, st.DeregisterCallsInWindow)
}

func TestReregisterWhoseAnswerWasLostIsMadeAgain(t *testing.T) {
	// A read cannot tell a reregister Meta carried out from one it never
	// got: the number was registered with that region before too.
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	var re *outcome[onboarding.OperationResult]
	h.at(time.Hour, func() {
		h.lose(graphsim.EndpointRegister, graphsim.AnswerDrop)
		re = update[onboarding.OperationResult](h, onboarding.UpdateReregister, nil)
	})
	h.at(3*time.Hour, func() { h.env.CancelWorkflow() })
	h.run(in)
	require.Len(t, h.calls(graphsim.EndpointRegister), 3)
	require.Equal(t, onboarding.StageRegistered, re.value.Stage)
}

func TestChangeRegionWhoseRegisterAnswerWasLostIsNotRepeated(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	var res *outcome[onboarding.OperationResult]
	h.at(time.Hour, func() {
		h.lose(graphsim.EndpointRegister, graphsim.AnswerStatus)
		res = update[onboarding.OperationResult](h, onboarding.UpdateChangeRegion, onboarding.ChangeRegionInput{Region: "DE"})
	})
	var st onboarding.Status
	h.at(2*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.OperationResult{Stage: onboarding.StageRegistered, Region: "DE"}, res.value)
	require.Len(t, h.calls(graphsim.EndpointRegister), 2, "the onboarding's and the change's: the lost one is not repeated")
	require.NotEmpty(t, h.calls(graphsim.EndpointGetSettings), "the region was read from the number's settings")
	require.Equal(t, 2, st.RegisterCallsInWindow)
	n, _ := h.sim.Number(st.PhoneNumberID)
	require.Equal(t, "DE", n.DataLocalizationRegion)
}

func TestThrottledDeregisterWaitsMetasHintAndSpendsNoBudget(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	var de *outcome[onboarding.OperationResult]
	var sleeping onboarding.Status
	h.at(time.Hour, func() {
		// Code 4 names its wait in Retry-After.
		require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultThrottle, Endpoint: graphsim.EndpointDeregister,
			Times: 2, Code: 4, RetryAfter: 10 * time.Minute}))
		de = update[onboarding.OperationResult](h, onboarding.UpdateDeregister, nil)
	})
	h.at(time.Hour+5*time.Minute, func() { sleeping = h.status() })
	var st onboarding.Status
	h.at(2*time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	des := h.calls(graphsim.EndpointDeregister)
	require.Len(t, des, 3)
	require.Equal(t, 10*time.Minute, des[1].Time.Sub(des[0].Time))
	require.Equal(t, 10*time.Minute, des[2].Time.Sub(des[1].Time))
	require.Equal(t, onboarding.StageRateLimited, sleeping.Stage)
	require.Equal(t, 0, sleeping.DeregisterCallsInWindow)
	require.Equal(t, onboarding.StageDeregistered, de.value.Stage)
	require.Equal(t, 1, st.DeregisterCallsInWindow)
}

func TestVerifyWhoseAnswerHungIsAccepted(t *testing.T) {
	// The Graph client gives up on the held request quickly here; in
	// production after its 30-second timeout.
	h := newHarness(t, graphsim.Options{}, graph.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	h.lose(graphsim.EndpointVerifyCode, graphsim.AnswerHang)
	var res *outcome[onboarding.CodeResult]
	h.at(time.Minute, func() { res = h.sendCode(h.sentCode()) })
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.Len(t, h.calls(graphsim.EndpointVerifyCode), 2)
	require.True(t, res.value.Accepted, res.value.Message)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
}
