package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/webhooks"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// The stack's simulator signs Meta's webhooks with webhookAppSecret and
// posts them to webhookURL, where internal/webhooks, as the gateway mounts
// it, signals the runs through the stack's Temporal client: the loop of
// make run without the gateway process.
const webhookAppSecret = "e2e-meta-app-secret"

var (
	webhookURL  string // set by startWebhooks, read by newSim
	hooksOnce   sync.Once
	hooksServer *webhooks.Handler
)

// startWebhooks serves the webhook endpoint. The handler is built at the
// first delivery, once start has dialled s.client.
func (s *stack) startWebhooks() (stop func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooksOnce.Do(func() {
			var err error
			hooksServer, err = webhooks.New(webhooks.Config{AppSecret: []byte(webhookAppSecret),
				Messenger: webhooks.TemporalMessenger{Client: s.client, Namespace: "default"},
				Logger:    slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				panic(err)
			}
		})
		hooksServer.ServeHTTP(w, r)
	}))
	webhookURL = srv.URL + webhooks.Path
	return srv.Close
}

// A display name approved by Meta reaches the run as a webhook, and the run
// registers at once, not at its next daily name check.
func TestWebhookDrivenNameApproval(t *testing.T) {
	s := setup(t)
	number := "+15550000071"
	in := onboarding.OnboardInput{WABAID: wabaID, CountryCode: "1", PhoneNumber: "5550000071", DisplayName: "Acme Hooks",
		PIN: "246802", NameCheckInterval: onboarding.Duration(24 * time.Hour)}
	_, err := s.onboardingClient().Onboard(context.Background(), in)
	require.NoError(t, err)
	st := s.waitCode(t, number)
	require.NoError(t, s.sim.SetNameStatus(st.PhoneNumberID, graph.NamePendingReview))
	code, _ := s.sim.LastCode(st.PhoneNumberID)
	res, err := s.onboardingClient().SendCode(context.Background(), number, code)
	require.NoError(t, err)
	require.True(t, res.Accepted, res.Message)
	waiting := s.waitFor(t, number, "the daily name check", func(st onboarding.Status) bool {
		return st.Stage == onboarding.StageAwaitingNameApproval && !st.SleepingUntil.IsZero()
	})
	require.True(t, waiting.SleepingUntil.After(time.Now().Add(23*time.Hour)))

	require.NoError(t, s.sim.ApproveName(st.PhoneNumberID)) // the simulator posts phone_number_name_update
	done := s.waitStage(t, number, onboarding.StageRegistered)
	require.NotNil(t, done.LastNameUpdate)
	require.Equal(t, onboarding.NameDecisionApproved, done.LastNameUpdate.Decision)
	require.Equal(t, 1, done.RegisterCallsInWindow)
	s.cancel(t, number)
	assertReplays(t, s, onboarding.WorkflowIDForE164(number))
}

// An account_update that disables a WABA reaches every run of it: they are
// marked (status, WhatsAppWABAState) and spend no register call until Meta
// reinstates the WABA.
func TestWebhookDisabledWABAParksItsRuns(t *testing.T) {
	s := setup(t)
	const waba = "100000000000072"
	s.sim.CreateWABA(waba)
	number := "+15550000072"
	in := onboarding.OnboardInput{WABAID: waba, CountryCode: "1", PhoneNumber: "5550000072", DisplayName: "Acme Banned", PIN: "246803"}
	run, err := s.onboardingClient().Onboard(context.Background(), in)
	require.NoError(t, err)
	st := s.waitCode(t, number)
	// The WABA's runs are found through visibility, which lags a little.
	listed := func(query string) bool {
		resp, err := s.client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		return err == nil && len(resp.GetExecutions()) == 1 && resp.GetExecutions()[0].GetExecution().GetWorkflowId() == run.WorkflowID
	}
	require.Eventually(t, func() bool { return listed("WhatsAppWABAID = '" + waba + "' AND ExecutionStatus = 'Running'") },
		30*time.Second, 100*time.Millisecond)

	require.NoError(t, s.sim.AccountUpdate(waba, "DISABLED_UPDATE", "DISABLE"))
	s.waitFor(t, number, "the WABA marked unusable", func(st onboarding.Status) bool { return st.WABAState == onboarding.WABAStateUnusable })
	require.Eventually(t, func() bool { return listed("WhatsAppWABAState = 'unusable'") }, 30*time.Second, 100*time.Millisecond,
		"operators find the run by WhatsAppWABAState")

	code, _ := s.sim.LastCode(st.PhoneNumberID)
	res, err := s.onboardingClient().SendCode(context.Background(), number, code)
	require.NoError(t, err)
	require.True(t, res.Accepted, res.Message)
	parked := s.waitFor(t, number, "a park on the WABA", func(st onboarding.Status) bool {
		return st.Stage == onboarding.StageNeedsAttention && strings.Contains(st.Detail, "cannot be used")
	})
	require.Equal(t, 0, parked.RegisterCallsInWindow)

	require.NoError(t, s.sim.AccountUpdate(waba, "DISABLED_UPDATE", "REINSTATE"))
	done := s.waitStage(t, number, onboarding.StageRegistered)
	require.Equal(t, onboarding.WABAStateUsable, done.WABAState)
	require.Equal(t, 1, done.RegisterCallsInWindow)
	s.cancel(t, number)
	assertReplays(t, s, run.WorkflowID)
}
