package recstore

import (
	"fmt"
	"slices"
	"unsafe"
)

// A commit is one change to the Store, built under Store.mu. Every record
// it touches gets a draft: a private next version, copied from the
// published one only as far as the change needs. Nothing is visible to
// readers until publish stores the drafts' versions; abort forgets them.
// This is what makes a push all or nothing even when a check fails late,
// such as an inverse that does not fit.
type commit struct {
	s       *Store
	drafts  []*draft
	slab    []draft
	appends map[*table][]*entry
	shrunk  map[*table]bool // tables that lost records in this commit
	// index finds members of the long to-many lists the commit edits.
	index map[memberKey]int
	done  bool // published or aborted
	// more holds the links and meta records will have once the commit
	// is published, for those whose push carried some; staged finds
	// what each staged resource carried (see linksmeta.go). Both are nil
	// for the many pushes that carry none.
	more   map[*draft]*more
	staged map[stagedAt]*more
	// stagedLIDs holds the lids of staged resources that have ids too
	// (see parser.lids); nil for the many pushes that carry none.
	stagedLIDs map[stagedAt]string

	// cause is what subscribers are told made the commit's changes.
	cause Cause
	// local marks a commit of local changes (an edit, a create, a
	// rollback): relationships it changes keep their canonical state in
	// the record's recState. Other commits (pushes, saves' answers)
	// change canonical state, and only that where a relationship was
	// changed locally (see canonLayer).
	local bool
	// viaCanon is set while a non-local commit keeps the inverses of a
	// relationship changed locally in step: the backend's change to it
	// reaches the other side's canonical layer only, so that the current
	// views of both sides still agree (see canonLayer).
	viaCanon bool
	// aliases lists the local identifiers this commit pointed at new
	// entries (see assignID), and tagged the entries it tagged with a
	// local identifier, which an abort takes back.
	aliases []tableLID
	tagged  []tableEntry
	// leaving is set while a record leaves its inverses (see leave).
	leaving bool
	// maxAge is the expiry the answer being pushed came with, if any (see
	// Request.SetMaxAge).
	maxAge maxAge
	// inv is the Request.inv of the answer being pushed, or of the save
	// being confirmed, and numbered says it is set (see beginLoad).
	inv      uint64
	numbered bool
	// since is the Request.since of the answer being pushed; 0 for a
	// push that is not an answer to a load.
	since uint64
	// loads is set once a draft is loaded (draft.loaded): publish then
	// reads the clock, before it publishes anything.
	loads bool
	// first lists the entries of a push's resources in document order,
	// for the order of its events; set only when someone subscribes.
	first []*entry
}

// tableEntry names one entry of one table.
type tableEntry struct {
	t *table
	e *entry
}

// tableLID names one local identifier of one table.
type tableLID struct {
	t   *table
	lid string
}

type draft struct {
	e    *entry
	t    *table
	base *version // published version when the commit began, or nil
	v    *version // next version; == base until the draft first changes

	ownVal  bool     // v.val is private to this draft
	ownRels bool     // v.rels is private to this draft
	many    []riMany // the to-many lists being edited, by relationship
	drop    bool     // the record is being unloaded
	created bool     // the entry was added to byID by this commit
	ownSt   bool     // v.st is private to this draft
	ownRem  bool     // v.st.remote is private to this draft
	// loaded says the backend's data for the record is in this commit
	// (a pushed resource, a save's confirmation): publish stamps its
	// load time.
	loaded bool
}

func (d *draft) key() Key { return Key{d.t.name, d.e.id} }

// riMany pairs a to-many list being edited with its relationship index.
// A draft holds few of them, so a list beats a slot per relationship of
// the model, which costs records known only by reference dearly.
type riMany struct {
	ri int
	m  *manyDraft
}

// editing returns d's list for relationship ri, or nil.
func (d *draft) editing(ri int) *manyDraft {
	for _, x := range d.many {
		if x.ri == ri {
			return x.m
		}
	}
	return nil
}

