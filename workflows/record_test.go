package workflows_test

// The recorder of the replay corpus (testdata/histories). It is skipped
// unless run as
//
//	make record-histories
//
// which is go test ./workflows -run TestRecordHistories -record with
// TEMPORAL_CLI_PATH set. It starts a Temporal dev server on a free loopback
// port, runs an in-process worker with the real activities against the
// in-process Graph simulator, drives each scenario through onboarding.Client
// and writes each run's history as `temporal workflow show -o json` would.
//
// Payloads are recorded WITHOUT the payload codec, as plain JSON, so that the
// replay test needs no keys. The PINs and codes in these files are fake test
// values (PINs 123456 and 111111 on 555 numbers of a simulated WABA); no real
// secret ever went through this recorder. Files recorded since tag issue8
// hold them sealed, as clients send them, to a key pair generated for the
// test binary and never kept.
//
// A file that exists is never rewritten: a history recorded by an older
// version of the workflow must keep replaying after every change. Record new
// scenarios, or the same scenarios under a new tag (-record-tag), next to
// the old files.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/activities"
	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/onboarding"
	"github.com/wa-onboarding/onboarding/workflows"
)

var (
	recordFlag = flag.Bool("record", false, "record the replay corpus into testdata/histories (make record-histories)")
	recordTag  = flag.String("record-tag", "", "recorded files are named SCENARIO.TAG.json instead of SCENARIO.json")
	recordOnly = flag.String("record-only", "", "record only the scenarios whose names contain this string")
)

const (
	historiesDir = "testdata/histories"
	recWABAID    = "100000000000777"
	recToken     = "sim-token-for-recording"
	// Fake PINs: the number's two-step PIN, and a wrong one.
	recPIN      = "123456"
	recWrongPIN = "111111"
)

// scenario drives one number's workflow and returns the number; every run
// of its workflow (several after continue-as-new) is recorded, oldest first,
// as NAME.json or NAME-1.json, NAME-2.json, ...
type scenario struct {
	name string
	// devArgs are extra flags of the dev server the scenario runs on.
	devArgs []string
	run     func(t *testing.T, r *recorder) string
}

// suggestContinueAsNewAt makes the server suggest continue-as-new once a
// run's history reaches this many events. The suggestion is recorded in the
// WorkflowTaskStarted events, so the recorded runs replay with the
// workflow's own threshold unchanged.
const suggestContinueAsNewAt = 30

var scenarios = []scenario{
	{name: "happy-path", run: recordHappyPath},
	{name: "wrong-code-then-right", run: recordWrongCodeThenRight},
	{name: "resend-code", run: recordResendCode},
	{name: "meta-lock-133016", run: recordMetaLock},
	{name: "name-pending-review", run: recordNameWait},
	{name: "change-region", run: recordChangeRegion},
	{name: "needs-attention-pin-mismatch", run: recordPINMismatch},
	{name: "cancelled-awaiting-code", run: recordCancelled},
	{name: "webhook-signals", run: recordWebhookSignals},
	{name: "continue-as-new", run: recordContinueAsNew, devArgs: []string{
		"--dynamic-config-value", fmt.Sprintf("limit.historyCount.suggestContinueAsNew=%d", suggestContinueAsNewAt)}},
}

// recorder drives the scenarios: one Graph simulator, and per set of dev
// server flags one dev server with an in-process worker.
type recorder struct {
	t      *testing.T // the scenario's
	parent *testing.T // the whole recording's: stacks stop when it ends
	cli    string
	sim    *graphsim.Server
	acts   *activities.Activities
	stacks map[string]*stack

	// The stack of the scenario being recorded.
	tc client.Client
	c  *onboarding.Client
}

type stack struct {
	tc client.Client
	c  *onboarding.Client
}

