package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wa-onboarding/onboarding/internal/validate"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// defaultTimeout bounds a command, waits for update results included.
const defaultTimeout = 2 * time.Minute

// errHelp is returned by a parse that printed its help.
var errHelp = flag.ErrHelp

// A command is one subcommand: parse validates its arguments completely,
// without Temporal, and returns what to do once connected.
type command struct {
	name    string
	summary string
	parse   func(e *env, args []string) (*invocation, error)
}

// An invocation is a parsed, valid command line.
type invocation struct {
	json    bool
	timeout time.Duration
	// number is the E.164 number the command is about, if one, for hints.
	number string
	do     func(ctx context.Context, c *onboarding.Client) (output, error)
	// local commands need no Temporal: do gets a nil Client.
	local bool
}

// output is a command's result: data for --json, human for people.
type output struct {
	data  any
	human func(w io.Writer) error
	// failed makes the command exit 1 after printing, for outcomes that
	// are answers rather than errors, such as a code Meta refused.
	failed bool
	// exit, when not 0, is the exit status after printing.
	exit int
}

var commands []*command

func init() {
	// Assigned in init because the help command lists commands, which
	// would otherwise be an initialization cycle.
	commands = []*command{
		{"onboard", "start onboarding a number, or show the run that already owns it", parseOnboard},
		{"verify", "send the ownership code received by SMS or voice (--signal: fire and forget)", parseVerify},
		{"resend-code", "ask Meta for a new ownership code, optionally by another method", parseResend},
		{"status", "show where a number's run stands", parseStatus},
		{"change-region", "deregister and register again with another data localization region", parseChangeRegion},
		{"reregister", "register again, to apply an approved display-name change", parseOperation("reregister")},
		{"deregister", "take the number off the Cloud API", parseOperation("deregister")},
		{"fix", "resume a run in needs-attention, with corrected input", parseFix},
		{"skip-wait", "cut the run's current durable wait short", parseSignalOnly("skip-wait")},
		{"cancel", "stop a number's run (the number stays as it is at Meta)", parseSignalOnly("cancel")},
		{"list", "list onboarding runs, optionally in one stage", parseList},
		{"seal-pin", "print a PIN sealed with the workers' public key, for the pin column of onboard --csv", parseSealPIN},
	}
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// flagSet holds the flags every command has.
type flagSet struct {
	*flag.FlagSet
	json    bool
	timeout time.Duration
	number  string // set by parseNumber
}

func newFlagSet(e *env, name, args, help string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.SetOutput(e.stderr)
	fs.BoolVar(&fs.json, "json", false, "print the result as JSON")
	fs.DurationVar(&fs.timeout, "timeout", defaultTimeout, "give up after this long (an accepted operation goes on in the workflow)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: starter %s %s\n\n%s\n\nFlags:\n", name, args, help)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args allowing flags after positional arguments ("status
// +15551234567 --json"), which the flag package alone does not.
func (fs *flagSet) parse(args []string) ([]string, error) {
	if err := rejectPINFlag(args); err != nil {
		return nil, err
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError(err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (fs *flagSet) invocation(do func(ctx context.Context, c *onboarding.Client) (output, error)) *invocation {
	return &invocation{json: fs.json, timeout: fs.timeout, number: fs.number, do: do}
}

// usageErr is a command line mistake other than a bad field value.
type usageError string

func (u usageError) Error() string { return string(u) }

func usageErr(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

func inputErr(field, rule string) error { return &onboarding.InputError{Field: field, Rule: rule} }

// rejectPINFlag refuses --pin with an explanation rather than the flag
// package's "flag provided but not defined", and without echoing its value;
// likewise --new-pin=VALUE, which the flag package would quote as an invalid
// boolean.
func rejectPINFlag(args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case name == "pin" || name == "new-pin-value":
			return usageErr("there is no --pin flag: a PIN on the command line leaks into shell history and process lists; use --pin-file PATH, %s, or the prompt shown when stdin is a terminal", envPIN)
		case name == "new-pin" && hasValue && !isBool(value):
			return usageErr("--new-pin takes no value: a PIN on the command line leaks into shell history and process lists; use --pin-file PATH, %s, or the prompt shown when stdin is a terminal", envPIN)
		case name == "backup-password":
			return usageErr("there is no --backup-password flag: a password on the command line leaks into shell history and process lists; use --backup-password-file PATH or %s", envBackupPassword)
		}
	}
	return nil
}

func isBool(s string) bool {
	_, err := strconv.ParseBool(s)
	return err == nil
}

// looksSecret reports whether a stray argument could be a PIN or an
// ownership code, which error messages must not repeat.
func looksSecret(arg string) bool {
	return validate.Code("", validate.NormalizeCode(arg)) == nil
}

// parseNumber parses args for a command about one number, which comes from
// --number or the first positional argument; each empty *extra is then taken
// from the next one. check's errors are joined with the number's so one run
// reports every refused field, and leftovers are refused only after that,
// so a mistyped value is named rather than reported as an extra argument.
// --number is added here, not by each command: the help lists flags sorted,
// so where it is added does not show.
func (fs *flagSet) parseNumber(args []string, check func() error, extra ...*string) (string, error) {
	var number string
	fs.StringVar(&number, "number", "", "the number in E.164 (or the first argument)")
	pos, err := fs.parse(args)
	if err != nil {
		return "", err
	}
	if number == "" && len(pos) > 0 {
		number, pos = pos[0], pos[1:]
	}
	for _, p := range extra {
		if *p == "" && len(pos) > 0 {
			*p, pos = pos[0], pos[1:]
		}
	}
	number, err = onboarding.NormalizeE164(number)
	if check != nil {
		err = errors.Join(err, check())
	}
	if err != nil {
		return "", err
	}
	fs.number = number
	return number, noMore(pos)
}

func noMore(pos []string) error {
	switch {
	case len(pos) == 0:
		return nil
	case looksSecret(pos[0]):
		return usageErr("unexpected argument: six digits, not repeated here in case they are a PIN or a code (a PIN comes from --pin-file PATH, %s, or the prompt shown when stdin is a terminal)", envPIN)
	default:
		return usageErr("unexpected argument %q", pos[0])
	}
}

// ccRule is the rule of --cc as the starter applies it: it drops a '+'
// that the contract's country_code does not take.
const ccRule = "1 to 3 digits, not starting with 0; a leading '+' is fine (e.g. 1, +44, 353)"

// ccRuleWithPlus restates a refused country_code with the starter's rule,
// since the contract's rule says "without '+'" and --cc takes one.
func ccRuleWithPlus(err error) error {
	for _, e := range onboarding.SplitErrors(err) {
		if ie, ok := errors.AsType[*onboarding.InputError](e); ok && ie.Field == "country_code" && ie.Rule != "is required" {
			ie.Rule = "must be " + ccRule
		}
	}
	return err
}

// nationalNumber splits the E.164 number arg, '+' optional, at the end of
// country code cc.
func nationalNumber(arg, cc string) (string, error) {
	e164, err := onboarding.NormalizeE164(arg)
	switch {
	case err != nil:
		return "", err
	case cc == "":
		return "", inputErr("number", "needs --cc to say where the country code of "+e164+" ends")
	case !strings.HasPrefix(e164[1:], cc):
		return "", inputErr("number", "must start with the country code given by --cc ("+cc+"): "+e164+" does not")
	}
	return e164[1+len(cc):], nil
}

func parseOnboard(e *env, args []string) (*invocation, error) {
	if wantsCSV(args) {
		return parseBulkOnboard(e, args)
	}
	fs := newFlagSet(e, "onboard", "--waba ID --cc CC (--number NATIONAL | +E164) --name NAME [flags]",
		"Starts the workflow that onboards the number and then owns it: add to the WABA,\n"+
			"request an ownership code, wait for it (see verify), register with the PIN.\n"+
			"If the number's workflow is already running, that run is shown and nothing changes.\n"+
			"The number is --number without the country code, or the first argument in E.164\n"+
			"(+15551234567, '+' optional) as for the other commands; --cc says where the\n"+
			"country code ends.\n"+
			"The PIN comes from --pin-file, "+envPIN+", or a prompt when stdin is a terminal.\n"+
			"With --csv FILE it starts every row of a CSV file instead: see onboard --csv -h.")
	var in onboarding.OnboardInput
	var method, pinFile, backupFile, backupPasswordFile string
	fs.StringVar(&in.WABAID, "waba", "", "WhatsApp Business Account id")
	fs.StringVar(&in.CountryCode, "cc", "", "country dial code: "+ccRule)
	fs.StringVar(&in.PhoneNumber, "number", "", "national number, digits only, without the country code (or the first argument, in E.164)")
	fs.StringVar(&in.DisplayName, "name", "", "display name (verified_name)")
	fs.StringVar(&in.Region, "region", "", "data localization region ("+strings.Join(validate.Regions, ", ")+"); empty for none")
	fs.StringVar(&method, "method", "SMS", "code delivery method: SMS or VOICE")
	fs.StringVar(&in.Language, "language", onboarding.DefaultLanguage, "language of the code message")
	fs.BoolVar(&in.Migrate, "migrate", false, "the number migrates from another WABA or the On-Premises API")
	fs.StringVar(&in.PreverifiedID, "preverified-id", "", "id of a pre-verified number (no code needed)")
	fs.DurationVar((*time.Duration)(&in.CodeWait), "code-wait", onboarding.DefaultCodeWait, "how long to wait for a code before the run is flagged as parked")
	fs.DurationVar((*time.Duration)(&in.NameCheckInterval), "name-check-interval", onboarding.DefaultNameCheckInterval, "how often a pending display name is re-read")
	fs.BoolVar(&in.ReregisterOnNameApproval, "reregister-on-name-approval", false, "when Meta approves a changed display name, register again to apply it (one register call of the 72-hour budget)")
	fs.StringVar(&pinFile, "pin-file", "", "file holding the six-digit two-step PIN")
	fs.StringVar(&backupFile, "backup-file", "", "file holding the On-Premises API backup data, for a number migrating from it")
	fs.StringVar(&backupPasswordFile, "backup-password-file", "", "file holding the backup's password (or set "+envBackupPassword+")")
	pos, err := fs.parse(args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 && looksSecret(pos[0]) {
		return nil, noMore(pos) // a PIN typed as an argument, not a number
	}
	in.CountryCode = strings.TrimPrefix(strings.TrimSpace(in.CountryCode), "+")
	var numberErr error
	if in.PhoneNumber == "" && len(pos) > 0 {
		in.PhoneNumber, numberErr = nationalNumber(pos[0], in.CountryCode)
		pos = pos[1:]
	}
	in.Region = strings.ToUpper(strings.TrimSpace(in.Region))
	in.CodeMethod = onboarding.CodeMethod(strings.ToUpper(strings.TrimSpace(method)))
	in.Normalize()
	if in.Backup, err = readBackup(e, backupFile, backupPasswordFile); err != nil {
		return nil, err
	}
	// Every other field is checked before the PIN is asked for, so nobody
	// types a PIN for a command that is refused anyway; readPIN checks the
	// PIN itself.
	pinless := in
	pinless.PIN = "000000"
	if numberErr != nil {
		// Said once, by numberErr, rather than also as "is required".
		pinless.PhoneNumber = "5551234567"
	}
	if err := errors.Join(numberErr, ccRuleWithPlus(pinless.Validate())); err != nil {
		return nil, err
	}
	if err := noMore(pos); err != nil {
		return nil, err
	}
	if in.PIN, err = readPIN(e, pinFile, true); err != nil {
		return nil, err
	}
	fs.number = in.E164()
	return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
		r, err := c.Onboard(ctx, in)
		if err != nil {
			return output{}, err
		}
		return output{data: r, human: func(w io.Writer) error {
			if r.AlreadyRunning {
				fmt.Fprintf(w, "%s is already being onboarded; nothing changed (the given input is ignored).\n", in.E164())
			} else {
				fmt.Fprintf(w, "Started onboarding %s on WABA %s.\n", in.E164(), in.WABAID)
				fmt.Fprintf(w, "Next: send the code received by %s with: %s verify %s CODE\n", in.CodeMethod, e.self, in.E164())
			}
			return printRun(w, r)
		}}, nil
	}), nil
}

func printRun(w io.Writer, r onboarding.Run) error {
	fmt.Fprintf(w, "  workflow: %s\n", r.WorkflowID)
	if r.RunID != "" {
		fmt.Fprintf(w, "  run:      %s\n", r.RunID)
	}
	_, err := fmt.Fprintf(w, "  UI:       %s\n", r.UIURL)
	return err
}

// runLink finds the run to link to after an operation. A failure only costs
// the run id in the link, never the command.
func runLink(ctx context.Context, c *onboarding.Client, number string) onboarding.Run {
	r, err := c.CurrentRun(ctx, number)
	if err != nil {
		id := onboarding.WorkflowIDForE164(number)
		return onboarding.Run{WorkflowID: id, UIURL: c.UIURL(id, "")}
	}
	return r
}

// runJSON links a command's JSON result to its run.
type runJSON struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id,omitempty"`
	UIURL      string `json:"ui_url"`
}

func toRunJSON(r onboarding.Run) runJSON { return runJSON{r.WorkflowID, r.RunID, r.UIURL} }

// runMap is the JSON result of a command that only asked the run for
// something: the run's link and key: value.
func runMap(r onboarding.Run, key string, value any) map[string]any {
	return map[string]any{"workflow_id": r.WorkflowID, "run_id": r.RunID, key: value, "ui_url": r.UIURL}
}

// runOutput is the output of a command that acted on run r: data for --json;
// for people, headline and then the run's ids and UI link.
func runOutput(r onboarding.Run, data any, headline string) output {
	return output{data: data, human: func(w io.Writer) error {
		fmt.Fprintln(w, headline)
		return printRun(w, r)
	}}
}

// statusOutput is the output of a command that answers with the run's
// status: headline, if any, then the status.
func statusOutput(e *env, st onboarding.Status, r onboarding.Run, headline string) output {
	return output{
		data: struct {
			onboarding.Status
			RunID string `json:"run_id,omitempty"`
			UIURL string `json:"ui_url"`
		}{st, r.RunID, r.UIURL},
		human: func(w io.Writer) error {
			if headline != "" {
				fmt.Fprintln(w, headline)
			}
			return printStatus(w, e.self, st, r)
		},
	}
}

func parseVerify(e *env, args []string) (*invocation, error) {
	fs := newFlagSet(e, "verify", "--number +15551234567 --code 123456 [--signal]",
		"Sends the ownership code received by SMS or voice and waits for Meta's answer.\n"+
			"With --signal it only delivers the code; check the outcome with status.")
	var code string
	var signal bool
	fs.StringVar(&code, "code", "", "the six-digit code (or the second argument); a dash or spaces are fine")
	fs.BoolVar(&signal, "signal", false, "send the code as a signal, without waiting for Meta's answer")
	number, err := fs.parseNumber(args, func() error {
		code = validate.NormalizeCode(code)
		return validate.Code("code", code)
	}, &code)
	if err != nil {
		return nil, err
	}
	return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
		if signal {
			if err := c.SignalCode(ctx, number, code); err != nil {
				return output{}, err
			}
			r := runLink(ctx, c, number)
			return runOutput(r, runMap(r, "signaled", true),
				fmt.Sprintf("Code delivered to the run of %s; check the outcome with: %s status %s", number, e.self, number)), nil
		}
		res, err := c.SendCode(ctx, number, code)
		if err != nil {
			return output{}, err
		}
		r := runLink(ctx, c, number)
		out := runOutput(r, struct {
			onboarding.CodeResult
			runJSON
		}{res, toRunJSON(r)}, codeHeadline(number, res))
		out.failed = !res.Accepted
		return out, nil
	}), nil
}

// codeHeadline says Meta's answer to a code once: the run's message says
// it, and only without one does the starter word it.
func codeHeadline(number string, res onboarding.CodeResult) string {
	msg := res.Message
	switch {
	case msg != "":
	case res.Accepted:
		msg = "Meta accepted the code"
	default:
		msg = "Meta refused the code"
	}
	return number + ": " + strings.TrimSuffix(msg, ".") + "."
}

func parseResend(e *env, args []string) (*invocation, error) {
	fs := newFlagSet(e, "resend-code", "--number +15551234567 [--method SMS|VOICE] [--language en_US]",
		"Asks Meta for a new ownership code, by the run's method unless --method is given.")
	var method, lang string
	var in onboarding.ResendInput
	fs.StringVar(&method, "method", "", "SMS or VOICE (default: the run's)")
	fs.StringVar(&lang, "language", "", "language of the message (default: the run's)")
	number, err := fs.parseNumber(args, func() error {
		in = onboarding.ResendInput{Method: onboarding.CodeMethod(strings.ToUpper(strings.TrimSpace(method))), Language: lang}
		return in.Validate()
	})
	if err != nil {
		return nil, err
	}
	return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
		if err := c.ResendCode(ctx, number, in); err != nil {
			return output{}, err
		}
		r := runLink(ctx, c, number)
		by := "by the method of its last request"
		if in.Method != "" {
			by = "by " + string(in.Method)
		}
		return runOutput(r, runMap(r, "signaled", true), fmt.Sprintf(
			"Asked the run of %s to request a new code %s; when it comes: %s verify %s CODE", number, by, e.self, number)), nil
	}), nil
}

