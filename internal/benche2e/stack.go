package benche2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/wa-onboarding/onboarding/internal/benchfloor"
	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/onboarding"
)

const (
	wabaID    = "100000000000001"
	simToken  = "bench-graph-token"
	benchPIN  = "024680"
	floorCode = "123456"
)

// stack is one dev server, one worker process and the in-process Graph
// simulator, with the client the driver uses.
type stack struct {
	cfg      Config
	dir      string
	dbPath   string
	hostPort string

	server, worker *exec.Cmd
	workerExited   chan struct{} // closed when the worker process has ended
	serverLog      *os.File
	workerLog      *os.File

	sim    *graphsim.Server
	simSrv *httptest.Server

	c  client.Client
	oc *onboarding.Client

	sealKey seal.PrivateKey // the worker's; the driver seals to its public half
	sealer  *seal.Sealer

	// wanted holds the digits of numbers whose code the driver sends as
	// soon as the simulator has sent it; parked numbers are not in it.
	wanted      sync.Map // digits → struct{}
	parkedCodes atomic.Int64
	lastParked  atomic.Int64 // unix nanos of the latest code request of a parked number
	codeErrs    chan error
	codeWG      sync.WaitGroup

	cleanups []func()
}

func (s *stack) close() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
}

func startStack(ctx context.Context, cfg Config, logf func(string, ...any)) (_ *stack, err error) {
	s := &stack{cfg: cfg, codeErrs: make(chan error, 16)}
	if s.sealKey, err = seal.GenerateKey("bench-1"); err != nil {
		return nil, err
	}
	pub, err := s.sealKey.Public()
	if err != nil {
		return nil, err
	}
	if s.sealer, err = seal.NewSealer(pub); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "wa-bench-e2e-"); err != nil {
		return nil, err
	}
	if cfg.Keep {
		logf("keeping %s (logs, database)", s.dir)
	} else {
		s.cleanups = append(s.cleanups, func() { os.RemoveAll(s.dir) })
	}
	s.dbPath = filepath.Join(s.dir, "temporal.db")

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.hostPort = fmt.Sprintf("127.0.0.1:%d", port)
	if s.serverLog, err = os.Create(filepath.Join(s.dir, "temporal.log")); err != nil {
		return nil, err
	}
	s.server = exec.Command(cfg.TemporalCLI, "server", "start-dev",
		"--db-filename", s.dbPath, "--ip", "127.0.0.1", "--port", fmt.Sprint(port), "--headless",
		"--log-level", "error",
		"--search-attribute", onboarding.SearchAttributeStage.GetName()+"=Keyword",
		"--search-attribute", onboarding.SearchAttributeWABAID.GetName()+"=Keyword",
		"--search-attribute", onboarding.SearchAttributePhoneNumberID.GetName()+"=Keyword",
	)
	s.server.Stdout, s.server.Stderr = s.serverLog, s.serverLog
	if err := s.server.Start(); err != nil {
		return nil, fmt.Errorf("starting the Temporal dev server %s: %w", cfg.TemporalCLI, err)
	}
	s.cleanups = append(s.cleanups, func() { stopProcess(s.server, 20*time.Second); s.serverLog.Close() })
	logf("dev server pid %d on %s, database %s", s.server.Process.Pid, s.hostPort, s.dbPath)

	s.sim = graphsim.New(graphsim.Options{
		Token:            simToken,
		NameReviewDelay:  0, // names approved at once: the happy path never sleeps
		CodeRequestLimit: -1,
		Logger:           slog.New(slog.DiscardHandler), // nothing reads them: not even formatted
	})
	s.sim.CreateWABA(wabaID)
	mux := http.NewServeMux()
	mux.Handle("/", s.watch(s.sim))
	mux.HandleFunc("POST "+floorCodePath, s.floorCode)
	s.simSrv = httptest.NewServer(mux)
	s.cleanups = append(s.cleanups, func() { s.sim.Close(); s.simSrv.Close() })

	var keys, plain string
	var dc converter.DataConverter
	var fc converter.FailureConverter
	if cfg.PlainPayloads {
		plain = "1"
	} else {
		key, err := codec.GenerateKey()
		if err != nil {
			return nil, err
		}
		keys = "bench-1:" + key
		ring, err := codec.ParseKeys(keys)
		if err != nil {
			return nil, err
		}
		dc, fc = codec.ClientOptions(ring)
	}

	if err := s.dial(ctx, dc, fc); err != nil {
		return nil, err
	}

	if s.workerLog, err = os.Create(filepath.Join(s.dir, "worker.log")); err != nil {
		return nil, err
	}
	s.worker = exec.Command(cfg.WorkerBin)
	s.worker.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TEMPORAL_ADDRESS=" + s.hostPort,
		"TEMPORAL_NAMESPACE=default",
		"GRAPH_API_URL=" + s.simSrv.URL + "/v21.0",
		"WHATSAPP_ACCESS_TOKEN=" + simToken,
		"WA_BENCH_FLOOR=1",
		"WA_BENCH_FLOOR_CODE_URL=" + s.simSrv.URL + floorCodePath,
		// Any free port: a worker of make run may hold the default.
		"WA_METRICS_ADDR=127.0.0.1:0",
		// The product refuses PINs and codes that are not sealed to its
		// workers, so the driver's client seals them as the starter does.
		seal.EnvPrivateKeys + "=" + s.sealKey.Encode(),
	}
	if keys != "" {
		s.worker.Env = append(s.worker.Env, "WA_CODEC_KEYS="+keys)
	} else {
		s.worker.Env = append(s.worker.Env, "WA_INSECURE_PLAIN_PAYLOADS="+plain)
	}
	// The worker's tuning and Go runtime settings come from the caller's
	// environment, so one invocation measures one configuration.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WA_WORKER_") || strings.HasPrefix(kv, "GOGC=") ||
			strings.HasPrefix(kv, "GOMEMLIMIT=") || strings.HasPrefix(kv, "GOMAXPROCS=") || strings.HasPrefix(kv, "LOG_LEVEL=") {
			s.worker.Env = append(s.worker.Env, kv)
		}
	}
	s.worker.Stdout, s.worker.Stderr = s.workerLog, s.workerLog
	if err := s.worker.Start(); err != nil {
		return nil, fmt.Errorf("starting the worker %s: %w", cfg.WorkerBin, err)
	}
	s.cleanups = append(s.cleanups, func() { stopProcess(s.worker, 30*time.Second); s.workerLog.Close() })
	logf("worker pid %d (WA_BENCH_FLOOR=1 %s)", s.worker.Process.Pid, cfg.WorkerBin)
	if err := s.waitWorker(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// dial connects the driver's client once the dev server answers.
func (s *stack) dial(ctx context.Context, dc converter.DataConverter, fc converter.FailureConverter) error {
	exited := make(chan error, 1)
	go func() { exited <- s.server.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := client.Dial(client.Options{HostPort: s.hostPort, Namespace: "default",
			DataConverter: dc, FailureConverter: fc, Logger: nopLogger{}})
		if err == nil {
			if _, err = c.CheckHealth(ctx, &client.CheckHealthRequest{}); err == nil {
				s.c = c
				s.oc = onboarding.NewClient(c, onboarding.WithSealer(s.sealer))
				s.cleanups = append(s.cleanups, c.Close)
				return nil
			}
			c.Close()
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("the Temporal dev server exited (%v); see %s", werr, s.serverLog.Name())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Temporal dev server did not answer within 2m: %v", err)
		}
	}
}

// waitWorker waits until the worker polls the task queue.
func (s *stack) waitWorker(ctx context.Context) error {
	s.workerExited = make(chan struct{})
	var werr error
	go func() { werr = s.worker.Wait(); close(s.workerExited) }()
	deadline := time.Now().Add(time.Minute)
	for {
		d, err := s.c.DescribeTaskQueue(ctx, onboarding.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err == nil && len(d.GetPollers()) > 0 {
			return nil
		}
		select {
		case <-s.workerExited:
			tail, _ := os.ReadFile(s.workerLog.Name())
			return fmt.Errorf("the worker exited (%v):\n%s", werr, lastLines(string(tail), 10))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("the worker did not poll within 1m; see " + s.workerLog.Name())
		}
	}
}

// watch wraps the simulator: when it has sent a code to a wanted number the
// driver submits the code by update at once, as an operator's service
// would; codes of parked numbers are only counted. This needs no polling of
// Temporal, so it adds no load on the server.
func (s *stack) watch(sim *graphsim.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		sim.ServeHTTP(rec, r)
		if r.Method != http.MethodPost || rec.status != http.StatusOK || !strings.HasSuffix(r.URL.Path, "/request_code") {
			return
		}
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if len(parts) < 2 {
			return
		}
		id := parts[len(parts)-2]
		n, ok := sim.Number(id)
		if !ok {
			return
		}
		digits := n.CC + n.PhoneNumber
		if _, want := s.wanted.LoadAndDelete(digits); !want {
			s.parkedCodes.Add(1)
			s.lastParked.Store(time.Now().UnixNano())
			return
		}
		s.submitCode("the code of +"+digits, func(ctx context.Context) (onboarding.CodeResult, error) {
			code, ok := sim.SentCode(id)
			if !ok {
				return onboarding.CodeResult{}, errors.New("no code on record")
			}
			return s.oc.SendCode(ctx, "+"+digits, code.Code)
		})
	})
}

