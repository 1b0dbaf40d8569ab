// Command sealkey makes and converts the X25519 key pairs of package
// internal/seal, which seal PINs, codes and backup passwords so that only
// workers can open them.
//
// Usage:
//
//	sealkey generate [-id ID]   print a new private key line "ID:base64" for WA_SEAL_PRIVATE_KEYS(_FILE)
//	sealkey public              print the public key lines "id:base64" for WA_SEAL_PUBLIC_KEYS(_FILE),
//	                            derived from WA_SEAL_PRIVATE_KEYS or WA_SEAL_PRIVATE_KEYS_FILE
//
// Rotation: append a generated line to the workers' private keys, restart
// the workers, then regenerate the public keys for the sealing processes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wa-onboarding/onboarding/internal/seal"
)

const usage = `usage:
  sealkey generate [-id ID]   print a new private key line "ID:base64" (for ` + seal.EnvPrivateKeys + `)
  sealkey public              print "id:base64" public key lines (for ` + seal.EnvPublicKeys + `)
                              derived from ` + seal.EnvPrivateKeys + ` or ` + seal.EnvPrivateKeys + `_FILE
`

func main() {
	err := run(os.Args[1:], os.Getenv, os.ReadFile, os.Stdout, os.Stderr, time.Now)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sealkey:", err)
		os.Exit(2)
	}
}

func run(args []string, getenv func(string) string, readFile func(string) ([]byte, error), stdout, stderr io.Writer, now func() time.Time) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	case "generate":
		fs := flag.NewFlagSet("sealkey generate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		id := fs.String("id", "seal-"+now().UTC().Format("20060102"), "key `id`: letters, digits, '.', '_', '-'; written in clear into every sealed value")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("generate: unexpected arguments %q", fs.Args())
		}
		k, err := seal.GenerateKey(*id)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, k.Encode())
		return err
	case "public":
		if len(args) > 1 {
			return fmt.Errorf("public: unexpected arguments %q", args[1:])
		}
		o, err := seal.LoadOpener(getenv, readFile)
		if err != nil {
			return err
		}
		for _, p := range o.PublicKeys() {
			if _, err := fmt.Fprintln(stdout, p.String()); err != nil {
				return err
			}
		}
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
