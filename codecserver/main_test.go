package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/wa-onboarding/onboarding/internal/codec"
)

const testToken = "test-token-0123456789abcdef"

// syncBuffer is written by the server goroutines and read by the test.
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

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func noFiles(string) ([]byte, error) { return nil, fs.ErrNotExist }

func TestGenerateKeyFlag(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-generate-key"}, envOf(nil), noFiles, &out, &out, nil))
	_, err := codec.ParseKeys("dev:" + strings.TrimSpace(out.String()))
	require.NoError(t, err)
}

func TestRefusesToStart(t *testing.T) {
	key, err := codec.GenerateKey()
	require.NoError(t, err)
	keys := "k1:" + key
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no keys", nil, map[string]string{envToken: testToken}, "refusing to start without keys"},
		{"bad key", nil, map[string]string{codec.EnvKeys: "k1:" + key[:20], envToken: testToken}, "exactly 32 bytes"},
		{"no token", nil, map[string]string{codec.EnvKeys: keys}, "no auth token"},
		{"short token", nil, map[string]string{codec.EnvKeys: keys, envToken: "short"}, "at least 16"},
		{"token and file", nil, map[string]string{codec.EnvKeys: keys, envToken: testToken, envTokenFile: "/t"}, "set only one"},
		{"unreadable token file", nil, map[string]string{codec.EnvKeys: keys, envTokenFile: "/t"}, envTokenFile + ": cannot read /t"},
		{"token with space", nil, map[string]string{codec.EnvKeys: keys, envToken: testToken + " x"}, envToken + ": auth token must not contain whitespace"},
		{"no-auth with token", []string{"-insecure-no-auth"}, map[string]string{codec.EnvKeys: keys, envToken: testToken}, "conflicts"},
		{"no-auth off loopback", []string{"-insecure-no-auth", "-addr", "0.0.0.0:0"}, map[string]string{codec.EnvKeys: keys}, "loopback"},
		{"no-auth all interfaces", []string{"-insecure-no-auth", "-addr", ":0"}, map[string]string{codec.EnvKeys: keys}, "loopback"},
		{"bad origin", []string{"-origins", "*"}, map[string]string{codec.EnvKeys: keys, envToken: testToken}, "wildcard"},
		{"half TLS", []string{"-tls-cert", "c.pem"}, map[string]string{codec.EnvKeys: keys, envToken: testToken}, "together"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			err := run(context.Background(), tc.args, envOf(tc.env), noFiles, &out, &out, func(net.Addr) {
				t.Fatal("server started")
			})
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), key)
			require.NotContains(t, err.Error(), key[:20])
			require.NotContains(t, err.Error(), testToken)
		})
	}
}

func TestServeAndShutdown(t *testing.T) {
	key, err := codec.GenerateKey()
	require.NoError(t, err)
	env := envOf(map[string]string{
		codec.EnvKeysFile: "/secrets/keys",
		envTokenFile:      "/secrets/token",
		envAddr:           "127.0.0.1:0",
	})
	files := map[string]string{"/secrets/keys": "# dev\nk1:" + key + "\n", "/secrets/token": testToken + "\n"}
	readFile := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env, readFile, &logs, &logs, func(a net.Addr) { addrc <- a }) }()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	}

	keys, err := codec.ParseKeys("k1:" + key)
	require.NoError(t, err)
	p, err := converter.GetDefaultDataConverter().ToPayload("PIN 012345")
	require.NoError(t, err)
	enc, err := codec.NewCodec(keys).Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	body, err := json.Marshal(&commonpb.Payloads{Payloads: enc})
	require.NoError(t, err)

	post := func(auth string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr.String()+"/decode", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	require.Equal(t, http.StatusUnauthorized, post("").StatusCode)
	require.Equal(t, http.StatusOK, post("Bearer "+testToken).StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	out := logs.String()
	require.Contains(t, out, "codec server listening")
	require.Contains(t, out, "shutting down")
	require.NotContains(t, out, key)
	require.NotContains(t, out, testToken)
	require.NotContains(t, out, "012345")
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8081": true, "localhost:8081": true, "[::1]:8081": true,
		"0.0.0.0:8081": false, ":8081": false, "10.0.0.1:8081": false, "bad": false,
	} {
		require.Equal(t, want, isLoopback(addr), addr)
	}
}
