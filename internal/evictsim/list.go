package evictsim

// node is one cached key in an arena of nodes, linked into one of a
// policy's queues by index (int32 instead of pointers: fewer pointers for
// the garbage collector to scan, smaller nodes).
type node struct {
	key        uint64
	prev, next int32
	freq       uint8 // S3-FIFO's access counter
	queue      uint8 // which of the policy's queues holds the node
}

// arena holds the nodes of one policy: the sentinels of its queues first,
// then the entries. Freed entries are chained through next.
type arena struct {
	n    []node
	free int32 // first free node, or -1
}

// dlist is a circular doubly linked list with a sentinel node in the arena.
// The front is the most recently inserted end; the back is the oldest.
type dlist struct {
	s   int32 // sentinel index
	len int
}

func newArena(capacity int) *arena {
	return &arena{n: make([]node, 0, capacity+4), free: -1}
}

// newList allocates the sentinel of an empty list.
func (a *arena) newList() dlist {
	s := int32(len(a.n))
	a.n = append(a.n, node{prev: s, next: s})
	return dlist{s: s}
}

// alloc returns a fresh unlinked node holding key.
func (a *arena) alloc(key uint64) int32 {
	if i := a.free; i >= 0 {
		a.free = a.n[i].next
		a.n[i] = node{key: key}
		return i
	}
	a.n = append(a.n, node{key: key})
	return int32(len(a.n) - 1)
}

// release puts an unlinked node back on the free chain.
func (a *arena) release(i int32) {
	a.n[i].next = a.free
	a.free = i
}

// pushFront links i at the front of l.
func (a *arena) pushFront(l *dlist, i int32) {
	s := l.s
	first := a.n[s].next
	a.n[i].prev, a.n[i].next = s, first
	a.n[first].prev = i
	a.n[s].next = i
	l.len++
}

// remove unlinks i from l.
func (a *arena) remove(l *dlist, i int32) {
	p, nx := a.n[i].prev, a.n[i].next
	a.n[p].next = nx
	a.n[nx].prev = p
	l.len--
}

// back returns the oldest node of a non-empty l.
func (a *arena) back(l *dlist) int32 { return a.n[l.s].prev }

// moveToFront moves i, already in l, to the front of l.
func (a *arena) moveToFront(l *dlist, i int32) {
	if a.n[l.s].next == i {
		return
	}
	a.remove(l, i)
	a.pushFront(l, i)
}

// keys lists l's keys from front to back (for tests).
func (a *arena) keys(l *dlist) []uint64 {
	out := make([]uint64, 0, l.len)
	for i := a.n[l.s].next; i != l.s; i = a.n[i].next {
		out = append(out, a.n[i].key)
	}
	return out
}
