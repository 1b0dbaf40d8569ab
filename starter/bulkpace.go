package main

import (
	"context"
	"sync"
	"time"
)

// A clock is time as the pacer sees it, faked in tests.
type clock interface {
	Now() time.Time
	// SleepUntil returns at t, or with ctx's error if ctx ends first.
	SleepUntil(ctx context.Context, t time.Time) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A pacer spaces starts evenly, one every 1/rate seconds, whatever the
// number of goroutines waiting on it. It allows no burst: time left idle is
// not saved up, so no second of a batch has more than rate starts (plus the
// one at its edge).
type pacer struct {
	mu       sync.Mutex
	clock    clock
	interval time.Duration
	next     time.Time // the earliest time of the next start
}

func newPacer(rate float64, c clock) *pacer {
	return &pacer{clock: c, interval: time.Duration(float64(time.Second) / rate)}
}

// reserve books the next slot and returns its time.
func (p *pacer) reserve() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.clock.Now()
	if t.Before(p.next) {
		t = p.next
	}
	p.next = t.Add(p.interval)
	return t
}

// wait returns at the caller's slot, or with ctx's error. A slot given up
// by a cancelled caller is not handed back: the batch is ending.
func (p *pacer) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.clock.SleepUntil(ctx, p.reserve())
}
