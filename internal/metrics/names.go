// Package metrics names the product's Prometheus metrics and records them
// through Temporal's client.MetricsHandler, and serves them with the SDK's
// own on /metrics, next to /healthz and /readyz.
//
// Workflow code records through workflow.GetMetricsHandler(ctx), which
// records nothing while a history is replayed, so that a run counts each
// event once however often workers replay it. Metrics are counters and
// histograms only: with several worker replicas every process counts what
// its own tasks did and Prometheus sums them (sum by (...) (rate(...))).
// A gauge of runs per stage set from workflow code would hold, in each
// process, whatever the last run it happened to execute wrote, and a
// restarted process would lose it; the number of runs in a stage now is a
// Temporal visibility query (WhatsAppStage="registered"), and
// StageEntered counts the moves between stages.
//
// Counting is at least once: a workflow task that records a metric and
// then fails (the worker dies before completing it) is run again, not as a
// replay, on the next worker, which records it again. Such double counts
// are rare and show as small excesses, never as missing events.
//
// Names carry their Prometheus unit suffix (_total, _seconds) already, so
// the SDK's Prometheus naming scope leaves them as they are and the names
// here are the ones to query (histograms add _bucket, _sum and _count).
package metrics

// Prefix starts every product metric name.
const Prefix = "whatsapp_onboarding_"

// Product metric names.
const (
	// Started counts onboardings begun: a run adding its number to the
	// WABA (again after fix --readd). Tags: the workflow's (namespace,
	// task_queue, workflow_type).
	Started = Prefix + "started_total"
	// Registered counts onboardings finished: a run registering its number
	// for the first time after adding it. Later registers (change-region,
	// reregister) are not counted here.
	Registered = Prefix + "registered_total"
	// TimeToRegistered is the histogram of the time from the run's start
	// to Registered, in seconds: the ownership code, the display-name
	// review and the register budget all show here.
	TimeToRegistered = Prefix + "time_to_registered_seconds"
	// StageEntered counts runs entering a stage. Tag: stage (as in
	// onboarding.Stage and the WhatsAppStage search attribute).
	StageEntered = Prefix + "stage_entered_total"
	// NeedsAttention counts runs parking in needs_attention to wait for a
	// fix: each is a person's job.
	NeedsAttention = Prefix + "needs_attention_total"
	// BudgetSpent counts register and deregister calls the run took from
	// Meta's 10-per-72-hours budget. Tag: call (register, deregister).
	BudgetSpent = Prefix + "budget_spent_total"
	// BudgetReturned counts those entries given back because Meta refused
	// the call before acting on it (a throttle, no connection): spent
	// minus returned is what Meta counted. Tag: call.
	BudgetReturned = Prefix + "budget_returned_total"
	// MetaLocks counts 133016 answers: Meta locked the number's register
	// or deregister calls for 72 hours because calls made elsewhere spent
	// the budget. Tag: call.
	MetaLocks = Prefix + "meta_locks_total"
	// ThrottleWaits counts durable sleeps on Meta's call-rate throttles (4,
	// 80007, 80008, 130429, HTTP 429). Tag: endpoint (the Graph operation).
	ThrottleWaits = Prefix + "throttle_waits_total"
	// GraphCalls counts requests to the Graph API as the worker's Graph
	// client sent them (each page of a list is one; activity retries are
	// each counted). Tags: endpoint (graph.Op*), outcome ("ok" or the error
	// class, e.g. "throttled", "transient", "window_exhausted"), code (Meta's
	// error code, "http_NNN" for an answer without one, "none" for success
	// or no answer at all).
	GraphCalls = Prefix + "graph_calls_total"
	// GraphCallLatency is the histogram of those requests' durations in
	// seconds. Tags: endpoint, outcome.
	GraphCallLatency = Prefix + "graph_call_latency_seconds"
)

// Tag keys of the product metrics.
const (
	TagStage    = "stage"
	TagCall     = "call"
	TagEndpoint = "endpoint"
	TagOutcome  = "outcome"
	TagCode     = "code"
)

// Tag values.
const (
	OutcomeOK = "ok"
	CodeNone  = "none"
)

// Names returns every product metric name.
func Names() []string {
	return []string{Started, Registered, TimeToRegistered, StageEntered, NeedsAttention,
		BudgetSpent, BudgetReturned, MetaLocks, ThrottleWaits, GraphCalls, GraphCallLatency}
}

// Names of Temporal Go SDK metrics as Prometheus shows them through the
// naming scope of NewPrometheus, for dashboards and alerts. The SDK emits
// many more; see Temporal's SDK metrics reference.
const (
	SDKWorkflowTaskLatency         = "temporal_workflow_task_execution_latency_seconds"
	SDKWorkflowTaskScheduleToStart = "temporal_workflow_task_schedule_to_start_latency_seconds"
	SDKWorkflowTaskFailed          = "temporal_workflow_task_execution_failed_total"
	SDKActivityScheduleToStart     = "temporal_activity_schedule_to_start_latency_seconds"
	SDKActivityLatency             = "temporal_activity_execution_latency_seconds"
	SDKActivityFailed              = "temporal_activity_execution_failed_total"
	SDKRequestFailure              = "temporal_request_failure_total"
)

// SDKNames returns the SDK metric names this package names.
func SDKNames() []string {
	return []string{SDKWorkflowTaskLatency, SDKWorkflowTaskScheduleToStart, SDKWorkflowTaskFailed,
		SDKActivityScheduleToStart, SDKActivityLatency, SDKActivityFailed, SDKRequestFailure}
}
