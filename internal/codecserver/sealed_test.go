package codecserver_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/codecserver"
	"github.com/wa-onboarding/onboarding/internal/seal"
)

// leakForms returns the forms in which secret could appear in a codec
// server response: as is, hex, and base64 in both alphabets at each of the
// three byte alignments it could have inside a longer payload (only the
// characters that depend on the secret alone).
func leakForms(secret string) []string {
	forms := []string{secret, hex.EncodeToString([]byte(secret)), strings.ToUpper(hex.EncodeToString([]byte(secret)))}
	n := len(secret)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for k := range 3 {
			s := enc.EncodeToString(append(make([]byte, k), secret...))
			forms = append(forms, s[(8*k+5)/6:(8*(k+n))/6])
		}
	}
	return forms
}

// findLeak returns the first form of secret found in any of texts, or "".
func findLeak(secret string, texts ...string) string {
	for _, t := range texts {
		for _, f := range leakForms(secret) {
			if strings.Contains(t, f) {
				return f
			}
		}
	}
	return ""
}

type onboardInput struct {
	PhoneNumber string `json:"phone_number"`
	DisplayName string `json:"display_name"`
	PIN         string `json:"pin"`
}

// decodeThroughServer encrypts in as the worker's data converter would and
// decodes it through the codec server's HTTP API, as Temporal UI does. It
// returns the raw response body and the decoded payload data.
func decodeThroughServer(t *testing.T, srv string, in onboardInput) (string, string) {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(in)
	require.NoError(t, err)
	enc, err := codec.NewCodec(newKeyring(t)).Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	body, err := json.Marshal(&commonpb.Payloads{Payloads: enc})
	require.NoError(t, err)

	resp, out := do(t, http.MethodPost, srv+"/onboarding/decode", body, map[string]string{
		"Authorization": "Bearer " + token, "X-Namespace": "onboarding", "Content-Type": "application/json",
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
	var got commonpb.Payloads
	require.NoError(t, json.Unmarshal(out, &got))
	require.Len(t, got.Payloads, 1)
	return string(out), string(got.Payloads[0].GetData())
}

// TestDecodeKeepsSealedPINSealed is the point of package seal: the codec
// server removes the AES layer for the UI and the CLI, holds no seal key,
// and so returns the PIN still sealed while everything else reads in clear.
func TestDecodeKeepsSealedPINSealed(t *testing.T) {
	const pin = "482913"
	srv := newServer(t, func(o *codecserver.Options) { o.Namespaces = []string{"onboarding"} })

	sealer, opener := sealKeys(t)
	sealed, err := sealer.Seal("pin", pin)
	require.NoError(t, err)

	in := onboardInput{PhoneNumber: "+15551234567", DisplayName: "Acme Support", PIN: sealed}
	raw, data := decodeThroughServer(t, srv.URL, in)

	var out onboardInput
	require.NoError(t, json.Unmarshal([]byte(data), &out))
	require.Equal(t, "Acme Support", out.DisplayName, "the rest of the payload is decoded")
	require.Equal(t, sealed, out.PIN, "the sealed PIN comes back exactly as sealed")
	require.True(t, seal.IsSealed(out.PIN))
	require.Empty(t, findLeak(pin, raw, data), "PIN found in the codec server's response")

	// And only a worker's key opens what the UI was shown.
	got, err := opener.Open("pin", out.PIN)
	require.NoError(t, err)
	require.Equal(t, pin, got)
}

// TestLeakCheckDetectsClearPIN shows that the check above can fail: the
// same payload with the PIN in clear is caught in the response.
func TestLeakCheckDetectsClearPIN(t *testing.T) {
	const pin = "482913"
	srv := newServer(t, func(o *codecserver.Options) { o.Namespaces = []string{"onboarding"} })
	raw, data := decodeThroughServer(t, srv.URL, onboardInput{PhoneNumber: "+15551234567", DisplayName: "Acme Support", PIN: pin})
	require.NotEmpty(t, findLeak(pin, raw), "the base64 forms must catch the PIN in the raw response")
	require.NotEmpty(t, findLeak(pin, data))
	for k := range 3 {
		blob := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", k) + pin + "y"))
		require.NotEmpty(t, findLeak(pin, blob), "alignment %d", k)
	}
}
