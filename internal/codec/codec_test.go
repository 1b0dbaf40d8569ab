package codec_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/wa-onboarding/onboarding/internal/codec"
)

const pin = "012345"

type registerInput struct {
	PhoneNumberID string
	PIN           string
}

// testKey derives a deterministic key so failures are reproducible.
func testKey(id string, seed byte) codec.Key {
	return codec.Key{ID: id, Secret: bytes.Repeat([]byte{seed}, codec.KeySize)}
}

func keyring(t testing.TB, keys ...codec.Key) *codec.Keyring {
	t.Helper()
	k, err := codec.NewKeyring(keys...)
	require.NoError(t, err)
	return k
}

// requireNoPlainSecret fails if secret appears in b in any encoding a human
// or a history export would show it in.
func requireNoPlainSecret(t *testing.T, b []byte, secret string) {
	t.Helper()
	s := []byte(secret)
	forms := map[string][]byte{
		"plain":       s,
		"base64 std":  []byte(base64.StdEncoding.EncodeToString(s)),
		"base64 raw":  []byte(base64.RawStdEncoding.EncodeToString(s)),
		"base64 url":  []byte(base64.URLEncoding.EncodeToString(s)),
		"base64 rurl": []byte(base64.RawURLEncoding.EncodeToString(s)),
		"hex":         []byte(hex.EncodeToString(s)),
		"HEX":         []byte(strings.ToUpper(hex.EncodeToString(s))),
	}
	for name, f := range forms {
		require.Falsef(t, bytes.Contains(b, f), "secret found in %s form", name)
	}
	// Base64 of a secret embedded in JSON depends on its offset mod 3, so
	// also check the encoded bytes themselves in each text encoding.
	for _, enc := range []string{base64.StdEncoding.EncodeToString(b), base64.URLEncoding.EncodeToString(b), hex.EncodeToString(b)} {
		require.NotContains(t, enc, secret)
	}
}

func TestRoundTripThroughDataConverter(t *testing.T) {
	k := keyring(t, testKey("k1", 1))
	dc := codec.NewDataConverter(k)
	in := registerInput{PhoneNumberID: "1065", PIN: pin}

	plain, err := converter.GetDefaultDataConverter().ToPayload(in)
	require.NoError(t, err)
	require.Contains(t, string(plain.Data), pin, "sanity: the default converter stores the PIN in clear")

	p, err := dc.ToPayload(in)
	require.NoError(t, err)
	require.Equal(t, codec.MetadataEncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
	require.Equal(t, "k1", string(p.Metadata[codec.MetadataEncryptionKeyID]))
	wire, err := proto.Marshal(p)
	require.NoError(t, err)
	requireNoPlainSecret(t, wire, pin)

	var out registerInput
	require.NoError(t, dc.FromPayload(p, &out))
	require.Equal(t, in, out)
}

func TestEncodeIsRandomized(t *testing.T) {
	c := codec.NewCodec(keyring(t, testKey("k1", 1)))
	p := &commonpb.Payload{Data: []byte(pin)}
	a, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	b, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.NotEqual(t, a[0].Data, b[0].Data, "equal ciphertexts would reveal equal PINs")
}

func TestEncodeDoesNotMutateInput(t *testing.T) {
	c := codec.NewCodec(keyring(t, testKey("k1", 1)))
	p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}
	orig := proto.Clone(p)
	enc, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.True(t, proto.Equal(orig, p))
	dec, err := c.Decode(enc)
	require.NoError(t, err)
	require.True(t, proto.Equal(orig, dec[0]))
}

func TestFailureMessageEncrypted(t *testing.T) {
	dc, fc := codec.ClientOptions(keyring(t, testKey("k1", 1)))
	require.NotNil(t, dc)
	appErr := temporal.NewApplicationError("register failed for PIN "+pin, "RegisterError", registerInput{PIN: pin})
	f := fc.ErrorToFailure(appErr)
	require.Equal(t, "Encoded failure", f.GetMessage())
	require.Empty(t, f.GetStackTrace())
	wire, err := proto.Marshal(f)
	require.NoError(t, err)
	requireNoPlainSecret(t, wire, pin)

	back := fc.FailureToError(f)
	require.Contains(t, back.Error(), "register failed for PIN "+pin)
	var ae *temporal.ApplicationError
	require.ErrorAs(t, back, &ae)
	var details registerInput
	require.NoError(t, ae.Details(&details))
	require.Equal(t, pin, details.PIN)
}

