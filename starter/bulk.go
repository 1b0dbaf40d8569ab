package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/validate"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Bulk onboarding defaults. Ten starts a second keeps a batch of thousands
// to minutes while leaving the frontend's per-namespace start budget to the
// services that share it; the workflows' own Graph calls are throttled by
// the workers, not here.
const (
	defaultBulkRate        = 10.0 // starts per second
	defaultBulkConcurrency = 4
	maxBulkConcurrency     = 64
	maxBulkRate            = 1000.0
	// bulkAbortAfter consecutive failed starts (Temporal down, wrong
	// namespace) stop the batch rather than fail every remaining row
	// the same way.
	bulkAbortAfter = 5
)

// csvColumns are the columns of an onboarding CSV: the JSON contract's field
// names, "number" for the whole E.164 number, and "pin_file".
var csvColumns = []string{
	"waba_id", "number", "country_code", "phone_number", "display_name", "region", "code_method",
	"language", "migrate", "preverified_id", "pin", "pin_file", "code_wait", "name_check_interval",
}

// wantsCSV reports whether onboard's args ask for a batch.
func wantsCSV(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "csv" {
			return true
		}
	}
	return false
}

// A bulkRow is one data row of the CSV, validated.
type bulkRow struct {
	line   int    // in the file, 1-based, the header being line 1 usually
	number string // E.164, or "" when the row has none readable
	in     onboarding.OnboardInput
	// batchPIN is set when the row has neither pin nor pin_file and takes
	// the batch's PIN.
	batchPIN bool
	// clearPIN is set when the row's PIN is in clear and must be sealed.
	clearPIN bool
	problems []string // "field: rule"; the row is refused when any
}

// bulkSummary is the result of a batch, printed at the end and as --json.
type bulkSummary struct {
	File           string       `json:"file"`
	Rows           int          `json:"rows"`
	CheckOnly      bool         `json:"check_only,omitempty"`
	Valid          int          `json:"valid"`
	Started        int          `json:"started"`
	AlreadyRunning int          `json:"already_running"`
	Refused        []bulkRowErr `json:"refused"`
	Failed         []bulkRowErr `json:"failed"`
	// NotStarted counts valid rows never tried: the batch was
	// interrupted, timed out, or stopped after repeated failures.
	NotStarted int       `json:"not_started"`
	StoppedBy  string    `json:"stopped_by,omitempty"`
	Runs       []bulkRun `json:"runs"`
}

// bulkRowErr is a row refused before any start (bad input) or whose start
// failed.
type bulkRowErr struct {
	Line    int      `json:"line"`
	Number  string   `json:"number,omitempty"`
	Reasons []string `json:"reasons"`
}

// bulkRun is a row whose number has a run: started now or already running.
type bulkRun struct {
	Line           int    `json:"line"`
	Number         string `json:"number"`
	WorkflowID     string `json:"workflow_id"`
	RunID          string `json:"run_id,omitempty"`
	AlreadyRunning bool   `json:"already_running"`
	UIURL          string `json:"ui_url"`
}

