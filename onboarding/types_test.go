package onboarding

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResendAndFixRules(t *testing.T) {
	require.NoError(t, ResendInput{}.Validate(), "an empty resend keeps the run's method and language")
	require.NoError(t, ResendInput{Method: CodeVoice, Language: "pt_BR"}.Validate())
	err := ResendInput{Method: "FAX", Language: "en-US"}.Validate()
	require.ErrorContains(t, err, "method: must be SMS or VOICE")
	require.ErrorContains(t, err, "language: must be a locale")

	require.NoError(t, FixInput{}.Validate(), "an empty fix retries as is")
	require.NoError(t, FixInput{ClearRegion: true}.Validate())
	require.ErrorContains(t, FixInput{Region: "CH", ClearRegion: true}.Validate(), "region: must be empty when clear_region is set")
	err = FixInput{PIN: "12345", Region: "FR"}.Validate()
	require.ErrorContains(t, err, "pin: must be exactly 6 ASCII digits")
	require.ErrorContains(t, err, "region: must be empty or one of")
}

func TestBackupRules(t *testing.T) {
	in := OnboardInput{WABAID: "100000000000001", CountryCode: "1", PhoneNumber: "5551234567",
		DisplayName: "Acme Support", PIN: "012345"}
	in.Normalize()
	require.NoError(t, in.Validate(), "no backup: not a migration from On-Premises")
	in.Backup = &Backup{}
	err := in.Validate()
	require.ErrorContains(t, err, "backup.data: is required with a backup")
	require.ErrorContains(t, err, "backup.password: is required with a backup")
	in.Backup = &Backup{Data: "QkFDS1VQ", Password: "hunter22"}
	require.NoError(t, in.Validate())
	require.NotContains(t, in.Backup.String(), "hunter22")
	require.NotContains(t, Summary(in), "hunter22")
}
