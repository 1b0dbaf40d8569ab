package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
)

const (
	csvHeader = "waba_id,number,country_code,phone_number,display_name,region,code_method,language,migrate,preverified_id,pin,pin_file,code_wait,name_check_interval\n"
	clearPIN  = "135790"
)

// parseRows parses body as a CSV in a temporary folder holding the files
// named in files.
func parseRows(t *testing.T, body string, files map[string]string) ([]*bulkRow, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	return parseCSV(newTestEnv(t).env, []byte(body), dir)
}

func sealedPIN(t *testing.T) string {
	t.Helper()
	pub, _ := testSealKey(t)
	s, err := seal.NewSealer(pub)
	require.NoError(t, err)
	v, err := s.Seal(seal.PurposePIN, "246802")
	require.NoError(t, err)
	return v
}

func TestCSVRowsAreValidatedWithTheirLineNumbers(t *testing.T) {
	sealed := sealedPIN(t)
	for _, tc := range []struct {
		name string
		row  string // after the header, which is line 1
		want []string
	}{
		{"number in E.164", "100000000000001,+15551230001,,,Acme Support,ch,voice,pt_BR,true,,,,48h,1h", nil},
		{"country code and national number", "100000000000001,,+44,7700900123,Acme Support,,,,,,,,,", nil},
		{"number with its country code", "100000000000001,+447700900123,44,,Acme Support,,,,,,,,,", nil},
		{"sealed pin cell", "100000000000001,+15551230001,,,Acme Support,,,,,," + sealed + ",,,", nil},
		{"pin file with six digits", "100000000000001,+15551230001,,,Acme Support,,,,,,,pin.txt,,", nil},
		{"bad number", "100000000000001,+1555abc,,,Acme Support,,,,,,,,,", []string{"number: must be E.164"}},
		{"number and phone_number", "100000000000001,+15551230001,,5551230001,Acme Support,,,,,,,,,", []string{"number: give number or country_code and phone_number, not both"}},
		{"number outside its country code", "100000000000001,+15551230001,44,,Acme Support,,,,,,,,,", []string{"number: must start with the country_code of its row (44)"}},
		{"bad national number", "100000000000001,,1,555-123,Acme Support,,,,,,,,,", []string{"phone_number: must be digits only"}},
		{"no number", "100000000000001,,,,Acme Support,,,,,,,,,", []string{"country_code: is required", "phone_number: is required"}},
		{"every bad field named", "x,+15551230001,,,A,XX,FAX,english,maybe,y,,,soon,1s",
			[]string{"waba_id: must be a numeric Graph id", "display_name: must have at least 3", "region: must be empty or one of",
				"code_method: must be SMS or VOICE", "language: must be a locale", "migrate: must be true or false",
				"preverified_id: must be a numeric", "code_wait: must be a duration", "name_check_interval: must be at least 1m"}},
		{"short row", "100000000000001,+15551230001,Acme Support", []string{"has 3 cells where the header has 14"}},
		{"pin in clear", "100000000000001,+15551230001,,,Acme Support,,,,,," + clearPIN + ",,,", []string{"pin: holds a PIN in clear (not repeated here)"}},
		{"pin half sealed", "100000000000001,+15551230001,,,Acme Support,,,,,," + sealed[:20] + ",,,", []string{"pin: is not a whole sealed value"}},
		{"pin and pin file", "100000000000001,+15551230001,,,Acme Support,,,,,," + sealed + ",pin.txt,,", []string{"pin: give pin or pin_file, not both"}},
		{"pin file missing", "100000000000001,+15551230001,,,Acme Support,,,,,,,nope.txt,,", []string{"pin_file: cannot read "}},
		{"pin file not a PIN", "100000000000001,+15551230001,,,Acme Support,,,,,,,bad.txt,,", []string{"pin_file: the content of bad.txt must be exactly 6 ASCII digits"}},
		{"PIN in the pin_file cell", "100000000000001,+15551230001,,,Acme Support,,,,,,," + clearPIN + ",,", []string{"pin_file: holds six digits"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := parseRows(t, csvHeader+tc.row+"\n", map[string]string{"pin.txt": "024680\n", "bad.txt": "1357901\n"})
			require.NoError(t, err)
			require.Len(t, rows, 1)
			r := rows[0]
			assert.Equal(t, 2, r.line)
			require.Len(t, r.problems, len(tc.want), "%q", r.problems)
			for _, w := range tc.want {
				assert.True(t, slices.ContainsFunc(r.problems, func(p string) bool { return strings.Contains(p, w) }), "%q lacks %q", r.problems, w)
			}
			for _, p := range r.problems {
				assert.NotContains(t, p, clearPIN, "a PIN is never repeated")
				assert.NotContains(t, p, "1357901", "a pin file's content is never repeated")
			}
		})
	}
}

