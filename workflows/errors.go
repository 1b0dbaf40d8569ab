package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Error classes as they travel in application-error types (graph.Class
// names), plus the two the workflow itself gives.
var (
	classWindowExhausted          = graph.ClassWindowExhausted.String()
	classThrottled                = graph.ClassThrottled.String()
	classTransient                = graph.ClassTransient.String()
	classWrongCode                = graph.ClassWrongCode.String()
	classPINMismatch              = graph.ClassPINMismatch.String()
	classNameNotReady             = graph.ClassNameNotReady.String()
	classNeedsReverification      = graph.ClassNeedsReverification.String()
	classRecentlyDeleted          = graph.ClassRecentlyDeleted.String()
	classDeregistrationIncomplete = graph.ClassDeregistrationIncomplete.String()
	classPINThrottled             = graph.ClassPINThrottled.String()
	classUnknownObject            = graph.ClassUnknownObject.String()
)

const classCanceled = "canceled"

// classify reads an activity failure: the class decides what the workflow
// does, the GraphError is what the status shows.
func classify(ctx workflow.Context, op string, err error) (string, *onboarding.GraphError) {
	if ctx.Err() != nil || temporal.IsCanceledError(err) {
		return classCanceled, nil
	}
	now := workflow.Now(ctx)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		var ge onboarding.GraphError
		if !appErr.HasDetails() || appErr.Details(&ge) != nil || ge.Class == "" {
			ge = onboarding.GraphError{Op: op, Class: appErr.Type(), Message: appErr.Message()}
		}
		ge.At = now
		// The class is in the details: an activity types a lost answer
		// outcome_unknown (for retry policies) with class transient.
		return ge.Class, &ge
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		// The call may have reached Meta before the activity gave up.
		return classTransient, &onboarding.GraphError{Op: op, Class: classTransient, Message: "activity timed out: " + timeoutErr.Error(), At: now, OutcomeUnknown: true}
	}
	return "unknown", &onboarding.GraphError{Op: op, Class: "unknown", Message: err.Error(), At: now}
}

func describe(ge *onboarding.GraphError) string {
	if ge == nil {
		return ""
	}
	if ge.Code != 0 {
		return fmt.Sprintf("%s: Meta error %d (%s): %s", ge.Op, ge.Code, ge.Class, ge.Message)
	}
	return fmt.Sprintf("%s: %s (%s)", ge.Op, ge.Message, ge.Class)
}
