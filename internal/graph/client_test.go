package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testToken = "EAAJBtestTOKENsecret0987"

// seen is one request as the fake server received it.
type seen struct {
	Method, Path, RawPath, RawQuery string
	Header                          http.Header
	Body                            []byte
}

// fake is a tiny scripted Graph stand-in: it records each request and answers
// with the next canned response. The behavioural simulator lives in
// internal/graphsim; this only checks what goes over the wire.
type fake struct {
	mu      sync.Mutex
	reqs    []seen
	answers []func(w http.ResponseWriter, r *http.Request)
	srv     *httptest.Server
}

func newFake(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) (*fake, *Client) {
	t.Helper()
	f := &fake{answers: answers}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.reqs)
		f.reqs = append(f.reqs, seen{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Header.Clone(), body})
		f.mu.Unlock()
		if n >= len(f.answers) {
			http.Error(w, "unexpected request", http.StatusTeapot)
			return
		}
		f.answers[n](w, r)
	}))
	t.Cleanup(f.srv.Close)
	c, err := New(testToken, WithBaseURL(f.srv.URL+"/v21.0/"), WithHTTPClient(f.srv.Client()))
	require.NoError(t, err)
	return f, c
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func reply(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

var ok = reply(200, `{"success":true}`)

// requireNoSecrets checks every rendering of err for the token and secrets.
func requireNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	require.Error(t, err)
	for _, s := range append(secrets, testToken) {
		for _, verb := range []string{"%v", "%+v", "%s", "%q"} {
			require.NotContains(t, fmt.Sprintf(verb, err), s, verb)
		}
	}
}

func requireCommonHeaders(t *testing.T, r seen) {
	t.Helper()
	require.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
	require.Equal(t, "application/json", r.Header.Get("Accept"))
	require.Equal(t, DefaultUserAgent, r.Header.Get("User-Agent"))
	require.NotContains(t, r.RawQuery, testToken)
}

func TestNew(t *testing.T) {
	_, err := New("")
	require.Error(t, err)
	_, err = New("  \n")
	require.Error(t, err)
	_, err = New("abc\r\nX-Evil: 1" + testToken)
	require.Error(t, err)
	require.NotContains(t, err.Error(), testToken)

	c, err := New(testToken)
	require.NoError(t, err)
	require.Equal(t, DefaultBaseURL, c.BaseURL())
	require.Equal(t, DefaultTimeout, c.hc.Timeout)
	require.Equal(t, DefaultUserAgent, c.userAgent)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		require.NotContains(t, fmt.Sprintf(verb, c), testToken, verb)
	}

	c, err = New(testToken, WithBaseURL("http://localhost:8080/v19.0///"), WithUserAgent("ua/2"), WithHTTPClient(nil))
	require.NoError(t, err)
	require.Equal(t, "http://localhost:8080/v19.0", c.BaseURL())
	require.Equal(t, "ua/2", c.userAgent)
	require.NotNil(t, c.hc)

	for _, bad := range []string{"graph.facebook.com/v21.0", "ftp://x/y", "http://u:p@x/v21.0", "http://x/v21.0?access_token=" + testToken, "::"} {
		_, err = New(testToken, WithBaseURL(bad))
		require.Error(t, err, bad)
		require.NotContains(t, err.Error(), testToken)
	}
}

func TestAddPhoneNumber(t *testing.T) {
	f, c := newFake(t, reply(200, `{"id":"106540352242922"}`), reply(200, `{"id":"2"}`))
	id, err := c.AddPhoneNumber(context.Background(), AddPhoneNumberRequest{
		WABAID: "102290129340398", CC: "1", PhoneNumber: "6505551234", VerifiedName: "Lucky Shrub",
	})
	require.NoError(t, err)
	require.Equal(t, "106540352242922", id)

	_, err = c.AddPhoneNumber(context.Background(), AddPhoneNumberRequest{
		WABAID: "102290129340398", CC: "44", PhoneNumber: "7700900123", VerifiedName: "Lucky Shrub & Co",
		MigratePhoneNumber: true, PreverifiedID: "998877",
	})
	require.NoError(t, err)

	reqs := f.requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/v21.0/102290129340398/phone_numbers", r.Path)
		require.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		requireCommonHeaders(t, r)
	}
	form, err := url.ParseQuery(string(reqs[0].Body))
	require.NoError(t, err)
	require.Equal(t, url.Values{"cc": {"1"}, "phone_number": {"6505551234"}, "verified_name": {"Lucky Shrub"}}, form)

	form, err = url.ParseQuery(string(reqs[1].Body))
	require.NoError(t, err)
	require.Equal(t, url.Values{
		"cc": {"44"}, "phone_number": {"7700900123"}, "verified_name": {"Lucky Shrub & Co"},
		"migrate_phone_number": {"true"}, "preverified_id": {"998877"},
	}, form)
}

