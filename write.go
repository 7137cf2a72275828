package recstore

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unsafe"
)

// anEdit is one local change to a record: new values for some attributes
// (read from val, a T) and relationships.
type anEdit struct {
	val   unsafe.Pointer
	attrs []int
	rels  []relEdit
}

type relEdit struct {
	ri   int
	keys []Key
}

// Create adds v to the Store as a new record, not saved yet, and returns
// its key; see [Store.Create].
func (m *Model[T]) Create(v T) (Key, error) {
	return m.s.create(m.t, unsafe.Pointer(&v))
}

// Create adds v, a T or *T of a registered model, to the Store as a new
// record that the backend does not have yet (StatusCreated), as Ember
// Data's createRecord does; [Store.Save] creates it there. Its id is v's
// primary field if set; else the one the type's Adapter gives, if it is
// an IDGenerator; else none: the record then goes by a local identifier
// (see LIDPrefix), which the returned Key holds and which goes on naming
// it after its save has given it an id (see [Store.Resolve]). An id the
// Store already holds a record under is an error wrapping ErrIDInUse.
//
// Every attribute of v that is not its zero value is a local change
// ([Store.ChangedAttributes] reports it with a nil Old); relation fields
// that are set link the record, and its inverses, as an edit does. A
// related record is named by its primary field, so one that has no id
// yet is linked through a Key field or [Store.SetRelated], by the Key
// its Create returned. Create copies what it keeps: changing v afterwards
// changes nothing.
func (s *Store) Create(v any) (Key, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return Key{}, fmt.Errorf("recstore: create: %w: nil is no model value", ErrUnknownType)
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return Key{}, fmt.Errorf("recstore: create: a nil %v", rv.Type())
		}
		rv = rv.Elem()
	}
	t := s.tableOf(rv.Type())
	if t == nil {
		return Key{}, fmt.Errorf("%w: Go type %v is not registered", ErrUnknownType, rv.Type())
	}
	p := t.newValue()
	reflect.NewAt(t.goType, p).Elem().Set(rv)
	return s.create(t, p)
}

// tableOf returns the table of a registered Go type, or nil.
func (s *Store) tableOf(rt reflect.Type) *table {
	if rt == nil {
		return nil
	}
	return (*s.goTypes.Load())[rt]
}

func (s *Store) create(t *table, val unsafe.Pointer) (Key, error) {
	id := t.primary(val)
	rels := make([]relEdit, 0, len(t.rels))
	for ri := range t.rels {
		keys, set, err := s.relKeys(t, ri, val, nil)
		if err != nil {
			return Key{}, err
		}
		if set {
			rels = append(rels, relEdit{ri, keys})
		}
	}
	if id == "" {
		if g, ok := capability[IDGenerator](s.adapterFor(t)); ok {
			snap := &Snapshot{Key: Key{Type: t.name}, t: t, val: val, rels: make([]Related, len(t.rels))}
			for i := range t.rels {
				snap.rels[i] = Related{Name: t.rels[i].name, Many: t.rels[i].many}
			}
			for _, re := range rels {
				snap.rels[re.ri].Keys, snap.rels[re.ri].Known = re.keys, true
			}
			// User code: a panic comes back as an error, as the
			// Adapter's do in Save.
			err := recovering("GenerateID", func() (err error) {
				id, err = g.GenerateID(t.name, snap)
				return err
			})
			if err != nil {
				return Key{}, fmt.Errorf("recstore: create %s: GenerateID: %w", t.name, err)
			}
			if id != "" {
				if err := t.setPrimary(val, id); err != nil {
					return Key{}, fmt.Errorf("recstore: create %s: GenerateID: %w", t.name, err)
				}
			}
		}
	}
	switch {
	case strings.HasPrefix(id, LIDPrefix):
		return Key{}, fmt.Errorf("recstore: create %s: %w: id %q: ids starting with %q are local identifiers, which the Store gives", t.name, ErrIDInUse, id, LIDPrefix)
	case len(id) > s.opts.MaxIDBytes:
		return Key{}, &LimitError{Limit: "MaxIDBytes", Max: s.opts.MaxIDBytes}
	}
	// The Store keeps its own copy: the caller's slices and maps stay
	// theirs.
	for _, a := range t.clones {
		a.clone(unsafe.Add(val, a.off))
	}
	t.clearRelations(val)

	s.mu.Lock()
	defer s.mu.Unlock()
	lid := ""
	if id == "" {
		lid = s.newLID(t)
		id = lid
	}
	if e := t.byID.get(id); e != nil && e.loaded() || t.aliased(id) != nil {
		return Key{}, fmt.Errorf("%w: %s %q", ErrIDInUse, t.name, id)
	}
	c := newCommit(s, CauseLocal)
	c.local = true
	defer c.abort()
	var d *draft
	if e := t.byID.get(id); e != nil {
		d = c.draftOf(t, e) // known by reference: keep what inverses gave it
	} else {
		e := &entry{id: id}
		if lid != "" {
			t.setLID(e, lid)
		}
		t.byID.put(e)
		d = c.draftOf(t, e)
		d.created = true
	}
	nv := &version{val: val}
	if d.v != nil {
		nv.relp, nv.reln, nv.relc = d.v.relp, d.v.reln, d.v.relc
	}
	d.v = nv
	d.ownVal = true
	st := c.state(d)
	st.isNew = true
	st.remote = t.zero
	for i := range t.attrs {
		a := &t.attrs[i]
		if !a.equal(unsafe.Add(val, a.off), unsafe.Add(t.zero, a.off)) {
			st.local.add(i)
		}
	}
	for _, re := range rels {
		if err := c.setRel(d, re.ri, re.keys); err != nil {
			return Key{}, err
		}
	}
	c.publish()
	return Key{t.name, id}, nil
}

