package activities_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/wa-onboarding/onboarding/activities"
	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/onboarding"
)

const (
	token  = "EAAJBtestTokenThatMustNotLeak"
	wabaID = "100000000000001"
)

func setup(t *testing.T) (*testsuite.TestActivityEnvironment, *activities.Activities, *graphsim.Server) {
	t.Helper()
	env, acts, sim, _ := setupGraph(t)
	return env, acts, sim
}

func setupGraph(t *testing.T) (*testsuite.TestActivityEnvironment, *activities.Activities, *graphsim.Server, *graph.Client) {
	t.Helper()
	sim := graphsim.New(graphsim.Options{Token: token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	sim.CreateWABA(wabaID)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	g, err := graph.New(token, graph.WithBaseURL(srv.URL+"/v21.0"))
	require.NoError(t, err)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := activities.New(g, testOpener)
	env.RegisterActivity(acts)
	return env, acts, sim, g
}

func appError(t *testing.T, err error) (*temporal.ApplicationError, onboarding.GraphError) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an application error, got %T %v", err, err)
	var ge onboarding.GraphError
	require.NoError(t, appErr.Details(&ge))
	require.NotContains(t, appErr.Error(), token)
	return appErr, ge
}

func TestAddPhoneNumberAdoptsANumberAlreadyOnTheWABA(t *testing.T) {
	env, acts, sim := setup(t)
	id, err := sim.SeedNumber(wabaID, "1", "5551234567")
	require.NoError(t, err)
	v, err := env.ExecuteActivity(acts.AddPhoneNumber, activities.AddNumberInput{
		WABAID: wabaID, CountryCode: "1", PhoneNumber: "5551234567", DisplayName: "Acme Support",
	})
	require.NoError(t, err)
	var res activities.AddNumberResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, activities.AddNumberResult{PhoneNumberID: id, Adopted: true}, res)
}

func TestErrorsAreTypedByClass(t *testing.T) {
	tests := []struct {
		name      string
		fault     graphsim.Fault
		wantType  string
		retryable bool
		code      int
		benign    bool
	}{
		{"window exhausted", graphsim.Fault{Kind: graphsim.FaultError, HTTPStatus: 400, Code: 133016}, "window_exhausted", false, 133016, false},
		{"pin mismatch", graphsim.Fault{Kind: graphsim.FaultError, HTTPStatus: 400, Code: 133005}, "pin_mismatch", false, 133005, false},
		{"name not ready", graphsim.Fault{Kind: graphsim.FaultError, HTTPStatus: 400, Code: 100, Subcode: 2388001}, "name_not_ready", false, 100, true},
		{"bad token", graphsim.Fault{Kind: graphsim.FaultError, HTTPStatus: 401, Code: 190}, "permanent", false, 190, false},
		// A proxy's 503 page may hide a call Meta carried out.
		{"server error", graphsim.Fault{Kind: graphsim.FaultStatus, HTTPStatus: 503}, activities.ErrOutcomeUnknown, true, 0, false},
		{"throttled", graphsim.Fault{Kind: graphsim.FaultThrottle, HTTPStatus: 429, Code: 80007, RetryAfter: 90 * time.Second}, "throttled", true, 80007, true},
		{"transient envelope", graphsim.Fault{Kind: graphsim.FaultError, HTTPStatus: 400, Code: 131000}, "transient", true, 131000, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, acts, sim := setup(t)
			id, err := sim.SeedNumber(wabaID, "1", "5551234567", graphsim.Verified())
			require.NoError(t, err)
			tc.fault.Endpoint = graphsim.EndpointRegister
			tc.fault.Times = 1
			require.NoError(t, sim.InjectFault(tc.fault))
			_, err = env.ExecuteActivity(acts.Register, activities.RegisterInput{PhoneNumberID: id, PIN: "012345"})
			appErr, ge := appError(t, err)
			require.Equal(t, tc.wantType, appErr.Type())
			require.Equal(t, !tc.retryable, appErr.NonRetryable())
			require.Equal(t, tc.code, ge.Code)
			require.Equal(t, "register", ge.Op)
			require.Equal(t, tc.wantType == activities.ErrOutcomeUnknown, ge.OutcomeUnknown)
			if tc.wantType == activities.ErrOutcomeUnknown {
				require.Equal(t, "transient", ge.Class, "the details keep the class")
			}
			require.Equal(t, tc.benign, appErr.Category() == temporal.ApplicationErrorCategoryBenign,
				"expected answers are benign, so the SDK does not log them at ERROR")
			require.NotContains(t, appErr.Error(), "012345", "the PIN never reaches an error")
			if tc.wantType == "throttled" {
				require.GreaterOrEqual(t, appErr.NextRetryDelay(), 90*time.Second, "the activity waits as long as Meta asks")
				require.Equal(t, int64(120), ge.RetryAfterSeconds, "80007's hint is whole minutes, carried to the workflow")
			}
		})
	}
}

func TestInvalidInputIsNotRetried(t *testing.T) {
	env, acts, _ := setup(t)
	_, err := env.ExecuteActivity(acts.Register, activities.RegisterInput{PhoneNumberID: "123", PIN: "12345"})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.True(t, appErr.NonRetryable())
	require.NotContains(t, appErr.Error(), "12345")
}

