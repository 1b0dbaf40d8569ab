package webhooks

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wa-onboarding/onboarding/onboarding"
)

var (
	testSecret      = []byte("app-secret-for-tests")
	testVerifyToken = "verify-token-for-tests"
)

type nameCall struct {
	workflowID string
	in         onboarding.NameUpdateInput
}

type wabaCall struct {
	wabaID string
	in     onboarding.WABAUpdateInput
}

// fakeMessenger records what the handler passes on; err, when set, is
// returned (and cleared) by the next call.
type fakeMessenger struct {
	mu    sync.Mutex
	names []nameCall
	wabas []wabaCall
	err   error
	runs  int // what WABAUpdate reports
}

func (f *fakeMessenger) NameUpdate(_ context.Context, id string, in onboarding.NameUpdateInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.err; err != nil {
		f.err = nil
		return err
	}
	f.names = append(f.names, nameCall{id, in})
	return nil
}

func (f *fakeMessenger) WABAUpdate(_ context.Context, id string, in onboarding.WABAUpdateInput) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.err; err != nil {
		f.err = nil
		return 0, err
	}
	f.wabas = append(f.wabas, wabaCall{id, in})
	return f.runs, nil
}

func (f *fakeMessenger) calls() ([]nameCall, []wabaCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]nameCall(nil), f.names...), append([]wabaCall(nil), f.wabas...)
}

func newTestHandler(t *testing.T, m Messenger, logs io.Writer) *Handler {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	h, err := New(Config{AppSecret: testSecret, VerifyToken: testVerifyToken, Messenger: m,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MaxBodyBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func post(h http.Handler, body []byte, sig string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if sig != "" {
		r.Header.Set(SignatureHeader, sig)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func signed(h http.Handler, body []byte) *httptest.ResponseRecorder {
	return post(h, body, SignatureValue(testSecret, body))
}

func nameBody(t int64, number, decision, reason string) []byte {
	r := "null"
	if reason != "" {
		r = `"` + reason + `"`
	}
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"100000000000001","time":%d,`+
		`"changes":[{"field":"phone_number_name_update","value":{"display_phone_number":%q,"decision":%q,`+
		`"requested_verified_name":"Acme Support","rejection_reason":%s}}]}]}`, t, number, decision, r))
}

func accountBody(t int64, entryID, value string) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"time":%d,`+
		`"changes":[{"field":"account_update","value":%s}]}]}`, entryID, t, value))
}