// primary returns the id in the primary field of the T at val, "" for
// the zero value.
func (t *table) primary(val unsafe.Pointer) string {
	f := &t.id
	if f.typ == nil {
		return ""
	}
	rv := reflect.NewAt(f.typ, unsafe.Add(val, f.off)).Elem()
	switch {
	case f.kind == reflect.String:
		return rv.String()
	case rv.IsZero():
		return ""
	case isIntKind(f.kind):
		return fmt.Sprint(rv.Int())
	}
	return fmt.Sprint(rv.Uint())
}

// clearRelations zeroes the relation fields of the T at val: the stored
// T never holds them (relationships live in relState).
func (t *table) clearRelations(val unsafe.Pointer) {
	for i := range t.rels {
		r := &t.rels[i]
		reflect.NewAt(r.ftype, unsafe.Add(val, r.off)).Elem().SetZero()
	}
}

// relType returns the Go type of relation field ri.
func (t *table) relType(ri int) reflect.Type { return t.rels[ri].ftype }

// relKeys reads relation field ri of the T at val as keys. set is false
// for a field holding nothing (nil, the zero Key). ptrKeys, if not nil,
// names records by the pointers a read filled the field with, for
// records that have no id of their own yet.
func (s *Store) relKeys(t *table, ri int, val unsafe.Pointer, ptrKeys map[unsafe.Pointer]Key) (keys []Key, set bool, err error) {
	r := &t.rels[ri]
	p := unsafe.Add(val, r.off)
	if r.keyed {
		if r.many {
			ks := *(*[]Key)(p)
			return slices.Clone(ks), ks != nil, nil
		}
		k := *(*Key)(p)
		if k.IsZero() {
			return nil, false, nil
		}
		return []Key{k}, true, nil
	}
	f := reflect.NewAt(t.relType(ri), p).Elem()
	if f.IsNil() {
		return nil, false, nil
	}
	one := func(x reflect.Value) (Key, error) {
		if x.Kind() == reflect.Interface {
			x = x.Elem()
		}
		if !x.IsValid() || x.IsNil() {
			return Key{}, fmt.Errorf("recstore: %s.%s: a nil member", t.name, r.name)
		}
		ptr := x.UnsafePointer()
		if k, ok := ptrKeys[ptr]; ok {
			return k, nil
		}
		rt := s.tableOf(x.Type().Elem())
		if rt == nil {
			return Key{}, fmt.Errorf("%w: Go type %v is not registered", ErrUnknownType, x.Type().Elem())
		}
		if !r.keyed && r.elem != rt.goType && !r.polyHolds(rt) {
			return Key{}, fmt.Errorf("recstore: %s", r.wrongType(rt))
		}
		id := rt.primary(ptr)
		if id == "" {
			return Key{}, fmt.Errorf("recstore: %s.%s: a related %s has no id; link it by its Key", t.name, r.name, rt.name)
		}
		return Key{rt.name, id}, nil
	}
	if !r.many {
		k, err := one(f)
		if err != nil {
			return nil, false, err
		}
		return []Key{k}, true, nil
	}
	keys = make([]Key, 0, f.Len())
	for i := range f.Len() {
		k, err := one(f.Index(i))
		if err != nil {
			return nil, false, err
		}
		keys = append(keys, k)
	}
	return keys, true, nil
}

