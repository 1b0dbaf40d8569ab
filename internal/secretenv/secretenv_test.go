package secretenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const value = "s3cr3t-VALUE-xyz"

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := m[name]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

func TestLookup(t *testing.T) {
	for name, tc := range map[string]struct {
		env      map[string]string
		files    map[string]string
		wantVar  string
		wantFile string
	}{
		"env":                 {map[string]string{"X": value}, nil, "X", ""},
		"env trimmed":         {map[string]string{"X": "  " + value + "\n"}, nil, "X", ""},
		"file":                {map[string]string{"X_FILE": "/run/x"}, map[string]string{"/run/x": value}, "X_FILE", "/run/x"},
		"file newline":        {map[string]string{"X_FILE": "/run/x"}, map[string]string{"/run/x": value + "\n"}, "X_FILE", "/run/x"},
		"file crlf":           {map[string]string{"X_FILE": "/run/x"}, map[string]string{"/run/x": value + "\r\n"}, "X_FILE", "/run/x"},
		"empty env, file set": {map[string]string{"X": "", "X_FILE": "/run/x"}, map[string]string{"/run/x": value}, "X_FILE", "/run/x"},
		"blank file var, env": {map[string]string{"X": value, "X_FILE": "  "}, nil, "X", ""},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Lookup(envOf(tc.env), files(tc.files), "X")
			require.NoError(t, err)
			assert.Equal(t, value, s.Value)
			assert.Equal(t, tc.wantVar, s.Var)
			assert.Equal(t, tc.wantFile, s.File)
			assert.Equal(t, tc.wantFile != "", s.FromFile())
			for _, out := range []string{s.String(), fmt.Sprintf("%v %+v %#v %s", s, s, s, s)} {
				assert.NotContains(t, out, value, "formatting a Secret must not print its value")
			}
		})
	}
}

func TestLookupErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		env    map[string]string
		files  map[string]string
		want   []string
		notSet bool
	}{
		"neither":     {map[string]string{}, nil, []string{"X or X_FILE", "not set"}, true},
		"both empty":  {map[string]string{"X": "", "X_FILE": " "}, nil, []string{"X or X_FILE"}, true},
		"both":        {map[string]string{"X": value, "X_FILE": "/run/x"}, map[string]string{"/run/x": value}, []string{"both X and X_FILE", "set only one"}, false},
		"missing":     {map[string]string{"X_FILE": "/run/none"}, nil, []string{"X_FILE: cannot read /run/none: file does not exist"}, false},
		"empty file":  {map[string]string{"X_FILE": "/run/x"}, map[string]string{"/run/x": " \n\n"}, []string{"X_FILE: /run/x is empty"}, false},
		"spaces only": {map[string]string{"X": "   "}, nil, []string{"X or X_FILE"}, true},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Lookup(envOf(tc.env), files(tc.files), "X")
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Equal(t, tc.notSet, errors.Is(err, ErrNotSet))
			assert.NotContains(t, err.Error(), value)
		})
	}
}

// TestLookupRealFile reads through os.ReadFile, as the commands do, and
// accepts a world-readable file: the mode Kubernetes gives secret volumes.
func TestLookupRealFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte(value+"\n"), 0o644))
	s, err := Lookup(envOf(map[string]string{"X_FILE": p}), os.ReadFile, "X")
	require.NoError(t, err)
	assert.Equal(t, value, s.Value)
	assert.Equal(t, "X_FILE "+p, s.Source())

	_, err = Lookup(envOf(map[string]string{"X_FILE": t.TempDir()}), os.ReadFile, "X")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "X_FILE: cannot read ")
}

func TestLookupWrapsReadError(t *testing.T) {
	_, err := Lookup(envOf(map[string]string{"X_FILE": "/run/none"}), files(nil), "X")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
