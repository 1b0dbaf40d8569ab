package graphsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testWABA = "100000000000001"

var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type env struct {
	t     *testing.T
	sim   *Server
	clock *ManualClock
	srv   *httptest.Server
	base  string
}

func newEnv(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	clock := NewManualClock(epoch)
	o := Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		o.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	for _, f := range opts {
		f(&o)
	}
	sim := New(o)
	sim.CreateWABA(testWABA)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	return &env{t: t, sim: sim, clock: clock, srv: srv, base: srv.URL + "/v21.0"}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// resp is a decoded answer.
type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

func (r resp) errCode() int {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return int(c)
}

func (r resp) errSubcode() int {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["error_subcode"].(float64)
	return int(c)
}

func (r resp) errDetails() string {
	e, _ := r.Body["error"].(map[string]any)
	d, _ := e["error_data"].(map[string]any)
	s, _ := d["details"].(string)
	return s
}

func (e *env) raw(req *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: b}
	_ = json.Unmarshal(b, &out.Body)
	return out
}

// do sends a request with the right token. body is sent as JSON when it is
// a map, as a form when it is url.Values, as is when it is a string.
func (e *env) do(method, path string, body any) resp {
	e.t.Helper()
	return e.doToken(DefaultToken, method, path, body)
}

func (e *env) doToken(token, method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.base + path
	}
	req, err := http.NewRequest(method, target, rd)
	require.NoError(e.t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.raw(req)
}

func (e *env) requireOK(r resp) {
	e.t.Helper()
	require.Equal(e.t, http.StatusOK, r.Status, "body: %s", r.Raw)
}

func (e *env) requireErr(r resp, status, code, subcode int) {
	e.t.Helper()
	require.Equal(e.t, status, r.Status, "body: %s", r.Raw)
	require.Equal(e.t, code, r.errCode(), "body: %s", r.Raw)
	require.Equal(e.t, subcode, r.errSubcode(), "body: %s", r.Raw)
	errObj := r.Body["error"].(map[string]any)
	require.NotEmpty(e.t, errObj["message"])
	require.NotEmpty(e.t, errObj["type"])
	require.NotEmpty(e.t, errObj["fbtrace_id"])
	require.Contains(e.t, errObj, "is_transient")
	if d, ok := errObj["error_data"].(map[string]any); ok {
		require.Equal(e.t, "whatsapp", d["messaging_product"])
	}
}

// addNumber adds +1 555 000 XXXX through the Graph API.
func (e *env) addNumber(national string) string {
	e.t.Helper()
	r := e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {national}, "verified_name": {"Acme"}})
	e.requireOK(r)
	id, _ := r.Body["id"].(string)
	require.NotEmpty(e.t, id)
	return id
}

func (e *env) verify(id string) {
	e.t.Helper()
	e.requireOK(e.do("POST", "/"+id+"/request_code", url.Values{"code_method": {"SMS"}, "language": {"en_US"}}))
	code, ok := e.sim.LastCode(id)
	require.True(e.t, ok)
	e.requireOK(e.do("POST", "/"+id+"/verify_code", url.Values{"code": {code}}))
}

func register(pin string) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "pin": pin}
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5550001111")
	require.NoError(t, err)

	r := e.doToken("", "GET", "/"+id, nil)
	e.requireErr(r, 401, 190, 0)
	require.Equal(t, "OAuthException", r.Body["error"].(map[string]any)["type"])
	require.NotEmpty(t, r.Header.Get("WWW-Authenticate"))

	e.requireErr(e.doToken("wrong", "GET", "/"+id, nil), 401, 190, 0)
	e.requireErr(e.doToken("wrong", "POST", "/"+id+"/register", register("123456")), 401, 190, 0)
	require.Zero(t, e.sim.RegisterCount(id), "a request refused for its token must not count")

	// access_token in the query string and in a form body, as Meta allows.
	e.requireOK(e.doToken("", "GET", "/"+id+"?access_token="+DefaultToken, nil))
	e.requireOK(e.doToken("", "POST", "/"+id+"/request_code",
		url.Values{"access_token": {DefaultToken}, "code_method": {"SMS"}, "language": {"en_US"}}))
	e.requireOK(e.doToken("", "POST", "/"+id+"/request_code",
		map[string]any{"access_token": DefaultToken, "code_method": "VOICE", "language": "en_US"}))

	calls := e.sim.Calls()
	require.Equal(t, 190, calls[0].ErrorCode)
	require.Equal(t, 401, calls[0].HTTPStatus)
	require.Equal(t, EndpointGetPhoneNumber, calls[0].Endpoint)
	require.Equal(t, masked, calls[len(calls)-1].Params["access_token"])

	e2 := newEnv(t, func(o *Options) { o.Token = "custom" })
	e2.requireOK(e2.doToken("custom", "GET", "/"+testWABA+"/phone_numbers", nil))
	e2.requireErr(e2.doToken(DefaultToken, "GET", "/"+testWABA+"/phone_numbers", nil), 401, 190, 0)
}

func TestVersionsAndUnknownPaths(t *testing.T) {
	e := newEnv(t)
	for _, v := range []string{"v19.0", "v21.0", "v23.0"} {
		r := e.do("GET", e.srv.URL+"/"+v+"/"+testWABA+"/phone_numbers", nil)
		e.requireOK(r)
		require.Equal(t, v, r.Header.Get("Facebook-Api-Version"))
	}
	e.requireErr(e.do("GET", e.srv.URL+"/"+testWABA+"/phone_numbers", nil), 400, 2500, 0)
	e.requireErr(e.do("GET", "/"+testWABA+"/nonsense", nil), 400, 2500, 0)
	e.requireErr(e.do("GET", "/999/phone_numbers", nil), 400, 100, 33)
	e.requireErr(e.do("DELETE", "/"+testWABA+"/phone_numbers", nil), 400, 100, 33)
	e.requireErr(e.do("GET", "/123456/register", nil), 400, 100, 33)
}