func TestHandshake(t *testing.T) {
	h := newTestHandler(t, &fakeMessenger{}, nil)
	get := func(h http.Handler, q url.Values) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Path+"?"+q.Encode(), nil))
		return w
	}
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {testVerifyToken}, "hub.challenge": {"1158201444"}}
	w := get(h, q)
	if w.Code != http.StatusOK || w.Body.String() != "1158201444" {
		t.Fatalf("good handshake: %d %q, want 200 with the challenge", w.Code, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
	for name, mutate := range map[string]func(url.Values){
		"wrong token":        func(q url.Values) { q.Set("hub.verify_token", testVerifyToken+"x") },
		"token prefix":       func(q url.Values) { q.Set("hub.verify_token", testVerifyToken[:5]) },
		"no token":           func(q url.Values) { q.Del("hub.verify_token") },
		"wrong mode":         func(q url.Values) { q.Set("hub.mode", "unsubscribe") },
		"no challenge":       func(q url.Values) { q.Del("hub.challenge") },
		"oversize challenge": func(q url.Values) { q.Set("hub.challenge", strings.Repeat("9", maxChallenge+1)) },
	} {
		bad := url.Values{}
		for k, v := range q {
			bad[k] = append([]string(nil), v...)
		}
		mutate(bad)
		if w := get(h, bad); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), "1158201444") {
			t.Errorf("%s: %d %q, want 403 without the challenge", name, w.Code, w.Body.String())
		}
	}
	// Without a configured token nothing may subscribe, not even an empty token.
	noToken, err := New(Config{AppSecret: testSecret, Messenger: &fakeMessenger{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	empty := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {""}, "hub.challenge": {"1"}}
	if w := get(noToken, empty); w.Code != http.StatusForbidden {
		t.Errorf("handshake with no verify token configured: %d, want 403", w.Code)
	}
}

func TestNameUpdateSigned(t *testing.T) {
	m := &fakeMessenger{}
	h := newTestHandler(t, m, nil)
	const when = 1739321024
	for _, number := range []string{"15550783881", "+1 555-078-3881"} {
		m.names = nil
		w := signed(h, nameBody(when, number, "REJECTED", "NAME_FORMAT_UNACCEPTABLE"))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d %q, want 200", number, w.Code, w.Body.String())
		}
		names, _ := m.calls()
		if len(names) != 1 {
			t.Fatalf("%s: %d name updates passed on, want 1", number, len(names))
		}
		got := names[0]
		if got.workflowID != "whatsapp-number-+15550783881" {
			t.Errorf("%s: workflow ID %q", number, got.workflowID)
		}
		if got.in.Decision != onboarding.NameDecisionRejected || got.in.Reason != "NAME_FORMAT_UNACCEPTABLE" ||
			got.in.RequestedName != "Acme Support" || !got.in.EventTime.Equal(time.Unix(when, 0)) || got.in.EventID == "" {
			t.Errorf("%s: input %+v", number, got.in)
		}
	}
	// The two bodies differ (number formatting), so both went through and
	// carry different event IDs.
	if a, b := nameBody(when, "15550783881", "APPROVED", ""), nameBody(when, "+1 555-078-3881", "APPROVED", ""); bytes.Equal(a, b) {
		t.Fatal("test bodies should differ")
	}
}

func TestRefusedDeliveriesAreNotProcessed(t *testing.T) {
	body := nameBody(1739321024, "15550783881", "APPROVED", "")
	good := SignatureValue(testSecret, body)
	tampered := bytes.Replace(body, []byte("APPROVED"), []byte("REJECTED"), 1)
	for _, tc := range []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"unsigned", body, "", http.StatusUnauthorized},
		{"sha1 signature", body, "sha1=" + good[len("sha256="):][:40], http.StatusUnauthorized},
		{"no prefix", body, good[len("sha256="):], http.StatusUnauthorized},
		{"not hex", body, "sha256=" + strings.Repeat("zz", 32), http.StatusUnauthorized},
		{"short", body, good[:len(good)-2], http.StatusUnauthorized},
		{"other secret", body, SignatureValue([]byte("another secret"), body), http.StatusForbidden},
		{"body changed after signing", tampered, good, http.StatusForbidden},
		{"signature of an empty body", body, SignatureValue(testSecret, nil), http.StatusForbidden},
		{"too large", append(body, bytes.Repeat([]byte(" "), 5000)...), "", http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &fakeMessenger{}
			var logs bytes.Buffer
			h := newTestHandler(t, m, &logs)
			sig := tc.sig
			if tc.want == http.StatusRequestEntityTooLarge {
				sig = SignatureValue(testSecret, tc.body)
			}
			w := post(h, tc.body, sig)
			if w.Code != tc.want {
				t.Fatalf("status %d %q, want %d", w.Code, w.Body.String(), tc.want)
			}
			if names, wabas := m.calls(); len(names)+len(wabas) != 0 {
				t.Fatalf("refused delivery was passed on: %v %v", names, wabas)
			}
			if !strings.Contains(logs.String(), "webhook refused") {
				t.Errorf("refusal not logged: %s", logs.String())
			}
			if sig != "" && strings.Contains(logs.String(), sig[len(sig)-16:]) {
				t.Errorf("log holds the signature: %s", logs.String())
			}
		})
	}
}