func parseStatus(e *env, args []string) (*invocation, error) {
	fs := newFlagSet(e, "status", "--number +15551234567", "Shows where the number's run stands.")
	number, err := fs.parseNumber(args, nil)
	if err != nil {
		return nil, err
	}
	return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
		st, err := c.Status(ctx, number)
		if err != nil {
			return output{}, err
		}
		return statusOutput(e, st, runLink(ctx, c, number), ""), nil
	}), nil
}

func printStatus(w io.Writer, self string, st onboarding.Status, r onboarding.Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "  %s:\t"+format+"\n", append([]any{k}, args...)...)
	}
	number := st.Number
	if number == "" {
		number = strings.TrimPrefix(r.WorkflowID, onboarding.WorkflowIDPrefix)
	}
	fmt.Fprintf(tw, "%s: %s\n", number, st.Stage)
	if st.Detail != "" {
		fmt.Fprintf(tw, "  %s\n", st.Detail)
	}
	// The run's detail names operations by their wire names; this line
	// names the commands to type.
	switch st.Stage {
	case onboarding.StageNeedsAttention:
		fmt.Fprintf(tw, "  next: %s fix %s [--new-pin | --region CC | --name NAME], or %s cancel %s\n", self, number, self, number)
	case onboarding.StageAwaitingCode:
		fmt.Fprintf(tw, "  next: %s verify %s CODE, or %s resend-code %s [--method VOICE]\n", self, number, self, number)
	}
	row("WABA", "%s", st.WABAID)
	if st.PhoneNumberID != "" {
		row("phone number id", "%s", st.PhoneNumberID)
	}
	region := st.Region
	if region == "" {
		region = "none"
	}
	row("registered", "%t (region %s)", st.Registered, region)
	if !st.CodeRequestedAt.IsZero() {
		row("code requested", "%s by %s", st.CodeRequestedAt.Local().Format(time.DateTime), st.CodeMethod)
	}
	if st.CodeWaitExpired {
		row("code wait", "expired; still waiting for a code or a resend")
	}
	row("register calls", "%d of %d in 72h", st.RegisterCallsInWindow, st.WindowLimit)
	row("deregister calls", "%d of %d in 72h", st.DeregisterCallsInWindow, st.WindowLimit)
	if st.NextRegisterAllowedAt.After(time.Now()) {
		row("next register", "%s", st.NextRegisterAllowedAt.Local().Format(time.DateTime))
	}
	if st.NextDeregisterAllowedAt.After(time.Now()) {
		row("next deregister", "%s", st.NextDeregisterAllowedAt.Local().Format(time.DateTime))
	}
	if !st.SleepingUntil.IsZero() {
		row("sleeping until", "%s (%s; %s skip-wait %s cuts it short)", st.SleepingUntil.Local().Format(time.DateTime), st.SleepReason, self, number)
	}
	if st.PendingOperations > 0 {
		row("pending operations", "%d", st.PendingOperations)
	}
	if st.WABAState != "" {
		row("WABA state", "%s (Meta: %s)", st.WABAState, st.WABAEvent)
	}
	if u := st.LastNameUpdate; u != nil {
		row("name review", "%s %s%s at %s", u.Decision, u.RequestedName, orEmpty(" ("+u.Reason+")", u.Reason), u.EventTime.Local().Format(time.DateTime))
	}
	if st.ReregisterDue != "" {
		row("reregister due", "to show the approved name %q: %s reregister %s", st.ReregisterDue, self, number)
	}
	if le := st.LastError; le != nil {
		row("last error", "%s: %s (%s, code %d/%d) at %s", le.Op, le.Message, le.Class, le.Code, le.Subcode, le.At.Local().Format(time.DateTime))
	}
	if !st.StartedAt.IsZero() {
		row("started", "%s", st.StartedAt.Local().Format(time.DateTime))
	}
	if !st.RegisteredAt.IsZero() {
		row("registered at", "%s", st.RegisteredAt.Local().Format(time.DateTime))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printRun(w, r)
}