func TestParamsQueryFormJSON(t *testing.T) {
	e := newEnv(t)
	// Query string only.
	r := e.do("POST", "/"+testWABA+"/phone_numbers?cc=1&phone_number=5550000001&verified_name=Q", nil)
	e.requireOK(r)
	// Form body.
	e.requireOK(e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {"5550000002"}, "verified_name": {"F"}}))
	// JSON body, with migrate_phone_number a JSON boolean.
	e.requireOK(e.do("POST", "/"+testWABA+"/phone_numbers", map[string]any{"cc": "44", "phone_number": "7700900003", "verified_name": "J", "migrate_phone_number": false}))
	// Query and body merged.
	e.requireOK(e.do("POST", "/"+testWABA+"/phone_numbers?cc=1", url.Values{"phone_number": {"5550000004"}, "verified_name": {"M"}}))
	// The body wins over the query string.
	r = e.do("POST", "/"+testWABA+"/phone_numbers?cc=1&phone_number=5550000005&verified_name=Query", map[string]any{"verified_name": "Body"})
	e.requireOK(r)
	n, ok := e.sim.Number(r.Body["id"].(string))
	require.True(t, ok)
	require.Equal(t, "Body", n.VerifiedName)
	require.Len(t, e.sim.Numbers(), 5)

	// A JSON number for the PIN is read as its digits.
	id := e.addNumber("5550000006")
	e.verify(id)
	e.requireOK(e.do("POST", "/"+id+"/register", `{"messaging_product":"whatsapp","pin":123456}`))
	n, _ = e.sim.Number(id)
	require.Equal(t, "123456", n.PIN)

	// A broken JSON body is a 100.
	e.requireErr(e.do("POST", "/"+id+"/register", `{"messaging_product":`), 400, 100, 0)
}

func TestAddPhoneNumber(t *testing.T) {
	e := newEnv(t)
	id := e.addNumber("5551234567")
	n, ok := e.sim.Number(id)
	require.True(t, ok)
	require.Equal(t, "+1 555-123-4567", n.DisplayPhoneNumber)
	require.Equal(t, "NOT_VERIFIED", n.CodeVerificationStatus)
	require.Equal(t, "APPROVED", n.NameStatus)
	require.Equal(t, "PENDING", n.Status)

	t.Run("unknown WABA", func(t *testing.T) {
		r := e.do("POST", "/424242/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {"5550009999"}, "verified_name": {"X"}})
		e.requireErr(r, 400, 100, 33)
		require.Contains(t, r.Body["error"].(map[string]any)["message"], "Unsupported post request")
		require.Equal(t, "GraphMethodException", r.Body["error"].(map[string]any)["type"])
	})
	t.Run("missing parameters", func(t *testing.T) {
		e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"phone_number": {"5550009999"}, "verified_name": {"X"}}), 400, 100, 0)
		e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"1"}, "verified_name": {"X"}}), 400, 100, 0)
		e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {"5550009999"}}), 400, 100, 0)
		e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"0"}, "phone_number": {"5550009999"}, "verified_name": {"X"}}), 400, 100, 0)
		e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {"555-000"}, "verified_name": {"X"}}), 400, 100, 0)
	})
	t.Run("duplicate on the same WABA", func(t *testing.T) {
		r := e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {"5551234567"}, "verified_name": {"Acme"}})
		e.requireErr(r, 400, 100, 2388012)
		require.Contains(t, r.Body["error"].(map[string]any)["message"], "already exists")
		require.Contains(t, r.errDetails(), id)
	})
	t.Run("on another WABA without migrate", func(t *testing.T) {
		other := e.sim.CreateWABA("200000000000002")
		r := e.do("POST", "/"+other+"/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {"5551234567"}, "verified_name": {"Acme"}})
		e.requireErr(r, 400, 100, 2388091)
		require.Contains(t, r.errDetails(), "migrate_phone_number")
	})
}

func TestMigrate(t *testing.T) {
	e := newEnv(t)
	other := e.sim.CreateWABA("200000000000002")
	src, err := e.sim.SeedNumber(other, "1", "5557654321", Registered("111111", "DE"))
	require.NoError(t, err)

	migrate := url.Values{"cc": {"1"}, "phone_number": {"5557654321"}, "migrate_phone_number": {"true"}}
	// Two-step verification is on: not migratable.
	e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers", migrate), 400, 100, 2388103)
	require.NoError(t, e.sim.DisableTwoStep(src))

	r := e.do("POST", "/"+testWABA+"/phone_numbers", migrate)
	e.requireOK(r)
	require.Equal(t, src, r.Body["id"], "a migrated number keeps its ID")
	n, _ := e.sim.Number(src)
	require.Equal(t, testWABA, n.WABAID)
	require.Equal(t, "NOT_VERIFIED", n.CodeVerificationStatus, "ownership is verified again on the new WABA")
	require.Equal(t, "PENDING", n.Status)
	require.Empty(t, n.DataLocalizationRegion)

	// Already on the destination WABA.
	e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers", migrate), 400, 100, 2388012)
	// Not on any WABA: nothing to migrate.
	e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers",
		url.Values{"cc": {"1"}, "phone_number": {"5550000000"}, "migrate_phone_number": {"true"}}), 400, 100, 2388093)

	// The migrated number goes through the usual flow on its new WABA.
	e.verify(src)
	e.requireOK(e.do("POST", "/"+src+"/register", register("222222")))
}

