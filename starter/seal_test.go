package main

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// sendingTemporal records what the starter sends and refuses it, so that
// a test sees exactly what would leave the process.
type sendingTemporal struct {
	client.Client
	sent *[]any
}

var errRefused = errors.New("test: refused")

func (s sendingTemporal) ExecuteWorkflow(_ context.Context, _ client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	*s.sent = append(*s.sent, args...)
	return nil, errRefused
}

func (s sendingTemporal) SignalWorkflow(_ context.Context, _, _, _ string, arg any) error {
	*s.sent = append(*s.sent, arg)
	return errRefused
}

func (s sendingTemporal) UpdateWorkflow(_ context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	*s.sent = append(*s.sent, opts.Args...)
	return nil, errRefused
}

func (s sendingTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, errRefused
}

// sealingEnv is a test env whose dial builds the Client as dialTemporal
// does, from the env's seal settings, around a sendingTemporal.
func sealingEnv(t *testing.T) (*testEnv, *[]any) {
	te := newTestEnv(t)
	sent := &[]any{}
	te.env.dial = func(_ context.Context, e *env) (*onboarding.Client, func(), error) {
		te.dialed = true
		opt, err := sealOption(e)
		if err != nil {
			return nil, nil, err
		}
		return onboarding.NewClient(sendingTemporal{sent: sent}, opt), func() {}, nil
	}
	return te, sent
}

func testSealKey(t *testing.T) (seal.PublicKey, *seal.Opener) {
	t.Helper()
	k, err := seal.GenerateKey("starter-test")
	require.NoError(t, err)
	pub, err := k.Public()
	require.NoError(t, err)
	o, err := seal.NewOpener(k)
	require.NoError(t, err)
	return pub, o
}

func TestStarterSealsPINsAndCodes(t *testing.T) {
	pub, opener := testSealKey(t)
	te, sent := sealingEnv(t)
	te.vars[seal.EnvPublicKeys] = pub.String()
	te.vars[envPIN] = "012345"

	te.run(onboardArgs...)
	te.run("verify", "--number", "+15551234567", "--code", "443-102")
	te.run("verify", "--signal", "--number", "+15551234567", "--code", "443102")
	te.run("fix", "--number", "+15551234567", "--new-pin")
	require.Len(t, *sent, 4, te.errOut.String())

	pin, err := opener.Open(seal.PurposePIN, (*sent)[0].(onboarding.OnboardInput).PIN)
	require.NoError(t, err)
	assert.Equal(t, "012345", pin)
	for _, a := range (*sent)[1:3] {
		code, err := opener.Open(seal.PurposeOwnershipCode, a.(onboarding.CodeInput).Code)
		require.NoError(t, err)
		assert.Equal(t, "443102", code)
	}
	pin, err = opener.Open(seal.PurposePIN, (*sent)[3].(onboarding.FixInput).PIN)
	require.NoError(t, err)
	assert.Equal(t, "012345", pin)
	assert.NotContains(t, te.errOut.String()+te.out.String(), "443102")
}

func TestStarterWithoutSealKeys(t *testing.T) {
	for _, args := range [][]string{
		onboardArgs,
		{"verify", "--number", "+15551234567", "--code", "443102"},
		{"fix", "--number", "+15551234567", "--new-pin"},
	} {
		t.Run(args[0], func(t *testing.T) {
			te, sent := sealingEnv(t)
			te.vars[envPIN] = "123456"
			assert.Equal(t, exitUsage, te.run(args...))
			assert.Empty(t, *sent, "a secret left unsealed")
			assert.Contains(t, te.errOut.String(), "no public seal keys to seal it with (set WA_SEAL_PUBLIC_KEYS or WA_SEAL_PUBLIC_KEYS_FILE)")
			assert.NotContains(t, te.errOut.String(), "123456")
			assert.NotContains(t, te.errOut.String(), "443102")
		})
	}

	// Commands without a secret do not need the keys: they reach Temporal
	// (here refused by the fake) and fail on its answer, not on sealing.
	for _, args := range [][]string{
		{"fix", "--number", "+15551234567", "--region", "DE"},
		{"skip-wait", "+15551234567"},
		{"change-region", "+15551234567", "--region", "DE"},
	} {
		t.Run(args[0], func(t *testing.T) {
			te, sent := sealingEnv(t)
			assert.Equal(t, exitFailure, te.run(args...))
			assert.Len(t, *sent, 1)
			assert.Contains(t, te.errOut.String(), errRefused.Error())
			assert.NotContains(t, te.errOut.String(), "seal")
		})
	}
}

func TestStarterUnsealedOnlyWhenAskedAndWithoutKeys(t *testing.T) {
	te, sent := sealingEnv(t)
	te.vars[envPIN] = "123456"
	te.vars[envUnsealed] = "1"
	te.run(onboardArgs...)
	require.Len(t, *sent, 1, te.errOut.String())
	assert.Equal(t, "123456", (*sent)[0].(onboarding.OnboardInput).PIN)
	assert.Contains(t, te.errOut.String(), "warning: "+envUnsealed+"=1")

	pub, _ := testSealKey(t)
	te, sent = sealingEnv(t)
	te.vars[envPIN] = "123456"
	te.vars[envUnsealed] = "1"
	te.vars[seal.EnvPublicKeys] = pub.String()
	te.run(onboardArgs...)
	require.Len(t, *sent, 1, te.errOut.String())
	assert.True(t, seal.IsSealed((*sent)[0].(onboarding.OnboardInput).PIN), "keys, when given, always seal")
	assert.NotContains(t, te.errOut.String(), "warning")
}

func TestStarterRefusesBrokenSealKeys(t *testing.T) {
	te, sent := sealingEnv(t)
	te.vars[seal.EnvPublicKeys] = "k1:not-a-key"
	assert.Equal(t, exitFailure, te.run("status", "+15551234567"))
	assert.Empty(t, *sent)
	assert.Contains(t, te.errOut.String(), "WA_SEAL_PUBLIC_KEYS: public key entry 1")

	te, _ = sealingEnv(t)
	te.vars[seal.EnvPublicKeys+"_FILE"] = t.TempDir() + "/missing"
	assert.Equal(t, exitFailure, te.run("status", "+15551234567"))
	assert.Contains(t, te.errOut.String(), "WA_SEAL_PUBLIC_KEYS_FILE")
}
