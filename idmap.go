package recstore

import (
	"hash/maphash"
	"sync/atomic"
)

// idMap maps ids to the entries of one table. It is an open-addressing
// hash table with linear probing whose slots are atomic pointers: writers,
// which Store.mu already serializes, store into slots and publish a new
// slot array when growing; readers take no lock and never block.
//
// Compared with sync.Map it costs no allocation per insert, one 8-byte
// slot per entry at most 3/4 full, and one or two cache misses per lookup
// at a million entries instead of a walk down a trie.
type idMap struct {
	seed  maphash.Seed
	slots atomic.Pointer[[]atomic.Pointer[entry]]
	live  int // entries; guarded by Store.mu
	used  int // entries plus tombstones; guarded by Store.mu
}

// tombstone marks a deleted slot, so that probes continue past it.
var tombstone = &entry{}

func newIDMap() *idMap {
	m := &idMap{seed: maphash.MakeSeed()}
	slots := make([]atomic.Pointer[entry], 8)
	m.slots.Store(&slots)
	return m
}

// get returns the entry for id, or nil. Safe without any lock.
func (m *idMap) get(id string) *entry {
	slots := *m.slots.Load()
	mask := uint64(len(slots) - 1)
	for i := maphash.String(m.seed, id) & mask; ; i = (i + 1) & mask {
		e := slots[i].Load()
		if e == nil {
			return nil
		}
		if e != tombstone && e.id == id {
			return e
		}
	}
}

// put adds e, whose id must not be in the map. Called with Store.mu held.
func (m *idMap) put(e *entry) {
	slots := *m.slots.Load()
	if (m.used+1)*4 > len(slots)*3 {
		slots = m.grow()
	}
	mask := uint64(len(slots) - 1)
	for i := maphash.String(m.seed, e.id) & mask; ; i = (i + 1) & mask {
		if slots[i].Load() == nil {
			slots[i].Store(e)
			m.live++
			m.used++
			return
		}
	}
}

// del removes the entry for id, if any. Called with Store.mu held.
func (m *idMap) del(id string) {
	slots := *m.slots.Load()
	mask := uint64(len(slots) - 1)
	for i := maphash.String(m.seed, id) & mask; ; i = (i + 1) & mask {
		e := slots[i].Load()
		if e == nil {
			return
		}
		if e != tombstone && e.id == id {
			slots[i].Store(tombstone)
			m.live--
			if len(slots) > 8 && m.live*8 < len(slots) {
				// Mostly empty, as after an unload of most of a table:
				// give the slots grown for the peak back. grow sizes
				// the new array for the live entries alone, at most
				// 3/8 full, so that between a shrink and the next at
				// least len/16 entries leave (and 3/8 of it join
				// before a grow): each rebuild, O(len), is paid for by
				// as many deletions or insertions.
				m.grow()
			}
			return
		}
	}
}

// grow publishes a new slot array, twice the live entries' need, without
// tombstones; it grows the map, or shrinks it once it is mostly empty
// (see del). Readers still probing the old array see it as it was, which
// holds every entry that was published before they started.
func (m *idMap) grow() []atomic.Pointer[entry] {
	old := *m.slots.Load()
	n := 8
	for n*3 < (m.live+1)*4*2 {
		n *= 2
	}
	slots := make([]atomic.Pointer[entry], n)
	mask := uint64(n - 1)
	for i := range old {
		e := old[i].Load()
		if e == nil || e == tombstone {
			continue
		}
		j := maphash.String(m.seed, e.id) & mask
		for slots[j].Load() != nil {
			j = (j + 1) & mask
		}
		slots[j].Store(e)
	}
	m.used = m.live
	m.slots.Store(&slots)
	return slots
}

// all calls fn for each entry until fn returns false. Safe without a lock;
// entries added or removed meanwhile may or may not be seen.
func (m *idMap) all(fn func(*entry) bool) {
	slots := *m.slots.Load()
	for i := range slots {
		if e := slots[i].Load(); e != nil && e != tombstone && !fn(e) {
			return
		}
	}
}
