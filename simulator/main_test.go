package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer lets the test read what the server goroutine logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

func TestParseFlags(t *testing.T) {
	c, err := parseFlags(nil, noEnv, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8090", c.addr)
	require.Equal(t, "sim-token", c.token)
	require.Equal(t, "100000000000001", c.waba)
	require.Zero(t, c.nameReviewDelay)
	require.False(t, c.fakeClock)

	env := map[string]string{"GRAPHSIM_ADDR": "0.0.0.0:9000", "GRAPHSIM_TOKEN": "dev-token"}
	c, err = parseFlags([]string{"-name-review-delay", "30s", "-fake-clock", "-log-format", "json"}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:9000", c.addr)
	require.Equal(t, "dev-token", c.token)
	require.Equal(t, 30*time.Second, c.nameReviewDelay)
	require.True(t, c.fakeClock)

	c, err = parseFlags([]string{"-token", "flag-wins"}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "flag-wins", c.token)

	for _, bad := range [][]string{{"-waba", "abc"}, {"-waba", ""}, {"-log-format", "xml"}, {"extra"}, {"-nope"}} {
		_, err = parseFlags(bad, noEnv, io.Discard)
		require.Error(t, err, "%v", bad)
	}
}

func TestRun(t *testing.T) {
	for _, fake := range []bool{false, true} {
		t.Run(map[bool]string{false: "wall clock", true: "fake clock"}[fake], func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			args := []string{"-addr", "127.0.0.1:0", "-token", "t0k", "-waba", "555", "-log-format", "json"}
			if fake {
				args = append(args, "-fake-clock")
			}
			var stdout, stderr syncBuffer
			ready := make(chan string, 1)
			errc := make(chan error, 1)
			go func() { errc <- run(ctx, args, noEnv, &stdout, &stderr, ready) }()
			var base string
			select {
			case base = <-ready:
			case err := <-errc:
				t.Fatal(err)
			}
			require.Contains(t, stdout.String(), base+"/v21.0")
			require.Contains(t, stdout.String(), "t0k")
			require.Contains(t, stdout.String(), "555")

			req, _ := http.NewRequest("POST", base+"/v21.0/555/phone_numbers?cc=1&phone_number=5551234567&verified_name=Acme", nil)
			req.Header.Set("Authorization", "Bearer t0k")
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			var out map[string]string
			require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
			res.Body.Close()
			require.Equal(t, 200, res.StatusCode)
			id := out["id"]

			req, _ = http.NewRequest("POST", base+"/v21.0/"+id+"/request_code", strings.NewReader("code_method=SMS&language=en_US"))
			req.Header.Set("Authorization", "Bearer t0k")
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err = http.DefaultClient.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, 200, res.StatusCode)
			require.Eventually(t, func() bool { return strings.Contains(stderr.String(), `"msg":"code sent"`) },
				time.Second, 10*time.Millisecond)

			res, err = http.Post(base+"/_sim/clock/advance?d=72h", "", nil)
			require.NoError(t, err)
			res.Body.Close()
			if fake {
				require.Equal(t, 200, res.StatusCode)
			} else {
				require.Equal(t, 404, res.StatusCode)
			}

			// A hung request does not hold up the shutdown.
			res, err = http.Post(base+"/_sim/faults", "application/json", strings.NewReader(`{"kind":"hang"}`))
			require.NoError(t, err)
			res.Body.Close()
			go func() {
				req, _ := http.NewRequest("GET", base+"/v21.0/"+id, nil)
				req.Header.Set("Authorization", "Bearer t0k")
				if res, err := http.DefaultClient.Do(req); err == nil {
					res.Body.Close()
				}
			}()
			require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "holding the request") },
				time.Second, 10*time.Millisecond)

			cancel()
			select {
			case err := <-errc:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("run did not return after cancel")
			}
			require.Contains(t, stderr.String(), "shutting down")
		})
	}
}

// start runs the simulator until the returned stop is called.
func start(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, args, noEnv, io.Discard, io.Discard, ready) }()
	select {
	case base = <-ready:
	case err := <-errc:
		cancel()
		t.Fatal(err)
	}
	return base, func() {
		cancel()
		require.NoError(t, <-errc)
	}
}

func addNumber(t *testing.T, base, national string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v21.0/100000000000001/phone_numbers?cc=1&phone_number="+national+"&verified_name=Acme", nil)
	req.Header.Set("Authorization", "Bearer sim-token")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]string
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	require.Equal(t, 200, res.StatusCode, "%v", out)
	return out["id"]
}

func TestStateFileSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graphsim-state.json")
	args := []string{"-addr", "127.0.0.1:0", "-state", path, "-fake-clock"}

	base, stop := start(t, args...)
	first := addNumber(t, base, "5551234567")
	res, err := http.Post(base+"/_sim/clock/advance?d=72h", "", nil)
	require.NoError(t, err)
	res.Body.Close()
	stop()

	base, stop = start(t, args...)
	defer stop()
	res, err = http.Get(base + "/_sim/numbers/" + first)
	require.NoError(t, err)
	var n map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&n))
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "5551234567", n["phone_number"])
	res, err = http.Get(base + "/_sim/clock")
	require.NoError(t, err)
	var clock struct{ Now time.Time }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&clock))
	res.Body.Close()
	require.True(t, clock.Now.After(time.Now().Add(71*time.Hour)), "the clock's offset survived: %s", clock.Now)

	second := addNumber(t, base, "5551234568")
	require.NotEqual(t, first, second)
	require.Greater(t, second, first, "the ID counter goes on")
}

func TestStateFileCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graphsim-state.json")
	require.NoError(t, os.WriteFile(path, []byte("{\"version\":1,"), 0o600))
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-state", path}, noEnv, io.Discard, io.Discard, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), path)
}

func TestIDSeed(t *testing.T) {
	a := idSeed(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	b := idSeed(time.Date(2026, 11, 23, 12, 0, 1, 0, time.UTC))
	require.Len(t, fmt.Sprint(a), 15, "IDs look like Meta's")
	require.Equal(t, int64(10_000), b-a, "10 IDs per millisecond between two starts")
}