func TestPreverified(t *testing.T) {
	e := newEnv(t)
	pre := e.sim.AddPreverifiedNumber("44", "7700900123")
	bad := url.Values{"cc": {"44"}, "phone_number": {"7700900999"}, "verified_name": {"P"}, "preverified_id": {pre}}
	e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers", bad), 400, 100, 0)
	e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers",
		url.Values{"cc": {"44"}, "phone_number": {"7700900123"}, "verified_name": {"P"}, "preverified_id": {"999"}}), 400, 100, 0)

	r := e.do("POST", "/"+testWABA+"/phone_numbers",
		url.Values{"cc": {"44"}, "phone_number": {"7700900123"}, "verified_name": {"P"}, "preverified_id": {pre}})
	e.requireOK(r)
	id := r.Body["id"].(string)
	n, _ := e.sim.Number(id)
	require.Equal(t, "VERIFIED", n.CodeVerificationStatus)
	require.Equal(t, "+44 7700900123", n.DisplayPhoneNumber)
	e.requireOK(e.do("POST", "/"+id+"/register", register("123456")))
}

func TestListPaging(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PageSize = 2 })
	var ids []string
	for _, nat := range []string{"5550000001", "5550000002", "5550000003", "5550000004", "5550000005"} {
		ids = append(ids, e.addNumber(nat))
	}
	other := e.sim.CreateWABA("")
	_, err := e.sim.SeedNumber(other, "1", "5550000099")
	require.NoError(t, err)

	var got []string
	next := e.base + "/" + testWABA + "/phone_numbers?fields=id,display_phone_number,status"
	pages := 0
	for next != "" {
		r := e.do("GET", next, nil)
		e.requireOK(r)
		pages++
		for _, d := range r.Body["data"].([]any) {
			m := d.(map[string]any)
			require.ElementsMatch(t, []string{"id", "display_phone_number", "status"}, keys(m))
			got = append(got, m["id"].(string))
		}
		paging := r.Body["paging"].(map[string]any)
		cursors := paging["cursors"].(map[string]any)
		require.NotEmpty(t, cursors["before"])
		require.NotEmpty(t, cursors["after"])
		next, _ = paging["next"].(string)
		if next != "" {
			u, err := url.Parse(next)
			require.NoError(t, err)
			require.True(t, u.IsAbs())
			require.Equal(t, cursors["after"], u.Query().Get("after"))
			require.Empty(t, u.Query().Get("access_token"), "a header token never leaks into next")
		}
	}
	require.Equal(t, ids, got)
	require.Equal(t, 3, pages)

	// limit and after as the client sends them.
	r := e.do("GET", "/"+testWABA+"/phone_numbers?limit=4", nil)
	e.requireOK(r)
	require.Len(t, r.Body["data"], 4)
	after := r.Body["paging"].(map[string]any)["cursors"].(map[string]any)["after"].(string)
	r = e.do("GET", "/"+testWABA+"/phone_numbers?limit=4&after="+url.QueryEscape(after), nil)
	e.requireOK(r)
	require.Len(t, r.Body["data"], 1)
	require.NotContains(t, r.Body["paging"], "next")
	// Default list fields.
	require.ElementsMatch(t, defaultListFields, keys(r.Body["data"].([]any)[0].(map[string]any)))

	// A token in the query string is carried by next, as Meta does.
	r = e.doToken("", "GET", "/"+testWABA+"/phone_numbers?access_token="+DefaultToken, nil)
	e.requireOK(r)
	require.Contains(t, r.Body["paging"].(map[string]any)["next"], "access_token="+DefaultToken)

	e.requireErr(e.do("GET", "/"+testWABA+"/phone_numbers?limit=0", nil), 400, 100, 0)
	e.requireErr(e.do("GET", "/"+testWABA+"/phone_numbers?after=garbage!", nil), 400, 100, 0)
	e.requireErr(e.do("GET", "/"+testWABA+"/phone_numbers?fields=id,bogus", nil), 400, 100, 0)

	// An empty WABA has data but no paging.
	empty := e.sim.CreateWABA("")
	r = e.do("GET", "/"+empty+"/phone_numbers", nil)
	e.requireOK(r)
	require.Empty(t, r.Body["data"])
	require.NotContains(t, r.Body, "paging")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestGetPhoneNumberFields(t *testing.T) {
	e := newEnv(t)
	id := e.addNumber("5551234567")
	r := e.do("GET", "/"+id, nil)
	e.requireOK(r)
	require.ElementsMatch(t, []string{"id", "display_phone_number", "verified_name", "quality_rating"}, keys(r.Body))
	require.Contains(t, strings.NewReplacer(" ", "", "-", "", "+", "").Replace(r.Body["display_phone_number"].(string)), "15551234567")

	r = e.do("GET", "/"+id+"?fields=name_status,code_verification_status", nil)
	e.requireOK(r)
	require.Equal(t, map[string]any{"id": id, "name_status": "APPROVED", "code_verification_status": "NOT_VERIFIED"}, r.Body)

	r = e.do("GET", "/"+id+"?fields="+url.QueryEscape("id,display_phone_number,verified_name,code_verification_status,name_status,status,quality_rating,platform_type,account_mode,throughput"), nil)
	e.requireOK(r)
	require.Len(t, r.Body, 10)
	require.Equal(t, map[string]any{"level": "STANDARD"}, r.Body["throughput"])

	r = e.do("GET", "/"+id+"?fields=nope", nil)
	e.requireErr(r, 400, 100, 0)
	require.Contains(t, r.Body["error"].(map[string]any)["message"], "nonexisting field (nope)")
	e.requireErr(e.do("GET", "/77777", nil), 400, 100, 33)
}

