package graphsim

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/webhooks"
	"github.com/wa-onboarding/onboarding/onboarding"
)

const testAppSecret = "sim-app-secret"

// receiver is the product's webhook endpoint (internal/webhooks) in front
// of a recording Messenger: what it records proves that the simulator's
// signature and payloads are what the endpoint accepts.
type receiver struct {
	mu    sync.Mutex
	names []onboarding.NameUpdateInput
	ids   []string
	wabas []onboarding.WABAUpdateInput
	waIDs []string
}

func (r *receiver) NameUpdate(_ context.Context, id string, in onboarding.NameUpdateInput) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids, r.names = append(r.ids, id), append(r.names, in)
	return nil
}

func (r *receiver) WABAUpdate(_ context.Context, id string, in onboarding.WABAUpdateInput) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waIDs, r.wabas = append(r.waIDs, id), append(r.wabas, in)
	return 1, nil
}

func (r *receiver) got() ([]string, []onboarding.NameUpdateInput, []string, []onboarding.WABAUpdateInput) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...), append([]onboarding.NameUpdateInput(nil), r.names...),
		append([]string(nil), r.waIDs...), append([]onboarding.WABAUpdateInput(nil), r.wabas...)
}

// newReceiver serves internal/webhooks with secret; wrap, when not nil,
// stands in front of it.
func newReceiver(t *testing.T, secret string, wrap func(http.Handler) http.Handler) (*receiver, *httptest.Server) {
	t.Helper()
	rec := &receiver{}
	h, err := webhooks.New(webhooks.Config{AppSecret: []byte(secret), VerifyToken: "vt", Messenger: rec,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	var handler http.Handler = h
	if wrap != nil {
		handler = wrap(h)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return rec, srv
}

func withWebhook(url, secret string) func(*Options) {
	return func(o *Options) {
		o.WebhookURL, o.WebhookAppSecret, o.WebhookBackoff = url+webhooks.Path, []byte(secret), time.Millisecond
	}
}

func TestWebhookNameApprovedAfterReview(t *testing.T) {
	rec, rsrv := newReceiver(t, testAppSecret, nil)
	e := newEnv(t, withWebhook(rsrv.URL, testAppSecret), func(o *Options) { o.NameReviewDelay = 10 * time.Minute })
	id := e.addNumber("5550001111")

	e.sim.ApplyDueReviews()
	e.sim.WaitWebhooks()
	_, names, _, _ := rec.got()
	require.Empty(t, names, "no webhook before the review time")

	e.clock.Advance(10 * time.Minute)
	e.sim.ApplyDueReviews()
	e.sim.WaitWebhooks()
	ids, names, _, _ := rec.got()
	require.Equal(t, []string{"whatsapp-number-+15550001111"}, ids)
	require.Equal(t, onboarding.NameDecisionApproved, names[0].Decision)
	require.Equal(t, "Acme", names[0].RequestedName)
	require.Empty(t, names[0].Reason)
	require.Equal(t, e.clock.Now().Unix(), names[0].EventTime.Unix())

	// The approval happened once: reading the number or sweeping again
	// sends nothing more.
	n, _ := e.sim.Number(id)
	require.Equal(t, "APPROVED", n.NameStatus)
	e.sim.ApplyDueReviews()
	e.sim.WaitWebhooks()
	_, names, _, _ = rec.got()
	require.Len(t, names, 1)
}

func TestWebhookApprovalSeenByAGraphRead(t *testing.T) {
	rec, rsrv := newReceiver(t, testAppSecret, nil)
	e := newEnv(t, withWebhook(rsrv.URL, testAppSecret), func(o *Options) { o.NameReviewDelay = time.Minute })
	id := e.addNumber("5550001112")
	e.clock.Advance(time.Minute)
	r := e.do("GET", "/"+id+"?fields=name_status", nil)
	e.requireOK(r)
	require.Equal(t, "APPROVED", r.Body["name_status"])
	e.sim.ApplyDueReviews()
	e.sim.WaitWebhooks()
	ids, _, _, _ := rec.got()
	require.Equal(t, []string{"whatsapp-number-+15550001112"}, ids, "one webhook, sent by the read that saw the approval")
}

func TestWebhookNameRejectedAndChanged(t *testing.T) {
	rec, rsrv := newReceiver(t, testAppSecret, nil)
	e := newEnv(t, withWebhook(rsrv.URL, testAppSecret))
	id := e.addNumber("5550001113")

	r := e.do("POST", "http://"+e.srv.Listener.Addr().String()+"/_sim/numbers/"+id+"/name",
		url.Values{"status": {"DECLINED"}, "rejection_reason": {"NAME_FORMAT_UNACCEPTABLE"}})
	e.requireOK(r)
	r = e.do("POST", "http://"+e.srv.Listener.Addr().String()+"/_sim/numbers/"+id+"/name",
		url.Values{"status": {"APPROVED"}, "verified_name": {"Acme Help"}})
	e.requireOK(r)
	require.Equal(t, "Acme Help", r.Body["verified_name"])
	r = e.do("POST", "http://"+e.srv.Listener.Addr().String()+"/_sim/numbers/"+id+"/name",
		url.Values{"status": {"DECLINED"}, "rejection_reason": {"BECAUSE"}})
	require.Equal(t, http.StatusBadRequest, r.Status, "unknown reason: %s", r.Raw)

	e.sim.WaitWebhooks()
	_, names, _, _ := rec.got()
	require.Len(t, names, 2)
	// Deliveries run in parallel, as Meta's do: match by decision.
	byDecision := map[string]onboarding.NameUpdateInput{}
	for _, n := range names {
		byDecision[n.Decision] = n
	}
	require.Equal(t, "NAME_FORMAT_UNACCEPTABLE", byDecision["REJECTED"].Reason)
	require.Equal(t, "Acme", byDecision["REJECTED"].RequestedName)
	require.Equal(t, "Acme Help", byDecision["APPROVED"].RequestedName)
	require.Empty(t, byDecision["APPROVED"].Reason)
}

func TestWebhookAccountUpdate(t *testing.T) {
	rec, rsrv := newReceiver(t, testAppSecret, nil)
	e := newEnv(t, withWebhook(rsrv.URL, testAppSecret))
	admin := "http://" + e.srv.Listener.Addr().String() + "/_sim/wabas/"

	e.requireOK(e.do("POST", admin+testWABA+"/account-update", map[string]any{"event": "DISABLED_UPDATE", "ban_state": "DISABLE"}))
	e.sim.WaitWebhooks()
	e.requireOK(e.do("POST", admin+testWABA+"/account-update", url.Values{"event": {"PARTNER_REMOVED"}}))
	e.sim.WaitWebhooks()
	e.requireOK(e.do("POST", admin+testWABA+"/account-update?event=DISABLED_UPDATE&ban_state=REINSTATE", nil))
	e.sim.WaitWebhooks()
	// curl -d '{...}' labels JSON as a form.
	req, err := http.NewRequest("POST", admin+testWABA+"/account-update", strings.NewReader(`{"event":"ACCOUNT_OFFBOARDED"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e.requireOK(e.raw(req))
	e.sim.WaitWebhooks()

	require.Equal(t, http.StatusNotFound, e.do("POST", admin+"999/account-update", url.Values{"event": {"ACCOUNT_DELETED"}}).Status)
	require.Equal(t, http.StatusBadRequest, e.do("POST", admin+testWABA+"/account-update", url.Values{"event": {"NOPE"}}).Status)
	require.Equal(t, http.StatusBadRequest, e.do("POST", admin+testWABA+"/account-update",
		url.Values{"event": {"ACCOUNT_DELETED"}, "ban_state": {"DISABLE"}}).Status)
	e.sim.WaitWebhooks()

	_, _, ids, wabas := rec.got()
	require.Equal(t, []string{testWABA, testWABA, testWABA, testWABA}, ids)
	require.Equal(t, onboarding.WABAUpdateInput{Event: "DISABLED_UPDATE", BanState: "DISABLE", State: onboarding.WABAStateUnusable,
		EventTime: time.Unix(e.clock.Now().Unix(), 0).UTC(), EventID: wabas[0].EventID}, wabas[0])
	require.Equal(t, "PARTNER_REMOVED", wabas[1].Event)
	require.Equal(t, onboarding.WABAStateUnusable, wabas[1].State)
	require.Equal(t, onboarding.WABAStateUsable, wabas[2].State)
	require.Equal(t, "ACCOUNT_OFFBOARDED", wabas[3].Event)
}

func TestWebhookRetriedUntilAccepted(t *testing.T) {
	var attempts atomic.Int32
	rec, rsrv := newReceiver(t, testAppSecret, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if attempts.Add(1) <= 2 {
				http.Error(w, "starting up", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	e := newEnv(t, withWebhook(rsrv.URL, testAppSecret))
	require.NoError(t, e.sim.AccountUpdate(testWABA, "ACCOUNT_DELETED", ""))
	e.sim.WaitWebhooks()
	require.Equal(t, int32(3), attempts.Load())
	_, _, ids, _ := rec.got()
	require.Len(t, ids, 1)
}

func TestWebhookRefusedSignatureIsNotRetried(t *testing.T) {
	var attempts atomic.Int32
	rec, rsrv := newReceiver(t, testAppSecret, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			attempts.Add(1)
			h.ServeHTTP(w, r)
		})
	})
	e := newEnv(t, withWebhook(rsrv.URL, "not the receiver's secret"))
	require.NoError(t, e.sim.AccountUpdate(testWABA, "ACCOUNT_DELETED", ""))
	e.sim.WaitWebhooks()
	require.Equal(t, int32(1), attempts.Load(), "a 403 is final")
	_, _, ids, _ := rec.got()
	require.Empty(t, ids)
}

func TestWebhookNeverBlocksGraphCalls(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	_, rsrv := newReceiver(t, testAppSecret, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			<-release
			h.ServeHTTP(w, r)
		})
	})
	e := newEnv(t, withWebhook(rsrv.URL, testAppSecret))
	id := e.addNumber("5550001114")
	e.requireOK(e.do("POST", "http://"+e.srv.Listener.Addr().String()+"/_sim/numbers/"+id+"/name", url.Values{"status": {"APPROVED"}}))
	<-arrived
	// The receiver holds the delivery; Graph calls and admin paths still answer.
	e.requireOK(e.do("GET", "/"+id+"?fields=name_status", nil))
	require.NoError(t, e.sim.AccountUpdate(testWABA, "ACCOUNT_RECONNECTED", ""))
	close(release)
	e.sim.WaitWebhooks()
}

func TestNoWebhookWithoutURL(t *testing.T) {
	e := newEnv(t)
	id := e.addNumber("5550001115")
	require.NoError(t, e.sim.SetNameStatus(id, "DECLINED"))
	require.NoError(t, e.sim.AccountUpdate(testWABA, "ACCOUNT_DELETED", ""))
	require.Zero(t, e.sim.webhooksInFlight.Load())
}
