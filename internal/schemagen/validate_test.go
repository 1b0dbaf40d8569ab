package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// compile loads one committed schema, asserting formats such as date-time
// as a strict consumer would.
func compile(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(filepath.Join(root(t), "schemas", file))
	require.NoError(t, err, file)
	return s
}

func instance(t *testing.T, v any) any {
	t.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		b, err = json.Marshal(v)
		require.NoError(t, err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	require.NoError(t, err, "%s", b)
	return inst
}

// TestGoValuesValidate checks that what the Go side sends and answers is
// what the schemas promise other languages.
func TestGoValuesValidate(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	in := onboarding.OnboardInput{
		WABAID: "102290129340398", CountryCode: "1", PhoneNumber: "5551234567",
		DisplayName: "Acme Support", PIN: "123456", Region: "DE", PreverifiedID: "42",
	}
	in.Normalize()
	require.NoError(t, in.Validate())
	resumed := in
	resumed.Resume = &onboarding.ResumeState{
		PhoneNumberID: "106540352242922", Stage: onboarding.StageRegistered, StartedAt: at, RegisteredAt: at,
		Ledger: onboarding.Ledger{Register: []time.Time{at}, RegisterBlockedUntil: at.Add(time.Hour)},
	}
	status := onboarding.Status{
		WorkflowID: onboarding.WorkflowID("1", "5551234567"), Number: "+15551234567", WABAID: "102290129340398",
		PhoneNumberID: "106540352242922", Stage: onboarding.StageRateLimited, Detail: "waiting", Region: "DE",
		CodeMethod: onboarding.CodeSMS, CodeRequestedAt: at, RegisterCallsInWindow: 10, WindowLimit: 10,
		NextRegisterAllowedAt: at.Add(72 * time.Hour), SleepingUntil: at.Add(time.Hour), SleepReason: "budget",
		LastError: &onboarding.GraphError{Op: "register", Class: "rate_limited", Code: 133016, Message: "blocked", At: at},
		StartedAt: at, UpdatedAt: at,
	}
	for _, tc := range []struct {
		file string
		v    any
	}{
		{"OnboardInput.json", in},
		{"OnboardInput.json", resumed},
		{"OnboardInput.json", []byte(`{"waba_id":"1","country_code":"44","phone_number":"7700900123","display_name":"Acme","pin":"000111","code_wait":"24h"}`)},
		{"OnboardInput.json", []byte(`{"waba_id":"1","country_code":"44","phone_number":"7700900123","display_name":"Acme","pin":"sealed:v1:k1:AAAA","code_wait":"1h30m","name_check_interval":"90m"}`)},
		{"CodeInput.json", onboarding.CodeInput{Code: "123456"}},
		{"ResendInput.json", onboarding.ResendInput{}},
		{"ResendInput.json", onboarding.ResendInput{Method: onboarding.CodeVoice, Language: "pt_BR"}},
		{"ChangeRegionInput.json", onboarding.ChangeRegionInput{}},
		{"ChangeRegionInput.json", onboarding.ChangeRegionInput{Region: "CH"}},
		{"FixInput.json", onboarding.FixInput{}},
		{"FixInput.json", onboarding.FixInput{PIN: "654321", ClearRegion: true, DisplayName: "Acme Two"}},
		{"CodeResult.json", onboarding.CodeResult{Accepted: true}},
		{"OperationResult.json", onboarding.OperationResult{Stage: onboarding.StageRegistered, Region: "CH"}},
		{"Status.json", status},
		{"Status.json", []byte(`{"workflow_id":"w","number":"+1","waba_id":"1","stage":"registered","registered":true,"register_calls_in_window":0,"deregister_calls_in_window":0,"window_limit":10,"started_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T12:00:00Z","a_field_added_later":1}`)},
	} {
		assert.NoError(t, compile(t, tc.file).Validate(instance(t, tc.v)), "%s: %#v", tc.file, tc.v)
	}
}

// TestBadShapesFail checks that the schemas refuse what the worker would
// refuse or silently drop.
func TestBadShapesFail(t *testing.T) {
	ok := `"waba_id":"1","country_code":"44","phone_number":"7700900123","display_name":"Acme","pin":"000111"`
	for _, tc := range []struct{ file, json, why string }{
		{"OnboardInput.json", `{` + ok + `,"code_wait":"1 day"}`, "a duration Go cannot parse"},
		{"OnboardInput.json", `{` + ok + `,"code_wait":86400000000000}`, "nanoseconds are read for old runs, not offered to new callers"},
		{"OnboardInput.json", `{` + ok + `,"codewait":"24h"}`, "a misspelt field Go would silently drop"},
		{"OnboardInput.json", `{` + ok + `,"region":"FR"}`, "a region Meta does not offer"},
		{"OnboardInput.json", `{` + ok + `,"code_method":"sms"}`, "a code method outside the enum"},
		{"OnboardInput.json", `{` + ok + `,"country_code":"+44"}`, "a country code with its '+'"},
		{"OnboardInput.json", `{"waba_id":"1","country_code":"44","phone_number":"7700900123","display_name":"Acme"}`, "no pin"},
		{"OnboardInput.json", `{` + ok + `,"pin":123456}`, "a PIN as a number"},
		{"CodeInput.json", `{}`, "no code"},
		{"ChangeRegionInput.json", `{}`, "the region must be explicit, \"\" for none"},
		{"Status.json", `{"workflow_id":"w","number":"+1","waba_id":"1","stage":"bogus","registered":true,"register_calls_in_window":0,"deregister_calls_in_window":0,"window_limit":10,"started_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T12:00:00Z"}`, "an unknown stage"},
		{"Status.json", `{"workflow_id":"w","number":"+1","waba_id":"1","stage":"registered","registered":true,"register_calls_in_window":0,"deregister_calls_in_window":0,"window_limit":10,"started_at":"yesterday","updated_at":"2026-03-01T12:00:00Z"}`, "a time that is not RFC 3339"},
	} {
		assert.Error(t, compile(t, tc.file).Validate(instance(t, []byte(tc.json))), "%s should refuse %s", tc.file, tc.why)
	}
}