// setEditing makes m d's list for relationship ri.
func (d *draft) setEditing(ri int, m *manyDraft) {
	for i := range d.many {
		if d.many[i].ri == ri {
			d.many[i].m = m
			return
		}
	}
	d.many = append(d.many, riMany{ri, m})
}

// manyDraft is a to-many list being edited. Removals leave zero-Key
// tombstones that finish compacts, and an index makes membership tests
// cheap on long lists, so a push that links n records costs O(n) however
// long the lists are.
type manyDraft struct {
	keys    []Key
	c       *commit
	indexed bool // keys are in c.index
	tombs   int
}

// memberKey names one member of one list in commit.index.
type memberKey struct {
	m *manyDraft
	k Key
}

const indexFrom = 16 // list length from which a manyDraft keeps an index

func newCommit(s *Store, cause Cause) *commit { return &commit{s: s, cause: cause} }

// grow makes room for n drafts.
func (c *commit) grow(n int) {
	c.drafts = slices.Grow(c.drafts, n)
	c.slab = make([]draft, 0, n+8)
}

func (c *commit) newDraft() *draft {
	if len(c.slab) == cap(c.slab) {
		// Pushes size the slab (grow); an edit or an unload touches a
		// record and its few inverses, so its slabs start small.
		c.slab = make([]draft, 0, min(256, max(2, 2*len(c.drafts))))
	}
	c.slab = c.slab[:len(c.slab)+1]
	return &c.slab[len(c.slab)-1]
}

// draftOf returns the draft of e, making it on first use.
func (c *commit) draftOf(t *table, e *entry) *draft {
	if e.draft != nil {
		return e.draft
	}
	d := c.newDraft()
	d.e, d.t = e, t
	d.base = e.cur.Load()
	d.v = d.base
	e.draft = d
	c.drafts = append(c.drafts, d)
	return d
}

// draft returns the draft for (t, id). With create it makes an entry for a
// record the Store has never seen; otherwise it returns nil for one.
func (c *commit) draft(t *table, id string, create bool) *draft {
	e := t.entry(id)
	if e == nil {
		if !create {
			return nil
		}
		e = &entry{id: id}
		t.byID.put(e)
		d := c.draftOf(t, e)
		d.created = true
		return d
	}
	return c.draftOf(t, e)
}

// header makes d.v a private version struct (sharing val and rels).
func (c *commit) header(d *draft) {
	if d.v != nil && d.v != d.base {
		return
	}
	nv := &version{}
	if d.base != nil {
		*nv = *d.base
	}
	d.v = nv
}

// valOffset is where a versionOf[T] holds its value: right after the
// version, whatever T is, as no Go type is aligned on more than a word
// and a version is a whole number of words. The array below fails to
// compile if a value of the most aligned kind sits elsewhere.
const valOffset = unsafe.Sizeof(version{})

var _ [0]struct{} = [unsafe.Offsetof(versionOf[complex128]{}.val) - valOffset]struct{}{}

// headerOwn is header for a change that keeps the record's value, such as
// an inverse update. A record's first version is one allocation with its
// value (see versionOf): a header sharing that value would keep the whole
// allocation alive, the old version's relationship lists with it, for as
// long as the record stays (Ember Data's emberjs/data#4938: unloaded
// records stayed reachable from their relationships). So when d.base's
// value lives just past d.base, d gets a versionOf of its own with a copy
// of the value. (A value allocated on its own that happens to sit right
// after a version in memory passes the test too, and is copied for
// nothing: rare and harmless.)
func (c *commit) headerOwn(d *draft) {
	if d.v != nil && d.v != d.base {
		return
	}
	if b := d.base; b != nil && b.val != nil && uintptr(b.val) == uintptr(unsafe.Pointer(b))+valOffset {
		nv := d.t.newVersion()
		val := nv.val
		*nv = *b
		nv.val = val
		d.t.copyValue(val, b.val)
		d.v, d.ownVal = nv, true
		return
	}
	c.header(d)
}