func parseBulkOnboard(e *env, args []string) (*invocation, error) {
	fs := newFlagSet(e, "onboard", "--csv FILE [--rate 10/s] [--concurrency 4] [--pin-file PATH] [--check]",
		"Starts the onboarding of every valid row of a CSV file, at most --rate starts a\n"+
			"second and --concurrency at a time. The whole file is validated first; bad rows\n"+
			"are reported with their line number and skipped, never half-started. Rows whose\n"+
			"number already has a running run are reported as such and left alone, so a file\n"+
			"can be run again after fixing its refused rows.\n\n"+
			"The header row names the columns, in any order, as the JSON contract does:\n"+
			"  waba_id, number, country_code, phone_number, display_name, region,\n"+
			"  code_method, language, migrate, preverified_id, pin, pin_file, code_wait,\n"+
			"  name_check_interval\n"+
			"A row gives its number as number (E.164) or as country_code and phone_number.\n"+
			"Its PIN comes from a pin cell holding a PIN sealed by \"starter seal-pin\" (never\n"+
			"in clear), from a pin_file cell naming a file (relative to the CSV's folder), or\n"+
			"else from --pin-file, "+envPIN+", or a prompt, one PIN for all such rows.\n\n"+
			"Exit status: 0 every row started or already running; 2 rows were refused (the\n"+
			"valid ones were started) or the file is unusable (nothing started); 1 starts\n"+
			"failed or were not tried.")
	// A batch takes as long as its size needs; --timeout still bounds it
	// when given.
	fs.timeout = 0
	fs.Lookup("timeout").DefValue = "0s"
	fs.Lookup("timeout").Usage = "stop starting after this long (0: no limit); rows not started are counted"
	var file, rateFlag, pinFile string
	var concurrency int
	var check bool
	fs.StringVar(&file, "csv", "", "CSV file of numbers to onboard, with a header row")
	fs.StringVar(&rateFlag, "rate", "10/s", "at most this many starts per second (N/s) or minute (N/m)")
	fs.IntVar(&concurrency, "concurrency", defaultBulkConcurrency, "starts in flight at once (1 to "+strconv.Itoa(maxBulkConcurrency)+")")
	fs.StringVar(&pinFile, "pin-file", "", "file holding the PIN of the rows without pin or pin_file")
	fs.BoolVar(&check, "check", false, "validate the file and report, without starting anything")
	pos, err := fs.parse(args)
	if err != nil {
		return nil, err
	}
	if file == "-h" || file == "-help" || file == "--help" { // "onboard --csv -h"
		fs.Usage()
		return nil, errHelp
	}
	if err := noMore(pos); err != nil {
		return nil, err
	}
	rate, err := parseRate(rateFlag)
	if err != nil {
		return nil, err
	}
	if concurrency < 1 || concurrency > maxBulkConcurrency {
		return nil, usageErr("--concurrency must be 1 to %d", maxBulkConcurrency)
	}
	if file == "" {
		return nil, usageErr("--csv needs a file name")
	}
	data, err := e.readFile(file)
	if err != nil {
		return nil, usageErr("--csv: cannot read %s: %v", file, pathless(err))
	}
	rows, err := parseCSV(e, data, filepath.Dir(file))
	if err != nil {
		return nil, usageErr("--csv %s: %v", file, err)
	}

	checkSealKeys(e, rows)

	sum := &bulkSummary{File: file, Rows: len(rows), CheckOnly: check, Refused: []bulkRowErr{}, Failed: []bulkRowErr{}, Runs: []bulkRun{}}
	var valid []*bulkRow
	needBatchPIN, needSealing := false, false
	for _, r := range rows {
		if len(r.problems) > 0 {
			sum.Refused = append(sum.Refused, bulkRowErr{Line: r.line, Number: r.number, Reasons: r.problems})
			continue
		}
		valid = append(valid, r)
		needBatchPIN = needBatchPIN || r.batchPIN
		needSealing = needSealing || r.clearPIN || r.batchPIN
	}
	sum.Valid = len(valid)
	// What concerns the whole batch is checked before anyone types a PIN
	// and before anything starts.
	if needSealing && !check {
		if err := canSeal(e); err != nil {
			return nil, err
		}
	}
	if needBatchPIN && !check {
		pin, err := readPIN(e, pinFile, true)
		if err != nil {
			return nil, err
		}
		for _, r := range valid {
			if r.batchPIN {
				r.in.PIN = pin
			}
		}
	}

	inv := fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
		if !check && len(valid) > 0 {
			b := &batch{rate: rate, concurrency: concurrency, clock: realClock{},
				progress: newProgress(e, len(valid)), start: c.Onboard, uiURL: c.UIURL}
			b.run(ctx, valid, sum)
		}
		return bulkOutput(e, sum), nil
	})
	inv.local = check || len(valid) == 0
	return inv, nil
}

