package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNextAllowed(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := func(n int, every time.Duration) []time.Time {
		var out []time.Time
		for i := range n {
			out = append(out, t0.Add(time.Duration(i)*every))
		}
		return out
	}
	tests := []struct {
		name    string
		calls   []time.Time
		blocked time.Time
		now     time.Time
		want    time.Time
	}{
		{"empty", nil, time.Time{}, t0, t0},
		{"nine calls leave room", calls(9, time.Hour), time.Time{}, t0.Add(9 * time.Hour), t0.Add(9 * time.Hour)},
		{"ten calls: wait for the oldest", calls(10, time.Hour), time.Time{}, t0.Add(10 * time.Hour), t0.Add(Window + WindowMargin)},
		{"twelve calls: the tenth from the end decides", calls(12, time.Hour), time.Time{}, t0.Add(12 * time.Hour), t0.Add(2*time.Hour + Window + WindowMargin)},
		{"old calls do not count", calls(10, time.Hour), time.Time{}, t0.Add(Window + time.Hour), t0.Add(Window + time.Hour)},
		{"a Meta lock wins", calls(1, time.Hour), t0.Add(50 * time.Hour), t0.Add(time.Hour), t0.Add(50 * time.Hour)},
		{"an expired Meta lock is ignored", nil, t0, t0.Add(time.Hour), t0.Add(time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, nextAllowed(tc.calls, tc.blocked, tc.now))
		})
	}
}

func TestLedgerRecordPrunesAndCounts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var l onboardingLedger
	for i := range 10 {
		l.record(kindRegister, t0.Add(time.Duration(i)*time.Hour))
	}
	require.Equal(t, 10, l.used(kindRegister, t0.Add(10*time.Hour)))
	require.Equal(t, 0, l.used(kindDeregister, t0.Add(10*time.Hour)), "register and deregister are counted apart")
	later := t0.Add(Window + 3*time.Hour + time.Minute)
	l.record(kindRegister, later)
	require.Len(t, l.Register, 7, "calls older than the window are dropped when a new one is recorded")
	p := l.pruned(later.Add(Window - time.Minute))
	require.Len(t, p.Register, 1)
	require.True(t, p.RegisterBlockedUntil.IsZero())
}