func TestAddPhoneNumberAnswers(t *testing.T) {
	_, c := newFake(t,
		reply(200, `{}`),
		reply(400, envelope(2388012, 0, "OAuthException", "Phone number already exists", "", "tr")),
	)
	req := AddPhoneNumberRequest{WABAID: "1", CC: "1", PhoneNumber: "6505551234", VerifiedName: "Lucky Shrub"}
	_, err := c.AddPhoneNumber(context.Background(), req)
	require.Equal(t, ClassTransient, Classify(err))
	require.ErrorIs(t, err, ErrMalformedResponse)
	_, err = c.AddPhoneNumber(context.Background(), req)
	require.True(t, IsAlreadyExists(err))
}

func TestInvalidInputIsRefusedBeforeIO(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	good := AddPhoneNumberRequest{WABAID: "1", CC: "1", PhoneNumber: "6505551234", VerifiedName: "Lucky Shrub"}
	bad := []struct {
		name string
		call func() error
	}{
		{"empty waba", func() error { r := good; r.WABAID = ""; _, err := c.AddPhoneNumber(ctx, r); return err }},
		{"cc with plus", func() error { r := good; r.CC = "+1"; _, err := c.AddPhoneNumber(ctx, r); return err }},
		{"preverified id", func() error { r := good; r.PreverifiedID = "x/y"; _, err := c.AddPhoneNumber(ctx, r); return err }},
		{"slash in id", func() error { _, err := c.GetPhoneNumber(ctx, "12/34"); return err }},
		{"dot-dot id", func() error { _, err := c.GetPhoneNumber(ctx, ".."); return err }},
		{"negative limit", func() error { _, err := c.ListPhoneNumbers(ctx, "1", ListOptions{Limit: -1}); return err }},
		{"find bad number", func() error { _, err := c.FindPhoneNumber(ctx, "1", "1", "650-555"); return err }},
		{"method", func() error { return c.RequestCode(ctx, "1", "EMAIL", "en_US") }},
		{"language", func() error { return c.RequestCode(ctx, "1", CodeMethodSMS, "english") }},
		{"empty code", func() error { return c.VerifyCode(ctx, "1", "") }},
		{"code with dash", func() error { return c.VerifyCode(ctx, "1", "123-456") }},
		{"seven-digit code", func() error { return c.VerifyCode(ctx, "1", "1234567") }},
		{"short PIN", func() error { return c.Register(ctx, "1", RegisterRequest{PIN: "12345"}) }},
		{"PIN as letters", func() error { return c.Register(ctx, "1", RegisterRequest{PIN: "12345a"}) }},
		{"region", func() error {
			return c.Register(ctx, "1", RegisterRequest{PIN: "012345", DataLocalizationRegion: "FR"})
		}},
		{"backup without data", func() error {
			return c.Register(ctx, "1", RegisterRequest{PIN: "012345", Backup: &Backup{Password: "pw"}})
		}},
		{"deregister empty id", func() error { return c.Deregister(ctx, "") }},
		{"set PIN", func() error { return c.SetTwoStepPIN(ctx, "1", "1234567") }},
	}
	for _, b := range bad {
		err := b.call()
		require.Error(t, err, b.name)
		require.Equal(t, ClassPermanent, Classify(err), b.name)
		var ge *Error
		require.ErrorAs(t, err, &ge)
		require.False(t, ge.HasEnvelope)
	}
	require.Empty(t, f.requests(), "invalid input must not reach the network")
}