func parseChangeRegion(e *env, args []string) (*invocation, error) {
	fs := newFlagSet(e, "change-region", "--number +15551234567 (--region CC | --clear-region) [--no-wait]",
		"Deregisters the number and registers it again with another data localization\n"+
			"region, or none. It spends one deregister and one register call of Meta's\n"+
			"10-per-72-hours budget; the workflow waits for the window when it is spent.")
	var region string
	var clear, noWait bool
	fs.StringVar(&region, "region", "", "new region: "+strings.Join(validate.Regions, ", "))
	fs.BoolVar(&clear, "clear-region", false, "turn local storage off")
	fs.BoolVar(&noWait, "no-wait", false, "return once the workflow has accepted the change")
	number, err := fs.parseNumber(args, func() error {
		region = strings.ToUpper(strings.TrimSpace(region))
		switch {
		case region == "" && !clear:
			return inputErr("region", "is required: give --region, or --clear-region to turn local storage off")
		case region != "" && clear:
			return inputErr("region", "must not be given with --clear-region")
		default:
			return validate.Region("region", region)
		}
	})
	if err != nil {
		return nil, err
	}
	return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
		res, err := c.ChangeRegion(ctx, number, region, !noWait)
		if err != nil {
			return output{}, err
		}
		what := "change-region to " + regionName(region)
		return operationOutput(ctx, e, c, number, what, res, !noWait, map[string]any{"requested_region": region}), nil
	}), nil
}