// rel returns d's relationship state ri for writing. The pointer is
// good until the next call for d.
func (c *commit) rel(d *draft, ri int) *relState {
	c.headerOwn(d)
	if (d.v == nil || d.v.st == nil) && !c.viaCanon && !c.local {
		// No local changes: the common case skips the layers.
	} else if c.canonLayer(d, ri) {
		st := c.state(d)
		i, _ := relIndex(st.canon, ri)
		return &st.canon[i]
	}
	if c.local {
		c.keepCanon(d, ri)
	}
	c.header(d)
	rels := d.v.relsOf()
	if !d.ownRels {
		// A push usually sets several of a loaded record's relationships
		// at once; an inverse gives a record known by reference one.
		room := len(rels) + 1
		if d.v.val != nil {
			room = min(len(d.t.rels), len(rels)+4)
		}
		rels = append(make([]relState, 0, room), rels...)
		d.v.setRels(rels)
		d.ownRels = true
	}
	i, found := relIndex(rels, ri)
	if !found {
		rels = slices.Insert(rels, i, relState{tag: int32(ri) + 1})
		d.v.setRels(rels)
	}
	return &rels[i]
}

// relNow returns d's relationship state ri for reading, in the layer
// this commit changes (see canonLayer).
func (c *commit) relNow(d *draft, ri int) relState {
	if d.v != nil && d.v.st == nil && !c.viaCanon {
		return *d.v.rel(ri) // no local changes: the common case
	}
	if c.canonLayer(d, ri) {
		cs, _ := d.v.st.canonRel(ri)
		return *cs
	}
	return *d.v.rel(ri)
}

// canonLayer reports whether this commit changes the canonical state of
// d's relationship ri rather than the current one: it is not a local
// commit, and ri was changed locally. What the backend says of such a
// relationship is what Rollback goes back to, and the local change
// stays on top of it.
func (c *commit) canonLayer(d *draft, ri int) bool {
	if c.local || d.v == nil {
		return false
	}
	if d.v.st != nil {
		if _, ok := d.v.st.canonRel(ri); ok {
			return true
		}
	}
	if c.viaCanon && d.v.val != nil {
		c.keepCanon(d, ri)
		return true
	}
	return false
}

// state returns d's recState for writing, making it private first.
func (c *commit) state(d *draft) *recState {
	c.header(d)
	if !d.ownSt {
		fresh := d.v.st == nil
		d.v.st = copyState(d.v.st)
		d.ownSt = true
		if fresh && d.base != nil {
			// A record as the backend sent it: its published value is the
			// backend's, and published values are never written.
			d.v.st.remote = d.base.val
		}
	}
	return d.v.st
}

// keepCanon records, in a local commit, the canonical state of d's
// relationship ri before the commit first changes it.
func (c *commit) keepCanon(d *draft, ri int) {
	if d.v != nil && d.v.st != nil {
		if _, ok := d.v.st.canonRel(ri); ok {
			return
		}
	}
	cur := *d.v.rel(ri)
	cur.tag = int32(ri) + 1
	st := c.state(d)
	i, _ := relIndex(st.canon, ri)
	st.canon = slices.Insert(st.canon, i, cur)
}

// manyOf returns the editable list of d's to-many relationship ri.
func (c *commit) manyOf(d *draft, ri int) *manyDraft {
	m := d.editing(ri)
	if m == nil {
		m = &manyDraft{keys: slices.Clone(c.relNow(d, ri).many), c: c}
		d.setEditing(ri, m)
		c.rel(d, ri)
	}
	return m
}

// members returns the current members of d's relationship ri.
func (c *commit) members(d *draft, ri int) []Key {
	if d.t.rels[ri].many {
		if md := d.editing(ri); md != nil {
			out := make([]Key, 0, len(md.keys)-md.tombs)
			for _, k := range md.keys {
				if !k.IsZero() {
					out = append(out, k)
				}
			}
			return out
		}
		return c.relNow(d, ri).many
	}
	if one := c.relNow(d, ri).one; !one.IsZero() {
		return []Key{one}
	}
	return nil
}

