package recstore

import (
	"context"
	"hash/maphash"
	"log/slog"
	"reflect"
	"unsafe"
)

// Bounded memory: eviction by S3-FIFO.
//
// A Store with a bound (Options.MaxRecords or MaxBytes, or a model's own)
// evicts records to keep within it, choosing them by S3-FIFO (Yang et al.,
// SOSP 2023): a record enters a small FIFO queue; when it reaches the head,
// it moves to a main FIFO queue if it was read since it entered, and is
// evicted otherwise, leaving its id in a ghost list; a record loaded again
// while its id is in the ghost list enters the main queue. At the main
// queue's head a record read since it last got there goes round again, with
// its count lowered, and one not read is evicted. The measurements that
// chose it over LRU and W-TinyLFU are in internal/evictsim/RESULTS.md: its
// hit ratio matched the best on every trace, and a read only raises a
// two-bit count in the entry, so Peek keeps taking no lock.
//
// Queues are per table; a Store-wide bound evicts from the table whose
// queue head is the oldest, which merges the tables' queues into one. All
// of it is guarded by Store.mu, but for the count readers raise.

// Causes of eviction, indexes of tableStats.evicted.
const (
	causeStoreRecords = iota
	causeStoreBytes
	causeTypeRecords
	causeTypeBytes
)

var causeNames = [...]string{"store_records", "store_bytes", "type_records", "type_bytes"}

// The bits of entry.meta.
const (
	metaFreq    uint64 = 3      // reads since the record entered its queue or went round, up to 3
	metaQueue   uint64 = 3 << 2 // the queue holding the record: qNone, qSmall or qMain
	metaPinned  uint64 = 1 << 4 // a Retain holds the record
	metaInvalid uint64 = 1 << 5 // Invalidate marked the record
	metaYoung   uint64 = 1 << 6 // the commit being bounded touched the record: not evicted by it
	metaSeqAt          = 8      // bits 8-39: the low bits of the record's queue item's seq
	metaSeqMask uint64 = (1<<32 - 1) << metaSeqAt
	metaSizeAt         = 40 // bits 40-63: the estimated size, in units of 8 bytes, saturating
	metaSizeMax        = 1<<24 - 1
)

const (
	qNone  uint64 = 0
	qSmall uint64 = 1 << 2
	qMain  uint64 = 2 << 2
)

// setMeta sets or clears bits in e.meta.
func (e *entry) setMeta(bits uint64, on bool) {
	for {
		m := e.meta.Load()
		n := m &^ bits
		if on {
			n = m | bits
		}
		if m == n || e.meta.CompareAndSwap(m, n) {
			return
		}
	}
}

// touch counts a read of e, for eviction: one try, as a read lost to a
// race is of no matter, and none at all once the count is full, so that
// reads of a hot record do not write its cache line.
func (e *entry) touch() {
	m := e.meta.Load()
	if m&metaFreq != metaFreq && m&metaQueue != qNone {
		e.meta.CompareAndSwap(m, m+1)
	}
}

// size returns e's estimated size in bytes, as last recorded.
func (e *entry) size() int64 { return int64(e.meta.Load()>>metaSizeAt) << 3 }

// placed records that e is in queue q under item seq, with a count of 0.
func (e *entry) placed(q uint64, seq uint64) {
	for {
		m := e.meta.Load()
		n := m&^(metaFreq|metaQueue|metaSeqMask) | q | uint64(uint32(seq))<<metaSeqAt
		if e.meta.CompareAndSwap(m, n) {
			return
		}
	}
}

// sized records sz as e's estimated size.
func (e *entry) sized(sz int64) {
	u := uint64(min(max(sz, 0)>>3, metaSizeMax))
	for {
		m := e.meta.Load()
		n := m&^(metaSizeMax<<metaSizeAt) | u<<metaSizeAt
		if m == n || e.meta.CompareAndSwap(m, n) {
			return
		}
	}
}

// fifo is one eviction queue: items are appended at the tail and taken at
// the head; an item whose entry has since left the queue is skipped.
type fifo struct {
	items []qitem
	head  int
}

type qitem struct {
	e   *entry
	seq uint64
}

func (q *fifo) push(it qitem) { q.items = append(q.items, it) }

