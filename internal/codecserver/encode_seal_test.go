package codecserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/codecserver"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/seal/sealtest"
)

// jsonPayload is a payload as the temporal CLI makes it of --input: the
// JSON text as given, with the json/plain encoding.
func jsonPayload(data string) *commonpb.Payload {
	return &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     []byte(data),
	}
}

func sealKeys(t *testing.T) (*seal.Sealer, *seal.Opener) {
	t.Helper()
	return sealtest.KeyPair("worker-1")
}

func sealingServer(t *testing.T, s *seal.Sealer) string {
	t.Helper()
	return newServer(t, func(o *codecserver.Options) { o.Sealer = s }).URL
}

// encodeOverHTTP posts payloads to /encode as the CLI does and returns the
// raw response and the payloads it holds after the worker's codec decrypts
// them.
func encodeOverHTTP(t *testing.T, srv string, payloads ...*commonpb.Payload) (string, []*commonpb.Payload) {
	t.Helper()
	body, err := json.Marshal(&commonpb.Payloads{Payloads: payloads})
	require.NoError(t, err)
	resp, out := do(t, http.MethodPost, srv+"/default/encode", body, map[string]string{"Authorization": "Bearer " + token})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
	var enc commonpb.Payloads
	require.NoError(t, json.Unmarshal(out, &enc))
	dec, err := codec.NewCodec(newKeyring(t)).Decode(enc.Payloads)
	require.NoError(t, err)
	require.Len(t, dec, len(payloads))
	return string(out), dec
}

func fields(t *testing.T, p *commonpb.Payload) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(p.GetData(), &m))
	return m
}

func TestEncodeSealsThePIN(t *testing.T) {
	sealer, opener := sealKeys(t)
	const input = `{"waba_id": "100000000000001", "country_code": "1", "phone_number": "5551234567",
		"display_name": "Acme <Support> & Co", "pin": "012345", "region": "CH", "migrate": true, "code_wait": 3600000000000}`
	raw, got := encodeOverHTTP(t, sealingServer(t, sealer), jsonPayload(input))

	out := fields(t, got[0])
	pin, ok := out["pin"].(string)
	require.True(t, ok)
	require.True(t, seal.IsSealed(pin), "pin left in clear")
	opened, err := opener.Open(seal.PurposePIN, pin)
	require.NoError(t, err)
	assert.Equal(t, "012345", opened)
	_, err = opener.Open(seal.PurposeOwnershipCode, pin)
	require.ErrorIs(t, err, seal.ErrPurpose)

	want := fields(t, jsonPayload(input))
	delete(want, "pin")
	delete(out, "pin")
	assert.Equal(t, want, out, "the other fields are untouched")
	assert.Contains(t, string(got[0].GetData()), `"Acme <Support> & Co"`, "no HTML escaping of copied fields")
	assert.Equal(t, converter.MetadataEncodingJSON, string(got[0].GetMetadata()[converter.MetadataEncoding]))
	require.Empty(t, findLeak("012345", raw, string(got[0].GetData())))

	// What the worker's data converter reads is the sealed PIN.
	var in struct {
		PIN         string `json:"pin"`
		DisplayName string `json:"display_name"`
	}
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(got[0], &in))
	assert.Equal(t, pin, in.PIN)
	assert.Equal(t, "Acme <Support> & Co", in.DisplayName)
}

func TestEncodeSealsCodesAndBackupPasswords(t *testing.T) {
	sealer, opener := sealKeys(t)
	srv := sealingServer(t, sealer)
	raw, got := encodeOverHTTP(t, srv,
		jsonPayload(`{"code": "443102"}`),
		jsonPayload(`{"pin": "123456", "backup": {"data": "QkFDS1VQ", "password": "correct horse"}}`),
		jsonPayload(`{"Code": "998877", "PIN": "654321"}`), // Go's encoding/json matches keys so
	)
	code, err := opener.Open(seal.PurposeOwnershipCode, fields(t, got[0])["code"].(string))
	require.NoError(t, err)
	assert.Equal(t, "443102", code)

	backup := fields(t, got[1])["backup"].(map[string]any)
	assert.Equal(t, "QkFDS1VQ", backup["data"])
	password, err := opener.Open(seal.PurposeBackupPassword, backup["password"].(string))
	require.NoError(t, err)
	assert.Equal(t, "correct horse", password)

	var fix struct {
		Code string `json:"code"`
		PIN  string `json:"pin"`
	}
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(got[2], &fix))
	code, err = opener.Open(seal.PurposeOwnershipCode, fix.Code)
	require.NoError(t, err)
	assert.Equal(t, "998877", code)
	pin, err := opener.Open(seal.PurposePIN, fix.PIN)
	require.NoError(t, err)
	assert.Equal(t, "654321", pin)

	for _, secret := range []string{"443102", "123456", "correct horse", "998877", "654321"} {
		var data []string
		for _, p := range got {
			data = append(data, string(p.GetData()))
		}
		require.Empty(t, findLeak(secret, append(data, raw)...), secret)
	}
}

