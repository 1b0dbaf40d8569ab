package onboarding_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/seal/sealtest"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// sentTemporal records the arguments of every start, signal and update, as
// they would leave the process, and answers them with success.
type sentTemporal struct {
	client.Client
	sent []any
}

func (s *sentTemporal) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	s.sent = append(s.sent, args...)
	return sentRun{id: opts.ID}, nil
}

func (s *sentTemporal) SignalWorkflow(_ context.Context, _, _, _ string, arg any) error {
	s.sent = append(s.sent, arg)
	return nil
}

func (s *sentTemporal) UpdateWorkflow(_ context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	s.sent = append(s.sent, opts.Args...)
	return sentHandle{}, nil
}

type sentRun struct {
	client.WorkflowRun
	id string
}

func (r sentRun) GetID() string    { return r.id }
func (r sentRun) GetRunID() string { return "run-1" }

type sentHandle struct{ client.WorkflowUpdateHandle }

func (sentHandle) Get(context.Context, any) error { return nil }

// sealPair returns a Sealer and the Opener of its key.
func sealPair(t *testing.T) (*onboarding.Sealer, *seal.Opener) {
	t.Helper()
	return sealtest.KeyPair("test-1")
}

// requireNotOnWire fails if secret appears in what would be sent: the
// payloads the default data converter makes of the recorded arguments.
func requireNotOnWire(t *testing.T, fake *sentTemporal, secret string) {
	t.Helper()
	require.NotEmpty(t, fake.sent)
	for _, a := range fake.sent {
		p, err := converter.GetDefaultDataConverter().ToPayload(a)
		require.NoError(t, err)
		require.NotContains(t, string(p.GetData()), secret)
	}
}

func TestOnboardSealsThePIN(t *testing.T) {
	sealer, opener := sealPair(t)
	fake := &sentTemporal{}
	c := onboarding.NewClient(fake, onboarding.WithSealer(sealer))
	in := validInput()
	in.PIN = "012345"
	_, err := c.Onboard(context.Background(), in)
	require.NoError(t, err)

	require.Len(t, fake.sent, 1)
	got := fake.sent[0].(onboarding.OnboardInput)
	require.True(t, seal.IsSealed(got.PIN), "PIN sent in clear")
	pin, err := opener.Open(seal.PurposePIN, got.PIN)
	require.NoError(t, err)
	assert.Equal(t, "012345", pin, "the leading zero survives")
	_, err = opener.Open(seal.PurposeOwnershipCode, got.PIN)
	require.ErrorIs(t, err, seal.ErrPurpose, "a sealed PIN must not pass as a code")
	assert.Equal(t, in.DisplayName, got.DisplayName)
	assert.Equal(t, in.Region, got.Region)
	requireNotOnWire(t, fake, "012345")
	require.NoError(t, got.Validate(), "the workflow's Validate accepts the sealed input")
}

func TestOnboardSealsTheBackupPassword(t *testing.T) {
	sealer, opener := sealPair(t)
	fake := &sentTemporal{}
	c := onboarding.NewClient(fake, onboarding.WithSealer(sealer))
	in := validInput()
	in.Backup = &onboarding.Backup{Data: "QkFDS1VQ", Password: "correct horse"}
	_, err := c.Onboard(context.Background(), in)
	require.NoError(t, err)

	got := fake.sent[0].(onboarding.OnboardInput)
	require.NotNil(t, got.Backup)
	assert.Equal(t, "QkFDS1VQ", got.Backup.Data)
	password, err := opener.Open(seal.PurposeBackupPassword, got.Backup.Password)
	require.NoError(t, err)
	assert.Equal(t, "correct horse", password)
	_, err = opener.Open(seal.PurposePIN, got.Backup.Password)
	require.ErrorIs(t, err, seal.ErrPurpose)
	assert.Equal(t, "correct horse", in.Backup.Password, "the caller's Backup is not rewritten")
	requireNotOnWire(t, fake, "correct horse")
	require.NoError(t, got.Validate())

	// Without a sealer the password is refused like the PIN.
	in.PIN = got.PIN // already sealed: only the backup is left to seal
	_, err = onboarding.NewClient(fake).Onboard(context.Background(), in)
	requireField(t, err, "backup.password", "correct horse")
	require.Len(t, fake.sent, 1)
}

