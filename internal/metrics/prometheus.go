package metrics

import (
	"io"
	"net/http"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Buckets are the upper bounds, in seconds, of every histogram: the SDK's
// latencies (milliseconds to seconds), Graph calls (tens of milliseconds
// to the client's 30-second timeout) and the time to register (minutes
// to the days a display-name review or a 72-hour lock can take).
var Buckets = []float64{
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
	60, 300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600,
}

// sanitize is the SDK contrib's PrometheusSanitizeOptions, but keeps '-'
// and '.' in tag values, which Prometheus allows: the task queue reads
// task_queue="whatsapp-onboarding" as everywhere else, not
// "whatsapp_onboarding".
var sanitize = tally.SanitizeOptions{
	NameCharacters:       sdktally.PrometheusSanitizeOptions.NameCharacters,
	KeyCharacters:        sdktally.PrometheusSanitizeOptions.KeyCharacters,
	ValueCharacters:      tally.ValidCharacters{Ranges: tally.AlphanumericRange, Characters: []rune{'_', '-', '.'}},
	ReplacementCharacter: tally.DefaultReplacementCharacter,
}

// ReportInterval is how often recorded values reach the Prometheus
// registry; a scrape sees a value at most this late.
const ReportInterval = time.Second

// Prometheus is a Temporal metrics handler whose metrics, the SDK's and the
// product's, are served in Prometheus' text format. It is the tally
// handler of Temporal's contrib module, as in Temporal's Go samples.
type Prometheus struct {
	scope    tally.Scope
	closer   io.Closer
	reporter tallyprom.Reporter
}

// NewPrometheus returns a handler recording into a registry of its own,
// which also holds the Go runtime and process collectors. onError is told
// of metrics Prometheus refuses (the same name with other tag keys); nil
// ignores them. Close it to stop its reporting loop.
func NewPrometheus(onError func(error)) *Prometheus {
	if onError == nil {
		onError = func(error) {}
	}
	reg := prom.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:              reg,
		Gatherer:                reg,
		DefaultTimerType:        tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: Buckets,
		OnRegisterError:         onError,
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sanitize,
	}, ReportInterval)
	return &Prometheus{
		scope:    sdktally.NewPrometheusNamingScope(scope),
		closer:   closer,
		reporter: reporter,
	}
}

// Handler returns the handler to give client.Options.MetricsHandler and
// the Record functions.
func (p *Prometheus) Handler() client.MetricsHandler { return sdktally.NewMetricsHandler(p.scope) }

// HTTPHandler serves the metrics in Prometheus' text format.
func (p *Prometheus) HTTPHandler() http.Handler { return p.reporter.HTTPHandler() }

// Close reports what was recorded last and stops the reporting loop.
func (p *Prometheus) Close() error { return p.closer.Close() }
