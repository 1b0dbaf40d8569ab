package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
	"github.com/wa-onboarding/onboarding/workflows"
)

const (
	wabaID      = "100000000000001"
	accessToken = "EAAJBe2eSecretToken0123456789"
)

// sealSecrets makes the starter and the tests' onboarding.Client seal PINs
// and codes with the stack's public seal key, as the worker requires. Off,
// they send secrets unsealed (WA_INSECURE_UNSEALED_SECRETS=1,
// onboarding.WithUnsealedSecrets), which the worker refuses; the keys are
// generated and passed either way.
const sealSecrets = true

// stack is everything one test binary shares: one dev server, one
// simulator, one worker process.
type stack struct {
	hostPort  string
	sim       *graphsim.Server // swapped by restartSim; read it from the test goroutine only
	simMu     sync.RWMutex
	simState  string // the simulator's state file
	simURL    string
	keys      string // WA_CODEC_KEYS
	sealPriv  string // WA_SEAL_PRIVATE_KEYS, for the worker only
	sealPub   string // WA_SEAL_PUBLIC_KEYS
	sealer    *seal.Sealer
	bin       string // folder with worker and starter
	workerLog *syncBuffer
	metrics   string        // the worker's WA_METRICS_ADDR, host:port
	client    client.Client // with the codec, as operators' services use it
	raw       client.Client // without the codec: what history holds at rest
	stop      func()
}

var (
	shared    *stack
	sharedErr error
	once      sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	os.Exit(code)
}

// setup starts the shared stack the first time a test needs it.
func setup(t *testing.T) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if _, err := os.Stat(cli); cli == "" || err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("TEMPORAL_CLI_PATH=%q is not a built Temporal CLI: run the tests with make test", cli)
		}
		t.Skipf("TEMPORAL_CLI_PATH=%q is not a built Temporal CLI: run make test", cli)
	}
	once.Do(func() { shared, sharedErr = start(cli) })
	require.NoError(t, sharedErr)
	return shared
}

func start(cli string) (*stack, error) {
	s := &stack{workerLog: &syncBuffer{}}
	var cleanups []func()
	s.stop = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	fail := func(err error) (*stack, error) { s.stop(); return nil, err }

	dir, err := os.MkdirTemp("", "wa-e2e-")
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	s.bin = dir
	build := exec.Command("go", "build", "-o", dir+"/", "../worker", "../starter", "../gateway")
	if out, err := build.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("building worker and starter: %v\n%s", err, out))
	}

	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	s.hostPort = fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  cli,
		ClientOptions: &client.Options{HostPort: s.hostPort, Namespace: "default"},
		LogLevel:      "error",
		SearchAttributes: temporal.NewSearchAttributes(
			onboarding.SearchAttributeStage.ValueSet(""),
			onboarding.SearchAttributeWABAID.ValueSet(""),
			onboarding.SearchAttributePhoneNumberID.ValueSet(""),
			onboarding.SearchAttributeWABAState.ValueSet(""),
		),
		ExtraArgs: []string{"--headless"},
		Stdout:    io.Discard,
		Stderr:    io.Discard,
	})
	if err != nil {
		return fail(fmt.Errorf("starting the Temporal dev server: %w", err))
	}
	cleanups = append(cleanups, func() { _ = dev.Stop() })

	// The simulator keeps its state in a file, as under make run, so a test
	// can restart it (restartSim) behind the same address.
	s.simState = filepath.Join(dir, "graphsim-state.json")
	cleanups = append(cleanups, s.startWebhooks()) // before newSim: it posts to them
	if s.sim, err = newSim(s.simState); err != nil {
		return fail(err)
	}
	s.sim.CreateWABA(wabaID)
	srv := httptest.NewServer(http.HandlerFunc(s.serveSim))
	cleanups = append(cleanups, func() { s.currentSim().Close(); srv.Close() })
	s.simURL = srv.URL + "/v21.0"

	key, err := codec.GenerateKey()
	if err != nil {
		return fail(err)
	}
	s.keys = "e2e-1:" + key
	ring, err := codec.ParseKeys(s.keys)
	if err != nil {
		return fail(err)
	}
	dc, fc := codec.ClientOptions(ring)
	if s.client, err = client.Dial(client.Options{HostPort: s.hostPort, DataConverter: dc, FailureConverter: fc}); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, s.client.Close)
	if s.raw, err = client.Dial(client.Options{HostPort: s.hostPort}); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, s.raw.Close)

	if err := s.sealKeys(); err != nil {
		return fail(err)
	}
	mport, err := freePort()
	if err != nil {
		return fail(err)
	}
	s.metrics = fmt.Sprintf("127.0.0.1:%d", mport)
	worker := exec.Command(filepath.Join(dir, "worker"))
	worker.Env = append(s.env(), "GRAPH_API_URL="+s.simURL, "WHATSAPP_ACCESS_TOKEN="+accessToken, "LOG_LEVEL=debug",
		seal.EnvPrivateKeys+"="+s.sealPriv, "WA_METRICS_ADDR="+s.metrics)
	worker.Stdout, worker.Stderr = s.workerLog, s.workerLog
	if err := worker.Start(); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, func() {
		_ = worker.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = worker.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = worker.Process.Kill()
		}
	})
	return s, nil
}