func TestRequestAndVerifyCode(t *testing.T) {
	f, c := newFake(t, ok, ok)
	require.NoError(t, c.RequestCode(context.Background(), "106540352242922", CodeMethodVoice, "pt_BR"))
	require.NoError(t, c.VerifyCode(context.Background(), "106540352242922", "012345"))
	reqs := f.requests()
	require.Equal(t, "/v21.0/106540352242922/request_code", reqs[0].Path)
	require.Equal(t, "code_method=VOICE&language=pt_BR", string(reqs[0].Body))
	require.Equal(t, "/v21.0/106540352242922/verify_code", reqs[1].Path)
	require.Equal(t, "code=012345", string(reqs[1].Body))
	for _, r := range reqs {
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		requireCommonHeaders(t, r)
	}
}

func TestRegister(t *testing.T) {
	f, c := newFake(t, ok, ok)
	require.NoError(t, c.Register(context.Background(), "106540352242922", RegisterRequest{PIN: "012345"}))
	require.NoError(t, c.Register(context.Background(), "106540352242922", RegisterRequest{
		PIN: "000000", DataLocalizationRegion: "CH", Backup: &Backup{Password: "pw", Data: "blob"},
	}))
	reqs := f.requests()
	for _, r := range reqs {
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/v21.0/106540352242922/register", r.Path)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		requireCommonHeaders(t, r)
	}
	// The PIN stays a JSON string so its leading zero survives.
	require.JSONEq(t, `{"messaging_product":"whatsapp","pin":"012345"}`, string(reqs[0].Body))
	require.JSONEq(t, `{"messaging_product":"whatsapp","pin":"000000","data_localization_region":"CH",
		"backup":{"password":"pw","data":"blob"}}`, string(reqs[1].Body))
}

func TestDeregisterAndSetPIN(t *testing.T) {
	f, c := newFake(t, ok, ok)
	require.NoError(t, c.Deregister(context.Background(), "42"))
	require.NoError(t, c.SetTwoStepPIN(context.Background(), "42", "001234"))
	reqs := f.requests()
	require.Equal(t, "/v21.0/42/deregister", reqs[0].Path)
	require.Empty(t, reqs[0].Body)
	require.Equal(t, "/v21.0/42", reqs[1].Path)
	require.Equal(t, "application/json", reqs[1].Header.Get("Content-Type"))
	require.JSONEq(t, `{"pin":"001234"}`, string(reqs[1].Body))
	for _, r := range reqs {
		require.Equal(t, http.MethodPost, r.Method)
		requireCommonHeaders(t, r)
	}
}

func TestSuccessFalse(t *testing.T) {
	_, c := newFake(t, reply(200, `{"success":false}`), reply(200, `{}`), reply(200, `{"success":"yes"}`))
	for _, want := range []error{ErrNoSuccess, ErrNoSuccess, ErrMalformedResponse} {
		err := c.Deregister(context.Background(), "42")
		require.ErrorIs(t, err, want)
		var ge *Error
		require.ErrorAs(t, err, &ge)
		require.False(t, ge.HasEnvelope)
		require.Equal(t, OpDeregister, ge.Op)
		if want == ErrNoSuccess {
			require.Equal(t, ClassPermanent, ge.Class())
		} else {
			require.Equal(t, ClassTransient, ge.Class())
		}
	}
}

func TestGetPhoneNumber(t *testing.T) {
	f, c := newFake(t,
		reply(200, `{"id":"42","display_phone_number":"+1 650-555-1234","verified_name":"Lucky Shrub",
			"code_verification_status":"VERIFIED","name_status":"APPROVED","status":"CONNECTED","throughput":{"level":"STANDARD"}}`),
		reply(200, `{"id":"42"}`),
	)
	p, err := c.GetPhoneNumber(context.Background(), "42")
	require.NoError(t, err)
	require.Equal(t, &PhoneNumber{ID: "42", DisplayPhoneNumber: "+1 650-555-1234", VerifiedName: "Lucky Shrub",
		CodeVerificationStatus: CodeVerified, NameStatus: NameApproved, Status: StatusConnected,
		Throughput: &Throughput{Level: "STANDARD"}}, p)
	_, err = c.GetPhoneNumber(context.Background(), "42", "id", "name_status")
	require.NoError(t, err)

	reqs := f.requests()
	require.Equal(t, http.MethodGet, reqs[0].Method)
	require.Equal(t, "/v21.0/42", reqs[0].Path)
	require.Equal(t, strings.Join(DefaultPhoneNumberFields, ","), mustQuery(t, reqs[0].RawQuery).Get("fields"))
	require.Equal(t, "id,name_status", mustQuery(t, reqs[1].RawQuery).Get("fields"))
	require.Empty(t, reqs[0].Header.Get("Content-Type"))
	requireCommonHeaders(t, reqs[0])
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	require.NoError(t, err)
	return q
}

