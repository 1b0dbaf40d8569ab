package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/seal/sealtest"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// The tests' worker key pair: the harness's activities open with
// testOpener what the tests seal with testSealer, as clients do.
var testSealer, testOpener = sealtest.KeyPair("wf-test-1")

func sealed(purpose, secret string) string {
	v, err := testSealer.Seal(purpose, secret)
	if err != nil {
		panic(err)
	}
	return v
}

// refused runs in and checks that the run ended at once, with an error of
// type typ, before any Graph call, and that its status query still answers
// stage refused with the same reason.
func (h *harness) refused(in onboarding.OnboardInput, typ string) (*temporal.ApplicationError, onboarding.Status) {
	h.t.Helper()
	h.env.ExecuteWorkflow(onboarding.WorkflowType, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	require.True(h.t, errors.As(h.env.GetWorkflowError(), &appErr), "want an application error, got %v", h.env.GetWorkflowError())
	require.Equal(h.t, typ, appErr.Type())
	require.True(h.t, appErr.NonRetryable())
	require.Empty(h.t, h.sim.Calls(), "a refused run makes no Graph call")
	st := h.status()
	require.Equal(h.t, onboarding.StageRefused, st.Stage)
	require.Equal(h.t, appErr.Message(), st.Detail, "the status says why")
	return appErr, st
}

func TestASecondOwnerUnderAnotherIDIsRefused(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "my-own-id"})
	appErr, _ := h.refused(input(), onboarding.ErrorTypeWrongWorkflowID)
	want := onboarding.WorkflowID(cc, national)
	require.Contains(t, appErr.Message(), `"my-own-id"`)
	require.Contains(t, appErr.Message(), `--workflow-id "`+want+`"`, "names the id to use")
	require.Contains(t, appErr.Message(), "Nothing was sent to Meta")
}

func TestAFreshStartWithResumeIsRefused(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := input()
	in.Resume = &onboarding.ResumeState{PhoneNumberID: "106540352242923", Stage: onboarding.StageRegistered}
	appErr, st := h.refused(in, onboarding.ErrorTypeWrongWorkflowID)
	require.Contains(t, appErr.Message(), "resume: is set only by the workflow itself")
	require.Empty(t, st.PhoneNumberID, "nothing of the forged resume state is taken")
}

func TestAPlaintextPINOrBackupPasswordAtStartIsRefusedUnused(t *testing.T) {
	for name, tc := range map[string]struct {
		in    func() onboarding.OnboardInput
		field string
		value string
	}{
		"pin": {func() onboarding.OnboardInput { in := input(); in.PIN = "627103"; return in }, "pin", "627103"},
		"backup password": {func() onboarding.OnboardInput {
			in := input()
			in.Migrate = true
			in.Backup = &onboarding.Backup{Data: "QkFDS1VQ", Password: "hunter2-backup"}
			return in
		}, "backup.password", "hunter2-backup"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, graphsim.Options{})
			appErr, _ := h.refused(tc.in(), onboarding.ErrorTypeUnsealedSecret)
			msg := appErr.Message()
			require.Contains(t, msg, tc.field+": arrived unsealed")
			require.Contains(t, msg, "already exposed in this run's history")
			require.Contains(t, msg, "was not used")
			require.Contains(t, msg, "--codec-endpoint")
			require.Contains(t, msg, "WithSealer")
			require.NotContains(t, msg, tc.value)
		})
	}
}

func TestAPlaintextCodeSignalIsDroppedAndFlagged(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var flagged, done onboarding.Status
	h.at(time.Minute, func() {
		h.env.SignalWorkflow(onboarding.SignalVerificationCode, onboarding.CodeInput{Code: h.sentCode()})
	})
	h.at(2*time.Minute, func() {
		flagged = h.status()
		h.env.SignalWorkflow(onboarding.SignalVerificationCode, onboarding.CodeInput{Code: sealed(seal.PurposeOwnershipCode, h.sentCode())})
	})
	h.at(time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.Equal(t, onboarding.StageAwaitingCode, flagged.Stage, "the plaintext code was not used")
	require.Equal(t, 1, flagged.PlaintextSecretsRefused)
	require.Contains(t, flagged.PlaintextNote, "arrived unsealed")
	require.Contains(t, flagged.PlaintextNote, "--codec-endpoint")
	require.Equal(t, onboarding.StageRegistered, done.Stage, "the sealed code was")
	require.Len(t, h.calls(graphsim.EndpointVerifyCode), 1, "only the sealed code reached Meta")
}

func TestAPlaintextCodeUpdateIsRejectedSayingWhy(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var res *outcome[onboarding.CodeResult]
	var code string
	h.at(time.Minute, func() {
		code = h.sentCode()
		res = update[onboarding.CodeResult](h, onboarding.UpdateSubmitCode, onboarding.CodeInput{Code: code})
	})
	var st onboarding.Status
	h.at(2*time.Minute, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(input())
	require.Error(t, res.rejected)
	msg := res.rejected.Error()
	for _, want := range []string{"code: arrived unsealed", "already exposed in this run's history", "was not used", "the starter", "WithSealer", "--codec-endpoint"} {
		require.Contains(t, msg, want)
	}
	require.NotContains(t, msg, code)
	require.Equal(t, onboarding.StageAwaitingCode, st.Stage)
	require.Empty(t, h.calls(graphsim.EndpointVerifyCode))
}

// TestAContinuedLegacyRunKeepsItsPlaintextPIN: a run that continued as new
// from a run started before sealing carries the PIN in clear (and may have
// an id of its own choosing); it keeps serving its number.
func TestAContinuedLegacyRunKeepsItsPlaintextPIN(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	id, err := h.sim.SeedNumber(wabaID, cc, national, graphsim.Verified(), graphsim.WithPIN(pin))
	require.NoError(t, err)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "legacy-owner-id"})
	h.env.SetContinuedExecutionRunID("an-older-run")
	in := input()
	in.PIN = pin // accepted in clear by the older run
	in.Resume = &onboarding.ResumeState{PhoneNumberID: id, Stage: onboarding.StageDeregistered, StartedAt: h.env.Now()}
	var op *outcome[onboarding.OperationResult]
	h.at(time.Minute, func() { op = update[onboarding.OperationResult](h, onboarding.UpdateReregister, nil) })
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.NoError(t, op.err)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	n, _ := h.sim.Number(id)
	require.Equal(t, pin, n.PIN)
}

// TestASealedPINThatDoesNotOpenSpendsNoBudget: the activity refuses it
// before any call, so the ledger gives the call back and a person is asked.
func TestASealedPINThatDoesNotOpenSpendsNoBudget(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	in.PIN = sealed(seal.PurposeOwnershipCode, pin) // sealed for another field
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageNeedsAttention, st.Stage)
	require.Contains(t, st.Detail, "pin: seal: sealed for another purpose")
	require.Zero(t, st.RegisterCallsInWindow)
	require.Empty(t, h.calls(graphsim.EndpointRegister))
}
