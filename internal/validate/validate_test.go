package validate

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		field string // "" when the input is valid
	}{
		{"pin ok", PIN("pin", "012345"), ""},
		{"pin short", PIN("pin", "12345"), "pin"},
		{"pin long", PIN("pin", "1234567"), "pin"},
		{"pin letters", PIN("pin", "12a456"), "pin"},
		{"pin unicode digits", PIN("pin", "١٢٣٤٥٦"), "pin"},
		{"code ok", Code("code", "654321"), ""},
		{"code dash kept", Code("code", "654-321"), "code"},
		{"code normalized", Code("code", NormalizeCode(" 654-321 ")), ""},
		{"cc ok", CountryCode("cc", "353"), ""},
		{"cc plus", CountryCode("cc", "+1"), "cc"},
		{"cc zero", CountryCode("cc", "01"), "cc"},
		{"cc empty", CountryCode("cc", ""), "cc"},
		{"number ok", PhoneNumber("number", "1", "5551234567"), ""},
		{"number dashes", PhoneNumber("number", "1", "555-123-4567"), "number"},
		{"number too long", PhoneNumber("number", "44", "1234567890123456"), "number"},
		{"number short", PhoneNumber("number", "1", "123"), "number"},
		{"number under 8 digits with cc", PhoneNumber("number", "1", "555123"), "number"},
		{"number of 8 digits with cc", PhoneNumber("number", "1", "5551234"), ""},
		{"id ok", ID("waba", "106540352242922"), ""},
		{"id letters", ID("waba", "abc"), "waba"},
		{"id empty", ID("waba", ""), "waba"},
		{"region none", Region("region", ""), ""},
		{"region ok", Region("region", "CH"), ""},
		{"region lower", Region("region", "ch"), "region"},
		{"region unknown", Region("region", "FR"), "region"},
		{"method sms", CodeMethod("method", "SMS"), ""},
		{"method lower", CodeMethod("method", "sms"), "method"},
		{"lang ok", Language("language", "pt_BR"), ""},
		{"lang bare", Language("language", "en"), ""},
		{"lang bad", Language("language", "en-US"), "language"},
		{"name ok", DisplayName("name", "Acme Support"), ""},
		{"name blank", DisplayName("name", "   "), "name"},
		{"name url", DisplayName("name", "Acme www.acme.com"), "name"},
		{"name control", DisplayName("name", "Acme\nSupport"), "name"},
		{"name invalid utf8", DisplayName("name", "Acme \xff"), "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.field == "" {
				require.NoError(t, tc.err)
				return
			}
			var ve *Error
			require.True(t, errors.As(tc.err, &ve), "want a *validate.Error, got %v", tc.err)
			require.Equal(t, tc.field, ve.Field)
			require.True(t, strings.HasPrefix(tc.err.Error(), tc.field+": "), tc.err.Error())
		})
	}
}

// FuzzSecrets checks that the validators of secrets never panic, never echo
// the value they refuse, and accept exactly six ASCII digits.
func FuzzSecrets(f *testing.F) {
	for _, s := range []string{"012345", "12345", "1234567", "12a456", "", "١٢٣٤٥٦", "123 456", "123-456", "\x00\x00\x00\x00\x00\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		six := len(s) == 6 && strings.Trim(s, "0123456789") == ""
		for _, c := range []struct {
			err  error
			want string
		}{
			{PIN("pin", s), "pin: must be exactly 6 ASCII digits"},
			{Code("code", s), "code: must be the 6 digits received by SMS or voice"},
		} {
			if six {
				require.NoError(t, c.err)
				continue
			}
			// A fixed message cannot echo the refused secret.
			require.EqualError(t, c.err, c.want)
		}
		n := NormalizeCode(s)
		require.NotContains(t, n, "-")
		require.LessOrEqual(t, len(n), len(s))
	})
}

// FuzzNumber checks that a number is accepted only as digits that fit E.164.
func FuzzNumber(f *testing.F) {
	f.Add("1", "5551234567")
	f.Add("44", "7700900123")
	f.Add("+1", "555")
	f.Add("999", "1234567890123")
	f.Fuzz(func(t *testing.T, cc, number string) {
		ccErr, nErr := CountryCode("cc", cc), PhoneNumber("number", cc, number)
		if ccErr == nil && nErr == nil {
			all := cc + number
			require.Equal(t, "", strings.Trim(all, "0123456789"))
			require.LessOrEqual(t, len(all), 15)
			require.NotEqual(t, byte('0'), cc[0])
		}
	})
}

func FuzzDisplayName(f *testing.F) {
	f.Add("Acme Support")
	f.Add("https://x")
	f.Add("\x7f\x7f\x7f")
	f.Fuzz(func(t *testing.T, name string) {
		if err := DisplayName("display_name", name); err == nil {
			require.False(t, strings.ContainsAny(name, "\n\r\t\x00"))
			require.NotEmpty(t, strings.TrimSpace(name))
		}
	})
}
