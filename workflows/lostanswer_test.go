package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Meta adds the number and the answer is lost (dropped, or a proxy's 502):
// the retry meets 100/2388012 and the run adopts the number Meta added. One
// number, one ID, and the onboarding goes on to registered.
func TestAddWhoseAnswerWasLostAdoptsTheNumber(t *testing.T) {
	for _, answer := range []string{graphsim.AnswerDrop, graphsim.AnswerStatus} {
		t.Run(answer, func(t *testing.T) {
			h := newHarness(t, graphsim.Options{})
			h.lose(graphsim.EndpointAddPhoneNumber, answer)
			h.at(time.Minute, func() { h.sendCode(h.sentCode()) })
			var st onboarding.Status
			h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
			h.run(input())

			adds := h.calls(graphsim.EndpointAddPhoneNumber)
			require.Len(t, adds, 2, "the lost add and its retry")
			require.Equal(t, onboarding.StageRegistered, st.Stage)
			page, err := h.g.ListPhoneNumbers(t.Context(), wabaID, graph.ListOptions{})
			require.NoError(t, err)
			ids := 0
			for _, n := range page.Data {
				if n.ID == st.PhoneNumberID {
					ids++
				}
			}
			require.Equal(t, 1, ids, "the run owns the number Meta added")
			require.Len(t, page.Data, 1, "no second number was added")
			require.Len(t, h.calls(graphsim.EndpointRequestCode), 1)
		})
	}
}

// A status read whose answer is lost is read again: reads change nothing.
func TestReadWhoseAnswerWasLostIsReadAgain(t *testing.T) {
	h := newHarness(t, graphsim.Options{})
	in := registeredInput(h)
	h.lose(graphsim.EndpointGetPhoneNumber, graphsim.AnswerDrop)
	var st onboarding.Status
	h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
	h.run(in)
	require.Equal(t, onboarding.StageRegistered, st.Stage)
	require.GreaterOrEqual(t, len(h.calls(graphsim.EndpointGetPhoneNumber)), 2)
	require.Len(t, h.calls(graphsim.EndpointRegister), 1)
}
