package recstore

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// LIDPrefix starts every local identifier: the id a record created
// without one goes by until the backend assigns its own (JSON:API 1.1's
// lid). A pushed resource whose id is a local identifier of this Store
// (live, or of a record saved since) is refused, so that a backend cannot
// write into a record it has never seen by that name.
const LIDPrefix = "@lid:"

// newLID returns a fresh local identifier for a record of t, one that no
// record goes by (a backend may use ids that look like lids). Called with
// Store.mu held.
func (s *Store) newLID(t *table) string {
	for {
		lid := LIDPrefix + t.name + "-" + strconv.FormatUint(s.lidSeq.Add(1), 10)
		if t.byID.get(lid) == nil && t.aliased(lid) == nil {
			return lid
		}
	}
}

// isLID reports whether id is the local identifier of a record of t that
// has no id of its own yet.
func (t *table) isLID(id string) bool {
	if !strings.HasPrefix(id, LIDPrefix) {
		return false
	}
	e := t.byID.get(id)
	return e != nil && t.lidOf(e) == id
}

// lidOf returns the local identifier of e's record if it was created
// without an id (e.id is that identifier until the backend gives it one),
// or "".
func (t *table) lidOf(e *entry) string {
	if !t.hasLIDs.Load() {
		return ""
	}
	if v, ok := t.lidsOf.Load(e); ok {
		return v.(string)
	}
	return ""
}

// setLID records e's local identifier, before e is published. Called
// with Store.mu held.
func (t *table) setLID(e *entry, lid string) {
	t.hasLIDs.Store(true)
	t.lidsOf.Store(e, lid)
}

// forgetLID drops what the table knows of the local identifier of e, an
// entry being removed: its own record, and the alias to it once it has
// an id. Called with Store.mu held.
func (t *table) forgetLID(e *entry) {
	lid := t.lidOf(e)
	if lid == "" {
		return
	}
	if e.id == lid {
		if t.aliased(lid) != nil {
			return // the record moved to its id: the alias keeps this
		}
		t.lidsOf.Delete(e)
		return
	}
	if a, ok := t.lids.Load(lid); ok && a.(*lidAlias).to == e {
		t.lidsOf.Delete(a.(*lidAlias).from)
		t.lids.Delete(lid)
	}
	t.lidsOf.Delete(e)
}

// local reports whether k names, by its local identifier, a record that
// has no id of its own yet: serializers write it as {"type", "lid"}.
func (s *Store) local(k Key) bool {
	t := s.lookupType(k.Type)
	return t != nil && t.isLID(k.ID)
}

// Resolve returns the key the record k goes by now: for the key of a
// record created without an id (its ID a local identifier, see
// LIDPrefix) whose save has given it one, the key with that id; k itself
// otherwise. Every method that takes a Key resolves it this way, so a
// key kept from Create goes on naming the record after its save.
func (s *Store) Resolve(k Key) Key {
	t := s.lookupType(k.Type)
	if t == nil {
		return k
	}
	if e := t.entry(k.ID); e != nil {
		return Key{t.name, e.id}
	}
	return k
}

// aliased returns the entry that a local identifier names once its record
// has an id, or nil.
func (t *table) aliased(lid string) *entry {
	if !t.hasLIDs.Load() || !strings.HasPrefix(lid, LIDPrefix) {
		return nil
	}
	if a, ok := t.lids.Load(lid); ok {
		return a.(*lidAlias).to
	}
	return nil
}

// A lidAlias is where a local identifier leads once its record has an
// id: the record's entry now, and the one it had before, which callers
// holding it follow (see Store.liveEntry).
type lidAlias struct{ to, from *entry }

