package evictsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// Sizes of the benchmark traces.
const (
	// KeySpace is the number of distinct keys of the benchmark traces
	// (scans add cold keys outside it).
	KeySpace = 1_000_000
	// BenchLength is the number of accesses of each benchmark trace.
	BenchLength = 2_000_000
	// BenchSeed seeds the benchmark traces.
	BenchSeed = 1
)

// A TraceSpec names a trace and generates it: n accesses over a key space
// of the given size, deterministic from seed (PCG). Trace keys are
// scattered by a bijective hash, so that neighbouring ranks do not get
// neighbouring keys.
type TraceSpec struct {
	Name string
	// Doc says in a sentence what the trace models.
	Doc      string
	Generate func(n, keys int, seed uint64) []uint64
}

// TraceSpecs lists the traces of the measurement, in the order the
// results table shows them.
func TraceSpecs() []TraceSpec {
	return []TraceSpec{
		{Name: "zipf-0.8", Generate: zipfTrace(0.8),
			Doc: "Independent requests, key of popularity rank r drawn with probability ∝ 1/r^0.8 (a flat skew: the head matters less)."},
		{Name: "zipf-1.0", Generate: zipfTrace(1.0),
			Doc: "Independent requests, probability ∝ 1/r (the classic web-object skew)."},
		{Name: "zipf-1.2", Generate: zipfTrace(1.2),
			Doc: "Independent requests, probability ∝ 1/r^1.2 (a steep skew: a small head takes most requests)."},
		{Name: "service", Generate: ServiceTrace,
			Doc: "Zipf 1.0, and in each period of keys requests a one-pass scan of keys/5 never-seen keys interleaved 1:1 with the first 2×keys/5 requests (20% of all requests), as a batch job or a crawler listing everything."},
		{Name: "shift", Generate: ShiftTrace,
			Doc: "Zipf 1.0 whose popularity rotates: every keys/10 requests, keys/100 cold keys become the most popular and every other key moves keys/100 ranks down, as new content trending while old content fades."},
	}
}

// zipfTrace returns a generator of independent Zipf(s) requests.
func zipfTrace(s float64) func(n, keys int, seed uint64) []uint64 {
	return func(n, keys int, seed uint64) []uint64 {
		z := newZipf(keys, s)
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		out := make([]uint64, n)
		for i := range out {
			out[i] = mix64(uint64(z.rank(r.Float64())))
		}
		return out
	}
}

// ServiceTrace generates the "service" trace: Zipf 1.0 over keys, and
// periodic one-pass scans of keys/5 cold keys (a fresh set per scan)
// interleaved with the Zipf requests, about 20% of all requests.
func ServiceTrace(n, keys int, seed uint64) []uint64 {
	z := newZipf(keys, 1.0)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	scanLen := max(keys/5, 1)
	period := 5 * scanLen
	out := make([]uint64, n)
	scanned := 0 // cold keys used so far
	for i := range out {
		if phase := i % period; phase < 2*scanLen && phase%2 == 1 {
			out[i] = mix64(uint64(keys + scanned))
			scanned++
			continue
		}
		out[i] = mix64(uint64(z.rank(r.Float64())))
	}
	return out
}

// ShiftTrace generates the "shift" trace: Zipf 1.0 over keys whose ranks
// rotate every keys/10 requests by keys/100, so that the coldest keys
// become the hottest.
func ShiftTrace(n, keys int, seed uint64) []uint64 {
	z := newZipf(keys, 1.0)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	epoch := max(keys/10, 1)
	step := max(keys/100, 1)
	out := make([]uint64, n)
	off := 0
	for i := range out {
		if i > 0 && i%epoch == 0 {
			off = (off - step + keys) % keys
		}
		out[i] = mix64(uint64((z.rank(r.Float64()) + off) % keys))
	}
	return out
}

// zipf samples ranks 0..n-1 with probability ∝ 1/(rank+1)^s, for any s > 0
// (math/rand's Zipf needs s > 1), by inverse CDF: a binary search of a
// uniform draw in the cumulative weights.
type zipf struct{ cdf []float64 }

func newZipf(n int, s float64) zipf {
	cdf := make([]float64, n)
	sum := 0.0
	for i := range cdf {
		sum += math.Pow(float64(i+1), -s)
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	cdf[n-1] = 1
	return zipf{cdf: cdf}
}

// rank returns the first rank whose cumulative weight exceeds u in [0, 1).
func (z zipf) rank(u float64) int {
	lo, hi := 0, len(z.cdf)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if z.cdf[mid] > u {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// benchCache keeps the last benchmark trace generated, so that the
// benchmarks of all policies and capacities on one trace share it while
// only one trace is held in memory at a time.
var benchCache struct {
	sync.Mutex
	name string
	keys []uint64
}

// BenchTrace returns the named trace of [TraceSpecs] at benchmark size
// (BenchLength accesses over KeySpace keys, seed BenchSeed). It keeps the
// last trace returned; callers must not modify it.
func BenchTrace(name string) ([]uint64, error) {
	benchCache.Lock()
	defer benchCache.Unlock()
	if benchCache.name == name {
		return benchCache.keys, nil
	}
	for _, t := range TraceSpecs() {
		if t.Name == name {
			benchCache.keys = nil // let the previous trace go first
			benchCache.keys = t.Generate(BenchLength, KeySpace, BenchSeed)
			benchCache.name = name
			return benchCache.keys, nil
		}
	}
	return nil, fmt.Errorf("evictsim: no trace named %q", name)
}
