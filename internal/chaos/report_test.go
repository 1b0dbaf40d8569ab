package chaos

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/onboarding"
)

var t0 = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// cleanRun is two numbers onboarded as they should be: one add each, one
// register each, every code accepted, histories clean.
func cleanRun() (Config, *observations) {
	cfg := Config{Workers: 2, WorkerKills: 1, Profile: ProfileLostAnswers}
	o := &observations{
		Plans: []numberPlan{
			{Index: 0, CC: "1", National: "5560000001", Kind: kindNew},
			{Index: 1, CC: "1", National: "5560000002", Kind: kindNew, Signal: true, Region: "CH", FinalRegion: "CH"},
		},
		Runs: []runView{
			{StartedAt: t0, FirstRegistered: t0.Add(2 * time.Second), Done: true,
				Subs: []submission{{Code: "111111", Latest: true, Answered: true, Accepted: true}}},
			{StartedAt: t0, FirstRegistered: t0.Add(4 * time.Second), Done: true,
				Subs: []submission{{Code: "222222", Latest: true, Answered: true, Signal: true}}},
		},
		Statuses: map[string]onboarding.Status{
			"+15560000001": {Stage: onboarding.StageRegistered, RegisterCallsInWindow: 1},
			"+15560000002": {Stage: onboarding.StageRegistered, Region: "CH", RegisterCallsInWindow: 1},
		},
		Numbers: []graphsim.Number{
			{ID: "11", CC: "1", PhoneNumber: "5560000001", RegisterRequests: 1},
			{ID: "12", CC: "1", PhoneNumber: "5560000002", RegisterRequests: 1},
		},
		Calls: []graphsim.Call{
			{Endpoint: graphsim.EndpointAddPhoneNumber, HTTPStatus: 200, Params: map[string]string{"cc": "1", "phone_number": "5560000001"}},
			{Endpoint: graphsim.EndpointAddPhoneNumber, HTTPStatus: 200, Params: map[string]string{"cc": "1", "phone_number": "5560000002"}},
			{Endpoint: graphsim.EndpointRegister, PhoneNumberID: "11", HTTPStatus: 200},
			{Endpoint: graphsim.EndpointRegister, PhoneNumberID: "12", HTTPStatus: 200},
		},
		Histories: map[string]historySummary{"+15560000001": {}, "+15560000002": {}},
		Injections: []*injection{
			{spec: lost(graphsim.EndpointVerifyCode, "drop"), consumed: true},
		},
		Events: []Event{{At: time.Second, What: "SIGKILL worker-1"}, {At: 3 * time.Second, What: "worker-1 started again"}},
	}
	return cfg, o
}

func TestAnalyzeCleanRunPasses(t *testing.T) {
	cfg, o := cleanRun()
	r := analyze(cfg, o)
	require.True(t, r.Pass(), r.Markdown())
	require.Equal(t, 2, r.Registered)
	require.Equal(t, 1, r.UpdatesAccepted)
	require.Equal(t, 1, r.CodesBySignal)
	require.Equal(t, 1, r.MetaRegisterMax)
	require.Equal(t, 2, r.MetaRegisterTotal)
	require.Equal(t, 2*time.Second, r.P50)
	require.Equal(t, 4*time.Second, r.P95)
	require.Equal(t, []FaultRow{{Endpoint: "verify_code", Fault: "lost_answer/drop", Injected: 1, Consumed: 1}}, r.Faults)
	md := r.Markdown()
	require.True(t, strings.HasSuffix(md, "**"+r.Verdict()+"**\n"), "the verdict is the last line")
	require.True(t, strings.HasPrefix(r.Verdict(), "PASS: 2/2 registered"))
}

