package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/wa-onboarding/onboarding/internal/codec"
	"github.com/wa-onboarding/onboarding/internal/seal"
)

// serve runs the codec server until the test ends and returns its address
// and log.
func serve(t *testing.T, args []string, env, files map[string]string) (string, *syncBuffer) {
	t.Helper()
	readFile := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, envOf(env), readFile, logs, logs, func(a net.Addr) { addrc <- a }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("no shutdown")
		}
	})
	select {
	case a := <-addrc:
		return a.String(), logs
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
		return "", nil
	}
}

func TestEncodeSealsWithPublicKeysFile(t *testing.T) {
	key, err := codec.GenerateKey()
	require.NoError(t, err)
	priv, err := seal.GenerateKey("worker-1")
	require.NoError(t, err)
	pub, err := priv.Public()
	require.NoError(t, err)

	addr, logs := serve(t, []string{"-insecure-no-auth", "-addr", "127.0.0.1:0", "-seal-public-keys-file", "/keys/seal-public"},
		map[string]string{codec.EnvKeys: "k1:" + key},
		map[string]string{"/keys/seal-public": "# public\n" + pub.String() + "\n"})

	in := &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     []byte(`{"phone_number": "5551234567", "pin": "482913"}`),
	}
	body, err := json.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{in}})
	require.NoError(t, err)
	resp, err := http.Post("http://"+addr+"/encode", "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var enc commonpb.Payloads
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&enc))

	keys, err := codec.ParseKeys("k1:" + key)
	require.NoError(t, err)
	dec, err := codec.NewCodec(keys).Decode(enc.Payloads)
	require.NoError(t, err)
	var got struct {
		PhoneNumber string `json:"phone_number"`
		PIN         string `json:"pin"`
	}
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &got))
	assert.Equal(t, "5551234567", got.PhoneNumber)
	opener, err := seal.NewOpener(priv)
	require.NoError(t, err)
	pin, err := opener.Open(seal.PurposePIN, got.PIN)
	require.NoError(t, err)
	assert.Equal(t, "482913", pin)

	assert.Contains(t, logs.String(), "seal_key_id=worker-1")
	assert.NotContains(t, logs.String(), "will not seal")
	assert.NotContains(t, logs.String(), "482913")
}

func TestStartsWithoutSealKeysAndSaysSo(t *testing.T) {
	key, err := codec.GenerateKey()
	require.NoError(t, err)
	_, logs := serve(t, []string{"-insecure-no-auth", "-addr", "127.0.0.1:0"}, map[string]string{codec.EnvKeys: "k1:" + key}, nil)
	assert.Contains(t, logs.String(), "seal_key_id=none")
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "/encode will not seal pin, code and backup.password")
}

func TestRefusesPrivateSealKeys(t *testing.T) {
	key, err := codec.GenerateKey()
	require.NoError(t, err)
	priv, err := seal.GenerateKey("worker-1")
	require.NoError(t, err)
	pub, err := priv.Public()
	require.NoError(t, err)
	for name, env := range map[string]map[string]string{
		"private keys":      {seal.EnvPrivateKeys: priv.Encode()},
		"private keys file": {seal.EnvPrivateKeys + "_FILE": "/keys/private"},
		"bad public keys":   {seal.EnvPublicKeys: "worker-1:short"},
		"flag and variable": {seal.EnvPublicKeys: pub.String()},
	} {
		t.Run(name, func(t *testing.T) {
			env[codec.EnvKeys] = "k1:" + key
			args := []string{"-insecure-no-auth", "-addr", "127.0.0.1:0"}
			if name == "flag and variable" {
				args = append(args, "-seal-public-keys-file", "/keys/public")
			}
			var out syncBuffer
			err := run(context.Background(), args, envOf(env), noFiles, &out, &out, func(net.Addr) { t.Fatal("server started") })
			require.Error(t, err)
			assert.Contains(t, err.Error(), map[string]string{
				"private keys":      "must never hold private seal keys",
				"private keys file": "must never hold private seal keys",
				"bad public keys":   seal.EnvPublicKeys + ": public key entry 1",
				"flag and variable": "conflicts with " + seal.EnvPublicKeys,
			}[name])
			assert.NotContains(t, err.Error(), priv.Encode()[len("worker-1:"):])
		})
	}
}