func TestCSVRowsReachTheInput(t *testing.T) {
	rows, err := parseRows(t, csvHeader+
		"100000000000001,+4915112345678,,,Acme DE,de,voice,de_DE,yes,200000000000002,,pin.txt,48h,5m\n"+
		"100000000000001,,+353,861234567,Acme IE,,,,,,,,,\n",
		map[string]string{"pin.txt": "024680\n"})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, onboarding.OnboardInput{
		WABAID: "100000000000001", CountryCode: "49", PhoneNumber: "15112345678", DisplayName: "Acme DE", PIN: "024680",
		Region: "DE", CodeMethod: onboarding.CodeVoice, Language: "de_DE", Migrate: true, PreverifiedID: "200000000000002",
		CodeWait: onboarding.Duration(48 * time.Hour), NameCheckInterval: onboarding.Duration(5 * time.Minute),
	}, rows[0].in)
	assert.True(t, rows[0].clearPIN)
	assert.False(t, rows[0].batchPIN)
	assert.Equal(t, "+4915112345678", rows[0].number)
	assert.Equal(t, "+353861234567", rows[1].number)
	assert.Equal(t, 3, rows[1].line)
	assert.True(t, rows[1].batchPIN, "a row without pin or pin_file takes the batch's")
	assert.Equal(t, onboarding.CodeSMS, rows[1].in.CodeMethod, "defaults as for a single onboard")
	assert.Equal(t, onboarding.Duration(onboarding.DefaultCodeWait), rows[1].in.CodeWait)
}

func TestCSVDuplicatesAreAllRefused(t *testing.T) {
	rows, err := parseRows(t, "waba_id,number,country_code,phone_number,display_name\n"+
		"100000000000001,+15551230001,,,Acme One\n"+
		"100000000000001,+15551230002,,,Acme Two\n"+
		"\n"+ // blank lines are skipped, and lines still counted
		"100000000000001,,1,5551230001,Acme One again\n"+
		"100000000000001,+15551230001,,,Acme One thrice\n", nil)
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, []int{2, 3, 5, 6}, []int{rows[0].line, rows[1].line, rows[2].line, rows[3].line})
	assert.Equal(t, []string{"number: +15551230001 is also on line 5, 6: one row per number"}, rows[0].problems)
	assert.Empty(t, rows[1].problems)
	assert.Equal(t, []string{"number: +15551230001 is also on line 2, 6: one row per number"}, rows[2].problems)
	assert.Equal(t, []string{"number: +15551230001 is also on line 2, 5: one row per number"}, rows[3].problems)
}

func TestCSVFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "is empty"},
		{"header only", csvHeader, "has a header but no rows"},
		{"unknown column named as written", "waba_id,number,display_name,PIN_code,Notes\n1,+15551230001,Acme\n", `line 1: unknown column "PIN_code", "Notes"`},
		{"column twice", "waba_id,number,display_name,Number\n", "line 1: column number appears twice"},
		{"no number column", "waba_id,phone_number,display_name\n", "the header lacks number (or country_code and phone_number)"},
		{"no waba", "number,display_name\n", "the header lacks waba_id"},
		{"bad quoting", "waba_id,number,display_name\n1,+15551230001,Acme\n1,+15551230002,Acme \"Two\n", "line 3: not valid CSV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseRows(t, tc.body, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	rows, err := parseRows(t, "\xef\xbb\xbfWABA_ID, Number ,display_name\r\n100000000000001,+15551230001,Acme One\r\n", nil)
	require.NoError(t, err, "a spreadsheet's BOM, CRLF, case and spaces in the header are fine")
	assert.Empty(t, rows[0].problems)
}

func TestCountryCodeOf(t *testing.T) {
	for digits, cc := range map[string]string{
		"15551234567": "1", "79161234567": "7", "447700900123": "44", "4915112345678": "49", "353861234567": "353",
		"201001234567": "20", "27821234567": "27", "2348012345678": "234", "971501234567": "971", "861381234567": "86",
		"5511912345678": "55", "5022123456": "502", "420601123456": "420", "380501234567": "380", "919812345678": "91",
	} {
		assert.Equal(t, cc, countryCodeOf(digits), digits)
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"10/s": 10, "10": 10, "300/m": 5, "0.5/s": 0.5, " 20 / sec ": 20, "60/min": 1} {
		got, err := parseRate(in)
		require.NoError(t, err, in)
		assert.InDelta(t, want, got, 1e-9, in)
	}
	for _, in := range []string{"", "0/s", "-1/s", "10/h", "fast", "5000/s", "NaN/s"} {
		_, err := parseRate(in)
		assert.Error(t, err, in)
	}
}

// fakeClock stands still unless a sleep moves it; it records the slots
// slept until.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	advance bool // SleepUntil moves now to the slot
	slots   []time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) SleepUntil(_ context.Context, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slots = append(c.slots, t)
	if c.advance && t.After(c.now) {
		c.now = t
	}
	return nil
}

func TestPacerGivesOneSlotPerIntervalToConcurrentCallers(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: t0}
	p := newPacer(10, clk)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				require.NoError(t, p.wait(context.Background()))
			}
		})
	}
	wg.Wait()
	slices.SortFunc(clk.slots, func(a, b time.Time) int { return a.Compare(b) })
	require.Len(t, clk.slots, 200)
	for i, s := range clk.slots {
		assert.Equal(t, t0.Add(time.Duration(i)*100*time.Millisecond), s, "slot %d", i)
	}
	// Any one-second window holds at most rate slots, plus the one on its edge.
	for i := range clk.slots {
		n := 0
		for _, s := range clk.slots[i:] {
			if s.Sub(clk.slots[i]) < time.Second {
				n++
			}
		}
		assert.LessOrEqual(t, n, 10)
	}
}

func TestPacerSavesNoBurstFromIdleTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: t0, advance: true}
	p := newPacer(2, clk)
	require.NoError(t, p.wait(context.Background()))
	clk.now = t0.Add(time.Minute) // idle for a minute
	for range 3 {
		require.NoError(t, p.wait(context.Background()))
	}
	assert.Equal(t, []time.Time{t0, t0.Add(time.Minute), t0.Add(time.Minute + 500*time.Millisecond), t0.Add(time.Minute + time.Second)}, clk.slots)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.wait(ctx), context.Canceled)
	assert.Len(t, clk.slots, 4, "a cancelled caller books no slot")
}

// bulkTemporal starts workflows concurrently, recording their inputs; the
// numbers in running are already running.
type bulkTemporal struct {
	client.Client
	mu      sync.Mutex
	started []onboarding.OnboardInput
	running map[string]bool // workflow ids
	fail    error           // every start fails with it
}

func (f *bulkTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	if f.running[o.ID] {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "", "run-old")
	}
	f.started = append(f.started, args[0].(onboarding.OnboardInput))
	return wfRun{id: o.ID}, nil
}