func (m *manyDraft) find(k Key) int {
	if !m.indexed && len(m.keys) >= indexFrom {
		// One index for every long list the commit edits, sized once,
		// rather than a map per list that grows as the list does.
		if m.c.index == nil {
			m.c.index = make(map[memberKey]int, max(64, cap(m.c.drafts)))
		}
		for i, x := range m.keys {
			if !x.IsZero() {
				m.c.index[memberKey{m, x}] = i
			}
		}
		m.indexed = true
	}
	if m.indexed {
		if i, ok := m.c.index[memberKey{m, k}]; ok {
			return i
		}
		return -1
	}
	for i, x := range m.keys {
		if x == k {
			return i
		}
	}
	return -1
}

// addNew appends k, which the caller knows is not a member.
func (m *manyDraft) addNew(k Key) {
	m.keys = append(m.keys, k)
	if m.indexed {
		m.c.index[memberKey{m, k}] = len(m.keys) - 1
	}
}

// addCanonical adds k, which is not a member, where the backend's list
// of relationship ri has it, if it has it: a local change that puts a
// member back (a rollback, an edit set back) restores the order too, and
// so the list is clean again. Long, indexed lists append.
func (m *manyDraft) addCanonical(k Key, st *recState, ri int) {
	cs, ok := st.canonRel(ri)
	p := -1
	if ok {
		p = slices.Index(cs.many, k)
	}
	if p < 0 || m.indexed {
		m.addNew(k)
		return
	}
	// Before the first member the backend lists after k.
	for _, next := range cs.many[p+1:] {
		if i := slices.Index(m.keys, next); i >= 0 {
			m.keys = slices.Insert(m.keys, i, k)
			return
		}
	}
	m.addNew(k)
}

func (m *manyDraft) remove(k Key) {
	i := m.find(k)
	if i < 0 {
		return
	}
	m.keys[i] = Key{}
	m.tombs++
	if m.indexed {
		delete(m.c.index, memberKey{m, k})
	}
}

// dedupe returns keys without repeats, keeping first positions.
func dedupe(keys []Key) []Key {
	if len(keys) < 2 {
		return keys
	}
	if len(keys) < indexFrom {
		out := keys[:0:0]
		for _, k := range keys {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		return out
	}
	seen := make(map[Key]struct{}, len(keys))
	out := make([]Key, 0, len(keys))
	for _, k := range keys {
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			out = append(out, k)
		}
	}
	return out
}

// keySet answers membership in keys, with a map once keys is long.
type keySet struct {
	keys []Key
	m    map[Key]struct{}
}

func newKeySet(keys []Key) keySet {
	ks := keySet{keys: keys}
	if len(keys) >= indexFrom {
		ks.m = make(map[Key]struct{}, len(keys))
		for _, k := range keys {
			ks.m[k] = struct{}{}
		}
	}
	return ks
}

func (ks keySet) has(k Key) bool {
	if ks.m != nil {
		_, ok := ks.m[k]
		return ok
	}
	return slices.Contains(ks.keys, k)
}

