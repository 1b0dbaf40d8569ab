package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/codecserver"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// temporalCLI runs the temporal CLI the way the README's "Calling it from
// other languages" tells another service to: against the dev server, with
// payloads encrypted and decrypted by a codec server that seals pin, code and
// backup.password on /encode with the stack's public seal key. It returns
// stdout and fails the test on a non-zero exit.
type temporalCLI struct {
	s         *stack
	path      string
	codecURL  string
	codecAuth string
}

func newTemporalCLI(t *testing.T, s *stack) *temporalCLI {
	t.Helper()
	ring, err := codec.ParseKeys(s.keys)
	require.NoError(t, err)
	const token = "e2e-codec-token"
	h, err := codecserver.New(codecserver.Options{
		Codec: codec.NewCodec(ring), Token: token,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sealer: s.codecSealer(),
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &temporalCLI{s: s, path: os.Getenv("TEMPORAL_CLI_PATH"), codecURL: srv.URL, codecAuth: "Bearer " + token}
}

func (c *temporalCLI) run(t *testing.T, args ...string) []byte {
	t.Helper()
	return c.runPlain(t, append(args, "--codec-endpoint", c.codecURL, "--codec-auth", c.codecAuth)...)
}

// runPlain runs the CLI without the codec, as a caller who skipped it does:
// its payloads reach the server as readable json/plain.
func (c *temporalCLI) runPlain(t *testing.T, args ...string) []byte {
	t.Helper()
	args = append(args, "--address", c.s.hostPort, "--namespace", "default")
	cmd := exec.Command(c.path, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "temporal %s:\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.Bytes()
}

// TestTemporalCLIDrivesTheContract starts a run with the plain temporal CLI
// and a JSON input whose duration is a string, queries it and signals it,
// and checks what comes back against the published schemas.
func TestTemporalCLIDrivesTheContract(t *testing.T) {
	s := setup(t)
	cli := newTemporalCLI(t, s)
	number := "+15550000077"
	id := onboarding.WorkflowID("1", "5550000077")

	// The PIN goes in clear to the codec server, which seals it on /encode
	// when the stack seals secrets (sealSecrets), as for any caller in
	// another language.
	input := `{"waba_id":"` + wabaID + `","country_code":"1","phone_number":"5550000077",` +
		`"display_name":"Acme Support","pin":"135790","code_wait":"24h","name_check_interval":"90m"}`
	require.NoError(t, compileSchema(t, "OnboardInput.json").Validate(mustInstance(t, []byte(input))))
	cli.run(t, "workflow", "start", "--task-queue", onboarding.TaskQueue, "--type", onboarding.WorkflowType,
		"--workflow-id", id, "--id-conflict-policy", "Fail", "--id-reuse-policy", "AllowDuplicate", "--input", input)
	t.Cleanup(func() { s.cancel(t, number) })
	first := s.waitCode(t, number)

	// The worker decoded the string durations: read the recorded input
	// back through the codec.
	hist := s.client.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	started, err := hist.Next()
	require.NoError(t, err)
	ring, err := codec.ParseKeys(s.keys)
	require.NoError(t, err)
	dc, _ := codec.ClientOptions(ring)
	var recorded onboarding.OnboardInput
	require.NoError(t, dc.FromPayloads(
		started.GetWorkflowExecutionStartedEventAttributes().GetInput(), &recorded))
	require.Equal(t, onboarding.Duration(24*time.Hour), recorded.CodeWait)
	require.Equal(t, sealSecrets, seal.IsSealed(recorded.PIN), "the codec server seals the PIN exactly when it has the keys")
	require.Equal(t, onboarding.Duration(90*time.Minute), recorded.NameCheckInterval)

	st := queryStatus(t, cli, id)
	require.Equal(t, onboarding.StageAwaitingCode, st.Stage)
	require.Equal(t, onboarding.CodeSMS, st.CodeMethod)

	cli.run(t, "workflow", "signal", "--workflow-id", id, "--name", onboarding.SignalResendCode, "--input", `{"method":"VOICE"}`)
	require.Eventually(t, func() bool {
		sent, ok := s.sim.SentCode(first.PhoneNumberID)
		return ok && sent.Method == string(onboarding.CodeVoice)
	}, 60*time.Second, 200*time.Millisecond, "the resend-code signal sent by the CLI asks Meta for a voice code")
}

// queryStatus runs the README's query command and checks its answer
// against schemas/Status.json before decoding it.
func queryStatus(t *testing.T, cli *temporalCLI, id string) onboarding.Status {
	t.Helper()
	out := cli.run(t, "workflow", "query", "--workflow-id", id, "--name", onboarding.QueryStatus, "--output", "json")
	var resp struct {
		QueryResult []json.RawMessage `json:"queryResult"`
	}
	require.NoError(t, json.Unmarshal(out, &resp), "%s", out)
	require.Len(t, resp.QueryResult, 1, "%s", out)
	require.NoError(t, compileSchema(t, "Status.json").Validate(mustInstance(t, resp.QueryResult[0])), "%s", out)
	var st onboarding.Status
	require.NoError(t, json.Unmarshal(resp.QueryResult[0], &st))
	return st
}

func compileSchema(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(filepath.Join("..", "schemas", file))
	require.NoError(t, err)
	return s
}

func mustInstance(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err, "%s", b)
	return v
}

// TestTemporalCLIBadDurationFailsTheRun checks what a caller that skipped
// the schema sees: the run fails at once, naming the field and the rule,
// rather than retrying a workflow task that can never decode its input.
func TestTemporalCLIBadDurationFailsTheRun(t *testing.T) {
	s := setup(t)
	cli := newTemporalCLI(t, s)
	id := onboarding.WorkflowID("1", "5550000078")
	input := `{"waba_id":"` + wabaID + `","country_code":"1","phone_number":"5550000078",` +
		`"display_name":"Acme Support","pin":"135790","code_wait":"one day"}`
	require.Error(t, compileSchema(t, "OnboardInput.json").Validate(mustInstance(t, []byte(input))))
	cli.run(t, "workflow", "start", "--task-queue", onboarding.TaskQueue, "--type", onboarding.WorkflowType,
		"--workflow-id", id, "--input", input)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := s.client.GetWorkflow(ctx, id, "").Get(ctx, nil)
	require.ErrorContains(t, err, `code_wait: must be a duration string such as "24h"`)
}