func TestRecordHistories(t *testing.T) {
	if !*recordFlag {
		t.Skip("records the replay corpus only with -record: make record-histories")
	}
	var todo []scenario
	for _, sc := range scenarios {
		if !strings.Contains(sc.name, *recordOnly) {
			continue
		}
		if existing := recorded(sc.name); len(existing) > 0 {
			t.Logf("%s: kept %s (recorded histories are never rewritten)", sc.name, strings.Join(existing, ", "))
			continue
		}
		todo = append(todo, sc)
	}
	if len(todo) == 0 {
		return
	}
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if _, err := os.Stat(cli); cli == "" || err != nil {
		t.Fatalf("TEMPORAL_CLI_PATH=%q is not a built Temporal CLI: run make record-histories", cli)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sim := graphsim.New(graphsim.Options{Token: recToken, Logger: quiet, CodeTTL: time.Hour})
	sim.CreateWABA(recWABAID)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	g, err := graph.New(recToken, graph.WithBaseURL(srv.URL+"/v21.0"))
	require.NoError(t, err)
	// The workers' seal key pair of the recording, thrown away after it:
	// the recorded PINs and codes are sealed to it, as clients send them,
	// and replay needs no key.
	r := &recorder{t: t, parent: t, cli: cli, sim: sim, acts: activities.New(g, testOpener), stacks: map[string]*stack{}}

	for _, sc := range todo {
		t.Run(sc.name, func(t *testing.T) {
			r.t = t
			st := r.stack(t, sc.devArgs)
			r.tc, r.c = st.tc, st.c
			number := sc.run(t, r)
			r.save(t, sc.name, number)
		})
	}
}

// recorded returns the files that already hold scenario name under the
// current tag.
func recorded(name string) []string {
	var out []string
	for _, f := range []string{name, name + "-1"} {
		p := filepath.Join(historiesDir, f+tagSuffix()+".json")
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func tagSuffix() string {
	if *recordTag == "" {
		return ""
	}
	return "." + *recordTag
}

// stack returns the dev server and worker for devArgs, starting them the
// first time; they stop when the whole recording ends.
func (r *recorder) stack(t *testing.T, devArgs []string) *stack {
	key := strings.Join(devArgs, " ")
	if st := r.stacks[key]; st != nil {
		return st
	}
	var (
		dev *testsuite.DevServer
		err error
	)
	// The dev server's ports are picked free and then released, so another
	// process can take one in between: try again on new ports.
	for range 3 {
		if dev, err = startDevServer(r.parent, r.cli, devArgs); err == nil {
			break
		}
	}
	require.NoError(t, err, "starting the Temporal dev server")
	// The SDK's default data converter: plain JSON payloads, no codec.
	tc := dev.Client()
	w := worker.New(tc, onboarding.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Number, workflow.RegisterOptions{Name: onboarding.WorkflowType})
	w.RegisterActivity(r.acts)
	require.NoError(t, w.Start())
	r.parent.Cleanup(func() { w.Stop(); _ = dev.Stop() })
	st := &stack{tc: tc, c: onboarding.NewClient(tc, onboarding.WithSealer(testSealer))}
	r.stacks[key] = st
	return st
}

// startDevServer starts a dev server on free loopback ports, its output in a
// temporary file whose name is logged and which is kept if the recording
// fails.
func startDevServer(t *testing.T, cli string, devArgs []string) (*testsuite.DevServer, error) {
	ports, err := freePorts(2) // gRPC and HTTP API
	if err != nil {
		return nil, err
	}
	devLog, err := os.CreateTemp("", "record-histories-devserver-*.log")
	if err != nil {
		return nil, err
	}
	t.Logf("dev server log: %s", devLog.Name())
	quiet := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  cli,
		ClientOptions: &client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", ports[0]), Namespace: "default", Logger: quiet},
		LogLevel:      "warn",
		SearchAttributes: temporal.NewSearchAttributes(
			onboarding.SearchAttributeStage.ValueSet(""),
			onboarding.SearchAttributeWABAID.ValueSet(""),
			onboarding.SearchAttributePhoneNumberID.ValueSet(""),
			onboarding.SearchAttributeWABAState.ValueSet(""),
		),
		ExtraArgs: append([]string{"--headless", "--http-port", fmt.Sprint(ports[1])}, devArgs...),
		Stdout:    devLog,
		Stderr:    devLog,
	})
	if err != nil {
		_ = devLog.Close()
		return nil, err
	}
	t.Cleanup(func() {
		_ = devLog.Close()
		if !t.Failed() {
			_ = os.Remove(devLog.Name())
		}
	})
	return dev, nil
}

// freePorts returns n distinct free loopback ports, all held open until
// every one is picked.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func recInput(national string) onboarding.OnboardInput {
	return onboarding.OnboardInput{
		WABAID: recWABAID, CountryCode: "1", PhoneNumber: national,
		DisplayName: "Acme Replay", PIN: recPIN,
	}
}

func (r *recorder) onboard(in onboarding.OnboardInput) string {
	r.t.Helper()
	run, err := r.c.Onboard(context.Background(), in)
	require.NoError(r.t, err)
	require.False(r.t, run.AlreadyRunning, "%s is already running: the dev server is not fresh", run.WorkflowID)
	return in.E164()
}