// bulkEnv is a test env whose Temporal is f and whose seal key is pub.
func bulkEnv(t *testing.T, f *bulkTemporal) (*testEnv, *seal.Opener) {
	te := newTestEnv(t)
	pub, opener := testSealKey(t)
	te.vars[seal.EnvPublicKeys] = pub.String()
	te.env.dial = func(_ context.Context, e *env) (*onboarding.Client, func(), error) {
		te.dialed = true
		opt, err := sealOption(e)
		if err != nil {
			return nil, nil, err
		}
		return onboarding.NewClient(f, opt), func() {}, nil
	}
	return te, opener
}

func writeCSV(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pin.txt"), []byte("024680\n"), 0o600))
	name := filepath.Join(dir, "numbers.csv")
	require.NoError(t, os.WriteFile(name, []byte(body), 0o600))
	return name
}

func TestBulkStartsValidRowsAndSummarizes(t *testing.T) {
	f := &bulkTemporal{running: map[string]bool{onboarding.WorkflowIDForE164("+15551230003"): true}}
	te, opener := bulkEnv(t, f)
	te.vars[envPIN] = "112233"
	var body strings.Builder
	body.WriteString("waba_id,number,display_name,pin_file,pin\n")
	for i := 1; i <= 12; i++ {
		pinFile := ""
		if i == 2 {
			pinFile = "pin.txt"
		}
		fmt.Fprintf(&body, "100000000000001,+1555123%04d,Acme %d,%s,\n", i, i, pinFile)
	}
	body.WriteString("100000000000001,+1555abc,Acme Bad,,\n")                       // line 14
	body.WriteString("100000000000001,+15551239999,Acme Clear,," + clearPIN + "\n") // line 15
	file := writeCSV(t, body.String())

	code := te.run("onboard", "--csv", file, "--rate", "1000/s", "--concurrency", "3", "--json")
	require.Equal(t, exitUsage, code, "rows were refused: %s", te.errOut.String())
	var sum bulkSummary
	require.NoError(t, json.Unmarshal(te.out.Bytes(), &sum), te.out.String())
	assert.Equal(t, 14, sum.Rows)
	assert.Equal(t, 12, sum.Valid)
	assert.Equal(t, 11, sum.Started)
	assert.Equal(t, 1, sum.AlreadyRunning)
	assert.Zero(t, sum.NotStarted)
	assert.Empty(t, sum.Failed)
	require.Len(t, sum.Refused, 2)
	assert.Equal(t, 14, sum.Refused[0].Line)
	assert.Equal(t, 15, sum.Refused[1].Line)
	assert.Len(t, sum.Runs, 12)
	for _, out := range []string{te.out.String(), te.errOut.String()} {
		assert.NotContains(t, out, clearPIN)
		assert.NotContains(t, out, "112233")
		assert.NotContains(t, out, "024680")
	}

	require.Len(t, f.started, 11)
	for _, in := range f.started {
		require.True(t, seal.IsSealed(in.PIN), "PINs leave sealed")
		pin, err := opener.Open(seal.PurposePIN, in.PIN)
		require.NoError(t, err)
		want := "112233" // the batch's, from WA_PIN
		if in.PhoneNumber == "5551230002" {
			want = "024680" // the row's pin_file
		}
		assert.Equal(t, want, pin, in.PhoneNumber)
	}
}

func TestBulkHumanSummaryAndPlainProgress(t *testing.T) {
	f := &bulkTemporal{}
	te, _ := bulkEnv(t, f)
	file := writeCSV(t, "waba_id,number,display_name,pin_file\n"+
		"100000000000001,+15551230001,Acme One,pin.txt\n"+
		"100000000000001,+15551230002,Acme Two,pin.txt\n"+
		"100000000000001,+15551230003,Ac,pin.txt\n"+
		"100000000000001,+15551230004,Acme Four,pin.txt\n")
	require.Equal(t, exitUsage, te.run("onboard", "--csv", file, "--rate", "1000/s", "--concurrency", "1"))
	out := te.out.String()
	assert.Contains(t, out, "   3 started\n")
	assert.Contains(t, out, "   1 refused\n")
	assert.Contains(t, out, "line 4 +15551230003: display_name: must have at least 3 characters")
	assert.Contains(t, out, "./scripts/starter.sh list --stage awaiting_code")

	progress := te.errOut.String()
	assert.NotContains(t, progress, "\r", "no redraws when stderr is not a terminal")
	assert.NotContains(t, progress, "\033")
	assert.Equal(t, []string{
		"starting 3 rows, at most 1000 a second and 1 at a time",
		"[1/3] line 2 +15551230001: started",
		"[2/3] line 3 +15551230002: started",
		"[3/3] line 5 +15551230004: started",
	}, strings.Split(strings.TrimSpace(progress), "\n"))
}

