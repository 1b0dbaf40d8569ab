package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/wa-onboarding/onboarding/onboarding"
)

type testEnv struct {
	*env
	out, errOut bytes.Buffer
	vars        map[string]string
	dialed      bool
	prompts     []string // answers to PIN prompts, in order
}

func newTestEnv(t *testing.T) *testEnv {
	te := &testEnv{vars: map[string]string{}}
	te.env = &env{
		self:            "./scripts/starter.sh",
		stdout:          &te.out,
		stderr:          &te.errOut,
		getenv:          func(k string) string { return te.vars[k] },
		readFile:        os.ReadFile,
		stdinIsTerminal: func() bool { return false },
		readPassword: func() ([]byte, error) {
			if len(te.prompts) == 0 {
				return nil, errors.New("no more input")
			}
			p := te.prompts[0]
			te.prompts = te.prompts[1:]
			return []byte(p), nil
		},
		dial: func(context.Context, *env) (*onboarding.Client, func(), error) {
			te.dialed = true
			return nil, nil, errors.New("test: dial not allowed")
		},
	}
	return te
}

func (te *testEnv) run(args ...string) int { return run(context.Background(), args, te.env) }

var onboardArgs = []string{"onboard", "--waba", "100000000000001", "--cc", "1", "--number", "5551234567", "--name", "Acme Support"}

func parseOnboardWith(t *testing.T, te *testEnv, extra ...string) (*invocation, error) {
	t.Helper()
	return parseOnboard(te.env, append(append([]string(nil), onboardArgs[1:]...), extra...))
}

func TestBadInputFailsFastWithoutServer(t *testing.T) {
	for _, args := range [][]string{
		{"onboard", "--cc", "1", "--number", "abc"},
		{"onboard", "--waba", "1", "--cc", "0", "--number", "5551234567", "--name", "Acme"},
		{"status", "--number", "12"},
		{"status"},
		{"verify", "--number", "+15551234567", "--code", "12"},
		{"change-region", "+15551234567", "--region", "XX"},
		{"change-region", "+15551234567"},
		{"resend-code", "+15551234567", "--method", "FAX"},
		{"list", "--stage", "nope"},
		{"fix", "+15551234567", "--region", "CH", "--clear-region"},
		{"onboard", "--bogus-flag"},
		{"status", "+15551234567", "extra"},
		{"nosuchcommand"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			te := newTestEnv(t)
			te.vars[envPIN] = "123456"
			assert.Equal(t, exitUsage, te.run(args...))
			assert.False(t, te.dialed, "must not dial for bad input")
			assert.NotEmpty(t, te.errOut.String())
		})
	}
}

func TestOnboardErrorNamesFieldAndRule(t *testing.T) {
	te := newTestEnv(t)
	require.Equal(t, exitUsage, te.run("onboard", "--cc", "1", "--number", "abc"))
	msg := te.errOut.String()
	assert.Contains(t, msg, "--number (phone_number): must be digits only")
	assert.Contains(t, msg, "--waba (waba_id): is required")
	assert.Contains(t, msg, "--name (display_name): is required")
}

func TestValidInputDials(t *testing.T) {
	te := newTestEnv(t)
	assert.Equal(t, exitFailure, te.run("status", "+15551234567", "--json"))
	assert.True(t, te.dialed)
	assert.Contains(t, te.errOut.String(), "dial not allowed")
}

func TestThereIsNoPINFlag(t *testing.T) {
	for _, flagArg := range []string{"--pin", "-pin", "--pin=123456"} {
		te := newTestEnv(t)
		args := append(append([]string(nil), onboardArgs...), flagArg, "123456")
		assert.Equal(t, exitUsage, te.run(args...))
		assert.Contains(t, te.errOut.String(), "there is no --pin flag")
		assert.NotContains(t, te.errOut.String(), "123456")
		assert.False(t, te.dialed)
	}
	te := newTestEnv(t)
	assert.Equal(t, exitUsage, te.run("fix", "+15551234567", "--pin=123456"))
}

func TestPINFromFile(t *testing.T) {
	te := newTestEnv(t)
	te.vars[envPIN] = "111111" // the file wins
	path := filepath.Join(t.TempDir(), "pin")
	require.NoError(t, os.WriteFile(path, []byte("012345\n"), 0o600))
	inv, err := parseOnboardWith(t, te, "--pin-file", path)
	require.NoError(t, err)
	require.NotNil(t, inv)
	pin, err := readPIN(te.env, path, true)
	require.NoError(t, err)
	assert.Equal(t, "012345", pin, "leading zero kept, newline trimmed")
}

func TestPINFileErrors(t *testing.T) {
	te := newTestEnv(t)
	_, err := parseOnboardWith(t, te, "--pin-file", filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--pin-file")
	assert.True(t, errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "no such file"))

	path := filepath.Join(t.TempDir(), "pin")
	require.NoError(t, os.WriteFile(path, []byte("12345x"), 0o600))
	_, err = parseOnboardWith(t, te, "--pin-file", path)
	require.Error(t, err)
	assert.True(t, isInputError(err))
	assert.NotContains(t, err.Error(), "12345x")
}