func parseOperation(name string) func(e *env, args []string) (*invocation, error) {
	return func(e *env, args []string) (*invocation, error) {
		help := map[string]string{
			"reregister": "Registers the number again, which applies an approved display-name change.\n" +
				"It spends one register call of Meta's 10-per-72-hours budget.",
			"deregister": "Takes the number off the Cloud API. It spends one deregister call of\n" +
				"Meta's 10-per-72-hours budget.",
		}[name]
		fs := newFlagSet(e, name, "--number +15551234567 [--no-wait]", help)
		var noWait bool
		fs.BoolVar(&noWait, "no-wait", false, "return once the workflow has accepted the operation")
		number, err := fs.parseNumber(args, nil)
		if err != nil {
			return nil, err
		}
		return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
			op := c.Reregister
			if name == "deregister" {
				op = c.Deregister
			}
			res, err := op(ctx, number, !noWait)
			if err != nil {
				return output{}, err
			}
			return operationOutput(ctx, e, c, number, name, res, !noWait, nil), nil
		}), nil
	}
}

// operationOutput reports an operation: done, with the run's stage and
// region after it; or, without waiting, accepted and queued, with the stage
// and the region still in effect. extra goes into the JSON.
func operationOutput(ctx context.Context, e *env, c *onboarding.Client, number, what string, res onboarding.OperationResult, waited bool, extra map[string]any) output {
	r := runLink(ctx, c, number)
	var b strings.Builder
	if waited {
		fmt.Fprintf(&b, "%s done for %s: the run is %s, region %s.", what, number, res.Stage, regionName(res.Region))
	} else {
		fmt.Fprintf(&b, "%s accepted for %s and queued; the run does it in turn (follow it with: %s status %s).", what, number, e.self, number)
		if res.Stage != "" {
			fmt.Fprintf(&b, "\nNow: the run is %s, region %s.", res.Stage, regionName(res.Region))
			if res.Stage == onboarding.StageNeedsAttention {
				fmt.Fprintf(&b, " It needs attention first: see %s status %s, then %s fix.", e.self, number, e.self)
			}
		}
	}
	data := map[string]any{"stage": res.Stage, "region": res.Region, "completed": waited,
		"workflow_id": r.WorkflowID, "run_id": r.RunID, "ui_url": r.UIURL}
	for k, v := range extra {
		data[k] = v
	}
	return runOutput(r, data, b.String())
}

