package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRatios(t *testing.T) {
	in := `goos: linux
BenchmarkCodec/baseline-plain-2   	 1000	      1000 ns/op	     100 B/op	       2 allocs/op
BenchmarkCodec/encrypted-2        	 1000	      3000 ns/op	     400 B/op	       8 allocs/op
BenchmarkCodec/baseline-plain-2   	 1000	      1000 ns/op	     100 B/op	       2 allocs/op
BenchmarkCodec/encrypted-2        	 1000	      1000 ns/op	     400 B/op	       8 allocs/op
BenchmarkAlone-2                  	 1000	      5 ns/op
PASS
`
	var out strings.Builder
	require.NoError(t, run(strings.NewReader(in), &out))
	require.Contains(t, out.String(), "BenchmarkAlone-2", "input is passed through")
	require.Contains(t, out.String(), "BenchmarkCodec: encrypted / baseline-plain = 2.00x time, 4.00x bytes, 4.00x allocs (n=2)")
	require.NotContains(t, out.String(), "BenchmarkAlone:", "no baseline, no ratio")
}
