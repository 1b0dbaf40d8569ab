package seal

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustKey(t testing.TB, id string) PrivateKey {
	t.Helper()
	k, err := GenerateKey(id)
	require.NoError(t, err)
	return k
}

func mustPub(t testing.TB, k PrivateKey) PublicKey {
	t.Helper()
	p, err := k.Public()
	require.NoError(t, err)
	return p
}

func pair(t testing.TB, keys ...PrivateKey) (*Sealer, *Opener) {
	t.Helper()
	var pubs []PublicKey
	for _, k := range keys {
		pubs = append(pubs, mustPub(t, k))
	}
	s, err := NewSealer(pubs...)
	require.NoError(t, err)
	o, err := NewOpener(keys...)
	require.NoError(t, err)
	return s, o
}

// encodings returns the forms in which a secret could leak into a sealed
// value or an HTTP response: as is, hex, and base64 in both alphabets,
// padded and not.
func encodings(secret string) map[string]string {
	b := []byte(secret)
	return map[string]string{
		"plain":      secret,
		"hex":        hex.EncodeToString(b),
		"HEX":        strings.ToUpper(hex.EncodeToString(b)),
		"base64":     base64.StdEncoding.EncodeToString(b),
		"base64raw":  base64.RawStdEncoding.EncodeToString(b),
		"base64url":  base64.URLEncoding.EncodeToString(b),
		"base64uraw": base64.RawURLEncoding.EncodeToString(b),
	}
}

// assertNoLeak fails if secret appears in s in any of encodings. Callers
// only use secrets of 6 bytes or more: a random base64url character matches
// a given one with probability 1/64, so a false alarm on a 6-character
// secret is below 1e-9 per check.
func assertNoLeak(t testing.TB, s, secret string) {
	t.Helper()
	for name, enc := range encodings(secret) {
		if strings.Contains(s, enc) {
			t.Errorf("secret found in %s encoding (%q) in %q", name, enc, s)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	s, o := pair(t, mustKey(t, "w1"))
	for _, secret := range []string{"123456", "", "x", "pässwörd with spaces\n", strings.Repeat("z", MaxSecretLen)} {
		sealed, err := s.Seal("pin", secret)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(sealed, Prefix+"w1:"), sealed)
		assert.True(t, IsSealed(sealed))
		id, err := KeyIDOf(sealed)
		require.NoError(t, err)
		assert.Equal(t, "w1", id)
		got, err := o.Open("pin", sealed)
		require.NoError(t, err)
		assert.Equal(t, secret, got)
		if len(secret) >= 6 {
			assertNoLeak(t, sealed, secret)
		}
	}
}

func TestSealIsRandomizedAndPadded(t *testing.T) {
	s, _ := pair(t, mustKey(t, "w1"))
	a, err := s.Seal("pin", "123456")
	require.NoError(t, err)
	b, err := s.Seal("pin", "123456")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "sealing the same PIN twice must not give the same string")

	// Every secret up to the first padding block seals to the same
	// length, so a sealed backup password does not reveal its length.
	lengths := map[int]bool{}
	for _, secret := range []string{"", "1", "123456", "12345678901234567890123456"} {
		v, err := s.Seal("pin", secret)
		require.NoError(t, err)
		lengths[len(v)] = true
	}
	assert.Len(t, lengths, 1)
	long, err := s.Seal("pin", strings.Repeat("1", 40))
	require.NoError(t, err)
	assert.Greater(t, len(long), len(a))
}

// TestNoPINInSealedValue seals every PIN-like value with a seeded random
// source, so the check is repeatable: a chance match would fail every run,
// not one in a billion.
func TestNoPINInSealedValue(t *testing.T) {
	s, o := pair(t, mustKey(t, "w1"))
	s.rand = mrand.NewChaCha8([32]byte{1})
	for i := range 200 {
		pin := fmt.Sprintf("%06d", i*4999)
		sealed, err := s.Seal("pin", pin)
		require.NoError(t, err)
		assertNoLeak(t, sealed, pin)
		got, err := o.Open("pin", sealed)
		require.NoError(t, err)
		require.Equal(t, pin, got)
	}
}