// submitCode runs send in the background, as a person's service answering
// an SMS would, and reports an error or a refused code; codeWG waits for it.
func (s *stack) submitCode(what string, send func(context.Context) (onboarding.CodeResult, error)) {
	s.codeWG.Add(1)
	go func() {
		defer s.codeWG.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		res, err := send(ctx)
		if err == nil && !res.Accepted {
			err = fmt.Errorf("code refused: %s", res.Message)
		}
		if err != nil {
			s.reportCodeErr(fmt.Errorf("submitting %s: %w", what, err))
		}
	}()
}

// floorCodePath is where the floor's request-code step posts its number.
const floorCodePath = "/bench-floor/code"

// floorCode submits a floor run's code once its request-code step asked
// for it, as watch does for the product's: both series then pay for a code
// that arrives after it was asked for.
func (s *stack) floorCode(w http.ResponseWriter, r *http.Request) {
	var req benchfloor.CodeRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Number == "" {
		http.Error(w, "want {\"number\": ...}", http.StatusBadRequest)
		return
	}
	id := floorWorkflowID(req.Number)
	s.submitCode("the floor's code of "+id, func(ctx context.Context) (onboarding.CodeResult, error) {
		var res onboarding.CodeResult
		h, err := s.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id,
			UpdateName: onboarding.UpdateSubmitCode, Args: []any{onboarding.CodeInput{Code: floorCode}},
			WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, &res)
		}
		return res, err
	})
}

func (s *stack) reportCodeErr(err error) {
	select {
	case s.codeErrs <- err:
	default:
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// stopProcess asks a process to stop (SIGINT, as Ctrl-C would) and kills it
// after grace.
func stopProcess(cmd *exec.Cmd, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		// Signal 0 fails once the process has been reaped by its Wait.
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// nopLogger silences the SDK client's logs in the driver.
type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
