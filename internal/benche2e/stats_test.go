package benche2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentileNearestRank(t *testing.T) {
	var xs []time.Duration
	for i := 1; i <= 100; i++ {
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, percentile(xs, 50))
	assert.Equal(t, 95*time.Millisecond, percentile(xs, 95))
	assert.Equal(t, 99*time.Millisecond, percentile(xs, 99))
	assert.Equal(t, 100*time.Millisecond, percentile(xs, 100))
	assert.Equal(t, time.Millisecond, percentile(xs, 0.1))

	few := []time.Duration{10, 20, 30}
	assert.Equal(t, time.Duration(20), percentile(few, 50), "rank ceil(1.5) = 2")
	assert.Equal(t, time.Duration(30), percentile(few, 95))
	assert.Equal(t, time.Duration(0), percentile(nil, 50))
}

func TestMedian(t *testing.T) {
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
	assert.Equal(t, 0.0, median(nil))
	xs := []float64{3, 1, 2}
	median(xs)
	assert.Equal(t, []float64{3, 1, 2}, xs, "median must not reorder its input")
}

// mkBatch builds a batch of n runs started at t0 and registered one every
// step from t0+first on.
func mkBatch(series string, round, n int, t0 time.Time, first, step time.Duration) *batch {
	b := &batch{Series: series, Round: round, GraphCalls: map[string]int{}}
	for i := range n {
		b.Starts = append(b.Starts, t0)
		b.Done = append(b.Done, t0.Add(first+time.Duration(i)*step))
	}
	return b
}

func TestBatchRateAndLatencies(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := mkBatch(seriesFloor, 1, 10, t0, time.Second, time.Second) // last at 10 s
	assert.Equal(t, 10*time.Second, b.elapsed())
	assert.InDelta(t, 1.0, b.rate(), 1e-9)
	lat := b.latencies()
	require.Len(t, lat, 10)
	assert.Equal(t, time.Second, lat[0])
	assert.Equal(t, 10*time.Second, lat[9])
}

func TestSummarizePoolsBatches(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := mkBatch(seriesProduct, 1, 10, t0, time.Second, time.Second) // 1/s
	a.ServerCPU, a.WorkerCPU = 2*time.Second, time.Second
	a.HistoryEvents = 40
	a.GraphCalls = map[string]int{"register": 10, "get_phone_number": 20}
	b := mkBatch(seriesProduct, 2, 10, t0, time.Second, time.Second/2) // 10 in 5.5 s
	b.ServerCPU, b.WorkerCPU = 2*time.Second, time.Second
	b.HistoryEvents = 50
	b.GraphCalls = map[string]int{"register": 10, "get_phone_number": 20}
	c := mkBatch(seriesProduct, 3, 10, t0, time.Second, time.Second/4) // 10 in 3.25 s
	s := summarize([]*batch{a, b, c})

	assert.Equal(t, 30, s.Runs)
	assert.InDelta(t, 10/5.5, s.Rate, 1e-9, "the median batch's rate")
	assert.Equal(t, 4*time.Second/30, s.ServerCPU)
	assert.Equal(t, 2*time.Second/30, s.WorkerCPU)
	assert.InDelta(t, 30.0, s.HistoryEvents, 1e-9)
	assert.InDelta(t, 20.0/30, s.GraphCalls["register"], 1e-9)
	assert.Equal(t, "2 (get_phone_number 1.33, register 0.67)", callsText(s.GraphCalls))
}

func TestMarkdownTable(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	floor := mkBatch(seriesFloor, 1, 10, t0, time.Second, time.Second)         // 1.00/s
	product := mkBatch(seriesProduct, 1, 10, t0, 2*time.Second, 2*time.Second) // 0.50/s
	product.GraphCalls = map[string]int{"register": 10}
	fresh := mkBatch(seriesProduct, 0, 5, t0, 4*time.Second, 4*time.Second) // 5 in 20 s
	r := &report{When: t0, Took: 90 * time.Second, Batches: []*batch{floor, product, fresh},
		Parked: &parked{N: 1000, StartTook: 10 * time.Second, ParkTook: 100 * time.Second,
			RSSStart: 30 << 20, Open: 20, RSSBefore: 40 << 20, RSSAfter: 50 << 20, DBBefore: 1 << 20, DBAfter: 3 << 20, Fresh: fresh}}
	var sb strings.Builder
	r.writeMarkdown(&sb)
	out := sb.String()
	assert.Contains(t, out, "| completions per second (median of 1 round) | 1.00 | 0.50 | 0.50 |")
	assert.Contains(t, out, "| start → registered p50 | 5000 ms | 10000 ms | 2.00 |")
	assert.Contains(t, out, "| Graph calls per happy path | 0 | 1 (register 1) | |")
	assert.Contains(t, out, "| onboardings measured | 10 | 10 | |", "the parked batch is not pooled with the rounds")
	assert.Contains(t, out, "| worker RSS per parked run | 10.2 KB |")
	assert.Contains(t, out, "| worker RSS at start / before parking (20 registered runs open) / with them parked | 30.0 MB / 40.0 MB / 50.0 MB |")
	assert.Contains(t, out, "| time to start them | 10.0 s (100 starts/s) |")
	assert.Contains(t, out, "0.25/s (0.50 of the product's rate above)")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "|") {
			assert.True(t, strings.HasSuffix(line, "|"), "table row not closed: %q", line)
		}
	}
}

func TestSVGHasOneLinePerBatch(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bs := []*batch{
		mkBatch(seriesFloor, 1, 10, t0, time.Second, time.Second),
		mkBatch(seriesProduct, 1, 10, t0, time.Second, 2*time.Second),
		mkBatch(seriesProduct, 0, 5, t0, time.Second, 2*time.Second),
	}
	var sb strings.Builder
	writeSVG(&sb, "a <title> & more", bs)
	out := sb.String()
	assert.True(t, strings.HasPrefix(out, "<svg "))
	assert.True(t, strings.HasSuffix(out, "</svg>\n"))
	assert.Equal(t, 3, strings.Count(out, "<polyline"))
	assert.Equal(t, 1, strings.Count(out, `stroke-dasharray="6 4" points=`), "only the parked batch is dashed")
	assert.Contains(t, out, "a &lt;title&gt; &amp; more")
	assert.Contains(t, out, seriesColor[seriesFloor])
	assert.Contains(t, out, seriesColor[seriesProduct])
}

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ max, want float64 }{{60, 10}, {200, 50}, {19, 5}, {1, 0.2}, {0, 1}} {
		assert.InDelta(t, tc.want, niceStep(tc.max), 1e-9, "max %v", tc.max)
	}
}

func TestPooledRateWeighsRoundsByTheirLength(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(n int, d time.Duration) *batch {
		b := &batch{Starts: make([]time.Time, n), Done: make([]time.Time, n)}
		for i := range n {
			b.Starts[i], b.Done[i] = t0, t0.Add(d)
		}
		return b
	}
	// 100 in 10 s and 100 in 40 s: 200 in 50 s, not the 6.25/s mean of rates.
	got := pooledRate([]*batch{mk(100, 10*time.Second), mk(100, 40*time.Second)})
	if got != 4 {
		t.Fatalf("pooledRate = %v, want 4", got)
	}
	if pooledRate(nil) != 0 {
		t.Fatal("no batches: want 0")
	}
}
