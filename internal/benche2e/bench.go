// Package benche2e is the end-to-end benchmark behind make bench-e2e: one
// Temporal dev server (SQLite file), one worker process (bin/worker), the
// Graph simulator, and a driver that onboards numbers through them.
//
// It runs the floor (package benchfloor: the onboarding's shape with no-op
// steps) and the product alternately, several rounds, then leaves many
// product runs parked awaiting their code and measures what they cost. It
// prints a Markdown table and writes it, with an SVG plot of completions
// over time, to a results folder.
//
// Both series run on the same worker process, started once with
// WA_BENCH_FLOOR=1: same binary, options, sticky cache, payload codec and
// connection, so the ratio is the product's cost over the floor's and
// nothing else.
package benche2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/wa-onboarding/onboarding/internal/benchfloor"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Config is one benchmark run.
type Config struct {
	Rounds      int // floor and product batches, alternating
	Batch       int // onboardings per batch
	Warmup      int // onboardings per series run, unmeasured, before the rounds
	Parked      int // product runs left awaiting their code; 0 skips
	Fresh       int // onboardings run with the parked ones waiting
	Concurrency int // starts in flight at once
	WorkerBin   string
	TemporalCLI string
	OutDir      string // "" writes no files
	// PlainPayloads runs without the payload codec; by default both series
	// encrypt with a generated key, as production does.
	PlainPayloads bool
	Keep          bool // keep the temporary folder (logs, database)
}

// Main runs the benchmark command with args (without the program name).
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := Config{}
	fs.IntVar(&cfg.Rounds, "rounds", 5, "rounds; each runs one batch of the floor and one of the product")
	fs.IntVar(&cfg.Batch, "batch", 200, "onboardings per batch")
	fs.IntVar(&cfg.Warmup, "warmup", 50, "onboardings per series run before the rounds and not measured (0: none)")
	fs.IntVar(&cfg.Parked, "parked", 10000, "product runs left awaiting their code (0 skips the parked-work figures)")
	fs.IntVar(&cfg.Fresh, "fresh", 50, "onboardings run while the parked runs wait")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "workflow starts in flight at once")
	fs.StringVar(&cfg.WorkerBin, "worker", "bin/worker", "worker binary (make build)")
	fs.StringVar(&cfg.TemporalCLI, "temporal", os.Getenv("TEMPORAL_CLI_PATH"), "Temporal CLI that runs the dev server (default $TEMPORAL_CLI_PATH)")
	fs.StringVar(&cfg.OutDir, "out", "bench/results", "folder for e2e.md and e2e.svg (empty: print only)")
	fs.BoolVar(&cfg.PlainPayloads, "plain", false, "run without payload encryption (both series)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the temporary folder with the database and the logs")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bench [flags]\n\nRuns the end-to-end benchmark (make bench-e2e): the product against its floor on one\n"+
			"Temporal dev server and one worker process, then the cost of runs parked awaiting their code.\n"+
			"Worker tuning (WA_WORKER_*), GOGC, GOMEMLIMIT and GOMAXPROCS are passed on to the worker.\n"+
			"Quick run: bench -rounds 1 -batch 20 -parked 200\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "bench: "+format+"\n", args...)
	}
	rep, err := Run(ctx, cfg, logf)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	rep.writeMarkdown(stdout)
	if cfg.OutDir != "" {
		if err := rep.save(cfg.OutDir); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		logf("wrote %s and %s", filepath.Join(cfg.OutDir, "e2e.md"), filepath.Join(cfg.OutDir, "e2e.svg"))
	}
	return 0
}

func (c Config) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Rounds >= 1, "-rounds: must be at least 1")
	check(c.Batch >= 1, "-batch: must be at least 1")
	check(c.Warmup >= 0, "-warmup: must be 0 or more")
	check(c.Parked >= 0, "-parked: must be 0 or more")
	check(c.Fresh >= 1 || c.Parked == 0, "-fresh: must be at least 1 when -parked is set")
	check(c.Concurrency >= 1, "-concurrency: must be at least 1")
	check((c.Rounds*c.Batch+c.Warmup)*2+c.Parked+c.Fresh < 1_000_000_000, "-rounds, -batch, -parked: too many numbers")
	if fi, err := os.Stat(c.WorkerBin); err != nil || fi.IsDir() {
		errs = append(errs, fmt.Errorf("-worker: %s is not a built worker binary (run make build)", c.WorkerBin))
	}
	if c.TemporalCLI == "" {
		errs = append(errs, errors.New("-temporal: no Temporal CLI given and TEMPORAL_CLI_PATH is not set (make bench-e2e sets it)"))
	} else if _, err := os.Stat(c.TemporalCLI); err != nil {
		errs = append(errs, fmt.Errorf("-temporal: %s does not exist (run make tools)", c.TemporalCLI))
	}
	return errors.Join(errs...)
}

