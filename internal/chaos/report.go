package chaos

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Report is the outcome of a chaos run.
type Report struct {
	Numbers int     `json:"numbers"`
	Workers int     `json:"workers"`
	Profile Profile `json:"profile"`

	Registered int      `json:"registered"`
	Lost       int      `json:"lost"`
	LostDetail []string `json:"lost_detail,omitempty"`

	DuplicateAdds   int      `json:"duplicate_adds"`
	DuplicateDetail []string `json:"duplicate_detail,omitempty"`

	// CodesWronglyRefused counts codes that were the simulator's latest live
	// code when typed and that the run refused: by update, an answer with
	// accepted false; by signal, a VerifyCode that ended in wrong_code.
	CodesWronglyRefused int      `json:"codes_wrongly_refused"`
	RefusalDetail       []string `json:"refusal_detail,omitempty"`
	CodesByUpdate       int      `json:"codes_by_update"`
	CodesBySignal       int      `json:"codes_by_signal"`
	UpdatesAccepted     int      `json:"updates_accepted"`
	UpdatesRefused      int      `json:"updates_refused"`
	SubmitErrors        int      `json:"submit_errors"`
	// DuplicateCodeRefusals are not-accepted answers to a code that did
	// verify the number, submitted again after the client saw an error.
	DuplicateCodeRefusals int      `json:"duplicate_code_refusals"`
	DuplicateCodeDetail   []string `json:"duplicate_code_detail,omitempty"`
	OperatorResends       int      `json:"operator_resends"`

	MetaRegisterMax     int `json:"meta_register_max"`
	MetaRegisterTotal   int `json:"meta_register_total"`
	LedgerRegisterMax   int `json:"ledger_register_max"`
	LedgerRegisterTotal int `json:"ledger_register_total"`
	// FaultedRegisterCalls are register calls an injected fault answered;
	// RegisterTimeouts Register activities that timed out (a killed
	// worker). Each may explain one more register call at Meta.
	FaultedRegisterCalls int      `json:"faulted_register_calls"`
	RegisterTimeouts     int      `json:"register_timeouts"`
	RegisterBeyondFaults int      `json:"register_beyond_faults"`
	BeyondDetail         []string `json:"beyond_detail,omitempty"`

	WorkflowTaskFailures map[string]int `json:"workflow_task_failures"`
	// WorkflowTaskFailureMessages are the failures' distinct messages, so
	// that a failure is explained by the report, not only counted.
	WorkflowTaskFailureMessages []string `json:"workflow_task_failure_messages,omitempty"`
	Nondeterminism              int      `json:"nondeterminism"`
	ReplayFailures              int      `json:"replay_failures"`
	HistoriesRead               int      `json:"histories_read"`

	P50 time.Duration `json:"time_to_registered_p50"`
	P95 time.Duration `json:"time_to_registered_p95"`

	Faults           []FaultRow `json:"faults"`
	FaultsRefused    []string   `json:"faults_refused,omitempty"`
	FaultsNotApplied int        `json:"faults_not_injected"`

	WorkerKills           int     `json:"worker_kills"`
	WorkerKillsPlanned    int     `json:"worker_kills_planned"`
	ServerRestarts        int     `json:"server_restarts"`
	ServerRestartsPlanned int     `json:"server_restarts_planned"`
	Events                []Event `json:"events"`

	Elapsed  time.Duration `json:"elapsed"`
	Failures []string      `json:"failures,omitempty"`
	Dir      string        `json:"dir,omitempty"`
}

// FaultRow counts one kind of fault on one endpoint.
type FaultRow struct {
	Endpoint string `json:"endpoint"`
	Fault    string `json:"fault"`
	Injected int    `json:"injected"`
	Consumed int    `json:"consumed"`
	Refused  int    `json:"refused,omitempty"`
}

// Pass reports whether the run met every target.
func (r *Report) Pass() bool { return len(r.Failures) == 0 }

// Verdict is the one-line verdict.
func (r *Report) Verdict() string {
	if r.Pass() {
		return fmt.Sprintf("PASS: %d/%d registered, 0 lost, 0 duplicate adds, 0 codes wrongly refused, 0 nondeterminism, no register beyond injected faults",
			r.Registered, r.Numbers)
	}
	return "FAIL: " + strings.Join(r.Failures, "; ")
}

const detailLimit = 15

func addDetail(list *[]string, s string) {
	if len(*list) < detailLimit {
		*list = append(*list, s)
	}
}