// setRel sets d's relationship ri to keys in a local commit, keeping
// inverses in step.
func (c *commit) setRel(d *draft, ri int, keys []Key) error {
	r := &d.t.rels[ri]
	for _, k := range keys {
		bt := c.s.lookupType(k.Type)
		if bt == nil {
			return fmt.Errorf("%w %q in %s.%s", ErrUnknownType, k.Type, d.t.name, r.name)
		}
		if !r.keyed && r.elem != bt.goType && !r.polyHolds(bt) {
			return fmt.Errorf("recstore: %s", r.wrongType(bt))
		}
		if k.ID == "" {
			return fmt.Errorf("recstore: %s.%s: a Key with no id", d.t.name, r.name)
		}
	}
	if r.many {
		return c.replaceMany(d, ri, keys)
	}
	if len(keys) > 1 {
		return fmt.Errorf("recstore: %s.%s is a to-one relationship: %d keys", d.t.name, r.name, len(keys))
	}
	var k Key
	if len(keys) == 1 {
		k = keys[0]
	}
	return c.replaceOne(d, ri, k)
}

// Edit changes the record id locally: edit gets a copy of it, as Peek
// reads it, and what edit changes in it becomes the record's local
// changes, which reads show at once. It returns the record as edited.
//
// What counts is the record's own fields: its attributes, and its
// relation fields' members (Key, []Key, *S, []*S or interface values:
// which records, in which order), with inverses kept in step on both
// sides. Changes made through a related record's pointer are not the
// record's and are not kept: edit that record through its own Model. A
// field edit leaves as it was is no change, so its validation errors
// stay ([Store.SetAttr] clears them whatever the value). A related
// record with no id yet is named by the pointer this read filled in; one
// the field did not hold is linked by its Key (a Key field, or
// [Store.SetRelated]). The primary field cannot change
// (ErrReadOnlyID); a record the Store does not hold is ErrNotLoaded, one
// whose deletion was saved ErrDeleted. edit runs without any lock held;
// the change is applied as one commit afterwards, field by field, so
// concurrent edits of different fields both land. A panic in edit
// reaches the caller and changes nothing.
func (m *Model[T]) Edit(id string, edit func(*T)) (T, error) {
	var zero T
	t := m.t
	var v0 *version
	var after T
	m.s.consistent(func() {
		if v0 = t.loaded(id); v0 != nil {
			after = m.value(v0, true)
		}
	})
	if v0 == nil {
		return zero, fmt.Errorf("recstore: edit %s %q: %w", t.name, id, ErrNotLoaded)
	}
	before := after
	bp := unsafe.Pointer(&before)
	for _, a := range t.clones {
		a.clone(unsafe.Add(bp, a.off))
	}
	for i := range t.rels {
		if t.rels[i].many {
			sh := (*sliceHeader)(unsafe.Add(bp, t.rels[i].off))
			sh.cloneShallow(t.relType(i))
		}
	}
	edit(&after)
	var out T
	err := m.s.edit(t, id, v0, bp, unsafe.Pointer(&after), func(v *version) { out = m.value(v, true) })
	return out, err
}

// sliceHeader is the layout of any slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// cloneShallow makes the slice at h, of type st, a copy of itself with
// its own backing array.
func (h *sliceHeader) cloneShallow(st reflect.Type) {
	if h.data == nil {
		return
	}
	v := reflect.NewAt(st, unsafe.Pointer(h)).Elem()
	cp := reflect.MakeSlice(st, v.Len(), v.Len())
	reflect.Copy(cp, v)
	v.Set(cp)
}

// edit applies, as one local change, the differences between before and
// after (two T's: what an edit function was given, and what it left) to
// the record id, whose version was v0 when it was read.
func (s *Store) edit(t *table, id string, v0 *version, before, after unsafe.Pointer, read func(*version)) error {
	if t.primary(before) != t.primary(after) {
		return fmt.Errorf("recstore: edit %s %q: %w", t.name, id, ErrReadOnlyID)
	}
	ed := anEdit{val: after}
	for i := range t.attrs {
		a := &t.attrs[i]
		if !a.equal(unsafe.Add(before, a.off), unsafe.Add(after, a.off)) {
			ed.attrs = append(ed.attrs, i)
		}
	}
	var ptrKeys map[unsafe.Pointer]Key
	for ri := range t.rels {
		r := &t.rels[ri]
		ft := t.relType(ri)
		bv := reflect.NewAt(ft, unsafe.Add(before, r.off)).Elem()
		av := reflect.NewAt(ft, unsafe.Add(after, r.off)).Elem()
		if sameField(bv, av) {
			continue
		}
		if ptrKeys == nil && !r.keyed {
			ptrKeys = s.filledKeys(t, v0, before)
		}
		keys, _, err := s.relKeys(t, ri, after, ptrKeys)
		if err != nil {
			return fmt.Errorf("recstore: edit %s %q: %w", t.name, id, err)
		}
		ed.rels = append(ed.rels, relEdit{ri, keys})
	}
	// The Store keeps its own copies of what it takes from after.
	for _, i := range ed.attrs {
		if a := &t.attrs[i]; a.clone != nil {
			a.clone(unsafe.Add(after, a.off))
		}
	}
	return s.applyEdit(t, id, ed, read)
}

