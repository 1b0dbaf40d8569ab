package codec_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/codec"
)

var (
	secretA = bytes.Repeat([]byte{0xA1}, 32)
	secretB = bytes.Repeat([]byte{0xB2}, 32)
	b64A    = base64.StdEncoding.EncodeToString(secretA)
	b64B    = base64.RawURLEncoding.EncodeToString(secretB)
)

func TestParseKeys(t *testing.T) {
	k, err := codec.ParseKeys(" a:" + b64A + " , b:" + b64B + ",")
	require.NoError(t, err)
	require.Equal(t, "b", k.PrimaryID())
	require.Equal(t, []string{"a", "b"}, k.IDs())
	require.NotContains(t, k.String(), b64A)
}

func TestParseKeysErrors(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	cases := []struct {
		spec, want string
	}{
		{"", "no keys found"},
		{" , ", "no keys found"},
		{b64A, "entry 1: want id:base64key"},
		{":" + b64A, "entry 1: key id is empty"},
		{"a b:" + b64A, "entry 1: key id may contain only"},
		{strings.Repeat("x", 65) + ":" + b64A, "entry 1: key id is longer than 64"},
		{"a:", "entry 1: key is empty"},
		{"a:" + b64A + ",b:" + short, "entry 2: key must be exactly 32 bytes after base64 decoding, got 16"},
		{"a:" + b64A + ",a:" + b64B, "entry 2: key id repeats the one in entry 1"},
		{"a:!!notbase64!!", "entry 1: key is not valid base64"},
	}
	for _, tc := range cases {
		_, err := codec.ParseKeys(tc.spec)
		require.ErrorContains(t, err, tc.want, "spec %q", tc.spec)
		require.NotContains(t, err.Error(), b64A)
		require.NotContains(t, err.Error(), short)
	}
}

func TestLoadKeys(t *testing.T) {
	noFile := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	envOf := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	t.Run("env spec", func(t *testing.T) {
		k, err := codec.LoadKeys(envOf(map[string]string{codec.EnvKeys: "a:" + b64A + ",b:" + b64B}), noFile)
		require.NoError(t, err)
		require.Equal(t, "b", k.PrimaryID())
	})
	t.Run("file", func(t *testing.T) {
		file := "# rotated 2024-06\n\na:" + b64A + "\r\n  # b is next\nb:" + b64B + "\n"
		read := func(name string) ([]byte, error) {
			require.Equal(t, "/run/secrets/keys", name)
			return []byte(file), nil
		}
		k, err := codec.LoadKeys(envOf(map[string]string{codec.EnvKeysFile: "/run/secrets/keys"}), read)
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b"}, k.IDs())
		require.Equal(t, "b", k.PrimaryID())
	})
	t.Run("file error names variable and line", func(t *testing.T) {
		read := func(string) ([]byte, error) { return []byte("# c\na:" + b64A + "\nb:" + b64A[:20] + "\n"), nil }
		_, err := codec.LoadKeys(envOf(map[string]string{codec.EnvKeysFile: "/k"}), read)
		require.ErrorContains(t, err, "WA_CODEC_KEYS_FILE /k: line 3:")
		require.NotContains(t, err.Error(), b64A[:20])
	})
	t.Run("unreadable file", func(t *testing.T) {
		_, err := codec.LoadKeys(envOf(map[string]string{codec.EnvKeysFile: "/k"}), noFile)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorContains(t, err, codec.EnvKeysFile)
	})
	t.Run("explicit primary", func(t *testing.T) {
		k, err := codec.LoadKeys(envOf(map[string]string{
			codec.EnvKeys:         "a:" + b64A + ",b:" + b64B,
			codec.EnvPrimaryKeyID: "a",
		}), noFile)
		require.NoError(t, err)
		require.Equal(t, "a", k.PrimaryID())
	})
	t.Run("unknown primary", func(t *testing.T) {
		_, err := codec.LoadKeys(envOf(map[string]string{codec.EnvKeys: "a:" + b64A, codec.EnvPrimaryKeyID: "z"}), noFile)
		require.ErrorContains(t, err, codec.EnvPrimaryKeyID)
	})
	t.Run("neither", func(t *testing.T) {
		_, err := codec.LoadKeys(envOf(nil), noFile)
		require.ErrorIs(t, err, codec.ErrNoKeys)
	})
	t.Run("both", func(t *testing.T) {
		_, err := codec.LoadKeys(envOf(map[string]string{codec.EnvKeys: "a:" + b64A, codec.EnvKeysFile: "/k"}), noFile)
		require.ErrorContains(t, err, "both")
	})
	t.Run("spec error names variable", func(t *testing.T) {
		_, err := codec.LoadKeys(envOf(map[string]string{codec.EnvKeys: "a:" + b64A[:30]}), noFile)
		require.ErrorContains(t, err, "WA_CODEC_KEYS: entry 1: key must be exactly 32 bytes")
	})
}

func TestGenerateKey(t *testing.T) {
	a, err := codec.GenerateKey()
	require.NoError(t, err)
	b, err := codec.GenerateKey()
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	_, err = codec.ParseKeys("dev:" + a)
	require.NoError(t, err)
}

func TestNewKeyringRejectsBadKeys(t *testing.T) {
	_, err := codec.NewKeyring()
	require.Error(t, err)
	_, err = codec.NewKeyring(codec.Key{ID: "a", Secret: make([]byte, 16)})
	require.ErrorContains(t, err, "exactly 32 bytes")
	_, err = codec.NewKeyring(codec.Key{ID: "a", Secret: secretA}, codec.Key{ID: "a", Secret: secretB})
	require.ErrorContains(t, err, "used twice")
}

// FuzzParseKeys checks that ParseKeys never panics and that its errors never
// quote what was passed as key material.
func FuzzParseKeys(f *testing.F) {
	f.Add("a:" + b64A)
	f.Add("a:" + b64A + ",b:" + b64B)
	f.Add(b64A)
	f.Add(b64A + ":" + b64B)
	f.Add("a:" + b64A[:40])
	f.Add("a:" + b64A + ",a:" + b64A)
	f.Add("a:" + b64A + "," + b64B)
	f.Add("a:secret-that-is-not-base64-at-all")
	f.Add("\x00:\xff,,:,")
	f.Add(strings.Repeat("x", 100) + ":" + b64A)

	f.Fuzz(func(t *testing.T, spec string) {
		k, err := codec.ParseKeys(spec)
		if err == nil {
			require.NotEmpty(t, k.PrimaryID())
			require.Contains(t, k.IDs(), k.PrimaryID())
			return
		}
		require.Nil(t, k)
		msg := err.Error()
		require.True(t, strings.HasPrefix(msg, "codec: "), msg)
		for _, entry := range strings.Split(spec, ",") {
			// Anything long enough to be (part of) a key must not be
			// echoed: neither the part after ':' nor a whole entry,
			// which may be a key pasted without its id.
			for _, s := range []string{strings.TrimSpace(entry), secretPart(entry)} {
				if len(s) >= 16 {
					require.NotContains(t, msg, s)
				}
			}
		}
		if errors.Is(err, codec.ErrNoKeys) {
			t.Fatal("ParseKeys must not return the LoadKeys sentinel")
		}
	})
}

func secretPart(entry string) string {
	_, s, _ := strings.Cut(entry, ":")
	return strings.TrimSpace(s)
}