func TestMalformedSignedPayloads(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"not JSON", `{"object":`, http.StatusBadRequest},
		{"other object", `{"object":"page","entry":[]}`, http.StatusBadRequest},
		{"entry not a list", `{"object":"whatsapp_business_account","entry":{}}`, http.StatusBadRequest},
		{"bad number", string(nameBody(1, "not a number", "APPROVED", "")), http.StatusOK},
		{"unknown decision", string(nameBody(1, "15550783881", "MAYBE", "")), http.StatusOK},
		{"value of the wrong type", `{"object":"whatsapp_business_account","entry":[{"id":"1","time":1,"changes":[{"field":"phone_number_name_update","value":"APPROVED"}]}]}`, http.StatusOK},
		{"non-numeric WABA", string(accountBody(1, "1; DROP", `{"event":"ACCOUNT_DELETED"}`)), http.StatusOK},
		{"field of no interest", `{"object":"whatsapp_business_account","entry":[{"id":"1","time":1,"changes":[{"field":"messages","value":{"messages":[]}}]}]}`, http.StatusOK},
		{"event of no interest", string(accountBody(1, "100000000000001", `{"event":"VERIFIED_ACCOUNT"}`)), http.StatusOK},
		{"ban only scheduled", string(accountBody(1, "100000000000001", `{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"SCHEDULE_FOR_DISABLE"}}`)), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &fakeMessenger{}
			var logs bytes.Buffer
			h := newTestHandler(t, m, &logs)
			w := signed(h, []byte(tc.body))
			if w.Code != tc.want {
				t.Fatalf("status %d %q, want %d", w.Code, w.Body.String(), tc.want)
			}
			if names, wabas := m.calls(); len(names)+len(wabas) != 0 {
				t.Fatalf("passed on: %v %v", names, wabas)
			}
			if tc.want == http.StatusOK && !strings.Contains(logs.String(), "ignored") {
				t.Errorf("ignored event not logged: %s", logs.String())
			}
		})
	}
}

func TestReplayedAndReorderedDeliveries(t *testing.T) {
	m := &fakeMessenger{}
	h := newTestHandler(t, m, nil)
	newer := nameBody(2000, "15550783881", "APPROVED", "")
	older := nameBody(1000, "15550783881", "REJECTED", "NAME_NOT_CONSISTENT")
	for i, body := range [][]byte{newer, newer, older, newer} {
		if w := signed(h, body); w.Code != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i, w.Code)
		}
	}
	names, _ := m.calls()
	// The repeated newer body is passed on once; the older one is passed
	// on with its own, older, time so that the run can ignore it.
	if len(names) != 2 {
		t.Fatalf("%d name updates passed on, want 2: %+v", len(names), names)
	}
	if names[0].in.Decision != "APPROVED" || names[1].in.Decision != "REJECTED" {
		t.Fatalf("order %+v", names)
	}
	if !names[1].in.EventTime.Before(names[0].in.EventTime) {
		t.Errorf("the stale event's time %v is not before the newer %v", names[1].in.EventTime, names[0].in.EventTime)
	}
	if names[0].in.EventID == names[1].in.EventID {
		t.Errorf("two events share the ID %s", names[0].in.EventID)
	}
}

func TestDedupeIsBounded(t *testing.T) {
	m := &fakeMessenger{}
	h, err := New(Config{AppSecret: testSecret, Messenger: m, DedupeSize: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range []int64{1, 2, 3, 1} { // 1 was forgotten when 3 came
		signed(h, nameBody(ts, "15550783881", "APPROVED", ""))
	}
	if names, _ := m.calls(); len(names) != 4 {
		t.Fatalf("%d passed on, want 4 (the cache holds 2)", len(names))
	}
	if len(h.seen.set) != 2 {
		t.Errorf("cache holds %d keys, want 2", len(h.seen.set))
	}
}

func TestTemporalFailureAsksMetaToRetry(t *testing.T) {
	m := &fakeMessenger{err: errors.New("context deadline exceeded")}
	h := newTestHandler(t, m, nil)
	body := nameBody(1739321024, "15550783881", "APPROVED", "")
	if w := signed(h, body); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("first delivery: %d, want 503", w.Code)
	}
	if w := signed(h, body); w.Code != http.StatusOK {
		t.Fatalf("second delivery: %d, want 200", w.Code)
	}
	if names, _ := m.calls(); len(names) != 1 {
		t.Fatalf("%d passed on, want 1 (the failed one was not remembered as done)", len(names))
	}
}

func TestUnknownNumberIsNotAnError(t *testing.T) {
	m := &fakeMessenger{err: fmt.Errorf("whatsapp-number-+15550783881: %w", ErrNoRun)}
	var logs bytes.Buffer
	h := newTestHandler(t, m, &logs)
	if w := signed(h, nameBody(1, "15550783881", "APPROVED", "")); w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", w.Code)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "no run owns") {
		t.Errorf("unknown number not logged as a warning: %s", logs.String())
	}
}

