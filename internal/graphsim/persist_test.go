package graphsim

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// persistentEnv is an env whose Server keeps its state in path.
func persistentEnv(t *testing.T, path string, clock *ManualClock, opts ...func(*Options)) *env {
	t.Helper()
	o := Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NameReviewDelay: time.Hour}
	for _, f := range opts {
		f(&o)
	}
	sim := New(o)
	require.NoError(t, sim.PersistTo(path))
	sim.CreateWABA(testWABA)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	return &env{t: t, sim: sim, clock: clock, srv: srv, base: srv.URL + "/v21.0"}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestPersistAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	clock := NewManualClock(epoch)
	a := persistentEnv(t, path, clock)

	// A bit of everything: a pending name review, a sent code, a verified
	// and registered number with a region, a spent and blocked register
	// window, a deleted number, a forgotten one, a pre-verified ID, an
	// extra WABA.
	pending := a.addNumber("5551230001")
	a.requireOK(a.do("POST", "/"+pending+"/request_code", url.Values{"code_method": {"SMS"}, "language": {"en_US"}}))
	registered, err := a.sim.SeedNumber(testWABA, "1", "5551230002", Verified())
	require.NoError(t, err)
	a.requireOK(a.do("POST", "/"+registered+"/register", map[string]any{"messaging_product": "whatsapp", "pin": "123456", "data_localization_region": "CH"}))
	blocked, err := a.sim.SeedNumber(testWABA, "1", "5551230003", Verified())
	require.NoError(t, err)
	for range WindowLimit + 1 {
		a.do("POST", "/"+blocked+"/register", register("123456"))
	}
	deleted := a.addNumber("5551230004")
	require.NoError(t, a.sim.DeleteNumber(deleted))
	forgotten := a.addNumber("5551230005")
	require.NoError(t, a.sim.ForgetNumber(forgotten))
	pre := a.sim.AddPreverifiedNumber("1", "5551230006")
	other := a.sim.CreateWABA("")
	a.clock.Advance(time.Minute)
	a.requireOK(a.do("GET", "/"+registered, nil)) // a read after the clock moved saves its time

	before := a.sim.Numbers()
	code, _ := a.sim.LastCode(pending)
	var ids []string
	for _, n := range before {
		ids = append(ids, n.ID)
	}
	ids = append(ids, pre, other)
	a.sim.Close()
	a.srv.Close()

	// The restarted simulator starts from an earlier clock and a lower ID
	// seed: the file wins on both.
	b := persistentEnv(t, path, NewManualClock(epoch.Add(-time.Hour)), func(o *Options) { o.FirstID = 1000 })
	require.Equal(t, epoch.Add(time.Minute), b.clock.Now())
	after := b.sim.Numbers()
	require.JSONEq(t, jsonOf(t, before), jsonOf(t, after))
	for i := range before {
		require.Equal(t, before[i].PIN, after[i].PIN)
	}
	require.ElementsMatch(t, []string{testWABA, other}, b.sim.WABAs())

	// Every rule still holds: the code verifies, the window stays blocked,
	// the deleted number is refused, the forgotten one unknown, the
	// pre-verified ID accepted, the name approved on time.
	b.requireOK(b.do("POST", "/"+pending+"/verify_code", url.Values{"code": {code}}))
	b.requireErr(b.do("POST", "/"+blocked+"/register", register("123456")), 400, 133016, 0)
	b.requireErr(b.do("POST", "/"+registered+"/register", register("654321")), 400, 133005, 0)
	b.requireErr(b.do("POST", "/"+deleted+"/register", register("123456")), 400, 133015, 0)
	b.requireErr(b.do("GET", "/"+forgotten, nil), 400, 100, 33)
	r := b.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {"5551230006"}, "verified_name": {"Pre"}, "preverified_id": {pre}})
	b.requireOK(r)
	fresh := r.Body["id"].(string)
	require.NotContains(t, ids, fresh, "IDs are never handed out twice")
	require.Greater(t, fresh, ids[len(ids)-1])
	b.clock.Advance(time.Hour)
	n, _ := b.sim.Number(pending)
	require.Equal(t, "APPROVED", n.NameStatus)

	// The file is written whole, readable by its owner only, with no
	// temporary file left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestPersistShiftedClockOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := NewShiftedClock()
	a := New(Options{Clock: clock, Logger: quiet})
	require.NoError(t, a.PersistTo(path))
	clock.Advance(72 * time.Hour)
	a.CreateWABA(testWABA) // a change saves the offset with it

	clock2 := NewShiftedClock()
	b := New(Options{Clock: clock2, Logger: quiet})
	require.NoError(t, b.PersistTo(path))
	require.Equal(t, 72*time.Hour, clock2.Offset())
}

func TestPersistBadFile(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for name, content := range map[string]string{
		"corrupt.json":   `{"version":1,"numbers":[{"id":`,
		"version.json":   `{"version":99}`,
		"unknown.json":   `{"version":1,"colour":"blue"}`,
		"duplicate.json": `{"version":1,"numbers":[{"id":"5","cc":"1","national":"5551234567"},{"id":"5","cc":"1","national":"5551234568"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			err := New(Options{Logger: quiet}).PersistTo(path)
			require.Error(t, err)
			require.Contains(t, err.Error(), path, "the error names the file")
			b, _ := os.ReadFile(path)
			require.Equal(t, content, string(b), "a file that could not be read is left alone")
		})
	}
	err := New(Options{Logger: quiet}).PersistTo(filepath.Join(dir, "missing-dir", "state.json"))
	require.ErrorContains(t, err, "missing-dir")
}

func TestForgetNumber(t *testing.T) {
	e := newEnv(t)
	id := e.addNumber("5551234567")
	e.verify(id)
	e.requireOK(e.do("POST", "/"+id+"/register", register("123456")))

	admin := func(method, path string) resp { return e.doToken("", method, e.srv.URL+path, nil) }
	r := admin("POST", "/_sim/numbers/"+id+"/forget")
	e.requireOK(r)
	require.Equal(t, true, r.Body["forgotten"])
	require.Equal(t, 404, admin("POST", "/_sim/numbers/"+id+"/forget").Status)

	for _, c := range []struct{ method, path string }{
		{"GET", "/" + id}, {"GET", "/" + id + "/settings"}, {"POST", "/" + id}, {"POST", "/" + id + "/request_code"},
		{"POST", "/" + id + "/verify_code"}, {"POST", "/" + id + "/register"}, {"POST", "/" + id + "/deregister"},
	} {
		body := map[string]any{"pin": "123456", "code": "123456", "code_method": "SMS", "language": "en_US", "messaging_product": "whatsapp"}
		if c.method == "GET" {
			body = nil
		}
		r := e.do(c.method, c.path, body)
		e.requireErr(r, 400, 100, 33)
		msg := r.Body["error"].(map[string]any)["message"].(string)
		require.Equal(t, "Unsupported "+strings.ToLower(c.method)+" request. Object with ID '"+id+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", msg)
		require.Equal(t, "GraphMethodException", r.Body["error"].(map[string]any)["type"])
	}
	r = e.do("GET", "/"+testWABA+"/phone_numbers", nil)
	e.requireOK(r)
	require.Empty(t, r.Body["data"])
	require.Error(t, e.sim.SetNameStatus(id, "APPROVED"))

	// The digits are free again, under a new ID.
	again := e.addNumber("5551234567")
	require.NotEqual(t, id, again)
	n, ok := e.sim.Number(id)
	require.True(t, ok, "the admin view keeps it")
	require.True(t, n.Forgotten)
}
