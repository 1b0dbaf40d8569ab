package graph

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// Calls made at once, burst after burst, reuse the connections of the last
// burst: a worker's Graph calls do not pay a new TCP (and, to Meta, TLS)
// handshake each. net/http's default transport keeps 2 idle connections per
// host, so its second burst of 20 would open 18 new ones.
func TestBurstsOfCallsReuseConnections(t *testing.T) {
	const burst = 20
	var opened atomic.Int32
	var arrived sync.WaitGroup
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Hold every call of a burst until all have arrived, so that
		// the burst needs burst connections at once.
		arrived.Done()
		<-release
		_, _ = w.Write([]byte(`{"id":"1","display_phone_number":"+1 555-0100"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := New("token", WithBaseURL(srv.URL+"/v21.0"))
	require.NoError(t, err)

	for range 2 {
		arrived.Add(burst)
		var done sync.WaitGroup
		for range burst {
			done.Go(func() {
				_, err := c.GetPhoneNumber(t.Context(), "1")
				require.NoError(t, err)
			})
		}
		arrived.Wait()
		release <- struct{}{} // let one go first: the rest follow
		for range burst - 1 {
			release <- struct{}{}
		}
		done.Wait()
	}
	require.EqualValues(t, burst, opened.Load(), "the second burst reuses the first one's connections")
}