func TestTampering(t *testing.T) {
	s, o := pair(t, mustKey(t, "w1"))
	// Two padding blocks, so that a value one block shorter is still
	// well-formed.
	sealed, err := s.Seal("pin", strings.Repeat("7", 40))
	require.NoError(t, err)
	enc := strings.TrimPrefix(sealed, Prefix+"w1:")
	data, err := b64.DecodeString(enc)
	require.NoError(t, err)

	for i := range data {
		for _, bit := range []byte{0x01, 0x80} {
			d := append([]byte(nil), data...)
			d[i] ^= bit
			_, err := o.Open("pin", Prefix+"w1:"+b64.EncodeToString(d))
			require.ErrorIs(t, err, ErrAuthentication, "flipping bit %#x of byte %d", bit, i)
		}
	}
	// Truncating or extending by a whole padding block keeps the value
	// well-formed but fails authentication.
	_, err = o.Open("pin", Prefix+"w1:"+b64.EncodeToString(data[:len(data)-padBlock]))
	require.ErrorIs(t, err, ErrAuthentication)
	_, err = o.Open("pin", Prefix+"w1:"+b64.EncodeToString(append(append([]byte(nil), data...), make([]byte, padBlock)...)))
	require.ErrorIs(t, err, ErrAuthentication)
	// Any other length is not a sealed value at all.
	_, err = o.Open("pin", Prefix+"w1:"+b64.EncodeToString(data[:len(data)-1]))
	require.ErrorIs(t, err, ErrNotSealed)
}

func TestWrongKeyAndUnknownKeyID(t *testing.T) {
	s1, _ := pair(t, mustKey(t, "w1"))
	_, other := pair(t, mustKey(t, "w1")) // same id, different key
	_, o2 := pair(t, mustKey(t, "w2"))
	sealed, err := s1.Seal("pin", "123456")
	require.NoError(t, err)

	_, err = other.Open("pin", sealed)
	require.ErrorIs(t, err, ErrAuthentication)

	_, err = o2.Open("pin", sealed)
	require.ErrorIs(t, err, ErrUnknownKeyID)
	assert.Contains(t, err.Error(), `"w1"`, "the error names the missing key id")
	assert.Contains(t, err.Error(), `"w2"`, "and the ids the worker holds")

	// Relabelling a value with a key id the opener holds does not help.
	relabelled := strings.Replace(sealed, ":w1:", ":w2:", 1)
	_, err = o2.Open("pin", relabelled)
	require.ErrorIs(t, err, ErrAuthentication)
}

func TestPurposeBinding(t *testing.T) {
	s, o := pair(t, mustKey(t, "w1"))
	sealed, err := s.Seal("pin", "123456")
	require.NoError(t, err)
	_, err = o.Open("backup_password", sealed)
	require.ErrorIs(t, err, ErrPurpose)
	assert.NotContains(t, err.Error(), "123456")

	for _, p := range []string{"", "has space", strings.Repeat("p", MaxPurposeLen+1), "é"} {
		_, err := s.Seal(p, "123456")
		require.Error(t, err, "purpose %q", p)
	}
	_, err = s.Seal("pin", strings.Repeat("z", MaxSecretLen+1))
	require.ErrorContains(t, err, "more than")
}

func TestNotSealed(t *testing.T) {
	s, o := pair(t, mustKey(t, "w1"))
	good, err := s.Seal("pin", "123456")
	require.NoError(t, err)
	body := strings.TrimPrefix(good, Prefix+"w1:")
	for name, v := range map[string]string{
		"clear PIN":       "123456",
		"empty":           "",
		"prefix only":     Prefix,
		"no key id":       Prefix + ":" + body,
		"no body":         Prefix + "w1:",
		"bad key id":      Prefix + "w 1:" + body,
		"other version":   "sealed:v2:w1:" + body,
		"upper case":      strings.ToUpper(Prefix) + "w1:" + body,
		"std base64":      Prefix + "w1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 80))),
		"padded":          good + "==",
		"bad base64":      Prefix + "w1:" + strings.Repeat("!", len(body)),
		"too short":       Prefix + "w1:" + body[:20],
		"leading space":   " " + good,
		"trailing ws":     good + "\n",
		"inner newline":   good[:len(good)-4] + "\n" + good[len(good)-4:],
		"clear with text": "sealed PIN 123456",
	} {
		t.Run(name, func(t *testing.T) {
			assert.False(t, IsSealed(v))
			_, err := o.Open("pin", v)
			require.ErrorIs(t, err, ErrNotSealed)
			assert.Equal(t, ErrNotSealed.Error(), err.Error(), "the error must not quote what may be a secret in clear")
			_, err = KeyIDOf(v)
			require.ErrorIs(t, err, ErrNotSealed)
		})
	}
}