// env is the environment of the worker and starter processes: the SDK's
// own variables, the payload keys, and nothing inherited that could point
// them elsewhere.
func (s *stack) env() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TEMPORAL_ADDRESS=" + s.hostPort,
		"TEMPORAL_NAMESPACE=default",
		"WA_CODEC_KEYS=" + s.keys,
	}
}

// starter runs the starter binary and returns its stdout; it fails the test
// on a non-zero exit.
func (s *stack) starter(t *testing.T, extraEnv []string, log *syncBuffer, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, "starter"), args...)
	cmd.Env = append(append(s.env(), s.starterSealEnv()), extraEnv...)
	var stdout bytes.Buffer
	cmd.Stdout = io.MultiWriter(&stdout, log)
	cmd.Stderr = log
	err := cmd.Run()
	require.NoError(t, err, "starter %s:\n%s", strings.Join(args, " "), log.String())
	return stdout.Bytes()
}

// waitStage polls the status query until the run reaches stage.
func (s *stack) waitStage(t *testing.T, number string, stage onboarding.Stage) onboarding.Status {
	t.Helper()
	return s.waitFor(t, number, string(stage), func(st onboarding.Status) bool { return st.Stage == stage })
}

// waitCode waits until Meta was asked for a code, not only for the stage:
// the run enters awaiting-code as it asks.
func (s *stack) waitCode(t *testing.T, number string) onboarding.Status {
	t.Helper()
	return s.waitFor(t, number, "a code request", func(st onboarding.Status) bool {
		return st.Stage == onboarding.StageAwaitingCode && !st.CodeRequestedAt.IsZero()
	})
}

func (s *stack) waitFor(t *testing.T, number, what string, done func(onboarding.Status) bool) onboarding.Status {
	t.Helper()
	var st onboarding.Status
	var lastErr error
	ok := assert.Eventually(t, func() bool {
		got, err := onboarding.NewClient(s.client).Status(context.Background(), number)
		st, lastErr = got, err
		return err == nil && done(got)
	}, 60*time.Second, 100*time.Millisecond)
	if !ok {
		// Say why: the last status, the error of the last query, and what
		// the worker logged about the run.
		id := onboarding.WorkflowIDForE164(number)
		var lines []string
		for _, l := range strings.Split(s.workerLog.String(), "\n") {
			if strings.Contains(l, id) && !strings.Contains(l, `"msg":"ExecuteActivity"`) {
				lines = append(lines, l)
			}
		}
		require.FailNowf(t, "timed out", "waiting for %s of %s: last status %+v, last query error: %v\nworker log of the run:\n%s",
			what, number, st, lastErr, strings.Join(lines, "\n"))
	}
	return st
}

func (s *stack) cancel(t *testing.T, number string) {
	t.Helper()
	require.NoError(t, onboarding.NewClient(s.client).Cancel(context.Background(), number))
}

