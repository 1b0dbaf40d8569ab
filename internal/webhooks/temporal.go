package webhooks

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// TemporalClient is the part of client.Client that TemporalMessenger uses.
type TemporalClient interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
}

var _ TemporalClient = client.Client(nil)

// TemporalMessenger signals the runs through a Temporal client, whose data
// converter must be the worker's (codec.ClientOptions).
type TemporalMessenger struct {
	Client    TemporalClient
	Namespace string // onboarding.DefaultNamespace when empty
}

// NameUpdate signals the number's current run.
func (m TemporalMessenger) NameUpdate(ctx context.Context, workflowID string, in onboarding.NameUpdateInput) error {
	err := m.Client.SignalWorkflow(ctx, workflowID, "", onboarding.SignalNameUpdate, in)
	if isNotFound(err) {
		return fmt.Errorf("%s: %w", workflowID, ErrNoRun)
	}
	return err
}

// WABAUpdate signals every open run whose WhatsAppWABAID is wabaID. Runs are
// found through visibility, which lags a second or so behind a start: a run
// started in that second misses the event, and learns of the WABA's state on
// its first failing Graph call instead.
func (m TemporalMessenger) WABAUpdate(ctx context.Context, wabaID string, in onboarding.WABAUpdateInput) (int, error) {
	if !isID(wabaID) {
		// Never put anything but digits into the query.
		return 0, fmt.Errorf("webhooks: WABA ID %q is not numeric", wabaID)
	}
	ns := m.Namespace
	if ns == "" {
		ns = onboarding.DefaultNamespace
	}
	query := fmt.Sprintf("WorkflowType = '%s' AND %s = '%s' AND ExecutionStatus = 'Running'",
		onboarding.WorkflowType, onboarding.SearchAttributeWABAID.GetName(), wabaID)
	var (
		ids   []string
		seen  = map[string]bool{}
		token []byte
	)
	for {
		resp, err := m.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: ns, Query: query, NextPageToken: token,
		})
		if err != nil {
			return 0, fmt.Errorf("list runs of WABA %s: %w", wabaID, err)
		}
		for _, info := range resp.GetExecutions() {
			if id := info.GetExecution().GetWorkflowId(); !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	reached := 0
	var errs []error
	for _, id := range ids {
		err := m.Client.SignalWorkflow(ctx, id, "", onboarding.SignalWABAUpdate, in)
		switch {
		case err == nil:
			reached++
		case isNotFound(err):
			// Closed since the list: nothing left to tell.
		default:
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
	}
	return reached, errors.Join(errs...)
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
