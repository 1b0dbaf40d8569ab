package onboarding_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// newTestClient returns a Client whose Temporal client would fail on any
// call: a lazy client for a port nobody listens on. Validation must refuse
// bad input before that.
func newTestClient(t *testing.T) *onboarding.Client {
	t.Helper()
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	return onboarding.NewClient(tc, onboarding.WithNamespace("ops"), onboarding.WithUIBaseURL("https://ui.example/"))
}

func validInput() onboarding.OnboardInput {
	return onboarding.OnboardInput{
		WABAID: "100000000000001", CountryCode: "1", PhoneNumber: "5551234567",
		DisplayName: "Acme Support", PIN: "123456", Region: "CH",
	}
}

// requireField asserts err refuses field, and that the error does not echo
// secret.
func requireField(t *testing.T, err error, field, secret string) {
	t.Helper()
	require.Error(t, err)
	var ie *onboarding.InputError
	require.True(t, errors.As(err, &ie), "want an InputError, got %T: %v", err, err)
	assert.Contains(t, err.Error(), field+":")
	if secret != "" {
		assert.NotContains(t, err.Error(), secret)
	}
}

func TestOnboardRefusesBadInput(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		mutate func(*onboarding.OnboardInput)
		field  string
		secret string
	}{
		"letters in number":   {func(in *onboarding.OnboardInput) { in.PhoneNumber = "abc" }, "phone_number", ""},
		"plus in cc":          {func(in *onboarding.OnboardInput) { in.CountryCode = "+1" }, "country_code", ""},
		"too long":            {func(in *onboarding.OnboardInput) { in.PhoneNumber = "555123456789012" }, "phone_number", ""},
		"short PIN":           {func(in *onboarding.OnboardInput) { in.PIN = "12345" }, "pin", "12345"},
		"PIN with letters":    {func(in *onboarding.OnboardInput) { in.PIN = "12a456" }, "pin", "12a456"},
		"unknown region":      {func(in *onboarding.OnboardInput) { in.Region = "XX" }, "region", ""},
		"lower-case region":   {func(in *onboarding.OnboardInput) { in.Region = "ch" }, "region", ""},
		"bad method":          {func(in *onboarding.OnboardInput) { in.CodeMethod = "EMAIL" }, "code_method", ""},
		"missing WABA":        {func(in *onboarding.OnboardInput) { in.WABAID = "" }, "waba_id", ""},
		"URL in name":         {func(in *onboarding.OnboardInput) { in.DisplayName = "see https://x.y" }, "display_name", ""},
		"resume from outside": {func(in *onboarding.OnboardInput) { in.Resume = &onboarding.ResumeState{} }, "resume", ""},
	} {
		t.Run(name, func(t *testing.T) {
			in := validInput()
			tc.mutate(&in)
			_, err := c.Onboard(ctx, in)
			requireField(t, err, tc.field, tc.secret)
		})
	}
}

func TestOnboardNamesEveryBadField(t *testing.T) {
	_, err := newTestClient(t).Onboard(context.Background(), onboarding.OnboardInput{CountryCode: "1", PhoneNumber: "abc"})
	for _, f := range []string{"waba_id", "phone_number", "display_name", "pin"} {
		assert.Contains(t, err.Error(), f+":")
	}
}

func TestNumberArgumentsAreValidated(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	for _, bad := range []string{"", "abc", "+1555", "+1234567890123456", "+0551234567", "+1 555 123 4567", "++15551234567"} {
		t.Run(bad, func(t *testing.T) {
			_, err := c.Status(ctx, bad)
			requireField(t, err, "number", "")
			requireField(t, c.SkipWait(ctx, bad), "number", "")
			requireField(t, c.Cancel(ctx, bad), "number", "")
			_, err = c.Reregister(ctx, bad, true)
			requireField(t, err, "number", "")
			_, err = c.Deregister(ctx, bad, false)
			requireField(t, err, "number", "")
			_, err = c.CurrentRun(ctx, bad)
			requireField(t, err, "number", "")
		})
	}
}

