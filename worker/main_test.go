package main

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/temporalconn"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := m[name]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

const secret = "EAAGsecretTOKEN"

func TestAccessToken(t *testing.T) {
	tok, err := accessToken(envOf(map[string]string{envToken: "  " + secret + "\n"}), files(nil))
	require.NoError(t, err)
	assert.Equal(t, secret, tok)

	tok, err = accessToken(envOf(map[string]string{envTokenFile: "/run/secrets/wa"}), files(map[string]string{"/run/secrets/wa": secret + "\n"}))
	require.NoError(t, err)
	assert.Equal(t, secret, tok)
}

func TestAccessTokenErrorsNameVariablesNotToken(t *testing.T) {
	for name, tc := range map[string]struct {
		env   map[string]string
		files map[string]string
		want  string
	}{
		"missing":      {map[string]string{}, nil, envToken + " or " + envTokenFile},
		"both":         {map[string]string{envToken: secret, envTokenFile: "/f"}, nil, "set only one"},
		"no file":      {map[string]string{envTokenFile: "/nope"}, nil, envTokenFile},
		"empty file":   {map[string]string{envTokenFile: "/f"}, map[string]string{"/f": " \n"}, "empty"},
		"inner spaces": {map[string]string{envToken: secret + " " + secret}, nil, "single line"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := accessToken(envOf(tc.env), files(tc.files))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestGraphClient(t *testing.T) {
	g, u, err := graphClient(envOf(map[string]string{envToken: secret}), files(nil))
	require.NoError(t, err)
	assert.Equal(t, graph.DefaultBaseURL, g.BaseURL())
	assert.Equal(t, "graph.facebook.com", u.Host)
	assert.NotContains(t, g.String(), secret)

	g, u, err = graphClient(envOf(map[string]string{envToken: secret, envGraphURL: "http://127.0.0.1:8090/v21.0"}), files(nil))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8090", u.Host)
	assert.Equal(t, "http://127.0.0.1:8090/v21.0", g.BaseURL())

	_, _, err = graphClient(envOf(map[string]string{envToken: secret, envGraphURL: "graph.facebook.com"}), files(nil))
	assert.ErrorContains(t, err, envGraphURL)
}

func TestSealOpener(t *testing.T) {
	_, err := sealOpener(envOf(nil), files(nil), false)
	require.ErrorContains(t, err, seal.EnvPrivateKeys, "without seal keys the worker refuses to start")
	require.ErrorContains(t, err, temporalconn.EnvInsecurePlainPayloads)
	for name, tc := range map[string]struct {
		env  map[string]string
		flag bool
	}{"flag": {nil, true}, "env": {map[string]string{temporalconn.EnvInsecurePlainPayloads: "1"}, false}} {
		o, err := sealOpener(envOf(tc.env), files(nil), tc.flag)
		require.NoError(t, err, name)
		assert.Nil(t, o, "%s: insecure dev mode runs without seal keys", name)
		assert.Empty(t, sealKeyIDs(o))
	}

	o, err := sealOpener(envOf(map[string]string{temporalconn.EnvInsecurePlainPayloads: "0"}), files(nil), false)
	require.Error(t, err, "only 1 turns insecure mode on")
	assert.Nil(t, o)

	k, err := seal.GenerateKey("w1")
	require.NoError(t, err)
	o, err = sealOpener(envOf(map[string]string{seal.EnvPrivateKeys + "_FILE": "/run/secrets/seal"}),
		files(map[string]string{"/run/secrets/seal": k.Encode() + "\n"}), false)
	require.NoError(t, err)
	assert.Equal(t, []string{"w1"}, sealKeyIDs(o))

	_, err = sealOpener(envOf(map[string]string{seal.EnvPrivateKeys: "w1:short"}), files(nil), true)
	require.ErrorContains(t, err, seal.EnvPrivateKeys)
	_, err = sealOpener(envOf(map[string]string{seal.EnvPrivateKeys + "_FILE": "/nope"}), files(nil), true)
	require.ErrorContains(t, err, "cannot read /nope")
}