// pages answers a three-page listing keyed by the after cursor.
func pages(w http.ResponseWriter, r *http.Request) {
	var body string
	switch r.URL.Query().Get("after") {
	case "":
		body = `{"data":[{"id":"1","display_phone_number":"+1 650-555-0001"}],"paging":{"cursors":{"before":"a","after":"c1"},"next":"https://graph.facebook.com/v21.0/9/phone_numbers?after=c1"}}`
	case "c1":
		body = `{"data":[{"id":"2","display_phone_number":"+44 7700 900123"},{"id":"3","display_phone_number":"+1 (650) 555-0003"}],"paging":{"cursors":{"before":"c1","after":"c2"},"next":"https://graph.facebook.com/v21.0/9/phone_numbers?after=c2"}}`
	case "c2":
		body = `{"data":[{"id":"4","display_phone_number":"+353 1 555 0004"}],"paging":{"cursors":{"before":"c2","after":"c3"}}}`
	default:
		http.Error(w, "bad cursor", http.StatusBadRequest)
		return
	}
	io.WriteString(w, body)
}

func TestAllPhoneNumbersPaging(t *testing.T) {
	f, c := newFake(t, pages, pages, pages)
	all, err := c.AllPhoneNumbers(context.Background(), "9", "id", "display_phone_number")
	require.NoError(t, err)
	ids := make([]string, 0, len(all))
	for _, p := range all {
		ids = append(ids, p.ID)
	}
	require.Equal(t, []string{"1", "2", "3", "4"}, ids)
	reqs := f.requests()
	require.Len(t, reqs, 3)
	for i, after := range []string{"", "c1", "c2"} {
		q := mustQuery(t, reqs[i].RawQuery)
		require.Equal(t, after, q.Get("after"))
		require.Equal(t, "id,display_phone_number", q.Get("fields"))
		require.Equal(t, "/v21.0/9/phone_numbers", reqs[i].Path)
		requireCommonHeaders(t, reqs[i])
	}
}

func TestListPhoneNumbersQuery(t *testing.T) {
	f, c := newFake(t, reply(200, `{"data":[]}`))
	page, err := c.ListPhoneNumbers(context.Background(), "9", ListOptions{Limit: 50, After: "QVFIU=="})
	require.NoError(t, err)
	require.Empty(t, page.Data)
	require.Nil(t, page.Paging)
	q := mustQuery(t, f.requests()[0].RawQuery)
	require.Equal(t, "50", q.Get("limit"))
	require.Equal(t, "QVFIU==", q.Get("after"))
	require.Equal(t, strings.Join(DefaultPhoneNumberFields, ","), q.Get("fields"))
}

func TestFindPhoneNumber(t *testing.T) {
	f, c := newFake(t, pages, pages, pages, pages, pages, pages, pages)
	p, err := c.FindPhoneNumber(context.Background(), "9", "1", "6505550003")
	require.NoError(t, err)
	require.NotNil(t, p)
	require.Equal(t, "3", p.ID)
	reqs := f.requests()
	require.Len(t, reqs, 2, "stops at the page that holds the number")
	for _, r := range reqs {
		q := mustQuery(t, r.RawQuery)
		require.Equal(t, "id,display_phone_number", q.Get("fields"))
		require.Equal(t, "100", q.Get("limit"))
	}

	var progress []string
	p, err = c.FindPhoneNumberFrom(context.Background(), "9", "44", "6505550003",
		FindOptions{Progress: func(after string) { progress = append(progress, after) }})
	require.NoError(t, err)
	require.Nil(t, p)
	require.Equal(t, []string{"c1", "c2"}, progress)

	// Resuming after c1 reads only the pages after it.
	p, err = c.FindPhoneNumberFrom(context.Background(), "9", "353", "15550004", FindOptions{After: "c1"})
	require.NoError(t, err)
	require.Equal(t, "4", p.ID)
	reqs = f.requests()
	require.Len(t, reqs, 7)
	require.Equal(t, "c1", mustQuery(t, reqs[5].RawQuery).Get("after"))
	require.Equal(t, "c2", mustQuery(t, reqs[6].RawQuery).Get("after"))
}