// sameField reports whether a relation field holds what it held: the
// same keys, or the same pointers in the same order.
func sameField(b, a reflect.Value) bool {
	switch b.Kind() {
	case reflect.Slice:
		if b.Len() != a.Len() || b.IsNil() != a.IsNil() {
			return false
		}
		for i := range b.Len() {
			if !sameField(b.Index(i), a.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		return b.UnsafePointer() == a.UnsafePointer()
	case reflect.Interface:
		if b.IsNil() || a.IsNil() {
			return b.IsNil() == a.IsNil()
		}
		return b.Elem().Type() == a.Elem().Type() && sameField(b.Elem(), a.Elem())
	}
	return b.Interface() == a.Interface()
}

// filledKeys maps the pointers a read put in before's pointer relation
// fields to the keys of the records they hold, so that related records
// with no id of their own yet can be named.
func (s *Store) filledKeys(t *table, v0 *version, before unsafe.Pointer) map[unsafe.Pointer]Key {
	out := map[unsafe.Pointer]Key{}
	for ri := range t.rels {
		r := &t.rels[ri]
		if r.keyed {
			continue
		}
		var members []Key
		if st := v0.rel(ri); r.many {
			members = st.many
		} else if !st.one.IsZero() {
			members = []Key{st.one}
		}
		f := reflect.NewAt(t.relType(ri), unsafe.Add(before, r.off)).Elem()
		var ptrs []unsafe.Pointer
		add := func(x reflect.Value) {
			if x.Kind() == reflect.Interface {
				x = x.Elem()
			}
			if x.IsValid() && !x.IsNil() {
				ptrs = append(ptrs, x.UnsafePointer())
			}
		}
		if r.many {
			for i := range f.Len() {
				add(f.Index(i))
			}
		} else {
			add(f)
		}
		// A read fills the members the Store holds, in order.
		j := 0
		for _, k := range members {
			if j == len(ptrs) {
				break
			}
			if bt := s.lookupType(k.Type); bt != nil && bt.loaded(k.ID) != nil {
				out[ptrs[j]] = k
				j++
			}
		}
	}
	return out
}

// applyEdit makes ed the record's local change, as one commit.
func (s *Store) applyEdit(t *table, id string, ed anEdit, read func(*version)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := t.entry(id)
	if e == nil || !e.loaded() {
		return fmt.Errorf("recstore: edit %s %q: %w", t.name, id, ErrNotLoaded)
	}
	if v := e.cur.Load(); v.st != nil && v.st.gone {
		return fmt.Errorf("recstore: edit %s %q: %w", t.name, id, ErrDeleted)
	}
	c := newCommit(s, CauseLocal)
	c.local = true
	defer c.abort()
	d := c.draftOf(t, e)
	if len(ed.attrs) > 0 {
		c.header(d)
		st := c.state(d)
		nv := t.newValue()
		t.copyValue(nv, d.v.val)
		d.v.val = nv
		d.ownVal = true
		for _, i := range ed.attrs {
			a := &t.attrs[i]
			cur := unsafe.Add(nv, a.off)
			a.set(cur, unsafe.Add(ed.val, a.off))
			st.setDirty(t, i, nv)
			delete(st.errs, a.name)
		}
	}
	for _, re := range ed.rels {
		if err := c.setRel(d, re.ri, re.keys); err != nil {
			return fmt.Errorf("recstore: edit %s %q: %w", t.name, id, err)
		}
		if d.v.st != nil && len(d.v.st.errs) > 0 {
			delete(c.state(d).errs, t.rels[re.ri].name)
		}
	}
	c.publish()
	if read != nil {
		read(e.cur.Load())
	}
	return nil
}