// canSeal fails when PINs in clear would have to be sent and nothing can
// seal them: the Client would refuse each row the same way.
func canSeal(e *env) error {
	_, err := onboarding.LoadSealer(e.getenv, e.readFile)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, onboarding.ErrNoSealKeys):
		return err
	case e.getenv(envUnsealed) == "1":
		return nil
	}
	return inputErr("pin", "cannot be sent: no public seal keys to seal it with (set "+seal.EnvPublicKeys+" or "+
		seal.EnvPublicKeys+"_FILE); rows whose pin cell is already sealed need none")
}

// checkSealKeys refuses a row whose PIN was sealed to a key the starter's
// public keys do not list: the workers, which hold the same list's private
// halves, could not open it, and would retry rather than fail. Without
// keys, nothing is known to check against.
func checkSealKeys(e *env, rows []*bulkRow) {
	sealer, err := onboarding.LoadSealer(e.getenv, e.readFile)
	if err != nil {
		return
	}
	for _, r := range rows {
		if !seal.IsSealed(r.in.PIN) {
			continue
		}
		if id, _ := seal.KeyIDOf(r.in.PIN); !slices.Contains(sealer.IDs(), id) {
			r.problems = append(r.problems, fmt.Sprintf("pin: is sealed with key %q, which is not among the workers' public keys %q (%s): seal it again with starter seal-pin",
				id, sealer.IDs(), seal.EnvPublicKeys))
		}
	}
}

// parseRate reads "10/s", "600/m", "0.5/s" or a bare "10" (per second).
func parseRate(s string) (float64, error) {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	per := time.Second
	if hasUnit {
		switch strings.TrimSpace(unit) {
		case "s", "sec", "second":
		case "m", "min", "minute":
			per = time.Minute
		default:
			return 0, usageErr("--rate must be N/s or N/m (e.g. 10/s, 300/m), not %q", s)
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	rate := n / per.Seconds()
	if err != nil || !(rate > 0) || rate > maxBulkRate {
		return 0, usageErr("--rate must be a positive number of starts per second or minute, at most %g/s (e.g. 10/s, 300/m), not %q", maxBulkRate, s)
	}
	return rate, nil
}

// parseCSV reads and validates every row of data. An error is about the
// file as a whole (its header, its syntax); a bad row only gets problems.
func parseCSV(e *env, data []byte, dir string) ([]*bulkRow, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // spreadsheets' UTF-8 BOM
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1 // a short row is the row's problem, not the file's
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("is empty: it needs a header row naming the columns, then one row per number")
	}
	if err != nil {
		return nil, csvSyntax(err)
	}
	col := map[string]int{}
	var unknown []string
	for i, raw := range header {
		h := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case !slices.Contains(csvColumns, h):
			unknown = append(unknown, strconv.Quote(strings.TrimSpace(raw)))
		case col[h] != 0:
			return nil, fmt.Errorf("line 1: column %s appears twice", h)
		}
		col[h] = i + 1 // 0 is absent
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("line 1: unknown column %s; the columns are %s", strings.Join(unknown, ", "), strings.Join(csvColumns, ", "))
	}
	var missing []string
	for _, need := range []string{"waba_id", "display_name"} {
		if col[need] == 0 {
			missing = append(missing, need)
		}
	}
	if col["number"] == 0 && (col["country_code"] == 0 || col["phone_number"] == 0) {
		missing = append(missing, "number (or country_code and phone_number)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("line 1: the header lacks %s", strings.Join(missing, ", "))
	}

	var rows []*bulkRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvSyntax(err)
		}
		line, _ := cr.FieldPos(0)
		r := &bulkRow{line: line}
		if len(rec) != len(header) {
			// Cells may be misaligned, so none is trusted, or quoted:
			// one might be a PIN.
			r.problems = []string{fmt.Sprintf("has %d cells where the header has %d", len(rec), len(header))}
		} else {
			cell := func(name string) string {
				if i := col[name]; i > 0 {
					return strings.TrimSpace(rec[i-1])
				}
				return ""
			}
			r.fill(e, cell, dir)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, errors.New("has a header but no rows")
	}
	refuseDuplicates(rows)
	return rows, nil
}

