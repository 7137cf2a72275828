package evictsim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTracesDeterministic(t *testing.T) {
	for _, tr := range TraceSpecs() {
		a := tr.Generate(10_000, 1_000, 1)
		b := tr.Generate(10_000, 1_000, 1)
		c := tr.Generate(10_000, 1_000, 2)
		require.Len(t, a, 10_000, tr.Name)
		assert.Equal(t, a, b, "%s: same seed, same trace", tr.Name)
		assert.NotEqual(t, a, c, "%s: another seed, another trace", tr.Name)
		assert.NotEmpty(t, tr.Doc, tr.Name)
	}
}

func TestZipfSkew(t *testing.T) {
	// With s = 1 over n keys, rank 0 has probability 1/H(n).
	z := newZipf(1_000, 1.0)
	h := 0.0
	for i := 1; i <= 1_000; i++ {
		h += 1 / float64(i)
	}
	assert.InDelta(t, 1/h, z.cdf[0], 1e-12)
	assert.Equal(t, 0, z.rank(0))
	assert.Equal(t, 999, z.rank(0.999999999))

	keys := zipfTrace(1.2)(100_000, 1_000, 1)
	counts := map[uint64]int{}
	for _, k := range keys {
		counts[k]++
	}
	top := counts[mix64(0)]
	for k, n := range counts {
		if k != mix64(0) {
			assert.Less(t, n, top, "rank 0 is the most popular")
		}
	}
}

func TestServiceTraceScans(t *testing.T) {
	const keys = 1_000
	trace := ServiceTrace(10_000, keys, 1)
	cold := map[uint64]bool{}
	for i := range 10_000 {
		cold[mix64(uint64(keys+i))] = true
	}
	seen, scans := map[uint64]bool{}, 0
	for _, k := range trace {
		if cold[k] {
			scans++
			assert.False(t, seen[k], "a scan key is requested once")
			seen[k] = true
		}
	}
	assert.Equal(t, 2_000, scans, "20%% of requests are scans")
}

func TestShiftTraceRotates(t *testing.T) {
	const keys = 10_000
	trace := ShiftTrace(2*keys/10, keys, 1)
	top := func(part []uint64) uint64 {
		counts := map[uint64]int{}
		var best uint64
		for _, k := range part {
			counts[k]++
			if counts[k] > counts[best] {
				best = k
			}
		}
		return best
	}
	epoch := keys / 10
	assert.Equal(t, mix64(0), top(trace[:epoch]))
	assert.Equal(t, mix64(keys-keys/100), top(trace[epoch:2*epoch]), "the coldest keys become the hottest")
}

func TestBenchTraceUnknown(t *testing.T) {
	_, err := BenchTrace("nope")
	require.Error(t, err)
}