// apply merges one staged resource into its draft.
func (c *commit) apply(st *staged, rels *chunked[stagedRel]) error {
	c.s.inject("apply")
	if lid := c.stagedLID(st); lid != "" && lid != st.id {
		// (A record this commit gave its id already, as a save's answer
		// echoing the lid does, is being dropped from its old entry.)
		if e := st.t.byID.get(lid); e != nil && st.t.lidOf(e) == lid && e.loaded() && (e.draft == nil || !e.draft.drop) {
			if _, err := c.assignID(c.draftOf(st.t, e), st.id); err != nil {
				return &DocumentError{Pointer: st.ptr() + "/id", Err: err}
			}
		}
	}
	d := c.draft(st.t, st.id, true)
	st.e = d.e
	d.loaded, c.loads = true, true
	switch {
	case d.v == nil || d.v.val == nil:
		// Not loaded: the staged value becomes the record as it is, keeping
		// any relationship state an inverse gave the entry.
		var keep *recState
		if d.v != nil {
			st.v.relp, st.v.reln, st.v.relc = d.v.relp, d.v.reln, d.v.relc
			if d.v.st != nil {
				// Relationships changed locally while the record was
				// known only by reference stay changed: the staged value
				// is the backend's.
				keep = copyState(d.v.st)
				keep.remote = st.v.val
			}
		}
		d.v = st.v
		d.ownVal = true
		if keep != nil {
			d.v.st, d.ownSt = keep, true
		}
	default:
		if !d.ownVal {
			c.header(d)
			nv := st.t.newVersion()
			st.t.copyValue(nv.val, d.v.val)
			d.v.val = nv.val
			d.ownVal = true
		}
		if d.v.st != nil {
			c.mergeRemote(d, st)
			break
		}
		for i := range st.t.attrs {
			if st.set.has(i) {
				a := &st.t.attrs[i]
				a.set(unsafe.Add(d.v.val, a.off), unsafe.Add(st.v.val, a.off))
			}
		}
	}
	if c.staged != nil {
		c.setMore(d, st)
	}
	for i := st.relLo; i < st.relHi; i++ {
		sr := rels.at(int(i))
		var err error
		if st.t.rels[sr.ri].many {
			err = c.replaceMany(d, sr.ri, sr.many)
		} else {
			err = c.replaceOne(d, sr.ri, sr.one)
		}
		if err != nil {
			ptr := st.ptr() + "/relationships/" + escapePointer(st.t.rels[sr.ri].name)
			return &DocumentError{Pointer: ptr, Err: err}
		}
	}
	return nil
}

// mergeRemote merges staged attributes into d, a record with local
// changes: they become its backend values, and its current ones where it
// has no local change and no change being saved (changes being saved are
// local ones until the save succeeds). A local change equal to the new
// backend value is a change no more.
func (c *commit) mergeRemote(d *draft, st *staged) {
	t := st.t
	ws := c.state(d)
	if !d.ownRem {
		r := t.newValue()
		if ws.remote != nil {
			t.copyValue(r, ws.remote)
		}
		ws.remote = r
		d.ownRem = true
	}
	for i := range t.attrs {
		if !st.set.has(i) {
			continue
		}
		a := &t.attrs[i]
		in := unsafe.Add(st.v.val, a.off)
		a.set(unsafe.Add(ws.remote, a.off), in)
		cur := unsafe.Add(d.v.val, a.off)
		// A value being saved stays current until its save lands, even
		// once a push brought the same value (it is no local change then)
		// and another, older one comes after it: as Ember's in-flight
		// attributes, it wins over the backend's until the answer.
		if !ws.local.has(i) && !(ws.saving && ws.flySet.has(i)) {
			a.set(cur, in)
		} else {
			ws.setDirty(t, i, d.v.val)
		}
	}
}

// isStale asks the type's ordering guard whether st is older than the
// record it would merge into; a record not loaded is never stale. The
// guard gets copies, so that it cannot change either.
func (c *commit) isStale(st *staged) bool {
	e := st.t.entry(st.id)
	if e == nil {
		return false
	}
	held := e.cur.Load()
	if e.draft != nil {
		held = e.draft.v
	}
	if held == nil || held.val == nil {
		return false
	}
	in, cur := st.t.newValue(), st.t.newValue()
	st.t.read(st.v, in, false)
	st.t.read(held, cur, false)
	var inMeta, heldMeta map[string]any
	if m := c.staged[posOf(st)]; m != nil {
		inMeta = decodeObject(m.meta)
	}
	if m := st.t.moreOf(e); m != nil {
		heldMeta = decodeObject(m.meta)
	}
	return st.t.stale(in, cur, &st.set, inMeta, heldMeta)
}

// stagedLID returns the lid st carried beside its id, if any. Most pushes
// carry none, and pay one nil check.
func (c *commit) stagedLID(st *staged) string {
	if c.stagedLIDs == nil {
		return ""
	}
	return c.stagedLIDs[posOf(st)]
}

