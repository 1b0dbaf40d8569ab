// Package chaos onboards many numbers through the real worker binary while it
// breaks things: it starts its own Temporal dev server on a SQLite file, the
// Graph API simulator and several worker processes, injects simulator faults
// (lost answers above all), SIGKILLs workers and restarts the dev server, and
// plays the operator who types the codes Meta sends. It then reads the
// simulator's books and the workflows' histories and reports whether every
// number was onboarded exactly once, within Meta's budget, without a good
// code being refused and without a nondeterministic workflow task.
//
// Command chaos (make chaos) runs the full version; a small one runs in
// make test.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// WABAID is the WABA every chaos number is onboarded on.
const WABAID = "100000000000001"

const accessToken = "chaos-sim-token"

// Config sizes a chaos run. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// Numbers is how many numbers are onboarded.
	Numbers int
	// Workers is how many worker processes poll the task queue.
	Workers int
	// WorkerKills is how many times a worker is SIGKILLed (and started
	// again), the first after KillEvery, then every KillEvery, round robin.
	WorkerKills int
	KillEvery   time.Duration
	// RestartServerAt is when the dev server is killed and started again on
	// its database file; 0 means never.
	RestartServerAt time.Duration
	// StartOver spreads the starts of the onboardings over this time, so
	// the kills and the restart land among onboardings in flight.
	StartOver time.Duration
	// Deadline bounds the run from the first start: a number not registered
	// by then is lost.
	Deadline time.Duration
	// FaultsFor is how long faults are injected; DefaultConfig gives half the
	// deadline, so the product has time to recover from the last ones.
	FaultsFor time.Duration
	Profile   Profile
	// ChangeRegionEvery makes every n-th number change its region once
	// registered (deregister, then register again); 0 never.
	ChangeRegionEvery int
	// TemporalCLI is the temporal binary; WorkerBin the worker binary.
	TemporalCLI string
	WorkerBin   string
	// Dir holds the database and the logs; a new temporary folder when
	// empty, removed afterwards unless Keep is set.
	Dir  string
	Keep bool
	Seed uint64
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// DefaultConfig is the full run of make chaos.
func DefaultConfig() Config {
	return Config{
		Numbers: 200, Workers: 2, WorkerKills: 2, KillEvery: 10 * time.Second,
		RestartServerAt: 25 * time.Second, StartOver: 30 * time.Second, Deadline: 6 * time.Minute,
		Profile: ProfileFull, ChangeRegionEvery: 10, Seed: 1,
	}
}

