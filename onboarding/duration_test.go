package onboarding

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
)

func TestDurationMarshalsShortest(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{24 * time.Hour, `"24h"`},
		{90 * time.Minute, `"1h30m"`},
		{time.Minute, `"1m"`},
		{time.Hour + 5*time.Second, `"1h0m5s"`},
		{1500 * time.Millisecond, `"1.5s"`},
		{500 * time.Millisecond, `"500ms"`},
		{0, `"0s"`},
		{-time.Hour, `"-1h"`},
	} {
		b, err := json.Marshal(Duration(tc.d))
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(b), "%v", tc.d)
		var back Duration
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, tc.d, time.Duration(back), "%s reads back", b)
	}
	assert.Equal(t, "24h0m0s", Duration(24*time.Hour).String(), "String stays time.Duration's so status text is unchanged")
}

func TestDurationUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{`"24h"`, 24 * time.Hour},
		{`"24h0m0s"`, 24 * time.Hour},
		{`"90m"`, 90 * time.Minute},
		{`"1h30m"`, 90 * time.Minute},
		{`"1.5h"`, 90 * time.Minute},
		{`"250ms"`, 250 * time.Millisecond},
		{`"2\u0068"`, 2 * time.Hour}, // JSON escapes are decoded before parsing
		{`86400000000000`, 24 * time.Hour},
		{` 60000000000 `, time.Minute},
		{`0`, 0},
	} {
		var d Duration
		require.NoError(t, d.UnmarshalJSON([]byte(tc.in)), tc.in)
		assert.Equal(t, tc.want, time.Duration(d), tc.in)
	}

	d := Duration(time.Hour)
	require.NoError(t, d.UnmarshalJSON([]byte("null")))
	assert.Equal(t, Duration(time.Hour), d, "null leaves the value alone")

	for _, bad := range []string{
		`"tomorrow"`, `""`, `"24"`, `"1d"`, `true`, `1.5`, `8.64e13`, `{}`, `[]`,
		`99999999999999999999`, `"99999999999h"`, `"24h`,
	} {
		var d Duration
		err := d.UnmarshalJSON([]byte(bad))
		var ie *InputError
		require.True(t, errors.As(err, &ie), "%s: got %v", bad, err)
		assert.Contains(t, ie.Rule, `such as "24h"`, bad)
	}
}

// legacyOnboardInput is OnboardInput as it was before Duration: its JSON is
// what workflow histories recorded before this change.
type legacyOnboardInput struct {
	WABAID            string        `json:"waba_id"`
	CountryCode       string        `json:"country_code"`
	PhoneNumber       string        `json:"phone_number"`
	DisplayName       string        `json:"display_name"`
	PIN               string        `json:"pin"`
	Region            string        `json:"region,omitempty"`
	CodeMethod        CodeMethod    `json:"code_method,omitempty"`
	Language          string        `json:"language,omitempty"`
	CodeWait          time.Duration `json:"code_wait,omitempty"`
	NameCheckInterval time.Duration `json:"name_check_interval,omitempty"`
}

