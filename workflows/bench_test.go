package workflows_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/onboarding"
)

func emptyWorkflow(ctx workflow.Context) error { return nil }

// BenchmarkOnboarding measures a whole onboarding of a pre-verified number
// (add, status reads, register, cancel) in the time-skipping environment,
// Graph calls included, against a workflow that does nothing: the ratio is
// the cost of the product's logic over the SDK's fixed cost per run.
func BenchmarkOnboarding(b *testing.B) {
	b.Run("baseline-empty-workflow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h := newHarness(b, graphsim.Options{})
			h.env.RegisterWorkflow(emptyWorkflow)
			h.env.ExecuteWorkflow(emptyWorkflow)
			if err := h.env.GetWorkflowError(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("preverified-onboarding", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h := newHarness(b, graphsim.Options{})
			in := registeredInput(h)
			var st onboarding.Status
			h.at(time.Hour, func() { st = h.status(); h.env.CancelWorkflow() })
			h.env.ExecuteWorkflow(onboarding.WorkflowType, in)
			if st.Stage != onboarding.StageRegistered {
				b.Fatalf("stage %s", st.Stage)
			}
		}
	})
}
