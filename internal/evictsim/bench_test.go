package evictsim_test

import (
	"fmt"
	"testing"

	"github.com/recstore/recstore/internal/evictsim"
	"github.com/stretchr/testify/require"
)

// benchCapacities are the cache sizes measured: 10% and 1% of the key space.
var benchCapacities = []int{evictsim.KeySpace / 10, evictsim.KeySpace / 100}

// BenchmarkPolicies replays every trace through every policy at every
// capacity. One iteration is one whole trace (BenchLength accesses) on a
// fresh cache; hit% is the share of accesses that hit, ns/access the time
// per access (the single-threaded cost of the simulation, map included).
//
//	go test -run '^$' -bench BenchmarkPolicies -benchtime 3x ./internal/evictsim
func BenchmarkPolicies(b *testing.B) {
	for _, t := range evictsim.TraceSpecs() {
		b.Run(t.Name, func(b *testing.B) {
			keys, err := evictsim.BenchTrace(t.Name)
			require.NoError(b, err)
			for _, p := range evictsim.PolicySpecs() {
				for _, c := range benchCapacities {
					b.Run(fmt.Sprintf("%s/cap=%dk", p.Name, c/1000), func(b *testing.B) {
						var hits int
						for b.Loop() {
							hits = evictsim.Simulate(p.New(c), keys)
						}
						b.ReportMetric(100*float64(hits)/float64(len(keys)), "hit%")
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(keys)), "ns/access")
					})
				}
			}
		})
	}
}