func TestFindPhoneNumberCursorLoop(t *testing.T) {
	loop := reply(200, `{"data":[{"id":"1"}],"paging":{"cursors":{"after":"same"},"next":"https://x/next"}}`)
	f, c := newFake(t, loop, loop, loop)
	_, err := c.FindPhoneNumberFrom(context.Background(), "9", "1", "6505550003", FindOptions{After: "same"})
	require.ErrorIs(t, err, ErrCursorLoop)
	require.Len(t, f.requests(), 1)
}

func TestAllPhoneNumbersCursorLoop(t *testing.T) {
	loop := reply(200, `{"data":[{"id":"1"}],"paging":{"cursors":{"after":"same"},"next":"https://x/next"}}`)
	f, c := newFake(t, loop, loop, loop, loop)
	_, err := c.AllPhoneNumbers(context.Background(), "9")
	require.ErrorIs(t, err, ErrCursorLoop)
	require.Len(t, f.requests(), 2)
}

func TestContextDeadline(t *testing.T) {
	release := make(chan struct{})
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Register(ctx, "42", RegisterRequest{PIN: "012345"})
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, ClassTransient, Classify(err))
	require.True(t, IsTransient(err))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var ge *Error
	require.ErrorAs(t, err, &ge)
	require.Zero(t, ge.HTTPStatus)
	require.Equal(t, OpRegister, ge.Op)
	requireNoSecrets(t, err, "012345")
}

func TestServerFailures(t *testing.T) {
	huge := strings.Repeat("x", MaxBodyBytes+10)
	_, c := newFake(t,
		reply(500, "Internal Server Error"),
		reply(200, `{"success":tr`),
		reply(200, "<html>ok</html>"),
		reply(200, `{"data":[`),
		reply(200, `{"success":true,"pad":"`+huge+`"}`),
		func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "90")
			w.WriteHeader(429)
		},
	)
	ctx := context.Background()
	err := c.Deregister(ctx, "42")
	require.Equal(t, ClassTransient, Classify(err))
	require.Contains(t, err.Error(), "HTTP 500")

	err = c.Register(ctx, "42", RegisterRequest{PIN: "012345"})
	require.Equal(t, ClassTransient, Classify(err))
	require.ErrorIs(t, err, ErrMalformedResponse)
	requireNoSecrets(t, err, "012345")

	_, err = c.GetPhoneNumber(ctx, "42")
	require.Equal(t, ClassTransient, Classify(err))
	_, err = c.ListPhoneNumbers(ctx, "9", ListOptions{})
	require.Equal(t, ClassTransient, Classify(err))

	err = c.SetTwoStepPIN(ctx, "42", "000111")
	require.ErrorIs(t, err, ErrMalformedResponse)
	require.Equal(t, ClassTransient, Classify(err))

	err = c.Deregister(ctx, "42")
	require.True(t, IsThrottled(err))
	var ge *Error
	require.ErrorAs(t, err, &ge)
	require.Equal(t, 90*time.Second, ge.RetryAfter)
}