func TestAnalyzeCountsALatestCodeRefusedByUpdate(t *testing.T) {
	cfg, o := cleanRun()
	o.Runs[0].Subs = []submission{
		{Code: "000001", Latest: false, Answered: true, Message: "superseded by a code the operator asked for"},
		{Code: "111111", Latest: true, Answered: true, Message: "Meta rejected the code (136025)"},
		{Code: "111112", Latest: true, Answered: true, Accepted: true},
	}
	r := analyze(cfg, o)
	require.Equal(t, 1, r.CodesWronglyRefused, "only the code that was the latest one sent counts")
	require.Equal(t, 2, r.UpdatesRefused)
	require.False(t, r.Pass())
	require.Contains(t, r.Verdict(), "1 codes wrongly refused")
	require.Contains(t, r.Markdown(), "Meta rejected the code (136025)")
}

func TestAnalyzeTellsAResubmittedVerifyingCodeFromARefusal(t *testing.T) {
	cfg, o := cleanRun()
	o.Runs[0].Subs = []submission{{Code: "111111", Latest: true, Answered: true, Errors: 1, LastErr: "context deadline exceeded",
		Message: "the number was already verified by an earlier code"}}
	o.Histories["+15560000001"] = historySummary{VerifiedCodes: []string{"111111"}}
	r := analyze(cfg, o)
	require.Zero(t, r.CodesWronglyRefused)
	require.Equal(t, 1, r.DuplicateCodeRefusals)
	require.True(t, r.Pass(), r.Verdict())
	require.Contains(t, r.Markdown(), "after 1 client errors: context deadline exceeded")
}

func TestAnalyzeCountsALatestSignalledCodeThatEndedInWrongCode(t *testing.T) {
	cfg, o := cleanRun()
	refused := []wrongCode{{Code: "222222", At: t0.Add(3 * time.Second), ThenRequested: true}}
	o.Histories["+15560000002"] = historySummary{WrongCodes: refused}
	r := analyze(cfg, o)
	require.Equal(t, 1, r.CodesWronglyRefused)

	cfg, o = cleanRun()
	o.Runs[1].Subs[0].Latest = false
	o.Histories["+15560000002"] = historySummary{WrongCodes: refused}
	require.Zero(t, analyze(cfg, o).CodesWronglyRefused, "a code already superseded when signalled may be refused")

	cfg, o = cleanRun()
	o.Runs[1].Subs[0].ResendAt = t0.Add(2 * time.Second)
	o.Histories["+15560000002"] = historySummary{WrongCodes: refused}
	require.Zero(t, analyze(cfg, o).CodesWronglyRefused, "refused after the operator asked for a new code")

	cfg, o = cleanRun()
	o.Histories["+15560000002"] = historySummary{WrongCodes: []wrongCode{{Code: "222222", At: t0.Add(3 * time.Second)}}}
	require.Zero(t, analyze(cfg, o).CodesWronglyRefused, "136025, then the run went on (it found the number verified)")

	cfg, o = cleanRun()
	o.Runs[1].Subs[0].ResendAt = t0.Add(4 * time.Second)
	o.Histories["+15560000002"] = historySummary{WrongCodes: refused}
	require.Equal(t, 1, analyze(cfg, o).CodesWronglyRefused, "refused before the operator gave up on it")
}

func TestAnalyzeRegisterCallsBeyondFaults(t *testing.T) {
	cfg, o := cleanRun()
	o.Numbers[0].RegisterRequests = 3
	o.Calls = append(o.Calls, graphsim.Call{Endpoint: graphsim.EndpointRegister, PhoneNumberID: "11", Fault: "lost_answer"})
	r := analyze(cfg, o)
	require.Equal(t, 1, r.RegisterBeyondFaults, "3 calls: 1 needed, 1 explained by the fault")
	require.Equal(t, 3, r.MetaRegisterMax)
	require.Contains(t, r.Verdict(), "1 register calls beyond")

	o.Histories["+15560000001"] = historySummary{RegisterTimeouts: 1}
	require.Zero(t, analyze(cfg, o).RegisterBeyondFaults, "a Register that timed out (killed worker) explains one more")

	cfg, o = cleanRun()
	o.Numbers[0].RegisterRequests = 2
	o.Runs[0].ChangeSent = true
	require.Zero(t, analyze(cfg, o).RegisterBeyondFaults, "a region change needs a second register")
}