func (r *recorder) waitFor(number, what string, done func(onboarding.Status) bool) onboarding.Status {
	r.t.Helper()
	var st onboarding.Status
	require.Eventually(r.t, func() bool {
		got, err := r.c.Status(context.Background(), number)
		st = got
		return err == nil && done(got)
	}, time.Minute, 50*time.Millisecond, "waiting for %s of %s; last status %+v", what, number, st)
	return st
}

func (r *recorder) waitStage(number string, stage onboarding.Stage) onboarding.Status {
	r.t.Helper()
	return r.waitFor(number, string(stage), func(st onboarding.Status) bool { return st.Stage == stage })
}

// waitSleep waits until the run sleeps on a durable timer in stage, so a
// skip-wait signal has a sleep to cut.
func (r *recorder) waitSleep(number string, stage onboarding.Stage) onboarding.Status {
	r.t.Helper()
	return r.waitFor(number, "a sleep in "+string(stage), func(st onboarding.Status) bool {
		return st.Stage == stage && !st.SleepingUntil.IsZero()
	})
}

// waitCodeRequests waits until Meta was asked n times for a code and the
// run waits for it.
func (r *recorder) waitCodeRequests(number string, n int) (onboarding.Status, string) {
	r.t.Helper()
	st := r.waitFor(number, fmt.Sprintf("code request %d", n), func(st onboarding.Status) bool {
		return st.Stage == onboarding.StageAwaitingCode && r.count(graphsim.EndpointRequestCode, st.PhoneNumberID) == n
	})
	code, ok := r.sim.LastCode(st.PhoneNumberID)
	require.True(r.t, ok)
	return st, code
}

func (r *recorder) count(endpoint, phoneNumberID string) int {
	n := 0
	for _, c := range r.sim.Calls() {
		if c.Endpoint == endpoint && c.PhoneNumberID == phoneNumberID && phoneNumberID != "" {
			n++
		}
	}
	return n
}

func wrongCode(code string) string {
	return string('0'+(code[0]-'0'+1)%10) + code[1:]
}

func recordHappyPath(t *testing.T, r *recorder) string {
	n := r.onboard(recInput("5550100001"))
	_, code := r.waitCodeRequests(n, 1)
	res, err := r.c.SendCode(context.Background(), n, code) // by update
	require.NoError(t, err)
	require.True(t, res.Accepted, res.Message)
	r.waitStage(n, onboarding.StageRegistered)
	return n
}

func recordWrongCodeThenRight(t *testing.T, r *recorder) string {
	n := r.onboard(recInput("5550100002"))
	_, code := r.waitCodeRequests(n, 1)
	res, err := r.c.SendCode(context.Background(), n, wrongCode(code)) // by update
	require.NoError(t, err)
	require.False(t, res.Accepted, "a wrong code was accepted")
	r.waitStage(n, onboarding.StageAwaitingCode)
	require.NoError(t, r.c.SignalCode(context.Background(), n, code)) // by signal
	r.waitStage(n, onboarding.StageRegistered)
	return n
}

func recordResendCode(t *testing.T, r *recorder) string {
	n := r.onboard(recInput("5550100003"))
	r.waitCodeRequests(n, 1)
	require.NoError(t, r.c.ResendCode(context.Background(), n, onboarding.ResendInput{Method: onboarding.CodeVoice}))
	_, code := r.waitCodeRequests(n, 2)
	res, err := r.c.SendCode(context.Background(), n, code)
	require.NoError(t, err)
	require.True(t, res.Accepted, res.Message)
	r.waitStage(n, onboarding.StageRegistered)
	return n
}

// recordMetaLock: the number is already verified on the WABA (adopted, no
// code); Meta answers 133016 on register, the run records a 72-hour lock and
// sleeps it out until skip-wait cuts the sleep.
func recordMetaLock(t *testing.T, r *recorder) string {
	const national = "5550100004"
	id, err := r.sim.SeedNumber(recWABAID, "1", national, graphsim.Verified())
	require.NoError(t, err)
	require.NoError(t, r.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultError, Endpoint: graphsim.EndpointRegister,
		Number: id, Code: 133016, Times: 1}))
	n := r.onboard(recInput(national))
	st := r.waitSleep(n, onboarding.StageRateLimited)
	require.NotNil(t, st.LastError)
	require.Equal(t, 133016, st.LastError.Code)
	require.True(t, st.SleepingUntil.After(time.Now().Add(71*time.Hour)), "sleeps until %s", st.SleepingUntil)
	require.NoError(t, r.c.SkipWait(context.Background(), n))
	r.waitStage(n, onboarding.StageRegistered)
	return n
}