// csvSyntax words a csv.ParseError for people; its line number is the
// file's. A file that is not CSV is refused whole: where its rows start
// and end is not known.
func csvSyntax(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: not valid CSV: %v (quote a cell holding a comma or a quote, and double its quotes)", pe.Line, pe.Err)
	}
	return err
}

// fill builds the row's OnboardInput from its cells and validates it as a
// single onboard would.
func (r *bulkRow) fill(e *env, cell func(string) string, dir string) {
	in := &r.in
	problem := func(field, rule string) { r.problems = append(r.problems, field+": "+rule) }
	in.WABAID = cell("waba_id")
	in.DisplayName = cell("display_name")
	in.Region = strings.ToUpper(cell("region"))
	in.CodeMethod = onboarding.CodeMethod(strings.ToUpper(cell("code_method")))
	in.Language = cell("language")
	in.PreverifiedID = cell("preverified_id")
	in.CountryCode = strings.TrimPrefix(cell("country_code"), "+")
	in.PhoneNumber = cell("phone_number")

	numberOK := true
	if n := cell("number"); n != "" {
		e164, err := onboarding.NormalizeE164(n)
		switch {
		case err != nil:
			numberOK = false
			r.problems = append(r.problems, err.Error())
		case in.PhoneNumber != "":
			numberOK = false
			problem("number", "give number or country_code and phone_number, not both")
		case in.CountryCode == "":
			in.CountryCode = countryCodeOf(e164[1:])
			in.PhoneNumber = e164[1+len(in.CountryCode):]
		case !strings.HasPrefix(e164[1:], in.CountryCode):
			numberOK = false
			problem("number", "must start with the country_code of its row ("+in.CountryCode+"): "+e164+" does not")
		default:
			in.PhoneNumber = e164[1+len(in.CountryCode):]
		}
	}
	if m := cell("migrate"); m != "" {
		switch strings.ToLower(m) {
		case "true", "yes", "1":
			in.Migrate = true
		case "false", "no", "0":
		default:
			problem("migrate", "must be true or false (or empty)")
		}
	}
	for _, d := range []struct {
		name string
		dst  *onboarding.Duration
	}{{"code_wait", &in.CodeWait}, {"name_check_interval", &in.NameCheckInterval}} {
		if v := cell(d.name); v != "" {
			p, err := time.ParseDuration(v)
			if err != nil {
				problem(d.name, "must be a duration such as 24h, 90m or 1h30m")
				continue
			}
			*d.dst = onboarding.Duration(p)
		}
	}
	r.fillPIN(e, cell("pin"), cell("pin_file"), dir)

	in.Normalize()
	check := *in
	if r.batchPIN || in.PIN == "" {
		check.PIN = "000000" // the PIN is checked where it is read
	}
	if !numberOK {
		// Said once, by the number's problem, rather than also as
		// "is required".
		check.CountryCode, check.PhoneNumber = "1", "5551234567"
	}
	for _, err := range onboarding.SplitErrors(check.Validate()) {
		r.problems = append(r.problems, err.Error())
	}
	if numberOK && validate.CountryCode("", in.CountryCode) == nil && validate.PhoneNumber("", in.CountryCode, in.PhoneNumber) == nil {
		r.number = in.E164()
	}
}

