package codecserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/codecserver"
)

const (
	token     = "s3cr3t-codec-token"
	uiOrigin  = "http://localhost:8233"
	badOrigin = "https://evil.example"
)

func newKeyring(t *testing.T) *codec.Keyring {
	t.Helper()
	k, err := codec.NewKeyring(codec.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	require.NoError(t, err)
	return k
}

func newServer(t *testing.T, mod func(*codecserver.Options)) *httptest.Server {
	t.Helper()
	opts := codecserver.Options{Codec: codec.NewCodec(newKeyring(t)), Token: token}
	if mod != nil {
		mod(&opts)
	}
	h, err := codecserver.New(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// encryptedBody returns a decode request body and the plain payloads it
// should decode to.
func encryptedBody(t *testing.T) ([]byte, []*commonpb.Payload) {
	t.Helper()
	dc := converter.GetDefaultDataConverter()
	var plain []*commonpb.Payload
	for _, v := range []any{map[string]string{"PIN": "012345"}, "ownership code 987654", nil} {
		p, err := dc.ToPayload(v)
		require.NoError(t, err)
		plain = append(plain, p)
	}
	enc, err := codec.NewCodec(newKeyring(t)).Encode(plain)
	require.NoError(t, err)
	// The remote codec protocol body is the JSON form of Payloads, as
	// Temporal UI and converter.NewRemotePayloadCodec send it.
	body, err := json.Marshal(&commonpb.Payloads{Payloads: enc})
	require.NoError(t, err)
	require.NotContains(t, string(body), "012345")
	return body, plain
}

func do(t *testing.T, method, url string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	return resp, buf.Bytes()
}

func TestDecodeAuthorization(t *testing.T) {
	srv := newServer(t, nil)
	body, plain := encryptedBody(t)

	for name, auth := range map[string]string{
		"no header":     "",
		"wrong token":   "Bearer not-" + token,
		"token prefix":  "Bearer " + token[:5],
		"wrong scheme":  "Basic " + token,
		"bare token":    token,
		"empty bearer":  "Bearer ",
		"token + extra": "Bearer " + token + "x",
	} {
		t.Run(name, func(t *testing.T) {
			hdr := map[string]string{"Content-Type": "application/json"}
			if auth != "" {
				hdr["Authorization"] = auth
			}
			resp, out := do(t, http.MethodPost, srv.URL+"/decode", body, hdr)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.NotContains(t, string(out), "012345")
			require.NotContains(t, string(out), token)
		})
	}

	t.Run("right token", func(t *testing.T) {
		for _, auth := range []string{"Bearer " + token, "bearer " + token} {
			resp, out := do(t, http.MethodPost, srv.URL+"/decode", body, map[string]string{
				"Content-Type":  "application/json",
				"Authorization": auth,
				"X-Namespace":   "default",
			})
			require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			var got commonpb.Payloads
			require.NoError(t, json.Unmarshal(out, &got))
			require.Len(t, got.Payloads, len(plain))
			for i := range plain {
				require.True(t, proto.Equal(plain[i], got.Payloads[i]), "payload %d", i)
			}
		}
	})
}

func TestEncodeThenDecodeOverHTTP(t *testing.T) {
	srv := newServer(t, nil)
	auth := map[string]string{"Authorization": "Bearer " + token}
	p, err := converter.GetDefaultDataConverter().ToPayload("PIN 012345")
	require.NoError(t, err)
	body, err := json.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)

	// The CLI's {namespace} templating puts the namespace in the path.
	resp, enc := do(t, http.MethodPost, srv.URL+"/default/encode", body, auth)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(enc))
	require.NotContains(t, string(enc), "012345")

	resp, dec := do(t, http.MethodPost, srv.URL+"/default/decode", enc, auth)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(dec))
	var got commonpb.Payloads
	require.NoError(t, json.Unmarshal(dec, &got))
	require.True(t, proto.Equal(p, got.Payloads[0]))
}

func TestRemotePayloadCodecClient(t *testing.T) {
	// converter.NewRemotePayloadCodec is what the temporal CLI uses for
	// --codec-endpoint; it must interoperate.
	srv := newServer(t, nil)
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + "/{namespace}",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		},
	})
	_, plain := encryptedBody(t)
	enc, err := remote.Encode(plain)
	require.NoError(t, err)
	local, err := codec.NewCodec(newKeyring(t)).Decode(enc)
	require.NoError(t, err)
	dec, err := remote.Decode(enc)
	require.NoError(t, err)
	for i := range plain {
		require.True(t, proto.Equal(plain[i], local[i]))
		require.True(t, proto.Equal(plain[i], dec[i]))
	}
}

