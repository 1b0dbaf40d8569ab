package graph

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallObserverSeesEveryRequestOnce(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []CallInfo
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
		switch {
		case strings.HasSuffix(r.URL.Path, "/register"):
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"code":133016,"message":"locked","fbtrace_id":"T"}}`))
		case r.URL.Query().Get("after") == "":
			_, _ = w.Write([]byte(`{"data":[{"id":"1","display_phone_number":"+1 555-000-0001"}],"paging":{"cursors":{"after":"c1"},"next":"n"}}`))
		default:
			_, _ = w.Write([]byte(`{"data":[{"id":"2","display_phone_number":"+1 555-000-0002"}]}`))
		}
	}))
	defer srv.Close()
	c, err := New(testToken, WithBaseURL(srv.URL+"/v21.0"), WithCallObserver(func(ci CallInfo) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ci)
	}))
	require.NoError(t, err)

	ctx := context.Background()
	pn, err := c.FindPhoneNumber(ctx, "100", "1", "5550000002")
	require.NoError(t, err)
	require.Equal(t, "2", pn.ID)
	err = c.Register(ctx, "2", RegisterRequest{PIN: "123456"})
	require.True(t, IsWindowExhausted(err))
	// Refused before any I/O: not a Graph call, not reported.
	require.Error(t, c.Register(ctx, "2", RegisterRequest{PIN: "12"}))

	require.Len(t, seen, 3, "two pages and one register")
	assert.Equal(t, OpListPhoneNumbers, seen[0].Op)
	assert.Nil(t, seen[0].Err)
	assert.Equal(t, OpListPhoneNumbers, seen[1].Op)
	assert.Equal(t, OpRegister, seen[2].Op)
	require.NotNil(t, seen[2].Err)
	assert.Equal(t, 133016, seen[2].Err.Code)
	assert.Equal(t, ClassWindowExhausted, seen[2].Err.Class())
	for _, ci := range seen {
		assert.Positive(t, ci.Duration)
	}
}

func TestCallObserverSeesTransportFailures(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	var got []CallInfo
	c, err := New(testToken, WithBaseURL("http://"+addr+"/v21.0"), WithCallObserver(func(ci CallInfo) { got = append(got, ci) }))
	require.NoError(t, err)
	require.Error(t, c.Deregister(context.Background(), "2"))
	require.Len(t, got, 1)
	require.NotNil(t, got[0].Err)
	assert.Equal(t, ClassTransient, got[0].Err.Class())
	assert.Zero(t, got[0].Err.HTTPStatus)

	assert.Error(t, c.Reachable(context.Background()), "nothing listens")
}

func TestReachableSendsNoTokenAndTakesAnyAnswer(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		assert.Empty(t, r.Header.Get("Authorization"), "the probe must not carry the token")
		assert.Equal(t, "/v21.0/", r.URL.Path)
		w.WriteHeader(http.StatusBadRequest) // what Meta answers without a token
	}))
	defer srv.Close()
	c, err := New(testToken, WithBaseURL(srv.URL+"/v21.0"))
	require.NoError(t, err)
	require.NoError(t, c.Reachable(context.Background()))
	assert.Equal(t, 1, calls)
}