// Validate fills in the defaults of zero fields and checks the rest, naming
// the field and the rule it broke. Run calls it first.
func (c *Config) Validate() error {
	d := DefaultConfig()
	if c.Numbers == 0 {
		c.Numbers = d.Numbers
	}
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.KillEvery == 0 {
		c.KillEvery = d.KillEvery
	}
	if c.StartOver == 0 {
		c.StartOver = d.StartOver
	}
	if c.Deadline == 0 {
		c.Deadline = d.Deadline
	}
	if c.FaultsFor == 0 {
		c.FaultsFor = c.Deadline / 2
	}
	if c.Profile == "" {
		c.Profile = d.Profile
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	switch {
	case c.Numbers < 1 || c.Numbers > 100000:
		return errors.New("numbers: must be between 1 and 100000")
	case c.Workers < 1:
		return errors.New("workers: must be at least 1")
	case c.WorkerKills < 0:
		return errors.New("worker kills: must be 0 or more")
	case c.Profile != ProfileFull && c.Profile != ProfileLostAnswers:
		return fmt.Errorf("profile: must be %s or %s, not %q", ProfileFull, ProfileLostAnswers, c.Profile)
	case c.Deadline < 0 || c.KillEvery < 0 || c.StartOver < 0 || c.RestartServerAt < 0 || c.FaultsFor < 0:
		return errors.New("durations: must not be negative")
	case c.TemporalCLI == "":
		return errors.New("temporal CLI: path required (TEMPORAL_CLI_PATH, set by the Makefile)")
	case c.WorkerBin == "":
		return errors.New("worker binary: path required (make chaos builds bin/worker)")
	}
	for _, p := range []string{c.TemporalCLI, c.WorkerBin} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// harness is one chaos run: the stack it started and what it saw.
type harness struct {
	cfg Config
	dir string
	rng *rand.Rand

	dev     *devServer
	sim     *graphsim.Server
	simSrv  *simServer
	keys    string
	opener  *seal.Opener // the workers' seal key, to read the codes the runs verified
	dc      converter.DataConverter
	fc      converter.FailureConverter
	tc, raw client.Client
	oc      *onboarding.Client
	workers []*workerProc
	watch   *simWatch

	t0     time.Time
	mu     sync.Mutex
	events []Event
}

// Event is a chaos action the harness took, for the report.
type Event struct {
	At   time.Duration `json:"at"`
	What string        `json:"what"`
}

// Run starts the stack, onboards cfg.Numbers numbers through chaos, stops
// the stack and returns the report. An error means the harness itself could
// not run (no dev server, no worker); a product failure is a report whose
// Pass is false.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &harness{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed))}
	defer h.shutdown()
	if err := h.startStack(ctx); err != nil {
		return nil, err
	}
	return h.run(ctx)
}

func (h *harness) logf(format string, args ...any) {
	at := time.Duration(0)
	if !h.t0.IsZero() {
		at = time.Since(h.t0).Round(100 * time.Millisecond)
	}
	fmt.Fprintf(h.cfg.Log, "chaos %7s  %s\n", at, fmt.Sprintf(format, args...))
}

func (h *harness) event(format string, args ...any) {
	e := Event{At: time.Since(h.t0).Round(100 * time.Millisecond), What: fmt.Sprintf(format, args...)}
	h.mu.Lock()
	h.events = append(h.events, e)
	h.mu.Unlock()
	h.logf("%s", e.What)
}

func (h *harness) startStack(ctx context.Context) error {
	h.dir = h.cfg.Dir
	if h.dir == "" {
		d, err := os.MkdirTemp("", "wa-chaos-")
		if err != nil {
			return err
		}
		h.dir = d
	} else if err := os.MkdirAll(h.dir, 0o700); err != nil {
		return err
	}
	h.logf("state and logs in %s", h.dir)

	var err error
	if h.dev, err = newDevServer(h.cfg.TemporalCLI, h.dir); err != nil {
		return err
	}
	if err := h.dev.start(ctx); err != nil {
		return err
	}
	h.logf("Temporal dev server on %s, database %s", h.dev.hostPort(), h.dev.db)

	simLog, err := os.Create(filepath.Join(h.dir, "simulator.log"))
	if err != nil {
		return err
	}
	h.sim = graphsim.New(graphsim.Options{Token: accessToken,
		Logger: slog.New(slog.NewTextHandler(simLog, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	h.sim.CreateWABA(WABAID)
	if h.simSrv, err = serveSim(h.sim); err != nil {
		return err
	}

	key, err := codec.GenerateKey()
	if err != nil {
		return err
	}
	h.keys = "chaos-1:" + key
	ring, err := codec.ParseKeys(h.keys)
	if err != nil {
		return err
	}
	h.dc, h.fc = codec.ClientOptions(ring)
	if h.tc, err = client.DialContext(ctx, client.Options{HostPort: h.dev.hostPort(), DataConverter: h.dc,
		FailureConverter: h.fc, Logger: quietLogger()}); err != nil {
		return err
	}
	if h.raw, err = client.DialContext(ctx, client.Options{HostPort: h.dev.hostPort(), Logger: quietLogger()}); err != nil {
		return err
	}
	// The workers hold the private seal key; the operator's client seals
	// PINs and codes to it, as the starter does.
	sealKey, err := seal.GenerateKey("chaos-1")
	if err != nil {
		return err
	}
	pub, err := sealKey.Public()
	if err != nil {
		return err
	}
	sealer, err := seal.NewSealer(pub)
	if err != nil {
		return err
	}
	if h.opener, err = seal.NewOpener(sealKey); err != nil {
		return err
	}
	h.oc = onboarding.NewClient(h.tc, onboarding.WithSealer(sealer))

	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"TEMPORAL_ADDRESS=" + h.dev.hostPort(), "TEMPORAL_NAMESPACE=default",
		"WA_CODEC_KEYS=" + h.keys, seal.EnvPrivateKeys + "=" + sealKey.Encode(),
		"GRAPH_API_URL=" + h.simSrv.base + "/v21.0", "WHATSAPP_ACCESS_TOKEN=" + accessToken,
		"LOG_FORMAT=json", "LOG_LEVEL=warn",
	}
	for i := range h.cfg.Workers {
		w := &workerProc{name: fmt.Sprintf("worker-%d", i+1), bin: h.cfg.WorkerBin, env: env,
			logPath: filepath.Join(h.dir, fmt.Sprintf("worker-%d.log", i+1))}
		if err := w.start(); err != nil {
			return err
		}
		h.workers = append(h.workers, w)
	}
	h.logf("%d workers started, simulator on %s", len(h.workers), h.simSrv.base)
	h.watch = newSimWatch(h.sim)
	return nil
}

func (h *harness) shutdown() {
	for _, w := range h.workers {
		w.stop(syscall.SIGTERM)
	}
	if h.tc != nil {
		h.tc.Close()
	}
	if h.raw != nil {
		h.raw.Close()
	}
	if h.dev != nil {
		h.dev.stop(syscall.SIGTERM)
	}
	if h.sim != nil {
		h.sim.Close()
	}
	if h.simSrv != nil {
		h.simSrv.close()
	}
	if h.dir != "" && h.cfg.Dir == "" && !h.cfg.Keep {
		os.RemoveAll(h.dir)
	}
}

func (h *harness) run(ctx context.Context) (*Report, error) {
	plans := h.plan()
	queue, err := plan(h.cfg.Profile, h.rng)
	if err != nil {
		return nil, err
	}
	h.t0 = time.Now()
	deadline, cancel := context.WithTimeout(ctx, h.cfg.Deadline)
	defer cancel()

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go h.watch.run(watchCtx, 150*time.Millisecond)

	faults := newFaultScheduler(h.sim, h.simSrv.base, queue)
	faultCtx, stopFaults := context.WithTimeout(deadline, h.cfg.FaultsFor)
	defer stopFaults()
	faultsDone := make(chan struct{})
	go func() { faults.run(faultCtx, 200*time.Millisecond); close(faultsDone) }()

	chaosCtx, stopChaos := context.WithCancel(deadline)
	defer stopChaos()
	chaosDone := make(chan struct{})
	go func() { h.chaos(chaosCtx); close(chaosDone) }()

	runs := make([]*numberRun, len(plans))
	var wg sync.WaitGroup
	for i, p := range plans {
		runs[i] = &numberRun{plan: p}
		at := time.Duration(0)
		if len(plans) > 1 {
			at = h.cfg.StartOver * time.Duration(i) / time.Duration(len(plans)-1)
		}
		wg.Go(func() {
			select {
			case <-time.After(time.Until(h.t0.Add(at))):
			case <-deadline.Done():
				return
			}
			h.operate(deadline, runs[i])
		})
	}
	progressDone := make(chan struct{})
	go h.progress(deadline, runs, progressDone)
	wg.Wait()
	close(progressDone)
	h.logf("operators done (%s); waiting for the chaos schedule to finish", time.Since(h.t0).Round(time.Second))
	// The kills and the restart are part of the test: a run that ends
	// before them has not shown anything about them, and the report says so.
	select {
	case <-chaosDone:
	case <-deadline.Done():
		stopChaos()
		<-chaosDone
	}
	stopFaults()
	<-faultsDone
	injections, notInjected := faults.stop()
	stopWatch()
	elapsed := time.Since(h.t0)

	h.logf("collecting statuses, simulator books and histories")
	obs, err := h.collect(ctx, runs)
	if err != nil {
		return nil, err
	}
	obs.Injections, obs.NotInjected = injections, notInjected
	obs.Events = h.events
	obs.Elapsed = elapsed
	rep := analyze(h.cfg, obs)
	if h.cfg.Dir != "" || h.cfg.Keep {
		rep.Dir = h.dir
	}
	return rep, nil
}

// progress logs a line every 10 s.
func (h *harness) progress(ctx context.Context, runs []*numberRun, done <-chan struct{}) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-t.C:
		}
		started, registered, finished := 0, 0, 0
		for _, r := range runs {
			r.mu.Lock()
			if !r.startedAt.IsZero() {
				started++
			}
			if !r.firstRegistered.IsZero() {
				registered++
			}
			if r.done {
				finished++
			}
			r.mu.Unlock()
		}
		h.logf("%d started, %d registered, %d in their final state, %d faults pending", started, registered, finished,
			len(h.sim.Faults()))
	}
}

// chaos runs the worker kills and the server restart on schedule.
func (h *harness) chaos(ctx context.Context) {
	type step struct {
		at time.Duration
		do func()
	}
	var steps []step
	for k := range h.cfg.WorkerKills {
		w := h.workers[k%len(h.workers)]
		steps = append(steps, step{h.cfg.KillEvery * time.Duration(k+1), func() {
			w.stop(syscall.SIGKILL)
			h.event("SIGKILL %s", w.name)
			time.Sleep(2 * time.Second)
			if err := w.start(); err != nil {
				h.event("cannot restart %s: %v", w.name, err)
				return
			}
			h.event("%s started again", w.name)
		}})
	}
	if h.cfg.RestartServerAt > 0 {
		steps = append(steps, step{h.cfg.RestartServerAt, func() {
			h.dev.stop(syscall.SIGKILL)
			h.event("SIGKILL Temporal dev server")
			time.Sleep(time.Second)
			// Started with a fresh context: the rest of the run needs it
			// whatever happens to the schedule.
			if err := h.dev.start(context.Background()); err != nil {
				h.event("cannot restart the dev server: %v", err)
				return
			}
			h.event("Temporal dev server started again on %s", filepath.Base(h.dev.db))
		}})
	}
	for i := range steps {
		for j := i + 1; j < len(steps); j++ {
			if steps[j].at < steps[i].at {
				steps[i], steps[j] = steps[j], steps[i]
			}
		}
	}
	for _, s := range steps {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(h.t0.Add(s.at))):
		}
		s.do()
	}
}

