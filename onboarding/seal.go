package onboarding

import (
	"fmt"

	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/secretenv"
	"github.com/wa-onboarding/onboarding/internal/validate"
)

// A Sealer seals secrets to the workers' public keys, so that only a worker
// can read them (see the README's "Sealed secrets"). It is package seal's
// type, named here so that programs outside this module can hold one.
type Sealer = seal.Sealer

// ErrNoSealKeys is wrapped by LoadSealer's error when neither
// WA_SEAL_PUBLIC_KEYS nor WA_SEAL_PUBLIC_KEYS_FILE is set.
var ErrNoSealKeys = seal.ErrNoKeys

// LoadSealer reads the workers' public seal keys from WA_SEAL_PUBLIC_KEYS
// (id:base64 entries, the last one seals) or from the file named by
// WA_SEAL_PUBLIC_KEYS_FILE; pass os.Getenv and os.ReadFile.
func LoadSealer(getenv func(string) string, readFile func(string) ([]byte, error)) (*Sealer, error) {
	return seal.LoadSealer(getenv, readFile)
}

// WithSealer makes the Client seal the secrets it sends (PINs and ownership
// codes) with s, after checking them in clear. Without it (or
// WithUnsealedSecrets), methods that carry a secret refuse to send it.
func WithSealer(s *Sealer) ClientOption {
	return func(c *Client) { c.sealer = s }
}

// WithUnsealedSecrets lets a Client without a Sealer send secrets in clear,
// protected only by the payload encryption, so that anyone who can use the
// codec server reads them. It exists for tests and for workers that do not
// open sealed secrets yet; workers that require sealed secrets refuse what
// such a Client sends. WithSealer takes precedence.
func WithUnsealedSecrets() ClientOption {
	return func(c *Client) { c.unsealed = true }
}

// sealSecret returns value sealed for purpose. An empty value (a field left
// unchanged) and a value the caller already sealed are returned as they
// are.
func (c *Client) sealSecret(field, purpose, value string) (string, error) {
	if value == "" || seal.IsSealed(value) {
		return value, nil
	}
	if c.sealer == nil {
		if c.unsealed {
			return value, nil
		}
		return "", &InputError{Field: field, Rule: "cannot be sent: no public seal keys to seal it with (set " +
			seal.EnvPublicKeys + " or " + seal.EnvPublicKeys + secretenv.FileSuffix + ")"}
	}
	sealed, err := c.sealer.Seal(purpose, value)
	if err != nil {
		// Seal's errors never hold the secret.
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return sealed, nil
}

// sealOnboard seals the secrets of an input that passed Validate.
func (c *Client) sealOnboard(in *OnboardInput) error {
	var err error
	in.PIN, err = c.sealSecret("pin", seal.PurposePIN, in.PIN)
	// TODO(seal): seal in.Backup.Password (seal.PurposeBackupPassword) once
	// the Backup field of branch wf is merged.
	return err
}

// validPIN accepts a PIN of six digits, or one sealed by a Client: the
// workflow validates its input again after the Client sealed it, and only
// a worker can open it to check the digits.
func validPIN(field, pin string) error {
	if seal.IsSealed(pin) {
		return nil
	}
	return validate.PIN(field, pin)
}
