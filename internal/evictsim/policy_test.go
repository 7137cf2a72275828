package evictsim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// access replays keys through p as Simulate does and returns the hit of
// each access.
func access(p Policy, keys ...uint64) []bool {
	out := make([]bool, len(keys))
	for i, k := range keys {
		out[i] = p.Get(k)
		if !out[i] {
			p.Add(k)
		}
	}
	return out
}

func TestPoliciesNeverExceedCapacity(t *testing.T) {
	keys := ServiceTrace(10_000, 2_000, 7)
	for _, p := range PolicySpecs() {
		for _, capacity := range []int{1, 2, 3, 10, 100, 1_000} {
			c := p.New(capacity)
			for _, k := range keys {
				if !c.Get(k) {
					c.Add(k)
					require.True(t, c.Get(k), "%s cap %d: key missing right after Add", p.Name, capacity)
				}
				require.LessOrEqual(t, c.Len(), capacity, "%s cap %d", p.Name, capacity)
			}
			assert.Equal(t, capacity, c.Len(), "%s cap %d: a full trace fills the cache", p.Name, capacity)
		}
	}
}

func TestPoliciesHitAfterInsert(t *testing.T) {
	for _, p := range PolicySpecs() {
		c := p.New(10)
		assert.Equal(t, []bool{false, true, false, true, true}, access(c, 1, 1, 2, 2, 1), p.Name)
		assert.Equal(t, 2, c.Len(), p.Name)
		c.Add(1) // adding a cached key changes nothing
		assert.Equal(t, 2, c.Len(), p.Name)
	}
}

func TestLRUOrder(t *testing.T) {
	tests := []struct {
		name  string
		trace []uint64
		hits  []bool
		keys  []uint64 // most recent first
	}{
		{"fill", []uint64{1, 2, 3}, []bool{false, false, false}, []uint64{3, 2, 1}},
		{"evicts least recent", []uint64{1, 2, 3, 4}, []bool{false, false, false, false}, []uint64{4, 3, 2}},
		{"hit refreshes", []uint64{1, 2, 3, 1, 4}, []bool{false, false, false, true, false}, []uint64{4, 1, 3}},
		{"evicted key misses", []uint64{1, 2, 3, 4, 1}, []bool{false, false, false, false, false}, []uint64{1, 4, 3}},
		{"hit on front", []uint64{1, 2, 2, 3, 4}, []bool{false, false, true, false, false}, []uint64{4, 3, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewLRU(3)
			assert.Equal(t, tt.hits, access(c, tt.trace...))
			assert.Equal(t, tt.keys, c.Keys())
		})
	}
}

func TestS3FIFO(t *testing.T) {
	tests := []struct {
		name  string
		trace []uint64
		hits  []bool
		small []uint64 // newest first
		main  []uint64
	}{
		{"new keys enter small", []uint64{1, 2, 3}, []bool{false, false, false}, []uint64{3, 2, 1}, nil},
		// Capacity 10: small holds 1 key. Evicting it from small leaves
		// its fingerprint in the ghost queue; its next miss puts it in
		// main.
		{"ghost promotes to main", []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1},
			[]bool{false, false, false, false, false, false, false, false, false, false, false, false},
			[]uint64{11, 10, 9, 8, 7, 6, 5, 4, 3}, []uint64{1}},
		{"accessed key moves from small to main", []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 11},
			[]bool{false, false, false, false, false, false, false, false, false, false, true, false},
			[]uint64{11, 10, 9, 8, 7, 6, 5, 4, 3}, []uint64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewS3FIFO(10)
			assert.Equal(t, tt.hits, access(c, tt.trace...))
			assert.Equal(t, tt.small, c.a.keys(&c.small))
			assert.Equal(t, tt.main, nilIfEmpty(c.a.keys(&c.main)))
		})
	}
}