// fillPIN takes the row's PIN from its pin cell (sealed only) or the file
// its pin_file cell names; neither leaves it to the batch. No message
// quotes a PIN.
func (r *bulkRow) fillPIN(e *env, pin, pinFile, dir string) {
	problem := func(field, rule string) { r.problems = append(r.problems, field+": "+rule) }
	switch {
	case pin != "" && pinFile != "":
		problem("pin", "give pin or pin_file, not both")
	case pin != "":
		if !seal.IsSealed(pin) {
			if strings.HasPrefix(pin, seal.Prefix) {
				problem("pin", "is not a whole sealed value (copy the line starter seal-pin printed, in one cell)")
			} else {
				problem("pin", "holds a PIN in clear (not repeated here): a CSV cell takes only a PIN sealed with starter seal-pin; "+
					"or name a file in pin_file, or give one PIN for the batch with --pin-file")
			}
			return
		}
		r.in.PIN = pin
	case pinFile != "":
		name := pinFile
		if looksSecret(name) {
			problem("pin_file", "holds six digits: the name of a file holding the PIN goes here, not the PIN (not repeated here)")
			return
		}
		if !filepath.IsAbs(pinFile) {
			pinFile = filepath.Join(dir, pinFile)
		}
		b, err := e.readFile(pinFile)
		if err != nil {
			problem("pin_file", fmt.Sprintf("cannot read %s: %v", pinFile, pathless(err)))
			return
		}
		v := strings.TrimSpace(string(b))
		switch {
		case seal.IsSealed(v):
		case validate.PIN("", v) == nil:
			r.clearPIN = true
		default:
			problem("pin_file", "the content of "+name+" must be exactly 6 ASCII digits, or a PIN sealed with starter seal-pin")
			return
		}
		r.in.PIN = v
	default:
		r.batchPIN = true
	}
}

// refuseDuplicates refuses every row of a number given more than once:
// which of them was meant is the operator's call.
func refuseDuplicates(rows []*bulkRow) {
	lines := map[string][]int{}
	for _, r := range rows {
		if r.number != "" {
			lines[r.number] = append(lines[r.number], r.line)
		}
	}
	for _, r := range rows {
		if l := lines[r.number]; len(l) > 1 {
			var others []string
			for _, n := range l {
				if n != r.line {
					others = append(others, strconv.Itoa(n))
				}
			}
			r.problems = append(r.problems, fmt.Sprintf("number: %s is also on line %s: one row per number", r.number, strings.Join(others, ", ")))
		}
	}
}

// countryCodeOf returns the country calling code that digits (an E.164
// number without '+') starts with. ITU codes are prefix-free and their
// length follows from their first two digits: 1 and 7 stand alone, the
// two-digit codes are listed, and every other code has three digits,
// assigned or not.
func countryCodeOf(digits string) string {
	switch {
	case digits[0] == '1' || digits[0] == '7':
		return digits[:1]
	case slices.Contains(twoDigitCodes, digits[:2]):
		return digits[:2]
	}
	return digits[:3]
}

var twoDigitCodes = []string{
	"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
	"51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
	"81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
}

// A batch starts rows at a bounded rate and concurrency.
type batch struct {
	rate        float64
	concurrency int
	clock       clock
	progress    progress
	start       func(context.Context, onboarding.OnboardInput) (onboarding.Run, error)
	uiURL       func(workflowID, runID string) string
}

// rowResult is what became of one valid row.
type rowResult struct {
	row    *bulkRow
	run    onboarding.Run
	err    error
	tried  bool
	reason string
}

