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

// stageCapture records every WhatsAppStage value the run upserts, in order,
// and the stage the phone-number ID was upserted with.
type stageCapture struct {
	mu      sync.Mutex
	stages  []onboarding.Stage
	upserts int
	idWith  onboarding.Stage
}

func (c *stageCapture) watch(h *harness) {
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.upserts++
		v, ok := sa.GetKeyword(onboarding.SearchAttributeStage)
		if ok {
			c.stages = append(c.stages, onboarding.Stage(v))
		}
		if _, id := sa.GetKeyword(onboarding.SearchAttributePhoneNumberID); id {
			c.idWith = onboarding.Stage(v)
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
	require.Equal(t, onboarding.StageAwaitingCode, sa.idWith, "the phone-number ID goes out with the first stage the run rests in")
	require.Equal(t, 3, sa.upserts, "one upsert per rest, none for the working steps")
	for _, s := range sa.stages {
		require.False(t, s.Working(), "%s is a working stage", s)
	}
}

// A run that never waits on its way to registered (its number was verified
// before) writes its attributes once, when it rests registered: the
// phone-number ID and the stage in one upsert.
func TestStageSearchAttributeOfARunThatNeverWaits(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	var sa stageCapture
	sa.watch(h)
	var registered onboarding.Status
	h.at(time.Hour, func() { registered = h.status(); h.env.CancelWorkflow() })
	h.run(registeredInput(h))
	h.requireCancelled()

	require.Equal(t, onboarding.StageRegistered, registered.Stage)
	require.Equal(t, []onboarding.Stage{onboarding.StageRegistered, onboarding.StageCancelled}, sa.stages)
	require.Equal(t, onboarding.StageRegistered, sa.idWith)
	require.Equal(t, 2, sa.upserts)
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