// front returns the first item still in queue which, dropping stale ones,
// or false.
func (q *fifo) front(which uint64) (qitem, bool) {
	for q.head < len(q.items) {
		it := q.items[q.head]
		m := it.e.meta.Load()
		if m&metaQueue == which && uint32(m>>metaSeqAt) == uint32(it.seq) {
			return it, true
		}
		q.pop()
	}
	return qitem{}, false
}

// pop drops the head item, and compacts the queue once most of it is
// gone, so that its memory follows what it holds.
func (q *fifo) pop() {
	q.items[q.head] = qitem{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
		if cap(q.items) > 1024 {
			q.items = nil
		}
		return
	}
	if q.head > 1024 && q.head > len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
		if cap(q.items) > 4*n+1024 {
			q.items = append([]qitem(nil), q.items...)
		}
	}
}

// ghost remembers the ids of records evicted from the small queue lately,
// as hashes, up to a number that follows the table's size.
type ghost struct {
	ring []uint64
	next int
	has  map[uint64]int32
}

func (g *ghost) add(h uint64, limit int) {
	limit = max(limit, 64)
	if g.has == nil {
		g.has = map[uint64]int32{}
	}
	if len(g.ring) < limit {
		g.ring = append(g.ring, h)
	} else {
		if g.next >= len(g.ring) {
			g.next = 0
		}
		old := g.ring[g.next]
		if g.has[old]--; g.has[old] <= 0 {
			delete(g.has, old)
		}
		g.ring[g.next] = h
		g.next++
	}
	g.has[h]++
}

// take reports whether h is in the ghost list; the ring forgets it in
// time.
func (g *ghost) take(h uint64) bool {
	if g.has[h] > 0 {
		if g.has[h]--; g.has[h] == 0 {
			delete(g.has, h)
		}
		return true
	}
	return false
}

// tcache is one table's eviction state, guarded by Store.mu.
type tcache struct {
	small, main   fifo
	nSmall, nMain int
	ghost         ghost
	seed          maphash.Seed
	// maxRecords and maxBytes are the model's bounds; 0 means none.
	maxRecords int
	maxBytes   int64
}

// bounded reports whether the Store keeps records in eviction queues: it
// or one of its models has a bound.
func (s *Store) bounded() bool { return s.bounds.Load() }

// startBounds turns eviction on, once, putting the records already held
// in its queues. Called with Store.mu held.
func (s *Store) startBounds(tables map[string]*table) {
	if s.bounds.Swap(true) {
		return
	}
	for _, t := range tables {
		for _, e := range *t.order.Load() {
			if v := e.cur.Load(); v.listed() {
				s.admit(t, e)
				s.resize(t, e, v)
			}
		}
	}
}

// admit puts e, a record that just became listed, in an eviction queue.
func (s *Store) admit(t *table, e *entry) {
	tc := &t.cache
	s.cacheSeq++
	q := qSmall
	if tc.ghost.has != nil && tc.ghost.take(maphash.String(tc.seed, e.id)) {
		q = qMain
	}
	e.placed(q, s.cacheSeq)
	e.setMeta(metaPinned, s.pinned(t, e))
	if q == qSmall {
		tc.small.push(qitem{e, s.cacheSeq})
		tc.nSmall++
	} else {
		tc.main.push(qitem{e, s.cacheSeq})
		tc.nMain++
	}
}

// forget takes e, a record no longer listed, out of its queue, and its
// size out of the table's.
func (s *Store) forget(t *table, e *entry) {
	switch e.meta.Load() & metaQueue {
	case qSmall:
		t.cache.nSmall--
	case qMain:
		t.cache.nMain--
	default:
		return
	}
	e.placed(qNone, 0)
	t.bytes.Add(-e.size())
	e.sized(0)
}

// resize records the estimated size of e's version v, rounded as meta
// keeps it, so that the table's sum is exactly the sum of its entries'.
func (s *Store) resize(t *table, e *entry, v *version) {
	sz := min((t.estimate(e, v)+7)&^7, metaSizeMax<<3)
	t.bytes.Add(sz - e.size())
	e.sized(sz)
}

