package graphsim_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
)

const waba = "100000000000001"

type fixture struct {
	sim    *graphsim.Server
	clock  *graphsim.ManualClock
	srv    *httptest.Server
	client *graph.Client
}

func newFixture(t *testing.T, opts graphsim.Options) *fixture {
	t.Helper()
	clock := graphsim.NewManualClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	opts.Clock = clock
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	sim := graphsim.New(opts)
	sim.CreateWABA(waba)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	client, err := graph.New(graphsim.DefaultToken, graph.WithBaseURL(srv.URL+"/v21.0"))
	require.NoError(t, err)
	return &fixture{sim: sim, clock: clock, srv: srv, client: client}
}

func (f *fixture) seed(t *testing.T, national string, opts ...graphsim.SeedOption) string {
	t.Helper()
	id, err := f.sim.SeedNumber(waba, "1", national, opts...)
	require.NoError(t, err)
	return id
}

func requireClass(t *testing.T, err error, want graph.Class) *graph.Error {
	t.Helper()
	require.Error(t, err)
	var ge *graph.Error
	require.True(t, errors.As(err, &ge), "%T: %v", err, err)
	require.Equal(t, want, ge.Class(), "error: %v", err)
	return ge
}

func TestClientOnboarding(t *testing.T) {
	f := newFixture(t, graphsim.Options{PageSize: 2})
	ctx := context.Background()
	c := f.client

	id, err := c.AddPhoneNumber(ctx, graph.AddPhoneNumberRequest{WABAID: waba, CC: "1", PhoneNumber: "5551234567", VerifiedName: "Acme Corp"})
	require.NoError(t, err)
	for _, n := range []string{"5551234568", "5551234569", "5551234570"} {
		_, err := c.AddPhoneNumber(ctx, graph.AddPhoneNumberRequest{WABAID: waba, CC: "1", PhoneNumber: n, VerifiedName: "Acme Corp"})
		require.NoError(t, err)
	}

	page, err := c.ListPhoneNumbers(ctx, waba, graph.ListOptions{Limit: 3})
	require.NoError(t, err)
	require.Len(t, page.Data, 3)
	require.NotNil(t, page.Paging)
	require.NotEmpty(t, page.Paging.Next)
	page, err = c.ListPhoneNumbers(ctx, waba, graph.ListOptions{Limit: 3, After: page.Paging.Cursors.After})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	require.Empty(t, page.Paging.Next)

	all, err := c.AllPhoneNumbers(ctx, waba)
	require.NoError(t, err)
	require.Len(t, all, 4) // over two pages of PageSize 2
	require.Equal(t, id, all[0].ID)
	require.Equal(t, graph.CodeNotVerified, all[0].CodeVerificationStatus)
	require.Equal(t, graph.NameApproved, all[0].NameStatus)

	found, err := c.FindPhoneNumber(ctx, waba, "1", "5551234567")
	require.NoError(t, err)
	require.Equal(t, id, found.ID)
	missing, err := c.FindPhoneNumber(ctx, waba, "1", "5550000000")
	require.NoError(t, err)
	require.Nil(t, missing)

	p, err := c.GetPhoneNumber(ctx, id)
	require.NoError(t, err)
	require.Equal(t, graph.StatusPending, p.Status)
	require.Equal(t, graph.PlatformNotApplicable, p.PlatformType)
	require.NotNil(t, p.Throughput)
	p, err = c.GetPhoneNumber(ctx, id, "name_status")
	require.NoError(t, err)
	require.Equal(t, id, p.ID)
	require.Empty(t, p.Status, "only the asked fields come back")

	require.NoError(t, c.RequestCode(ctx, id, graph.CodeMethodVoice, "en_US"))
	code, ok := f.sim.LastCode(id)
	require.True(t, ok)
	require.NoError(t, c.VerifyCode(ctx, id, code))

	require.NoError(t, c.Register(ctx, id, graph.RegisterRequest{PIN: "012345", DataLocalizationRegion: "CH"}))
	p, err = c.GetPhoneNumber(ctx, id)
	require.NoError(t, err)
	require.Equal(t, graph.StatusConnected, p.Status)
	require.Equal(t, graph.PlatformCloudAPI, p.PlatformType)
	n, _ := f.sim.Number(id)
	require.Equal(t, "CH", n.DataLocalizationRegion)
	require.Equal(t, "012345", n.PIN)

	require.NoError(t, c.SetTwoStepPIN(ctx, id, "654321"))
	require.NoError(t, c.Deregister(ctx, id))
	require.NoError(t, c.Register(ctx, id, graph.RegisterRequest{PIN: "654321",
		Backup: &graph.Backup{Password: "pw", Data: "blob"}}))
	n, _ = f.sim.Number(id)
	require.Empty(t, n.DataLocalizationRegion)
	require.Equal(t, 2, f.sim.RegisterCount(id))
	require.Equal(t, 1, f.sim.DeregisterCount(id))

	for _, call := range f.sim.Calls() {
		for k, v := range call.Params {
			if k == "pin" || k == "code" || strings.HasPrefix(k, "backup.") {
				require.Equal(t, "******", v, "%s in %s", k, call.Endpoint)
			}
		}
	}
}