// replaceOne sets d's to-one relationship ri to k (zero for null) and
// keeps a declared inverse in step: the old target loses d on its side, the
// new one gains it.
func (c *commit) replaceOne(d *draft, ri int, k Key) error {
	r := &d.t.rels[ri]
	prev := c.viaCanon
	c.viaCanon = c.canonLayer(d, ri) // for the inverse edits below
	defer func() { c.viaCanon = prev }()
	if old := c.relNow(d, ri).one; r.inverse != "" && old != k {
		if !old.IsZero() {
			if err := c.unlinkInverse(d.key(), r, old); err != nil {
				return err
			}
		}
		if !k.IsZero() {
			if err := c.linkInverse(d, r, k); err != nil {
				return err
			}
		}
	}
	st := c.rel(d, ri)
	st.known, st.implied = true, false
	st.one = k
	return nil
}

// replaceMany sets d's to-many relationship ri to keys, without repeats,
// and keeps a declared inverse in step: records that left lose d on their
// side, records that joined gain it (leaving whatever they pointed to
// before, if their side is to-one).
func (c *commit) replaceMany(d *draft, ri int, keys []Key) error {
	r := &d.t.rels[ri]
	prev := c.viaCanon
	c.viaCanon = c.canonLayer(d, ri) // for the inverse edits below
	defer func() { c.viaCanon = prev }()
	keys = dedupe(keys)
	if r.inverse != "" {
		old := slices.Clone(c.members(d, ri))
		newSet, oldSet := newKeySet(keys), newKeySet(old)
		for _, k := range old {
			if !newSet.has(k) {
				if err := c.unlinkInverse(d.key(), r, k); err != nil {
					return err
				}
			}
		}
		for _, k := range keys {
			if !oldSet.has(k) {
				if err := c.linkInverse(d, r, k); err != nil {
					return err
				}
			}
		}
	}
	st := c.rel(d, ri)
	st.known, st.implied = true, false
	d.setEditing(ri, &manyDraft{keys: slices.Clip(keys), c: c})
	return nil
}

// inverseOf finds the relationship on k's type that mirrors r.
func (c *commit) inverseOf(r *relField, k Key) (*table, int, error) {
	bt := c.s.lookupType(k.Type)
	if bt == nil {
		return nil, 0, fmt.Errorf("%w %q", ErrUnknownType, k.Type)
	}
	ii, ok := bt.relIdx[r.inverse]
	if !ok {
		return nil, 0, fmt.Errorf("type %q has no relationship %q, the inverse of %q", k.Type, r.inverse, r.name)
	}
	return bt, ii, nil
}

// unlinkInverse removes a from the inverse side of r on record bk.
func (c *commit) unlinkInverse(a Key, r *relField, bk Key) error {
	bt, ii, err := c.inverseOf(r, bk)
	if err != nil {
		return err
	}
	if b := c.draft(bt, bk.ID, false); b != nil {
		c.removeMember(b, ii, a)
	}
	return nil
}

// linkInverse adds d to the inverse side of r on record bk, creating an
// entry for bk if the Store has none, to hold that state until bk loads.
func (c *commit) linkInverse(d *draft, r *relField, bk Key) error {
	bt, ii, err := c.inverseOf(r, bk)
	if err != nil {
		return err
	}
	c.s.inject("linkInverse")
	ir := &bt.rels[ii]
	if !ir.keyed && ir.elem != d.t.goType && !ir.polyHolds(d.t) {
		return fmt.Errorf("inverse %q of %q on type %q does not hold %q records", ir.name, r.name, bk.Type, d.t.name)
	}
	b := c.draft(bt, bk.ID, true)
	if ir.many {
		// d is new to b's list: callers link only members that d's own
		// side just gained, and inverses are kept in step both ways (see
		// CheckInverses in the tests), so b's list cannot hold d yet.
		// Skipping the search saves indexing every long list.
		m := c.manyOf(b, ii)
		if b.v.st == nil || m.find(d.key()) < 0 {
			// A record with local changes may hold d already on the
			// side this commit does not change (see canonLayer).
			if c.local && b.v.st != nil {
				m.addCanonical(d.key(), b.v.st, ii)
			} else {
				m.addNew(d.key())
			}
		}
		c.markImplied(c.rel(b, ii))
		return nil
	}
	// b's side is to-one: it leaves whatever it pointed to.
	if prev := c.relNow(b, ii).one; !prev.IsZero() && prev != d.key() {
		if pt := c.s.lookupType(prev.Type); pt != nil {
			if pi, ok := pt.relIdx[r.name]; ok && pt.rels[pi].inverse == ir.name {
				if pd := c.draft(pt, prev.ID, false); pd != nil {
					c.removeMember(pd, pi, bk)
				}
			}
		}
	}
	st := c.rel(b, ii)
	st.one = d.key()
	c.markImplied(st)
	return nil
}