func TestKeyRotation(t *testing.T) {
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	old := codec.NewCodec(keyring(t, k1))
	in := []*commonpb.Payload{{Data: []byte(pin)}}
	encOld, err := old.Encode(in)
	require.NoError(t, err)

	both := codec.NewCodec(keyring(t, k1, k2))
	encNew, err := both.Encode(in)
	require.NoError(t, err)
	require.Equal(t, "k2", string(encNew[0].Metadata[codec.MetadataEncryptionKeyID]), "the last key encrypts")

	for name, enc := range map[string][]*commonpb.Payload{"old": encOld, "new": encNew} {
		dec, err := both.Decode(enc)
		require.NoError(t, err, name)
		require.Equal(t, []byte(pin), dec[0].Data, name)
	}

	_, err = old.Decode(encNew)
	require.ErrorIs(t, err, codec.ErrUnknownKeyID)

	onlyNew := codec.NewCodec(keyring(t, k2))
	_, err = onlyNew.Decode(encOld)
	require.ErrorIs(t, err, codec.ErrUnknownKeyID)
	require.EqualError(t, err, `codec: unknown key id "k1"`)
}

func TestWithPrimary(t *testing.T) {
	k := keyring(t, testKey("k1", 1), testKey("k2", 2))
	require.Equal(t, "k2", k.PrimaryID())
	k1, err := k.WithPrimary("k1")
	require.NoError(t, err)
	require.Equal(t, "k1", k1.PrimaryID())
	require.Equal(t, "k2", k.PrimaryID(), "WithPrimary must not modify the receiver")
	enc, err := codec.NewCodec(k1).Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	require.Equal(t, "k1", string(enc[0].Metadata[codec.MetadataEncryptionKeyID]))
	_, err = k.WithPrimary("k3")
	require.Error(t, err)
}

func TestDecodeErrors(t *testing.T) {
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	c := codec.NewCodec(keyring(t, k1, k2))
	enc, err := c.Encode([]*commonpb.Payload{{Data: []byte(pin)}})
	require.NoError(t, err)
	good := enc[0]

	with := func(mod func(p *commonpb.Payload)) []*commonpb.Payload {
		p := proto.Clone(good).(*commonpb.Payload)
		mod(p)
		return []*commonpb.Payload{p}
	}
	cases := []struct {
		name    string
		in      []*commonpb.Payload
		wantErr error
		wantMsg string
	}{
		{"flipped ciphertext bit", with(func(p *commonpb.Payload) { p.Data[len(p.Data)/2] ^= 1 }), codec.ErrAuthentication, "codec: payload authentication failed"},
		{"flipped nonce bit", with(func(p *commonpb.Payload) { p.Data[0] ^= 0x80 }), codec.ErrAuthentication, ""},
		{"flipped tag bit", with(func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 1 }), codec.ErrAuthentication, ""},
		{"truncated by one", with(func(p *commonpb.Payload) { p.Data = p.Data[:len(p.Data)-1] }), codec.ErrAuthentication, ""},
		{"truncated to nonce", with(func(p *commonpb.Payload) { p.Data = p.Data[:12] }), codec.ErrAuthentication, ""},
		{"empty data", with(func(p *commonpb.Payload) { p.Data = nil }), codec.ErrAuthentication, ""},
		{"extended", with(func(p *commonpb.Payload) { p.Data = append(p.Data, 0) }), codec.ErrAuthentication, ""},
		{"relabelled to other known key", with(func(p *commonpb.Payload) { p.Metadata[codec.MetadataEncryptionKeyID] = []byte("k1") }), codec.ErrAuthentication, ""},
		{"unknown key id", with(func(p *commonpb.Payload) { p.Metadata[codec.MetadataEncryptionKeyID] = []byte("x") }), codec.ErrUnknownKeyID, `codec: unknown key id "x"`},
		{"missing key id", with(func(p *commonpb.Payload) { delete(p.Metadata, codec.MetadataEncryptionKeyID) }), codec.ErrMissingKeyID, ""},
		{"empty key id", with(func(p *commonpb.Payload) { p.Metadata[codec.MetadataEncryptionKeyID] = nil }), codec.ErrMissingKeyID, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.Decode(tc.in)
			require.ErrorIs(t, err, tc.wantErr)
			require.Nil(t, out)
			if tc.wantMsg != "" {
				require.EqualError(t, err, tc.wantMsg)
			}
			require.NotContains(t, err.Error(), pin)
		})
	}

	t.Run("long unknown key id is truncated", func(t *testing.T) {
		_, err := c.Decode(with(func(p *commonpb.Payload) {
			p.Metadata[codec.MetadataEncryptionKeyID] = bytes.Repeat([]byte("a"), 10000)
		}))
		require.ErrorIs(t, err, codec.ErrUnknownKeyID)
		require.Less(t, len(err.Error()), 200)
	})
}