func TestCORS(t *testing.T) {
	srv := newServer(t, nil)
	body, _ := encryptedBody(t)

	t.Run("preflight from allowed origin", func(t *testing.T) {
		for _, origin := range codecserver.DefaultOrigins {
			resp, _ := do(t, http.MethodOptions, srv.URL+"/decode", nil, map[string]string{
				"Origin":                         origin,
				"Access-Control-Request-Method":  "POST",
				"Access-Control-Request-Headers": "content-type,x-namespace,authorization",
			})
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			require.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
			require.Equal(t, "POST", resp.Header.Get("Access-Control-Allow-Methods"))
			require.Equal(t, "Content-Type, X-Namespace, Authorization", resp.Header.Get("Access-Control-Allow-Headers"))
			require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
		}
	})
	t.Run("POST from allowed origin", func(t *testing.T) {
		resp, _ := do(t, http.MethodPost, srv.URL+"/decode", body, map[string]string{
			"Origin": uiOrigin, "Authorization": "Bearer " + token,
		})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("401 from allowed origin is readable by the UI", func(t *testing.T) {
		resp, _ := do(t, http.MethodPost, srv.URL+"/decode", body, map[string]string{"Origin": uiOrigin})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	})
	for _, method := range []string{http.MethodPost, http.MethodOptions} {
		t.Run(method+" from foreign origin", func(t *testing.T) {
			resp, out := do(t, method, srv.URL+"/decode", body, map[string]string{
				"Origin": badOrigin, "Authorization": "Bearer " + token,
			})
			require.Equal(t, http.StatusForbidden, resp.StatusCode)
			require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
			require.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))
			require.NotContains(t, string(out), "012345")
		})
	}
	t.Run("configured origins replace the defaults", func(t *testing.T) {
		srv := newServer(t, func(o *codecserver.Options) { o.AllowedOrigins = []string{"https://cloud.temporal.io/"} })
		resp, _ := do(t, http.MethodOptions, srv.URL+"/decode", nil, map[string]string{"Origin": "https://cloud.temporal.io"})
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		require.Equal(t, "https://cloud.temporal.io", resp.Header.Get("Access-Control-Allow-Origin"))
		resp, _ = do(t, http.MethodOptions, srv.URL+"/decode", nil, map[string]string{"Origin": uiOrigin})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
}

func TestMethodsAndPaths(t *testing.T) {
	srv := newServer(t, nil)
	auth := map[string]string{"Authorization": "Bearer " + token}
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		resp, _ := do(t, m, srv.URL+"/decode", nil, auth)
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, m)
		require.Equal(t, "POST, OPTIONS", resp.Header.Get("Allow"))
	}
	resp, _ := do(t, http.MethodPost, srv.URL+"/other", []byte(`{}`), auth)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = do(t, http.MethodPost, srv.URL+"/decode", []byte(`not json`), auth)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestTamperedPayloadIsRejected(t *testing.T) {
	srv := newServer(t, nil)
	body, _ := encryptedBody(t)
	var ps commonpb.Payloads
	require.NoError(t, json.Unmarshal(body, &ps))
	ps.Payloads[0].Data[20] ^= 1
	body, err := json.Marshal(&ps)
	require.NoError(t, err)
	resp, out := do(t, http.MethodPost, srv.URL+"/decode", body, map[string]string{"Authorization": "Bearer " + token})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(out), "codec: payload authentication failed")
}