func TestNameReview(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.NameReviewDelay = time.Hour })
	id := e.addNumber("5551234567")
	e.verify(id)
	n, _ := e.sim.Number(id)
	require.Equal(t, "PENDING_REVIEW", n.NameStatus)

	r := e.do("POST", "/"+id+"/register", register("123456"))
	e.requireErr(r, 400, 100, 2388001)
	require.Contains(t, r.Body["error"].(map[string]any)["message"], "Cannot Create Certificate")

	e.clock.Advance(time.Hour)
	r = e.do("GET", "/"+id+"?fields=name_status", nil)
	require.Equal(t, "APPROVED", r.Body["name_status"])
	e.requireOK(e.do("POST", "/"+id+"/register", register("123456")))
	require.Equal(t, 2, e.sim.RegisterCount(id), "the refused register counted too")

	id2 := e.addNumber("5551234568")
	require.NoError(t, e.sim.ApproveName(id2))
	n, _ = e.sim.Number(id2)
	require.Equal(t, "APPROVED", n.NameStatus)
	require.NoError(t, e.sim.SetNameStatus(id2, "DECLINED"))
	e.clock.Advance(2 * time.Hour)
	n, _ = e.sim.Number(id2)
	require.Equal(t, "DECLINED", n.NameStatus, "an explicit status does not change on its own")
	e.verify(id2)
	e.requireErr(e.do("POST", "/"+id2+"/register", register("123456")), 400, 100, 2388001)
	require.Error(t, e.sim.SetNameStatus(id2, "BOGUS"))
}

func TestCodeFlow(t *testing.T) {
	e := newEnv(t)
	id := e.addNumber("5551234567")
	path := "/" + id

	e.requireErr(e.do("POST", path+"/request_code", url.Values{"language": {"en_US"}}), 400, 100, 0)
	e.requireErr(e.do("POST", path+"/request_code", url.Values{"code_method": {"SMS"}}), 400, 100, 0)
	e.requireErr(e.do("POST", path+"/request_code", url.Values{"code_method": {"PIGEON"}, "language": {"en_US"}}), 400, 100, 0)
	e.requireErr(e.do("POST", "/31337/request_code", url.Values{"code_method": {"SMS"}, "language": {"en_US"}}), 400, 100, 33)

	// No code requested yet.
	e.requireErr(e.do("POST", path+"/verify_code", url.Values{"code": {"123456"}}), 400, 136025, 0)
	e.requireErr(e.do("POST", path+"/verify_code", url.Values{}), 400, 100, 0)

	r := e.do("POST", path+"/request_code", map[string]any{"code_method": "VOICE", "language": "fr_FR"})
	e.requireOK(r)
	require.Equal(t, true, r.Body["success"])
	sc, ok := e.sim.SentCode(id)
	require.True(t, ok)
	require.Regexp(t, `^[0-9]{6}$`, sc.Code)
	require.Equal(t, "VOICE", sc.Method)
	require.Equal(t, epoch.Add(DefaultCodeTTL), sc.ExpiresAt)

	wrong := "000000"
	if sc.Code == wrong {
		wrong = "111111"
	}
	r = e.do("POST", path+"/verify_code", url.Values{"code": {wrong}})
	e.requireErr(r, 400, 136025, 0)
	require.NotEmpty(t, r.errDetails())

	// Expired.
	e.clock.Advance(DefaultCodeTTL)
	r = e.do("POST", path+"/verify_code", url.Values{"code": {sc.Code}})
	e.requireErr(r, 400, 136025, 0)
	require.Contains(t, r.errDetails(), "expired")

	// A fresh code works, once.
	e.requireOK(e.do("POST", path+"/request_code", url.Values{"code_method": {"sms"}, "language": {"en_US"}}))
	code, _ := e.sim.LastCode(id)
	e.requireOK(e.do("POST", path+"/verify_code", url.Values{"code": {code}}))
	n, _ := e.sim.Number(id)
	require.Equal(t, "VERIFIED", n.CodeVerificationStatus)
	e.requireErr(e.do("POST", path+"/verify_code", url.Values{"code": {code}}), 400, 136025, 0)

	// The call log masks the code.
	for _, c := range e.sim.Calls() {
		if c.Endpoint == EndpointVerifyCode && c.Params["code"] != "" {
			require.Equal(t, masked, c.Params["code"])
		}
	}

	// The admin view shows it.
	e.requireOK(e.do("POST", path+"/request_code", url.Values{"code_method": {"SMS"}, "language": {"en_US"}}))
	code, _ = e.sim.LastCode(id)
	for _, p := range []string{"/_sim/codes/" + id, "/_sim/codes?number=" + url.QueryEscape("+1 555-123-4567")} {
		r = e.doToken("", "GET", e.srv.URL+p, nil)
		e.requireOK(r)
		require.Equal(t, code, r.Body["code"])
		require.Equal(t, "SMS", r.Body["method"])
		require.NotEmpty(t, r.Body["sent_at"])
		require.NotEmpty(t, r.Body["expires_at"])
	}
	r = e.doToken("", "GET", e.srv.URL+"/_sim/codes/1", nil)
	require.Equal(t, 404, r.Status)
}

func TestRequestCodeLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.CodeRequestLimit = 2 })
	id := e.addNumber("5551234567")
	req := url.Values{"code_method": {"SMS"}, "language": {"en_US"}}
	e.requireOK(e.do("POST", "/"+id+"/request_code", req))
	e.requireOK(e.do("POST", "/"+id+"/request_code", req))
	e.requireErr(e.do("POST", "/"+id+"/request_code", req), 400, 136024, 0)
	e.clock.Advance(time.Hour)
	e.requireOK(e.do("POST", "/"+id+"/request_code", req))
}

