package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/seal"
)

func noFiles(string) ([]byte, error) { return nil, errors.New("no files") }

func fixedNow() time.Time { return time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC) }

// TestGenerateThenPublic is the path of make run and of a rotation: the
// generated private keys go to the workers, the derived public keys to the
// sealers, and a value sealed with the latter opens with the former.
func TestGenerateThenPublic(t *testing.T) {
	var priv bytes.Buffer
	require.NoError(t, run([]string{"generate", "-id", "old"}, nil, noFiles, &priv, &priv, fixedNow))
	require.NoError(t, run([]string{"generate"}, nil, noFiles, &priv, &priv, fixedNow))
	lines := strings.Split(strings.TrimSpace(priv.String()), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[1], "seal-20250701:"), lines[1])

	env := map[string]string{seal.EnvPrivateKeys + "_FILE": "/keys"}
	read := func(p string) ([]byte, error) {
		if p == "/keys" {
			return priv.Bytes(), nil
		}
		return noFiles(p)
	}
	var pub, errOut bytes.Buffer
	require.NoError(t, run([]string{"public"}, func(k string) string { return env[k] }, read, &pub, &errOut, fixedNow))
	for _, l := range lines {
		assert.NotContains(t, pub.String(), strings.SplitN(l, ":", 2)[1], "public output must not contain a private key")
	}

	s, err := seal.LoadSealer(func(k string) string {
		return map[string]string{seal.EnvPublicKeys: strings.ReplaceAll(pub.String(), "\n", ",")}[k]
	}, noFiles)
	require.NoError(t, err)
	assert.Equal(t, "seal-20250701", s.KeyID(), "the last generated key seals")
	o, err := seal.LoadOpener(func(k string) string { return env[k] }, read)
	require.NoError(t, err)
	v, err := s.Seal("pin", "123456")
	require.NoError(t, err)
	got, err := o.Open("pin", v)
	require.NoError(t, err)
	assert.Equal(t, "123456", got)
}

func TestErrors(t *testing.T) {
	var out bytes.Buffer
	none := func(string) string { return "" }
	assert.ErrorIs(t, run([]string{"-h"}, none, noFiles, &out, &out, fixedNow), flag.ErrHelp)
	assert.ErrorContains(t, run(nil, none, noFiles, &out, &out, fixedNow), "missing command")
	assert.ErrorContains(t, run([]string{"frobnicate"}, none, noFiles, &out, &out, fixedNow), "unknown command")
	assert.ErrorContains(t, run([]string{"generate", "-id", "a b"}, none, noFiles, &out, &out, fixedNow), "key id")
	assert.ErrorIs(t, run([]string{"public"}, none, noFiles, &out, &out, fixedNow), seal.ErrNoKeys)
}
