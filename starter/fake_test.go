package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// fakeTemporal is a Temporal client whose runs answer as the test says.
type fakeTemporal struct {
	client.Client
	// statuses answer the status query in turn; the last one repeats.
	statuses  []onboarding.Status
	updateErr error // from UpdateWorkflow
	result    any   // the update's result
	getErr    error // from the update handle's Get
	blockGet  bool  // Get waits for the context to end
	signals   []string
	started   *onboarding.OnboardInput
}

func (f *fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	if len(f.statuses) == 0 {
		return nil, errors.New("test: no status")
	}
	st := f.statuses[0]
	if len(f.statuses) > 1 {
		f.statuses = f.statuses[1:]
	}
	return value{st}, nil
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, _, _, name string, _ any) error {
	f.signals = append(f.signals, name)
	return nil
}

func (f *fakeTemporal) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return handle{f}, nil
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	in := args[0].(onboarding.OnboardInput)
	f.started = &in
	return wfRun{id: o.ID}, nil
}

func (f *fakeTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, errors.New("test: no describe")
}

type wfRun struct {
	client.WorkflowRun
	id string
}

func (r wfRun) GetID() string    { return r.id }
func (r wfRun) GetRunID() string { return "run-1" }

type handle struct{ f *fakeTemporal }

func (handle) WorkflowID() string { return "w" }
func (handle) RunID() string      { return "r" }
func (handle) UpdateID() string   { return "u" }
func (h handle) Get(ctx context.Context, p any) error {
	if h.f.blockGet {
		<-ctx.Done()
		return ctx.Err()
	}
	if h.f.getErr != nil {
		return h.f.getErr
	}
	return value{h.f.result}.Get(p)
}

type value struct{ v any }

func (value) HasValue() bool { return true }

// Get copies v into p, which points to a value of v's type.
func (v value) Get(p any) error {
	switch p := p.(type) {
	case *onboarding.Status:
		*p = v.v.(onboarding.Status)
	case *onboarding.OperationResult:
		*p = v.v.(onboarding.OperationResult)
	case *onboarding.CodeResult:
		*p = v.v.(onboarding.CodeResult)
	default:
		return fmt.Errorf("test: cannot decode into %T", p)
	}
	return nil
}

// withTemporal makes te dial f.
func withTemporal(te *testEnv, f *fakeTemporal) *testEnv {
	te.dial = func(context.Context, *env) (*onboarding.Client, func(), error) {
		te.dialed = true
		return onboarding.NewClient(f, onboarding.WithAddress("127.0.0.1:7233"), onboarding.WithUnsealedSecrets()), func() {}, nil
	}
	return te
}

const number = "+15551234567"

func TestSkipWaitWithNothingToSkip(t *testing.T) {
	f := &fakeTemporal{statuses: []onboarding.Status{{Stage: onboarding.StageRegistered, Detail: "registered; serving operations"}}}
	te := withTemporal(newTestEnv(t), f)
	assert.Equal(t, exitFailure, te.run("skip-wait", number))
	assert.Contains(t, te.out.String(), "Nothing to skip")
	assert.Contains(t, te.out.String(), "stage registered")
	assert.NotContains(t, te.out.String(), "Asked the run")
	assert.Empty(t, f.signals, "no signal for a wait that is not there")
}

func TestSkipWaitSaysWhichWait(t *testing.T) {
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.Local)
	f := &fakeTemporal{statuses: []onboarding.Status{{Stage: onboarding.StageRateLimited, SleepingUntil: until, SleepReason: "register window: 10 of 10 in 72h"}}}
	te := withTemporal(newTestEnv(t), f)
	assert.Equal(t, exitOK, te.run("skip-wait", number))
	assert.Equal(t, []string{onboarding.SignalSkipWait}, f.signals)
	assert.Contains(t, te.out.String(), "until 2030-01-02 03:04:05 (register window: 10 of 10 in 72h)")
}

func TestChangeRegionNoWaitSaysQueuedAndTheRegionInEffect(t *testing.T) {
	f := &fakeTemporal{statuses: []onboarding.Status{{Stage: onboarding.StageNeedsAttention, Region: "CH"}}}
	te := withTemporal(newTestEnv(t), f)
	require.Equal(t, exitOK, te.run("change-region", number, "--region", "GB", "--no-wait"))
	out := te.out.String()
	assert.Contains(t, out, "change-region to GB accepted for +15551234567 and queued")
	assert.Contains(t, out, "the run is needs_attention, region CH")
	assert.NotContains(t, out, "region GB", "GB is requested, not applied")
	assert.Contains(t, out, "./scripts/starter.sh fix")
}

