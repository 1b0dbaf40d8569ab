package webhooks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/wa-onboarding/onboarding/onboarding"
)

type signal struct {
	workflowID, runID, name string
	arg                     any
}

// fakeTemporal serves pages of workflow IDs and answers signals from errs.
type fakeTemporal struct {
	pages   [][]string
	queries []string
	signals []signal
	errs    map[string]error
	listErr error
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, id, runID, name string, arg any) error {
	if err := f.errs[id]; err != nil {
		return err
	}
	f.signals = append(f.signals, signal{id, runID, name, arg})
	return nil
}

func (f *fakeTemporal) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.queries = append(f.queries, req.GetNamespace()+"|"+req.GetQuery())
	if f.listErr != nil {
		return nil, f.listErr
	}
	page := 0
	if len(req.GetNextPageToken()) > 0 {
		page = int(req.GetNextPageToken()[0])
	}
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	for _, id := range f.pages[page] {
		resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "run-" + id}})
	}
	if page+1 < len(f.pages) {
		resp.NextPageToken = []byte{byte(page + 1)}
	}
	return resp, nil
}

func TestTemporalMessengerNameUpdate(t *testing.T) {
	f := &fakeTemporal{errs: map[string]error{
		"whatsapp-number-+15550000009": serviceerror.NewNotFound("workflow execution already completed"),
		"whatsapp-number-+15550000008": serviceerror.NewUnavailable("connection refused"),
	}}
	m := TemporalMessenger{Client: f}
	in := onboarding.NameUpdateInput{Decision: "APPROVED", EventTime: time.Unix(5, 0)}
	if err := m.NameUpdate(context.Background(), "whatsapp-number-+15550000001", in); err != nil {
		t.Fatal(err)
	}
	if len(f.signals) != 1 || f.signals[0].name != onboarding.SignalNameUpdate || f.signals[0].runID != "" ||
		f.signals[0].arg.(onboarding.NameUpdateInput) != in {
		t.Fatalf("signals %+v", f.signals)
	}
	if err := m.NameUpdate(context.Background(), "whatsapp-number-+15550000009", in); !errors.Is(err, ErrNoRun) {
		t.Errorf("closed run: %v, want ErrNoRun", err)
	}
	if err := m.NameUpdate(context.Background(), "whatsapp-number-+15550000008", in); err == nil || errors.Is(err, ErrNoRun) {
		t.Errorf("unavailable: %v, want a retryable error", err)
	}
}

func TestTemporalMessengerWABAUpdate(t *testing.T) {
	f := &fakeTemporal{
		pages: [][]string{{"whatsapp-number-+1", "whatsapp-number-+2"}, {"whatsapp-number-+3", "whatsapp-number-+1"}},
		errs:  map[string]error{"whatsapp-number-+2": serviceerror.NewNotFound("gone")},
	}
	m := TemporalMessenger{Client: f, Namespace: "ns1"}
	in := onboarding.WABAUpdateInput{Event: "ACCOUNT_DELETED", State: onboarding.WABAStateUnusable}
	n, err := m.WABAUpdate(context.Background(), "100000000000001", in)
	if err != nil {
		t.Fatal(err)
	}
	// +1 listed twice is signalled once; +2 closed meanwhile.
	if n != 2 || len(f.signals) != 2 || f.signals[0].workflowID != "whatsapp-number-+1" || f.signals[1].workflowID != "whatsapp-number-+3" {
		t.Fatalf("reached %d, signals %+v", n, f.signals)
	}
	if f.signals[0].name != onboarding.SignalWABAUpdate {
		t.Errorf("signal name %q", f.signals[0].name)
	}
	want := "ns1|WorkflowType = 'WhatsAppNumber' AND WhatsAppWABAID = '100000000000001' AND ExecutionStatus = 'Running'"
	if len(f.queries) != 2 || f.queries[0] != want {
		t.Errorf("queries %q, want two pages of %q", f.queries, want)
	}

	f = &fakeTemporal{pages: [][]string{{"a", "b"}}, errs: map[string]error{"a": serviceerror.NewUnavailable("down")}}
	n, err = TemporalMessenger{Client: f}.WABAUpdate(context.Background(), "1", in)
	if err == nil || n != 1 || !strings.Contains(err.Error(), "a:") {
		t.Errorf("one signal failed: reached %d, err %v", n, err)
	}
	if !strings.HasPrefix(f.queries[0], onboarding.DefaultNamespace+"|") {
		t.Errorf("namespace not defaulted: %q", f.queries[0])
	}

	f = &fakeTemporal{listErr: serviceerror.NewUnavailable("down")}
	if _, err := (TemporalMessenger{Client: f}).WABAUpdate(context.Background(), "1", in); err == nil {
		t.Error("list failure: no error")
	}
	if _, err := (TemporalMessenger{Client: f}).WABAUpdate(context.Background(), "1' OR 'a'='a", in); err == nil || len(f.queries) != 1 {
		t.Errorf("non-numeric WABA reached the query: %v %q", err, f.queries)
	}
}