// enforceBounds evicts records until the Store and each table are within
// their bounds, sparing those c touched (it was just published: a Find
// reads the record it loaded after this). Called with Store.mu held.
func (s *Store) enforceBounds(c *commit) {
	if !s.bounded() {
		return
	}
	for _, d := range c.drafts {
		d.e.setMeta(metaYoung, true)
	}
	defer func() {
		for _, d := range c.drafts {
			d.e.setMeta(metaYoung, false)
		}
	}()
	var victims []victim
	tables := *s.tables.Load()
	for _, t := range tables {
		tc := &t.cache
		if !(tc.maxRecords > 0 && tc.nSmall+tc.nMain > tc.maxRecords || tc.maxBytes > 0 && t.bytes.Load() > tc.maxBytes) {
			continue
		}
		for tc.maxRecords > 0 && tc.nSmall+tc.nMain > below(tc.maxRecords) || tc.maxBytes > 0 && t.bytes.Load() > below(tc.maxBytes) {
			cause := causeTypeRecords
			if tc.maxRecords <= 0 || tc.nSmall+tc.nMain <= below(tc.maxRecords) {
				cause = causeTypeBytes
			}
			e, ok := s.pick(t, tc.nSmall > (tc.nSmall+tc.nMain)/10)
			if !ok {
				break // nothing evictable: the bound is met once records are
			}
			victims = append(victims, victim{t, e, cause})
			s.forget(t, e)
		}
	}
	started := false
	for s.opts.MaxRecords > 0 || s.opts.MaxBytes > 0 {
		var n int
		var size int64
		for _, t := range tables {
			n += t.cache.nSmall + t.cache.nMain
			size += t.bytes.Load()
		}
		maxR, maxB := s.opts.MaxRecords, s.opts.MaxBytes
		if started {
			maxR, maxB = below(maxR), below(maxB)
		}
		started = true
		cause := causeStoreRecords
		switch {
		case maxR > 0 && n > maxR:
		case maxB > 0 && size > maxB:
			cause = causeStoreBytes
		default:
			cause = -1
		}
		if cause < 0 {
			break
		}
		t, e, ok := s.pickOldest(tables)
		if !ok {
			break
		}
		victims = append(victims, victim{t, e, cause})
		s.forget(t, e)
	}
	if len(victims) > 0 {
		s.evict(victims)
	}
}

// below returns where eviction stops once a bound is passed: 1/128 under
// it, so that a Store at its bound pays for an eviction commit once in many
// changes rather than on every one.
func below[N int | int64](bound N) N { return bound - bound/128 }

type victim struct {
	t     *table
	e     *entry
	cause int
}

// evictable reports whether e's record may be evicted: not pinned, not
// touched by the commit being bounded, and with no local life (new,
// changed, being saved, deleted, with errors).
func evictable(e *entry) bool {
	if e.meta.Load()&(metaPinned|metaYoung) != 0 {
		return false
	}
	v := e.cur.Load()
	return v != nil && v.st == nil
}

// pick chooses t's next victim, from the small queue if fromSmall, else
// from the main one, moving what is spared along; false if nothing in t
// is evictable.
func (s *Store) pick(t *table, fromSmall bool) (*entry, bool) {
	tc := &t.cache
	for steps := min(2*(tc.nSmall+tc.nMain)+2, maxSteps); steps > 0; steps-- {
		_, small := t.smallHead()
		switch {
		case fromSmall && !small && tc.nSmall > 0:
			// The small queue is over its share with this commit's own
			// records: they wait for the next commit, and the records
			// read more than once are not evicted for them.
			return nil, false
		case small && (fromSmall || tc.nMain == 0):
			if e, ok := s.stepSmall(t); ok {
				return e, true
			}
			fromSmall = tc.nSmall > (tc.nSmall+tc.nMain)/10
			continue
		case tc.nMain == 0:
			return nil, false
		}
		if e, ok := s.stepMain(t); ok {
			return e, true
		}
	}
	return nil, false
}

// maxSteps bounds the queue items one pick looks at, so that a Store
// whose records are mostly pinned or changed does not walk them all on
// every push: it stays over its bound a little longer instead.
const maxSteps = 1024

// smallHead returns the small queue's head, unless the queue is empty or
// its head came in with the commit being bounded: so did everything
// behind it, which stays on probation for the next commit rather than
// being moved along.
func (t *table) smallHead() (qitem, bool) {
	it, ok := t.cache.small.front(qSmall)
	if !ok || it.e.meta.Load()&metaYoung != 0 {
		return qitem{}, false
	}
	return it, true
}