// assignID gives d, a record created without an id, the id the backend
// assigned: the record moves to a new entry under id, keeping its
// version, and every relationship that names it by its local identifier
// is rewritten. The local identifier goes on naming it (see Resolve). It
// returns the new entry's draft.
func (c *commit) assignID(d *draft, id string) (*draft, error) {
	t := d.t
	lid := t.lidOf(d.e)
	var nd *draft
	if e := t.byID.get(id); e != nil {
		if e.loaded() {
			return nil, fmt.Errorf("%w: %s %q is assigned to a record created here, but the Store holds one", ErrIDInUse, t.name, id)
		}
		// Known only by reference: its relationship state joins the
		// record's below.
		nd = c.draftOf(t, e)
		t.setLID(e, lid)
		c.tagged = append(c.tagged, tableEntry{t, e})
	} else {
		e := &entry{id: id}
		t.setLID(e, lid)
		t.byID.put(e)
		nd = c.draftOf(t, e)
		nd.created = true
	}
	c.s.inject("assignID")
	nv := &version{}
	*nv = *d.v
	val := t.newValue()
	t.copyValue(val, d.v.val)
	if err := t.setPrimary(val, id); err != nil {
		return nil, err
	}
	nv.val = val
	if nd.v != nil {
		// Relationships that inverses gave the id before the record had it.
		for _, rs := range nd.v.relsOf() {
			if i, ok := relIndex(nv.relsOf(), int(rs.tag)-1); !ok {
				nv.setRels(slices.Insert(slices.Clip(nv.relsOf()), i, rs))
			}
		}
	}
	nd.v = nv
	nd.ownVal = true
	nd.many = d.many
	if nv.st != nil {
		c.state(nd)
		nd.v.st.isNew = false
	}
	d.drop = true
	d.many = nil
	old, nk := d.key(), nd.key()
	if err := c.rekey(t, nd, old, nk); err != nil {
		return nil, err
	}
	t.lids.Store(lid, &lidAlias{to: nd.e, from: d.e})
	c.aliases = append(c.aliases, tableLID{t, lid})
	return nd, nil
}

// rekey rewrites old as nk in every relationship that may name it: the
// inverse sides of the record's own relationships, and relationships
// without an inverse that can hold records of t (a scan of their
// tables, paid once per record created without an id).
func (c *commit) rekey(t *table, d *draft, old, nk Key) error {
	seen := map[*entry]bool{d.e: true}
	c.rekeyIn(d, old, nk)
	for ri := range t.rels {
		r := &t.rels[ri]
		if r.inverse == "" {
			continue
		}
		// Every layer: current, canonical, in flight (see canonLayer).
		cur := d.v.rel(ri)
		keys := append(slices.Clone(cur.many), cur.one)
		if d.v.st != nil {
			for _, l := range [][]relState{d.v.st.canon, d.v.st.flyRels} {
				if i, ok := relIndex(l, ri); ok {
					keys = append(keys, l[i].many...)
					keys = append(keys, l[i].one)
				}
			}
		}
		for _, k := range keys {
			bt := c.s.lookupType(k.Type)
			if bt == nil || k.IsZero() {
				continue
			}
			if e := bt.byID.get(k.ID); e != nil && !seen[e] {
				seen[e] = true
				c.rekeyIn(c.draftOf(bt, e), old, nk)
			}
		}
	}
	for _, bt := range *c.s.tables.Load() {
		oneWay := false
		for i := range bt.rels {
			r := &bt.rels[i]
			if r.inverse == "" && (r.keyed || r.elem == t.goType || r.polyHolds(t)) {
				oneWay = true
			}
		}
		if !oneWay {
			continue
		}
		bt.byID.all(func(e *entry) bool {
			if seen[e] {
				return true
			}
			v := e.cur.Load()
			if e.draft != nil {
				v = e.draft.v
			}
			if v != nil && names(v, old) {
				seen[e] = true
				c.rekeyIn(c.draftOf(bt, e), old, nk)
			}
			return true
		})
	}
	return nil
}