func TestRegister(t *testing.T) {
	e := newEnv(t)
	id := e.addNumber("5551234567")
	path := "/" + id + "/register"

	r := e.do("POST", path, register("123456"))
	e.requireErr(r, 400, 133006, 0)
	e.verify(id)

	e.requireErr(e.do("POST", path, map[string]any{"messaging_product": "sms", "pin": "123456"}), 400, 100, 0)
	e.requireErr(e.do("POST", path, map[string]any{"pin": "123456"}), 400, 100, 0)
	for _, pin := range []string{"12345", "1234567", "12345a", ""} {
		e.requireErr(e.do("POST", path, register(pin)), 400, 100, 0)
	}
	e.requireErr(e.do("POST", path, map[string]any{"messaging_product": "whatsapp"}), 400, 100, 0)
	e.requireErr(e.do("POST", path, map[string]any{"messaging_product": "whatsapp", "pin": "123456", "data_localization_region": "US"}), 400, 100, 0)
	e.requireErr(e.do("POST", path, map[string]any{"messaging_product": "whatsapp", "pin": "123456", "backup": map[string]any{"password": "x"}}), 400, 100, 0)

	require.Equal(t, 10, e.sim.RegisterCount(id), "every register request counted, refused ones too")
	e.clock.Advance(Window)

	e.requireOK(e.do("POST", path, map[string]any{"messaging_product": "whatsapp", "pin": "012345", "data_localization_region": "CH"}))
	n, _ := e.sim.Number(id)
	require.Equal(t, "CONNECTED", n.Status)
	require.Equal(t, "CLOUD_API", n.PlatformType)
	require.Equal(t, "CH", n.DataLocalizationRegion)
	require.Equal(t, "012345", n.PIN, "leading zero kept")

	// Later registers must match the PIN.
	r = e.do("POST", path, map[string]any{"messaging_product": "whatsapp", "pin": "999999", "data_localization_region": "CH"})
	e.requireErr(r, 400, 133005, 0)
	// Re-registering with the same region (a name change) is fine.
	e.requireOK(e.do("POST", path, map[string]any{"messaging_product": "whatsapp", "pin": "012345", "data_localization_region": "CH"}))

	// The region cannot change, be disabled or be enabled on a registered number.
	r = e.do("POST", path, map[string]any{"messaging_product": "whatsapp", "pin": "012345", "data_localization_region": "DE"})
	e.requireErr(r, 400, 100, 0)
	require.Contains(t, r.errDetails(), "deregister")
	r = e.do("POST", path, register("012345"))
	e.requireErr(r, 400, 100, 0)
	require.Contains(t, r.errDetails(), "deregister")

	require.Equal(t, 5, e.sim.RegisterCount(id))

	// Deregister, then register with a new region.
	r = e.do("POST", "/"+id+"/deregister", nil)
	e.requireOK(r)
	require.Equal(t, true, r.Body["success"])
	n, _ = e.sim.Number(id)
	require.Equal(t, "DISCONNECTED", n.Status)
	require.Empty(t, n.DataLocalizationRegion, "deregister turns local storage off")
	e.requireErr(e.do("POST", "/"+id+"/deregister", nil), 400, 100, 2207051)
	e.requireOK(e.do("POST", path, map[string]any{"messaging_product": "whatsapp", "pin": "012345", "data_localization_region": "DE"}))
	n, _ = e.sim.Number(id)
	require.Equal(t, "DE", n.DataLocalizationRegion)

	// The call log masks the PIN.
	for _, c := range e.sim.Calls() {
		if c.Endpoint == EndpointRegister && c.Params["pin"] != "" {
			require.Equal(t, masked, c.Params["pin"])
		}
	}
}

func TestSetPIN(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5551234567", Registered("111111", ""))
	require.NoError(t, err)
	e.requireErr(e.do("POST", "/"+id, map[string]any{"pin": "12"}), 400, 100, 0)
	e.requireErr(e.do("POST", "/"+id, map[string]any{}), 400, 100, 0)
	r := e.do("POST", "/"+id, map[string]any{"pin": "222222"})
	e.requireOK(r)
	require.Equal(t, true, r.Body["success"])
	e.requireErr(e.do("POST", "/"+id+"/register", register("111111")), 400, 133005, 0)
	e.requireOK(e.do("POST", "/"+id+"/register", register("222222")))
	e.requireOK(e.do("POST", "/"+id, url.Values{"pin": {"333333"}}))
	n, _ := e.sim.Number(id)
	require.Equal(t, "333333", n.PIN)
	require.Equal(t, masked, e.sim.Calls()[len(e.sim.Calls())-1].Params["pin"])
	require.Equal(t, EndpointSetPIN, e.sim.Calls()[len(e.sim.Calls())-1].Endpoint)
}

func TestRegisterWindow(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5551234567", Verified())
	require.NoError(t, err)
	path := "/" + id + "/register"

	for range WindowLimit {
		e.requireOK(e.do("POST", path, register("123456")))
		e.clock.Advance(time.Second)
	}
	require.Equal(t, 10, e.sim.RegisterCount(id))
	e.clock.Advance(time.Hour)
	blockedAt := e.clock.Now()
	r := e.do("POST", path, register("123456"))
	e.requireErr(r, 400, 133016, 0)
	require.Equal(t, "(#133016) Account register deregister rate limit exceeded", r.Body["error"].(map[string]any)["message"])
	require.NotEmpty(t, r.errDetails())

	// Deregister is counted apart and still allowed.
	e.requireOK(e.do("POST", "/"+id+"/deregister", nil))
	require.Equal(t, 1, e.sim.DeregisterCount(id))

	// At 71h59m after the block the first ten requests have left the
	// window, but the block holds for 72 hours from the 11th request.
	e.clock.Set(blockedAt.Add(71*time.Hour + 59*time.Minute))
	e.requireErr(e.do("POST", path, register("123456")), 400, 133016, 0)
	n, _ := e.sim.Number(id)
	require.Equal(t, blockedAt.Add(Window), n.RegisterBlockedUntil)

	e.clock.Set(blockedAt.Add(Window))
	e.requireOK(e.do("POST", path, register("123456")))
}