func TestHappyPathThroughStarterAndWorker(t *testing.T) {
	s := setup(t)
	const pin = "024680"
	number := "+15550000001"
	log := &syncBuffer{}
	pinFile := filepath.Join(t.TempDir(), "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte(pin+"\n"), 0o600))

	out := s.starter(t, nil, log, "onboard", "--json", "--waba", wabaID, "--cc", "1", "--number", "5550000001",
		"--name", "Acme Support", "--region", "CH", "--pin-file", pinFile)
	var run onboarding.Run
	require.NoError(t, json.Unmarshal(out, &run), string(out))
	require.Equal(t, onboarding.WorkflowIDForE164(number), run.WorkflowID)
	require.False(t, run.AlreadyRunning)
	require.Contains(t, run.UIURL, "/namespaces/default/workflows/"+run.WorkflowID)

	st := s.waitCode(t, number)
	code, ok := s.sim.LastCode(st.PhoneNumberID)
	require.True(t, ok)
	out = s.starter(t, nil, log, "verify", "--json", "--number", number, "--code", code[:3]+"-"+code[3:])
	require.Contains(t, string(out), `"accepted": true`)

	st = s.waitStage(t, number, onboarding.StageRegistered)
	require.Equal(t, "CH", st.Region)
	require.Equal(t, 1, st.RegisterCallsInWindow)
	n, _ := s.sim.Number(st.PhoneNumberID)
	require.Equal(t, graph.StatusConnected, n.Status)
	require.Equal(t, pin, n.PIN)

	out = s.starter(t, nil, log, "change-region", "--json", "--number", number, "--region", "DE")
	require.Contains(t, string(out), `"DE"`)
	st = s.waitStage(t, number, onboarding.StageRegistered)
	require.Equal(t, "DE", st.Region)
	require.Equal(t, 1, st.DeregisterCallsInWindow)
	n, _ = s.sim.Number(st.PhoneNumberID)
	require.Equal(t, "DE", n.DataLocalizationRegion)

	// Operators find it in Temporal UI by stage (visibility is eventually consistent).
	require.Eventually(t, func() bool {
		out := s.starter(t, nil, &syncBuffer{}, "list", "--json", "--stage", "registered")
		return strings.Contains(string(out), run.WorkflowID)
	}, 30*time.Second, 200*time.Millisecond)

	s.cancel(t, number)
	assertNoSecrets(t, s, run.WorkflowID, log, pin, code)
	assertReplays(t, s, run.WorkflowID)
}

// assertReplays replays the run's real history against the current workflow
// code: a change that breaks determinism for runs already in flight fails
// here, not on a production worker days into an onboarding.
func assertReplays(t *testing.T, s *stack, workflowID string) {
	t.Helper()
	ring, err := codec.ParseKeys(s.keys)
	require.NoError(t, err)
	dc, fc := codec.ClientOptions(ring)
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: fc})
	require.NoError(t, err)
	replayer.RegisterWorkflowWithOptions(workflows.Number, workflow.RegisterOptions{Name: onboarding.WorkflowType})
	hist := &historypb.History{}
	iter := s.raw.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	// Under the run's own id: the workflow acts only under its number's id.
	require.NoError(t, replayer.ReplayWorkflowHistoryWithOptions(nil, hist, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: workflowID},
	}))
}

func TestDoubleStartReturnsTheRunningRun(t *testing.T) {
	s := setup(t)
	in := onboarding.OnboardInput{WABAID: wabaID, CountryCode: "1", PhoneNumber: "5550000002", DisplayName: "Acme Sales", PIN: "135790"}
	c := s.onboardingClient()
	first, err := c.Onboard(context.Background(), in)
	require.NoError(t, err)
	second, err := c.Onboard(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, first.RunID, second.RunID)
	require.True(t, second.AlreadyRunning)
	require.False(t, first.AlreadyRunning)

	st := s.waitStage(t, "+15550000002", onboarding.StageAwaitingCode)
	adds := 0
	for _, call := range s.sim.Calls() {
		if call.Endpoint == graphsim.EndpointAddPhoneNumber && call.Params["phone_number"] == "5550000002" {
			adds++
		}
	}
	require.Equal(t, 1, adds, "one onboarding, not two")
	require.NotEmpty(t, st.PhoneNumberID)
	s.cancel(t, "+15550000002")
}

