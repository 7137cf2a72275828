package evictbench

import (
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore/internal/evictsim"
)

// BenchmarkReal replays every evictsim trace through evictsim's policies
// and the real caches, at 10% and 1% of the key space. One iteration is
// one whole trace on a fresh cache; hit% is the share of accesses that
// hit, ns/access the single-threaded time per access.
func BenchmarkReal(b *testing.B) {
	policies := append(evictsim.PolicySpecs(), Caches()...)
	for _, t := range evictsim.TraceSpecs() {
		b.Run(t.Name, func(b *testing.B) {
			keys, err := evictsim.BenchTrace(t.Name)
			require.NoError(b, err)
			for _, p := range policies {
				for _, c := range []int{evictsim.KeySpace / 10, evictsim.KeySpace / 100} {
					b.Run(fmt.Sprintf("%s/cap=%dk", p.Name, c/1000), func(b *testing.B) {
						var hits int
						for b.Loop() {
							cache := p.New(c)
							hits = evictsim.Simulate(cache, keys)
							if cl, ok := cache.(io.Closer); ok {
								require.NoError(b, cl.Close())
							}
						}
						b.ReportMetric(100*float64(hits)/float64(len(keys)), "hit%")
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(keys)), "ns/access")
					})
				}
			}
		})
	}
}

func TestCachesHitAfterAdd(t *testing.T) {
	for _, p := range Caches() {
		c := p.New(100)
		require.False(t, c.Get(1), p.Name)
		c.Add(1)
		require.True(t, c.Get(1), p.Name)
		if cl, ok := c.(io.Closer); ok {
			require.NoError(t, cl.Close())
		}
	}
}
