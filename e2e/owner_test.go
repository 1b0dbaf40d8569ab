package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// These tests call the workflow as a service in another language does,
// with the plain temporal CLI, and check that no caller gets around its
// rules: one owner per number, no secret used in clear.

// cliInput is a start input as a caller types it, the PIN in clear.
func cliInput(national, pin string) string {
	return `{"waba_id":"` + wabaID + `","country_code":"1","phone_number":"` + national + `",` +
		`"display_name":"Acme Support","pin":"` + pin + `"}`
}

// graphCallsFor counts the simulator's calls about the number: adds of its
// digits, and calls on its phone-number id once it has one.
func graphCallsFor(s *stack, national, phoneNumberID string) int {
	n := 0
	for _, c := range s.sim.Calls() {
		if c.Params["phone_number"] == national || (phoneNumberID != "" && c.PhoneNumberID == phoneNumberID) {
			n++
		}
	}
	return n
}

// runError waits for the run's end and returns its application error.
func runError(t *testing.T, s *stack, workflowID string) *temporal.ApplicationError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := s.client.GetWorkflow(ctx, workflowID, "").Get(ctx, nil)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want the run to fail with an application error, got %v", err)
	require.True(t, appErr.NonRetryable())
	return appErr
}

func TestCLISecondOwnerUnderItsOwnIDEndsAtOnce(t *testing.T) {
	s := setup(t)
	cli := newTemporalCLI(t, s)
	const national = "5550000081"
	number := "+1" + national
	owner, err := s.onboardingClient().Onboard(context.Background(), onboarding.OnboardInput{
		WABAID: wabaID, CountryCode: "1", PhoneNumber: national, DisplayName: "Acme Support", PIN: "246813"})
	require.NoError(t, err)
	t.Cleanup(func() { s.cancel(t, number) })
	first := s.waitCode(t, number)
	before := graphCallsFor(s, national, first.PhoneNumberID)

	const rogue = "my-own-id-5550000081"
	cli.run(t, "workflow", "start", "--task-queue", onboarding.TaskQueue, "--type", onboarding.WorkflowType,
		"-w", rogue, "--input", cliInput(national, "246813"))
	appErr := runError(t, s, rogue)
	require.Equal(t, onboarding.ErrorTypeWrongWorkflowID, appErr.Type())
	require.Contains(t, appErr.Message(), `--workflow-id "`+owner.WorkflowID+`"`, "names the id to use")

	st := queryStatus(t, cli, rogue)
	require.Equal(t, onboarding.StageRefused, st.Stage, "a refused run answers status")
	require.Contains(t, st.Detail, owner.WorkflowID)
	require.Equal(t, before, graphCallsFor(s, national, first.PhoneNumberID), "the second run made no Graph call")
	// The owner is untouched and still waits for its code.
	require.Equal(t, onboarding.StageAwaitingCode, s.waitCode(t, number).Stage)
}

func TestCLIPlaintextPINStartWithoutCodecEndsAtOnce(t *testing.T) {
	s := setup(t)
	cli := newTemporalCLI(t, s)
	const national, pin = "5550000082", "627103"
	id := onboarding.WorkflowID("1", national)
	cli.runPlain(t, "workflow", "start", "--task-queue", onboarding.TaskQueue, "--type", onboarding.WorkflowType,
		"--workflow-id", id, "--input", cliInput(national, pin))
	appErr := runError(t, s, id)
	require.Equal(t, onboarding.ErrorTypeUnsealedSecret, appErr.Type())
	require.Contains(t, appErr.Message(), "pin: arrived unsealed")
	require.Contains(t, appErr.Message(), "--codec-endpoint")
	require.NotContains(t, appErr.Message(), pin)
	require.Zero(t, graphCallsFor(s, national, ""), "no Graph call was made")
	st := queryStatus(t, cli, id)
	require.Equal(t, onboarding.StageRefused, st.Stage)
}

