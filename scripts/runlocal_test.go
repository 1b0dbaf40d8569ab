// Package scripts holds tests of the shell scripts in this directory.
package scripts

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRunLocalStopsEverythingOnASignalToItsPID sends INT, TERM and HUP to
// run-local.sh's process alone, not its group, as a `kill PID` or a make
// that forwards the signal does, and checks that every process it started
// (dev server, codec server, simulator, worker) is gone once it has exited.
func TestRunLocalStopsEverythingOnASignalToItsPID(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if fi, err := os.Stat(cli); cli == "" || err != nil || fi.IsDir() {
		t.Skip("TEMPORAL_CLI_PATH does not name a built Temporal CLI (make tools)")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			pgid, out := startRunLocal(t, root, cli, "bash", filepath.Join(root, "scripts", "run-local.sh"))
			stopsEverything(t, root, cli, pgid, out, sig, 128+int(sig))
		})
	}
	// make forwards SIGTERM to its recipe, not SIGINT (it expects the
	// terminal to signal the whole group); SIGTERM to make alone must stop
	// the stack too. Skipped when make would first build the CLI.
	t.Run("make run, terminated", func(t *testing.T) {
		if err := exec.Command("make", "-C", root, "-q", "tools").Run(); err != nil {
			t.Skipf("make tools is not up to date (%v); not building the Temporal CLI here", err)
		}
		pgid, out := startRunLocal(t, root, cli, "make", "-C", root, "run")
		// make re-raises the signal once its recipe has ended: -1, killed.
		stopsEverything(t, root, "", pgid, out, syscall.SIGTERM, -1)
	})
}

// stopsEverything waits for the stack of the process pgid to run, sends sig
// to that process alone and checks that it exits with code (-1: killed by
// a signal) and leaves
// nothing of its group running. cli is the Temporal CLI expected to run, ""
// for any.
func stopsEverything(t *testing.T, root, cli string, pgid int, out *syncBuffer, sig syscall.Signal, code int) {
	t.Helper()
	{
		{
			want := map[string]bool{filepath.Join(root, "bin", "codecserver"): false,
				filepath.Join(root, "bin", "simulator"): false, filepath.Join(root, "bin", "worker"): false}
			if cli != "" {
				want[cli] = false
			}
			temporal := false
			// The worker starts last, so once it runs the others do.
			waitFor(t, out, "the worker to start", func() bool {
				for _, p := range group(pgid) {
					if _, ok := want[p.exe]; ok {
						want[p.exe] = true
					}
					temporal = temporal || filepath.Base(p.exe) == "temporal"
				}
				return want[filepath.Join(root, "bin", "worker")]
			})
			for exe, seen := range want {
				if !seen {
					t.Errorf("%s was not running before the signal", exe)
				}
			}
			if !temporal {
				t.Error("no Temporal dev server was running before the signal")
			}

			if err := syscall.Kill(pgid, sig); err != nil {
				t.Fatal(err)
			}
			if got := waitExit(t, out); got != code {
				t.Errorf("exited with %d on %s, want %d\n%s", got, sig, code, out.String())
			}
			if left := group(pgid); len(left) > 0 {
				t.Errorf("still running after the exit on %s: %v\n%s", sig, left, out.String())
			}
		}
	}
}

type proc struct {
	pid int
	exe string // argv[0]
}

// group lists the live processes of process group pgid.
func group(pgid int) []proc {
	dirs, _ := os.ReadDir("/proc")
	var out []proc
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 3 || f[0] == "Z" || f[2] != strconv.Itoa(pgid) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		exe, _, _ := strings.Cut(string(cmdline), "\x00")
		out = append(out, proc{pid, exe})
	}
	return out
}

// syncBuffer collects the script's output for failure messages.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	done chan struct{}
	err  error
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startRunLocal starts argv (run-local.sh or make) in a process group of
// its own, on free ports and with a temporary state directory.
func startRunLocal(t *testing.T, root, cli string, argv ...string) (int, *syncBuffer) {
	t.Helper()
	env := []string{"TEMPORAL_CLI_PATH=" + cli, "RUN_LOCAL_DIR=" + t.TempDir(),
		"RUN_LOCAL_TEMPORAL_PORT=" + freePort(t), "RUN_LOCAL_UI_PORT=" + freePort(t),
		"RUN_LOCAL_CODEC_ADDR=127.0.0.1:" + freePort(t), "RUN_LOCAL_SIM_ADDR=127.0.0.1:" + freePort(t),
		"RUN_LOCAL_GATEWAY_ADDR=127.0.0.1:" + freePort(t),
		"RUN_LOCAL_METRICS_ADDR=127.0.0.1:" + freePort(t)}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "WA_") || strings.HasPrefix(name, "WHATSAPP_") || strings.HasPrefix(name, "TEMPORAL_") ||
			strings.HasPrefix(name, "RUN_LOCAL_") || name == "GRAPH_API_URL" {
			continue
		}
		env = append(env, kv)
	}
	out := &syncBuffer{done: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = root, env, out, out
	// A group of its own, so that the signal reaches the script alone and
	// what is left of the group afterwards is what it failed to stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	go func() { out.err = cmd.Wait(); close(out.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // only this test's group, if anything is left
		<-out.done
	})
	return pgid, out
}

func waitExit(t *testing.T, out *syncBuffer) int {
	t.Helper()
	select {
	case <-out.done:
	case <-time.After(2 * time.Minute): // a guard against hanging, not a timing assertion
		t.Fatalf("run-local.sh did not exit\n%s", out.String())
	}
	var ee *exec.ExitError
	if errors.As(out.err, &ee) {
		return ee.ExitCode()
	}
	if out.err != nil {
		t.Fatal(out.err)
	}
	return 0
}

func waitFor(t *testing.T, out *syncBuffer, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute) // a guard against hanging
	for !ok() {
		select {
		case <-out.done:
			t.Fatalf("run-local.sh exited while waiting for %s: %v\n%s", what, out.err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s\n%s", what, out.String())
		}
	}
}

// freePort returns a free port below Linux's ephemeral range (32768 up),
// where the dev server's own random HTTP and metrics ports cannot take it
// between this check and the script's use of it.
func freePort(t *testing.T) string {
	t.Helper()
	for range 100 {
		port := strconv.Itoa(20000 + rand.IntN(12000))
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port in 20000-31999")
	return ""
}
