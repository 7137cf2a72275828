package recstore

import "sync"

// A Retain keeps records from being evicted (see Options.MaxRecords)
// until it is released: a caller pins the records it depends on, for as
// long as it needs them in memory. Retains nest: a record stays pinned
// while any Retain holds it. A Retain names records by key, so it holds a
// record loaded after it was taken, and one unloaded and loaded again; it
// does not keep a record from Unload, which is the application's own
// call. A Retain of a record created without an id names it by its local
// identifier, and does not follow it to the id its save gives it: retain
// the saved record by its new key. A Retain must be released, or the records it holds are never
// evicted; Release may be called more than once, from any goroutine.
type Retain struct {
	s    *Store
	keys []Key
	once sync.Once
}

// Retain pins the records keys (see [Retain]). Keys of types without a
// model are kept as given and pin nothing.
func (s *Store) Retain(keys ...Key) *Retain {
	r := &Retain{s: s, keys: append([]Key(nil), keys...)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pins == nil {
		s.pins = map[Key]int{}
	}
	for _, k := range r.keys {
		s.pins[k]++
		if t := s.lookupType(k.Type); t != nil {
			if e := t.entry(k.ID); e != nil {
				e.setMeta(metaPinned, true)
			}
		}
	}
	return r
}

// Retain pins the records ids of this model, as [Store.Retain] does.
func (m *Model[T]) Retain(ids ...string) *Retain {
	keys := make([]Key, len(ids))
	for i, id := range ids {
		keys[i] = Key{m.t.name, id}
	}
	return m.s.Retain(keys...)
}

// Keys returns the keys r pins.
func (r *Retain) Keys() []Key { return append([]Key(nil), r.keys...) }

// Release unpins r's records: those no other Retain holds may be evicted
// again. Calls after the first do nothing.
func (r *Retain) Release() {
	r.once.Do(func() {
		s := r.s
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, k := range r.keys {
			if s.pins[k]--; s.pins[k] > 0 {
				continue
			}
			delete(s.pins, k)
			if t := s.lookupType(k.Type); t != nil {
				if e := t.entry(k.ID); e != nil {
					e.setMeta(metaPinned, false)
				}
			}
		}
	})
}

// pinned reports whether a Retain holds t/e's key. Called with Store.mu
// held.
func (s *Store) pinned(t *table, e *entry) bool {
	return len(s.pins) > 0 && s.pins[Key{t.name, e.id}] > 0
}