// numberPlan is one number and how it is onboarded.
type numberPlan struct {
	Index         int    `json:"index"`
	CC            string `json:"cc"`
	National      string `json:"national"`
	Kind          string `json:"kind"` // new, preverified, adopted, adopted-verified
	PreverifiedID string `json:"preverified_id,omitempty"`
	Signal        bool   `json:"signal,omitempty"` // codes go by signal, not update
	Method        onboarding.CodeMethod
	Region        string `json:"region,omitempty"`
	FinalRegion   string `json:"final_region,omitempty"` // != Region: change-region once registered
}

func (p numberPlan) e164() string   { return "+" + p.CC + p.National }
func (p numberPlan) digits() string { return p.CC + p.National }
func (p numberPlan) pin() string    { return fmt.Sprintf("%06d", 100000+p.Index*7919%900000) }

// Kinds of numbers.
const (
	kindNew             = "new"
	kindPreverified     = "preverified"
	kindAdopted         = "adopted"
	kindAdoptedVerified = "adopted-verified"
)

// plan picks the numbers: mostly new ones, a tenth pre-verified, a tenth
// already on the WABA (half of those already verified), a quarter sending
// codes by signal, a fifth by voice, some with a region, every
// ChangeRegionEvery-th changing it once registered.
func (h *harness) plan() []numberPlan {
	out := make([]numberPlan, h.cfg.Numbers)
	for i := range out {
		p := numberPlan{Index: i, CC: "1", National: fmt.Sprintf("556%07d", i+1), Kind: kindNew, Method: onboarding.CodeSMS}
		switch i % 20 {
		case 3, 13:
			p.Kind = kindPreverified
			p.PreverifiedID = h.sim.AddPreverifiedNumber(p.CC, p.National)
		case 7:
			p.Kind = kindAdopted
			if _, err := h.sim.SeedNumber(WABAID, p.CC, p.National); err != nil {
				panic(err) // the plan's numbers are valid and distinct
			}
		case 17:
			p.Kind = kindAdoptedVerified
			if _, err := h.sim.SeedNumber(WABAID, p.CC, p.National, graphsim.Verified()); err != nil {
				panic(err)
			}
		}
		p.Signal = i%4 == 1
		if i%5 == 2 {
			p.Method = onboarding.CodeVoice
		}
		if i%6 == 0 {
			p.Region = "CH"
		}
		p.FinalRegion = p.Region
		if n := h.cfg.ChangeRegionEvery; n > 0 && i%n == n/2 {
			p.FinalRegion = "DE"
		}
		out[i] = p
	}
	return out
}