func TestCodesAreSealed(t *testing.T) {
	sealer, opener := sealPair(t)
	for name, send := range map[string]func(*onboarding.Client) error{
		"SendCode": func(c *onboarding.Client) error {
			_, err := c.SendCode(context.Background(), "+15551234567", "443-102")
			return err
		},
		"SignalCode": func(c *onboarding.Client) error {
			return c.SignalCode(context.Background(), "+15551234567", "443 102")
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := &sentTemporal{}
			require.NoError(t, send(onboarding.NewClient(fake, onboarding.WithSealer(sealer))))
			require.Len(t, fake.sent, 1)
			got := fake.sent[0].(onboarding.CodeInput)
			code, err := opener.Open(seal.PurposeOwnershipCode, got.Code)
			require.NoError(t, err)
			assert.Equal(t, "443102", code, "normalized before sealing")
			requireNotOnWire(t, fake, "443102")
		})
	}
}

func TestFixInputSealsANewPIN(t *testing.T) {
	sealer, opener := sealPair(t)
	fake := &sentTemporal{}
	c := onboarding.NewClient(fake, onboarding.WithSealer(sealer))
	_, err := c.FixInput(context.Background(), "+15551234567", onboarding.FixInput{PIN: "654321", Region: "DE"})
	require.NoError(t, err)
	_, err = c.FixInput(context.Background(), "+15551234567", onboarding.FixInput{DisplayName: "Acme"})
	require.NoError(t, err)

	require.Len(t, fake.sent, 2)
	withPIN := fake.sent[0].(onboarding.FixInput)
	pin, err := opener.Open(seal.PurposePIN, withPIN.PIN)
	require.NoError(t, err)
	assert.Equal(t, "654321", pin)
	assert.Equal(t, "DE", withPIN.Region)
	require.NoError(t, withPIN.Validate())
	assert.Empty(t, fake.sent[1].(onboarding.FixInput).PIN, "no PIN given: the run keeps its own")
}

// TestPlaintextIsValidatedBeforeSealing: a sealed value hides its content
// from the workflow's checks, so the Client must refuse a bad secret while
// it can still read it.
func TestPlaintextIsValidatedBeforeSealing(t *testing.T) {
	sealer, _ := sealPair(t)
	fake := &sentTemporal{}
	c := onboarding.NewClient(fake, onboarding.WithSealer(sealer))
	ctx := context.Background()

	in := validInput()
	in.PIN = "12a456"
	_, err := c.Onboard(ctx, in)
	requireField(t, err, "pin", "12a456")
	_, err = c.FixInput(ctx, "+15551234567", onboarding.FixInput{PIN: "1234567"})
	requireField(t, err, "pin", "1234567")
	_, err = c.SendCode(ctx, "+15551234567", "12345")
	requireField(t, err, "code", "12345")
	err = c.SignalCode(ctx, "+15551234567", "abcdef")
	requireField(t, err, "code", "abcdef")
	require.Empty(t, fake.sent)
}

func TestSecretsAreNotSentWithoutSealer(t *testing.T) {
	fake := &sentTemporal{}
	c := onboarding.NewClient(fake)
	ctx := context.Background()
	requireNoKeys := func(err error, field, secret string) {
		t.Helper()
		requireField(t, err, field, secret)
		assert.Contains(t, err.Error(), "WA_SEAL_PUBLIC_KEYS or WA_SEAL_PUBLIC_KEYS_FILE")
	}

	_, err := c.Onboard(ctx, validInput())
	requireNoKeys(err, "pin", "123456")
	_, err = c.SendCode(ctx, "+15551234567", "443102")
	requireNoKeys(err, "code", "443102")
	err = c.SignalCode(ctx, "+15551234567", "443102")
	requireNoKeys(err, "code", "443102")
	_, err = c.FixInput(ctx, "+15551234567", onboarding.FixInput{PIN: "654321"})
	requireNoKeys(err, "pin", "654321")
	require.Empty(t, fake.sent, "a secret left the process without a sealer")

	// Operations without a secret need no keys.
	_, err = c.FixInput(ctx, "+15551234567", onboarding.FixInput{Region: "DE"})
	require.NoError(t, err)
	require.NoError(t, c.ResendCode(ctx, "+15551234567", onboarding.ResendInput{}))
	require.NoError(t, c.SkipWait(ctx, "+15551234567"))
	_, err = c.ChangeRegion(ctx, "+15551234567", "CH", true)
	require.NoError(t, err)
	require.Len(t, fake.sent, 4)
}