// analyze computes the report from what the run observed.
func analyze(cfg Config, o *observations) *Report {
	r := &Report{Numbers: len(o.Plans), Workers: cfg.Workers, Profile: cfg.Profile,
		WorkflowTaskFailures: map[string]int{}, Events: o.Events, Elapsed: o.Elapsed,
		WorkerKillsPlanned: cfg.WorkerKills}
	if cfg.RestartServerAt > 0 {
		r.ServerRestartsPlanned = 1
	}

	ids := map[string][]graphsim.Number{} // by digits, every ID the simulator gave the number
	for _, n := range o.Numbers {
		ids[n.CC+n.PhoneNumber] = append(ids[n.CC+n.PhoneNumber], n)
	}
	adds := map[string]int{}            // successful add_phone_number calls by digits
	faultedRegister := map[string]int{} // by phone-number ID
	for _, c := range o.Calls {
		switch c.Endpoint {
		case graphsim.EndpointAddPhoneNumber:
			if c.HTTPStatus == 200 && (c.Fault == "" || c.Fault == kindLostAnswer) {
				adds[strings.TrimPrefix(c.Params["cc"], "+")+c.Params["phone_number"]]++
			}
		case graphsim.EndpointRegister:
			if c.Fault != "" {
				faultedRegister[c.PhoneNumberID]++
			}
		}
	}

	var times []time.Duration
	for i, p := range o.Plans {
		run := o.Runs[i]
		st, queried := o.Statuses[p.e164()]
		hs, read := o.Histories[p.e164()]

		if queried && st.Stage == onboarding.StageRegistered && st.Region == p.FinalRegion {
			r.Registered++
		} else {
			r.Lost++
			switch {
			case !queried:
				addDetail(&r.LostDetail, fmt.Sprintf("%s (%s): status query failed", p.e164(), p.Kind))
			default:
				d := fmt.Sprintf("%s (%s): stage %s, region %q (want %q): %s", p.e164(), p.Kind, st.Stage, st.Region,
					p.FinalRegion, st.Detail)
				if e := st.LastError; e != nil {
					d += fmt.Sprintf(" [last error %s %s %d]", e.Op, e.Class, e.Code)
				}
				addDetail(&r.LostDetail, d)
			}
		}
		if !run.FirstRegistered.IsZero() && !run.StartedAt.IsZero() {
			times = append(times, run.FirstRegistered.Sub(run.StartedAt))
		}

		nums := ids[p.digits()]
		if len(nums) > 1 || adds[p.digits()] > 1 {
			r.DuplicateAdds++
			idList := make([]string, len(nums))
			for j, n := range nums {
				idList[j] = n.ID
			}
			addDetail(&r.DuplicateDetail, fmt.Sprintf("%s: %d successful adds, phone-number IDs %s", p.e164(),
				adds[p.digits()], strings.Join(idList, ", ")))
		}

		for _, s := range run.Subs {
			if s.Signal {
				r.CodesBySignal++
			} else {
				r.CodesByUpdate++
			}
			if !s.Answered {
				r.SubmitErrors++
				continue
			}
			if s.Signal {
				// A signal has no answer: the run refused the code if Meta
				// answered 136025 to it and the run then went back to
				// waiting for a code (asked for one, or still waits).
				waiting := queried && (st.Stage == onboarding.StageAwaitingCode || st.Stage == onboarding.StageVerifying)
				if s.Latest && read && slices.ContainsFunc(hs.WrongCodes, func(w wrongCode) bool {
					return w.Code == s.Code && (s.ResendAt.IsZero() || w.At.Before(s.ResendAt)) && (w.ThenRequested || waiting)
				}) {
					r.CodesWronglyRefused++
					addDetail(&r.RefusalDetail, fmt.Sprintf("%s: signalled code (sent %s) ended in wrong_code and the run waited for another",
						p.e164(), s.SentAt.Format("15:04:05.000")))
				}
				continue
			}
			if s.Accepted {
				r.UpdatesAccepted++
				continue
			}
			r.UpdatesRefused++
			if read && slices.Contains(hs.VerifiedCodes, s.Code) {
				// The code verified the number; this answer is to a second
				// submission of it (the operator retried after a client
				// error), which the run answers not-accepted.
				r.DuplicateCodeRefusals++
				addDetail(&r.DuplicateCodeDetail, fmt.Sprintf("%s: code sent %s verified the number, yet a resubmission of it (after %d client errors: %s) was answered: %s",
					p.e164(), s.SentAt.Format("15:04:05.000"), s.Errors, s.LastErr, s.Message))
				continue
			}
			if s.Latest {
				r.CodesWronglyRefused++
				addDetail(&r.RefusalDetail, fmt.Sprintf("%s: code sent %s refused: %s", p.e164(),
					s.SentAt.Format("15:04:05.000"), s.Message))
			}
		}
		r.OperatorResends += run.Resends

		meta, faulted := 0, 0
		for _, n := range nums {
			meta = max(meta, n.RegisterRequests) // the window is per number, whatever its ID
			faulted += faultedRegister[n.ID]
		}
		r.MetaRegisterTotal += meta
		r.MetaRegisterMax = max(r.MetaRegisterMax, meta)
		r.FaultedRegisterCalls += faulted
		if queried {
			r.LedgerRegisterTotal += st.RegisterCallsInWindow
			r.LedgerRegisterMax = max(r.LedgerRegisterMax, st.RegisterCallsInWindow)
		}
		base := 1
		if run.ChangeSent {
			base++
		}
		if read {
			r.RegisterTimeouts += hs.RegisterTimeouts
			if beyond := meta - base - faulted - hs.RegisterTimeouts; beyond > 0 {
				r.RegisterBeyondFaults += beyond
				addDetail(&r.BeyondDetail, fmt.Sprintf("%s: %d register calls at Meta, %d needed, %d answered by faults, %d timed out",
					p.e164(), meta, base, faulted, hs.RegisterTimeouts))
			}
			r.HistoriesRead++
			for cause, n := range hs.WorkflowTaskFailures {
				r.WorkflowTaskFailures[cause] += n
			}
			for _, m := range hs.FailureMessages {
				if !slices.Contains(r.WorkflowTaskFailureMessages, m) {
					r.WorkflowTaskFailureMessages = append(r.WorkflowTaskFailureMessages, m)
				}
			}
			r.Nondeterminism += hs.Nondeterminism
			if hs.ReplayError != "" {
				r.ReplayFailures++
			}
		}
	}
	if len(times) > 0 {
		slices.Sort(times)
		r.P50 = percentile(times, 50)
		r.P95 = percentile(times, 95)
	}

	rows := map[[2]string]*FaultRow{}
	for _, in := range o.Injections {
		k := [2]string{in.spec.endpoint(), in.spec.label()}
		row := rows[k]
		if row == nil {
			row = &FaultRow{Endpoint: k[0], Fault: k[1]}
			rows[k] = row
		}
		if in.refused != "" {
			row.Refused++
			msg := fmt.Sprintf("%s on %s: %s", in.spec.label(), in.spec.endpoint(), in.refused)
			if !slices.Contains(r.FaultsRefused, msg) {
				addDetail(&r.FaultsRefused, msg)
			}
			continue
		}
		row.Injected++
		if in.consumed {
			row.Consumed++
		}
	}
	for _, row := range rows {
		r.Faults = append(r.Faults, *row)
	}
	sort.Slice(r.Faults, func(i, j int) bool {
		a, b := r.Faults[i], r.Faults[j]
		if a.Endpoint != b.Endpoint {
			return a.Endpoint < b.Endpoint
		}
		return a.Fault < b.Fault
	})
	r.FaultsNotApplied = len(o.NotInjected)
	for _, e := range o.Events {
		switch {
		case strings.HasPrefix(e.What, "SIGKILL worker"):
			r.WorkerKills++
		case strings.HasPrefix(e.What, "Temporal dev server started again"):
			r.ServerRestarts++
		}
	}

	fail := func(format string, args ...any) { r.Failures = append(r.Failures, fmt.Sprintf(format, args...)) }
	if r.Lost > 0 {
		fail("%d of %d numbers lost (not registered by the deadline)", r.Lost, r.Numbers)
	}
	if r.DuplicateAdds > 0 {
		fail("%d duplicate adds", r.DuplicateAdds)
	}
	if r.CodesWronglyRefused > 0 {
		fail("%d codes wrongly refused", r.CodesWronglyRefused)
	}
	if n := r.Nondeterminism + r.ReplayFailures; n > 0 {
		fail("%d nondeterminism errors (%d in histories, %d replay failures)", n, r.Nondeterminism, r.ReplayFailures)
	}
	if r.RegisterBeyondFaults > 0 {
		fail("%d register calls beyond what injected faults explain", r.RegisterBeyondFaults)
	}
	if r.HistoriesRead < r.Numbers {
		fail("%d histories could not be read", r.Numbers-r.HistoriesRead)
	}
	if len(r.FaultsRefused) > 0 {
		fail("the simulator refused %d faults (%s)", countRefused(r.Faults), r.FaultsRefused[0])
	}
	if r.WorkerKills < r.WorkerKillsPlanned || r.ServerRestarts < r.ServerRestartsPlanned {
		fail("chaos incomplete: %d/%d worker kills, %d/%d server restarts", r.WorkerKills, r.WorkerKillsPlanned,
			r.ServerRestarts, r.ServerRestartsPlanned)
	}
	return r
}