func TestBulkProgressBarOnATerminal(t *testing.T) {
	var w bytes.Buffer
	p := &barProgress{w: &w, total: 4}
	p.begin(4, 10, 2)
	row := &bulkRow{line: 2, number: "+15551230001"}
	p.done(rowResult{row: row, tried: true})
	p.done(rowResult{row: row, tried: true, run: onboarding.Run{AlreadyRunning: true}})
	p.end()
	assert.Equal(t, "\r\033[K[..............................] 0/4  started 0  already running 0  failed 0"+
		"\r\033[K[#######.......................] 1/4  started 1  already running 0  failed 0"+
		"\r\033[K[###############...............] 2/4  started 1  already running 1  failed 0\n", w.String())
}

func TestBulkStopsAfterRepeatedFailures(t *testing.T) {
	f := &bulkTemporal{fail: errors.New("connection refused")}
	te, _ := bulkEnv(t, f)
	var body strings.Builder
	body.WriteString("waba_id,number,display_name,pin_file\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&body, "100000000000001,+1555123%04d,Acme %d,pin.txt\n", i, i)
	}
	require.Equal(t, exitFailure, te.run("onboard", "--csv", writeCSV(t, body.String()), "--rate", "1000/s", "--concurrency", "1", "--json"))
	var sum bulkSummary
	require.NoError(t, json.Unmarshal(te.out.Bytes(), &sum), te.out.String())
	assert.Len(t, sum.Failed, bulkAbortAfter)
	assert.Equal(t, 20-bulkAbortAfter, sum.NotStarted)
	assert.Contains(t, sum.StoppedBy, "starts in a row failed")
	assert.Contains(t, sum.Failed[0].Reasons[0], "connection refused")
}

func TestBulkRefusesTheBatchBeforeStarting(t *testing.T) {
	good := "waba_id,number,display_name\n100000000000001,+15551230001,Acme One\n"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no batch PIN and no terminal", nil, nil, "PIN: is required"},
		{"batch PIN not six digits", map[string]string{envPIN: "12345"}, nil, "WA_PIN must be exactly 6 ASCII digits"},
		{"no seal keys for PINs in clear", map[string]string{envPIN: "123456", seal.EnvPublicKeys: ""}, nil, "no public seal keys"},
		{"bad rate", map[string]string{envPIN: "123456"}, []string{"--rate", "fast"}, "--rate must be"},
		{"bad concurrency", map[string]string{envPIN: "123456"}, []string{"--concurrency", "0"}, "--concurrency must be 1 to 64"},
		{"no file", map[string]string{envPIN: "123456"}, []string{"--csv", "/nonexistent/x.csv"}, "cannot read /nonexistent/x.csv"},
		{"pin flag", nil, []string{"--pin", clearPIN}, "there is no --pin flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &bulkTemporal{}
			te, _ := bulkEnv(t, f)
			maps := tc.env
			for k, v := range maps {
				te.vars[k] = v
			}
			args := append([]string{"onboard", "--csv", writeCSV(t, good)}, tc.args...)
			assert.Equal(t, exitUsage, te.run(args...))
			assert.Contains(t, te.errOut.String(), tc.want)
			assert.NotContains(t, te.errOut.String(), clearPIN)
			assert.False(t, te.dialed)
			assert.Empty(t, f.started)
		})
	}
}