func TestClientMigrateAndPreverified(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	ctx := context.Background()
	other := f.sim.CreateWABA("")
	src, err := f.sim.SeedNumber(other, "44", "7700900123", graphsim.Registered("111111", ""))
	require.NoError(t, err)

	req := graph.AddPhoneNumberRequest{WABAID: waba, CC: "44", PhoneNumber: "7700900123", VerifiedName: "Moved Ltd"}
	_, err = f.client.AddPhoneNumber(ctx, req)
	requireClass(t, err, graph.ClassPermanent) // 2388091: on another WABA, not migrating

	req.MigratePhoneNumber = true
	_, err = f.client.AddPhoneNumber(ctx, req)
	ge := requireClass(t, err, graph.ClassPermanent)
	require.Equal(t, 2388103, ge.Subcode, "two-step verification still on")

	require.NoError(t, f.sim.DisableTwoStep(src))
	id, err := f.client.AddPhoneNumber(ctx, req)
	require.NoError(t, err)
	require.Equal(t, src, id)

	pre := f.sim.AddPreverifiedNumber("1", "5559876543")
	id, err = f.client.AddPhoneNumber(ctx, graph.AddPhoneNumberRequest{WABAID: waba, CC: "1", PhoneNumber: "5559876543",
		VerifiedName: "Pre Corp", PreverifiedID: pre})
	require.NoError(t, err)
	p, err := f.client.GetPhoneNumber(ctx, id)
	require.NoError(t, err)
	require.Equal(t, graph.CodeVerified, p.CodeVerificationStatus)
	require.NoError(t, f.client.Register(ctx, id, graph.RegisterRequest{PIN: "123456"}))
}