func TestNormalizeE164(t *testing.T) {
	for in, want := range map[string]string{
		"+15551234567":   "+15551234567",
		"15551234567":    "+15551234567",
		" +447700900123": "+447700900123",
		"+12345678":      "+12345678",
	} {
		got, err := onboarding.NormalizeE164(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
}

func TestCodeIsValidatedBeforeSending(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	for _, bad := range []string{"", "12345", "1234567", "12a456", "123_456"} {
		_, err := c.SendCode(ctx, "+15551234567", bad)
		requireField(t, err, "code", "")
		requireField(t, c.SignalCode(ctx, "+15551234567", bad), "code", "")
	}
	// A bad number and a bad code are both reported.
	_, err := c.SendCode(ctx, "x", "1")
	requireField(t, err, "number", "")
	requireField(t, err, "code", "")
}

func TestResendCodeValidatesMethodAndLanguage(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	requireField(t, c.ResendCode(ctx, "+15551234567", onboarding.ResendInput{Method: "FAX"}), "method", "")
	requireField(t, c.ResendCode(ctx, "+15551234567", onboarding.ResendInput{Language: "english"}), "language", "")
}

func TestChangeRegionValidatesRegion(t *testing.T) {
	c := newTestClient(t)
	for _, wait := range []bool{true, false} {
		_, err := c.ChangeRegion(context.Background(), "+15551234567", "Mars", wait)
		requireField(t, err, "region", "")
	}
}

func TestFixInputValidates(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	_, err := c.FixInput(ctx, "+15551234567", onboarding.FixInput{PIN: "99"})
	requireField(t, err, "pin", "99")
	_, err = c.FixInput(ctx, "+15551234567", onboarding.FixInput{Region: "XX"})
	requireField(t, err, "region", "")
	_, err = c.FixInput(ctx, "+15551234567", onboarding.FixInput{Region: "CH", ClearRegion: true})
	requireField(t, err, "region", "")
	_, err = c.FixInput(ctx, "+15551234567", onboarding.FixInput{DisplayName: "\x01bad"})
	requireField(t, err, "display_name", "")
}

func TestListQuery(t *testing.T) {
	q, err := onboarding.ListQuery("")
	require.NoError(t, err)
	assert.Equal(t, "WorkflowType = 'WhatsAppNumber'", q)
	q, err = onboarding.ListQuery(onboarding.StageRegistered)
	require.NoError(t, err)
	assert.Equal(t, "WorkflowType = 'WhatsAppNumber' AND WhatsAppStage = 'registered'", q)

	_, err = onboarding.ListQuery(onboarding.StageVerifying)
	require.ErrorContains(t, err, "stage")
	require.ErrorContains(t, err, "verifying is a step a run passes within one Graph call")
	_, err = onboarding.ListQuery("registered' OR 1=1 --")
	requireField(t, err, "stage", "")
	_, err = newTestClient(t).List(context.Background(), "bogus")
	requireField(t, err, "stage", "")
}

func TestUIURL(t *testing.T) {
	c := newTestClient(t)
	assert.Equal(t, "https://ui.example/namespaces/ops/workflows/whatsapp-number-+15551234567/run-1/history",
		c.UIURL("whatsapp-number-+15551234567", "run-1"))
	assert.Equal(t, "https://ui.example/namespaces/ops/workflows?query=WorkflowId%3D%22whatsapp-number-%2B15551234567%22",
		c.UIURL("whatsapp-number-+15551234567", ""))

	def := onboarding.NewClient(nil)
	assert.True(t, strings.HasPrefix(def.UIURL("w", "r"), "http://localhost:8233/namespaces/default/workflows/w/r/history"))
}

func TestSummaryHasNoPIN(t *testing.T) {
	in := validInput()
	in.PIN = "987654"
	s := onboarding.Summary(in)
	assert.Equal(t, "Onboard +15551234567 on WABA 100000000000001 (region CH)", s)
	assert.NotContains(t, s, in.PIN)
}

// A nil client.Client is enough for code that only validates: the Client
// must never touch it for refused input.
func TestNilTemporalClientIsNotTouchedOnBadInput(t *testing.T) {
	c := onboarding.NewClient(nil)
	_, err := c.Onboard(context.Background(), onboarding.OnboardInput{})
	require.Error(t, err)
	_, err = c.SendCode(context.Background(), "+15551234567", "")
	require.Error(t, err)
}

func TestSplitErrorsFlattensJoinTrees(t *testing.T) {
	a, b, c := errors.New("a"), errors.New("b"), errors.New("c")
	wrapped := fmt.Errorf("ctx: %w", errors.Join(b, c)) // one error: its text keeps the context
	got := onboarding.SplitErrors(errors.Join(a, errors.Join(b, nil, c), wrapped))
	require.Equal(t, []error{a, b, c, wrapped}, got)
	require.Nil(t, onboarding.SplitErrors(nil))
	require.Equal(t, []error{a}, onboarding.SplitErrors(a))
}