func TestCLIPlaintextCodeSignalWithoutCodecIsDroppedAndFlagged(t *testing.T) {
	s := setup(t)
	cli := newTemporalCLI(t, s)
	const national = "5550000083"
	number := "+1" + national
	run, err := s.onboardingClient().Onboard(context.Background(), onboarding.OnboardInput{
		WABAID: wabaID, CountryCode: "1", PhoneNumber: national, DisplayName: "Acme Support", PIN: "135791"})
	require.NoError(t, err)
	t.Cleanup(func() { s.cancel(t, number) })
	st := s.waitCode(t, number)
	code, ok := s.sim.LastCode(st.PhoneNumberID)
	require.True(t, ok)

	cli.runPlain(t, "workflow", "signal", "--workflow-id", run.WorkflowID, "--name", onboarding.SignalVerificationCode,
		"--input", `{"code":"`+code+`"}`)
	flagged := s.waitFor(t, number, "the plaintext code flagged", func(st onboarding.Status) bool { return st.PlaintextSecretsRefused == 1 })
	require.Equal(t, onboarding.StageAwaitingCode, flagged.Stage, "the code was not used")
	require.Contains(t, flagged.PlaintextNote, "arrived unsealed")
	for _, c := range s.sim.Calls() {
		require.False(t, c.Endpoint == graphsim.EndpointVerifyCode && c.PhoneNumberID == st.PhoneNumberID, "the plaintext code reached Meta")
	}
	require.Eventually(t, func() bool { return strings.Contains(s.workerLog.String(), "dropped a code signal") },
		10*time.Second, 100*time.Millisecond, "the worker logs the drop")

	// The same code sent through the codec server arrives sealed and is used.
	cli.run(t, "workflow", "signal", "--workflow-id", run.WorkflowID, "--name", onboarding.SignalVerificationCode,
		"--input", `{"code":"`+code+`"}`)
	s.waitStage(t, number, onboarding.StageRegistered)
}

// TestCLIStartThroughTheCodecIsSealedAndRegisters: the README's way for
// other languages. The PIN and the code are typed in clear, sealed by the
// codec server, opened by the worker; a decode of the history through the
// codec server's HTTP API, what an operator's UI or CLI gets, holds
// neither in any encoding.
func TestCLIStartThroughTheCodecIsSealedAndRegisters(t *testing.T) {
	s := setup(t)
	cli := newTemporalCLI(t, s)
	const national, pin = "5550000084", "975310"
	number := "+1" + national
	id := onboarding.WorkflowID("1", national)
	cli.run(t, "workflow", "start", "--task-queue", onboarding.TaskQueue, "--type", onboarding.WorkflowType,
		"--workflow-id", id, "--input", cliInput(national, pin))
	t.Cleanup(func() { s.cancel(t, number) })
	st := s.waitCode(t, number)
	code, ok := s.sim.LastCode(st.PhoneNumberID)
	require.True(t, ok)
	out := cli.run(t, "workflow", "update", "execute", "--workflow-id", id, "--name", onboarding.UpdateSubmitCode,
		"--input", `{"code":"`+code[:3]+" "+code[3:]+`"}`)
	require.Contains(t, string(out), "accepted", "%s", out)
	st = s.waitStage(t, number, onboarding.StageRegistered)
	n, _ := s.sim.Number(st.PhoneNumberID)
	require.Equal(t, graph.StatusConnected, n.Status)
	require.Equal(t, pin, n.PIN, "Meta got the PIN the worker opened")

	decoded := decodeHistory(t, s, cli, id)
	require.Contains(t, decoded, seal.Prefix, "the secrets show as sealed tokens")
	require.Contains(t, decoded, `"waba_id":"`+wabaID+`"`, "the rest of the input reads in clear")
	for _, secret := range []string{pin, code} {
		for _, form := range encodings(secret) {
			require.False(t, holdsSecret(decoded, form), "the decoded history holds a secret (%s)", form)
		}
	}
	assertNoSecrets(t, s, id, &syncBuffer{}, pin, code)
	assertReplays(t, s, id)
}

// decodeHistory sends every payload of the run's history through the codec
// server's POST /decode and returns the decoded payloads' data.
func decodeHistory(t *testing.T, s *stack, cli *temporalCLI, workflowID string) string {
	t.Helper()
	var payloads []*commonpb.Payload
	iter := s.raw.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		payloads = collectPayloads(ev.ProtoReflect(), payloads)
	}
	require.Greater(t, len(payloads), 5)
	body, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(&commonpb.Payloads{Payloads: payloads})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, cli.codecURL+"/decode", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", cli.codecAuth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var raw json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	var out commonpb.Payloads
	require.NoError(t, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(raw, &out))
	require.Len(t, out.Payloads, len(payloads))
	var b strings.Builder
	for _, p := range out.Payloads {
		b.Write(p.GetData())
		b.WriteString("\n")
	}
	// The response itself, as a UI receives it, base64 data included.
	b.Write(raw)
	return b.String()
}

// collectPayloads appends every Payload found anywhere in m.
func collectPayloads(m protoreflect.Message, out []*commonpb.Payload) []*commonpb.Payload {
	if p, ok := m.Interface().(*commonpb.Payload); ok {
		return append(out, proto.Clone(p).(*commonpb.Payload))
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				out = collectPayloads(l.Get(i).Message(), out)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				out = collectPayloads(mv.Message(), out)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			out = collectPayloads(v.Message(), out)
		}
		return true
	})
	return out
}
