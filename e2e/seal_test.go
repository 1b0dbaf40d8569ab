package e2e

import (
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// sealKeys makes the stack's seal key pair: the private half goes to the
// worker process only, the public half to the starter and the tests'
// clients.
func (s *stack) sealKeys() error {
	priv, err := seal.GenerateKey("e2e-seal-1")
	if err != nil {
		return err
	}
	pub, err := priv.Public()
	if err != nil {
		return err
	}
	if s.sealer, err = seal.NewSealer(pub); err != nil {
		return err
	}
	s.sealPriv, s.sealPub = priv.Encode(), pub.String()
	return nil
}

// starterSealEnv is the starter's seal setting (see sealSecrets).
func (s *stack) starterSealEnv() string {
	if sealSecrets {
		return seal.EnvPublicKeys + "=" + s.sealPub
	}
	return "WA_INSECURE_UNSEALED_SECRETS=1"
}

// onboardingClient is an onboarding.Client for the tests that send secrets
// (see sealSecrets).
func (s *stack) onboardingClient() *onboarding.Client {
	if sealSecrets {
		return onboarding.NewClient(s.client, onboarding.WithSealer(s.sealer))
	}
	return onboarding.NewClient(s.client, onboarding.WithUnsealedSecrets())
}