func regionName(region string) string {
	if region == "" {
		return "none"
	}
	return region
}

func parseFix(e *env, args []string) (*invocation, error) {
	fs := newFlagSet(e, "fix", "--number +15551234567 [--region CC | --clear-region] [--name NAME] [--new-pin [--pin-file PATH]] [--readd]",
		"Resumes a run in needs-attention. Flags given replace the run's input; with none,\n"+
			"the run retries as is (after a token or permission was fixed). A new PIN comes\n"+
			"from --pin-file, "+envPIN+", or a prompt when stdin is a terminal.")
	var pinFile string
	var fix onboarding.FixInput
	var newPIN bool
	fs.StringVar(&fix.Region, "region", "", "new data localization region")
	fs.BoolVar(&fix.ClearRegion, "clear-region", false, "turn local storage off")
	fs.StringVar(&fix.DisplayName, "name", "", "new display name")
	fs.BoolVar(&newPIN, "new-pin", false, "set a new two-step PIN")
	fs.StringVar(&pinFile, "pin-file", "", "file holding the new PIN (implies --new-pin)")
	fs.BoolVar(&fix.Readd, "readd", false, "add the number to its WABA again when Meta no longer knows its phone-number ID (100/33)")
	number, err := fs.parseNumber(args, func() error {
		fix.Region = strings.ToUpper(strings.TrimSpace(fix.Region))
		return fix.Validate()
	})
	if err != nil {
		return nil, err
	}
	if newPIN || pinFile != "" {
		if fix.PIN, err = readPIN(e, pinFile, true); err != nil {
			return nil, err
		}
	}
	return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
		st, err := c.FixInput(ctx, number, fix)
		if err != nil {
			return output{}, err
		}
		// The update answers as soon as the run has taken the fix, which
		// may be before it left needs_attention; a fresh status says where
		// it went since.
		if now, err := c.Status(ctx, number); err == nil {
			st = now
		}
		headline := "The run of " + number + " took the fix and resumed."
		if st.Stage == onboarding.StageNeedsAttention {
			headline = "The run of " + number + " took the fix but is in needs_attention again (or has not left it yet):"
		}
		return statusOutput(e, st, runLink(ctx, c, number), headline), nil
	}), nil
}

