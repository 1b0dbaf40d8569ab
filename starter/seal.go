package main

import (
	"errors"
	"fmt"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// envUnsealed lets the starter send PINs and codes unsealed when no seal
// keys are configured, for workers that do not open sealed secrets yet.
const envUnsealed = "WA_INSECURE_UNSEALED_SECRETS"

// sealOption returns the Client option that seals the PINs and codes the
// starter sends, from WA_SEAL_PUBLIC_KEYS or WA_SEAL_PUBLIC_KEYS_FILE.
// Without keys only the commands that send a secret (onboard, verify, fix
// with a new PIN) fail, with an error from the Client naming the variables;
// the others need none. Keys that are set but unreadable or malformed fail
// every command: a broken setting is better seen at once.
func sealOption(e *env) (onboarding.ClientOption, error) {
	s, err := onboarding.LoadSealer(e.getenv, e.readFile)
	switch {
	case err == nil:
		return onboarding.WithSealer(s), nil
	case !errors.Is(err, onboarding.ErrNoSealKeys):
		return nil, err
	case e.getenv(envUnsealed) == "1":
		fmt.Fprintln(e.stderr, "starter: warning: "+envUnsealed+"=1 and no seal keys: PINs and codes are sent unsealed, readable by anyone who can use the codec server")
		return onboarding.WithUnsealedSecrets(), nil
	}
	return func(*onboarding.Client) {}, nil
}
