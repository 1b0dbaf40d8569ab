package benche2e

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// percentile is the nearest-rank percentile p (0 < p <= 100) of sorted: the
// smallest value with at least p% of the values at or below it. It is 0 for
// no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// median of xs; 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// batch is one batch of onboardings of one series, all started together.
type batch struct {
	Series string // seriesFloor or seriesProduct
	Round  int    // 1-based; 0 for the batch run with runs parked
	Starts []time.Time
	Done   []time.Time // when each run was registered, in workflow time
	// CPU used by each process while the batch ran.
	ServerCPU, WorkerCPU, DriverCPU time.Duration
	HistoryEvents                   float64        // mean over a sample of runs, up to registered
	GraphCalls                      map[string]int // by simulator endpoint, whole batch
}

const (
	seriesFloor   = "floor"
	seriesProduct = "product"
)

func (b *batch) first() time.Time {
	t := b.Starts[0]
	for _, s := range b.Starts {
		if s.Before(t) {
			t = s
		}
	}
	return t
}

func (b *batch) last() time.Time {
	var t time.Time
	for _, d := range b.Done {
		if d.After(t) {
			t = d
		}
	}
	return t
}

// elapsed is from the first start to the last registration.
func (b *batch) elapsed() time.Duration { return b.last().Sub(b.first()) }

// rate is completions per second over the batch.
func (b *batch) rate() float64 {
	e := b.elapsed().Seconds()
	if e <= 0 {
		return 0
	}
	return float64(len(b.Done)) / e
}

// latencies are start-to-registered times, sorted.
func (b *batch) latencies() []time.Duration {
	out := make([]time.Duration, len(b.Done))
	for i := range b.Done {
		out[i] = b.Done[i].Sub(b.Starts[i])
	}
	slices.Sort(out)
	return out
}

// seriesSummary pools a series' batches.
type seriesSummary struct {
	Runs                 int
	Rate                 float64 // median of the batches' rates
	Rates                []float64
	P50, P95, P99        time.Duration
	ServerCPU, WorkerCPU time.Duration // per onboarding
	DriverCPU            time.Duration
	HistoryEvents        float64
	GraphCalls           map[string]float64 // per onboarding
}

func summarize(bs []*batch) seriesSummary {
	var s seriesSummary
	var lat []time.Duration
	var server, worker, driver time.Duration
	var events float64
	calls := map[string]int{}
	for _, b := range bs {
		s.Runs += len(b.Done)
		s.Rates = append(s.Rates, b.rate())
		lat = append(lat, b.latencies()...)
		server += b.ServerCPU
		worker += b.WorkerCPU
		driver += b.DriverCPU
		events += b.HistoryEvents
		for k, v := range b.GraphCalls {
			calls[k] += v
		}
	}
	if s.Runs == 0 {
		return s
	}
	slices.Sort(lat)
	s.Rate = median(s.Rates)
	s.P50, s.P95, s.P99 = percentile(lat, 50), percentile(lat, 95), percentile(lat, 99)
	n := time.Duration(s.Runs)
	s.ServerCPU, s.WorkerCPU, s.DriverCPU = server/n, worker/n, driver/n
	s.HistoryEvents = events / float64(len(bs))
	s.GraphCalls = map[string]float64{}
	for k, v := range calls {
		s.GraphCalls[k] = float64(v) / float64(s.Runs)
	}
	return s
}

// callsText writes Graph calls per onboarding, total first, then by
// endpoint in a fixed order.
func callsText(m map[string]float64) string {
	if len(m) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(m))
	var total float64
	for k, v := range m {
		keys = append(keys, k)
		total += v
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + num(m[k])
	}
	return num(total) + " (" + strings.Join(parts, ", ") + ")"
}

// num prints a count that is usually whole without decimals.
func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}