func parseSignalOnly(name string) func(e *env, args []string) (*invocation, error) {
	return func(e *env, args []string) (*invocation, error) {
		help := map[string]string{
			"skip-wait": "Cuts the run's current durable wait short: a wait for Meta's rate-limit window\n" +
				"or for the next display-name check. With no such wait there is nothing to skip\n" +
				"(exit status 1).",
			"cancel": "Asks the number's run to stop. The number stays as it is at Meta; onboard it\n" +
				"again to start a new run.",
		}[name]
		fs := newFlagSet(e, name, "--number +15551234567", help)
		number, err := fs.parseNumber(args, nil)
		if err != nil {
			return nil, err
		}
		if name == "skip-wait" {
			return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
				return skipWait(ctx, e, c, number)
			}), nil
		}
		return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
			// The link is read first: after a cancel the run may be gone
			// from the running set, but its history is what to look at.
			r := runLink(ctx, c, number)
			if err := c.Cancel(ctx, number); err != nil {
				return output{}, err
			}
			return runOutput(r, runMap(r, "requested", name), "Asked the run of "+number+" to stop."), nil
		}), nil
	}
}

// skipWait signals skip-wait only when the run sleeps, and says which sleep
// it cut: the workflow ignores the signal otherwise, so "asked to skip"
// would claim an effect there is none of.
func skipWait(ctx context.Context, e *env, c *onboarding.Client, number string) (output, error) {
	st, err := c.Status(ctx, number)
	if err != nil {
		return output{}, err
	}
	r := runLink(ctx, c, number)
	if st.SleepingUntil.IsZero() {
		detail := ""
		if st.Detail != "" {
			detail = ": " + st.Detail
		}
		out := runOutput(r, map[string]any{"workflow_id": r.WorkflowID, "run_id": r.RunID, "ui_url": r.UIURL,
			"skipped": false, "stage": st.Stage},
			fmt.Sprintf("Nothing to skip: the run of %s is not in a durable wait (stage %s%s).", number, st.Stage, detail))
		out.failed = true
		return out, nil
	}
	if err := c.SkipWait(ctx, number); err != nil {
		return output{}, err
	}
	until := st.SleepingUntil.Local().Format(time.DateTime)
	return runOutput(r, map[string]any{"workflow_id": r.WorkflowID, "run_id": r.RunID, "ui_url": r.UIURL,
		"skipped": true, "stage": st.Stage, "sleeping_until": st.SleepingUntil, "sleep_reason": st.SleepReason},
		fmt.Sprintf("Cut short the wait of %s that was to last until %s (%s); the run goes on now (see %s status %s).",
			number, until, st.SleepReason, e.self, number)), nil
}

