package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// CallInfo describes one request a Client sent to the Graph API, for the
// function given to WithCallObserver.
type CallInfo struct {
	Op       string        // the operation, e.g. OpRegister
	Duration time.Duration // from building the request to reading the answer
	// Err is nil when Meta answered 2xx with a readable body, else the
	// failure as the caller receives it (token and secrets redacted).
	Err *Error
}

// WithCallObserver has observe called after every request the Client sends
// to the Graph API, answered or not; each page of a list is one request, and
// input refused before any I/O is not reported. It lets a caller take
// metrics without this package knowing of them. observe runs on the
// caller's goroutine, so it must be quick and safe for concurrent use.
func WithCallObserver(observe func(CallInfo)) Option {
	return func(c *Client) { c.observe = observe }
}

// call is callOnce, reported to the observer.
func (c *Client) call(ctx context.Context, op, method, path string, q url.Values, body *requestBody, out any, secrets ...string) error {
	if c.observe == nil {
		return c.callOnce(ctx, op, method, path, q, body, out, secrets...)
	}
	start := time.Now()
	err := c.callOnce(ctx, op, method, path, q, body, out, secrets...)
	info := CallInfo{Op: op, Duration: time.Since(start)}
	if err != nil {
		if !errors.As(err, &info.Err) {
			info.Err = &Error{Op: op, Err: err}
		}
	}
	c.observe(info)
	return err
}

// Reachable reports whether the Graph API's host answers HTTP at all: it
// sends a GET without the access token to the base URL and takes any
// answer, a 400 for the missing token included, as reachable. It spends no
// budget and no call-rate quota of the app (Meta cannot tell which app
// asked), so a readiness probe may call it often. Only a transport failure
// (DNS, connect, TLS, timeout) is an error.
func (c *Client) Reachable(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/", nil)
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("graph: %s unreachable: %w", c.baseURL, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Body.Close()
}