func TestAccountUpdates(t *testing.T) {
	for _, tc := range []struct {
		name, entryID, value    string
		wantWABA, wantState     string
		wantEvent, wantBanState string
	}{
		{"deleted", "100000000000001", `{"event":"ACCOUNT_DELETED"}`, "100000000000001", onboarding.WABAStateUnusable, "ACCOUNT_DELETED", ""},
		{"disabled", "100000000000001", `{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"DISABLE","waba_ban_date":"2025-01-01"}}`, "100000000000001", onboarding.WABAStateUnusable, "DISABLED_UPDATE", "DISABLE"},
		{"reinstated", "100000000000001", `{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"REINSTATE"}}`, "100000000000001", onboarding.WABAStateUsable, "DISABLED_UPDATE", "REINSTATE"},
		{"partner removed", "35602500000", `{"event":"PARTNER_REMOVED","waba_info":{"waba_id":"100000000000002","owner_business_id":"35602500000"}}`, "100000000000002", onboarding.WABAStateUnusable, "PARTNER_REMOVED", ""},
		{"partner added", "35602500000", `{"event":"PARTNER_ADDED","waba_info":{"waba_id":"100000000000002","owner_business_id":"35602500000"}}`, "100000000000002", onboarding.WABAStateUsable, "PARTNER_ADDED", ""},
		{"offboarded", "100000000000001", `{"event":"ACCOUNT_OFFBOARDED"}`, "100000000000001", onboarding.WABAStateUnusable, "ACCOUNT_OFFBOARDED", ""},
		{"reconnected", "100000000000001", `{"event":"ACCOUNT_RECONNECTED"}`, "100000000000001", onboarding.WABAStateUsable, "ACCOUNT_RECONNECTED", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &fakeMessenger{runs: 3}
			h := newTestHandler(t, m, nil)
			if w := signed(h, accountBody(1739321024, tc.entryID, tc.value)); w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			_, wabas := m.calls()
			if len(wabas) != 1 {
				t.Fatalf("%d WABA updates, want 1", len(wabas))
			}
			got := wabas[0]
			if got.wabaID != tc.wantWABA || got.in.State != tc.wantState || got.in.Event != tc.wantEvent ||
				got.in.BanState != tc.wantBanState || !got.in.EventTime.Equal(time.Unix(1739321024, 0)) {
				t.Errorf("got %s %+v", got.wabaID, got.in)
			}
		})
	}
}

func TestSeveralEntriesAndChanges(t *testing.T) {
	m := &fakeMessenger{runs: 1}
	h := newTestHandler(t, m, nil)
	body := []byte(`{"object":"whatsapp_business_account","entry":[
		{"id":"100000000000001","time":10,"changes":[
			{"field":"phone_number_name_update","value":{"display_phone_number":"15550000001","decision":"APPROVED","requested_verified_name":"A","rejection_reason":null}},
			{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]},
		{"id":"100000000000003","time":11,"changes":[
			{"field":"phone_number_name_update","value":{"display_phone_number":"15550000002","decision":"DEFERRED","requested_verified_name":"B","rejection_reason":null}}]}]}`)
	if w := signed(h, body); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	names, wabas := m.calls()
	if len(names) != 2 || len(wabas) != 1 {
		t.Fatalf("names %v, wabas %v", names, wabas)
	}
	if names[1].workflowID != "whatsapp-number-+15550000002" || names[1].in.Decision != "DEFERRED" || names[1].in.EventTime.Unix() != 11 {
		t.Errorf("second entry: %+v", names[1])
	}
}

