package workflows_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/onboarding"
	"github.com/wa-onboarding/onboarding/workflows"
)

// corpus returns the recorded histories; a missing or empty corpus fails
// the test rather than passing with nothing replayed.
func corpus(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in %s: run make record-histories", historiesDir)
	return files
}

func replayer(t *testing.T, wf any) worker.WorkflowReplayer {
	t.Helper()
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{})
	require.NoError(t, err)
	r.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: onboarding.WorkflowType})
	return r
}

// replayFile replays the history in file under the workflow id it was
// recorded with. The replayer's default id ("ReplayId") would not do: the
// workflow refuses to act under any id but its number's, so a run replayed
// under another id makes other commands.
func replayFile(r worker.WorkflowReplayer, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return err
	}
	id := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
	return r.ReplayWorkflowHistoryWithOptions(quietLogger(), h, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: id},
	})
}

func quietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestReplayCorpus replays every recorded history against the current
// workflow code: a change that would break a run already in flight, one
// that has been serving its number for years included, fails here.
func TestReplayCorpus(t *testing.T) {
	r := replayer(t, workflows.Number)
	for _, f := range corpus(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			require.NoError(t, replayFile(r, f))
		})
	}
}

// TestCorpusCoversEveryScenario keeps the corpus and the recorder in step:
// every scenario the recorder knows has a recorded history.
func TestCorpusCoversEveryScenario(t *testing.T) {
	for _, sc := range scenarios {
		files, err := filepath.Glob(filepath.Join(historiesDir, sc.name+"*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, files, "scenario %s has no recorded history: run make record-histories", sc.name)
	}
	var continued bool
	for _, f := range corpus(t) {
		continued = continued || strings.Contains(filepath.Base(f), "continue-as-new-2")
	}
	require.True(t, continued, "the corpus holds the run that follows a continue-as-new")
}

// numberWithExtraTimer is an incompatible change: it waits on a timer before
// doing what Number does, so its first command differs from every recorded
// run's.
func numberWithExtraTimer(ctx workflow.Context, in onboarding.OnboardInput) (onboarding.Status, error) {
	if err := workflow.Sleep(ctx, time.Minute); err != nil {
		return onboarding.Status{}, err
	}
	return workflows.Number(ctx, in)
}

// numberWithPatchedTimer is the same change made safely: runs that started
// before the patch take the old branch, as their history has no marker.
func numberWithPatchedTimer(ctx workflow.Context, in onboarding.OnboardInput) (onboarding.Status, error) {
	if workflow.GetVersion(ctx, "replay-test-extra-timer", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.Sleep(ctx, time.Minute); err != nil {
			return onboarding.Status{}, err
		}
	}
	return workflows.Number(ctx, in)
}

// TestReplayCatchesAnIncompatibleChange proves the corpus test can fail: an
// unpatched change is reported as nondeterminism on every recorded history,
// and the same change behind workflow.GetVersion replays cleanly.
func TestReplayCatchesAnIncompatibleChange(t *testing.T) {
	broken := replayer(t, numberWithExtraTimer)
	patched := replayer(t, numberWithPatchedTimer)
	for _, f := range corpus(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			err := replayFile(broken, f)
			require.Error(t, err)
			// TMPRL1100 is the SDK's code for every nondeterminism error
			// (github.com/temporalio/rules, TMPRL1100.md); the message after
			// it depends on where the mismatch shows first.
			require.Contains(t, err.Error(), "[TMPRL1100]", "want the SDK's nondeterminism error, got %v", err)

			require.NoError(t, replayFile(patched, f))
		})
	}
}