// stepSmall looks at the small queue's head: a record read since it came
// moves to the main queue, as does one that may not be evicted; another
// is the victim, and its id goes to the ghost list.
func (s *Store) stepSmall(t *table) (*entry, bool) {
	tc := &t.cache
	it, ok := t.smallHead()
	if !ok {
		return nil, false
	}
	tc.small.pop()
	e := it.e
	if e.meta.Load()&metaFreq > 0 || !evictable(e) {
		tc.nSmall--
		s.cacheSeq++
		e.placed(qMain, s.cacheSeq)
		tc.main.push(qitem{e, s.cacheSeq})
		tc.nMain++
		return nil, false
	}
	tc.ghost.add(maphash.String(tc.seed, e.id), tc.nMain+tc.nSmall)
	return e, true
}

// stepMain looks at the main queue's head: a record read since it last
// got there, or one that may not be evicted, goes round again (with its
// count lowered); another is the victim.
func (s *Store) stepMain(t *table) (*entry, bool) {
	tc := &t.cache
	it, ok := tc.main.front(qMain)
	if !ok {
		return nil, false
	}
	tc.main.pop()
	e := it.e
	if f := e.meta.Load() & metaFreq; f > 0 || !evictable(e) {
		s.cacheSeq++
		e.placed(qMain, s.cacheSeq)
		if f > 1 {
			e.meta.Add(f - 1) // placed cleared the count: keep f-1 of it
		}
		tc.main.push(qitem{e, s.cacheSeq})
		return nil, false
	}
	return e, true
}

// pickOldest chooses the Store's next victim: from the table whose small
// (if fromSmall) or main queue's head is the oldest, which makes the
// tables' queues one. Records spared go round with a newer seq, so every
// head is looked at once before any is looked at twice.
func (s *Store) pickOldest(tables map[string]*table) (*table, *entry, bool) {
	steps := 2
	for _, t := range tables {
		steps += 2 * (t.cache.nSmall + t.cache.nMain)
	}
	for steps = min(steps, maxSteps); steps > 0; steps-- {
		var best *table
		var bestSeq uint64
		youngSmall := false
		n, nSmall := 0, 0
		for _, t := range tables {
			n += t.cache.nSmall + t.cache.nMain
			nSmall += t.cache.nSmall
		}
		fromSmall := nSmall > n/10 // the small queues' share is 10%
		for _, t := range tables {
			if _, ok := t.smallHead(); !ok && t.cache.nSmall > 0 {
				youngSmall = true
			}
			var it qitem
			var ok bool
			if fromSmall {
				it, ok = t.smallHead()
			} else {
				it, ok = t.cache.main.front(qMain)
			}
			if ok && (best == nil || it.seq < bestSeq) {
				best, bestSeq = t, it.seq
			}
		}
		if best == nil && fromSmall && !youngSmall {
			fromSmall = false // the small queues are empty
			for _, t := range tables {
				if it, ok := t.cache.main.front(qMain); ok && (best == nil || it.seq < bestSeq) {
					best, bestSeq = t, it.seq
				}
			}
		}
		if best == nil {
			// Nothing left, or only this commit's own records in the
			// small queues: see pick.
			return nil, nil, false
		}
		var e *entry
		var ok bool
		if fromSmall {
			e, ok = s.stepSmall(best)
		} else {
			e, ok = s.stepMain(best)
		}
		if ok {
			return best, e, true
		}
	}
	return nil, nil, false
}

// evict unloads victims in one commit, as Unload does: they leave their
// inverses, and subscribers see them removed. The records whose
// relationships that changed are marked invalidated (see Invalidate): the
// backend still has the evicted records in them, so they are no longer
// what it sent, and Find reloads them rather than serve them as fresh.
func (s *Store) evict(victims []victim) {
	c := newCommit(s, CauseEvict)
	defer c.abort()
	for _, v := range victims {
		if err := c.unload(v.t, v.e); err != nil {
			// An unload fails only on a broken graph: keep the records.
			c.abort()
			for _, v := range victims {
				s.admit(v.t, v.e)
				s.resize(v.t, v.e, v.e.cur.Load())
			}
			return
		}
	}
	c.publish()
	gone := make(map[*entry]bool, len(victims))
	for _, v := range victims {
		gone[v.e] = true
	}
	for _, d := range c.drafts {
		if !gone[d.e] && d.e.loaded() {
			d.e.setMeta(metaInvalid, true)
		}
	}
	debug := s.debugging(context.Background())
	for _, v := range victims {
		v.t.stats.evicted[v.cause].Add(1)
		if debug {
			s.debug(context.Background(), "recstore: evicted", slog.String("type", v.t.name),
				slog.String("id", v.e.id), slog.String("cause", causeNames[v.cause]))
		}
	}
}

