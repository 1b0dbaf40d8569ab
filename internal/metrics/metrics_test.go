package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graph"
)

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathMetrics, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

func TestEveryProductMetricIsExposedUnderItsName(t *testing.T) {
	var refused []error
	p := NewPrometheus(func(err error) { refused = append(refused, err) })
	h := p.Handler()
	RecordStarted(h)
	RecordStarted(h)
	RecordRegistered(h, 90*time.Second)
	RecordStage(h, "awaiting_code")
	h.WithTags(map[string]string{"task_queue": "whatsapp-onboarding"}).Counter("probe_total").Inc(1)
	RecordNeedsAttention(h)
	RecordBudgetSpent(h, "register")
	RecordBudgetReturned(h, "register")
	RecordMetaLock(h, "deregister")
	RecordThrottleWait(h, graph.OpRequestCode)
	obs := GraphObserver(h)
	obs(graph.CallInfo{Op: graph.OpRegister, Duration: 40 * time.Millisecond})
	obs(graph.CallInfo{Op: graph.OpRegister, Duration: time.Second, Err: &graph.Error{Op: graph.OpRegister, HTTPStatus: 400, Code: 133016, HasEnvelope: true}})
	obs(graph.CallInfo{Op: graph.OpVerifyCode, Duration: time.Second, Err: &graph.Error{Op: graph.OpVerifyCode, HTTPStatus: 502}})
	obs(graph.CallInfo{Op: graph.OpDeregister, Duration: time.Second, Err: &graph.Error{Op: graph.OpDeregister, Err: errors.New("dial tcp: refused")}})
	require.NoError(t, p.Close()) // reports what was recorded

	text := scrape(t, p.HTTPHandler())
	require.Empty(t, refused)
	for _, want := range []string{
		Started + " 2",
		Registered + " 1",
		TimeToRegistered + `_bucket{le="60"} 0`,
		TimeToRegistered + `_bucket{le="300"} 1`,
		TimeToRegistered + "_sum 90",
		TimeToRegistered + "_count 1",
		StageEntered + `{stage="awaiting_code"} 1`,
		NeedsAttention + " 1",
		BudgetSpent + `{call="register"} 1`,
		BudgetReturned + `{call="register"} 1`,
		MetaLocks + `{call="deregister"} 1`,
		ThrottleWaits + `{endpoint="request_code"} 1`,
		GraphCalls + `{code="none",endpoint="register",outcome="ok"} 1`,
		GraphCalls + `{code="133016",endpoint="register",outcome="window_exhausted"} 1`,
		GraphCalls + `{code="http_502",endpoint="verify_code",outcome="transient"} 1`,
		GraphCalls + `{code="none",endpoint="deregister",outcome="transient"} 1`,
		GraphCallLatency + `_bucket{endpoint="register",outcome="ok",le="0.05"} 1`,
		GraphCallLatency + `_count{endpoint="register",outcome="window_exhausted"} 1`,
		"go_goroutines ",
		`probe_total{task_queue="whatsapp-onboarding"} 1`,
	} {
		assert.Contains(t, text, "\n"+want, "scrape lacks %q; its product lines:\n%s", want, productLines(text))
	}
	for _, name := range Names() {
		assert.True(t, strings.HasPrefix(name, Prefix), name)
		assert.Contains(t, text, "# TYPE "+name+" ", "%s is exposed", name)
	}
}

// productLines keeps failure messages readable: the registry also holds the
// Go runtime's collectors.
func productLines(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, Prefix) && !strings.Contains(l, "_bucket") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func TestReadinessCachesAndReportsEachCheck(t *testing.T) {
	var temporalCalls, graphCalls atomic.Int32
	graphErr := errors.New("graph: http://127.0.0.1:1/v21.0 unreachable: connection refused")
	var graphDown atomic.Bool
	r := NewReadiness(
		Check{Name: "temporal", Probe: func(context.Context) error { temporalCalls.Add(1); return nil }},
		Check{Name: "graph", Probe: func(ctx context.Context) error {
			graphCalls.Add(1)
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("probe without a deadline")
			}
			if graphDown.Load() {
				return graphErr
			}
			return nil
		}},
	)
	now := time.Unix(1_700_000_000, 0)
	r.now = func() time.Time { return now }
	srv := httptest.NewServer(NewMux(http.NotFoundHandler(), r))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	code, body := get(PathReadyz)
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"ready":true,"checks":[{"name":"temporal","ok":true},{"name":"graph","ok":true}]}`, body)

	graphDown.Store(true)
	code, _ = get(PathReadyz)
	assert.Equal(t, http.StatusOK, code, "a result is cached for the TTL")
	assert.EqualValues(t, 1, graphCalls.Load())

	now = now.Add(DefaultReadyTTL)
	code, body = get(PathReadyz)
	require.Equal(t, http.StatusServiceUnavailable, code, body)
	assert.Contains(t, body, `"name":"graph","ok":false,"error":"`+graphErr.Error()+`"`)
	assert.EqualValues(t, 2, temporalCalls.Load())

	code, body = get(PathHealthz)
	assert.Equal(t, http.StatusOK, code, "alive even when a dependency is down")
	assert.Equal(t, "ok\n", body)
	code, _ = get(PathMetrics)
	assert.Equal(t, http.StatusNotFound, code, "the metrics handler given is mounted")
	resp, err := http.Post(srv.URL+PathReadyz, "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