// TestRecordedInputDecodesUnchanged guards replay: an input recorded with
// integer nanoseconds must decode, through the SDK's data converter as the
// worker does, to exactly the OnboardInput its string form gives.
func TestRecordedInputDecodesUnchanged(t *testing.T) {
	dc := converter.GetDefaultDataConverter()
	legacy := legacyOnboardInput{
		WABAID: "1234", CountryCode: "1", PhoneNumber: "5551234567", DisplayName: "Acme",
		PIN: "123456", CodeMethod: CodeVoice, Language: "en_US",
		CodeWait: 36 * time.Hour, NameCheckInterval: 90 * time.Minute,
	}
	recorded, err := dc.ToPayload(legacy)
	require.NoError(t, err)
	require.Contains(t, string(recorded.GetData()), `"code_wait":129600000000000`, "the recorded form carries nanoseconds")

	var fromHistory OnboardInput
	require.NoError(t, dc.FromPayload(recorded, &fromHistory))

	var fromString OnboardInput
	require.NoError(t, json.Unmarshal([]byte(`{"waba_id":"1234","country_code":"1","phone_number":"5551234567",
		"display_name":"Acme","pin":"123456","code_method":"VOICE","language":"en_US",
		"code_wait":"36h","name_check_interval":"1h30m"}`), &fromString))

	want := OnboardInput{
		WABAID: "1234", CountryCode: "1", PhoneNumber: "5551234567", DisplayName: "Acme",
		PIN: "123456", CodeMethod: CodeVoice, Language: "en_US",
		CodeWait: Duration(36 * time.Hour), NameCheckInterval: Duration(90 * time.Minute),
	}
	assert.Equal(t, want, fromHistory)
	assert.Equal(t, want, fromString)

	// What a new run records reads back the same, and is the string form.
	now, err := dc.ToPayload(want)
	require.NoError(t, err)
	assert.Contains(t, string(now.GetData()), `"code_wait":"36h","name_check_interval":"1h30m"`)
	var again OnboardInput
	require.NoError(t, dc.FromPayload(now, &again))
	assert.Equal(t, want, again)
}

func TestOnboardInputDurationErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ json, field string }{
		{`{"code_wait":"tomorrow"}`, "code_wait"},
		{`{"code_wait":"24h","name_check_interval":1.5}`, "name_check_interval"},
		{`{"name_check_interval":{"minutes":30}}`, "name_check_interval"},
	} {
		var in OnboardInput
		err := json.Unmarshal([]byte(tc.json), &in)
		var ie *InputError
		require.True(t, errors.As(err, &ie), "%s: got %v", tc.json, err)
		assert.Equal(t, tc.field, ie.Field, tc.json)
		assert.Contains(t, err.Error(), tc.field+`: must be a duration string such as "24h"`)
	}

	// Other fields keep encoding/json's own errors, which name them too.
	var in OnboardInput
	err := json.Unmarshal([]byte(`{"waba_id":12,"code_wait":"1h"}`), &in)
	require.ErrorContains(t, err, "OnboardInput.waba_id")

	// Absent and null durations are left for Normalize to default.
	in = OnboardInput{}
	require.NoError(t, json.Unmarshal([]byte(`{"waba_id":"1","code_wait":null}`), &in))
	assert.Zero(t, in.CodeWait)
	in.Normalize()
	assert.Equal(t, Duration(DefaultCodeWait), in.CodeWait)
	assert.Equal(t, Duration(DefaultNameCheckInterval), in.NameCheckInterval)
}

var durationPattern = regexp.MustCompile(DurationPattern)

// FuzzDuration checks that whatever Duration accepts survives a round trip,
// that it always writes what DurationPattern (and so the JSON Schema)
// allows, and that the pattern admits every unsigned string
// time.ParseDuration reads.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{`"24h"`, `"1h30m"`, `"1.5s"`, `".5us"`, `"3µs"`, `86400000000000`, `-1`, `"-2m"`, `"0"`, `null`, `"x"`, `1e3`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var d Duration
		if err := d.UnmarshalJSON([]byte(in)); err != nil {
			return
		}
		b, err := json.Marshal(d)
		require.NoError(t, err)
		var back Duration
		require.NoError(t, json.Unmarshal(b, &back), "%s", b)
		require.Equal(t, d, back, "%s → %s", in, b)
		if d >= 0 {
			s, _ := strconv.Unquote(string(b))
			require.Regexp(t, durationPattern, s)
		}
		if s, err := strconv.Unquote(in); err == nil && s != "0" && !strings.ContainsAny(s[:min(1, len(s))], "+-") {
			require.Regexp(t, durationPattern, s, "time.ParseDuration reads %q, so the schema must allow it", s)
		}
	})
}