func TestPINFromEnv(t *testing.T) {
	te := newTestEnv(t)
	te.vars[envPIN] = " 654321 "
	pin, err := readPIN(te.env, "", true)
	require.NoError(t, err)
	assert.Equal(t, "654321", pin)

	te.vars[envPIN] = "65432"
	_, err = readPIN(te.env, "", true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), envPIN)
	assert.NotContains(t, err.Error(), "65432")
}

func TestNoPINAndStdinNotATerminal(t *testing.T) {
	te := newTestEnv(t)
	assert.Equal(t, exitUsage, te.run(onboardArgs...))
	assert.Contains(t, te.errOut.String(), "PIN: is required")
	assert.Contains(t, te.errOut.String(), "--pin-file")
	assert.Contains(t, te.errOut.String(), envPIN)
	assert.False(t, te.dialed)
}

func TestPINPrompt(t *testing.T) {
	te := newTestEnv(t)
	te.stdinIsTerminal = func() bool { return true }
	te.prompts = []string{"246810", "246810"}
	pin, err := readPIN(te.env, "", true)
	require.NoError(t, err)
	assert.Equal(t, "246810", pin)
	assert.Contains(t, te.errOut.String(), "not shown")

	te.prompts = []string{"246810", "246811"}
	_, err = readPIN(te.env, "", true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "differ")
}

func TestBadFieldsRefusedBeforePINPrompt(t *testing.T) {
	te := newTestEnv(t)
	te.stdinIsTerminal = func() bool { return true }
	prompted := false
	te.readPassword = func() ([]byte, error) { prompted = true; return []byte("123456"), nil }
	assert.Equal(t, exitUsage, te.run("onboard", "--cc", "1", "--number", "abc"))
	assert.False(t, prompted, "nobody should type a PIN for a command refused anyway")
}

func TestOnboardFlagsMapToInput(t *testing.T) {
	te := newTestEnv(t)
	te.vars[envPIN] = "123456"
	inv, err := parseOnboardWith(t, te, "--region", "ch", "--method", "voice", "--language", "de_DE",
		"--migrate", "--code-wait", "2h", "--name-check-interval", "5m", "--json", "--timeout", "30s")
	require.NoError(t, err)
	assert.True(t, inv.json)
	assert.Equal(t, "30s", inv.timeout.String())

	_, err = parseOnboardWith(t, te, "--code-wait", "10s")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "code_wait")
}

func TestNumberPositionalOrFlag(t *testing.T) {
	te := newTestEnv(t)
	for _, args := range [][]string{
		{"+15551234567"},
		{"--number", "+15551234567"},
		{"15551234567", "--json"},
		{"--json", "+15551234567"},
	} {
		_, err := parseStatus(te.env, args)
		assert.NoError(t, err, args)
	}
	_, err := parseVerify(te.env, []string{"+15551234567", "123-456", "--signal"})
	assert.NoError(t, err)
}