// submission is one code the operator sent.
type submission struct {
	Code     string    `json:"-"`
	SentAt   time.Time `json:"sent_at"` // when the simulator sent it
	At       time.Time `json:"at"`
	Signal   bool      `json:"signal,omitempty"`
	Latest   bool      `json:"latest"` // the simulator's latest live code when submitted
	Answered bool      `json:"answered"`
	Accepted bool      `json:"accepted"`
	Message  string    `json:"message,omitempty"`
	Errors   int       `json:"errors,omitempty"`
	LastErr  string    `json:"last_error,omitempty"`
	// ResendAt is when the operator next asked for a new code, zero if
	// never: a signalled code refused after that was superseded on purpose.
	ResendAt time.Time `json:"resend_at,omitzero"`
}

// numberRun is what the operator of one number did and saw.
type numberRun struct {
	plan numberPlan

	mu              sync.Mutex
	startedAt       time.Time
	firstRegistered time.Time
	done            bool
	subs            []submission
	resends         int
	changeSent      bool
}

// operate plays the operator of one number until it reaches its final state
// or ctx ends: start the onboarding, type every new code the simulator sends
// as soon as it is sent, ask for a new code when the run sits waiting with
// nothing new to type, and change the region once registered if planned.
func (h *harness) operate(ctx context.Context, r *numberRun) {
	p := r.plan
	in := onboarding.OnboardInput{WABAID: WABAID, CountryCode: p.CC, PhoneNumber: p.National,
		DisplayName: fmt.Sprintf("Chaos %04d", p.Index), PIN: p.pin(), Region: p.Region,
		CodeMethod: p.Method, PreverifiedID: p.PreverifiedID}
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := h.oc.Onboard(cctx, in)
		cancel()
		if err == nil {
			break
		}
		if !sleepCtx(ctx, time.Second) {
			return
		}
	}
	r.mu.Lock()
	r.startedAt = time.Now()
	r.mu.Unlock()

	want := p.Region
	var lastSentAt, lastSubmit, lastQuery, lastResend time.Time
	waiting := false // the last status seen was awaiting_code
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		snap, known := h.watch.get(p.digits())
		if known && snap.Code != nil && !snap.Code.SentAt.Equal(lastSentAt) && time.Now().Before(snap.Code.ExpiresAt) {
			lastSentAt = snap.Code.SentAt
			h.submit(ctx, r, *snap.Code)
			lastSubmit = time.Now()
			continue
		}
		now := time.Now()
		connected := known && snap.Status == graph.StatusConnected && snap.DataLocalizationRegion == want
		if !(connected && now.Sub(lastQuery) > time.Second) && !(waiting && now.Sub(lastQuery) > 5*time.Second) &&
			now.Sub(lastQuery) < 15*time.Second {
			continue
		}
		lastQuery = now
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		st, err := h.oc.Status(qctx, p.e164())
		cancel()
		if err != nil {
			continue
		}
		if st.Stage == onboarding.StageRegistered && st.Region == want {
			r.mu.Lock()
			if r.firstRegistered.IsZero() {
				r.firstRegistered = st.RegisteredAt
			}
			r.mu.Unlock()
			if want != p.FinalRegion {
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := h.oc.ChangeRegion(cctx, p.e164(), p.FinalRegion, false)
				cancel()
				if err == nil {
					want = p.FinalRegion
					r.mu.Lock()
					r.changeSent = true
					r.mu.Unlock()
				}
				continue
			}
			r.mu.Lock()
			r.done = true
			r.mu.Unlock()
			return
		}
		// The run waits for a code, its last request to Meta is over (after
		// any resend of ours), and for 8 s nothing new came that could be
		// typed: no code arrived, or the one typed did not do it. Ask for a
		// new one, as a person would.
		waiting = st.Stage == onboarding.StageAwaitingCode
		cur, _, hasCode := h.sim.SentCodeFor(p.e164())
		inboxStale := !hasCode || cur.SentAt.Equal(lastSentAt)
		requestOver := !st.CodeRequestedAt.IsZero() && st.CodeRequestedAt.After(lastResend)
		quietSince := latest(st.CodeRequestedAt, lastSubmit, lastResend)
		if waiting && inboxStale && requestOver && now.Sub(quietSince) > 8*time.Second && r.resendCount() < 3 {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := h.oc.ResendCode(cctx, p.e164(), onboarding.ResendInput{})
			cancel()
			if err == nil {
				lastResend = time.Now()
				r.mu.Lock()
				r.resends++
				// A signalled code still queued in the run is superseded
				// by this request: its refusal from now on is the
				// operator's doing, not the product's.
				if n := len(r.subs); n > 0 && r.subs[n-1].ResendAt.IsZero() {
					r.subs[n-1].ResendAt = lastResend
				}
				r.mu.Unlock()
			}
		}
	}
}

