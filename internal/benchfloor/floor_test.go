package benchfloor

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/wa-onboarding/onboarding/onboarding"
)

type updateCallbacks struct {
	t        *testing.T
	accepted bool
	result   onboarding.CodeResult
}

func (u *updateCallbacks) Accept()          { u.accepted = true }
func (u *updateCallbacks) Reject(err error) { u.t.Errorf("update rejected: %v", err) }
func (u *updateCallbacks) Complete(res any, err error) {
	require.NoError(u.t, err)
	u.result = res.(onboarding.CodeResult)
}

// The floor runs its four steps through the registrations the worker uses
// and ends once the code has come by update.
func TestFloorRegistersAfterTheCode(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req CodeRequest
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		asked = append(asked, req.Number)
	}))
	defer srv.Close()
	Register(env, &Activities{CodeURL: srv.URL})
	var steps []string
	env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, _ error) {
		steps = append(steps, info.ActivityType.Name)
	})
	u := &updateCallbacks{t: t}
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, []string{"BenchFloorAdd", "BenchFloorRequestCode"}, steps, "the floor waits for the code after asking for it")
		assert.Equal(t, []string{"+15550000001"}, asked, "the request-code step tells the driver the number")
		env.UpdateWorkflow(onboarding.UpdateSubmitCode, "1", u, onboarding.CodeInput{Code: "123456"})
	}, time.Hour)
	env.ExecuteWorkflow(WorkflowType, Input{Number: "+15550000001", PIN: "024680"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res Result
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.False(t, res.RegisteredAt.IsZero())
	assert.Equal(t, []string{"BenchFloorAdd", "BenchFloorRequestCode", "BenchFloorVerifyCode", "BenchFloorRegister"}, steps)
	assert.True(t, u.accepted)
	assert.True(t, u.result.Accepted)
}

// A driver that cannot take the code request fails the step: the benchmark
// would otherwise wait for a code that never comes.
func TestFloorRequestCodeFailsWhenTheDriverRefuses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer srv.Close()
	a := &Activities{CodeURL: srv.URL}
	err := a.RequestCode(t.Context(), "+15550000001")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "418")
	assert.NoError(t, (&Activities{}).RequestCode(t.Context(), "+15550000001"), "no CodeURL: a no-op")
}
