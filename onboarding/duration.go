package onboarding

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/wa-onboarding/onboarding/internal/validate"
)

// A Duration is a time.Duration that travels in JSON as a Go duration
// string, so that callers in any language can write "24h", "90m" or
// "1h30m" in a workflow input.
//
// It marshals to the shortest form that time.ParseDuration reads back to
// the same value: time.Duration.String without trailing zero units ("24h",
// "1h30m", "1m", "1.5s", "0s"). It unmarshals from any string
// time.ParseDuration accepts, and from integer nanoseconds, the form a plain
// time.Duration had in JSON: inputs recorded in workflow histories before
// Duration existed still decode to the same value, so old runs replay.
type Duration time.Duration

// DurationPattern is the regular expression, in JSON Schema (ECMA 262) and
// Go syntax alike, of the duration strings the contract documents: one or
// more decimal numbers each followed by a unit of ns, us (or µs), ms, s, m
// or h, as in "24h", "1h30m" or "1.5s". Duration also reads a sign and the
// bare "0", which time.ParseDuration accepts, but nothing in the contract
// needs them.
const DurationPattern = `^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))*$`

// durationRule is the rule named in the error for a value that is not a
// duration.
const durationRule = `must be a duration string such as "24h", "90m" or "1h30m" (units ns, us, ms, s, m, h), or integer nanoseconds`

// String returns the duration as time.Duration.String does ("24h0m0s"), so
// that text built from it reads as it did before Duration existed.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON encodes d as its shortest duration string, such as "24h".
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, d.short()), nil
}

// short is String with the trailing zero units dropped: "24h0m0s" → "24h",
// "1m0s" → "1m". time.ParseDuration reads every result back exactly.
func (d Duration) short() string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
	}
	return s
}

// UnmarshalJSON decodes a duration string ("24h") or integer nanoseconds
// (86400000000000). null leaves d unchanged, as encoding/json does for other
// types. Anything else is a *validate.Error whose Field is empty: the
// decoder of the enclosing type fills it in.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return &validate.Error{Rule: durationRule}
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return &validate.Error{Rule: durationRule}
		}
		*d = Duration(v)
		return nil
	default:
		// Only the integers a time.Duration was written as; 8.64e13 or
		// 1.5 would be a float that could round.
		v, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return &validate.Error{Rule: durationRule}
		}
		*d = Duration(v)
		return nil
	}
}

// UnmarshalJSON decodes an OnboardInput as encoding/json would, except that
// a bad duration is reported as an *InputError naming its field (code_wait,
// name_check_interval): encoding/json does not say which field a custom
// decoder failed on.
func (in *OnboardInput) UnmarshalJSON(b []byte) error {
	type plain OnboardInput // without this method
	aux := struct {
		*plain
		// Shallower fields win in encoding/json, so these take the
		// durations' keys away from plain.
		CodeWait          json.RawMessage `json:"code_wait"`
		NameCheckInterval json.RawMessage `json:"name_check_interval"`
	}{plain: (*plain)(in)}
	if err := json.Unmarshal(b, &aux); err != nil {
		// Name the field as encoding/json would without the wrapper.
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			te.Struct, te.Field = "OnboardInput", strings.TrimPrefix(te.Field, "plain.")
		}
		return err
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *Duration
	}{
		{"code_wait", aux.CodeWait, &in.CodeWait},
		{"name_check_interval", aux.NameCheckInterval, &in.NameCheckInterval},
	} {
		if f.raw == nil {
			continue
		}
		if err := f.dst.UnmarshalJSON(f.raw); err != nil {
			return &InputError{Field: f.name, Rule: durationRule}
		}
	}
	return nil
}