func TestDeregisterWindow(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5551234567", Registered("123456", ""))
	require.NoError(t, err)
	// Register and deregister alternate: 10 of each fit, neither counts for the other.
	for range WindowLimit {
		e.requireOK(e.do("POST", "/"+id+"/deregister", nil))
		e.requireOK(e.do("POST", "/"+id+"/register", register("123456")))
	}
	require.Equal(t, 10, e.sim.DeregisterCount(id))
	require.Equal(t, 10, e.sim.RegisterCount(id))
	e.requireErr(e.do("POST", "/"+id+"/deregister", nil), 400, 133016, 0)
	e.requireErr(e.do("POST", "/"+id+"/register", register("123456")), 400, 133016, 0)
	e.clock.Advance(Window)
	e.requireOK(e.do("POST", "/"+id+"/deregister", nil))
	e.requireOK(e.do("POST", "/"+id+"/register", register("123456")))
}

func TestFailedRequestsCount(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5551234567") // not verified
	require.NoError(t, err)
	for range WindowLimit {
		e.requireErr(e.do("POST", "/"+id+"/register", register("123456")), 400, 133006, 0)
	}
	e.requireErr(e.do("POST", "/"+id+"/register", register("123456")), 400, 133016, 0)
}

func TestDeletedNumber(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5551234567", Verified())
	require.NoError(t, err)
	require.NoError(t, e.sim.DeleteNumber(id))
	e.requireErr(e.do("POST", "/"+id+"/register", register("123456")), 400, 133015, 0)
	e.requireErr(e.do("GET", "/"+id, nil), 400, 100, 33)
	r := e.do("GET", "/"+testWABA+"/phone_numbers", nil)
	require.Empty(t, r.Body["data"])

	// Added again at once: a new ID, still 133015 until 5 minutes passed.
	id2 := e.addNumber("5551234567")
	require.NotEqual(t, id, id2)
	e.verify(id2)
	e.requireErr(e.do("POST", "/"+id2+"/register", register("123456")), 400, 133015, 0)
	e.clock.Advance(DeletedBlock)
	e.requireOK(e.do("POST", "/"+id2+"/register", register("123456")))
	e.requireErr(e.do("POST", "/"+id+"/register", register("123456")), 400, 100, 33)
	require.ErrorIs(t, e.sim.DeleteNumber(id), ErrNotFound)
}

