package workflows

import (
	"testing"
	"time"
)

// The webhook tests cannot tell a repeated DEFERRED from the one taken (both
// leave the same status), so the repeat rule is checked here.
func TestNewerDropsOlderAndRepeatedEvents(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		id   string
		want bool
	}{
		{"later", t0.Add(time.Second), "ev-2", true},
		{"older", t0.Add(-time.Second), "ev-0", false},
		{"the same event again", t0, "ev-1", false},
		{"another event of the same second", t0, "ev-2", true},
		{"an event without id, same second", t0, "", true},
	}
	for _, tc := range tests {
		if got := newer(tc.t, tc.id, t0, "ev-1"); got != tc.want {
			t.Errorf("%s: newer = %v, want %v", tc.name, got, tc.want)
		}
	}
}
