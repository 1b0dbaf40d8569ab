package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// A Check is one dependency a process needs to do its work.
type Check struct {
	// Name names it in /readyz's answer, e.g. "temporal".
	Name string
	// Probe reports whether it is usable now; it should be cheap and
	// spend nothing, since a load balancer may ask every few seconds.
	Probe func(context.Context) error
}

// Readiness runs Checks for /readyz, caching each result for a while so
// that probes from several load balancers or a scrape storm do not turn
// into a storm of calls on Temporal and Meta.
type Readiness struct {
	checks  []Check
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	mu      sync.Mutex // held while probing: concurrent requests share one probe
	checked time.Time
	results []CheckResult
}

// CheckResult is one Check's last outcome.
type CheckResult struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Default caching and timeout of NewReadiness's probes.
const (
	DefaultReadyTTL     = 5 * time.Second
	DefaultProbeTimeout = 3 * time.Second
)

// NewReadiness returns a Readiness running checks at most once per
// DefaultReadyTTL, each bounded by DefaultProbeTimeout.
func NewReadiness(checks ...Check) *Readiness {
	return &Readiness{checks: checks, ttl: DefaultReadyTTL, timeout: DefaultProbeTimeout, now: time.Now}
}

// Check returns every check's result, probing again when the cached ones
// are older than the TTL, and whether all passed.
func (r *Readiness) Check(ctx context.Context) ([]CheckResult, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.results == nil || r.now().Sub(r.checked) >= r.ttl {
		results := make([]CheckResult, len(r.checks))
		var wg sync.WaitGroup
		for i, c := range r.checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
				defer cancel()
				results[i] = CheckResult{Name: c.Name, OK: true}
				if err := c.Probe(pctx); err != nil {
					results[i] = CheckResult{Name: c.Name, Error: err.Error()}
				}
			}()
		}
		wg.Wait()
		r.results, r.checked = results, r.now()
	}
	ok := true
	for _, res := range r.results {
		ok = ok && res.OK
	}
	return append([]CheckResult(nil), r.results...), ok
}

// ServeHTTP answers 200 when every check passes and 503 otherwise, with a
// JSON body {"ready": bool, "checks": [...]} naming each check's error.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	results, ok := r.Check(req.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(struct {
		Ready  bool          `json:"ready"`
		Checks []CheckResult `json:"checks"`
	}{ok, results})
}

// Alive answers /healthz: 200 as long as the process serves HTTP at all.
// It checks no dependency, so that an orchestrator does not restart a
// worker because Temporal or Meta is down; /readyz says that.
func Alive(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// Paths the mux of NewMux serves.
const (
	PathMetrics = "/metrics"
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
)

// NewMux serves metrics on /metrics, Alive on /healthz and ready on
// /readyz, GET (and HEAD) only.
func NewMux(metrics http.Handler, ready http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET "+PathMetrics, metrics)
	mux.HandleFunc("GET "+PathHealthz, Alive)
	mux.Handle("GET "+PathReadyz, ready)
	return mux
}
