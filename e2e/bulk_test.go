package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// TestBulkOnboardingFromCSV onboards a CSV of 50 numbers, 3 of them bad,
// through the starter binary: 47 runs start, the 3 bad rows are refused
// with their line numbers, and a second pass over the same file leaves the
// 47 alone. It only needs the runs to start; no code is sent.
func TestBulkOnboardingFromCSV(t *testing.T) {
	s := setup(t)
	dir := t.TempDir()
	const batchPIN, rowPIN, clearPIN = "097531", "086420", "975319"
	pinFile := filepath.Join(dir, "batch-pin")
	require.NoError(t, os.WriteFile(pinFile, []byte(batchPIN+"\n"), 0o600))

	// Two rows carry their own PIN, sealed by seal-pin as an operator would.
	sealOut := s.starter(t, []string{"WA_PIN=" + rowPIN}, &syncBuffer{}, "seal-pin")
	sealed := strings.TrimSpace(string(sealOut))
	require.True(t, seal.IsSealed(sealed), "seal-pin prints a sealed value: %q", sealed)

	var csv strings.Builder
	csv.WriteString("waba_id,number,display_name,region,pin\n")
	bad := map[int]string{} // line: what its refusal says
	var good []string
	for i := 1; i <= 50; i++ {
		line := i + 1
		number := fmt.Sprintf("+1555300%04d", i)
		region, pin := "", ""
		switch i {
		case 7:
			region = "XX"
			bad[line] = "region: must be empty or one of"
		case 23:
			number = "+1555-300-abc"
			bad[line] = "number: must be E.164"
		case 41:
			pin = clearPIN
			bad[line] = "pin: holds a PIN in clear"
		case 3, 30:
			pin = sealed
		}
		if bad[line] == "" {
			good = append(good, number)
		}
		fmt.Fprintf(&csv, "%s,%s,Acme Bulk %d,%s,%s\n", wabaID, number, i, region, pin)
	}
	file := filepath.Join(dir, "numbers.csv")
	require.NoError(t, os.WriteFile(file, []byte(csv.String()), 0o600))
	require.Len(t, good, 47)
	t.Cleanup(func() {
		c := onboarding.NewClient(s.client)
		for _, n := range good {
			_ = c.Cancel(context.Background(), n)
		}
	})

	sum, log, code := s.bulk(t, "onboard", "--csv", file, "--pin-file", pinFile, "--rate", "50/s", "--concurrency", "8", "--json")
	require.Equal(t, 2, code, "exit 2: rows were refused\n%s", log)
	assert.Equal(t, 50, sum.Rows)
	assert.Equal(t, 47, sum.Started, log)
	assert.Zero(t, sum.AlreadyRunning)
	assert.Empty(t, sum.Failed)
	assert.Zero(t, sum.NotStarted)
	require.Len(t, sum.Refused, 3)
	for _, r := range sum.Refused {
		require.Contains(t, bad, r.Line, "refused line %d: %v", r.Line, r.Reasons)
		assert.Contains(t, strings.Join(r.Reasons, "; "), bad[r.Line])
	}
	assert.Equal(t, []int{8, 24, 42}, []int{sum.Refused[0].Line, sum.Refused[1].Line, sum.Refused[2].Line})
	assert.Contains(t, log, "[47/47] line ", "plain progress lines on a pipe")
	assert.NotContains(t, log, clearPIN)

	// The 47 runs exist, as the operator would see them (visibility is
	// eventually consistent).
	want := map[string]bool{}
	for _, n := range good {
		want[n] = true
	}
	require.Eventually(t, func() bool {
		out := s.starter(t, nil, &syncBuffer{}, "list", "--json")
		var entries []onboarding.ListEntry
		if json.Unmarshal(out, &entries) != nil {
			return false
		}
		found := 0
		for _, e := range entries {
			if want[e.Number] && e.Status == "Running" {
				found++
			}
		}
		return found == 47
	}, 30*time.Second, 250*time.Millisecond, "47 running runs listed")

	// The PINs reached the runs sealed: the cell's as it was, the batch's
	// sealed by the starter; only the worker's key opens them.
	privs, err := seal.ParsePrivateKeys(s.sealPriv)
	require.NoError(t, err)
	opener, err := seal.NewOpener(privs...)
	require.NoError(t, err)
	for n, pin := range map[string]string{"+15553000003": rowPIN, "+15553000004": batchPIN} {
		in := startInput(t, s, n)
		require.True(t, seal.IsSealed(in.PIN), n)
		if pin == rowPIN {
			assert.Equal(t, sealed, in.PIN, "a sealed cell is sent as it is")
		}
		got, err := opener.Open(seal.PurposePIN, in.PIN)
		require.NoError(t, err)
		assert.Equal(t, pin, got, n)
	}

	// Run again after "fixing" nothing: the 47 are already running and left
	// alone, the 3 still refused.
	sum, log, code = s.bulk(t, "onboard", "--csv", file, "--pin-file", pinFile, "--rate", "50/s", "--json")
	require.Equal(t, 2, code, log)
	assert.Equal(t, 47, sum.AlreadyRunning)
	assert.Zero(t, sum.Started)
	assert.Len(t, sum.Refused, 3)

	assertNoSecrets(t, s, onboarding.WorkflowIDForE164("+15553000001"), &syncBuffer{}, batchPIN)
}

// startInput decodes the input number's run was started with.
func startInput(t *testing.T, s *stack, number string) onboarding.OnboardInput {
	t.Helper()
	ring, err := codec.ParseKeys(s.keys)
	require.NoError(t, err)
	dc, _ := codec.ClientOptions(ring)
	iter := s.raw.GetWorkflowHistory(context.Background(), onboarding.WorkflowIDForE164(number), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	require.True(t, iter.HasNext())
	ev, err := iter.Next()
	require.NoError(t, err)
	var in onboarding.OnboardInput
	require.NoError(t, dc.FromPayloads(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in))
	return in
}

// bulkSummary is the starter's JSON summary of onboard --csv.
type bulkSummary struct {
	Rows           int `json:"rows"`
	Started        int `json:"started"`
	AlreadyRunning int `json:"already_running"`
	NotStarted     int `json:"not_started"`
	Refused        []struct {
		Line    int      `json:"line"`
		Reasons []string `json:"reasons"`
	} `json:"refused"`
	Failed []json.RawMessage `json:"failed"`
}

// bulk runs the starter, which exits non-zero when rows are refused, and
// returns its summary, its stdout and stderr, and its exit status.
func (s *stack) bulk(t *testing.T, args ...string) (bulkSummary, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, "starter"), args...)
	cmd.Env = append(s.env(), s.starterSealEnv())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	log := stdout.String() + stderr.String()
	var sum bulkSummary
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &sum), log)
	return sum, log, code
}