func TestClientErrorClasses(t *testing.T) {
	ctx := context.Background()
	reg := graph.RegisterRequest{PIN: "123456"}

	t.Run("window exhausted", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		id := f.seed(t, "5551230001", graphsim.Verified())
		for range graphsim.WindowLimit {
			require.NoError(t, f.client.Register(ctx, id, reg))
		}
		err := f.client.Register(ctx, id, reg)
		require.True(t, graph.IsWindowExhausted(err), "%v", err)
		requireClass(t, err, graph.ClassWindowExhausted)
		require.NotContains(t, err.Error(), "123456")

		require.NoError(t, f.client.Deregister(ctx, id), "deregister has its own window")
		f.clock.Advance(graphsim.Window - time.Minute)
		requireClass(t, f.client.Register(ctx, id, reg), graph.ClassWindowExhausted)
		f.clock.Advance(time.Minute)
		require.NoError(t, f.client.Register(ctx, id, reg))
	})

	t.Run("throttled", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		id := f.seed(t, "5551230002")
		require.NoError(t, f.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultThrottle, Endpoint: graphsim.EndpointGetPhoneNumber, Times: 1, RetryAfter: 90 * time.Second}))
		_, err := f.client.GetPhoneNumber(ctx, id)
		require.True(t, graph.IsThrottled(err), "%v", err)
		ge := requireClass(t, err, graph.ClassThrottled)
		require.Equal(t, 4, ge.Code)
		require.Equal(t, 90*time.Second, ge.RetryAfter)

		require.NoError(t, f.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultThrottle, Code: 80007, Endpoint: graphsim.EndpointListPhoneNumbers, Times: 1, RetryAfter: 30 * time.Minute}))
		_, err = f.client.ListPhoneNumbers(ctx, waba, graph.ListOptions{})
		ge = requireClass(t, err, graph.ClassThrottled)
		require.Equal(t, 80007, ge.Code)
		require.Equal(t, 30*time.Minute, ge.RetryAfter)

		require.NoError(t, f.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultThrottle, Code: 80008, Endpoint: graphsim.EndpointRegister, Times: 1, RetryAfter: 5 * time.Minute}))
		ge = requireClass(t, f.client.Register(ctx, id, reg), graph.ClassThrottled)
		require.Equal(t, 80008, ge.Code)
		require.Equal(t, 5*time.Minute, ge.RetryAfter)

		require.NoError(t, f.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultStatus, HTTPStatus: http.StatusServiceUnavailable, Times: 1, RetryAfter: 45 * time.Second}))
		_, err = f.client.GetPhoneNumber(ctx, id)
		ge = requireClass(t, err, graph.ClassTransient)
		require.Equal(t, 45*time.Second, ge.RetryAfter, "a 503 page's Retry-After")

		require.NoError(t, f.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultStatus, HTTPStatus: http.StatusTooManyRequests, Times: 1}))
		_, err = f.client.GetPhoneNumber(ctx, id)
		ge = requireClass(t, err, graph.ClassThrottled)
		require.False(t, ge.HasEnvelope)
	})

	t.Run("transient", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		id := f.seed(t, "5551230003", graphsim.Verified())
		for _, fault := range []graphsim.Fault{
			{Kind: graphsim.FaultStatus},
			{Kind: graphsim.FaultStatus, HTTPStatus: http.StatusServiceUnavailable},
			{Kind: graphsim.FaultMalformed},
			{Kind: graphsim.FaultError, Code: 2},
			{Kind: graphsim.FaultError, Code: 131000},
			{Kind: graphsim.FaultError, Code: 133004},
		} {
			fault.Endpoint, fault.Number, fault.Times = graphsim.EndpointRegister, id, 1
			require.NoError(t, f.sim.InjectFault(fault))
			err := f.client.Register(ctx, id, reg)
			require.True(t, graph.IsTransient(err), "%s %d: %v", fault.Kind, fault.Code, err)
			require.NotContains(t, err.Error(), "123456")
		}
		require.Zero(t, f.sim.RegisterCount(id))

		require.NoError(t, f.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultHang, Endpoint: graphsim.EndpointRequestCode, Times: 1}))
		hctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := f.client.RequestCode(hctx, id, graph.CodeMethodSMS, "en_US")
		require.Less(t, time.Since(start), 5*time.Second)
		requireClass(t, err, graph.ClassTransient)
		require.NoError(t, f.client.RequestCode(ctx, id, graph.CodeMethodSMS, "en_US"))
	})

	t.Run("wrong code", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		id := f.seed(t, "5551230004")
		require.NoError(t, f.client.RequestCode(ctx, id, graph.CodeMethodSMS, "en_US"))
		code, _ := f.sim.LastCode(id)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		err := f.client.VerifyCode(ctx, id, wrong)
		require.True(t, graph.IsWrongCode(err), "%v", err)
		f.clock.Advance(graphsim.DefaultCodeTTL)
		err = f.client.VerifyCode(ctx, id, code)
		require.True(t, graph.IsWrongCode(err), "expired: %v", err)
		require.NotContains(t, err.Error(), code)
	})

	t.Run("PIN mismatch", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		id := f.seed(t, "5551230005", graphsim.Registered("111111", ""))
		err := f.client.Register(ctx, id, graph.RegisterRequest{PIN: "222222"})
		require.True(t, graph.IsPINMismatch(err), "%v", err)
		require.NotContains(t, err.Error(), "222222")
	})

	t.Run("name not ready", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{NameReviewDelay: time.Hour})
		id, err := f.client.AddPhoneNumber(ctx, graph.AddPhoneNumberRequest{WABAID: waba, CC: "1", PhoneNumber: "5551230006", VerifiedName: "Slow Name"})
		require.NoError(t, err)
		require.NoError(t, f.client.RequestCode(ctx, id, graph.CodeMethodSMS, "en_US"))
		code, _ := f.sim.LastCode(id)
		require.NoError(t, f.client.VerifyCode(ctx, id, code))
		p, err := f.client.GetPhoneNumber(ctx, id)
		require.NoError(t, err)
		require.Equal(t, graph.NamePendingReview, p.NameStatus)
		err = f.client.Register(ctx, id, reg)
		require.True(t, graph.IsNameNotReady(err), "%v", err)
		f.clock.Advance(time.Hour)
		require.NoError(t, f.client.Register(ctx, id, reg))
	})

	t.Run("needs reverification", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		id := f.seed(t, "5551230007")
		err := f.client.Register(ctx, id, reg)
		require.True(t, graph.IsNeedsReverification(err), "%v", err)
	})

	t.Run("recently deleted", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		id := f.seed(t, "5551230008", graphsim.Verified())
		require.NoError(t, f.sim.DeleteNumber(id))
		err := f.client.Register(ctx, id, reg)
		require.True(t, graph.IsRecentlyDeleted(err), "%v", err)
	})

	t.Run("already exists", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		f.seed(t, "5551230009")
		_, err := f.client.AddPhoneNumber(ctx, graph.AddPhoneNumberRequest{WABAID: waba, CC: "1", PhoneNumber: "5551230009", VerifiedName: "Acme Corp"})
		require.True(t, graph.IsAlreadyExists(err), "%v", err)
	})

	t.Run("permanent", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		id := f.seed(t, "5551230010", graphsim.Registered("123456", "DE"))

		bad, err := graph.New("not-the-token", graph.WithBaseURL(f.srv.URL+"/v21.0"))
		require.NoError(t, err)
		_, err = bad.GetPhoneNumber(ctx, id)
		ge := requireClass(t, err, graph.ClassPermanent)
		require.Equal(t, 190, ge.Code)
		require.Equal(t, http.StatusUnauthorized, ge.HTTPStatus)
		require.NotContains(t, err.Error(), "not-the-token")

		_, err = f.client.GetPhoneNumber(ctx, "424242")
		ge = requireClass(t, err, graph.ClassPermanent)
		require.Equal(t, 100, ge.Code)

		_, err = f.client.ListPhoneNumbers(ctx, "424242", graph.ListOptions{})
		requireClass(t, err, graph.ClassPermanent)

		err = f.client.Register(ctx, id, graph.RegisterRequest{PIN: "123456", DataLocalizationRegion: "CH"})
		ge = requireClass(t, err, graph.ClassPermanent)
		require.Contains(t, ge.Details, "deregister")

		require.NoError(t, f.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultError, Code: 368, Endpoint: graphsim.EndpointSetPIN, Times: 1}))
		err = f.client.SetTwoStepPIN(ctx, id, "999999")
		requireClass(t, err, graph.ClassPermanent)
		require.NotContains(t, err.Error(), "999999")
	})

	t.Run("deregistration incomplete and PIN throttled", func(t *testing.T) {
		f := newFixture(t, graphsim.Options{})
		id := f.seed(t, "5551230011", graphsim.Verified())
		require.NoError(t, f.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultError, Code: 133000, Endpoint: graphsim.EndpointRegister, Times: 1}))
		requireClass(t, f.client.Register(ctx, id, reg), graph.ClassDeregistrationIncomplete)
		require.NoError(t, f.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultError, Code: 133008, Endpoint: graphsim.EndpointRegister, Times: 1}))
		requireClass(t, f.client.Register(ctx, id, reg), graph.ClassPINThrottled)
		require.NoError(t, f.client.Register(ctx, id, reg))
	})
}
