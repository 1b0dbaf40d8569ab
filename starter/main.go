// Command starter is the operators' command line for WhatsApp number
// onboardings: it starts them, sends ownership codes, runs region changes,
// re-registrations and deregistrations, and shows where runs stand.
//
// Run "starter -h" for the commands and "starter <command> -h" for a
// command's flags. Input is validated before Temporal is dialed; the exit
// status is 2 for bad input, 1 for any other failure.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"go.uber.org/zap/zapcore"
	"golang.org/x/term"

	"github.com/wa-onboarding/onboarding/internal/temporalconn"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Environment variables read by the starter besides Temporal's and the
// codec's.
const (
	envPIN   = "WA_PIN"
	envUIURL = "TEMPORAL_UI_URL"
	// envBackupPassword holds the On-Premises backup's password when no
	// --backup-password-file is given.
	envBackupPassword = "WA_BACKUP_PASSWORD"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is the starter's view of the process, replaced in tests.
type env struct {
	// self is the command as the user typed it ("./scripts/starter.sh",
	// "bin/starter"), so that hints name what to type next.
	self           string
	stdout, stderr io.Writer
	getenv         func(string) string
	readFile       func(string) ([]byte, error)
	// stdinIsTerminal and readPassword serve the interactive PIN prompt.
	stdinIsTerminal func() bool
	readPassword    func() ([]byte, error)
	// stderrTTY picks a progress bar over plain lines; nil means no.
	stderrTTY func() bool
	// dial connects to Temporal; it is called only after input is valid.
	dial func(ctx context.Context, e *env) (*onboarding.Client, func(), error)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], osEnv())
	stop()
	os.Exit(code)
}

func osEnv() *env {
	fd := int(os.Stdin.Fd())
	return &env{
		self:            selfName(os.Args[0]),
		stdout:          os.Stdout,
		stderr:          os.Stderr,
		getenv:          os.Getenv,
		readFile:        os.ReadFile,
		stdinIsTerminal: func() bool { return term.IsTerminal(fd) },
		readPassword:    func() ([]byte, error) { return term.ReadPassword(fd) },
		stderrTTY:       func() bool { return term.IsTerminal(int(os.Stderr.Fd())) },
		dial:            dialTemporal,
	}
}

// selfName is argv0 as typed: scripts/starter.sh execs the binary under its
// own name. A bare name was found on PATH and is typed as is.
func selfName(argv0 string) string {
	if argv0 == "" {
		return "starter"
	}
	return argv0
}

func dialTemporal(ctx context.Context, e *env) (*onboarding.Client, func(), error) {
	sealing, err := sealOption(e)
	if err != nil {
		return nil, nil, err
	}
	// The CLI's own output is the report; SDK chatter below warnings would
	// bury it.
	logger, err := temporalconn.NewLogger(e.getenv, temporalconn.LoggerDefaults{Format: "console", Level: zapcore.WarnLevel})
	if err != nil {
		return nil, nil, err
	}
	c, info, err := temporalconn.Dial(ctx, temporalconn.Config{Logger: logger, Getenv: e.getenv, ReadFile: e.readFile})
	if err != nil {
		_ = logger.Sync()
		return nil, nil, dialError(info, err)
	}
	oc := onboarding.NewClient(c, sealing, onboarding.WithNamespace(info.Namespace), onboarding.WithUIBaseURL(e.getenv(envUIURL)),
		onboarding.WithAddress(info.HostPort))
	return oc, func() { c.Close(); _ = logger.Sync() }, nil
}

// dialError shortens the commonest dial failure, which temporalconn reports
// with gRPC's nested descriptions ("connection error: desc = \"transport:
// Error while dialing: dial tcp ...: connect: connection refused\"").
func dialError(info temporalconn.Info, err error) error {
	if info.HostPort == "" || !strings.Contains(err.Error(), "connection refused") {
		return err
	}
	return fmt.Errorf("cannot reach Temporal at %s (%s): connection refused; is the server running there? (make run starts one on 127.0.0.1:7233)",
		info.HostPort, info.HostPortSource)
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr, e.self)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(e.stdout, e.self)
		return exitOK
	}
	cmd := findCommand(name)
	if cmd == nil {
		fmt.Fprintf(e.stderr, "starter: unknown command %q\n\n", name)
		usage(e.stderr, e.self)
		return exitUsage
	}
	inv, err := cmd.parse(e, args[1:])
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		report(e.stderr, name, err)
		return exitUsage
	}

	if inv.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, inv.timeout)
		defer cancel()
	}
	var c *onboarding.Client
	if !inv.local {
		var closeClient func()
		if c, closeClient, err = e.dial(ctx, e); err != nil {
			report(e.stderr, name, err)
			return exitFailure
		}
		defer closeClient()
	}

	out, err := inv.do(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			err = gaveUp(e, inv, ctx.Err(), err)
		}
		report(e.stderr, name, err)
		if isInputError(err) {
			return exitUsage
		}
		return exitFailure
	}
	if inv.json {
		err = writeJSON(e.stdout, out.data)
	} else {
		err = out.human(e.stdout)
	}
	if err != nil {
		report(e.stderr, name, err)
		return exitFailure
	}
	if out.exit != 0 {
		return out.exit
	}
	if out.failed {
		return exitFailure
	}
	return exitOK
}

