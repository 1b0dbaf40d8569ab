package e2e

import (
	"context"
	"fmt"
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
const (
	webhookAppSecret   = "e2e-meta-app-secret"
	webhookVerifyToken = "e2e-verify-token"
)

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
	s.cancelAndWait(t, number)
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
	s.cancelAndWait(t, number)
	assertReplays(t, s, run.WorkflowID)
}

// The gateway process serves Meta's webhooks beside the API: the handshake,
// refusal of unsigned deliveries, and signed ones reaching the run through
// its Temporal client (with the worker's codec). The decision DEFERRED and
// the WABA's events come only from this test, not from the simulator.
func TestGatewayTakesMetasWebhooks(t *testing.T) {
	s := setup(t)
	log := &syncBuffer{}
	base := s.gateway(t, log)

	resp, err := http.Get(base + webhooks.Path + "?hub.mode=subscribe&hub.verify_token=" + webhookVerifyToken + "&hub.challenge=8812")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "8812", string(b))

	const waba = "100000000000073"
	s.sim.CreateWABA(waba)
	number := "+15550000073"
	run, err := s.onboardingClient().Onboard(context.Background(), onboarding.OnboardInput{WABAID: waba, CountryCode: "1",
		PhoneNumber: "5550000073", DisplayName: "Acme Gateway", PIN: "246804"})
	require.NoError(t, err)
	s.waitCode(t, number)
	require.Eventually(t, func() bool {
		resp, err := s.client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: "WhatsAppWABAID = '" + waba + "' AND ExecutionStatus = 'Running'"})
		return err == nil && len(resp.GetExecutions()) == 1
	}, 30*time.Second, 100*time.Millisecond)

	post := func(body, sig string) int {
		req, err := http.NewRequest(http.MethodPost, base+webhooks.Path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set(webhooks.SignatureHeader, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now().Unix()
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"time":%d,"changes":[`+
		`{"field":"phone_number_name_update","value":{"display_phone_number":"15550000073","decision":"DEFERRED","requested_verified_name":"Acme Gateway","rejection_reason":null}},`+
		`{"field":"account_update","value":{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"DISABLE","waba_ban_date":"2026-11-23"}}}]}]}`, waba, now)
	require.Equal(t, http.StatusUnauthorized, post(body, ""))
	require.Equal(t, http.StatusForbidden, post(body, webhooks.SignatureValue([]byte("not the app secret"), []byte(body))))
	require.Equal(t, http.StatusOK, post(body, webhooks.SignatureValue([]byte(webhookAppSecret), []byte(body))), log.String())

	st := s.waitFor(t, number, "the gateway's webhooks", func(st onboarding.Status) bool {
		return st.LastNameUpdate != nil && st.WABAState == onboarding.WABAStateUnusable
	})
	require.Equal(t, onboarding.NameDecisionDeferred, st.LastNameUpdate.Decision)
	require.Equal(t, "DISABLED_UPDATE DISABLE", st.WABAEvent)
	require.NotContains(t, log.String(), webhookAppSecret)
	s.cancelAndWait(t, number)
	assertReplays(t, s, run.WorkflowID)
}

// cancelAndWait cancels the number's run and waits until it has closed, so
// that its history holds no workflow task still in flight when replayed.
func (s *stack) cancelAndWait(t *testing.T, number string) {
	t.Helper()
	s.cancel(t, number)
	err := s.client.GetWorkflow(context.Background(), onboarding.WorkflowIDForE164(number), "").Get(context.Background(), nil)
	require.Error(t, err, "a cancelled run ends with an error")
}
