package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// devServer is `temporal server start-dev` as a child process on a SQLite
// file, so that it can be stopped and started again on the same state.
type devServer struct {
	cli, db, logPath string
	port             int
	extraPorts       []int // http, metrics: fixed so a restart binds the same ones

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func newDevServer(cli, dir string) (*devServer, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	return &devServer{
		cli: cli, db: filepath.Join(dir, "temporal.db"), logPath: filepath.Join(dir, "temporal.log"),
		port: ports[0], extraPorts: ports[1:],
	}, nil
}

func (d *devServer) hostPort() string { return "127.0.0.1:" + strconv.Itoa(d.port) }

// start launches the server and waits until its frontend answers a health
// check. The search attributes are passed on every start, as
// scripts/run-local.sh does: on an existing database they are already there.
func (d *devServer) start(ctx context.Context) error {
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	args := []string{"server", "start-dev",
		"--db-filename", d.db,
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(d.port),
		"--http-port", strconv.Itoa(d.extraPorts[0]),
		"--metrics-port", strconv.Itoa(d.extraPorts[1]),
		"--headless",
		"--log-level", "warn",
	}
	for _, sa := range []string{onboarding.SearchAttributeStage.GetName(), onboarding.SearchAttributeWABAID.GetName(),
		onboarding.SearchAttributePhoneNumberID.GetName()} {
		args = append(args, "--search-attribute", sa+"=Keyword")
	}
	cmd := exec.Command(d.cli, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting the Temporal dev server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	d.mu.Lock()
	d.cmd, d.done = cmd, done
	d.mu.Unlock()
	return waitHealthy(ctx, d.hostPort(), done, d.logPath)
}

func waitHealthy(ctx context.Context, hostPort string, exited <-chan struct{}, logPath string) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		select {
		case <-exited:
			return fmt.Errorf("the Temporal dev server exited; see %s", logPath)
		case <-ctx.Done():
			return fmt.Errorf("the Temporal dev server on %s is not healthy after 90s; see %s", hostPort, logPath)
		case <-time.After(300 * time.Millisecond):
		}
		c, err := client.DialContext(ctx, client.Options{HostPort: hostPort, Logger: quietLogger()})
		if err != nil {
			continue
		}
		_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
		c.Close()
		if err == nil {
			return nil
		}
	}
}

// stop sends sig to the server's process group and waits for it to exit,
// killing it after 20 s.
func (d *devServer) stop(sig syscall.Signal) {
	d.mu.Lock()
	cmd, done := d.cmd, d.done
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	stopProcess(cmd, done, sig)
}

// stopProcess signals the process group of cmd, which was started with
// Setpgid, so children go too, and waits.
func stopProcess(cmd *exec.Cmd, done <-chan struct{}, sig syscall.Signal) {
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// workerProc is one bin/worker process; it can be killed and started again.
type workerProc struct {
	name, bin, logPath string
	env                []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (w *workerProc) start() error {
	logf, err := os.OpenFile(w.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(w.bin)
	cmd.Env = w.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", w.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	w.mu.Lock()
	w.cmd, w.done = cmd, done
	w.mu.Unlock()
	return nil
}

func (w *workerProc) stop(sig syscall.Signal) {
	w.mu.Lock()
	cmd, done := w.cmd, w.done
	w.mu.Unlock()
	if cmd != nil {
		stopProcess(cmd, done, sig)
	}
}

// simServer serves a graphsim.Server on a loopback port.
type simServer struct {
	srv  *http.Server
	base string // http://127.0.0.1:port
}

func serveSim(h http.Handler) (*simServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &simServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, base: "http://" + ln.Addr().String()}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "chaos: simulator stopped:", err)
		}
	}()
	return s, nil
}

func (s *simServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		_ = s.srv.Close()
	}
}

// freePorts returns n distinct free loopback ports, holding each open until
// all are chosen so none is handed out twice.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func quietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}