// gaveUp explains an error that ended the wait for an answer: whether the
// run took the operation, and how to follow it.
func gaveUp(e *env, inv *invocation, ctxErr, err error) error {
	why := "interrupted"
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		why = "gave up after --timeout " + inv.timeout.String()
	}
	follow := e.self + " status"
	if inv.number != "" {
		follow += " " + inv.number
	}
	if errors.Is(err, onboarding.ErrStillRunning) {
		return fmt.Errorf("%s waiting for the result; the run accepted the operation and goes on with it: follow it with %s", why, follow)
	}
	return fmt.Errorf("%s without an answer from Temporal (%s); whether the run took the request, %s shows", why, describe(err), follow)
}

// describe is err's text for people, without the operation and workflow id
// an OperationError starts with.
func describe(err error) string {
	if oe, ok := errors.AsType[*onboarding.OperationError](err); ok {
		return oe.Reason()
	}
	return err.Error()
}

func usage(w io.Writer, self string) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n\nOperates WhatsApp number onboardings running on Temporal.\n\nCommands:\n", self)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nRun \"%s <command> -h\" for a command's flags.", self)
	fmt.Fprint(w, ` Every command takes --json
for machine-readable output and --timeout.

The PIN never comes from a flag: use --pin-file PATH, WA_PIN, or the prompt
shown when stdin is a terminal.

Environment:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*,
  TEMPORAL_PROFILE        Temporal connection (Temporal's env configuration)
  WA_CODEC_KEYS or
  WA_CODEC_KEYS_FILE      payload encryption keys, the same as the worker's
  WA_INSECURE_PLAIN_PAYLOADS=1
                          no encryption (throwaway dev servers only)
  TEMPORAL_UI_URL         Temporal UI for links (default http://localhost:8233)
  WA_PIN                  two-step PIN for onboard and fix --new-pin
  WA_SEAL_PUBLIC_KEYS or
  WA_SEAL_PUBLIC_KEYS_FILE
                          workers' public keys: PINs and codes are sealed with
                          them (required by onboard, verify, fix --new-pin)
  WA_INSECURE_UNSEALED_SECRETS=1
                          without seal keys, send PINs and codes unsealed
                          (workers refuse them; only for runs from before sealing)
  WA_BACKUP_PASSWORD      password of onboard --backup-file, without --backup-password-file
  LOG_FORMAT, LOG_LEVEL   SDK log output (console, warn by default)

Exit status: 0 done, 1 failed, 2 bad input (onboard --csv -h says what
they mean for a batch).
`)
}

// report prints err on one line per refused field, naming fields as the
// command line spells them.
func report(w io.Writer, cmd string, err error) {
	for _, e := range onboarding.SplitErrors(err) {
		msg := e.Error()
		var ie *onboarding.InputError
		if errors.As(e, &ie) {
			msg = fieldName(ie.Field) + ": " + ie.Rule
		}
		fmt.Fprintf(w, "starter %s: %s\n", cmd, msg)
	}
}

func isInputError(err error) bool {
	var ie *onboarding.InputError
	return errors.As(err, &ie)
}

// flagFor maps the contract's field names to the flags that set them.
var flagFor = map[string]string{
	"waba_id":             "--waba",
	"country_code":        "--cc",
	"phone_number":        "--number",
	"display_name":        "--name",
	"region":              "--region",
	"code_method":         "--method",
	"method":              "--method",
	"language":            "--language",
	"preverified_id":      "--preverified-id",
	"code_wait":           "--code-wait",
	"name_check_interval": "--name-check-interval",
	"number":              "--number",
	"code":                "--code",
	"stage":               "--stage",
}

func fieldName(field string) string {
	if f, ok := flagFor[field]; ok {
		return f + " (" + field + ")"
	}
	if field == "pin" {
		return "PIN"
	}
	return strings.ReplaceAll(field, "_", "-")
}