func TestBodyLimit(t *testing.T) {
	srv := newServer(t, func(o *codecserver.Options) { o.MaxBodyBytes = 1024 })
	big := []byte(`{"payloads":[{"data":"` + strings.Repeat("A", 2048) + `"}]}`)
	resp, _ := do(t, http.MethodPost, srv.URL+"/decode", big, map[string]string{"Authorization": "Bearer " + token})
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

func TestNamespaces(t *testing.T) {
	srv := newServer(t, func(o *codecserver.Options) { o.Namespaces = []string{"onboarding", "staging"} })
	body, _ := encryptedBody(t)
	for _, tc := range []struct {
		name   string
		path   string
		header *string // nil: not sent
		want   int
		reason string
	}{
		// Temporal UI: endpoint + "/decode", X-Namespace of the page.
		{"UI, shared endpoint", "/decode", ptr("onboarding"), http.StatusOK, ""},
		{"UI, shared endpoint, other namespace", "/decode", ptr("other"), http.StatusForbidden, `namespace "other" is not served`},
		{"UI, per-namespace endpoint", "/onboarding/decode", ptr("onboarding"), http.StatusOK, ""},
		{"UI, endpoint with trailing slash", "/onboarding//decode", ptr("onboarding"), http.StatusOK, ""},
		{"UI, endpoint of another namespace", "/staging/decode", ptr("onboarding"), http.StatusForbidden, `X-Namespace "onboarding" does not match namespace "staging"`},
		// temporal CLI 1.5.1 with --namespace or TEMPORAL_NAMESPACE:
		// {namespace} expanded and X-Namespace set.
		{"CLI, template, namespace given", "/onboarding/decode", ptr("onboarding"), http.StatusOK, ""},
		{"CLI, template, namespace given, encode", "/staging/encode", ptr("staging"), http.StatusOK, ""},
		// ... with the implicit default namespace: both empty.
		{"CLI, template, implicit namespace", "/decode", ptr(""), http.StatusForbidden, "no namespace"},
		{"CLI, literal endpoint, implicit namespace", "/onboarding/decode", ptr(""), http.StatusOK, ""},
		{"CLI, literal endpoint under a prefix", "/codec/v1/onboarding/decode", ptr(""), http.StatusOK, ""},
		{"CLI, literal endpoint, other namespace", "/other/decode", ptr(""), http.StatusForbidden, `namespace "other" is not served`},
		// Other clients.
		{"no header, bare path", "/decode", nil, http.StatusForbidden, "no namespace"},
		{"no header, per-namespace path", "/staging/decode", nil, http.StatusOK, ""},
		{"prefix taken for a namespace", "/codec/decode", ptr("onboarding"), http.StatusForbidden, "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{"Authorization": "Bearer " + token}
			if tc.header != nil {
				hdr["X-Namespace"] = *tc.header
			}
			resp, out := do(t, http.MethodPost, srv.URL+tc.path, body, hdr)
			require.Equal(t, tc.want, resp.StatusCode, string(out))
			require.Contains(t, string(out), tc.reason)
			if tc.want != http.StatusOK {
				require.NotContains(t, string(out), "012345")
			}
		})
	}

	t.Run("unauthenticated requests learn nothing about namespaces", func(t *testing.T) {
		resp, out := do(t, http.MethodPost, srv.URL+"/other/decode", body, nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.NotContains(t, string(out), "namespace")
	})
}

// TestNamespacesWithRemoteCodec drives the restricted server with the SDK's
// remote codec, the client inside the temporal CLI, set up as CLI 1.5.1
// sets it up (temporalcli.payloadCodecInterceptor): "{namespace}" replaced
// and X-Namespace set from the namespace the CLI knows, "" when it is the
// implicit default.
func TestNamespacesWithRemoteCodec(t *testing.T) {
	srv := newServer(t, func(o *codecserver.Options) { o.Namespaces = []string{"onboarding"} })
	cli := func(endpoint, namespace string) converter.PayloadCodec {
		return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
			Endpoint: strings.ReplaceAll(endpoint, "{namespace}", namespace),
			ModifyRequest: func(r *http.Request) error {
				r.Header.Set("X-Namespace", namespace)
				r.Header.Set("Authorization", "Bearer "+token)
				return nil
			},
		})
	}
	_, plain := encryptedBody(t)
	enc, err := codec.NewCodec(newKeyring(t)).Encode(plain)
	require.NoError(t, err)

	for _, tc := range []struct {
		endpoint, namespace string
		ok                  bool
	}{
		{srv.URL + "/{namespace}", "onboarding", true},
		{srv.URL + "/onboarding", "onboarding", true},
		{srv.URL + "/onboarding", "", true}, // the fix: works without --namespace
		{srv.URL + "/{namespace}", "", false},
		{srv.URL, "", false},
		{srv.URL + "/onboarding", "other", false},
	} {
		dec, err := cli(tc.endpoint, tc.namespace).Decode(enc)
		if !tc.ok {
			require.Error(t, err, "%s with namespace %q", tc.endpoint, tc.namespace)
			continue
		}
		require.NoError(t, err, "%s with namespace %q", tc.endpoint, tc.namespace)
		for i := range plain {
			require.True(t, proto.Equal(plain[i], dec[i]))
		}
	}
}

func ptr(s string) *string { return &s }

func TestAllowUnauthenticated(t *testing.T) {
	srv := newServer(t, func(o *codecserver.Options) { o.Token, o.AllowUnauthenticated = "", true })
	body, _ := encryptedBody(t)
	resp, _ := do(t, http.MethodPost, srv.URL+"/decode", body, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestNewRejectsUnsafeOptions(t *testing.T) {
	c := codec.NewCodec(newKeyring(t))
	for name, opts := range map[string]codecserver.Options{
		"no codec":          {Token: token},
		"no token, no flag": {Codec: c},
		"token and flag":    {Codec: c, Token: token, AllowUnauthenticated: true},
		"wildcard origin":   {Codec: c, Token: token, AllowedOrigins: []string{"*"}},
		"origin with path":  {Codec: c, Token: token, AllowedOrigins: []string{"http://localhost:8233/ui"}},
		"origin no scheme":  {Codec: c, Token: token, AllowedOrigins: []string{"localhost:8233"}},
	} {
		_, err := codecserver.New(opts)
		require.Error(t, err, name)
	}
}

func TestParseList(t *testing.T) {
	require.Equal(t, []string{"a", "b"}, codecserver.ParseList(" a, ,b,a,"))
	require.Nil(t, codecserver.ParseList(""))
}