func nilIfEmpty(s []uint64) []uint64 {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestS3FIFOMainReinsertsAccessed(t *testing.T) {
	// Capacity 10 (small queue 1). 100..118 pass through the small queue,
	// leaving 100..108 in the ghost queue; their second miss puts them in
	// main. 100 is read; 200 is read in the small queue, so evicting it
	// moves it to main, which then evicts: 100 survives its first pass
	// (counter decremented), 101 is evicted.
	c := NewS3FIFO(10)
	for k := uint64(100); k < 119; k++ {
		access(c, k)
	}
	for k := uint64(100); k < 109; k++ {
		assert.Equal(t, []bool{false}, access(c, k))
	}
	require.Equal(t, []uint64{108, 107, 106, 105, 104, 103, 102, 101, 100}, c.a.keys(&c.main))
	require.Equal(t, []uint64{118}, c.a.keys(&c.small))
	require.True(t, c.Get(100))
	assert.Equal(t, []bool{false, true, false}, access(c, 200, 200, 201))
	assert.Equal(t, []uint64{201}, c.a.keys(&c.small))
	assert.Equal(t, []uint64{100, 200, 108, 107, 106, 105, 104, 103, 102}, c.a.keys(&c.main))
	assert.Equal(t, 10, c.Len())
}

func TestS3FIFOPromoting(t *testing.T) {
	// Capacity 10 (small queue 1): with promotion at 2 accesses, a key
	// read once in the small queue goes to the ghost queue, not to main.
	once, twice := NewS3FIFOPromoting(10, 2), NewS3FIFOPromoting(10, 2)
	access(once, 1, 1)
	access(twice, 1, 1, 1)
	for k := uint64(2); k <= 11; k++ {
		access(once, k)
		access(twice, k)
	}
	assert.Nil(t, nilIfEmpty(once.a.keys(&once.main)))
	assert.Equal(t, []uint64{1}, twice.a.keys(&twice.main))
	assert.Equal(t, uint8(3), NewS3FIFOPromoting(10, 9).promote)
	assert.Equal(t, uint8(1), NewS3FIFOPromoting(10, 0).promote)
}

func TestGhostForgetsOldest(t *testing.T) {
	g := newGhost(3)
	for k := uint64(1); k <= 4; k++ {
		g.add(k)
	}
	assert.False(t, g.take(1), "the oldest fingerprint is forgotten")
	assert.True(t, g.take(2))
	assert.False(t, g.take(2), "take forgets")
	g.add(3) // 3 again: the older slot holding 3 must not forget the newer
	g.add(5)
	g.add(6)
	assert.True(t, g.take(3))
}

func TestTinyLFUAdmission(t *testing.T) {
	// Capacity 100: window 1, main 99. Make keys 0..98 frequent, then
	// stream cold keys: none replaces a frequent key.
	c := NewTinyLFU(100)
	for range 10 {
		for k := uint64(0); k < 99; k++ {
			access(c, k)
		}
	}
	for k := uint64(1000); k < 1200; k++ {
		access(c, k)
	}
	for k := uint64(0); k < 99; k++ {
		assert.True(t, c.Get(k), "frequent key %d survives a scan", k)
	}
	assert.Equal(t, 100, c.Len())
}

func TestSketch(t *testing.T) {
	s := newSketch(64)
	for i := range 20 {
		s.increment(7)
		assert.Equal(t, uint8(min(i+1, 15)), s.frequency(7), "counters saturate at 15")
	}
	assert.Equal(t, uint8(0), s.frequency(8))
	for k := range uint64(s.sampleSize) {
		s.increment(1000 + k)
	}
	assert.LessOrEqual(t, s.frequency(7), uint8(8), "counters are halved after the sample")
}

func TestSimulatePoliciesRanking(t *testing.T) {
	// A small service trace: the scan-resistant policies beat LRU.
	keys := ServiceTrace(200_000, 10_000, 3)
	hit := map[string]float64{}
	for _, p := range PolicySpecs() {
		hit[p.Name] = float64(Simulate(p.New(1_000), keys)) / float64(len(keys))
	}
	assert.Greater(t, hit["S3-FIFO"], hit["LRU"])
	assert.Greater(t, hit["W-TinyLFU"], hit["LRU"])
}