// recordNameWait: the display name is PENDING_REVIEW when the run wants to
// register; it sleeps until the next check, which skip-wait brings forward
// once the name is approved.
func recordNameWait(t *testing.T, r *recorder) string {
	n := r.onboard(recInput("5550100005"))
	st, code := r.waitCodeRequests(n, 1)
	require.NoError(t, r.sim.SetNameStatus(st.PhoneNumberID, graph.NamePendingReview))
	require.NoError(t, r.c.SignalCode(context.Background(), n, code))
	r.waitSleep(n, onboarding.StageAwaitingNameApproval)
	require.NoError(t, r.sim.ApproveName(st.PhoneNumberID))
	require.NoError(t, r.c.SkipWait(context.Background(), n))
	r.waitStage(n, onboarding.StageRegistered)
	return n
}

// recordWebhookSignals: Meta's webhooks as internal/webhooks passes them
// on. The WABA is disabled while the name is pending; the name's approval
// ends the name wait at once, the run parks before registering until the
// WABA is reinstated (an older reinstatement is ignored); once registered,
// an approved name change makes a reregister due.
func recordWebhookSignals(t *testing.T, r *recorder) string {
	n := r.onboard(recInput("5550100010"))
	id := onboarding.WorkflowIDForE164(n)
	signal := func(name string, arg any) {
		require.NoError(t, r.tc.SignalWorkflow(context.Background(), id, "", name, arg))
	}
	st, code := r.waitCodeRequests(n, 1)
	require.NoError(t, r.sim.SetNameStatus(st.PhoneNumberID, graph.NamePendingReview))
	require.NoError(t, r.c.SignalCode(context.Background(), n, code))
	r.waitSleep(n, onboarding.StageAwaitingNameApproval)
	now := time.Now().UTC().Truncate(time.Second)
	signal(onboarding.SignalWABAUpdate, onboarding.WABAUpdateInput{Event: "DISABLED_UPDATE", BanState: "DISABLE",
		State: onboarding.WABAStateUnusable, EventTime: now, EventID: "rec-waba-1"})
	r.waitFor(n, "the WABA marked unusable", func(st onboarding.Status) bool { return st.WABAState == onboarding.WABAStateUnusable })
	require.NoError(t, r.sim.ApproveName(st.PhoneNumberID))
	signal(onboarding.SignalNameUpdate, onboarding.NameUpdateInput{Decision: onboarding.NameDecisionApproved,
		RequestedName: "Acme Replay", EventTime: now.Add(time.Second), EventID: "rec-name-1"})
	r.waitFor(n, "a park on the unusable WABA", func(st onboarding.Status) bool {
		return st.Stage == onboarding.StageNeedsAttention && strings.Contains(st.Detail, "cannot be used")
	})
	signal(onboarding.SignalWABAUpdate, onboarding.WABAUpdateInput{Event: "DISABLED_UPDATE", BanState: "REINSTATE",
		State: onboarding.WABAStateUsable, EventTime: now.Add(-time.Hour), EventID: "rec-waba-0"})
	signal(onboarding.SignalWABAUpdate, onboarding.WABAUpdateInput{Event: "DISABLED_UPDATE", BanState: "REINSTATE",
		State: onboarding.WABAStateUsable, EventTime: now.Add(2 * time.Second), EventID: "rec-waba-2"})
	r.waitStage(n, onboarding.StageRegistered)
	require.NoError(t, r.sim.ReviewName(st.PhoneNumberID, graphsim.NameReview{Status: graph.NameApproved, Name: "Acme Replay Help"}))
	signal(onboarding.SignalNameUpdate, onboarding.NameUpdateInput{Decision: onboarding.NameDecisionApproved,
		RequestedName: "Acme Replay Help", EventTime: now.Add(3 * time.Second), EventID: "rec-name-2"})
	r.waitFor(n, "a reregister due", func(st onboarding.Status) bool { return st.ReregisterDue == "Acme Replay Help" })
	return n
}

func recordChangeRegion(t *testing.T, r *recorder) string {
	in := recInput("5550100006")
	in.Region = "CH"
	n := r.onboard(in)
	_, code := r.waitCodeRequests(n, 1)
	require.NoError(t, r.c.SignalCode(context.Background(), n, code))
	r.waitStage(n, onboarding.StageRegistered)
	res, err := r.c.ChangeRegion(context.Background(), n, "DE", true)
	require.NoError(t, err)
	require.Equal(t, onboarding.StageRegistered, res.Stage)
	require.Equal(t, "DE", res.Region)
	return n
}