func parseList(e *env, args []string) (*invocation, error) {
	var names []string
	for _, s := range onboarding.Stages {
		if !s.Working() {
			names = append(names, string(s))
		}
	}
	fs := newFlagSet(e, "list", "[--stage STAGE]", "Lists onboarding runs, newest first, open and closed.")
	var stage string
	fs.StringVar(&stage, "stage", "", "only runs resting in this stage: "+strings.Join(names, ", "))
	pos, err := fs.parse(args)
	if err != nil {
		return nil, err
	}
	if stage == "" && len(pos) > 0 {
		stage, pos = pos[0], pos[1:]
	}
	st := onboarding.Stage(strings.TrimSpace(stage))
	if _, err := onboarding.ListQuery(st); err != nil {
		return nil, err
	}
	if err := noMore(pos); err != nil {
		return nil, err
	}
	return fs.invocation(func(ctx context.Context, c *onboarding.Client) (output, error) {
		entries, err := c.List(ctx, st)
		if err != nil {
			return output{}, err
		}
		if entries == nil {
			entries = []onboarding.ListEntry{}
		}
		return output{data: entries, human: func(w io.Writer) error {
			if len(entries) == 0 {
				_, err := fmt.Fprintln(w, "No runs.")
				return err
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NUMBER\tSTAGE\tSTATUS\tPHONE NUMBER ID\tWABA\tSTARTED\tUI")
			for _, x := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Number, dash(string(x.Stage)), x.Status,
					dash(x.PhoneNumberID), dash(x.WABAID), x.StartTime.Local().Format(time.DateTime), x.UIURL)
			}
			return tw.Flush()
		}}, nil
	}), nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// orEmpty is s, or "" when cond is empty.
func orEmpty(s, cond string) string {
	if cond == "" {
		return ""
	}
	return s
}