// run starts rows and adds the outcome to sum, in line order.
func (b *batch) run(ctx context.Context, rows []*bulkRow, sum *bulkSummary) {
	p := newPacer(b.rate, b.clock)
	results := make([]rowResult, len(rows))
	next := make(chan int)
	var failures atomic.Int32
	var stopped atomic.Value // string: why no more rows are tried
	var wg sync.WaitGroup
	b.progress.begin(len(rows), b.rate, b.concurrency)
	for range b.concurrency {
		wg.Go(func() {
			for i := range next {
				res := &results[i]
				res.row = rows[i]
				if why, _ := stopped.Load().(string); why != "" {
					continue
				}
				if err := p.wait(ctx); err != nil {
					continue
				}
				res.tried = true
				res.run, res.err = b.start(ctx, rows[i].in)
				switch {
				case res.err == nil:
					failures.Store(0)
				case ctx.Err() != nil:
					res.reason = "interrupted while starting; whether the run started, " + rows[i].number + "'s status shows"
				case !isInputError(res.err):
					if failures.Add(1) >= bulkAbortAfter {
						stopped.CompareAndSwap(nil, fmt.Sprintf("%d starts in a row failed", bulkAbortAfter))
					}
				}
				b.progress.done(*res)
			}
		})
	}
feed:
	for i := range rows {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	b.progress.end()

	if why, _ := stopped.Load().(string); why != "" {
		sum.StoppedBy = why
	} else if err := ctx.Err(); err != nil {
		sum.StoppedBy = "interrupted"
		if errors.Is(err, context.DeadlineExceeded) {
			sum.StoppedBy = "--timeout"
		}
	}
	for _, res := range results {
		r := res.row
		switch {
		case r == nil || !res.tried:
			sum.NotStarted++
		case res.err != nil && isInputError(res.err):
			sum.Refused = append(sum.Refused, bulkRowErr{Line: r.line, Number: r.number, Reasons: errorLines(res.err)})
		case res.err != nil:
			reason := res.reason
			if reason == "" {
				reason = describe(res.err)
			}
			sum.Failed = append(sum.Failed, bulkRowErr{Line: r.line, Number: r.number, Reasons: []string{reason}})
		default:
			if res.run.AlreadyRunning {
				sum.AlreadyRunning++
			} else {
				sum.Started++
			}
			sum.Runs = append(sum.Runs, bulkRun{Line: r.line, Number: r.number, WorkflowID: res.run.WorkflowID,
				RunID: res.run.RunID, AlreadyRunning: res.run.AlreadyRunning, UIURL: res.run.UIURL})
		}
	}
	slices.SortFunc(sum.Refused, func(a, b bulkRowErr) int { return a.Line - b.Line })
}

func errorLines(err error) []string {
	var out []string
	for _, e := range onboarding.SplitErrors(err) {
		out = append(out, e.Error())
	}
	return out
}

// bulkOutput prints the summary; the exit status says whether rows were
// refused (2) or starts failed or were not tried (1).
func bulkOutput(e *env, sum *bulkSummary) output {
	out := output{data: sum, human: func(w io.Writer) error { return printSummary(w, e.self, sum) }}
	switch {
	case len(sum.Failed) > 0 || sum.NotStarted > 0:
		out.exit = exitFailure
	case len(sum.Refused) > 0:
		out.exit = exitUsage
	}
	return out
}

func printSummary(w io.Writer, self string, sum *bulkSummary) error {
	if sum.CheckOnly {
		fmt.Fprintf(w, "Checked %s: %d rows, %d valid, %d refused; nothing started (--check).\n", sum.File, sum.Rows, sum.Valid, len(sum.Refused))
	} else {
		fmt.Fprintf(w, "Onboarding from %s: %d rows.\n", sum.File, sum.Rows)
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
		for _, c := range []struct {
			n    int
			what string
		}{
			{sum.Started, "started"}, {sum.AlreadyRunning, "already running (left as they are)"},
			{len(sum.Refused), "refused"}, {len(sum.Failed), "failed to start"}, {sum.NotStarted, "not started"},
		} {
			fmt.Fprintf(tw, "  %d\t %s\n", c.n, c.what)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if sum.StoppedBy != "" {
		fmt.Fprintf(w, "Stopped before the end (%s): run the file again to start the rest; rows already started show as already running.\n", sum.StoppedBy)
	}
	for _, x := range []struct {
		title string
		rows  []bulkRowErr
	}{{"Refused (fix these rows and run the file again):", sum.Refused}, {"Failed to start:", sum.Failed}} {
		if len(x.rows) == 0 {
			continue
		}
		fmt.Fprintln(w, x.title)
		for _, r := range x.rows {
			who := ""
			if r.Number != "" {
				who = " " + r.Number
			}
			for _, reason := range r.Reasons {
				fmt.Fprintf(w, "  line %d%s: %s\n", r.Line, who, reason)
			}
		}
	}
	if sum.Started+sum.AlreadyRunning > 0 {
		_, err := fmt.Fprintf(w, "Follow them with: %s list --stage awaiting_code\n", self)
		return err
	}
	return nil
}