func TestEnvelopesThroughClient(t *testing.T) {
	_, c := newFake(t,
		reply(400, envelope(133016, 0, "OAuthException", "(#133016) rate limit", "Try again in 72 hours", "tr1")),
		reply(400, envelope(100, 2388001, "OAuthException", "Invalid parameter", "", "tr2")),
		reply(400, envelope(136025, 0, "OAuthException", "(#136025) Verify code error", "", "")),
		reply(401, envelope(190, 0, "OAuthException", "Invalid OAuth access token", "", "")),
	)
	ctx := context.Background()
	err := c.Register(ctx, "42", RegisterRequest{PIN: "654321"})
	require.True(t, IsWindowExhausted(err))
	require.Equal(t, "graph register: code 133016 (OAuthException) HTTP 400: (#133016) rate limit: Try again in 72 hours [fbtrace_id=tr1]", err.Error())
	err = c.Register(ctx, "42", RegisterRequest{PIN: "654321"})
	require.True(t, IsNameNotReady(err))
	err = c.VerifyCode(ctx, "42", "123456")
	require.True(t, IsWrongCode(err))
	_, err = c.GetPhoneNumber(ctx, "42")
	require.True(t, IsPermanent(err))
}

// A proxy or a future message format could echo what it was sent; nothing
// of it may reach an error string.
func TestSecretsAreRedacted(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg, _ := json.Marshal(fmt.Sprintf("bad request %s auth=%s", body, r.Header.Get("Authorization")))
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"message":%s,"code":100,"error_data":{"details":%s},"error_user_msg":%s,"fbtrace_id":"x"}}`, msg, msg, msg)
	}
	_, c := newFake(t, echo, echo, echo,
		reply(502, "upstream said: Bearer "+testToken+" pin 013579"))
	ctx := context.Background()
	err := c.Register(ctx, "42", RegisterRequest{PIN: "013579", Backup: &Backup{Password: "hunter2pw", Data: "d"}})
	requireNoSecrets(t, err, "013579", "hunter2pw")
	require.Contains(t, err.Error(), redacted)
	err = c.SetTwoStepPIN(ctx, "42", "024680")
	requireNoSecrets(t, err, "024680")
	err = c.VerifyCode(ctx, "42", "112233")
	requireNoSecrets(t, err, "112233")
	err = c.Register(ctx, "42", RegisterRequest{PIN: "013579"})
	requireNoSecrets(t, err, "013579")
	require.True(t, IsTransient(err))
}

func TestTransportErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, err := New(testToken, WithBaseURL(base))
	require.NoError(t, err)
	err = c.Register(context.Background(), "42", RegisterRequest{PIN: "012345"})
	require.True(t, IsTransient(err))
	requireNoSecrets(t, err, "012345")
	var ge *Error
	require.True(t, errors.As(err, &ge))
	require.NotNil(t, ge.Unwrap())
}

func TestGetSettings(t *testing.T) {
	f, c := newFake(t,
		reply(200, `{"calling":{"status":"disabled"},"payload_encryption":{"status":"disabled"},"storage_configuration":{"status":"in_country_storage_enabled","data_localization_region":"us"}}`),
		reply(200, `{"calling":{"status":"enabled"},"storage_configuration":{"status":"default"}}`),
		reply(200, `{"calling":{"status":"enabled"}}`),
		reply(400, envelope(100, 33, "GraphMethodException", "Unsupported get request.", "", "")),
	)
	ctx := context.Background()
	s, err := c.GetSettings(ctx, "42")
	require.NoError(t, err)
	require.Equal(t, StorageInCountry, s.StorageConfiguration.Status)
	require.Equal(t, "US", s.Region(), "Meta's example writes the region in lower case")
	r := f.requests()[0]
	require.Equal(t, "GET", r.Method)
	require.Equal(t, "/v21.0/42/settings", r.Path)
	require.Empty(t, r.RawQuery)
	requireCommonHeaders(t, r)

	s, err = c.GetSettings(ctx, "42")
	require.NoError(t, err)
	require.Empty(t, s.Region())

	_, err = c.GetSettings(ctx, "42")
	require.ErrorIs(t, err, ErrMalformedResponse)
	_, err = c.GetSettings(ctx, "42")
	require.True(t, IsUnknownObject(err), "100/33: Meta does not know the number")
	require.False(t, IsPermanent(err))

	_, err = c.GetSettings(ctx, "4x2")
	require.Error(t, err)
	require.Len(t, f.requests(), 4, "a bad id is refused before any I/O")
	require.Empty(t, (*PhoneNumberSettings)(nil).Region())
}
