package workflows_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// stageCapture records every WhatsAppStage value the run upserts, in order.
type stageCapture struct {
	mu     sync.Mutex
	stages []onboarding.Stage
}

func (c *stageCapture) watch(h *harness) {
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		if v, ok := sa.GetKeyword(onboarding.SearchAttributeStage); ok {
			c.mu.Lock()
			c.stages = append(c.stages, onboarding.Stage(v))
			c.mu.Unlock()
		}
	})
}

// A happy path upserts only the stages a run rests in: the visibility
// writes of adding, verifying and registering, which no list could ever
// show, are not made.
func TestStageSearchAttributeHoldsRestingStagesOnly(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var sa stageCapture
	sa.watch(h)
	h.at(time.Minute, func() { h.sendCode(h.sentCode()) })
	h.at(time.Hour, func() { h.env.CancelWorkflow() })
	h.run(input())
	h.requireCancelled()

	require.Equal(t, []onboarding.Stage{onboarding.StageAwaitingCode, onboarding.StageRegistered, onboarding.StageCancelled}, sa.stages)
	for _, s := range sa.stages {
		require.False(t, s.Working(), "%s is a working stage", s)
	}
}

// A working step that has to wait rests in a stage of its own, and that one
// is upserted: a throttled register shows as rate_limited in a list.
func TestStageSearchAttributeShowsAThrottledRegister(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var sa stageCapture
	sa.watch(h)
	require.NoError(t, h.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultThrottle, Endpoint: graphsim.EndpointRegister,
		Times: 1, Code: 80007, RetryAfter: time.Hour}))
	h.at(3*time.Hour, func() { h.env.CancelWorkflow() })
	h.run(registeredInput(h))
	h.requireCancelled()

	require.Equal(t, []onboarding.Stage{onboarding.StageRateLimited, onboarding.StageRegistered, onboarding.StageCancelled}, sa.stages)
}