func TestWrongCodeIsBenign(t *testing.T) {
	env, acts, sim := setup(t)
	id, err := sim.SeedNumber(wabaID, "1", "5551234567")
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.VerifyCode, activities.VerifyCodeInput{PhoneNumberID: id, Code: "123456"})
	appErr, ge := appError(t, err)
	require.Equal(t, "wrong_code", appErr.Type())
	require.Equal(t, 136025, ge.Code)
	require.Equal(t, temporal.ApplicationErrorCategoryBenign, appErr.Category())
}

func TestRefusedConnectionIsKnownNotToHaveReachedMeta(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close() // nothing listens there any more
	g, err := graph.New(token, graph.WithBaseURL(url+"/v21.0"))
	require.NoError(t, err)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := activities.New(g, testOpener)
	env.RegisterActivity(acts)
	_, err = env.ExecuteActivity(acts.RequestCode, activities.RequestCodeInput{PhoneNumberID: "106540352242923", Method: "SMS", Language: "en_US"})
	appErr, ge := appError(t, err)
	require.Equal(t, "transient", appErr.Type(), "a refused connection is retried even for request_code")
	require.False(t, ge.OutcomeUnknown)
}

func TestRegisterSendsTheBackup(t *testing.T) {
	env, acts, sim := setup(t)
	id, err := sim.SeedNumber(wabaID, "1", "5551234567", graphsim.Verified())
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.Register, activities.RegisterInput{PhoneNumberID: id, PIN: "012345",
		Backup: &onboarding.Backup{Data: "QkFDS1VQ", Password: "s3cret-backup"}})
	require.NoError(t, err)
	calls := sim.Calls()
	last := calls[len(calls)-1]
	require.Equal(t, graphsim.EndpointRegister, last.Endpoint)
	// The simulator refuses a backup without both parts and masks both.
	require.Equal(t, "******", last.Params["backup.data"])
	require.Equal(t, "******", last.Params["backup.password"])
	require.NotContains(t, fmt.Sprint(last.Params), "s3cret-backup")
}

func TestAdoptionSearchResumesFromTheHeartbeatedCursor(t *testing.T) {
	env, acts, sim, g := setupGraph(t)
	// 250 numbers before the one to adopt: three pages of 100.
	for i := range 250 {
		_, err := sim.SeedNumber(wabaID, "1", fmt.Sprintf("555%07d", 1000000+i))
		require.NoError(t, err)
	}
	id, err := sim.SeedNumber(wabaID, "1", "5551234567")
	require.NoError(t, err)
	in := activities.AddNumberInput{WABAID: wabaID, CountryCode: "1", PhoneNumber: "5551234567", DisplayName: "Acme Support"}
	lists := func() int {
		n := 0
		for _, c := range sim.Calls() {
			if c.Endpoint == graphsim.EndpointListPhoneNumbers {
				n++
			}
		}
		return n
	}

	var first string
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		require.NoError(t, details.Get(&first))
	})
	v, err := env.ExecuteActivity(acts.AddPhoneNumber, in)
	require.NoError(t, err)
	var res activities.AddNumberResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, activities.AddNumberResult{PhoneNumberID: id, Adopted: true}, res)
	require.Equal(t, 3, lists(), "the search stops at the page that holds the number")
	require.Empty(t, first, "the search heartbeats before its first page")

	// A retry whose last heartbeat named the cursor after the second page
	// reads one page, not three.
	cursor := ""
	for range 2 {
		page, err := g.ListPhoneNumbers(t.Context(), wabaID, graph.ListOptions{Limit: graph.MaxListLimit, After: cursor, Fields: []string{"id"}})
		require.NoError(t, err)
		cursor = page.Paging.Cursors.After
	}
	before := lists()
	env.SetHeartbeatDetails(cursor)
	v, err = env.ExecuteActivity(acts.AddPhoneNumber, in)
	require.NoError(t, err)
	require.NoError(t, v.Get(&res))
	require.Equal(t, id, res.PhoneNumberID)
	require.Equal(t, 1, lists()-before, "the resumed search reads one page, not three")
}

// With ReadAfter, a code Meta accepted comes back with the number's state,
// read after the verify: the workflow's display-name gate takes it.
func TestVerifyCodeReadsTheNumberAfterAcceptance(t *testing.T) {
	env, acts, sim := setup(t)
	id, err := sim.SeedNumber(wabaID, "1", "5551234567")
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.RequestCode, activities.RequestCodeInput{PhoneNumberID: id, Method: "SMS", Language: "en_US"})
	require.NoError(t, err)
	code, ok := sim.LastCode(id)
	require.True(t, ok)
	v, err := env.ExecuteActivity(acts.VerifyCode, activities.VerifyCodeInput{PhoneNumberID: id, Code: code, ReadAfter: true})
	require.NoError(t, err)
	var st activities.NumberState
	require.NoError(t, v.Get(&st))
	require.Equal(t, graph.CodeVerified, st.CodeVerificationStatus)
	require.NotEmpty(t, st.NameStatus)
}