// recordPINMismatch: the number already has two-step verification with
// recPIN; the run registers with a wrong PIN, Meta answers 133005, the run
// needs attention until fix-input brings the right PIN.
func recordPINMismatch(t *testing.T, r *recorder) string {
	const national = "5550100007"
	_, err := r.sim.SeedNumber(recWABAID, "1", national, graphsim.Verified(), graphsim.WithPIN(recPIN))
	require.NoError(t, err)
	in := recInput(national)
	in.PIN = recWrongPIN
	n := r.onboard(in)
	st := r.waitStage(n, onboarding.StageNeedsAttention)
	require.NotNil(t, st.LastError)
	require.Equal(t, 133005, st.LastError.Code)
	_, err = r.c.FixInput(context.Background(), n, onboarding.FixInput{PIN: recPIN})
	require.NoError(t, err)
	r.waitStage(n, onboarding.StageRegistered)
	return n
}

func recordCancelled(t *testing.T, r *recorder) string {
	n := r.onboard(recInput("5550100008"))
	r.waitCodeRequests(n, 1)
	require.NoError(t, r.c.Cancel(context.Background(), n))
	id := onboarding.WorkflowIDForE164(n)
	require.Eventually(t, func() bool {
		d, err := r.tc.DescribeWorkflowExecution(context.Background(), id, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED
	}, time.Minute, 50*time.Millisecond)
	return n
}

// recordContinueAsNew runs on a dev server that suggests continue-as-new
// after suggestContinueAsNewAt events: the run onboards its number, reaches
// serve past the threshold and continues as new; the next run serves a
// reregister.
func recordContinueAsNew(t *testing.T, r *recorder) string {
	n := r.onboard(recInput("5550100009"))
	_, code := r.waitCodeRequests(n, 1)
	res, err := r.c.SendCode(context.Background(), n, code)
	require.NoError(t, err)
	require.True(t, res.Accepted, res.Message)
	id := onboarding.WorkflowIDForE164(n)
	var next *workflowservice.DescribeWorkflowExecutionResponse
	require.Eventually(t, func() bool {
		next, err = r.tc.DescribeWorkflowExecution(context.Background(), id, "")
		return err == nil && next.GetWorkflowExecutionInfo().GetFirstRunId() != next.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	}, time.Minute, 50*time.Millisecond, "the run never continued as new")
	st := r.waitStage(n, onboarding.StageRegistered)
	require.Contains(t, st.Detail, "continued as new")
	op, err := r.c.Reregister(context.Background(), n, true)
	require.NoError(t, err)
	require.Equal(t, onboarding.StageRegistered, op.Stage)
	return n
}

// settle waits until the run has no workflow task or activity in flight, so
// its recorded history ends on a completed step.
func (r *recorder) settle(workflowID, runID string) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		d, err := r.tc.DescribeWorkflowExecution(context.Background(), workflowID, runID)
		if err != nil {
			return false
		}
		if d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return true
		}
		return d.GetPendingWorkflowTask() == nil && len(d.GetPendingActivities()) == 0
	}, time.Minute, 50*time.Millisecond, "run %s of %s never settled", runID, workflowID)
}

// save writes every run of number's workflow, oldest first.
func (r *recorder) save(t *testing.T, name, number string) {
	id := onboarding.WorkflowIDForE164(number)
	var runs []string // newest first
	for runID := ""; ; {
		d, err := r.tc.DescribeWorkflowExecution(context.Background(), id, runID)
		require.NoError(t, err)
		runID = d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		r.settle(id, runID)
		runs = append(runs, runID)
		h := r.history(t, id, runID)
		prev := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if prev == "" {
			break
		}
		runID = prev
	}
	require.NoError(t, os.MkdirAll(historiesDir, 0o755))
	for i := range runs {
		runID := runs[len(runs)-1-i]
		file := name
		if len(runs) > 1 {
			file += fmt.Sprintf("-%d", i+1)
		}
		path := filepath.Join(historiesDir, file+tagSuffix()+".json")
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%s exists: recorded histories are never rewritten", path)
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		h := r.history(t, id, runID)
		b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
		t.Logf("wrote %s: %d events", path, len(h.Events))
	}
}

func (r *recorder) history(t *testing.T, workflowID, runID string) *historypb.History {
	h := &historypb.History{}
	iter := r.tc.GetWorkflowHistory(context.Background(), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	require.NotEmpty(t, h.Events)
	return h
}