func TestEncodeLeavesOtherPayloadsAlone(t *testing.T) {
	sealer, _ := sealKeys(t)
	already, err := sealer.Seal(seal.PurposePIN, "123456")
	require.NoError(t, err)
	dc := converter.GetDefaultDataConverter()
	str, err := dc.ToPayload("pin 123456")
	require.NoError(t, err)
	null, err := dc.ToPayload(nil)
	require.NoError(t, err)
	proto3, err := dc.ToPayload(&commonpb.Payload{Data: []byte(`{"pin":"123456"}`)})
	require.NoError(t, err)
	payloads := []*commonpb.Payload{
		jsonPayload(`{"region": "DE", "clear_region": false}`), // a fix without a PIN
		jsonPayload(`[{"pin": "123456"}]`),                     // not an object
		jsonPayload(`{"resume": {"pin": "123456"}}`),           // not top-level
		jsonPayload(`{"pin": "123456"`),                        // not JSON
		jsonPayload(`{"backup": "123456"}`),                    // not a backup object
		{Data: []byte(`{"pin": "123456"}`)},                    // no encoding
		{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("binary/plain")}, Data: []byte(`{"pin": "123456"}`)},
		str, null, proto3,
	}
	_, got := encodeOverHTTP(t, sealingServer(t, sealer), payloads...)
	for i := range payloads {
		assert.True(t, proto.Equal(payloads[i], got[i]), "payload %d changed: %s", i, got[i].GetData())
	}

	// Empty and null secrets mean "unchanged"; they stay so. A secret
	// sealed by the caller is not sealed again.
	_, got = encodeOverHTTP(t, sealingServer(t, sealer),
		jsonPayload(`{"pin": "", "code": null, "region": "DE"}`), jsonPayload(`{"pin": "`+already+`"}`))
	assert.Equal(t, map[string]any{"pin": "", "code": nil, "region": "DE"}, fields(t, got[0]))
	assert.Equal(t, map[string]any{"pin": already}, fields(t, got[1]))
}

func TestEncodeRefusesSecretsThatAreNotStrings(t *testing.T) {
	sealer, _ := sealKeys(t)
	srv := sealingServer(t, sealer)
	for _, input := range []string{`{"pin": 123456}`, `{"code": [443102]}`, `{"backup": {"data": "x", "password": 31415926}}`} {
		body, err := json.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{jsonPayload(input)}})
		require.NoError(t, err)
		resp, out := do(t, http.MethodPost, srv+"/encode", body, map[string]string{"Authorization": "Bearer " + token})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, input)
		assert.Contains(t, string(out), "must be a JSON string", input)
		for _, secret := range []string{"123456", "443102", "31415926"} {
			assert.NotContains(t, string(out), secret)
		}
	}
}

// TestEncodeDropsDuplicateClearSecrets: encoding/json keeps the last of two
// equal keys, so a sealed value after a clear one would hide the clear one
// from a check of the decoded object alone.
func TestEncodeDropsDuplicateClearSecrets(t *testing.T) {
	sealer, opener := sealKeys(t)
	already, err := sealer.Seal(seal.PurposePIN, "222222")
	require.NoError(t, err)
	raw, got := encodeOverHTTP(t, sealingServer(t, sealer), jsonPayload(`{"pin": "111111", "pin": "`+already+`"}`))
	require.Empty(t, findLeak("111111", raw, string(got[0].GetData())))
	pin, err := opener.Open(seal.PurposePIN, fields(t, got[0])["pin"].(string))
	require.NoError(t, err)
	assert.Equal(t, "222222", pin)
	assert.Equal(t, 1, strings.Count(string(got[0].GetData()), "sealed:v1:"))
}

func TestEncodeWithoutSealerKeepsThePIN(t *testing.T) {
	in := jsonPayload(`{"pin": "012345", "display_name": "Acme"}`)
	_, got := encodeOverHTTP(t, newServer(t, nil).URL, in)
	assert.True(t, proto.Equal(in, got[0]), "without seal keys /encode only encrypts")
}