func countRefused(rows []FaultRow) int {
	n := 0
	for _, r := range rows {
		n += r.Refused
	}
	return n
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Markdown renders the report: the summary table, details, the fault table,
// the chaos events, and the verdict as the last line.
func (r *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Chaos run: %d numbers, %d workers, profile %s, %s\n\n", r.Numbers, r.Workers, r.Profile, r.Elapsed.Round(time.Second))
	w("| metric | value | target |\n|---|---|---|\n")
	w("| numbers registered | %d / %d | all |\n", r.Registered, r.Numbers)
	w("| lost (not registered by the deadline) | %d | 0 |\n", r.Lost)
	w("| duplicate adds (added twice, or two IDs for one E.164) | %d | 0 |\n", r.DuplicateAdds)
	w("| codes wrongly refused (latest code sent, refused) | %d | 0 |\n", r.CodesWronglyRefused)
	w("| codes typed: by update (accepted / refused) / by signal / not delivered | %d (%d / %d) / %d / %d | |\n",
		r.CodesByUpdate, r.UpdatesAccepted, r.UpdatesRefused, r.CodesBySignal, r.SubmitErrors)
	w("| code that verified the number, resubmitted after a client error, answered not-accepted | %d | |\n", r.DuplicateCodeRefusals)
	w("| operator resend-code requests | %d | |\n", r.OperatorResends)
	w("| register calls per number at Meta (simulator): max / total | %d / %d | |\n", r.MetaRegisterMax, r.MetaRegisterTotal)
	w("| register calls per number in the workflow ledger: max / total | %d / %d | |\n", r.LedgerRegisterMax, r.LedgerRegisterTotal)
	w("| register calls answered by faults / Register activity timeouts | %d / %d | |\n", r.FaultedRegisterCalls, r.RegisterTimeouts)
	w("| register calls beyond what injected faults explain | %d | 0 |\n", r.RegisterBeyondFaults)
	w("| workflow-task failures (by cause) | %s | |\n", causes(r.WorkflowTaskFailures))
	w("| nondeterminism errors (history causes + replay failures) | %d + %d | 0 |\n", r.Nondeterminism, r.ReplayFailures)
	w("| histories read and replayed | %d / %d | all |\n", r.HistoriesRead, r.Numbers)
	w("| time to registered p50 / p95 | %s / %s | |\n", r.P50.Round(100*time.Millisecond), r.P95.Round(100*time.Millisecond))
	w("| worker SIGKILLs / dev server restarts | %d / %d | %d / %d |\n", r.WorkerKills, r.ServerRestarts,
		r.WorkerKillsPlanned, r.ServerRestartsPlanned)
	inj, cons := 0, 0
	for _, f := range r.Faults {
		inj += f.Injected
		cons += f.Consumed
	}
	w("| faults injected / consumed / refused by the simulator / not injected | %d / %d / %d / %d | |\n",
		inj, cons, countRefused(r.Faults), r.FaultsNotApplied)

	section := func(title string, lines []string, total int) {
		if len(lines) == 0 {
			return
		}
		w("\n%s", title)
		if total > len(lines) {
			w(" (first %d of %d)", len(lines), total)
		}
		w(":\n\n")
		for _, l := range lines {
			w("- %s\n", l)
		}
	}
	section("Lost numbers", r.LostDetail, r.Lost)
	section("Codes wrongly refused", r.RefusalDetail, r.CodesWronglyRefused)
	section("Resubmitted codes answered not-accepted", r.DuplicateCodeDetail, r.DuplicateCodeRefusals)
	section("Register calls beyond faults", r.BeyondDetail, len(r.BeyondDetail))
	section("Duplicate adds", r.DuplicateDetail, r.DuplicateAdds)
	section("Faults the simulator refused", r.FaultsRefused, len(r.FaultsRefused))

	if len(r.Faults) > 0 {
		w("\n| endpoint | fault | injected | consumed | refused |\n|---|---|---|---|---|\n")
		for _, f := range r.Faults {
			w("| %s | %s | %d | %d | %d |\n", f.Endpoint, f.Fault, f.Injected, f.Consumed, f.Refused)
		}
	}
	if len(r.Events) > 0 {
		if len(r.WorkflowTaskFailureMessages) > 0 {
			w("\nWorkflow-task failures:\n\n")
			for _, m := range r.WorkflowTaskFailureMessages {
				w("- %s\n", m)
			}
		}
		w("\nChaos events:\n\n")
		for _, e := range r.Events {
			w("- %s %s\n", e.At, e.What)
		}
	}
	if r.Dir != "" {
		w("\nState and logs: %s\n", r.Dir)
	}
	w("\n**%s**\n", r.Verdict())
	return b.String()
}

func causes(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	total := 0
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		total += m[k]
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}
