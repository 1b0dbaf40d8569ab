package e2e

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/metrics"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// scrape reads the worker's /metrics into metric families.
func (s *stack) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + s.metrics + metrics.PathMetrics)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// sample sums the counters, or the histograms' counts, of family name whose
// labels include labels.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	var sum float64
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

func (s *stack) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.metrics + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestWorkerMetricsMoveWithAnOnboarding(t *testing.T) {
	s := setup(t)
	// The worker process listens once it has dialed Temporal.
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + s.metrics + metrics.PathHealthz)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond, "the worker's /healthz on %s", s.metrics)
	code, body := s.get(t, metrics.PathHealthz)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "ok\n", body)
	// Ready once Temporal and the simulator answer; both are up here.
	code, body = s.get(t, metrics.PathReadyz)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"ready":true,"checks":[{"name":"temporal","ok":true},{"name":"graph","ok":true}]}`, body)

	before := s.scrape(t)
	const national = "5550000960"
	number := "+1" + national
	// One add answered by a proxy's 503: a Graph call that failed, an
	// activity failure the SDK counts, and a retry that adds the number.
	require.NoError(t, s.sim.InjectFault(graphsim.Fault{Kind: graphsim.FaultStatus, Endpoint: graphsim.EndpointAddPhoneNumber,
		Number: "1" + national, Times: 1, HTTPStatus: http.StatusServiceUnavailable}))
	c := s.onboardingClient()
	_, err := c.Onboard(context.Background(), onboarding.OnboardInput{
		WABAID: wabaID, CountryCode: "1", PhoneNumber: national, DisplayName: "Acme Metrics", PIN: "246802",
	})
	require.NoError(t, err)
	st := s.waitCode(t, number)
	code6, ok := s.sim.LastCode(st.PhoneNumberID)
	require.True(t, ok)
	res, err := c.SendCode(context.Background(), number, code6)
	require.NoError(t, err)
	require.True(t, res.Accepted, res.Message)
	s.waitStage(t, number, onboarding.StageRegistered)
	t.Cleanup(func() { s.cancel(t, number) })

	// Counters move by at least this run's share: other tests of the
	// binary may onboard numbers on the same worker meanwhile.
	type want struct {
		name   string
		labels map[string]string
	}
	wants := []want{
		{metrics.Started, nil},
		{metrics.Registered, nil},
		{metrics.TimeToRegistered, nil},
		{metrics.BudgetSpent, map[string]string{metrics.TagCall: "register"}},
		{metrics.StageEntered, map[string]string{metrics.TagStage: string(onboarding.StageRegistered)}},
		{metrics.GraphCalls, map[string]string{metrics.TagEndpoint: graph.OpAddPhoneNumber, metrics.TagOutcome: "transient", metrics.TagCode: "http_503"}},
		{metrics.SDKActivityFailed, map[string]string{"activity_type": "AddPhoneNumber"}},
	}
	for _, op := range []string{graph.OpAddPhoneNumber, graph.OpGetPhoneNumber, graph.OpRequestCode, graph.OpVerifyCode, graph.OpRegister} {
		wants = append(wants,
			want{metrics.GraphCalls, map[string]string{metrics.TagEndpoint: op, metrics.TagOutcome: metrics.OutcomeOK}},
			want{metrics.GraphCallLatency, map[string]string{metrics.TagEndpoint: op, metrics.TagOutcome: metrics.OutcomeOK}})
	}
	var after map[string]*dto.MetricFamily
	moved := func() bool {
		after = s.scrape(t)
		for _, w := range wants {
			if sample(after, w.name, w.labels) < sample(before, w.name, w.labels)+1 {
				return false
			}
		}
		return true
	}
	// Values reach the registry every metrics.ReportInterval.
	if !assert.Eventually(t, moved, 30*time.Second, 200*time.Millisecond) {
		for _, w := range wants {
			t.Logf("%s %v: before %v, after %v", w.name, w.labels, sample(before, w.name, w.labels), sample(after, w.name, w.labels))
		}
		t.FailNow()
	}
	// A name recorded with two sets of label keys would be dropped, logged.
	require.NotContains(t, s.workerLog.String(), "Prometheus refused a metric")
	// The SDK's own metrics are on the same endpoint, named as the
	// dashboard queries them.
	for _, name := range []string{metrics.SDKWorkflowTaskLatency, metrics.SDKWorkflowTaskScheduleToStart,
		metrics.SDKActivityScheduleToStart, metrics.SDKActivityLatency} {
		assert.Positive(t, sample(after, name, map[string]string{"task_queue": onboarding.TaskQueue}), name)
	}
}