func TestAlreadySealedSecretsPassAsTheyAre(t *testing.T) {
	sealer, opener := sealPair(t)
	pin, err := sealer.Seal(seal.PurposePIN, "123456")
	require.NoError(t, err)
	code, err := sealer.Seal(seal.PurposeOwnershipCode, "443102")
	require.NoError(t, err)

	// No sealer needed: the caller sealed them itself.
	fake := &sentTemporal{}
	c := onboarding.NewClient(fake)
	in := validInput()
	in.PIN = pin
	_, err = c.Onboard(context.Background(), in)
	require.NoError(t, err)
	require.NoError(t, c.SignalCode(context.Background(), "+15551234567", code))
	require.Len(t, fake.sent, 2)
	assert.Equal(t, pin, fake.sent[0].(onboarding.OnboardInput).PIN, "sealed twice, or changed")
	assert.Equal(t, code, fake.sent[1].(onboarding.CodeInput).Code, "a sealed code's '-' must survive NormalizeCode")
	got, err := opener.Open(seal.PurposeOwnershipCode, fake.sent[1].(onboarding.CodeInput).Code)
	require.NoError(t, err)
	assert.Equal(t, "443102", got)
}

func TestUnsealedSecretsOnlyWhenAsked(t *testing.T) {
	fake := &sentTemporal{}
	c := onboarding.NewClient(fake, onboarding.WithUnsealedSecrets())
	_, err := c.Onboard(context.Background(), validInput())
	require.NoError(t, err)
	assert.Equal(t, "123456", fake.sent[0].(onboarding.OnboardInput).PIN)

	sealer, _ := sealPair(t)
	fake = &sentTemporal{}
	c = onboarding.NewClient(fake, onboarding.WithUnsealedSecrets(), onboarding.WithSealer(sealer))
	_, err = c.Onboard(context.Background(), validInput())
	require.NoError(t, err)
	assert.True(t, seal.IsSealed(fake.sent[0].(onboarding.OnboardInput).PIN), "WithSealer takes precedence")
}

func TestValidateAcceptsSealedPINsOnly(t *testing.T) {
	sealer, _ := sealPair(t)
	sealed, err := sealer.Seal(seal.PurposePIN, "123456")
	require.NoError(t, err)

	in := validInput()
	in.Normalize()
	in.PIN = sealed
	require.NoError(t, in.Validate())
	require.NoError(t, onboarding.FixInput{PIN: sealed}.Validate())

	for _, bad := range []string{
		seal.Prefix + "test-1:", // no box
		seal.Prefix + "test-1:" + strings.Repeat("A", 100) + "!",
		strings.TrimPrefix(sealed, "sealed:"),
		sealed + "\n",
	} {
		in.PIN = bad
		var ie *onboarding.InputError
		require.True(t, errors.As(in.Validate(), &ie), "accepted %q", bad)
		require.True(t, errors.As(onboarding.FixInput{PIN: bad}.Validate(), &ie), "fix accepted %q", bad)
	}
}

func TestLoadSealer(t *testing.T) {
	_, err := onboarding.LoadSealer(func(string) string { return "" }, nil)
	require.ErrorIs(t, err, onboarding.ErrNoSealKeys)

	k, err := seal.GenerateKey("k1")
	require.NoError(t, err)
	pub, err := k.Public()
	require.NoError(t, err)
	s, err := onboarding.LoadSealer(func(name string) string {
		if name == seal.EnvPublicKeys {
			return pub.String()
		}
		return ""
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, "k1", s.KeyID())
}