// markImplied makes rs known, as an inverse update does: implied, unless
// it was known already.
func (c *commit) markImplied(rs *relState) {
	if !rs.known {
		rs.known, rs.implied = true, true
	}
}

func (c *commit) removeMember(d *draft, ri int, k Key) {
	if c.leaving && d.v != nil && d.v.st != nil {
		if _, ok := d.v.st.canonRel(ri); ok {
			c.removeEverywhere(d, ri, k)
			return
		}
	}
	if d.t.rels[ri].many {
		if c.leaving && d.editing(ri) == nil && !c.relNow(d, ri).known {
			// Nothing to remove, and editing would put back the slot
			// of a relationship dropImplied forgot.
			return
		}
		m := c.manyOf(d, ri)
		m.remove(k)
		if c.leaving && m.tombs == len(m.keys) {
			c.dropImplied(d, ri)
		}
		return
	}
	if c.relNow(d, ri).one == k {
		c.rel(d, ri).one = Key{}
		if c.leaving {
			c.dropImplied(d, ri)
		}
	}
}

// dropImplied forgets d's relationship ri, in its current layer, when
// only inverse updates made it known (relState.implied) and the records
// that did are leaving it empty: the backend never sent that
// relationship, so it is not known empty, only unknown again, and d
// keeps no slot for it, as before those records came. Called while
// records leave (see leave).
func (c *commit) dropImplied(d *draft, ri int) {
	if d.v == nil {
		return
	}
	rels := d.v.relsOf()
	i, ok := relIndex(rels, ri)
	if !ok || !rels[i].implied || !rels[i].one.IsZero() {
		return
	}
	// A list this commit edits is the current one unless the backend's
	// layer is what it edits (see canonLayer): then rels[i] is current.
	canonical := false
	if d.v.st != nil {
		_, canonical = d.v.st.canonRel(ri)
	}
	m := d.editing(ri)
	editsCur := m != nil && (c.local || !canonical)
	if editsCur && m.tombs < len(m.keys) || !editsCur && len(rels[i].many) > 0 {
		return
	}
	if editsCur {
		d.many = slices.DeleteFunc(d.many, func(x riMany) bool { return x.ri == ri })
	}
	c.header(d)
	if !d.ownRels {
		rels = slices.Clone(rels)
		d.ownRels = true
	}
	rels = slices.Delete(rels, i, i+1)
	if len(rels) == 0 {
		rels = nil
	}
	d.v.setRels(rels)
}