func TestMissingTimeUsesArrival(t *testing.T) {
	m := &fakeMessenger{}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h, err := New(Config{AppSecret: testSecret, Messenger: m, Now: func() time.Time { return at }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	signed(h, []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"phone_number_name_update","value":{"display_phone_number":"15550783881","decision":"APPROVED"}}]}]}`))
	names, _ := m.calls()
	if len(names) != 1 || !names[0].in.EventTime.Equal(at) {
		t.Fatalf("got %+v, want event time %v", names, at)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	m := &fakeMessenger{}
	var logs bytes.Buffer
	h := newTestHandler(t, m, &logs)
	body := nameBody(1, "15550783881", "APPROVED", "")
	signed(h, body)
	post(h, body, SignatureValue([]byte("forged"), body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Path+"?hub.mode=subscribe&hub.verify_token=guess-"+testVerifyToken+"&hub.challenge=1", nil))
	for _, secret := range []string{string(testSecret), testVerifyToken, hex.EncodeToString(Sign(testSecret, body))} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log holds %q:\n%s", secret, logs.String())
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newTestHandler(t, &fakeMessenger{}, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPut, Path, nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, POST" {
		t.Fatalf("PUT: %d Allow=%q", w.Code, w.Header().Get("Allow"))
	}
}

func TestNewRefusesMissingSettings(t *testing.T) {
	if _, err := New(Config{Messenger: &fakeMessenger{}}); err == nil || !strings.Contains(err.Error(), "WA_WEBHOOK_APP_SECRET") {
		t.Errorf("no secret: %v", err)
	}
	if _, err := New(Config{AppSecret: testSecret}); err == nil {
		t.Error("no messenger: no error")
	}
}

func TestConfigFromEnv(t *testing.T) {
	files := map[string]string{"/run/secrets/app": "file-secret\n", "/run/secrets/vt": "file-token\n"}
	readFile := func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, fmt.Errorf("open %s: no such file", p)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	cfg, err := ConfigFromEnv(env(map[string]string{EnvAppSecret: "s", EnvVerifyToken: "t"}), readFile)
	if err != nil || string(cfg.AppSecret) != "s" || cfg.VerifyToken != "t" {
		t.Fatalf("from env: %+v %v", cfg, err)
	}
	cfg, err = ConfigFromEnv(env(map[string]string{EnvAppSecret + "_FILE": "/run/secrets/app", EnvVerifyToken + "_FILE": "/run/secrets/vt"}), readFile)
	if err != nil || string(cfg.AppSecret) != "file-secret" || cfg.VerifyToken != "file-token" {
		t.Fatalf("from files: %+v %v", cfg, err)
	}
	cfg, err = ConfigFromEnv(env(map[string]string{EnvAppSecret: "s"}), readFile)
	if err != nil || cfg.VerifyToken != "" {
		t.Fatalf("no verify token: %+v %v", cfg, err)
	}
	if _, err := ConfigFromEnv(env(nil), readFile); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("nothing set: %v, want ErrNotConfigured", err)
	}
	_, err = ConfigFromEnv(env(map[string]string{EnvAppSecret: "s", EnvAppSecret + "_FILE": "/run/secrets/app"}), readFile)
	if err == nil || errors.Is(err, ErrNotConfigured) || strings.Contains(err.Error(), "file-secret") {
		t.Errorf("both set: %v", err)
	}
	_, err = ConfigFromEnv(env(map[string]string{EnvAppSecret: "s", EnvVerifyToken + "_FILE": "/missing"}), readFile)
	if err == nil || !strings.Contains(err.Error(), "/missing") {
		t.Errorf("missing token file: %v", err)
	}
}