// names reports whether any relationship state of v names k.
func names(v *version, k Key) bool {
	has := func(l []relState) bool {
		for i := range l {
			if l[i].one == k || slices.Contains(l[i].many, k) {
				return true
			}
		}
		return false
	}
	return has(v.relsOf()) || v.st != nil && (has(v.st.canon) || has(v.st.flyRels))
}

// rekeyIn rewrites old as nk in every relationship state of d: current,
// canonical, in flight, and lists the commit is editing.
func (c *commit) rekeyIn(d *draft, old, nk Key) {
	c.headerOwn(d)
	if !d.ownRels {
		d.v.setRels(slices.Clone(d.v.relsOf()))
		d.ownRels = true
	}
	swap := func(l []relState) {
		for i := range l {
			if l[i].one == old {
				l[i].one = nk
			}
			if j := slices.Index(l[i].many, old); j >= 0 {
				l[i].many = slices.Clone(l[i].many)
				l[i].many[j] = nk
			}
		}
	}
	swap(d.v.relsOf())
	if d.v.st != nil {
		st := c.state(d)
		swap(st.canon)
		swap(st.flyRels)
	}
	for _, x := range d.many {
		if j := x.m.find(old); j >= 0 {
			x.m.keys[j] = nk
			if x.m.indexed {
				delete(c.index, memberKey{x.m, old})
				c.index[memberKey{x.m, nk}] = j
			}
		}
	}
}

// setPrimary writes id into the primary field of the T at val.
func (t *table) setPrimary(val unsafe.Pointer, id string) error {
	f := &t.id
	p := unsafe.Add(val, f.off)
	bits := int(f.typ.Size() * 8)
	switch {
	case f.kind == 0:
		return nil
	case f.kind == reflect.String:
		*(*string)(p) = id
	case isIntKind(f.kind):
		n, err := strconv.ParseInt(id, 10, bits)
		if err != nil || strconv.FormatInt(n, 10) != id {
			return fmt.Errorf("id %q does not fit %s's %s primary field", id, t.name, f.typ)
		}
		setInt(p, f.typ.Size(), uint64(n))
	default:
		n, err := strconv.ParseUint(id, 10, bits)
		if err != nil || strconv.FormatUint(n, 10) != id {
			return fmt.Errorf("id %q does not fit %s's %s primary field", id, t.name, f.typ)
		}
		setInt(p, f.typ.Size(), n)
	}
	return nil
}

// setLID records the lid of st, a resource that has an id too.
func (p *parser) setLID(st *staged, lid string) {
	if lid == "" {
		return
	}
	if p.lids == nil {
		p.lids = map[stagedAt]string{}
	}
	p.lids[posOf(st)] = lid
}

// byLID makes st, a resource with a lid and no id, the record created
// here that the lid names. The parser is at the lid member.
func (p *parser) byLID(st *staged, lid string) error {
	e := st.t.entry(lid)
	if e == nil || st.t.lidOf(e) != lid {
		return p.fail(fmt.Errorf("lid %q names no record created in this Store", lid))
	}
	st.id = e.id
	if e.id != lid {
		// It has its id now: the resource is that record's.
		return p.setIDString(st, e.id)
	}
	return nil
}

// notLID refuses a pushed id that is the local identifier of a record
// created here: the backend has never seen that record by it (before
// its save) or knows it by its own id (after).
func (p *parser) notLID(t *table, id string) error {
	if t.isLID(id) || t.aliased(id) != nil {
		return p.fail(fmt.Errorf("id %q is the local identifier of a record created in this Store; name it by lid", id))
	}
	return nil
}

// identifierByLID resolves a resource identifier that has a lid and no
// id. The parser is at the lid member.
func (p *parser) identifierByLID(t *table, lid string) (Key, error) {
	e := t.entry(lid)
	if e == nil || t.lidOf(e) != lid {
		return Key{}, p.fail(fmt.Errorf("lid %q names no record created in this Store", lid))
	}
	return Key{t.name, e.id}, nil
}
