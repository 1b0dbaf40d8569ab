// Package validate checks the fields of an onboarding at the edges (CLI,
// client package, workflow start, updates) so bad input is refused at once
// with the field and the rule named, never days later inside a workflow.
//
// No function here echoes a secret (PIN, code) back in its error.
package validate

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Error is a refused field: which one, and the rule it broke.
type Error struct {
	Field string
	Rule  string
}

func (e *Error) Error() string { return e.Field + ": " + e.Rule }

func fail(field, rule string, args ...any) error {
	return &Error{Field: field, Rule: fmt.Sprintf(rule, args...)}
}

// Regions are the data_localization_region values Meta accepts.
var Regions = []string{"AU", "ID", "IN", "JP", "SG", "KR", "DE", "CH", "GB", "BR", "BH", "ZA", "AE", "CA"}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// PIN accepts exactly six ASCII digits. A PIN is a string: "012345" keeps its
// leading zero.
func PIN(field, pin string) error {
	if len(pin) != 6 || !allDigits(pin) {
		return fail(field, "must be exactly 6 ASCII digits")
	}
	return nil
}

// Code accepts an ownership code as Meta sends it: 6 ASCII digits. A dash or
// spaces typed by a person reading it off a phone are removed first by
// NormalizeCode.
func Code(field, code string) error {
	if len(code) != 6 || !allDigits(code) {
		return fail(field, "must be the 6 digits received by SMS or voice")
	}
	return nil
}

// NormalizeCode strips the separators people type between a code's digits
// ("123-456", "123 456").
func NormalizeCode(code string) string {
	// Byte-wise, so invalid UTF-8 is left for Code to refuse rather than
	// rewritten into replacement characters.
	b := make([]byte, 0, len(code))
	for i := 0; i < len(code); i++ {
		if c := code[i]; c != '-' && c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			b = append(b, c)
		}
	}
	return string(b)
}

// CountryCode accepts a dial code of 1 to 3 digits without '+', not starting
// with 0.
func CountryCode(field, cc string) error {
	if cc == "" {
		return fail(field, "is required")
	}
	if len(cc) > 3 || !allDigits(cc) || cc[0] == '0' {
		return fail(field, "must be 1 to 3 digits without '+' and not start with 0 (e.g. 1, 44, 353)")
	}
	return nil
}

// PhoneNumber accepts a national number (digits only, no country code, no
// '+') whose full E.164 form, country code included, has at most 15 digits.
func PhoneNumber(field, cc, number string) error {
	if number == "" {
		return fail(field, "is required")
	}
	if !allDigits(number) {
		return fail(field, "must be digits only, without the country code, '+', spaces or dashes")
	}
	if len(number) < 4 {
		return fail(field, "must have at least 4 digits")
	}
	if len(cc)+len(number) > 15 {
		return fail(field, "with the country code must be at most 15 digits (E.164)")
	}
	// The same floor as onboarding.NormalizeE164, which every later
	// command uses to find the run: a shorter number could be onboarded
	// and then never addressed again.
	if len(cc)+len(number) < 8 {
		return fail(field, "with the country code must be at least 8 digits (E.164)")
	}
	return nil
}

// ID accepts a Graph object id (WABA, phone number): a numeric string.
func ID(field, id string) error {
	if id == "" {
		return fail(field, "is required")
	}
	if len(id) > 32 || !allDigits(id) {
		return fail(field, "must be a numeric Graph id of at most 32 digits")
	}
	return nil
}

// Region accepts "" (no local storage) or one of Meta's region codes.
func Region(field, region string) error {
	if region == "" || slices.Contains(Regions, region) {
		return nil
	}
	return fail(field, "must be empty or one of %s", strings.Join(Regions, ", "))
}

// CodeMethod accepts SMS or VOICE.
func CodeMethod(field, method string) error {
	if method == "SMS" || method == "VOICE" {
		return nil
	}
	return fail(field, "must be SMS or VOICE")
}

// Language accepts a locale such as en_US or pt_BR, or a bare language (en).
func Language(field, lang string) error {
	ok := len(lang) == 2 || (len(lang) == 5 && lang[2] == '_')
	if ok {
		for i, r := range lang {
			switch {
			case i < 2 && r >= 'a' && r <= 'z':
			case i > 2 && r >= 'A' && r <= 'Z':
			case i == 2:
			default:
				ok = false
			}
		}
	}
	if !ok {
		return fail(field, "must be a locale such as en_US, pt_BR or en")
	}
	return nil
}

// DisplayName applies the basics of WhatsApp display-name rules that can be
// checked locally: present, at most 512 characters of valid UTF-8, no control
// characters, no URL. Meta's review decides the rest.
func DisplayName(field, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fail(field, "is required")
	case !utf8.ValidString(name):
		return fail(field, "must be valid UTF-8")
	case utf8.RuneCountInString(name) < 3:
		return fail(field, "must have at least 3 characters")
	case utf8.RuneCountInString(name) > 512:
		return fail(field, "must have at most 512 characters")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fail(field, "must not contain control characters")
	case strings.Contains(strings.ToLower(name), "http://") || strings.Contains(strings.ToLower(name), "https://") || strings.Contains(strings.ToLower(name), "www."):
		return fail(field, "must not contain a URL")
	}
	return nil
}