func TestMetaLockParksOnADurableSeventyTwoHourTimer(t *testing.T) {
	s := setup(t)
	const national = "5550000003"
	id, err := s.sim.SeedNumber(wabaID, "1", national, graphsim.Verified())
	require.NoError(t, err)
	g, err := graph.New(accessToken, graph.WithBaseURL(s.simURL))
	require.NoError(t, err)
	for range 11 { // spent outside this product: the 11th trips Meta's lock
		_ = g.Register(context.Background(), id, graph.RegisterRequest{PIN: "112233"})
	}

	c := s.onboardingClient()
	run, err := c.Onboard(context.Background(), onboarding.OnboardInput{
		WABAID: wabaID, CountryCode: "1", PhoneNumber: national, DisplayName: "Acme Billing", PIN: "112233",
	})
	require.NoError(t, err)
	before := time.Now()
	st := s.waitStage(t, "+1"+national, onboarding.StageRateLimited)
	require.NotNil(t, st.LastError)
	require.Equal(t, 133016, st.LastError.Code)
	require.WithinDuration(t, before.Add(72*time.Hour), st.NextRegisterAllowedAt, 2*time.Minute)
	require.Equal(t, st.NextRegisterAllowedAt, st.SleepingUntil)

	// The wait is a durable server-side timer of 72 hours, not a loop.
	var timer time.Duration
	iter := s.client.GetWorkflowHistory(context.Background(), run.WorkflowID, run.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	fired := map[string]bool{}
	started := map[string]time.Duration{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetTimerStartedEventAttributes(); a != nil {
			started[a.GetTimerId()] = a.GetStartToFireTimeout().AsDuration()
		}
		if a := ev.GetTimerFiredEventAttributes(); a != nil {
			fired[a.GetTimerId()] = true
		}
	}
	for id, d := range started {
		if !fired[id] && d > timer {
			timer = d
		}
	}
	require.GreaterOrEqual(t, timer, 72*time.Hour, "a pending timer sleeps out the lock")
	require.Less(t, timer, 73*time.Hour)
	registers := 0
	for _, call := range s.sim.Calls() {
		if call.Endpoint == graphsim.EndpointRegister && call.PhoneNumberID == id {
			registers++
		}
	}
	require.Equal(t, 12, registers, "one refused call from the workflow, then no hot loop")
	s.cancel(t, "+1"+national)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// assertNoSecrets reads the run's raw history, without the codec, and the
// processes' logs, and fails if a secret shows in any encoding.
func assertNoSecrets(t *testing.T, s *stack, workflowID string, starterLog *syncBuffer, secrets ...string) {
	t.Helper()
	secrets = append(secrets, accessToken)
	var hist bytes.Buffer
	iter := s.raw.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		hist.Write(b)
		hist.WriteString(ev.String())
		events++
	}
	require.Greater(t, events, 10)
	require.Contains(t, hist.String(), base64.StdEncoding.EncodeToString([]byte(codec.MetadataEncodingEncrypted)),
		"payloads at rest are encrypted")
	for name, text := range map[string]string{
		"raw history": hist.String(), "worker log": s.workerLog.String(), "starter log": starterLog.String(),
	} {
		for _, secret := range secrets {
			for _, form := range encodings(secret) {
				require.False(t, holdsSecret(text, form), "%s holds a secret (%s)", name, form)
			}
		}
	}
}

// holdsSecret reports whether text holds form. A form made only of digits
// (the secret itself, or the hex of one) counts only as a run of digits of
// its own: debug logs are full of float timestamps and ids whose digits would
// hold any six-digit code by chance, while a leaked PIN or code stands between
// quotes, spaces or punctuation.
func holdsSecret(text, form string) bool {
	if strings.Trim(form, "0123456789") != "" {
		return strings.Contains(text, form)
	}
	for i := 0; ; {
		j := strings.Index(text[i:], form)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(form)
		if (start == 0 || !isDigit(text[start-1])) && (end == len(text) || !isDigit(text[end])) {
			return true
		}
		i = start + 1
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// encodings returns the forms a secret takes when it sits anywhere inside a
// larger byte string: itself, hex, and, for each of the three alignments
// base64 can give it, the run of characters that depends on the secret's
// bytes alone (chars ceil(4p/3) to floor(4(p+n)/3) of the padded encoding),
// in the standard and the URL alphabet.
func encodings(secret string) []string {
	b := []byte(secret)
	forms := []string{secret, hex.EncodeToString(b)}
	for p := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, p), b...))
		inner := enc[(4*p+2)/3 : 4*(p+len(b))/3]
		forms = append(forms, inner, strings.NewReplacer("+", "-", "/", "_").Replace(inner))
	}
	return forms
}

// TestEncodingsFindAnEmbeddedSecret keeps the history check honest: a
// secret base64-encoded at any offset inside a payload is found.
func TestEncodingsFindAnEmbeddedSecret(t *testing.T) {
	const secret = "024680"
	for p := range 5 {
		payload := append(append([]byte(strings.Repeat("x", p)), secret...), "}tail"...)
		for _, enc := range []string{base64.StdEncoding.EncodeToString(payload), base64.URLEncoding.EncodeToString(payload), hex.EncodeToString(payload)} {
			found := false
			for _, form := range encodings(secret) {
				found = found || strings.Contains(enc, form)
			}
			require.True(t, found, "offset %d: %s", p, enc)
		}
	}
	for _, form := range encodings(secret) {
		require.GreaterOrEqual(t, len(form), 6, "short forms would match ciphertext by chance")
	}
	// A code inside a timestamp is chance; between quotes or spaces it is a leak.
	require.False(t, holdsSecret(`"ts":1795459026.0`+secret+`1`, secret))
	require.True(t, holdsSecret(`{"pin":"`+secret+`"}`, secret))
	require.True(t, holdsSecret(`code `+secret, secret))
	require.True(t, holdsSecret(secret, secret))
	require.True(t, holdsSecret(`1`+secret+`1 `+secret, secret), "a later standalone match counts")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
