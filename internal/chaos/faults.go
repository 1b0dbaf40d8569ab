package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wa-onboarding/onboarding/internal/graphsim"
)

// Profile names a set of faults to inject.
type Profile string

// Fault profiles.
const (
	// ProfileFull injects every fault kind on every endpoint, lost answers
	// of every sort included, with extra lost answers on the code calls.
	ProfileFull Profile = "full"
	// ProfileLostAnswers injects only lost answers (drop and status, one
	// hang), on the endpoints an onboarding calls: the small run of make
	// test.
	ProfileLostAnswers Profile = "lost-answers"
)

// Fault kinds the simulator knows; lost_answer is the one that applies the
// call before losing its answer.
const kindLostAnswer = "lost_answer"

// faultSpec is a fault as the simulator's admin API takes it (POST
// /_sim/faults). It is JSON rather than graphsim.Fault so that the harness
// can ask for kinds and fields a simulator may not have yet, and report a
// refusal instead of failing to build.
type faultSpec map[string]any

func (f faultSpec) endpoint() string { s, _ := f["endpoint"].(string); return s }
func (f faultSpec) kind() string     { s, _ := f["kind"].(string); return s }

// label names the fault in the report: kind plus the variant that matters.
func (f faultSpec) label() string {
	l := f.kind()
	switch {
	case f["answer"] != nil:
		l += "/" + fmt.Sprint(f["answer"])
	case f["code"] != nil:
		l += "/" + fmt.Sprint(f["code"])
	case f["http_status"] != nil:
		l += "/" + fmt.Sprint(f["http_status"])
	}
	if f["counted"] == true {
		l += "/counted"
	}
	return l
}

func lost(endpoint, answer string) faultSpec {
	return faultSpec{"kind": kindLostAnswer, "endpoint": endpoint, "times": 1, "answer": answer}
}

// plan returns the faults of a profile, grouped by endpoint, each group in
// the order it is injected.
func plan(p Profile, rng *rand.Rand) (map[string][]faultSpec, error) {
	out := map[string][]faultSpec{}
	switch p {
	case ProfileFull:
		for _, e := range graphsim.Endpoints {
			fs := []faultSpec{
				{"kind": "status", "endpoint": e, "times": 1, "http_status": 503},
				{"kind": "status", "endpoint": e, "times": 1, "http_status": 500},
				{"kind": "throttle", "endpoint": e, "times": 1, "code": 4, "retry_after": "2s"},
				{"kind": "throttle", "endpoint": e, "times": 1, "code": 80007, "retry_after": "1m"},
				{"kind": "hang", "endpoint": e, "times": 1},
				{"kind": "malformed", "endpoint": e, "times": 1},
				{"kind": "error", "endpoint": e, "times": 1, "code": 131000, "http_status": 500, "is_transient": true},
				{"kind": "error", "endpoint": e, "times": 1, "code": 2, "is_transient": true},
				lost(e, "drop"), lost(e, "status"), lost(e, "hang"),
			}
			switch e {
			case graphsim.EndpointVerifyCode, graphsim.EndpointRequestCode:
				fs = append(fs, lost(e, "drop"), lost(e, "status"), lost(e, "drop"), lost(e, "status"))
			case graphsim.EndpointRegister, graphsim.EndpointDeregister:
				// Meta received it, then the gateway failed: the call counts.
				fs = append(fs, faultSpec{"kind": "status", "endpoint": e, "times": 1, "http_status": 503, "counted": true})
			}
			rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
			out[e] = fs
		}
	case ProfileLostAnswers:
		for _, e := range []string{graphsim.EndpointAddPhoneNumber, graphsim.EndpointGetPhoneNumber,
			graphsim.EndpointRequestCode, graphsim.EndpointVerifyCode, graphsim.EndpointRegister} {
			out[e] = []faultSpec{lost(e, "drop"), lost(e, "status")}
		}
		out[graphsim.EndpointVerifyCode] = append(out[graphsim.EndpointVerifyCode], lost(graphsim.EndpointVerifyCode, "drop"))
		out[graphsim.EndpointRequestCode] = append(out[graphsim.EndpointRequestCode], lost(graphsim.EndpointRequestCode, "hang"))
	default:
		return nil, fmt.Errorf("profile: must be %s or %s, not %q", ProfileFull, ProfileLostAnswers, p)
	}
	return out, nil
}

// injection is one fault handed to the simulator (or refused by it).
type injection struct {
	spec     faultSpec
	at       time.Time
	refused  string // the simulator's reason, when it refused the fault
	consumed bool
}

// faultScheduler injects the planned faults one endpoint at a time: the next
// fault for an endpoint goes in only once the previous one answered a call,
// so faults spread over the run and over numbers instead of piling onto the
// first call (and its retries).
type faultScheduler struct {
	sim     *graphsim.Server
	admin   string // base URL of the simulator, for POST /_sim/faults
	queue   map[string][]faultSpec
	mu      sync.Mutex
	pending map[string]*injection
	done    []*injection
}

func newFaultScheduler(sim *graphsim.Server, admin string, queue map[string][]faultSpec) *faultScheduler {
	return &faultScheduler{sim: sim, admin: admin, queue: queue, pending: map[string]*injection{}}
}

// run injects until ctx is done or the plan is used up.
func (s *faultScheduler) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if s.tick(ctx) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick marks consumed faults and injects the next ones; it reports whether
// nothing is left to inject.
func (s *faultScheduler) tick(ctx context.Context) bool {
	left := map[string]int{}
	for _, f := range s.sim.Faults() {
		left[f.Endpoint]++
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	finished := true
	for _, e := range sortedKeys(s.queue) {
		if p := s.pending[e]; p != nil {
			if left[e] > 0 {
				finished = false
				continue
			}
			p.consumed = true
			s.done = append(s.done, p)
			delete(s.pending, e)
		}
		for len(s.queue[e]) > 0 {
			f := s.queue[e][0]
			s.queue[e] = s.queue[e][1:]
			in := &injection{spec: f, at: time.Now()}
			if err := s.inject(ctx, f); err != nil {
				in.refused = err.Error()
				s.done = append(s.done, in)
				continue
			}
			s.pending[e] = in
			finished = false
			break
		}
	}
	return finished
}

func (s *faultScheduler) inject(ctx context.Context, f faultSpec) error {
	body, _ := json.Marshal(f)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.admin+"/_sim/faults", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	// A simulator that does not know a field (answer) would drop it
	// silently and answer a plain fault: check it kept what was asked.
	var got struct{ Data []map[string]any }
	if json.Unmarshal(b, &got) == nil && len(got.Data) > 0 {
		last := got.Data[len(got.Data)-1]
		for _, k := range []string{"kind", "answer"} {
			if want, ok := f[k]; ok && fmt.Sprint(last[k]) != fmt.Sprint(want) {
				return fmt.Errorf("the simulator kept %s=%v, not %v", k, last[k], want)
			}
		}
	}
	return nil
}

// stop clears pending faults and returns every injection, those never
// consumed and those never injected (cut off) included.
func (s *faultScheduler) stop() (all []*injection, notInjected []faultSpec) {
	s.sim.ClearFaults()
	s.mu.Lock()
	defer s.mu.Unlock()
	all = slices.Clone(s.done)
	for _, e := range sortedKeys(s.pending) {
		all = append(all, s.pending[e])
	}
	for _, e := range sortedKeys(s.queue) {
		notInjected = append(notInjected, s.queue[e]...)
	}
	return all, notInjected
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
