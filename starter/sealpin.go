package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// parseSealPIN is "starter seal-pin": it reads a PIN the way onboard does
// and prints it sealed with the workers' public key, a value only a worker
// can open, fit for the pin column of onboard --csv.
func parseSealPIN(e *env, args []string) (*invocation, error) {
	fs := newFlagSet(e, "seal-pin", "[--pin-file PATH]",
		"Prints the PIN sealed with the workers' public key (the last of "+seal.EnvPublicKeys+"),\n"+
			"for the pin column of onboard --csv: only a worker can open it, so the CSV holds\n"+
			"no PIN in clear. The PIN comes from --pin-file, "+envPIN+", or a prompt (asked\n"+
			"twice) when stdin is a terminal. It needs no Temporal.")
	var pinFile string
	fs.StringVar(&pinFile, "pin-file", "", "file holding the six-digit two-step PIN")
	pos, err := fs.parse(args)
	if err != nil {
		return nil, err
	}
	if err := noMore(pos); err != nil {
		return nil, err
	}
	sealer, err := onboarding.LoadSealer(e.getenv, e.readFile)
	if errors.Is(err, onboarding.ErrNoSealKeys) {
		return nil, usageErr("no public seal keys to seal with: set %s or %s_FILE (the workers' public keys; sealkey public prints them)",
			seal.EnvPublicKeys, seal.EnvPublicKeys)
	}
	if err != nil {
		return nil, err
	}
	pin, err := readPIN(e, pinFile, true)
	if err != nil {
		return nil, err
	}
	sealed, err := sealer.Seal(seal.PurposePIN, pin)
	if err != nil {
		return nil, err
	}
	inv := fs.invocation(func(context.Context, *onboarding.Client) (output, error) {
		return output{
			data: map[string]string{"pin": sealed, "key_id": sealer.KeyID()},
			human: func(w io.Writer) error {
				_, err := fmt.Fprintln(w, sealed)
				return err
			},
		}, nil
	})
	inv.local = true
	return inv, nil
}