// Run runs the benchmark and returns what it measured.
func Run(ctx context.Context, cfg Config, logf func(string, ...any)) (*report, error) {
	begin := time.Now()
	rep := &report{When: begin}
	load0 := loadAverage()
	s, err := startStack(ctx, cfg, logf)
	if err != nil {
		return nil, err
	}
	defer s.close()
	smp := newSampler(s.server.Process.Pid, s.worker.Process.Pid, os.Getpid())
	sctx, stopSampler := context.WithCancel(ctx)
	defer stopSampler()
	go smp.run(sctx, 200*time.Millisecond)
	d := &driver{stack: s, smp: smp, logf: logf}

	// A fresh server and worker run their first batch at another pace
	// (caches, connections, the first pages of the database file): a
	// warm-up batch of each series, not measured, takes that out of round
	// one, where the floor always goes first.
	if cfg.Warmup > 0 {
		for _, series := range []string{seriesFloor, seriesProduct} {
			b, err := d.runBatch(ctx, series, 0, cfg.Warmup)
			if err != nil {
				return nil, fmt.Errorf("warm-up, %s: %w", series, err)
			}
			logf("warm-up %s: %d in %s, %.2f/s (not measured)", series, len(b.Done), b.elapsed().Round(time.Millisecond), b.rate())
		}
	}
	for r := 1; r <= cfg.Rounds; r++ {
		order := []string{seriesFloor, seriesProduct}
		if r%2 == 0 {
			order[0], order[1] = order[1], order[0]
		}
		for _, series := range order {
			b, err := d.runBatch(ctx, series, r, cfg.Batch)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r, series, err)
			}
			logf("round %d %s: %d in %s, %.2f/s", r, series, len(b.Done), b.elapsed().Round(time.Millisecond), b.rate())
			rep.Batches = append(rep.Batches, b)
		}
	}
	if cfg.Parked > 0 {
		p, err := d.runParked(ctx, cfg.Parked, cfg.Fresh)
		if err != nil {
			return nil, fmt.Errorf("parked runs: %w", err)
		}
		rep.Parked = p
		rep.Batches = append(rep.Batches, p.Fresh)
	}
	rep.Took = time.Since(begin)
	rep.Settings = settings(cfg, s, load0, loadAverage())
	return rep, nil
}

func settings(cfg Config, s *stack, load0, load1 float64) []string {
	payloads := "encrypted by the payload codec with a generated key, as in production"
	if cfg.PlainPayloads {
		payloads = "plain (-plain)"
	}
	var tune []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WA_WORKER_") || strings.HasPrefix(kv, "GOGC=") || strings.HasPrefix(kv, "GOMEMLIMIT=") || strings.HasPrefix(kv, "GOMAXPROCS=") {
			tune = append(tune, "`"+kv+"`")
		}
	}
	sort.Strings(tune)
	tuning := "the worker's defaults"
	if len(tune) > 0 {
		tuning = strings.Join(tune, ", ")
	}
	parked := "none"
	if cfg.Parked > 0 {
		parked = fmt.Sprintf("%d, then %d fresh onboardings", cfg.Parked, cfg.Fresh)
	}
	return []string{
		fmt.Sprintf("machine: %d cores; load average (1 min) %.2f at start, %.2f at end (other processes share the cores)", runtime.NumCPU(), load0, load1),
		fmt.Sprintf("one Temporal dev server (`%s`, SQLite file), one worker process (`WA_BENCH_FLOOR=1 %s`) serving both series, the Graph simulator in the driver's process (names approved at once)",
			filepath.Base(filepath.Dir(cfg.TemporalCLI)), filepath.Base(cfg.WorkerBin)),
		"payloads: " + payloads + "; worker tuning: " + tuning,
		fmt.Sprintf("%s of %d onboardings per series, alternating (floor first in odd rounds), after a warm-up of %d per series, not measured; parked: %s", plural(cfg.Rounds, "round"), cfg.Batch, cfg.Warmup, parked),
		"registered: the run's `RegisteredAt` (workflow time of the task that saw register succeed; the floor returns the same instant); " +
			"codes are submitted by update as soon as they were asked for: the product's when the simulator has sent them, the floor's when its request-code step posts to the driver; " +
			"batches end when a visibility count, polled every 250 ms for both series, says every run is registered",
	}
}

