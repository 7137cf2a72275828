package evictsim

// LRU evicts the least recently used key. Every hit moves the key to the
// front of one list, so a concurrent cache must serialize its reads (a lock
// or a read buffer).
type LRU struct {
	a     *arena
	l     dlist
	index map[uint64]int32
	cap   int
}

// NewLRU returns an empty LRU of the given capacity (at least 1).
func NewLRU(capacity int) *LRU {
	capacity = max(capacity, 1)
	a := newArena(capacity)
	return &LRU{a: a, l: a.newList(), index: make(map[uint64]int32, capacity), cap: capacity}
}

// Get reports whether key is cached and, if so, makes it the most recent.
func (c *LRU) Get(key uint64) bool {
	i, ok := c.index[key]
	if ok {
		c.a.moveToFront(&c.l, i)
	}
	return ok
}

// Add inserts key as the most recent, evicting the least recent when full.
func (c *LRU) Add(key uint64) {
	if _, ok := c.index[key]; ok {
		return
	}
	if c.l.len >= c.cap {
		v := c.a.back(&c.l)
		c.a.remove(&c.l, v)
		delete(c.index, c.a.n[v].key)
		c.a.release(v)
	}
	i := c.a.alloc(key)
	c.a.pushFront(&c.l, i)
	c.index[key] = i
}

// Len is the number of cached keys.
func (c *LRU) Len() int { return c.l.len }

// Keys lists the cached keys from most to least recent.
func (c *LRU) Keys() []uint64 { return c.a.keys(&c.l) }