// removeEverywhere removes k from d's relationship ri in both layers, as
// a record that leaves the Store leaves both the backend's graph and the
// local one. A list is copied before its first removal only: one this
// commit copied already is d's own (see privateList), so that n records
// leaving a list of n cost O(n) each, not a copy each. A list left empty
// is nil, as a push leaves it.
func (c *commit) removeEverywhere(d *draft, ri int, k Key) {
	c.headerOwn(d)
	st := c.state(d)
	i, _ := relIndex(st.canon, ri)
	if !d.ownRels {
		d.v.setRels(slices.Clone(d.v.relsOf()))
		d.ownRels = true
	}
	j, inCur := relIndex(d.v.relsOf(), ri)
	drop := func(rs, other *relState) {
		if rs.one == k {
			rs.one = Key{}
		}
		if x := slices.Index(rs.many, k); x >= 0 {
			if !c.privateList(d, ri, rs.many, other) {
				rs.many = slices.Clone(rs.many)
			}
			rs.many = slices.Delete(rs.many, x, x+1)
			if len(rs.many) == 0 {
				rs.many = nil
			}
		}
	}
	var cur *relState
	if inCur {
		cur = &d.v.relsOf()[j]
	}
	drop(&st.canon[i], cur)
	if m := d.editing(ri); m != nil {
		m.remove(k) // a list this commit edits is canonical here
	}
	if cur != nil {
		drop(cur, &st.canon[i])
		c.dropImplied(d, ri)
	}
}

// privateList reports whether l, d's list for relationship ri in one
// layer, is a copy this commit made, which it may write in place: not a
// list of the published version d started from, in any layer, nor the
// one other (d's list in the other layer) shares. A draft whose version
// did not start from its published one (a record assignID moved to its
// new entry holds the old entry's lists) has no private list.
func (c *commit) privateList(d *draft, ri int, l []Key, other *relState) bool {
	p := unsafe.SliceData(l)
	b := d.base
	if p == nil || b == nil || b.val == nil || d.v.val == nil {
		return false
	}
	if other != nil && unsafe.SliceData(other.many) == p || unsafe.SliceData(b.rel(ri).many) == p {
		return false
	}
	if b.st != nil {
		if cs, ok := b.st.canonRel(ri); ok && unsafe.SliceData(cs.many) == p {
			return false
		}
		if i, ok := relIndex(b.st.flyRels, ri); ok && unsafe.SliceData(b.st.flyRels[i].many) == p {
			return false
		}
	}
	return true
}

// unload drops e's record and removes it from the inverse side of each of
// its relationships.
func (c *commit) unload(t *table, e *entry) error {
	d := c.draftOf(t, e)
	if err := c.leave(d); err != nil {
		return err
	}
	d.drop = true
	return nil
}

// leave removes d's record from the inverse side of each of its
// relationships, in the backend's graph and in the local one: it is
// unloaded, or its deletion was saved.
func (c *commit) leave(d *draft) error {
	c.leaving = true
	defer func() { c.leaving = false }()
	for ri := range d.t.rels {
		r := &d.t.rels[ri]
		if r.inverse == "" {
			continue
		}
		keys := slices.Clone(c.members(d, ri))
		cur := d.v.rel(ri)
		keys = append(keys, cur.many...)
		keys = append(keys, cur.one)
		if d.v.st != nil {
			if cs, ok := d.v.st.canonRel(ri); ok {
				keys = append(keys, cs.many...)
				keys = append(keys, cs.one)
			}
		}
		seen := make(map[Key]bool, len(keys))
		for _, k := range keys {
			if k.IsZero() || seen[k] {
				continue
			}
			seen[k] = true
			if err := c.unlinkInverse(d.key(), r, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// abort forgets every draft and removes the entries the commit created.
// It does nothing once the commit is published or aborted, so that a
// deferred abort undoes whatever a panic interrupted and nothing else.
func (c *commit) abort() {
	if c.done {
		return
	}
	c.done = true
	for _, d := range c.drafts {
		d.e.draft = nil
	}
	for _, a := range c.aliases {
		a.t.lids.Delete(a.lid)
	}
	for _, x := range c.tagged {
		x.t.lidsOf.Delete(x.e)
	}
	for _, d := range c.drafts {
		if d.created {
			d.t.byID.del(d.e.id)
			if d.t.hasLIDs.Load() {
				d.t.lidsOf.Delete(d.e)
			}
		}
	}
}

// inject calls the Store's test hook, if any, at a named point of a
// commit. It costs a nil check elsewhere.
func (s *Store) inject(point string) {
	if s.testHook != nil {
		s.testHook(point)
	}
}
