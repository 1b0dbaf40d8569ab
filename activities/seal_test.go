package activities_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/wa-onboarding/onboarding/activities"
	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/seal/sealtest"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// The tests' worker key pair: testOpener opens what testSealer seals.
var testSealer, testOpener = sealtest.KeyPair("act-test-1")

func sealed(t *testing.T, s *seal.Sealer, purpose, secret string) string {
	t.Helper()
	v, err := s.Seal(purpose, secret)
	require.NoError(t, err)
	return v
}

func TestRegisterOpensTheSealedPINAndBackupPassword(t *testing.T) {
	env, acts, sim := setup(t)
	id, err := sim.SeedNumber(wabaID, "1", "5551234567", graphsim.Verified())
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.Register, activities.RegisterInput{PhoneNumberID: id,
		PIN:    sealed(t, testSealer, seal.PurposePIN, "012345"),
		Backup: &onboarding.Backup{Data: "QkFDS1VQ", Password: sealed(t, testSealer, seal.PurposeBackupPassword, "s3cret-backup")}})
	require.NoError(t, err)
	n, ok := sim.Number(id)
	require.True(t, ok)
	require.Equal(t, "012345", n.PIN, "Meta got the PIN opened, not the sealed value")
	require.Equal(t, graph.StatusConnected, n.Status)
}

func TestVerifyCodeOpensTheSealedCode(t *testing.T) {
	env, acts, sim := setup(t)
	id, err := sim.SeedNumber(wabaID, "1", "5551234567")
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.RequestCode, activities.RequestCodeInput{PhoneNumberID: id, Method: "SMS", Language: "en_US"})
	require.NoError(t, err)
	code, ok := sim.LastCode(id)
	require.True(t, ok)
	// The codec server seals the code as typed: separators are removed
	// after opening.
	typed := code[:3] + " " + code[3:]
	_, err = env.ExecuteActivity(acts.VerifyCode, activities.VerifyCodeInput{PhoneNumberID: id,
		Code: sealed(t, testSealer, seal.PurposeOwnershipCode, typed)})
	require.NoError(t, err)
	n, _ := sim.Number(id)
	require.Equal(t, graph.CodeVerified, n.CodeVerificationStatus)
}

// TestSecretsThatDoNotOpenAreNeverSentToMeta: each failure names the field
// and never the value, is retryable only when another worker may hold the
// key, and makes no Graph call.
func TestSecretsThatDoNotOpenAreNeverSentToMeta(t *testing.T) {
	other, err := seal.GenerateKey("act-test-other")
	require.NoError(t, err)
	otherPub, err := other.Public()
	require.NoError(t, err)
	otherSealer, err := seal.NewSealer(otherPub)
	require.NoError(t, err)
	// The same id as the worker's key, another key: it does not open.
	forged, err := seal.GenerateKey("act-test-1")
	require.NoError(t, err)
	forgedPub, err := forged.Public()
	require.NoError(t, err)
	forgedSealer, err := seal.NewSealer(forgedPub)
	require.NoError(t, err)

	tests := []struct {
		name      string
		pin, code string
		field     string
		retryable bool
		wantMsg   string
	}{
		{"pin sealed to a key this worker lacks", sealed(t, otherSealer, seal.PurposePIN, "024680"), "", "pin", true, "unknown key id"},
		{"pin sealed as a code", sealed(t, testSealer, seal.PurposeOwnershipCode, "024680"), "", "pin", false, "another purpose"},
		{"pin sealed to a forged key", sealed(t, forgedSealer, seal.PurposePIN, "024680"), "", "pin", false, "authentication failed"},
		{"pin opens to five digits", sealed(t, testSealer, seal.PurposePIN, "02468"), "", "pin", false, "must be exactly 6 ASCII digits"},
		{"pin with the prefix, malformed", seal.Prefix + "act-test-1:024680", "", "pin", false, "not sealed"},
		{"code sealed as a PIN", "", sealed(t, testSealer, seal.PurposePIN, "024680"), "code", false, "another purpose"},
		{"code opens to letters", "", sealed(t, testSealer, seal.PurposeOwnershipCode, "02468a"), "code", false, "must be the 6 digits"},
		{"code sealed to a key this worker lacks", "", sealed(t, otherSealer, seal.PurposeOwnershipCode, "024680"), "code", true, "unknown key id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, acts, sim := setup(t)
			id, err := sim.SeedNumber(wabaID, "1", "5551234567", graphsim.Verified())
			require.NoError(t, err)
			before := len(sim.Calls())
			if tc.pin != "" {
				_, err = env.ExecuteActivity(acts.Register, activities.RegisterInput{PhoneNumberID: id, PIN: tc.pin})
			} else {
				_, err = env.ExecuteActivity(acts.VerifyCode, activities.VerifyCodeInput{PhoneNumberID: id, Code: tc.code})
			}
			appErr, ge := appError(t, err)
			require.Equal(t, !tc.retryable, appErr.NonRetryable())
			require.True(t, strings.HasPrefix(appErr.Message(), tc.field+": "), "names the field: %s", appErr.Message())
			require.Contains(t, appErr.Message(), tc.wantMsg)
			require.NotContains(t, appErr.Error(), "024680")
			require.NotContains(t, appErr.Error(), "02468a")
			require.NotContains(t, appErr.Error(), seal.Prefix, "the sealed value is not echoed either")
			if tc.retryable {
				require.Equal(t, "transient", appErr.Type())
				require.Equal(t, "transient", ge.Class)
				require.Zero(t, ge.Code, "no Graph code: the call never reached Meta")
				require.False(t, ge.OutcomeUnknown)
			} else {
				require.Equal(t, activities.ErrInvalidInput, appErr.Type())
			}
			require.Len(t, sim.Calls(), before, "no Graph call was made")
		})
	}
}

func TestAWorkerWithoutSealKeysRetriesSealedSecretsAndServesPlainOnes(t *testing.T) {
	_, _, sim, g := setupGraph(t)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := activities.New(g, nil)
	env.RegisterActivity(acts)
	id, err := sim.SeedNumber(wabaID, "1", "5551234567", graphsim.Verified())
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.Register, activities.RegisterInput{PhoneNumberID: id, PIN: sealed(t, testSealer, seal.PurposePIN, "024680")})
	appErr, _ := appError(t, err)
	require.False(t, appErr.NonRetryable(), "a worker with the keys can open it")
	require.Contains(t, appErr.Message(), seal.EnvPrivateKeys)

	// A PIN in clear, as runs started before sealing carry it, is used.
	_, err = env.ExecuteActivity(acts.Register, activities.RegisterInput{PhoneNumberID: id, PIN: "024680"})
	require.NoError(t, err)
	n, _ := sim.Number(id)
	require.Equal(t, "024680", n.PIN)
}
