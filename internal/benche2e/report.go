package benche2e

import (
	"fmt"
	"io"
	"time"
)

// report is everything one run of the benchmark measured.
type report struct {
	When     time.Time
	Settings []string // lines describing the machine and the configuration
	Batches  []*batch
	Parked   *parked
	Took     time.Duration
}

// parked is what runs left awaiting their code cost.
type parked struct {
	N                   int
	StartTook, ParkTook time.Duration
	RSSStart            int64 // the worker's RSS before the first batch
	Open                int   // product runs left open (registered) by the rounds
	RSSBefore, RSSAfter int64
	DBBefore, DBAfter   int64
	Fresh               *batch // fresh onboardings run with the N parked
}

// series is the rounds' batches of one series, without the batch run with
// runs parked.
func (r *report) series(name string) []*batch {
	var out []*batch
	for _, b := range r.Batches {
		if b.Series == name && b.Round > 0 {
			out = append(out, b)
		}
	}
	return out
}

// writeMarkdown writes the report as Markdown tables.
func (r *report) writeMarkdown(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	floor, product := summarize(r.series(seriesFloor)), summarize(r.series(seriesProduct))
	p("## End-to-end benchmark: the product against its floor\n\n")
	p("%s, %s.\n\n", r.When.UTC().Format("2006-01-02 15:04 MST"), fmtDur(r.Took))
	for _, s := range r.Settings {
		p("- %s\n", s)
	}
	p("\n| | floor | product | product / floor |\n|---|---:|---:|---:|\n")
	p("| completions per second (median of %s) | %.2f | %.2f | %s |\n", plural(len(floor.Rates), "round"), floor.Rate, product.Rate, ratio(product.Rate, floor.Rate))
	fp, pp := pooledRate(r.series(seriesFloor)), pooledRate(r.series(seriesProduct))
	p("| completions per second (all rounds pooled) | %.2f | %.2f | %s |\n", fp, pp, ratio(pp, fp))
	for _, q := range []struct {
		name string
		f, p time.Duration
	}{{"p50", floor.P50, product.P50}, {"p95", floor.P95, product.P95}, {"p99", floor.P99, product.P99}} {
		p("| start → registered %s | %s | %s | %s |\n", q.name, ms(q.f), ms(q.p), ratio(float64(q.p), float64(q.f)))
	}
	p("| dev server CPU per onboarding | %s | %s | %s |\n", ms(floor.ServerCPU), ms(product.ServerCPU), ratio(float64(product.ServerCPU), float64(floor.ServerCPU)))
	p("| worker CPU per onboarding | %s | %s | %s |\n", ms(floor.WorkerCPU), ms(product.WorkerCPU), ratio(float64(product.WorkerCPU), float64(floor.WorkerCPU)))
	p("| driver + simulator CPU per onboarding | %s | %s | %s |\n", ms(floor.DriverCPU), ms(product.DriverCPU), ratio(float64(product.DriverCPU), float64(floor.DriverCPU)))
	p("| history events per happy path (start to registered) | %s | %s | %s |\n", num(floor.HistoryEvents), num(product.HistoryEvents), ratio(product.HistoryEvents, floor.HistoryEvents))
	p("| Graph calls per happy path | %s | %s | |\n", callsText(floor.GraphCalls), callsText(product.GraphCalls))
	p("| onboardings measured | %d | %d | |\n", floor.Runs, product.Runs)

	p("\nCompletions per second by round:\n\n| round | floor | product | product / floor |\n|---:|---:|---:|---:|\n")
	for i := range max(len(floor.Rates), len(product.Rates)) {
		var f, pr float64
		if i < len(floor.Rates) {
			f = floor.Rates[i]
		}
		if i < len(product.Rates) {
			pr = product.Rates[i]
		}
		p("| %d | %.2f | %.2f | %s |\n", i+1, f, pr, ratio(pr, f))
	}

	if k := r.Parked; k != nil {
		p("\n### Parked work: %d runs awaiting their code\n\n| | |\n|---|---:|\n", k.N)
		p("| time to start them | %s (%.0f starts/s) |\n", fmtDur(k.StartTook), perSec(k.N, k.StartTook))
		p("| until every one had asked for its code | %s (%.1f parked/s) |\n", fmtDur(k.ParkTook), perSec(k.N, k.ParkTook))
		p("| worker RSS at start / before parking (%d registered runs open) / with them parked | %s / %s / %s |\n",
			k.Open, mb(k.RSSStart), mb(k.RSSBefore), mb(k.RSSAfter))
		p("| worker RSS per parked run | %.1f KB |\n", float64(k.RSSAfter-k.RSSBefore)/1024/float64(max(k.N, 1)))
		p("| database (SQLite file, WAL included) before / after | %s / %s (%.1f KB per run) |\n",
			mb(k.DBBefore), mb(k.DBAfter), float64(k.DBAfter-k.DBBefore)/1024/float64(max(k.N, 1)))
		if f := k.Fresh; f != nil {
			s := summarize([]*batch{f})
			p("| %d fresh onboardings with them parked | %.2f/s (%s of the product's rate above), p50 %s, p95 %s |\n",
				s.Runs, s.Rate, ratio(s.Rate, product.Rate), ms(s.P50), ms(s.P95))
			p("| their dev server / worker CPU per onboarding | %s / %s |\n", ms(s.ServerCPU), ms(s.WorkerCPU))
		}
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func perSec(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func fmtDur(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// pooledRate is the onboardings of bs over their summed batch times: a
// slow or fast round weighs by its length, where the median drops it.
func pooledRate(bs []*batch) float64 {
	var n int
	var d time.Duration
	for _, b := range bs {
		n += len(b.Done)
		d += b.elapsed()
	}
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
