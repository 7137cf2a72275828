package evictbench

import (
	"io"
	"sync"
	"sync/atomic"
	"testing"

	otter2 "github.com/maypok86/otter/v2"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore/internal/evictsim"
)

// entry is a cached record as the store would hold it for S3-FIFO: the
// policy's whole read-side state is a small counter bumped atomically.
type entry struct{ freq atomic.Uint32 }

// mapOnly is the store's read path without any policy: a lookup in a map
// that readers share without a lock, and a read of the entry found (as
// Peek reads the record).
type mapOnly struct{ m map[uint64]*entry }

func (c mapOnly) Get(key uint64) bool {
	e, ok := c.m[key]
	return ok && e.freq.Load() < 4
}

// atomicFreq is the read path of S3-FIFO in a store with lock-free reads:
// the same lookup, then a counter increment capped at 3 (a load, and an
// atomic add only while below the cap, so hot entries stay read-shared).
type atomicFreq struct{ m map[uint64]*entry }

func (c atomicFreq) Get(key uint64) bool {
	e, ok := c.m[key]
	if ok && e.freq.Load() < 3 {
		e.freq.Add(1)
	}
	return ok
}

// lockedLRU is an exact LRU shared under a mutex: every read reorders.
type lockedLRU struct {
	mu sync.Mutex
	l  *evictsim.LRU
}

func (c *lockedLRU) Get(key uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.l.Get(key)
}

// BenchmarkConcurrentHit measures the read path on hits with goroutines
// sharing one cache: a Zipf 1.0 stream over 100k keys, all cached. mapOnly
// is the baseline (no policy); atomic-freq is what S3-FIFO adds to the
// store's lock-free Peek; the others are whole caches.
//
//	cd internal/evictbench && go test -run '^$' -bench ConcurrentHit -cpu 1,2
func BenchmarkConcurrentHit(b *testing.B) {
	const capacity = evictsim.KeySpace / 10
	var zipf evictsim.TraceSpec
	for _, t := range evictsim.TraceSpecs() {
		if t.Name == "zipf-1.0" {
			zipf = t
		}
	}
	require.NotNil(b, zipf.Generate)
	keys := zipf.Generate(1<<20, capacity, 1)
	m := make(map[uint64]*entry, capacity)
	for _, k := range keys {
		m[k] = new(entry)
	}
	fill := func(p evictsim.Policy) evictsim.Policy {
		for k := range m {
			if !p.Get(k) {
				p.Add(k)
			}
		}
		return p
	}
	caches := []struct {
		name string
		get  func(uint64) bool
	}{
		{"map-only", mapOnly{m}.Get},
		{"atomic-freq", atomicFreq{m}.Get},
		{"mutex-LRU", (&lockedLRU{l: fill(evictsim.NewLRU(capacity)).(*evictsim.LRU)}).Get},
	}
	for _, c := range Caches() {
		p := c.New(capacity)
		if c.Name == "otter-v2-W-TinyLFU" {
			// Maintenance on otter's own goroutines, as in production,
			// not inline as in the deterministic replay.
			p = otterV2{otter2.Must(&otter2.Options[uint64, struct{}]{MaximumSize: capacity})}
		}
		if cl, ok := p.(io.Closer); ok {
			b.Cleanup(func() { require.NoError(b, cl.Close()) })
		}
		caches = append(caches, struct {
			name string
			get  func(uint64) bool
		}{c.Name, fill(p).Get})
	}
	for _, c := range caches {
		b.Run(c.name, func(b *testing.B) {
			var hits, total atomic.Int64
			var seed atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(7919)) % len(keys) // each goroutine starts elsewhere
				var h, n int64
				for pb.Next() {
					if c.get(keys[i]) {
						h++
					}
					n++
					if i++; i == len(keys) {
						i = 0
					}
				}
				hits.Add(h)
				total.Add(n)
			})
			b.ReportMetric(100*float64(hits.Load())/float64(max(total.Load(), 1)), "hit%")
		})
	}
}
