package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uber-go/tally/v4"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/metrics"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// newMeteredHarness is newHarness with the workflow's and the Graph
// client's metrics recorded in a tally test scope.
func newMeteredHarness(t *testing.T, opts graphsim.Options) (*harness, tally.TestScope) {
	t.Helper()
	scope := tally.NewTestScope("", nil)
	handler := sdktally.NewMetricsHandler(scope)
	return newHarnessMetered(t, handler, opts, graph.WithCallObserver(metrics.GraphObserver(handler))), scope
}

// counter sums the counters named name whose tags include tags.
func counter(s tally.TestScope, name string, tags map[string]string) int64 {
	var n int64
	for _, c := range s.Snapshot().Counters() {
		if c.Name() == name && hasTags(c.Tags(), tags) {
			n += c.Value()
		}
	}
	return n
}

func timerValues(s tally.TestScope, name string) []time.Duration {
	var out []time.Duration
	for _, tm := range s.Snapshot().Timers() {
		if tm.Name() == name {
			out = append(out, tm.Values()...)
		}
	}
	return out
}

func hasTags(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func TestMetricsOfAnOnboarding(t *testing.T) {
	h, scope := newMeteredHarness(t, graphsim.Options{})
	var codeRes *outcome[onboarding.CodeResult]
	var registered onboarding.Status
	h.at(10*time.Minute, func() { codeRes = h.sendCode(h.sentCode()) })
	h.at(time.Hour, func() { registered = h.status(); h.env.CancelWorkflow() })
	start := h.env.Now()
	h.run(input())
	h.requireCancelled()
	require.True(t, codeRes.value.Accepted)
	require.Equal(t, onboarding.StageRegistered, registered.Stage)

	require.EqualValues(t, 1, counter(scope, metrics.Started, nil))
	require.EqualValues(t, 1, counter(scope, metrics.Registered, nil))
	took := timerValues(scope, metrics.TimeToRegistered)
	require.Len(t, took, 1)
	require.Equal(t, registered.RegisteredAt.Sub(start), took[0], "from the run's start to its registration, on the workflow clock")
	require.GreaterOrEqual(t, took[0], 10*time.Minute, "the code came after ten minutes")
	for _, stage := range []onboarding.Stage{onboarding.StageAdding, onboarding.StageAwaitingCode, onboarding.StageVerifying,
		onboarding.StageRegistering, onboarding.StageRegistered, onboarding.StageCancelled} {
		require.EqualValues(t, 1, counter(scope, metrics.StageEntered, map[string]string{metrics.TagStage: string(stage)}), stage)
	}
	require.EqualValues(t, 1, counter(scope, metrics.BudgetSpent, map[string]string{metrics.TagCall: "register"}))
	require.Zero(t, counter(scope, metrics.BudgetReturned, nil))
	require.Zero(t, counter(scope, metrics.NeedsAttention, nil))
	// One counted request per call the simulator saw, by endpoint.
	for _, c := range h.sim.Calls() {
		require.Positive(t, counter(scope, metrics.GraphCalls, map[string]string{
			metrics.TagEndpoint: c.Endpoint, metrics.TagOutcome: metrics.OutcomeOK, metrics.TagCode: metrics.CodeNone}), c.Endpoint)
	}
	require.EqualValues(t, len(h.sim.Calls()), counter(scope, metrics.GraphCalls, nil))
}

func TestMetricsOfThrottlesLocksAndFixes(t *testing.T) {
	h, scope := newMeteredHarness(t, graphsim.Options{})
	in := registeredInput(h)
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultThrottle, Endpoint: graphsim.EndpointRegister,
		Times: 3, Code: 80007, RetryAfter: time.Hour}))
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultError, Endpoint: graphsim.EndpointGetPhoneNumber,
		Times: 1, HTTPStatus: 403, Code: 200, Message: "Permissions error"}))
	h.at(30*time.Minute, func() { update[onboarding.Status](h, onboarding.UpdateFixInput, onboarding.FixInput{}) })
	var done onboarding.Status
	h.at(10*time.Hour, func() { done = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageRegistered, done.Stage)

	reg := map[string]string{metrics.TagCall: "register"}
	require.EqualValues(t, 3, counter(scope, metrics.ThrottleWaits, map[string]string{metrics.TagEndpoint: graph.OpRegister}))
	require.EqualValues(t, 4, counter(scope, metrics.BudgetSpent, reg), "three throttled calls and the one Meta took")
	require.EqualValues(t, 3, counter(scope, metrics.BudgetReturned, reg), "a throttled call gives its entry back")
	require.EqualValues(t, 1, counter(scope, metrics.NeedsAttention, nil))
	require.EqualValues(t, 1, counter(scope, metrics.StageEntered, map[string]string{metrics.TagStage: string(onboarding.StageNeedsAttention)}))
	require.EqualValues(t, 3, counter(scope, metrics.GraphCalls, map[string]string{
		metrics.TagEndpoint: graph.OpRegister, metrics.TagOutcome: "throttled", metrics.TagCode: "80007"}))
	require.EqualValues(t, 1, counter(scope, metrics.GraphCalls, map[string]string{
		metrics.TagEndpoint: graph.OpGetPhoneNumber, metrics.TagOutcome: "permanent", metrics.TagCode: "200"}))
	require.Zero(t, counter(scope, metrics.MetaLocks, nil))
}

func TestMetricsOfAMetaLock(t *testing.T) {
	h, scope := newMeteredHarness(t, graphsim.Options{})
	id, err := h.sim.SeedNumber(wabaID, cc, national, graphsim.Verified())
	require.NoError(t, err)
	for range 11 { // spent outside this worker
		_ = h.g.Register(t.Context(), id, graph.RegisterRequest{PIN: pin})
	}
	// h.g reports to the scope too: count from here.
	locked := map[string]string{metrics.TagEndpoint: graph.OpRegister, metrics.TagOutcome: "window_exhausted", metrics.TagCode: "133016"}
	before := counter(scope, metrics.GraphCalls, map[string]string{metrics.TagEndpoint: graph.OpRegister})
	lockedBefore := counter(scope, metrics.GraphCalls, locked)
	h.at(80*time.Hour, func() { h.env.CancelWorkflow() })
	h.run(input())
	require.EqualValues(t, 1, counter(scope, metrics.MetaLocks, map[string]string{metrics.TagCall: "register"}))
	require.EqualValues(t, 2, counter(scope, metrics.BudgetSpent, map[string]string{metrics.TagCall: "register"}),
		"the refused call and the one after the lock")
	require.Positive(t, counter(scope, metrics.StageEntered, map[string]string{metrics.TagStage: string(onboarding.StageRateLimited)}))
	require.EqualValues(t, lockedBefore+1, counter(scope, metrics.GraphCalls, locked))
	require.EqualValues(t, before+2, counter(scope, metrics.GraphCalls, map[string]string{metrics.TagEndpoint: graph.OpRegister}))
	require.EqualValues(t, 1, counter(scope, metrics.Registered, nil))
}
