// Package benchfloor is the floor of the end-to-end benchmark (make
// bench-e2e): a workflow of the onboarding's shape with none of the
// product in it. It adds a number, asks for a code, waits for the code by
// update, verifies it and registers, each step a no-op activity, and ends.
//
// As in the product, the code exists only once it was asked for: the
// RequestCode step tells the benchmark's driver (CodeURL), which then
// submits the code, the way the Graph simulator's sent code reaches the
// driver in the product's series. A code submitted at the start instead
// would ride along with workflow tasks the run has anyway, a shortcut no
// real onboarding can take.
//
// The product's throughput is reported as a ratio to this workflow's, run by
// the same worker process with the same options, so the ratio is what the
// product's own logic (Graph calls, stages, search attributes, summaries,
// the ledger) costs over Temporal's fixed cost of that shape.
package benchfloor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// WorkflowType is the floor's registered name. It is the benchmark's own,
// not part of the onboarding contract.
const WorkflowType = "BenchFloorOnboarding"

// activityPrefix keeps the floor's activity names apart from the product's.
const activityPrefix = "BenchFloor"

// Input carries what the product's input carries that travels through every
// step: the number and a PIN (encrypted by the payload codec like the
// product's).
type Input struct {
	Number string `json:"number"`
	PIN    string `json:"pin"`
}

// Result is when the floor's register step was done, in workflow time: the
// same instant the product records as Status.RegisteredAt.
type Result struct {
	RegisteredAt time.Time `json:"registered_at"`
}

// CodeRequest is what RequestCode posts to Activities.CodeURL.
type CodeRequest struct {
	Number string `json:"number"`
}

// Activities are the floor's steps; all but RequestCode are no-ops.
type Activities struct {
	// CodeURL, when set, is told of every code request (a POST of a
	// CodeRequest), as Meta's SMS would reach a person.
	CodeURL string
	// HTTP posts to CodeURL; nil means a client with the product's Graph
	// transport (graph.NewTransport), so that the floor pays no
	// handshakes the product does not.
	HTTP *http.Client
}

var defaultHTTP = &http.Client{Timeout: time.Minute, Transport: graph.NewTransport()}

// Add stands for adding the number to the WABA.
func (*Activities) Add(_ context.Context, in Input) (string, error) { return in.Number, nil }

// RequestCode stands for asking Meta to send a code: it tells CodeURL.
func (a *Activities) RequestCode(ctx context.Context, number string) error {
	if a.CodeURL == "" {
		return nil
	}
	body, err := json.Marshal(CodeRequest{Number: number})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.CodeURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := a.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("code request to %s: %s", a.CodeURL, resp.Status)
	}
	return nil
}

// VerifyCode stands for checking the code with Meta.
func (*Activities) VerifyCode(context.Context, string, string) error { return nil }

// Register stands for registering the number.
func (*Activities) Register(context.Context, string, string) error { return nil }

// Registry is what Register needs of a worker; a test environment has it
// too.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

var _ Registry = worker.Worker(nil)

// Register registers the floor workflow and a's activities on w.
func Register(w Registry, a *Activities) {
	w.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowType})
	w.RegisterActivityWithOptions(a, activity.RegisterOptions{Name: activityPrefix})
}

// Workflow is the floor. The code comes by the product's submit-code update,
// whose answer waits for the verify step, as the product's does.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	var code string
	verified := false
	if err := workflow.SetUpdateHandler(ctx, onboarding.UpdateSubmitCode,
		func(ctx workflow.Context, c onboarding.CodeInput) (onboarding.CodeResult, error) {
			code = c.Code
			if err := workflow.Await(ctx, func() bool { return verified }); err != nil {
				return onboarding.CodeResult{}, err
			}
			return onboarding.CodeResult{Accepted: true}, nil
		}); err != nil {
		return Result{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var id string
	if err := workflow.ExecuteActivity(ctx, activityPrefix+"Add", in).Get(ctx, &id); err != nil {
		return Result{}, err
	}
	if err := workflow.ExecuteActivity(ctx, activityPrefix+"RequestCode", id).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	if err := workflow.Await(ctx, func() bool { return code != "" }); err != nil {
		return Result{}, err
	}
	if err := workflow.ExecuteActivity(ctx, activityPrefix+"VerifyCode", id, code).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	verified = true
	if err := workflow.ExecuteActivity(ctx, activityPrefix+"Register", id, in.PIN).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	return Result{RegisteredAt: workflow.Now(ctx)}, nil
}
