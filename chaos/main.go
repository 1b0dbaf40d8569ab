// Command chaos onboards many WhatsApp numbers through the real worker while
// it injects Graph API faults (lost answers above all), SIGKILLs workers and
// restarts the Temporal dev server, then prints a Markdown report and a
// one-line verdict. It exits 0 on PASS, 1 on FAIL, 2 on bad flags and 3 when
// the harness itself cannot run.
//
//	make chaos                       # 200 numbers, every fault kind
//	make chaos CHAOSFLAGS='-numbers 50 -deadline 3m'
//
// It starts everything it needs on loopback ports and a temporary folder:
// `temporal server start-dev` on a SQLite file ($TEMPORAL_CLI_PATH, which the
// Makefile sets), the Graph API simulator in process, and -workers processes
// of -worker-bin.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/wa-onboarding/onboarding/internal/chaos"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg := chaos.DefaultConfig()
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.Numbers, "numbers", cfg.Numbers, "how many numbers to onboard")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "worker processes")
	fs.IntVar(&cfg.WorkerKills, "kills", cfg.WorkerKills, "how many times a worker is SIGKILLed and started again")
	fs.DurationVar(&cfg.KillEvery, "kill-every", cfg.KillEvery, "time to the first kill and between kills")
	fs.DurationVar(&cfg.RestartServerAt, "restart-at", cfg.RestartServerAt, "when the dev server is killed and started again on its database (0: never)")
	fs.DurationVar(&cfg.StartOver, "start-over", cfg.StartOver, "spread the starts of the onboardings over this time")
	fs.DurationVar(&cfg.Deadline, "deadline", cfg.Deadline, "a number not registered this long after the first start is lost")
	fs.DurationVar(&cfg.FaultsFor, "faults-for", 0, "inject faults this long (default: half the deadline)")
	profile := fs.String("profile", string(cfg.Profile), "faults: full (every kind on every endpoint) or lost-answers")
	fs.IntVar(&cfg.ChangeRegionEvery, "change-region-every", cfg.ChangeRegionEvery, "every n-th number changes its region once registered (0: none)")
	fs.StringVar(&cfg.TemporalCLI, "temporal-cli", getenv("TEMPORAL_CLI_PATH"), "the temporal CLI (env TEMPORAL_CLI_PATH)")
	fs.StringVar(&cfg.WorkerBin, "worker-bin", "bin/worker", "the worker binary")
	fs.StringVar(&cfg.Dir, "dir", "", "folder for the database and logs, kept afterwards (default: a temporary one, removed)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the temporary folder")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the fault order")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "chaos: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg.Profile = chaos.Profile(*profile)
	if !*quiet {
		cfg.Log = stderr
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return 2
	}
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return 3
	}
	fmt.Fprint(stdout, rep.Markdown())
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "chaos:", err)
			return 3
		}
	}
	if !rep.Pass() {
		return 1
	}
	return 0
}