func TestChangeRegionWaitedSaysTheRegionApplied(t *testing.T) {
	f := &fakeTemporal{result: onboarding.OperationResult{Stage: onboarding.StageRegistered, Region: ""}}
	te := withTemporal(newTestEnv(t), f)
	require.Equal(t, exitOK, te.run("change-region", number, "--clear-region"))
	assert.Contains(t, te.out.String(), "change-region to none done for +15551234567: the run is registered, region none.")
}

func TestFixShowsTheStageAfterTheFix(t *testing.T) {
	f := &fakeTemporal{
		result:   onboarding.Status{Stage: onboarding.StageNeedsAttention, Detail: "the two-step PIN does not match"},
		statuses: []onboarding.Status{{Stage: onboarding.StageRegistering, Detail: "registering"}},
	}
	te := withTemporal(newTestEnv(t), f)
	require.Equal(t, exitOK, te.run("fix", number, "--name", "Acme New"))
	out := te.out.String()
	assert.Contains(t, out, "took the fix and resumed")
	assert.Contains(t, out, "+15551234567: registering")
	assert.NotContains(t, out, "needs_attention")
}

func TestVerifySaysTheAnswerOnce(t *testing.T) {
	f := &fakeTemporal{result: onboarding.CodeResult{Accepted: true, Message: "Meta accepted the code; the number is verified"}}
	te := withTemporal(newTestEnv(t), f)
	require.Equal(t, exitOK, te.run("verify", number, "123456"))
	out := te.out.String()
	assert.Equal(t, 1, strings.Count(out, "accepted the code"), out)
	assert.Contains(t, out, "+15551234567: Meta accepted the code; the number is verified.")

	f.result = onboarding.CodeResult{Message: "Meta rejected the code (136025: wrong or expired)"}
	te = withTemporal(newTestEnv(t), f)
	require.Equal(t, exitFailure, te.run("verify", number, "123456"))
	assert.Equal(t, 1, strings.Count(te.out.String(), "code"), te.out.String())
}

func TestHintsNameTheCommandTyped(t *testing.T) {
	f := &fakeTemporal{}
	te := withTemporal(newTestEnv(t), f)
	te.vars[envPIN] = "123456"
	require.Equal(t, exitOK, te.run(onboardArgs...))
	out := te.out.String()
	assert.Contains(t, out, "Next: send the code received by SMS with: ./scripts/starter.sh verify +15551234567 CODE")

	te = withTemporal(newTestEnv(t), f)
	require.Equal(t, exitOK, te.run("resend-code", number, "--method", "voice"))
	assert.Contains(t, te.out.String(), "new code by VOICE; when it comes: ./scripts/starter.sh verify +15551234567 CODE")

	te = withTemporal(newTestEnv(t), &fakeTemporal{statuses: []onboarding.Status{{Stage: onboarding.StageRateLimited, SleepingUntil: time.Now().Add(time.Hour), SleepReason: "window"}}})
	require.Equal(t, exitOK, te.run("status", number))
	assert.Contains(t, te.out.String(), "./scripts/starter.sh skip-wait +15551234567 cuts it short")
	for _, stale := range []string{"starter verify --number", "fix-input", "; starter "} {
		assert.NotContains(t, out+te.out.String(), stale)
	}
}

func TestOnboardTakesTheNumberAsFirstArgument(t *testing.T) {
	f := &fakeTemporal{}
	te := withTemporal(newTestEnv(t), f)
	te.vars[envPIN] = "123456"
	require.Equal(t, exitOK, te.run("onboard", "+15551234567", "--waba", "100000000000001", "--cc", "+1", "--name", "Acme Support"), te.errOut.String())
	require.NotNil(t, f.started)
	assert.Equal(t, "1", f.started.CountryCode)
	assert.Equal(t, "5551234567", f.started.PhoneNumber)

	for args, want := range map[string]string{
		"+445551234567 --cc 1":   "--number (number): must start with the country code given by --cc (1)",
		"+15551234567":           "--number (number): needs --cc",
		"555 --cc 1":             "--number (number): must be E.164",
		"+15551234567 --cc +01":  "--cc (country_code): must be 1 to 3 digits, not starting with 0; a leading '+' is fine",
		"+15551234567 --cc 1 x9": `unexpected argument "x9"`,
	} {
		te := newTestEnv(t)
		te.vars[envPIN] = "123456"
		argv := append([]string{"onboard", "--waba", "100000000000001", "--name", "Acme Support"}, strings.Fields(args)...)
		assert.Equal(t, exitUsage, te.run(argv...), args)
		assert.Contains(t, te.errOut.String(), want, args)
		assert.NotContains(t, te.errOut.String(), "phone_number", "the number's fault is said once, as number")
		assert.False(t, te.dialed)
	}
}