func (r *numberRun) resendCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resends
}

// submit sends one code, by signal or by update, retrying transport errors
// (a restarting server) while the code is still the latest one sent.
func (h *harness) submit(ctx context.Context, r *numberRun, code graphsim.SentCode) {
	p := r.plan
	s := submission{Code: code.Code, SentAt: code.SentAt, At: time.Now(), Signal: p.Signal}
	for attempt := 0; ; attempt++ {
		cur, _, ok := h.sim.SentCodeFor(p.e164())
		latest := ok && cur.Code == code.Code && cur.SentAt.Equal(code.SentAt) && time.Now().Before(cur.ExpiresAt)
		if attempt == 0 {
			s.Latest = latest
		} else if !latest || attempt >= 10 || ctx.Err() != nil {
			break
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		var err error
		if p.Signal {
			err = h.oc.SignalCode(cctx, p.e164(), code.Code)
		} else {
			var res onboarding.CodeResult
			res, err = h.oc.SendCode(cctx, p.e164(), code.Code)
			s.Accepted, s.Message = res.Accepted, res.Message
		}
		cancel()
		if err == nil {
			s.Answered = true
			break
		}
		s.Errors++
		s.LastErr = err.Error()
		if !sleepCtx(ctx, time.Second) {
			break
		}
	}
	r.mu.Lock()
	r.subs = append(r.subs, s)
	r.mu.Unlock()
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// simWatch keeps a recent snapshot of the simulator's numbers by E.164
// digits, so 200 operators do not each copy the whole state.
type simWatch struct {
	sim *graphsim.Server
	mu  sync.RWMutex
	by  map[string]graphsim.Number
}

func newSimWatch(sim *graphsim.Server) *simWatch {
	w := &simWatch{sim: sim}
	w.refresh()
	return w
}

func (w *simWatch) refresh() {
	by := map[string]graphsim.Number{}
	for _, n := range w.sim.Numbers() {
		if n.DeletedAt.IsZero() {
			by[n.CC+n.PhoneNumber] = n
		}
	}
	w.mu.Lock()
	w.by = by
	w.mu.Unlock()
}

func (w *simWatch) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.refresh()
		}
	}
}

func (w *simWatch) get(digits string) (graphsim.Number, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	n, ok := w.by[digits]
	return n, ok
}