func TestChangeRegionNeedsRegionOrClear(t *testing.T) {
	te := newTestEnv(t)
	_, err := parseChangeRegion(te.env, []string{"+15551234567", "--clear-region", "--no-wait"})
	assert.NoError(t, err)
	_, err = parseChangeRegion(te.env, []string{"+15551234567", "--region", "de"})
	assert.NoError(t, err)
	_, err = parseChangeRegion(te.env, []string{"+15551234567"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--clear-region")
}

func TestFixReadsPINOnlyWhenAsked(t *testing.T) {
	te := newTestEnv(t)
	te.vars[envPIN] = "123456"
	called := false
	te.readPassword = func() ([]byte, error) { called = true; return nil, nil }
	_, err := parseFix(te.env, []string{"+15551234567", "--name", "Acme New"})
	require.NoError(t, err)
	assert.False(t, called)

	delete(te.vars, envPIN)
	_, err = parseFix(te.env, []string{"+15551234567", "--new-pin"})
	require.Error(t, err, "--new-pin without a source and without a terminal")
	assert.True(t, isInputError(err))
}

func TestHelp(t *testing.T) {
	te := newTestEnv(t)
	assert.Equal(t, exitOK, te.run("-h"))
	for _, c := range commands {
		assert.Contains(t, te.out.String(), "  "+c.name+" ")
	}
	for _, name := range []string{"onboard", "verify", "resend-code", "status", "change-region", "reregister",
		"deregister", "fix", "skip-wait", "cancel", "list"} {
		assert.NotNil(t, findCommand(name), name)
	}

	te = newTestEnv(t)
	assert.Equal(t, exitOK, te.run("onboard", "-h"))
	assert.Contains(t, te.errOut.String(), "-pin-file")
	assert.NotContains(t, te.errOut.String(), "  -pin ")

	te = newTestEnv(t)
	assert.Equal(t, exitUsage, te.run())
}

func TestPINOrCodeInTheWrongPlaceIsNotEchoed(t *testing.T) {
	for _, args := range [][]string{
		{"fix", "+15551234567", "--new-pin=135790"},
		{"fix", "+15551234567", "--new-pin", "135790"},
		{"onboard", "--waba", "1", "--cc", "1", "--number", "5551234567", "--name", "Acme", "135790"},
		{"onboard", "--waba", "1", "--cc", "1", "--number", "5551234567", "--name", "Acme", "--pin-file", "135790"},
		{"verify", "+15551234567", "123456", "135-790"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			te := newTestEnv(t)
			assert.Equal(t, exitUsage, te.run(args...))
			assert.NotEmpty(t, te.errOut.String())
			assert.NotContains(t, te.errOut.String(), "135790")
			assert.NotContains(t, te.errOut.String(), "135-790")
			if args[0] == "onboard" && args[len(args)-2] == "Acme" {
				assert.Contains(t, te.errOut.String(), "in case they are a PIN")
			}
			assert.False(t, te.dialed)
		})
	}
	te := newTestEnv(t)
	te.vars[envPIN] = "123456"
	_, err := parseFix(te.env, []string{"+15551234567", "--new-pin=true"})
	assert.NoError(t, err, "--new-pin=true is still a boolean flag")
}

// capturingTemporal records the input of a workflow start and refuses it.
type capturingTemporal struct {
	client.Client
	got *onboarding.OnboardInput
}

func (c capturingTemporal) ExecuteWorkflow(_ context.Context, _ client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	*c.got = args[0].(onboarding.OnboardInput)
	return nil, errors.New("test: not started")
}

func TestOnboardFlagsReachTheInput(t *testing.T) {
	te := newTestEnv(t)
	te.vars[envPIN] = "012345"
	inv, err := parseOnboardWith(t, te, "--region", " ch", "--method", "voice", "--language", "de_DE", "--cc", "+1",
		"--migrate", "--code-wait", "2h", "--name-check-interval", "5m", "--preverified-id", "42")
	require.NoError(t, err)
	var got onboarding.OnboardInput
	_, err = inv.do(context.Background(), onboarding.NewClient(capturingTemporal{got: &got}, onboarding.WithUnsealedSecrets()))
	require.ErrorContains(t, err, "not started")
	assert.Equal(t, onboarding.OnboardInput{
		WABAID: "100000000000001", CountryCode: "1", PhoneNumber: "5551234567", DisplayName: "Acme Support",
		PIN: "012345", Region: "CH", CodeMethod: onboarding.CodeVoice, Language: "de_DE", Migrate: true,
		PreverifiedID: "42", CodeWait: onboarding.Duration(2 * time.Hour), NameCheckInterval: onboarding.Duration(5 * time.Minute),
	}, got)
}

func TestOnboardBackupFromFiles(t *testing.T) {
	te := newTestEnv(t)
	te.vars[envPIN] = "012345"
	dir := t.TempDir()
	data, pass := filepath.Join(dir, "backup"), filepath.Join(dir, "password")
	require.NoError(t, os.WriteFile(data, []byte("QkFDS1VQLURBVEE=\n"), 0o600))
	require.NoError(t, os.WriteFile(pass, []byte("s3cret pass\n"), 0o600))
	inv, err := parseOnboardWith(t, te, "--backup-file", data, "--backup-password-file", pass)
	require.NoError(t, err)
	var got onboarding.OnboardInput
	_, err = inv.do(context.Background(), onboarding.NewClient(capturingTemporal{got: &got}))
	require.ErrorContains(t, err, "not started")
	assert.Equal(t, &onboarding.Backup{Data: "QkFDS1VQLURBVEE=", Password: "s3cret pass"}, got.Backup)

	// The password may come from the environment instead.
	te.vars[envBackupPassword] = "from-env"
	inv, err = parseOnboardWith(t, te, "--backup-file", data)
	require.NoError(t, err)
	_, _ = inv.do(context.Background(), onboarding.NewClient(capturingTemporal{got: &got}))
	assert.Equal(t, "from-env", got.Backup.Password)
}

func TestOnboardBackupErrors(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "backup")
	require.NoError(t, os.WriteFile(data, []byte("QkFDS1VQ"), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"password as a flag", []string{"--backup-file", data, "--backup-password", "hunter22"}, "there is no --backup-password flag"},
		{"password as a flag value", []string{"--backup-file", data, "--backup-password=hunter22"}, "there is no --backup-password flag"},
		{"no password", []string{"--backup-file", data}, "backup.password"},
		{"password without backup", []string{"--backup-password-file", data}, "--backup-password-file needs --backup-file"},
		{"missing backup file", []string{"--backup-file", filepath.Join(dir, "missing")}, "--backup-file: cannot read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEnv(t)
			te.vars[envPIN] = "012345"
			_, err := parseOnboardWith(t, te, tc.args...)
			require.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), "hunter22", "a password is never echoed")
			assert.NotContains(t, err.Error(), "QkFDS1VQ", "backup data is never echoed")
		})
	}
}