// save writes e2e.md and e2e.svg to dir.
func (r *report) save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var md strings.Builder
	r.writeMarkdown(&md)
	md.WriteString("\n![completions over time](e2e.svg)\n")
	if err := os.WriteFile(filepath.Join(dir, "e2e.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	var svg strings.Builder
	writeSVG(&svg, "Onboardings registered over time, per batch", r.Batches)
	return os.WriteFile(filepath.Join(dir, "e2e.svg"), []byte(svg.String()), 0o644)
}

// driver starts onboardings and watches them finish.
type driver struct {
	*stack
	smp  *sampler
	logf func(string, ...any)

	seq         int
	floorDone   int64 // floor runs completed so far
	productDone int64 // product runs registered so far
}

func (d *driver) numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		d.seq++
		out[i] = fmt.Sprintf("5%09d", d.seq)
	}
	return out
}

func onboardInput(national string) onboarding.OnboardInput {
	return onboarding.OnboardInput{WABAID: wabaID, CountryCode: "1", PhoneNumber: national,
		DisplayName: "Bench Support", PIN: benchPIN}
}

func floorID(national string) string { return floorWorkflowID("+1" + national) }

func floorWorkflowID(number string) string { return "bench-floor-" + number }

// runBatch onboards n new numbers of series at once and waits until all are
// registered.
func (d *driver) runBatch(ctx context.Context, series string, round, n int) (*batch, error) {
	nums := d.numbers(n)
	b := &batch{Series: series, Round: round, Starts: make([]time.Time, n), Done: make([]time.Time, n)}
	callsBefore := len(d.sim.Calls())
	before := d.smp.now()
	if series == seriesProduct {
		for _, num := range nums {
			d.wanted.Store("1"+num, struct{}{})
		}
	}
	err := parallel(ctx, n, d.cfg.Concurrency, func(ctx context.Context, i int) error {
		b.Starts[i] = time.Now()
		if series == seriesProduct {
			run, err := d.oc.Onboard(ctx, onboardInput(nums[i]))
			if err == nil && run.AlreadyRunning {
				err = fmt.Errorf("+1%s is already onboarding", nums[i])
			}
			return err
		}
		_, err := d.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: floorID(nums[i]), TaskQueue: onboarding.TaskQueue},
			benchfloor.WorkflowType, benchfloor.Input{Number: "+1" + nums[i], PIN: benchPIN})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("starting: %w", err)
	}

	query, target := "", int64(0)
	if series == seriesFloor {
		query = fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Completed'", benchfloor.WorkflowType)
		d.floorDone += int64(n)
		target = d.floorDone
	} else {
		query = fmt.Sprintf("%s = '%s'", onboarding.SearchAttributeStage.GetName(), onboarding.StageRegistered)
		d.productDone += int64(n)
		target = d.productDone
	}
	if err := d.waitCount(ctx, query, target, 10*time.Minute+time.Duration(n)*time.Second); err != nil {
		return nil, err
	}
	// Every code's update has answered: the floor's wait for the run's
	// verify step, the product's for Meta's.
	d.codeWG.Wait()

	// Completion times are read after the batch, outside its CPU window.
	err = parallel(ctx, n, d.cfg.Concurrency, func(ctx context.Context, i int) error {
		if series == seriesFloor {
			var res benchfloor.Result
			if err := d.c.GetWorkflow(ctx, floorID(nums[i]), "").Get(ctx, &res); err != nil {
				return err
			}
			b.Done[i] = res.RegisteredAt
			return nil
		}
		for range 50 {
			st, err := d.oc.Status(ctx, "+1"+nums[i])
			if err != nil {
				return err
			}
			if st.Stage == onboarding.StageRegistered && !st.RegisteredAt.IsZero() {
				b.Done[i] = st.RegisteredAt
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("+1%s: visibility says registered, its status does not", nums[i])
	})
	if err != nil {
		return nil, fmt.Errorf("reading completion times: %w", err)
	}
	after := d.smp.at(b.last())
	b.ServerCPU, b.WorkerCPU, b.DriverCPU = after.server-before.server, after.worker-before.worker, after.self-before.self

	calls := d.sim.Calls()[callsBefore:]
	b.GraphCalls = map[string]int{}
	for _, c := range calls {
		b.GraphCalls[c.Endpoint]++
	}
	sample := min(n, 5)
	var events int
	for i := range sample {
		id := floorID(nums[i])
		if series == seriesProduct {
			id = onboarding.WorkflowID("1", nums[i])
		}
		k, err := d.historyLength(ctx, id)
		if err != nil {
			return nil, err
		}
		events += k
	}
	b.HistoryEvents = float64(events) / float64(sample)
	return b, nil
}

// runParked starts n product onboardings whose codes never come, waits
// until every one has asked for its code and the worker is idle, measures,
// then runs fresh onboardings beside them.
func (d *driver) runParked(ctx context.Context, n, fresh int) (*parked, error) {
	p := &parked{N: n, RSSStart: d.smp.first().rss, Open: int(d.productDone)}
	d.waitIdle(ctx)
	var err error
	if p.RSSBefore, err = procRSS(d.worker.Process.Pid); err != nil {
		return nil, err
	}
	p.DBBefore = d.dbSize()
	nums := d.numbers(n)
	base := d.parkedCodes.Load()
	t0 := time.Now()
	d.logf("parking %d runs", n)
	err = parallel(ctx, n, d.cfg.Concurrency, func(ctx context.Context, i int) error {
		_, err := d.oc.Onboard(ctx, onboardInput(nums[i]))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("starting: %w", err)
	}
	p.StartTook = time.Since(t0)
	d.logf("%d started in %s", n, p.StartTook.Round(time.Millisecond))
	deadline := time.Now().Add(30*time.Minute + time.Duration(n)*time.Second)
	for d.parkedCodes.Load()-base < int64(n) {
		if err := d.alive(ctx); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d runs asked for their code in time", d.parkedCodes.Load()-base, n)
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.ParkTook = time.Unix(0, d.lastParked.Load()).Sub(t0)
	d.logf("%d parked in %s", n, p.ParkTook.Round(time.Millisecond))
	d.waitIdle(ctx)
	if p.RSSAfter, err = procRSS(d.worker.Process.Pid); err != nil {
		return nil, err
	}
	p.DBAfter = d.dbSize()
	if p.Fresh, err = d.runBatch(ctx, seriesProduct, 0, fresh); err != nil {
		return nil, fmt.Errorf("fresh onboardings: %w", err)
	}
	d.logf("%d fresh onboardings with %d parked: %.2f/s", fresh, n, p.Fresh.rate())
	return p, nil
}

func (d *driver) dbSize() int64 {
	return fileSizes(d.dbPath, d.dbPath+"-wal", d.dbPath+"-shm")
}

// waitIdle waits until the worker used less than 2% of a core for a second
// (at most a minute): the last workflow tasks of a phase are done.
func (d *driver) waitIdle(ctx context.Context) {
	deadline := time.Now().Add(time.Minute)
	prev := d.smp.now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Second)
		cur := d.smp.now()
		if cur.worker-prev.worker < 20*time.Millisecond {
			return
		}
		prev = cur
	}
}

func (d *driver) alive(ctx context.Context) error {
	select {
	case <-d.workerExited:
		return errors.New("the worker process exited; see its log (run with -keep)")
	case err := <-d.codeErrs:
		return err
	default:
		return ctx.Err()
	}
}

// waitCount polls a visibility count until it reaches target.
func (d *driver) waitCount(ctx context.Context, query string, target int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var got int64
	for {
		if err := d.alive(ctx); err != nil {
			return err
		}
		resp, err := d.c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		if err == nil {
			got = resp.GetCount()
			if got >= target {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d runs done after %s (%s)", got, target, timeout, query)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (d *driver) historyLength(ctx context.Context, id string) (int, error) {
	it := d.c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			return 0, fmt.Errorf("history of %s: %w", id, err)
		}
		n++
	}
	return n, nil
}

// parallel runs f for 0..n-1, at most width at once, and returns the first
// error.
func parallel(ctx context.Context, n, width int, f func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range min(width, n) {
		wg.Go(func() {
			for i := range next {
				if err := f(ctx, i); err != nil {
					select {
					case errc <- err:
					default:
					}
					cancel()
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return ctx.Err()
	}
}
