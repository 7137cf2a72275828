package evictsim

// TinyLFU is W-TinyLFU as in Caffeine and otter v2, with a fixed window: a
// window LRU of 1% of the capacity in front of a segmented LRU (20%
// probation, 80% protected), and a 4-bit count-min sketch of access
// frequencies that decides whether the key leaving the window may replace
// the probation queue's oldest key. Caffeine and otter v2 also resize the
// window by hill climbing; this simulator does not.
//
// Every hit reorders a list, so a concurrent cache buffers its reads and
// replays them under a lock.
type TinyLFU struct {
	a                            *arena
	window, probation, protected dlist
	index                        map[uint64]int32
	sketch                       sketch
	windowCap, mainCap           int
	protectedCap                 int
	rng                          uint64
}

const (
	inWindow uint8 = iota
	inProbation
	inProtected
)

// NewTinyLFU returns an empty W-TinyLFU of the given capacity (at least 1).
func NewTinyLFU(capacity int) *TinyLFU {
	capacity = max(capacity, 1)
	a := newArena(capacity)
	w := max(capacity/100, 1)
	main := capacity - w
	return &TinyLFU{
		a:            a,
		window:       a.newList(),
		probation:    a.newList(),
		protected:    a.newList(),
		index:        make(map[uint64]int32, capacity),
		sketch:       newSketch(capacity),
		windowCap:    w,
		mainCap:      main,
		protectedCap: main * 8 / 10,
		rng:          1,
	}
}

// Get counts an access to key in the sketch and reports whether key is
// cached; a hit in probation promotes the key to protected.
func (c *TinyLFU) Get(key uint64) bool {
	c.sketch.increment(key)
	i, ok := c.index[key]
	if !ok {
		return false
	}
	switch c.a.n[i].queue {
	case inWindow:
		c.a.moveToFront(&c.window, i)
	case inProbation:
		c.a.remove(&c.probation, i)
		c.a.n[i].queue = inProtected
		c.a.pushFront(&c.protected, i)
		if c.protected.len > c.protectedCap {
			d := c.a.back(&c.protected)
			c.a.remove(&c.protected, d)
			c.a.n[d].queue = inProbation
			c.a.pushFront(&c.probation, d)
		}
	case inProtected:
		c.a.moveToFront(&c.protected, i)
	}
	return true
}

// Add inserts key into the window. The window's oldest key, when the window
// overflows, enters probation if the main space has room, or else competes
// with probation's oldest key: the more frequent one stays.
func (c *TinyLFU) Add(key uint64) {
	if _, ok := c.index[key]; ok {
		return
	}
	i := c.a.alloc(key)
	c.a.n[i].queue = inWindow
	c.a.pushFront(&c.window, i)
	c.index[key] = i
	if c.window.len <= c.windowCap {
		return
	}
	cand := c.a.back(&c.window)
	c.a.remove(&c.window, cand)
	if c.probation.len+c.protected.len < c.mainCap {
		c.a.n[cand].queue = inProbation
		c.a.pushFront(&c.probation, cand)
		return
	}
	victimList := &c.probation
	if c.probation.len == 0 {
		victimList = &c.protected
	}
	if victimList.len == 0 || !c.admit(c.a.n[cand].key, c.a.n[c.a.back(victimList)].key) {
		c.drop(cand)
		return
	}
	v := c.a.back(victimList)
	c.a.remove(victimList, v)
	c.drop(v)
	c.a.n[cand].queue = inProbation
	c.a.pushFront(&c.probation, cand)
}

// admit reports whether the candidate replaces the victim: if it is more
// frequent, or, as in Caffeine against hash flooding, at random 1 in 128
// times when it is warm (frequency at least 6).
func (c *TinyLFU) admit(candidate, victim uint64) bool {
	cf, vf := c.sketch.frequency(candidate), c.sketch.frequency(victim)
	if cf > vf {
		return true
	}
	if cf >= 6 {
		c.rng = mix64(c.rng + 0x9e3779b97f4a7c15)
		return c.rng&127 == 0
	}
	return false
}

// drop forgets the unlinked node i.
func (c *TinyLFU) drop(i int32) {
	delete(c.index, c.a.n[i].key)
	c.a.release(i)
}

// Len is the number of cached keys.
func (c *TinyLFU) Len() int { return c.window.len + c.probation.len + c.protected.len }

// sketch is a count-min sketch of 4-bit counters, 16 to a word, with as
// many words as the next power of two of the capacity, and four counters
// per key (as Caffeine's FrequencySketch). After 10 × capacity increments
// every counter is halved, so that old popularity fades.
type sketch struct {
	table      []uint64
	mask       uint64 // counters - 1
	additions  int
	sampleSize int
}

func newSketch(capacity int) sketch {
	words := 1
	for words < capacity {
		words <<= 1
	}
	return sketch{table: make([]uint64, words), mask: uint64(words)*16 - 1, sampleSize: 10 * capacity}
}

// counters returns the four counter indexes of key (double hashing).
func (s *sketch) counters(key uint64) [4]uint64 {
	h := mix64(key)
	h1, h2 := h, (h>>32|h<<32)|1
	return [4]uint64{h1 & s.mask, (h1 + h2) & s.mask, (h1 + 2*h2) & s.mask, (h1 + 3*h2) & s.mask}
}

// frequency is the minimum of key's counters: an estimate that can only
// exceed the true count (since the last halving).
func (s *sketch) frequency(key uint64) uint8 {
	f := uint8(15)
	for _, c := range s.counters(key) {
		f = min(f, uint8(s.table[c>>4]>>((c&15)*4))&15)
	}
	return f
}

// increment adds one to each of key's counters below 15, halving every
// counter once the sample is full.
func (s *sketch) increment(key uint64) {
	added := false
	for _, c := range s.counters(key) {
		shift := (c & 15) * 4
		if (s.table[c>>4]>>shift)&15 < 15 {
			s.table[c>>4] += 1 << shift
			added = true
		}
	}
	if !added {
		return
	}
	if s.additions++; s.additions >= s.sampleSize {
		for i := range s.table {
			s.table[i] = (s.table[i] >> 1) & 0x7777777777777777
		}
		s.additions /= 2
	}
}
