package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

func TestTuningDefaults(t *testing.T) {
	tu, err := tuningFromEnv(envOf(nil))
	require.NoError(t, err)
	assert.Equal(t, tuning{StickyCacheSize: defaultStickyCacheSize, WorkflowSlots: 1000, ActivitySlots: 1000,
		WorkflowPollers: 2, ActivityPollers: 2}, tu)
}

func TestTuningFromEnv(t *testing.T) {
	tu, err := tuningFromEnv(envOf(map[string]string{
		envStickyCacheSize: " 250 ", envWorkflowSlots: "50", envActivitySlots: "20",
		envWorkflowPollers: "4", envActivityPollers: "3", envBenchFloor: "1",
		envBenchFloorCodeURL: "http://127.0.0.1:9/floor-code",
	}))
	require.NoError(t, err)
	assert.Equal(t, tuning{StickyCacheSize: 250, WorkflowSlots: 50, ActivitySlots: 20, WorkflowPollers: 4, ActivityPollers: 3,
		BenchFloor: true, BenchFloorCode: "http://127.0.0.1:9/floor-code"}, tu)

	var o worker.Options
	tu.apply(&o)
	assert.Equal(t, 50, o.MaxConcurrentWorkflowTaskExecutionSize)
	assert.Equal(t, 20, o.MaxConcurrentActivityExecutionSize)
	assert.Equal(t, 4, o.MaxConcurrentWorkflowTaskPollers)
	assert.Equal(t, 3, o.MaxConcurrentActivityTaskPollers)

	tu, err = tuningFromEnv(envOf(map[string]string{envStickyCacheSize: "0"}))
	require.NoError(t, err)
	assert.Equal(t, 0, tu.StickyCacheSize, "0 turns sticky execution off and is allowed")
}

func TestTuningRefusesBadValues(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{envStickyCacheSize, "-1", "from 0 to"},
		{envStickyCacheSize, "10k", `got "10k"`},
		{envWorkflowSlots, "1", "the SDK needs at least 2"},
		{envWorkflowPollers, "1", "the SDK needs at least 2"},
		{envActivitySlots, "0", "from 1 to"},
		{envActivityPollers, "2.5", "whole number"},
		{envBenchFloor, "yes", "must be 1 or unset"},
		{envBenchFloorCodeURL, "127.0.0.1:9", "must be an http(s) URL"},
		{envBenchFloorCodeURL, "http://127.0.0.1:9/c", "needs WA_BENCH_FLOOR=1"},
	} {
		_, err := tuningFromEnv(envOf(map[string]string{tc.name: tc.value}))
		require.Error(t, err, "%s=%s", tc.name, tc.value)
		assert.ErrorContains(t, err, tc.name)
		assert.ErrorContains(t, err, tc.want)
	}
}
