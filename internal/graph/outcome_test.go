package graph

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/validate"
)

func TestOutcomeUnknownOfAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{"definite refusal", 400, envelope(136025, 0, "", "", "", ""), false},
		{"window exhausted", 400, envelope(133016, 0, "", "", "", ""), false},
		{"token refused", 401, envelope(190, 0, "", "", "", ""), false},
		{"throttle 4", 400, envelope(4, 0, "", "", "", ""), false},
		{"throttle 80007", 429, envelope(80007, 0, "", "", "", ""), false},
		{"throttle 80008", 400, envelope(80008, 0, "", "", "", ""), false},
		{"throttle 130429", 400, envelope(130429, 0, "", "", "", ""), false},
		{"429 page", 429, "Too Many Requests", false},
		{"4xx page from a proxy", 404, "<html>Not Found</html>", false},
		{"502 proxy page", 502, "<html>502 Bad Gateway</html>", true},
		{"503 empty", 503, "", true},
		{"500 code 1", 500, envelope(1, 0, "", "", "", ""), true},
		{"503 code 2", 503, envelope(2, 0, "", "", "", ""), true},
		{"500 131000", 500, envelope(131000, 0, "", "", "", ""), true},
		{"502 envelope without code", 502, `{"error":{"message":"Bad gateway"}}`, true},
		{"503 with a definite code", 503, envelope(133016, 0, "", "", "", ""), false},
		{"500 with a permanent code", 500, envelope(100, 0, "", "", "", ""), false},
		{"503 throttle", 503, envelope(4, 0, "", "", "", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := DecodeError(OpRegister, tt.status, nil, []byte(tt.body))
			require.Equal(t, tt.want, e.OutcomeUnknown())
			require.Equal(t, tt.want, OutcomeUnknown(fmt.Errorf("activity: %w", e)), "through a wrapper")
		})
	}
}

func TestOutcomeUnknownOfOtherErrors(t *testing.T) {
	require.False(t, OutcomeUnknown(nil))
	require.False(t, (*Error)(nil).OutcomeUnknown())
	require.False(t, OutcomeUnknown(errors.New("something else")))
	require.True(t, OutcomeUnknown(context.DeadlineExceeded), "a bare timeout may have been after the write")
	require.True(t, OutcomeUnknown(&netErr{}))
	require.True(t, (&Error{Op: OpRegister, Err: context.DeadlineExceeded}).OutcomeUnknown(),
		"a hand-made transport error defaults to unknown")
	require.False(t, (&Error{Op: OpRegister, Err: &validate.Error{Field: "pin", Rule: "x"}}).OutcomeUnknown())
	require.True(t, (&Error{Op: OpRegister, HTTPStatus: 200, Err: ErrNoSuccess}).OutcomeUnknown())
}

func TestOutcomeUnknownThroughClient(t *testing.T) {
	ctx := context.Background()
	pin := RegisterRequest{PIN: "012345"}

	t.Run("refused input: nothing sent", func(t *testing.T) {
		f, c := newFake(t)
		err := c.Register(ctx, "42", RegisterRequest{PIN: "12"})
		require.Error(t, err)
		require.False(t, OutcomeUnknown(err))
		require.Empty(t, f.requests())
	})

	t.Run("context done before the call: nothing sent", func(t *testing.T) {
		f, c := newFake(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := c.Register(cctx, "42", pin)
		require.ErrorIs(t, err, context.Canceled)
		require.True(t, IsTransient(err), "classification is unchanged")
		require.False(t, OutcomeUnknown(err))
		require.Empty(t, f.requests())
	})

	t.Run("connection refused: nothing sent", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		c, err := New(testToken, WithBaseURL("http://"+addr+"/v21.0"))
		require.NoError(t, err)
		err = c.Register(ctx, "42", pin)
		require.True(t, IsTransient(err))
		require.False(t, OutcomeUnknown(err), "%v", err)
	})

	t.Run("deadline while connecting: nothing sent", func(t *testing.T) {
		// A dialer that never connects: the transport reports GetConn to
		// the trace but never writes the headers.
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}
		defer tr.CloseIdleConnections()
		c, err := New(testToken, WithBaseURL("http://127.0.0.1:9/v21.0"), WithHTTPClient(&http.Client{Transport: tr}))
		require.NoError(t, err)
		dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err = c.Register(dctx, "42", pin)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.False(t, OutcomeUnknown(err), "%v", err)
	})

	t.Run("deadline after the request was written: unknown", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		f, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err := c.Register(dctx, "42", pin)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.True(t, OutcomeUnknown(err))
		require.Len(t, f.requests(), 1)
	})

	t.Run("connection closed without an answer: unknown", func(t *testing.T) {
		_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		err := c.Register(ctx, "42", pin)
		require.True(t, IsTransient(err))
		require.True(t, OutcomeUnknown(err), "%v", err)
	})

	t.Run("answers", func(t *testing.T) {
		_, c := newFake(t,
			reply(200, `{"success":tr`),
			reply(502, "<html>Bad Gateway</html>"),
			reply(400, envelope(133005, 0, "", "", "", "")),
			reply(429, envelope(80008, 0, "", "", "", "")),
			reply(200, `{"success":true}`),
		)
		require.True(t, OutcomeUnknown(c.Register(ctx, "42", pin)), "truncated success body")
		require.True(t, OutcomeUnknown(c.Register(ctx, "42", pin)), "proxy page")
		require.False(t, OutcomeUnknown(c.Register(ctx, "42", pin)), "Meta refused")
		require.False(t, OutcomeUnknown(c.Register(ctx, "42", pin)), "throttled")
		require.False(t, OutcomeUnknown(c.Register(ctx, "42", pin)), "success is no error")
	})
}
