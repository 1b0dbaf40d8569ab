package benche2e

import (
	"context"
	"sync"
	"time"
)

// sample is the CPU used so far by the dev server, the worker and the
// driver (with the simulator), and the worker's RSS, at t.
type sample struct {
	t                    time.Time
	server, worker, self time.Duration
	rss                  int64
}

// sampler reads /proc every period, so a batch's CPU can be cut at the
// instant its last run was registered, learnt only later.
type sampler struct {
	server, worker, self int

	mu      sync.Mutex
	samples []sample
}

func newSampler(server, worker, self int) *sampler {
	return &sampler{server: server, worker: worker, self: self}
}

func (s *sampler) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.now()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// now reads a sample and records it. Unreadable figures (a process that
// exited) read 0; the driver notices the exit on its own.
func (s *sampler) now() sample {
	x := sample{t: time.Now()}
	x.server, _ = procCPU(s.server)
	x.worker, _ = procCPU(s.worker)
	x.self, _ = procCPU(s.self)
	x.rss, _ = procRSS(s.worker)
	s.mu.Lock()
	s.samples = append(s.samples, x)
	s.mu.Unlock()
	return x
}

// at is the first sample taken at or after t, or a new one.
func (s *sampler) at(t time.Time) sample {
	s.mu.Lock()
	for _, x := range s.samples {
		if !x.t.Before(t) {
			s.mu.Unlock()
			return x
		}
	}
	s.mu.Unlock()
	return s.now()
}

// first is the first sample taken.
func (s *sampler) first() sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return sample{}
	}
	return s.samples[0]
}