// TestRotation follows the README: add the new key pair to the workers,
// then give the sealers the new public key as the last one, then drop the
// old pair once no running workflow holds a value sealed to it.
func TestRotation(t *testing.T) {
	old, next := mustKey(t, "2025-01"), mustKey(t, "2025-07")
	sOld, oOld := pair(t, old)
	inFlight, err := sOld.Seal("pin", "111111")
	require.NoError(t, err)

	// Step 1: workers hold both; sealers still seal with the old key.
	oBoth, err := NewOpener(old, next)
	require.NoError(t, err)
	got, err := oBoth.Open("pin", inFlight)
	require.NoError(t, err)
	assert.Equal(t, "111111", got)

	// Step 2: sealers get the public keys derived from the workers' list;
	// the last one, the new key, seals.
	sBoth, err := NewSealer(oBoth.PublicKeys()...)
	require.NoError(t, err)
	assert.Equal(t, "2025-07", sBoth.KeyID())
	fresh, err := sBoth.Seal("pin", "222222")
	require.NoError(t, err)
	id, _ := KeyIDOf(fresh)
	assert.Equal(t, "2025-07", id)
	got, err = oBoth.Open("pin", fresh)
	require.NoError(t, err)
	assert.Equal(t, "222222", got)
	// A worker not yet restarted fails clearly, and Temporal retries the
	// activity until a restarted worker takes it.
	_, err = oOld.Open("pin", fresh)
	require.ErrorIs(t, err, ErrUnknownKeyID)

	// Step 3: the old pair is dropped; new values still open, values
	// sealed to the dropped key fail with a clear error.
	oNew, err := NewOpener(next)
	require.NoError(t, err)
	_, err = oNew.Open("pin", fresh)
	require.NoError(t, err)
	_, err = oNew.Open("pin", inFlight)
	require.ErrorIs(t, err, ErrUnknownKeyID)
	assert.Contains(t, err.Error(), "2025-01")
}

func TestConstructorsRefuseBadKeys(t *testing.T) {
	k := mustKey(t, "w1")
	_, err := NewOpener()
	require.Error(t, err)
	_, err = NewSealer()
	require.Error(t, err)
	_, err = NewOpener(k, k)
	require.ErrorContains(t, err, "used twice")
	_, err = NewSealer(mustPub(t, k), mustPub(t, k))
	require.ErrorContains(t, err, "used twice")
	_, err = NewSealer(PublicKey{ID: "zero"})
	require.ErrorContains(t, err, "low-order")
	_, err = NewOpener(PrivateKey{ID: "bad id!", Key: k.Key})
	require.ErrorContains(t, err, "key id")
	_, err = GenerateKey("")
	require.Error(t, err)
}

func TestKeysNeverFormatted(t *testing.T) {
	k := mustKey(t, "w1")
	_, o := pair(t, k)
	secret := base64.StdEncoding.EncodeToString(k.Key[:])
	for _, out := range []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %x", k, k, k, k, k),
		fmt.Sprint(o), fmt.Sprintf("%v %+v %#v %s", o, o, o, o),
		fmt.Sprint([]PrivateKey{k}),
	} {
		assert.NotContains(t, out, secret)
		assert.NotContains(t, out, hex.EncodeToString(k.Key[:]))
		assert.NotContains(t, out, fmt.Sprint(k.Key[:4]))
		assert.Contains(t, out, "w1")
	}
}

