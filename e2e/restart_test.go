package e2e

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// newSim starts a simulator that keeps its state in path.
func newSim(path string) (*graphsim.Server, error) {
	sim := graphsim.New(graphsim.Options{Token: accessToken, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		WebhookURL: webhookURL, WebhookAppSecret: []byte(webhookAppSecret)})
	if err := sim.PersistTo(path); err != nil {
		sim.Close()
		return nil, err
	}
	return sim, nil
}

func (s *stack) currentSim() *graphsim.Server {
	s.simMu.RLock()
	defer s.simMu.RUnlock()
	return s.sim
}

func (s *stack) serveSim(w http.ResponseWriter, r *http.Request) { s.currentSim().ServeHTTP(w, r) }

// restartSim stops the simulator and starts a new one from its state file
// behind the same address, as a restart of make run does.
func (s *stack) restartSim(t *testing.T) {
	t.Helper()
	s.simMu.Lock()
	defer s.simMu.Unlock()
	s.sim.Close()
	sim, err := newSim(s.simState)
	require.NoError(t, err)
	s.sim = sim
}

// A restart of the local stack's simulator in the middle of an onboarding
// (issue 9: make run restarted) leaves the run able to finish: the number,
// its code and its ID survive, and no ID is handed out twice.
func TestSimulatorRestartMidOnboardingLetsTheRunFinish(t *testing.T) {
	s := setup(t)
	const pin = "135791"
	number := "+15550000091"
	log := &syncBuffer{}
	pinFile := filepath.Join(t.TempDir(), "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte(pin+"\n"), 0o600))
	s.starter(t, nil, log, "onboard", "--json", "--waba", wabaID, "--cc", "1", "--number", "5550000091",
		"--name", "Acme Support", "--pin-file", pinFile)

	st := s.waitCode(t, number)
	code, ok := s.currentSim().LastCode(st.PhoneNumberID)
	require.True(t, ok)

	s.restartSim(t)
	n, ok := s.currentSim().Number(st.PhoneNumberID)
	require.True(t, ok, "the number survived the restart")
	require.Equal(t, st.PhoneNumberID, n.ID)
	again, ok := s.currentSim().LastCode(st.PhoneNumberID)
	require.True(t, ok)
	require.Equal(t, code, again, "the code the person holds is still the valid one")

	out := s.starter(t, nil, log, "verify", "--json", "--number", number, "--code", code)
	require.Contains(t, string(out), `"accepted": true`)
	done := s.waitStage(t, number, onboarding.StageRegistered)
	require.Equal(t, st.PhoneNumberID, done.PhoneNumberID)

	// A number added after the restart gets an ID never handed out before.
	other, err := s.currentSim().SeedNumber(wabaID, "1", "5550000092", graphsim.Verified())
	require.NoError(t, err)
	require.NotEqual(t, st.PhoneNumberID, other)
	s.cancel(t, number)
}