// Fixed costs of a record, for its estimated size: its entry, its slots
// in the id map and the load order, and a version's header.
const (
	entryCost   = int64(unsafe.Sizeof(entry{})) + 2*8
	versionCost = int64(unsafe.Sizeof(version{}))
	keyCost     = int64(unsafe.Sizeof(Key{}))
)

// estimate returns the estimated size in bytes of e holding v: the fixed
// costs, the T, what its attributes point to, and its relationships.
func (t *table) estimate(e *entry, v *version) int64 {
	n := entryCost + int64(len(e.id))
	if v == nil {
		return n
	}
	n += versionCost + int64(t.goType.Size())
	if v.val != nil {
		for _, sz := range t.sizers {
			n += sz(v.val)
		}
	}
	for _, rs := range v.relsOf() {
		n += int64(len(rs.many)) * keyCost
		for _, k := range rs.many {
			n += int64(len(k.ID))
		}
		n += int64(len(rs.one.ID))
	}
	if v.st != nil {
		n += int64(t.goType.Size()) * 2 // backend values, values in flight
	}
	return n
}

// makeSizers returns, for each attribute that may point to memory of its
// own, a function estimating that memory; fixed-size attributes need none.
func makeSizers(attrs []attrField) []func(unsafe.Pointer) int64 {
	var out []func(unsafe.Pointer) int64
	for i := range attrs {
		a := &attrs[i]
		if !pointsOut(a.typ, 0) {
			continue
		}
		off, typ := a.off, a.typ
		if typ.Kind() == reflect.String {
			out = append(out, func(p unsafe.Pointer) int64 { return int64(len(*(*string)(unsafe.Add(p, off)))) })
			continue
		}
		out = append(out, func(p unsafe.Pointer) int64 {
			return deepSize(reflect.NewAt(typ, unsafe.Add(p, off)).Elem(), 0)
		})
	}
	return out
}

// pointsOut reports whether values of typ may hold memory beyond their
// own size.
func pointsOut(typ reflect.Type, depth int) bool {
	if depth > 8 {
		return true
	}
	switch typ.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
		return true
	case reflect.Array:
		return typ.Len() > 0 && pointsOut(typ.Elem(), depth+1)
	case reflect.Struct:
		for i := range typ.NumField() {
			if pointsOut(typ.Field(i).Type, depth+1) {
				return true
			}
		}
	}
	return false
}

// deepSize estimates the memory v points to (not v's own size), down to a
// depth of 8; beyond, what is left counts as nothing. It walks what the
// record holds, so its cost follows the record's size.
func deepSize(v reflect.Value, depth int) int64 {
	if depth > 8 {
		return 0
	}
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Slice:
		if v.IsNil() {
			return 0
		}
		n := int64(v.Cap()) * int64(v.Type().Elem().Size())
		if pointsOut(v.Type().Elem(), 0) {
			for i := range v.Len() {
				n += deepSize(v.Index(i), depth+1)
			}
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return 0
		}
		kt, vt := v.Type().Key(), v.Type().Elem()
		n := 48 + int64(v.Len())*(int64(kt.Size())+int64(vt.Size())+8)
		if pointsOut(kt, 0) || pointsOut(vt, 0) {
			it := v.MapRange()
			for it.Next() {
				n += deepSize(it.Key(), depth+1) + deepSize(it.Value(), depth+1)
			}
		}
		return n
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int64(v.Type().Elem().Size()) + deepSize(v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		return int64(e.Type().Size()) + deepSize(e, depth+1)
	case reflect.Array:
		var n int64
		for i := range v.Len() {
			n += deepSize(v.Index(i), depth+1)
		}
		return n
	case reflect.Struct:
		var n int64
		for i := range v.NumField() {
			n += deepSize(v.Field(i), depth+1)
		}
		return n
	}
	return 0
}