func TestErrorsArePrintedReadably(t *testing.T) {
	fc := temporal.GetDefaultFailureConverter()
	wfErr := fc.FailureToError(fc.ErrorToFailure(fmt.Errorf("the run does not need attention: %w", errors.New("stage registered"))))
	te := withTemporal(newTestEnv(t), &fakeTemporal{updateErr: wfErr})
	assert.Equal(t, exitFailure, te.run("fix", number))
	assert.Equal(t, "starter fix: fix-input whatsapp-number-+15551234567: the run does not need attention: stage registered\n", te.errOut.String())
}

func TestTimeoutAfterAcceptanceSaysHowToFollow(t *testing.T) {
	te := withTemporal(newTestEnv(t), &fakeTemporal{blockGet: true})
	assert.Equal(t, exitFailure, te.run("change-region", number, "--region", "DE", "--timeout", "1ms"))
	msg := te.errOut.String()
	assert.Contains(t, msg, "gave up after --timeout 1ms waiting for the result; the run accepted the operation and goes on with it")
	assert.Contains(t, msg, "./scripts/starter.sh status +15551234567")
	assert.NotContains(t, msg, "context deadline exceeded")
}

func TestTimeoutBeforeAcceptanceDoesNotClaimIt(t *testing.T) {
	te := withTemporal(newTestEnv(t), &fakeTemporal{updateErr: client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.Equal(t, exitFailure, run(ctx, []string{"deregister", number}, te.env))
	msg := te.errOut.String()
	assert.Contains(t, msg, "interrupted without an answer from Temporal")
	assert.NotContains(t, msg, "goes on")
}

func TestStatusNamesTheNextCommand(t *testing.T) {
	for stage, want := range map[onboarding.Stage]string{
		onboarding.StageNeedsAttention: "next: ./scripts/starter.sh fix +15551234567",
		onboarding.StageAwaitingCode:   "next: ./scripts/starter.sh verify +15551234567 CODE, or ./scripts/starter.sh resend-code +15551234567",
	} {
		te := withTemporal(newTestEnv(t), &fakeTemporal{statuses: []onboarding.Status{{Number: number, Stage: stage}}})
		require.Equal(t, exitOK, te.run("status", number))
		assert.Contains(t, te.out.String(), want)
	}
}

func TestRefusedConnectionIsOneReadableLine(t *testing.T) {
	te := newTestEnv(t)
	te.dial = dialTemporal
	te.vars["TEMPORAL_ADDRESS"] = "127.0.0.1:1"
	te.vars["WA_INSECURE_PLAIN_PAYLOADS"] = "1"
	te.vars["LOG_LEVEL"] = "error"
	te.vars["TEMPORAL_CONFIG_FILE"] = filepath.Join(t.TempDir(), "none.toml")
	assert.Equal(t, exitFailure, te.run("status", number))
	assert.Equal(t, "starter status: cannot reach Temporal at 127.0.0.1:1 (TEMPORAL_ADDRESS): connection refused; is the server running there? (make run starts one on 127.0.0.1:7233)\n",
		te.errOut.String())
}

func TestStatusShowsWhatMetasWebhooksSaid(t *testing.T) {
	st := onboarding.Status{Number: number, Stage: onboarding.StageRegistered, WABAState: onboarding.WABAStateUnusable,
		WABAEvent: "DISABLED_UPDATE DISABLE", ReregisterDue: "Acme Help",
		LastNameUpdate: &onboarding.NameUpdateInput{Decision: "APPROVED", RequestedName: "Acme Help", EventTime: time.Now()}}
	te := withTemporal(newTestEnv(t), &fakeTemporal{statuses: []onboarding.Status{st}})
	require.Equal(t, exitOK, te.run("status", number))
	out := te.out.String()
	assert.Contains(t, out, "unusable (Meta: DISABLED_UPDATE DISABLE)")
	assert.Contains(t, out, "APPROVED Acme Help at")
	assert.Contains(t, out, `to show the approved name "Acme Help": ./scripts/starter.sh reregister +15551234567`)
}

func TestOnboardOptsIntoReregisterOnNameApproval(t *testing.T) {
	for _, opt := range []bool{false, true} {
		f := &fakeTemporal{}
		te := withTemporal(newTestEnv(t), f)
		te.vars[envPIN] = "123456"
		args := []string{"onboard", "+15551234567", "--waba", "100000000000001", "--cc", "1", "--name", "Acme Support"}
		if opt {
			args = append(args, "--reregister-on-name-approval")
		}
		require.Equal(t, exitOK, te.run(args...), te.errOut.String())
		assert.Equal(t, opt, f.started.ReregisterOnNameApproval)
	}
}
