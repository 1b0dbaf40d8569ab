package chaos

import (
	"context"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/activities"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
	"github.com/wa-onboarding/onboarding/workflows"
)

// observations is everything the report is computed from; analyze is a pure
// function of it, so the accounting is tested without a server.
type observations struct {
	Plans    []numberPlan
	Runs     []runView
	Statuses map[string]onboarding.Status // by E.164; missing when the query failed
	Numbers  []graphsim.Number
	Calls    []graphsim.Call
	// Histories by E.164; missing when the history could not be read.
	Histories   map[string]historySummary
	Injections  []*injection
	NotInjected []faultSpec
	Events      []Event
	Elapsed     time.Duration
}

// runView is a copy of a numberRun without its lock.
type runView struct {
	StartedAt       time.Time
	FirstRegistered time.Time
	Done            bool
	Subs            []submission
	Resends         int
	ChangeSent      bool
}

// historySummary is what one workflow's history says.
type historySummary struct {
	Events int
	// WorkflowTaskFailures counts WorkflowTaskFailed events by cause.
	WorkflowTaskFailures map[string]int
	// FailureMessages are those failures' messages, "CAUSE: message".
	FailureMessages []string
	Nondeterminism  int
	// RegisterTimeouts counts Register activities that timed out: the
	// worker died (or hung) with the call possibly made at Meta.
	RegisterTimeouts int
	// WrongCodes are the VerifyCode activities that ended in wrong_code
	// (136025): the code, when, and whether the run asked Meta for another
	// code afterwards (it went back to waiting for one).
	WrongCodes []wrongCode
	// VerifiedCodes are the codes of VerifyCode activities that completed:
	// the codes that verified the number.
	VerifiedCodes []string
	// ReplayError is set when the history does not replay against the
	// workflow code.
	ReplayError string
}

func (h *harness) collect(ctx context.Context, runs []*numberRun) (*observations, error) {
	obs := &observations{Statuses: map[string]onboarding.Status{}, Histories: map[string]historySummary{}}
	for _, r := range runs {
		r.mu.Lock()
		obs.Plans = append(obs.Plans, r.plan)
		obs.Runs = append(obs.Runs, runView{StartedAt: r.startedAt, FirstRegistered: r.firstRegistered, Done: r.done,
			Subs: append([]submission(nil), r.subs...), Resends: r.resends, ChangeSent: r.changeSent})
		r.mu.Unlock()
	}
	obs.Numbers = h.sim.Numbers()
	obs.Calls = h.sim.Calls()

	var mu sync.Mutex
	parallel(len(obs.Plans), 8, func(i int) {
		p := obs.Plans[i]
		var st onboarding.Status
		var err error
		for try := 0; try < 3; try++ {
			qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			st, err = h.oc.Status(qctx, p.e164())
			cancel()
			if err == nil {
				break
			}
		}
		hs, herr := h.history(ctx, onboarding.WorkflowIDForE164(p.e164()))
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			obs.Statuses[p.e164()] = st
		}
		if herr == nil {
			obs.Histories[p.e164()] = hs
		}
	})
	return obs, ctx.Err()
}

// history reads a workflow's latest run, without the codec as it is stored,
// summarizes it and replays it against the workflow code.
func (h *harness) history(ctx context.Context, workflowID string) (historySummary, error) {
	hs := historySummary{WorkflowTaskFailures: map[string]int{}}
	hist := &historypb.History{}
	iter := h.raw.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return hs, err
		}
		hist.Events = append(hist.Events, ev)
	}
	hs.Events = len(hist.Events)
	type scheduled struct {
		activity string
		ev       *historypb.HistoryEvent
	}
	sched := map[int64]scheduled{}
	for _, ev := range hist.Events {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			name := ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			sched[ev.GetEventId()] = scheduled{name, ev}
			if name == "RequestCode" {
				for i := range hs.WrongCodes {
					hs.WrongCodes[i].ThenRequested = true
				}
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			s := sched[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]
			var in activities.VerifyCodeInput
			if s.activity == "VerifyCode" && h.dc.FromPayloads(s.ev.GetActivityTaskScheduledEventAttributes().GetInput(), &in) == nil {
				hs.VerifiedCodes = append(hs.VerifiedCodes, in.Code)
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			if sched[ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()].activity == "Register" {
				hs.RegisterTimeouts++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			a := ev.GetActivityTaskFailedEventAttributes()
			s := sched[a.GetScheduledEventId()]
			if s.activity != "VerifyCode" || a.GetFailure().GetApplicationFailureInfo().GetType() != "wrong_code" {
				continue
			}
			var in activities.VerifyCodeInput
			if err := h.dc.FromPayloads(s.ev.GetActivityTaskScheduledEventAttributes().GetInput(), &in); err == nil {
				if seal.IsSealed(in.Code) {
					if in.Code, err = h.opener.Open(seal.PurposeOwnershipCode, in.Code); err != nil {
						in.Code = "unreadable"
					}
				}
				hs.WrongCodes = append(hs.WrongCodes, wrongCode{Code: in.Code, At: ev.GetEventTime().AsTime()})
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			a := ev.GetWorkflowTaskFailedEventAttributes()
			cause := strings.TrimPrefix(a.GetCause().String(), "WORKFLOW_TASK_FAILED_CAUSE_")
			hs.WorkflowTaskFailures[cause]++
			msg := ""
			if err := h.fc.FailureToError(a.GetFailure()); err != nil {
				msg = err.Error()
			}
			hs.FailureMessages = append(hs.FailureMessages, cause+": "+msg)
			if a.GetCause() == enumspb.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR ||
				strings.Contains(strings.ToLower(msg), "nondeterministic") {
				hs.Nondeterminism++
			}
		}
	}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: h.dc, FailureConverter: h.fc})
	if err != nil {
		return hs, err
	}
	replayer.RegisterWorkflowWithOptions(workflows.Number, workflow.RegisterOptions{Name: onboarding.WorkflowType})
	// Under the run's own id: the workflow acts only under its number's id.
	if err := replayer.ReplayWorkflowHistoryWithOptions(quietLogger(), hist, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: workflowID},
	}); err != nil {
		hs.ReplayError = err.Error()
	}
	return hs, nil
}

// wrongCode is a code a VerifyCode activity saw refused.
type wrongCode struct {
	Code string
	At   time.Time
	// ThenRequested is set when a RequestCode was scheduled after it.
	ThenRequested bool
}

// parallel runs f(0..n-1) on at most width goroutines.
func parallel(n, width int, f func(int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, width)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}