func TestBulkRefusesAPINSealedToAnotherKey(t *testing.T) {
	f := &bulkTemporal{}
	te, _ := bulkEnv(t, f)
	old, err := seal.GenerateKey("retired-2024")
	require.NoError(t, err)
	oldPub, err := old.Public()
	require.NoError(t, err)
	sealer, err := seal.NewSealer(oldPub)
	require.NoError(t, err)
	stale, err := sealer.Seal(seal.PurposePIN, "246802")
	require.NoError(t, err)
	file := writeCSV(t, "waba_id,number,display_name,pin\n100000000000001,+15551230001,Acme One,"+stale+"\n"+
		"100000000000001,+15551230002,Acme Two,"+sealedPIN(t)+"\n")
	assert.Equal(t, exitUsage, te.run("onboard", "--csv", file, "--check"))
	assert.Contains(t, te.out.String(), "2 rows, 1 valid, 1 refused")
	assert.Contains(t, te.out.String(), `line 2 +15551230001: pin: is sealed with key "retired-2024", which is not among the workers' public keys ["starter-test"]`)
}

func TestBulkCheckStartsNothing(t *testing.T) {
	f := &bulkTemporal{}
	te, _ := bulkEnv(t, f)
	file := writeCSV(t, "waba_id,number,display_name,pin\n100000000000001,+15551230001,Acme One,\n100000000000001,+15551230002,Acme Two,"+clearPIN+"\n")
	assert.Equal(t, exitUsage, te.run("onboard", "--csv", file, "--check"))
	assert.False(t, te.dialed)
	assert.Contains(t, te.out.String(), "2 rows, 1 valid, 1 refused; nothing started (--check)")
	assert.Contains(t, te.out.String(), "line 3 +15551230002: pin: holds a PIN in clear")
	assert.NotContains(t, te.out.String(), clearPIN)

	te, _ = bulkEnv(t, f)
	file = writeCSV(t, "waba_id,number,display_name\n100000000000001,+15551230001,Acme One\n")
	assert.Equal(t, exitOK, te.run("onboard", "--csv", file, "--check"), "no PIN is asked for a check")
	assert.False(t, te.dialed)
}

func TestSealPIN(t *testing.T) {
	te := newTestEnv(t)
	pub, opener := testSealKey(t)
	te.vars[seal.EnvPublicKeys] = pub.String()
	te.stdinIsTerminal = func() bool { return true }
	te.prompts = []string{"246802", "246802"}
	require.Equal(t, exitOK, te.run("seal-pin"), te.errOut.String())
	assert.False(t, te.dialed)
	sealed := strings.TrimSpace(te.out.String())
	pin, err := opener.Open(seal.PurposePIN, sealed)
	require.NoError(t, err)
	assert.Equal(t, "246802", pin)
	assert.NotContains(t, te.out.String()+te.errOut.String(), "246802")

	// What it prints is what a pin cell takes.
	rows, err := parseRows(t, "waba_id,number,display_name,pin\n100000000000001,+15551230001,Acme One,"+sealed+"\n", nil)
	require.NoError(t, err)
	assert.Empty(t, rows[0].problems)
	assert.Equal(t, sealed, rows[0].in.PIN)

	te = newTestEnv(t)
	te.vars[envPIN] = "246802"
	assert.Equal(t, exitUsage, te.run("seal-pin"))
	assert.Contains(t, te.errOut.String(), "no public seal keys to seal with")
	assert.False(t, te.dialed)
}

func TestBulkHelpListsEveryColumn(t *testing.T) {
	te := newTestEnv(t)
	require.Equal(t, exitOK, te.run("onboard", "--csv", "-h"))
	help := te.errOut.String()
	for _, c := range csvColumns {
		assert.Contains(t, help, " "+c, c)
	}
	assert.Contains(t, help, "-rate")
	assert.False(t, te.dialed)
}
