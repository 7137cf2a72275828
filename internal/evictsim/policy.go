package evictsim

// A Policy is a cache eviction policy over uint64 keys, with a capacity
// counted in entries. Policies store keys only; they are not safe for
// concurrent use.
type Policy interface {
	// Get records an access to key and reports whether key is cached.
	Get(key uint64) bool
	// Add inserts key, which Get just reported missing, evicting as the
	// policy decides so that Len never exceeds the capacity.
	Add(key uint64)
	// Len is the number of cached keys.
	Len() int
}

// A PolicySpec names a policy and builds one of a given capacity.
type PolicySpec struct {
	Name string
	New  func(capacity int) Policy
}

// PolicySpecs lists the policies this package implements, in the order
// the results table shows them.
func PolicySpecs() []PolicySpec {
	return []PolicySpec{
		{Name: "LRU", New: func(c int) Policy { return NewLRU(c) }},
		{Name: "S3-FIFO", New: func(c int) Policy { return NewS3FIFO(c) }},
		{Name: "S3-FIFO-promote2", New: func(c int) Policy { return NewS3FIFOPromoting(c, 2) }},
		{Name: "W-TinyLFU", New: func(c int) Policy { return NewTinyLFU(c) }},
	}
}

// Simulate replays keys through p, adding every missed key, and returns
// the number of hits.
func Simulate(p Policy, keys []uint64) (hits int) {
	for _, k := range keys {
		if p.Get(k) {
			hits++
		} else {
			p.Add(k)
		}
	}
	return hits
}

// mix64 is SplitMix64's finalizer: a bijection on uint64 with good
// avalanche, used to scatter trace keys and to hash keys in the sketch and
// the ghost queue.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
