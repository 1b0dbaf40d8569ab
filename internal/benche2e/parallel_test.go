package benche2e

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParallelVisitsEveryIndexOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	var inFlight, peak atomic.Int64
	err := parallel(context.Background(), 100, 7, func(_ context.Context, i int) error {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		mu.Lock()
		seen[i]++
		mu.Unlock()
		inFlight.Add(-1)
		return nil
	})
	assert.NoError(t, err)
	assert.Len(t, seen, 100)
	for i, n := range seen {
		assert.Equal(t, 1, n, "index %d", i)
	}
	assert.LessOrEqual(t, peak.Load(), int64(7))
}

func TestParallelStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int64
	err := parallel(context.Background(), 1000, 2, func(ctx context.Context, i int) error {
		calls.Add(1)
		if i == 3 {
			return boom
		}
		return ctx.Err()
	})
	assert.ErrorIs(t, err, boom)
	assert.Less(t, calls.Load(), int64(1000), "the remaining indexes are not handed out")
}
