package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBadInvocationsExitTwoBeforeStartingAnything(t *testing.T) {
	env := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-profile", "gentle", "-temporal-cli", "/bin/sh", "-worker-bin", "/bin/sh"}, `profile: must be full or lost-answers, not "gentle"`},
		{[]string{"-numbers", "-3", "-temporal-cli", "/bin/sh", "-worker-bin", "/bin/sh"}, "numbers: must be between 1 and 100000"},
		{[]string{"-worker-bin", "/bin/sh"}, "temporal CLI: path required (TEMPORAL_CLI_PATH"},
		{[]string{"-temporal-cli", "/bin/sh", "-worker-bin", "/no/such/worker"}, "/no/such/worker"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-deadline", "soon"}, `invalid value "soon" for flag -deadline`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, env, &stdout, &stderr)
		require.Equal(t, 2, code, "%v: %s", tc.args, stderr.String())
		require.Contains(t, stderr.String(), tc.want, "%v", tc.args)
		require.Empty(t, stdout.String())
	}
}

func TestHelpExitsZero(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"-h"}, func(string) string { return "" }, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-numbers")
}
