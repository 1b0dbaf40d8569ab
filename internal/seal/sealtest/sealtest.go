// Package sealtest gives tests a worker key pair: what its Sealer seals,
// its Opener opens, as a client and a worker would.
package sealtest

import "github.com/wa-onboarding/onboarding/internal/seal"

// KeyPair returns the sealer and the opener of a new key pair named kid. It
// panics on failure, so that package-level test variables can call it.
func KeyPair(kid string) (*seal.Sealer, *seal.Opener) {
	k, err := seal.GenerateKey(kid)
	if err != nil {
		panic(err)
	}
	o, err := seal.NewOpener(k)
	if err != nil {
		panic(err)
	}
	s, err := seal.NewSealer(o.PublicKeys()...)
	if err != nil {
		panic(err)
	}
	return s, o
}
