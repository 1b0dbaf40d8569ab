package httpapi_test

import (
	"context"
	"sync"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// fakeTemporal stands in for a Temporal client: it records what the
// onboarding.Client sends and answers as told.
type fakeTemporal struct {
	client.Client

	mu         sync.Mutex
	startErr   error
	startArgs  []any
	updateErr  error // UpdateWorkflow: the run refused, or Temporal failed
	getErr     error // the update's result
	getBlocks  bool  // the result never comes: the wait runs out
	result     any   // the update's result value
	updates    []client.UpdateWorkflowOptions
	signalErr  error
	signals    map[string]any
	queryErr   error
	status     onboarding.Status
	cancelErr  error
	cancels    int
	describeEr error
	list       []*workflowpb.WorkflowExecutionInfo
	listQuery  string
	healthErr  error
	health     int
}

func newFake() *fakeTemporal {
	return &fakeTemporal{signals: map[string]any{}, status: onboarding.Status{
		WorkflowID: "whatsapp-number-+15551234567", Number: "+15551234567", WABAID: "100000000000001",
		Stage: onboarding.StageAwaitingCode, WindowLimit: 10,
	}}
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.startArgs = append(f.startArgs, args...)
	if f.startErr != nil {
		return nil, f.startErr
	}
	return fakeRun{id: o.ID}, nil
}

type fakeRun struct {
	client.WorkflowRun
	id string
}

func (r fakeRun) GetID() string    { return r.id }
func (r fakeRun) GetRunID() string { return "run-1" }

func (f *fakeTemporal) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if f.describeEr != nil {
		return nil, f.describeEr
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "run-1"},
	}}, nil
}

func (f *fakeTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, o)
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return fakeHandle{f}, nil
}

type fakeHandle struct{ f *fakeTemporal }

func (fakeHandle) WorkflowID() string { return "w" }
func (fakeHandle) RunID() string      { return "run-1" }
func (fakeHandle) UpdateID() string   { return "u" }
func (h fakeHandle) Get(ctx context.Context, v any) error {
	if h.f.getBlocks {
		<-ctx.Done()
		return ctx.Err()
	}
	if h.f.getErr != nil {
		return h.f.getErr
	}
	if h.f.result != nil && v != nil {
		p, err := converter.GetDefaultDataConverter().ToPayload(h.f.result)
		if err != nil {
			return err
		}
		return converter.GetDefaultDataConverter().FromPayload(p, v)
	}
	return nil
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, _, _, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.signalErr != nil {
		return f.signalErr
	}
	f.signals[name] = arg
	return nil
}

func (f *fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(f.status)
	if err != nil {
		return nil, err
	}
	return encoded{p}, nil
}

type encoded struct{ p *commonpb.Payload }

func (encoded) HasValue() bool { return true }
func (e encoded) Get(v any) error {
	return converter.GetDefaultDataConverter().FromPayload(e.p, v)
}

func (f *fakeTemporal) CancelWorkflow(context.Context, string, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels++
	return f.cancelErr
}

func (f *fakeTemporal) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listQuery = req.GetQuery()
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: f.list}, nil
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.health++
	return &client.CheckHealthResponse{}, f.healthErr
}
