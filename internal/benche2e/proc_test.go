package benche2e

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	stat := "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 12 0 100 200 300"
	d, err := parseStatCPU([]byte(stat))
	require.NoError(t, err)
	assert.Equal(t, 3250*time.Millisecond, d, "utime 250 + stime 75 ticks at 100 Hz")

	_, err = parseStatCPU([]byte("4242 no parens S 1"))
	assert.ErrorContains(t, err, "')'")
	_, err = parseStatCPU([]byte("4242 (x) S 1 2 3"))
	assert.ErrorContains(t, err, "fields")
	_, err = parseStatCPU([]byte("4242 (x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 abc 75 0"))
	assert.ErrorContains(t, err, `"abc"`)
}

func TestParseStatusRSS(t *testing.T) {
	status := "Name:\tworker\nVmPeak:\t 1000 kB\nVmRSS:\t   43212 kB\nRssAnon:\t 30000 kB\n"
	n, err := parseStatusRSS([]byte(status))
	require.NoError(t, err)
	assert.Equal(t, int64(43212*1024), n)

	_, err = parseStatusRSS([]byte("Name:\tkthreadd\nState:\tS\n"))
	assert.ErrorContains(t, err, "no VmRSS")
	_, err = parseStatusRSS([]byte("VmRSS:\t 12 MB\n"))
	assert.ErrorContains(t, err, "kB")
}

// The parsers must read this process's real files too.
func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	rss, err := procRSS(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, rss, int64(1<<20))
	_, err = procCPU(os.Getpid())
	require.NoError(t, err)
}

func TestConfigValidateNamesTheFlag(t *testing.T) {
	err := Config{Rounds: 0, Batch: 1, Warmup: -1, Parked: -1, Concurrency: 1, WorkerBin: "/nonexistent/worker"}.validate()
	require.Error(t, err)
	for _, want := range []string{"-rounds", "-warmup", "-parked", "-worker", "-temporal"} {
		assert.ErrorContains(t, err, want)
	}
}