func TestKeySpecs(t *testing.T) {
	a, b := mustKey(t, "a"), mustKey(t, "b")
	spec := a.Encode() + ",\n# comment, with a comma: id:base64\n " + b.Encode() + "\n"
	keys, err := ParsePrivateKeys(spec)
	require.NoError(t, err)
	require.Equal(t, []PrivateKey{a, b}, keys)

	pa, pb := mustPub(t, a), mustPub(t, b)
	pubs, err := ParsePublicKeys(pa.String() + "," + pb.String())
	require.NoError(t, err)
	require.Equal(t, []PublicKey{pa, pb}, pubs)

	// URL alphabet without padding is accepted as well.
	urlSpec := "a:" + base64.RawURLEncoding.EncodeToString(a.Key[:])
	keys, err = ParsePrivateKeys(urlSpec)
	require.NoError(t, err)
	assert.Equal(t, a.Key, keys[0].Key)

	secret := base64.StdEncoding.EncodeToString(a.Key[:])
	for name, tc := range map[string]struct{ spec, want string }{
		"empty":     {" \n,", "no private keys found"},
		"no colon":  {secret, "entry 1: want id:base64key"},
		"bad id":    {"a b:" + secret, "entry 1: key id may contain"},
		"dup":       {a.Encode() + "," + a.Encode(), "entry 2: key id repeats the one in entry 1"},
		"short key": {"a:" + secret[:20], "exactly 32 bytes"},
		"not b64":   {"a:" + secret[:20] + "!!", "not valid base64"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePrivateKeys(tc.spec)
			require.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), secret[:20])
		})
	}
}

func TestLoad(t *testing.T) {
	a, b := mustKey(t, "a"), mustKey(t, "b")
	env := map[string]string{EnvPrivateKeys + "_FILE": "/run/secrets/seal"}
	read := func(p string) ([]byte, error) {
		if p == "/run/secrets/seal" {
			return []byte(a.Encode() + "\n" + b.Encode() + "\n"), nil
		}
		return nil, errors.New("no such file")
	}
	o, err := LoadOpener(func(k string) string { return env[k] }, read)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, o.IDs())

	var pubSpec []string
	for _, p := range o.PublicKeys() {
		pubSpec = append(pubSpec, p.String())
	}
	s, err := LoadSealer(func(k string) string {
		return map[string]string{EnvPublicKeys: strings.Join(pubSpec, ",")}[k]
	}, read)
	require.NoError(t, err)
	assert.Equal(t, "b", s.KeyID())
	v, err := s.Seal("pin", "123456")
	require.NoError(t, err)
	got, err := o.Open("pin", v)
	require.NoError(t, err)
	assert.Equal(t, "123456", got)

	none := func(string) string { return "" }
	_, err = LoadOpener(none, read)
	require.ErrorIs(t, err, ErrNoKeys)
	assert.ErrorContains(t, err, EnvPrivateKeys+" or "+EnvPrivateKeys+"_FILE")
	_, err = LoadSealer(none, read)
	require.ErrorIs(t, err, ErrNoKeys)

	_, err = LoadOpener(func(k string) string {
		return map[string]string{EnvPrivateKeys: "a:" + base64.StdEncoding.EncodeToString(a.Key[:20])}[k]
	}, read)
	require.ErrorContains(t, err, "seal: "+EnvPrivateKeys+": private key entry 1")
	assert.False(t, errors.Is(err, ErrNoKeys))
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"123456", "", "backup password", "\x00\xff", strings.Repeat("9", 300)} {
		f.Add("pin", s)
	}
	f.Add("backup_password", "hunter2hunter2")
	s, o := pair(f, mustKey(f, "w1"))
	f.Fuzz(func(t *testing.T, purpose, secret string) {
		sealed, err := s.Seal(purpose, secret)
		if validPurpose(purpose) != nil || len(secret) > MaxSecretLen {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		require.True(t, IsSealed(sealed))
		got, err := o.Open(purpose, sealed)
		require.NoError(t, err)
		require.Equal(t, secret, got)
		// Below 8 bytes a chance match inside random base64 becomes
		// plausible over millions of fuzz inputs; TestNoPINInSealedValue
		// covers 6-digit PINs with a seeded source instead.
		if len(secret) >= 8 {
			assertNoLeak(t, sealed, secret)
		}
	})
}

// FuzzOpen feeds arbitrary strings to Open: it must never panic, never
// accept a value IsSealed rejects, and never quote its input in an error.
func FuzzOpen(f *testing.F) {
	s, o := pair(f, mustKey(f, "w1"))
	good, err := s.Seal("pin", "123456")
	require.NoError(f, err)
	for _, v := range []string{good, "123456", Prefix, good[:len(good)-1], strings.Replace(good, "w1", "w2", 1)} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := o.Open("pin", v)
		if !IsSealed(v) {
			require.ErrorIs(t, err, ErrNotSealed)
		}
		if err != nil {
			if len(v) >= 8 && !strings.HasPrefix(v, Prefix) {
				require.NotContains(t, err.Error(), v)
			}
			return
		}
		require.Equal(t, "123456", got, "only the genuine value opens")
	})
}
