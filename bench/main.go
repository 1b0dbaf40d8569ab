// Command bench runs the end-to-end benchmark (make bench-e2e): the product
// against its floor workflow on one Temporal dev server and one worker
// process, and the cost of runs parked awaiting their code. See
// internal/benche2e and the README's "End-to-end benchmark".
package main

import (
	"os"

	"github.com/wa-onboarding/onboarding/internal/benche2e"
)

func main() { os.Exit(benche2e.Main(os.Args[1:], os.Stdout, os.Stderr)) }