func TestAnalyzeDuplicateAddsAndLostNumbers(t *testing.T) {
	cfg, o := cleanRun()
	o.Numbers = append(o.Numbers, graphsim.Number{ID: "13", CC: "1", PhoneNumber: "5560000001"})
	o.Statuses["+15560000002"] = onboarding.Status{Stage: onboarding.StageAwaitingCode, Detail: "waiting for the SMS code",
		LastError: &onboarding.GraphError{Op: "verify_code", Class: "wrong_code", Code: 136025}}
	r := analyze(cfg, o)
	require.Equal(t, 1, r.DuplicateAdds)
	require.Contains(t, r.DuplicateDetail[0], "11, 13")
	require.Equal(t, 1, r.Lost)
	require.Equal(t, 1, r.Registered)
	require.Contains(t, r.LostDetail[0], "stage awaiting_code")
	require.Contains(t, r.LostDetail[0], "verify_code wrong_code 136025")

	cfg, o = cleanRun()
	o.Statuses["+15560000002"] = onboarding.Status{Stage: onboarding.StageRegistered, Region: ""}
	require.Equal(t, 1, analyze(cfg, o).Lost, "registered without the planned region is not done")
}

func TestAnalyzeNondeterminismRefusedFaultsAndIncompleteChaos(t *testing.T) {
	cfg, o := cleanRun()
	o.Histories["+15560000001"] = historySummary{Nondeterminism: 1,
		WorkflowTaskFailures: map[string]int{"NON_DETERMINISTIC_ERROR": 1}}
	o.Histories["+15560000002"] = historySummary{ReplayError: "nondeterministic workflow"}
	r := analyze(cfg, o)
	require.Contains(t, r.Verdict(), "2 nondeterminism errors (1 in histories, 1 replay failures)")
	require.Equal(t, map[string]int{"NON_DETERMINISTIC_ERROR": 1}, r.WorkflowTaskFailures)

	cfg, o = cleanRun()
	o.Injections = append(o.Injections, &injection{spec: lost(graphsim.EndpointRegister, "drop"), refused: `unknown fault kind "lost_answer"`})
	r = analyze(cfg, o)
	require.Contains(t, r.Verdict(), "the simulator refused 1 faults")

	cfg, o = cleanRun()
	cfg.RestartServerAt = time.Minute
	o.Events = nil
	require.Contains(t, analyze(cfg, o).Verdict(), "chaos incomplete: 0/1 worker kills, 0/1 server restarts")

	cfg, o = cleanRun()
	delete(o.Histories, "+15560000001")
	require.Contains(t, analyze(cfg, o).Verdict(), "1 histories could not be read")
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	require.Equal(t, time.Duration(5), percentile(d, 50))
	require.Equal(t, time.Duration(10), percentile(d, 95))
	require.Equal(t, time.Duration(7), percentile([]time.Duration{7}, 95))
}

func TestFullPlanHasEveryKindOnEveryEndpoint(t *testing.T) {
	q, err := plan(ProfileFull, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	for _, e := range graphsim.Endpoints {
		var labels []string
		for _, f := range q[e] {
			require.Equal(t, e, f.endpoint())
			labels = append(labels, f.label())
		}
		for _, want := range []string{"status/503", "status/500", "throttle/4", "throttle/80007", "hang", "malformed",
			"error/131000", "error/2", "lost_answer/drop", "lost_answer/status", "lost_answer/hang"} {
			require.Contains(t, labels, want, "endpoint %s", e)
		}
	}
	_, err = plan("gentle", nil)
	require.ErrorContains(t, err, `profile: must be full or lost-answers, not "gentle"`)
}
