package workflows

import (
	"time"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// Meta's budget: 10 register and 10 deregister calls per number in a moving
// 72-hour window; the 11th answers 133016 and locks the number for 72 hours.
const (
	WindowLimit = 10
	Window      = 72 * time.Hour
	// WindowMargin is added to every wait for the window: Meta timestamps a
	// call when it receives it, a little after the workflow recorded it, so
	// calling at the exact edge could still count as the 11th and lock the
	// number for three days. A minute costs nothing by comparison.
	WindowMargin = time.Minute
)

type callKind string

const (
	kindRegister   callKind = "register"
	kindDeregister callKind = "deregister"
)

// inWindow returns the calls that still count at now: those made less than
// Window ago. calls is in ascending order.
func inWindow(calls []time.Time, now time.Time) []time.Time {
	cut := now.Add(-Window)
	for i, t := range calls {
		if t.After(cut) {
			return calls[i:]
		}
	}
	return nil
}

// nextAllowed is the earliest time at or after now when one more call keeps
// the window at WindowLimit calls or fewer, and past any lock Meta announced.
func nextAllowed(calls []time.Time, blockedUntil, now time.Time) time.Time {
	next := now
	if w := inWindow(calls, now); len(w) >= WindowLimit {
		// The call that must leave the window is the one WindowLimit from
		// the end; once it has, WindowLimit-1 remain.
		next = w[len(w)-WindowLimit].Add(Window + WindowMargin)
	}
	if blockedUntil.After(next) {
		next = blockedUntil
	}
	return next
}

// onboardingLedger adds the window arithmetic to the contract's Ledger.
type onboardingLedger onboarding.Ledger

func (l *onboardingLedger) calls(k callKind) *[]time.Time {
	if k == kindRegister {
		return &l.Register
	}
	return &l.Deregister
}

func (l *onboardingLedger) blockedUntil(k callKind) *time.Time {
	if k == kindRegister {
		return &l.RegisterBlockedUntil
	}
	return &l.DeregisterBlockedUntil
}

func (l *onboardingLedger) next(k callKind, now time.Time) time.Time {
	return nextAllowed(*l.calls(k), *l.blockedUntil(k), now)
}

func (l *onboardingLedger) record(k callKind, now time.Time) {
	c := l.calls(k)
	*c = append(inWindow(*c, now), now)
}

// unrecord removes the call recorded at t, one Meta refused before acting
// on it.
func (l *onboardingLedger) unrecord(k callKind, t time.Time) {
	c := l.calls(k)
	for i := len(*c) - 1; i >= 0; i-- {
		if (*c)[i].Equal(t) {
			*c = append((*c)[:i:i], (*c)[i+1:]...)
			return
		}
	}
}

func (l *onboardingLedger) used(k callKind, now time.Time) int {
	return len(inWindow(*l.calls(k), now))
}

// pruned drops calls that no longer count, so a ledger carried across
// continue-as-new stays small.
func (l *onboardingLedger) pruned(now time.Time) onboarding.Ledger {
	out := onboarding.Ledger(*l)
	out.Register = append([]time.Time(nil), inWindow(l.Register, now)...)
	out.Deregister = append([]time.Time(nil), inWindow(l.Deregister, now)...)
	if !out.RegisterBlockedUntil.After(now) {
		out.RegisterBlockedUntil = time.Time{}
	}
	if !out.DeregisterBlockedUntil.After(now) {
		out.DeregisterBlockedUntil = time.Time{}
	}
	return out
}