func TestFaults(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5551234567", Verified())
	require.NoError(t, err)
	other, err := e.sim.SeedNumber(testWABA, "1", "5551234568", Verified())
	require.NoError(t, err)

	t.Run("500 and 503 without an envelope", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultStatus, Endpoint: EndpointGetPhoneNumber, Number: id, Times: 1}))
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultStatus, HTTPStatus: 503, Endpoint: EndpointGetPhoneNumber, Times: 1}))
		// The first fault is for id only, so the catch-all second one takes other.
		require.Equal(t, 503, e.do("GET", "/"+other, nil).Status)
		r := e.do("GET", "/"+id, nil)
		require.Equal(t, 500, r.Status)
		require.Nil(t, r.Body)
		require.Contains(t, r.Header.Get("Content-Type"), "text/plain")
		e.requireOK(e.do("GET", "/"+id, nil))
	})
	e.sim.ClearFaults()

	t.Run("503 with HTML", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultStatus, HTTPStatus: 503, Times: 1}))
		r := e.do("GET", "/"+id, nil)
		require.Equal(t, 503, r.Status)
		require.Contains(t, r.Header.Get("Content-Type"), "text/html")
		require.Contains(t, string(r.Raw), "<html>")
	})
	t.Run("throttle 4 with Retry-After", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultThrottle, Endpoint: EndpointRequestCode, Times: 1, RetryAfter: 90 * time.Second}))
		r := e.do("POST", "/"+id+"/request_code", url.Values{"code_method": {"SMS"}, "language": {"en_US"}})
		e.requireErr(r, 429, 4, 0)
		require.Equal(t, "90", r.Header.Get("Retry-After"))
		require.Equal(t, true, r.Body["error"].(map[string]any)["is_transient"])
	})
	t.Run("throttle 80007 with X-Business-Use-Case-Usage", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultThrottle, Code: 80007, Endpoint: EndpointListPhoneNumbers, Number: testWABA, Times: 1, RetryAfter: 30 * time.Minute}))
		r := e.do("GET", "/"+testWABA+"/phone_numbers", nil)
		e.requireErr(r, 429, 80007, 0)
		var usage map[string][]map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.Header.Get("X-Business-Use-Case-Usage")), &usage))
		require.EqualValues(t, 30, usage[testWABA][0]["estimated_time_to_regain_access"])
	})
	t.Run("throttle 80008 on a number keyed by its WABA", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultThrottle, Code: 80008, Endpoint: EndpointRegister, Times: 1, RetryAfter: 61 * time.Second}))
		r := e.do("POST", "/"+id+"/register", register("123456"))
		e.requireErr(r, 429, 80008, 0)
		var usage map[string][]map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.Header.Get("X-Business-Use-Case-Usage")), &usage))
		require.Len(t, usage[testWABA], 1, "keyed by the business object, as Meta's header is: %v", usage)
		require.Equal(t, "whatsapp_business_management", usage[testWABA][0]["type"])
		require.EqualValues(t, 2, usage[testWABA][0]["estimated_time_to_regain_access"], "minutes, rounded up")
	})
	t.Run("503 with Retry-After", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultStatus, HTTPStatus: 503, Times: 1, RetryAfter: 30 * time.Second}))
		r := e.do("GET", "/"+id, nil)
		require.Equal(t, 503, r.Status)
		require.Equal(t, "30", r.Header.Get("Retry-After"))
	})
	t.Run("malformed body", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultMalformed, Endpoint: EndpointVerifyCode, Times: 1}))
		r := e.do("POST", "/"+id+"/verify_code", url.Values{"code": {"123456"}})
		require.Equal(t, 200, r.Status)
		require.Error(t, json.Unmarshal(r.Raw, new(any)))
	})
	t.Run("error code for the next N calls", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultError, Endpoint: EndpointRegister, Number: id, Times: 2,
			Code: 133000, Details: "previous deregistration incomplete"}))
		for range 2 {
			r := e.do("POST", "/"+id+"/register", register("123456"))
			e.requireErr(r, 400, 133000, 0)
			require.Equal(t, "previous deregistration incomplete", r.errDetails())
		}
		require.Zero(t, e.sim.RegisterCount(id), "faults do not count unless Counted")
		e.requireOK(e.do("POST", "/"+id+"/register", register("123456")))
		require.Equal(t, 1, e.sim.RegisterCount(id))

		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultError, Endpoint: EndpointDeregister, Times: 1,
			Code: 2, HTTPStatus: 503, Counted: true}))
		e.requireErr(e.do("POST", "/"+id+"/deregister", nil), 503, 2, 0)
		require.Equal(t, 1, e.sim.DeregisterCount(id))
	})
	t.Run("until cleared, in order", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultError, Endpoint: EndpointGetPhoneNumber, Code: 1, Times: 1}))
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultError, Endpoint: EndpointGetPhoneNumber, Code: 131000}))
		e.requireErr(e.do("GET", "/"+id, nil), 500, 1, 0)
		for range 3 {
			e.requireErr(e.do("GET", "/"+id, nil), 400, 131000, 0)
		}
		require.Len(t, e.sim.Faults(), 1)
		e.sim.ClearFaults()
		e.requireOK(e.do("GET", "/"+id, nil))
	})
	t.Run("add_phone_number matched by the number's digits", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultError, Endpoint: EndpointAddPhoneNumber, Number: "15559990000", Code: 368, Times: 1}))
		e.addNumber("5559990001")
		e.requireErr(e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {"5559990000"}, "verified_name": {"X"}}), 400, 368, 0)
	})
	t.Run("hang until the client deadline", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultHang, Endpoint: EndpointGetPhoneNumber, Times: 1}))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", e.base+"/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+DefaultToken)
		start := time.Now()
		_, err := e.srv.Client().Do(req)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 5*time.Second)
		e.requireOK(e.do("GET", "/"+id, nil))
		calls := e.sim.Calls()
		var hung bool
		for _, c := range calls {
			hung = hung || c.Fault == string(FaultHang)
		}
		require.True(t, hung)
	})
	t.Run("bad faults", func(t *testing.T) {
		require.Error(t, e.sim.InjectFault(Fault{Kind: "boom"}))
		require.Error(t, e.sim.InjectFault(Fault{Kind: FaultError}))
		require.Error(t, e.sim.InjectFault(Fault{Kind: FaultHang, Endpoint: "nope"}))
	})
}

func TestHangReleasedByClose(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5551234567")
	require.NoError(t, err)
	require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultHang, Times: 1}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequest("GET", e.base+"/"+testWABA+"/phone_numbers", nil)
		req.Header.Set("Authorization", "Bearer "+DefaultToken)
		res, err := e.srv.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
	}()
	require.Eventually(t, func() bool { return len(e.sim.Calls()) == 1 }, 5*time.Second, 10*time.Millisecond)

	// While that request hangs, a Graph call that reads and writes state
	// still gets through: a hang holds no lock.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.base+"/"+id+"/request_code",
		strings.NewReader(url.Values{"code_method": {"SMS"}, "language": {"en_US"}}.Encode()))
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := e.srv.Client().Do(req)
	require.NoError(t, err, "a call made during a hang must not wait for it")
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	select {
	case <-done:
		t.Fatal("the hung request was answered before Close")
	default:
	}

	e.sim.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
}

func TestCallLog(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5551234567", Verified())
	require.NoError(t, err)
	e.requireOK(e.do("POST", "/"+id+"/register", map[string]any{"messaging_product": "whatsapp", "pin": "123456",
		"backup": map[string]any{"password": "secret", "data": "blob"}}))
	e.requireErr(e.do("POST", "/"+id+"/register", register("654321")), 400, 133005, 0)
	calls := e.sim.Calls()
	require.Len(t, calls, 2)
	c := calls[0]
	require.Equal(t, epoch, c.Time)
	require.Equal(t, "POST", c.Method)
	require.Equal(t, EndpointRegister, c.Endpoint)
	require.Equal(t, id, c.PhoneNumberID)
	require.Equal(t, 200, c.HTTPStatus)
	require.Equal(t, map[string]string{"messaging_product": "whatsapp", "pin": masked, "backup.password": masked, "backup.data": masked}, c.Params)
	require.Equal(t, 133005, calls[1].ErrorCode)
	require.Equal(t, 400, calls[1].HTTPStatus)

	r := e.doToken("", "GET", e.srv.URL+"/_sim/calls", nil)
	e.requireOK(r)
	require.Len(t, r.Body["data"], 2)
	require.NotContains(t, string(r.Raw), "123456")
	require.NotContains(t, string(r.Raw), "secret")
}

