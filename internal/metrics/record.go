package metrics

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/wa-onboarding/onboarding/internal/graph"
)

// The Record functions take the handler to record on: in workflow code
// workflow.GetMetricsHandler(ctx), which skips replays; elsewhere the
// handler of NewPrometheus. Each metric is always recorded with the same
// tag keys, as Prometheus requires of one name.

// RecordStarted counts an onboarding begun (Started).
func RecordStarted(h client.MetricsHandler) { h.Counter(Started).Inc(1) }

// RecordRegistered counts an onboarding finished (Registered) and records
// how long it took since the run started (TimeToRegistered).
func RecordRegistered(h client.MetricsHandler, sinceStart time.Duration) {
	h.Counter(Registered).Inc(1)
	h.Timer(TimeToRegistered).Record(sinceStart)
}

// RecordStage counts a run entering stage (StageEntered).
func RecordStage(h client.MetricsHandler, stage string) {
	h.WithTags(map[string]string{TagStage: stage}).Counter(StageEntered).Inc(1)
}

// RecordNeedsAttention counts a run parking for a fix (NeedsAttention).
func RecordNeedsAttention(h client.MetricsHandler) { h.Counter(NeedsAttention).Inc(1) }

// RecordBudgetSpent counts a register or deregister call taken from the
// budget (BudgetSpent); call is "register" or "deregister".
func RecordBudgetSpent(h client.MetricsHandler, call string) {
	h.WithTags(map[string]string{TagCall: call}).Counter(BudgetSpent).Inc(1)
}

// RecordBudgetReturned counts a budget entry given back (BudgetReturned).
func RecordBudgetReturned(h client.MetricsHandler, call string) {
	h.WithTags(map[string]string{TagCall: call}).Counter(BudgetReturned).Inc(1)
}

// RecordMetaLock counts a 133016 lock (MetaLocks).
func RecordMetaLock(h client.MetricsHandler, call string) {
	h.WithTags(map[string]string{TagCall: call}).Counter(MetaLocks).Inc(1)
}

// RecordThrottleWait counts a sleep on a throttle of endpoint
// (ThrottleWaits).
func RecordThrottleWait(h client.MetricsHandler, endpoint string) {
	h.WithTags(map[string]string{TagEndpoint: endpoint}).Counter(ThrottleWaits).Inc(1)
}

// GraphObserver returns the function to give graph.WithCallObserver: it
// counts each Graph request (GraphCalls) and records its latency
// (GraphCallLatency) on h.
func GraphObserver(h client.MetricsHandler) func(graph.CallInfo) {
	return func(ci graph.CallInfo) {
		outcome, code := OutcomeOK, CodeNone
		if e := ci.Err; e != nil {
			outcome = e.Class().String()
			switch {
			case e.Code != 0:
				code = strconv.Itoa(e.Code)
			case e.HTTPStatus != 0:
				code = "http_" + strconv.Itoa(e.HTTPStatus)
			}
		}
		tagged := h.WithTags(map[string]string{TagEndpoint: ci.Op, TagOutcome: outcome})
		tagged.WithTags(map[string]string{TagCode: code}).Counter(GraphCalls).Inc(1)
		tagged.Timer(GraphCallLatency).Record(ci.Duration)
	}
}