func TestDecodePassesThroughUnencrypted(t *testing.T) {
	c := codec.NewCodec(keyring(t, testKey("k1", 1)))
	in := []*commonpb.Payload{
		{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"a":1}`)},
		{Metadata: map[string][]byte{"encoding": []byte("binary/null")}},
		{Metadata: map[string][]byte{"encoding": []byte("binary/zlib")}, Data: []byte{1, 2, 3}},
		{Data: []byte("no metadata")},
	}
	out, err := c.Decode(in)
	require.NoError(t, err)
	require.Len(t, out, len(in))
	for i := range in {
		require.Same(t, in[i], out[i])
	}
}

// FuzzDecode feeds arbitrary ciphertexts and key ids to Decode and checks it
// never panics, rejects everything it did not seal itself, and round-trips
// everything it did.
func FuzzDecode(f *testing.F) {
	k := keyring(f, testKey("k1", 1), testKey("k2", 2))
	c := codec.NewCodec(k)
	seal := func(data []byte) []byte {
		enc, err := c.Encode([]*commonpb.Payload{{Data: data}})
		require.NoError(f, err)
		return enc[0].Data
	}
	f.Add([]byte{}, "k2", false)
	f.Add([]byte(pin), "k2", true)
	f.Add(seal([]byte(pin)), "k2", false)
	f.Add(seal([]byte(pin)), "k1", false)
	f.Add(seal(nil)[:12], "k2", false)
	f.Add(seal(nil), "unknown", false)
	f.Add(bytes.Repeat([]byte{0xff}, 64), "", false)
	f.Add([]byte{0x0a, 0x00}, "k2\x00", true)

	f.Fuzz(func(t *testing.T, data []byte, keyID string, sealFirst bool) {
		if sealFirst {
			// Valid ciphertext: must come back exactly.
			in := &commonpb.Payload{Metadata: map[string][]byte{"k": []byte(keyID)}, Data: data}
			enc, err := c.Encode([]*commonpb.Payload{in})
			require.NoError(t, err)
			dec, err := c.Decode(enc)
			require.NoError(t, err)
			require.True(t, proto.Equal(in, dec[0]))
			return
		}
		p := &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding:    []byte(codec.MetadataEncodingEncrypted),
				codec.MetadataEncryptionKeyID: []byte(keyID),
			},
			Data: data,
		}
		dec, err := c.Decode([]*commonpb.Payload{p})
		if err == nil {
			// Only genuine ciphertexts (the sealed seeds) get here;
			// what they decrypt to must survive another round trip.
			require.Len(t, dec, 1)
			again, err := c.Encode(dec)
			require.NoError(t, err)
			back, err := c.Decode(again)
			require.NoError(t, err)
			require.True(t, proto.Equal(dec[0], back[0]))
			return
		}
		require.True(t,
			errors.Is(err, codec.ErrAuthentication) ||
				errors.Is(err, codec.ErrUnknownKeyID) ||
				errors.Is(err, codec.ErrMissingKeyID),
			"unexpected error kind: %v", err)
	})
}

// benchInput is about 1 KiB of JSON, a large onboarding input.
var benchInput = struct {
	PhoneNumberID string
	PIN           string
	Notes         string
}{PhoneNumberID: "106540352242922", PIN: pin, Notes: strings.Repeat("n", 950)}

func BenchmarkCodecEncode(b *testing.B) {
	plain := converter.GetDefaultDataConverter()
	enc := codec.NewDataConverter(keyring(b, testKey("k1", 1)))
	p, err := plain.ToPayload(benchInput)
	require.NoError(b, err)
	b.Logf("plain payload: %d bytes", proto.Size(p))
	for _, bc := range []struct {
		name string
		dc   converter.DataConverter
	}{{"baseline-plain", plain}, {"encrypted", enc}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(proto.Size(p)))
			for b.Loop() {
				if _, err := bc.dc.ToPayload(benchInput); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCodecDecode(b *testing.B) {
	plain := converter.GetDefaultDataConverter()
	enc := codec.NewDataConverter(keyring(b, testKey("k1", 1)))
	for _, bc := range []struct {
		name string
		dc   converter.DataConverter
	}{{"baseline-plain", plain}, {"encrypted", enc}} {
		p, err := bc.dc.ToPayload(benchInput)
		require.NoError(b, err)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(proto.Size(p)))
			var out struct {
				PhoneNumberID string
				PIN           string
				Notes         string
			}
			for b.Loop() {
				if err := bc.dc.FromPayload(p, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ExampleClientOptions() {
	keys, err := codec.ParseKeys("2024-01:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		panic(err)
	}
	dc, fc := codec.ClientOptions(keys)
	// client.Options{DataConverter: dc, FailureConverter: fc, ...}
	fmt.Println(dc != nil, fc != nil, keys)
	// Output: true true codec.Keyring{primary: "2024-01", ids: ["2024-01"]}
}