func TestAdminPaths(t *testing.T) {
	e := newEnv(t)
	admin := func(method, path string, body any) resp { return e.doToken("", method, e.srv.URL+path, body) }

	r := admin("GET", "/_sim/", nil)
	e.requireOK(r)
	require.NotEmpty(t, r.Body["paths"])

	r = admin("POST", "/_sim/wabas?id=300000000000003", nil)
	e.requireOK(r)
	require.Equal(t, "300000000000003", r.Body["id"])
	r = admin("GET", "/_sim/wabas", nil)
	require.ElementsMatch(t, []any{testWABA, "300000000000003"}, r.Body["data"])

	r = admin("POST", "/_sim/numbers", map[string]any{"waba_id": testWABA, "cc": "1", "phone_number": "5551234567",
		"registered": true, "pin": "987654", "region": "IN"})
	e.requireOK(r)
	id := r.Body["id"].(string)
	require.Equal(t, "CONNECTED", r.Body["status"])
	require.Equal(t, "IN", r.Body["data_localization_region"])
	require.NotContains(t, string(r.Raw), "987654")
	require.Equal(t, 400, admin("POST", "/_sim/numbers", map[string]any{"waba_id": "1", "cc": "1", "phone_number": "5551234567"}).Status)

	r = admin("GET", "/_sim/numbers", nil)
	require.Len(t, r.Body["data"], 1)
	e.requireOK(admin("GET", "/_sim/numbers/"+id, nil))
	require.Equal(t, 404, admin("GET", "/_sim/numbers/1", nil).Status)

	r = admin("POST", "/_sim/numbers/"+id+"/name?status=PENDING_REVIEW", nil)
	e.requireOK(r)
	require.Equal(t, "PENDING_REVIEW", r.Body["name_status"])
	e.requireOK(admin("POST", "/_sim/numbers/"+id+"/name", nil))
	n, _ := e.sim.Number(id)
	require.Equal(t, "APPROVED", n.NameStatus)

	e.requireOK(admin("POST", "/_sim/numbers/"+id+"/disable_two_step", nil))
	n, _ = e.sim.Number(id)
	require.False(t, n.TwoStepEnabled)

	r = admin("POST", "/_sim/preverified?cc=1&phone_number=5550001111", nil)
	e.requireOK(r)
	require.NotEmpty(t, r.Body["preverified_id"])
	require.Equal(t, 400, admin("POST", "/_sim/preverified?cc=1&phone_number=555-0001", nil).Status)
	require.Equal(t, 400, admin("POST", "/_sim/preverified?cc=0&phone_number=5550001111", nil).Status)
	require.Equal(t, 400, admin("POST", "/_sim/wabas?id=abc", nil).Status)

	r = admin("POST", "/_sim/faults", `{"kind":"throttle","endpoint":"get_phone_number","times":1,"retry_after":"2m"}`)
	e.requireOK(r)
	require.Len(t, admin("GET", "/_sim/faults", nil).Body["data"], 1)
	r = e.do("GET", "/"+id, nil)
	e.requireErr(r, 429, 4, 0)
	require.Equal(t, "120", r.Header.Get("Retry-After"))
	require.Equal(t, 400, admin("POST", "/_sim/faults", `{"kind":"nope"}`).Status)
	e.requireOK(admin("POST", "/_sim/faults", `{"kind":"error","code":1,"retry_after":5}`))
	e.requireOK(admin("DELETE", "/_sim/faults", nil))
	require.Empty(t, e.sim.Faults())

	e.requireOK(admin("POST", "/_sim/numbers/"+id+"/delete", nil))
	require.Equal(t, 404, admin("POST", "/_sim/numbers/"+id+"/delete", nil).Status)

	r = admin("POST", "/_sim/clock/advance?d=72h", nil)
	e.requireOK(r)
	require.Equal(t, epoch.Add(72*time.Hour), e.clock.Now())
	e.requireOK(admin("POST", "/_sim/clock/set?t=2027-01-01T00:00:00Z", nil))
	require.Equal(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), e.clock.Now().UTC())
	require.Equal(t, 400, admin("POST", "/_sim/clock/advance?d=soon", nil).Status)
	require.Equal(t, 404, admin("GET", "/_sim/nothing", nil).Status)

	// A wall clock cannot be moved.
	wall := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/_sim/clock/advance?d=1h", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	wall.ServeHTTP(rec, req)
	require.Equal(t, 404, rec.Code)

	// Off loopback, admin paths need the token.
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/_sim/numbers", nil)
	req.RemoteAddr = "10.1.2.3:5555"
	wall.ServeHTTP(rec, req)
	require.Equal(t, 401, rec.Code)
	rec = httptest.NewRecorder()
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	wall.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code)
}

func TestShiftedClock(t *testing.T) {
	c := NewShiftedClock()
	before := time.Now()
	c.Advance(72 * time.Hour)
	require.WithinDuration(t, before.Add(72*time.Hour), c.Now(), time.Minute)
	target := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(target)
	require.WithinDuration(t, target, c.Now(), time.Minute)
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	id, err := e.sim.SeedNumber(testWABA, "1", "5551234567", Registered("123456", ""))
	require.NoError(t, err)
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 10 {
				if i%2 == 0 {
					e.do("GET", "/"+id+"?fields=status", nil)
				} else {
					e.do("POST", "/"+id+"/register", register("123456"))
				}
				_ = e.sim.Calls()
			}
		}()
	}
	for range 8 {
		<-done
	}
	require.Len(t, e.sim.Calls(), 80)
	require.Equal(t, 40, e.sim.RegisterCount(id))
}
