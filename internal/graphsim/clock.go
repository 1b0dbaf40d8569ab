package graphsim

import (
	"sync"
	"time"
)

// Clock tells the simulator what time it is. Every time-dependent rule (code
// expiry, display-name review, the 72-hour register window, the 5-minute
// deleted-number block) reads this clock, so a test can step over days
// instead of waiting them out.
type Clock interface {
	Now() time.Time
}

// AdjustableClock is a Clock that can be moved. The admin clock paths are
// served only when Options.Clock is one.
type AdjustableClock interface {
	Clock
	Advance(d time.Duration)
	Set(t time.Time)
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that stands still until Advance or Set moves it.
// Its zero value reads the zero time; use NewManualClock.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a ManualClock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// ShiftedClock is wall-clock time plus an adjustable offset. It suits a
// simulator run by hand: time keeps flowing (codes expire, names get
// approved) while an operator can still jump over a 72-hour window.
type ShiftedClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// NewShiftedClock returns a ShiftedClock that starts at the wall-clock time.
func NewShiftedClock() *ShiftedClock { return &ShiftedClock{} }

// Now returns wall-clock time plus the offset.
func (c *ShiftedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance adds d to the offset.
func (c *ShiftedClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Offset returns how far the clock is ahead of the wall clock (behind when
// negative).
func (c *ShiftedClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// SetOffset puts the clock d ahead of the wall clock, as a restarted
// simulator does to go on from the time it stopped at.
func (c *ShiftedClock) SetOffset(d time.Duration) {
	c.mu.Lock()
	c.offset = d
	c.mu.Unlock()
}

// Set makes Now read t at this instant, time flowing on from there.
func (c *ShiftedClock) Set(t time.Time) {
	c.mu.Lock()
	c.offset = time.Until(t)
	c.mu.Unlock()
}
