package chaos

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graphsim"
)

// TestSmallChaosRunPasses is make chaos in small: 20 numbers, two workers,
// one SIGKILL, lost answers (dropped, 5xx, hung) on the calls an onboarding
// makes, against the real worker binary and a real dev server.
func TestSmallChaosRunPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos: skipped with -short")
	}
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if _, err := os.Stat(cli); cli == "" || err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("TEMPORAL_CLI_PATH=%q is not a built Temporal CLI: run the tests with make test", cli)
		}
		t.Skipf("TEMPORAL_CLI_PATH=%q is not a built Temporal CLI: run make test", cli)
	}
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", bin+"/", "../../worker").CombinedOutput(); err != nil {
		t.Fatalf("building the worker: %v\n%s", err, out)
	}

	rep, err := Run(context.Background(), Config{
		Numbers: 20, Workers: 2, WorkerKills: 1, KillEvery: 5 * time.Second,
		StartOver: 8 * time.Second, Deadline: 2 * time.Minute, FaultsFor: time.Minute,
		Profile: ProfileLostAnswers, ChangeRegionEvery: 10,
		TemporalCLI: cli, WorkerBin: filepath.Join(bin, "worker"), Log: testWriter{t},
	})
	require.NoError(t, err)
	t.Log("\n" + rep.Markdown())

	// The run proves something only if the lost answers on the code calls
	// were really injected and answered a call.
	for _, e := range []string{graphsim.EndpointRequestCode, graphsim.EndpointVerifyCode} {
		consumed := 0
		for _, f := range rep.Faults {
			if f.Endpoint == e && f.Fault != "" {
				consumed += f.Consumed
			}
		}
		require.GreaterOrEqual(t, consumed, 2, "lost answers consumed on %s", e)
	}
	require.True(t, rep.Pass(), rep.Verdict())
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}
