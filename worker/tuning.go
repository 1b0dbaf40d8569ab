package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
)

// Worker tuning variables; see the package comment for what each one buys.
const (
	envStickyCacheSize = "WA_WORKER_STICKY_CACHE_SIZE"
	envWorkflowSlots   = "WA_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS"
	envActivitySlots   = "WA_WORKER_MAX_CONCURRENT_ACTIVITIES"
	envWorkflowPollers = "WA_WORKER_WORKFLOW_TASK_POLLERS"
	envActivityPollers = "WA_WORKER_ACTIVITY_TASK_POLLERS"
	// envBenchFloor makes the worker also run the end-to-end benchmark's
	// floor workflow (internal/benchfloor), so the benchmark's two series
	// share one worker process and its options.
	envBenchFloor = "WA_BENCH_FLOOR"
	// envBenchFloorCodeURL is where the floor's request-code step posts,
	// so that the benchmark's driver submits the floor's code only once
	// it was asked for, as the product's.
	envBenchFloorCodeURL = "WA_BENCH_FLOOR_CODE_URL"
)

// defaultStickyCacheSize bounds how many runs the worker keeps in memory
// between their workflow tasks. Runs parked for days awaiting a code or
// serving a registered number would otherwise fill the SDK's default of
// 10,000 at about 60 KB each. A run that is not cached costs the worker
// nothing; it is rebuilt by replaying its history on its next task, which
// for a parked run happens once, when its code or an operation arrives.
// Measured with make bench-e2e (bench/results/e2e.md): with 500, the worker
// held 75.9 MB with 1,050 registered runs open and 77.3 MB with 10,000 more
// parked, 0.1 KB per parked run; 500 is still above the
// onboardings one worker has in flight at once (each is cached only between
// its tasks, seconds apart; the benchmark's batches run 200 at once).
const defaultStickyCacheSize = 500

// tuning is the worker's share of worker.Options that operators may set.
type tuning struct {
	StickyCacheSize int // process-wide: worker.SetStickyWorkflowCacheSize
	WorkflowSlots   int
	ActivitySlots   int
	WorkflowPollers int
	ActivityPollers int
	BenchFloor      bool   // also register the benchmark's floor workflow
	BenchFloorCode  string // the floor's code-request URL (envBenchFloorCodeURL)
}

// tuningFromEnv reads the tuning variables; unset ones keep their defaults
// (the SDK's, except the cache). Errors name the variable and its rule.
func tuningFromEnv(getenv func(string) string) (tuning, error) {
	t := tuning{
		StickyCacheSize: defaultStickyCacheSize,
		WorkflowSlots:   1000, // the SDK's defaults, written out so the start-up log shows them
		ActivitySlots:   1000,
		WorkflowPollers: 2,
		ActivityPollers: 2,
	}
	for _, v := range []struct {
		name     string
		dst      *int
		min, max int
		why      string
	}{
		// 0 turns sticky execution off: every workflow task replays the
		// whole history.
		{envStickyCacheSize, &t.StickyCacheSize, 0, 1_000_000, ""},
		// The SDK alternates sticky and normal polls and panics on 1.
		{envWorkflowSlots, &t.WorkflowSlots, 2, 100_000, " (the SDK needs at least 2)"},
		{envActivitySlots, &t.ActivitySlots, 1, 100_000, ""},
		{envWorkflowPollers, &t.WorkflowPollers, 2, 1000, " (the SDK needs at least 2)"},
		{envActivityPollers, &t.ActivityPollers, 1, 1000, ""},
	} {
		s := strings.TrimSpace(getenv(v.name))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < v.min || n > v.max {
			return tuning{}, fmt.Errorf("%s: must be a whole number from %d to %d%s, got %q", v.name, v.min, v.max, v.why, s)
		}
		*v.dst = n
	}
	switch s := strings.TrimSpace(getenv(envBenchFloor)); s {
	case "", "0":
	case "1":
		t.BenchFloor = true
	default:
		return tuning{}, fmt.Errorf("%s: must be 1 or unset, got %q", envBenchFloor, s)
	}
	if s := strings.TrimSpace(getenv(envBenchFloorCodeURL)); s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return tuning{}, fmt.Errorf("%s: must be an http(s) URL, got %q", envBenchFloorCodeURL, s)
		}
		if !t.BenchFloor {
			return tuning{}, fmt.Errorf("%s: needs %s=1", envBenchFloorCodeURL, envBenchFloor)
		}
		t.BenchFloorCode = s
	}
	return t, nil
}

// apply sets the process-wide sticky cache size, which must happen before
// the first worker is created, and t's share of o.
func (t tuning) apply(o *worker.Options) {
	worker.SetStickyWorkflowCacheSize(t.StickyCacheSize)
	o.MaxConcurrentWorkflowTaskExecutionSize = t.WorkflowSlots
	o.MaxConcurrentActivityExecutionSize = t.ActivitySlots
	o.MaxConcurrentWorkflowTaskPollers = t.WorkflowPollers
	o.MaxConcurrentActivityTaskPollers = t.ActivityPollers
}

func (t tuning) logFields() []zap.Field {
	return []zap.Field{
		zap.Int("sticky_cache_size", t.StickyCacheSize),
		zap.Int("max_concurrent_workflow_tasks", t.WorkflowSlots),
		zap.Int("max_concurrent_activities", t.ActivitySlots),
		zap.Int("workflow_task_pollers", t.WorkflowPollers),
		zap.Int("activity_task_pollers", t.ActivityPollers),
		zap.Bool("bench_floor", t.BenchFloor),
	}
}
