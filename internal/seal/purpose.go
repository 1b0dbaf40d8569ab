package seal

// Purposes of the secrets this project seals. A value sealed for one
// purpose does not open as another, so the workers must open each field
// with the purpose it was sealed with.
const (
	// PurposePIN is the two-step verification PIN (OnboardInput.PIN,
	// FixInput.PIN).
	PurposePIN = "pin"
	// PurposeOwnershipCode is the code Meta sends by SMS or voice
	// (CodeInput.Code).
	PurposeOwnershipCode = "ownership_code"
	// PurposeBackupPassword is the password of an On-Premises API backup
	// (OnboardInput.Backup.Password).
	PurposeBackupPassword = "backup_password"
)
