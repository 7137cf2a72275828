package recstore

import (
	"fmt"
	"reflect"
	"slices"
	"unsafe"
)

// State returns what the Store knows of the record k's life; the zero
// State (StatusEmpty) for a record it does not hold.
func (s *Store) State(k Key) State {
	t := s.lookupType(k.Type)
	if t == nil {
		return State{}
	}
	return stateOf(t.loaded(k.ID))
}

// State returns the state of the record id; see [Store.State].
func (m *Model[T]) State(id string) State { return stateOf(m.t.loaded(id)) }

// ChangedAttributes returns the record k's local changes, by attribute
// name: Old is the backend's value (nil for a record never saved), New
// the local one. Changes being saved are reported until the save
// succeeds, with those made meanwhile. It is nil for a record with no
// local changes or one the Store does not hold. The values are the
// caller's own copies.
func (s *Store) ChangedAttributes(k Key) map[string]Change {
	var out map[string]Change
	t := s.lookupType(k.Type)
	if t == nil {
		return out
	}
	v := t.loaded(k.ID)
	if v == nil || v.st == nil {
		return out
	}
	st := v.st
	for i := range t.attrs {
		if !st.local.has(i) {
			continue
		}
		a := &t.attrs[i]
		ch := Change{New: attrValue(a, unsafe.Add(v.val, a.off))}
		if !st.isNew {
			ch.Old = attrValue(a, st.canonical(t, i))
		}
		if out == nil {
			out = make(map[string]Change, 1)
		}
		out[a.name] = ch
	}
	return out
}

// ChangedAttributes returns the record id's local changes; see
// [Store.ChangedAttributes].
func (m *Model[T]) ChangedAttributes(id string) map[string]Change {
	return m.s.ChangedAttributes(Key{m.t.name, id})
}

// attrValue returns a deep copy of the attribute at p as an any.
func attrValue(a *attrField, p unsafe.Pointer) any {
	if a.clone == nil {
		return reflect.NewAt(a.typ, p).Elem().Interface() // boxing copies it
	}
	cp := reflect.New(a.typ)
	a.set(cp.UnsafePointer(), p)
	if a.clone != nil {
		a.clone(cp.UnsafePointer())
	}
	return cp.Elem().Interface()
}

// ChangedRelationships returns the relationships of the record k that
// were changed locally (by an edit, or by an inverse of one), by name:
// Old holds the members the backend has, New the local ones, each as a
// []Key. Changes being saved are reported until the save succeeds. It is
// nil when there are none.
func (s *Store) ChangedRelationships(k Key) map[string]Change {
	t := s.lookupType(k.Type)
	if t == nil {
		return nil
	}
	v := t.loaded(k.ID)
	if v == nil || v.st == nil || len(v.st.canon) == 0 {
		return nil
	}
	out := make(map[string]Change, len(v.st.canon))
	for _, cs := range v.st.canon {
		ri := int(cs.tag) - 1
		out[t.rels[ri].name] = Change{Old: members(&cs), New: members(v.rel(ri))}
	}
	return out
}

// ChangedRelationships returns the record id's changed relationships;
// see [Store.ChangedRelationships].
func (m *Model[T]) ChangedRelationships(id string) map[string]Change {
	return m.s.ChangedRelationships(Key{m.t.name, id})
}

// members returns a relationship's members as a new []Key.
func members(rs *relState) []Key {
	if !rs.one.IsZero() {
		return []Key{rs.one}
	}
	return slices.Clone(rs.many)
}

// SetAttr changes the attribute name of the record k locally to value,
// for code that knows names only at run time; typed code uses
// [Model.Edit]. value must be assignable or convertible to the
// attribute's Go type (nil means its zero value), else the error is an
// *AttributeError. Setting an attribute back to the backend's value
// makes it unchanged again, and any change clears its validation errors.
func (s *Store) SetAttr(k Key, name string, value any) error {
	t := s.lookupType(k.Type)
	if t == nil {
		return fmt.Errorf("%w %q", ErrUnknownType, k.Type)
	}
	i, ok := t.attrIdx[name]
	if !ok {
		return fmt.Errorf("recstore: %s has no attribute %q: %w", t.name, name, ErrUnknownAttribute)
	}
	a := &t.attrs[i]
	val := t.newValue()
	dst := reflect.NewAt(a.typ, unsafe.Add(val, a.off)).Elem()
	if value != nil {
		rv := reflect.ValueOf(value)
		switch {
		case rv.Type().AssignableTo(a.typ):
			dst.Set(rv)
		case rv.Type().ConvertibleTo(a.typ) && sameFamily(rv.Kind(), a.typ.Kind()):
			cv := rv.Convert(a.typ)
			if !roundTrips(rv, cv) {
				return &AttributeError{Type: t.name, ID: k.ID, Attr: name, Value: shortText(fmt.Sprintf("%#v", value), maxErrText), GoType: a.typ, Err: fmt.Errorf("%w: %v does not fit %v", ErrLossyCoercion, value, a.typ)}
			}
			dst.Set(cv)
		default:
			return &AttributeError{Type: t.name, ID: k.ID, Attr: name, Value: shortText(fmt.Sprintf("%#v", value), maxErrText), GoType: a.typ, Err: fmt.Errorf("%w: a %T", ErrInvalidAttribute, value)}
		}
		if a.clone != nil {
			a.clone(unsafe.Add(val, a.off))
		}
	}
	return s.applyEdit(t, k.ID, anEdit{val: val, attrs: []int{i}}, nil)
}

// roundTrips reports whether cv, converted from v, converts back to v:
// no overflow, sign change or dropped fraction.
func roundTrips(v, cv reflect.Value) bool {
	switch {
	case isIntKind(v.Kind()) && isUintKind(cv.Kind()) && v.Int() < 0:
		return false
	case isUintKind(v.Kind()) && isIntKind(cv.Kind()) && cv.Int() < 0:
		return false
	}
	back := cv.Convert(v.Type())
	if isFloat(v.Kind()) && isFloat(cv.Kind()) && v.Float() != v.Float() {
		return back.Float() != back.Float() // NaN stays NaN
	}
	return back.Interface() == v.Interface()
}

func isFloat(k reflect.Kind) bool { return k == reflect.Float32 || k == reflect.Float64 }

// sameFamily reports whether a conversion between kinds keeps meaning:
// number to number, string to string. (reflect converts ints to strings
// as runes, which SetAttr must not.)
func sameFamily(from, to reflect.Kind) bool {
	num := func(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Float64 }
	return num(from) && num(to) || from == to
}

// SetRelated changes the relationship name of the record k locally to
// the records keys (for a to-one, none or one), keeping inverses in step
// on both sides, for code that knows names only at run time; typed code
// uses [Model.Edit].
func (s *Store) SetRelated(k Key, name string, keys ...Key) error {
	t := s.lookupType(k.Type)
	if t == nil {
		return fmt.Errorf("%w %q", ErrUnknownType, k.Type)
	}
	ri, ok := t.relIdx[name]
	if !ok {
		return fmt.Errorf("recstore: %s has no relationship %q: %w", t.name, name, ErrUnknownRelationship)
	}
	keys = slices.Clone(keys) // the caller's slice stays as it was
	for i, rk := range keys {
		keys[i] = s.Resolve(rk)
	}
	return s.applyEdit(t, k.ID, anEdit{rels: []relEdit{{ri, keys}}}, nil)
}

// Delete marks the record k for deletion, as Ember Data's deleteRecord
// does: it stays in the Store, read, listed and related, as
// StatusDeleted until [Store.Save] deletes it from the backend, and
// [Store.Rollback] brings it back. A record that was never saved is
// unloaded at once: the backend has nothing to delete. It fails with
// ErrNotLoaded for a record the Store does not hold.
func (s *Store) Delete(k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e, err := s.recordFor("delete", k)
	if err != nil {
		return err
	}
	v := e.cur.Load()
	if v.st != nil && v.st.gone {
		return nil
	}
	c := newCommit(s, CauseLocal)
	c.local = true
	defer c.abort()
	if v.st != nil && v.st.isNew {
		if v.st.saving {
			return fmt.Errorf("recstore: delete %v: %w", k, ErrSaving)
		}
		if err := c.unload(t, e); err != nil {
			return err
		}
	} else {
		c.state(c.draftOf(t, e)).deleted = true
	}
	c.publish()
	return nil
}

// Delete marks the record id for deletion; see [Store.Delete].
func (m *Model[T]) Delete(id string) error { return m.s.Delete(Key{m.t.name, id}) }

// Rollback drops the record k's local changes, as Ember Data's
// rollbackAttributes does, for relationships too: attributes and
// relationships go back to the backend's values (inverses follow), a
// deleted record comes back, validation errors and the last save's error
// are cleared. A record never saved is unloaded. While a save is in
// flight, the changes being saved stay, and only those made since are
// dropped. It does nothing for a record with no local changes, and fails
// with ErrNotLoaded for one the Store does not hold.
func (s *Store) Rollback(k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e, err := s.recordFor("rollback", k)
	if err != nil {
		return err
	}
	v := e.cur.Load()
	if v.st == nil || v.st.gone {
		return nil
	}
	c := newCommit(s, CauseLocal)
	c.local = true
	defer c.abort()
	if v.st.isNew && !v.st.saving {
		if err := c.unload(t, e); err != nil {
			return err
		}
		c.publish()
		return nil
	}
	if err := c.rollback(t, e); err != nil {
		return err
	}
	c.publish()
	return nil
}

// Rollback drops the record id's local changes; see [Store.Rollback].
func (m *Model[T]) Rollback(id string) error { return m.s.Rollback(Key{m.t.name, id}) }

// rollback puts e's attributes and relationships back to the backend's
// values, but for those a save in flight is sending.
func (c *commit) rollback(t *table, e *entry) error {
	d := c.draftOf(t, e)
	st := c.state(d)
	keep := func(i int) bool { return st.saving && st.flySet.has(i) }
	if !st.local.empty() {
		nv := t.newValue()
		t.copyValue(nv, d.v.val)
		d.v.val, d.ownVal = nv, true
		for i := range t.attrs {
			if st.local.has(i) && !keep(i) {
				a := &t.attrs[i]
				a.set(unsafe.Add(nv, a.off), st.canonical(t, i))
				st.local.del(i)
			}
		}
	}
	for _, cs := range slices.Clone(st.canon) {
		ri := int(cs.tag) - 1
		if st.saving {
			if _, ok := relIndex(st.flyRels, ri); ok {
				continue
			}
		}
		r := &t.rels[ri]
		leaving := slices.DeleteFunc(slices.Clone(c.members(d, ri)), func(k Key) bool {
			return slices.Contains(cs.many, k) || k == cs.one
		})
		var err error
		if r.many {
			err = c.replaceMany(d, ri, cs.many)
		} else {
			err = c.replaceOne(d, ri, cs.one)
		}
		if err != nil {
			return err
		}
		// A member this record took from another goes back to it, as the
		// backend has it, rather than to nothing.
		for _, k := range leaving {
			if err := c.restoreInverse(d, r, k); err != nil {
				return err
			}
		}
	}
	st = c.state(d)
	st.deleted = st.saving && st.flyDelete // a delete in flight stays
	st.errs, st.err = nil, nil
	return nil
}

// restoreInverse puts the to-one inverse of r on record k back to the
// backend's value, when k's local change was only to point at d.
func (c *commit) restoreInverse(d *draft, r *relField, k Key) error {
	if r.inverse == "" {
		return nil
	}
	bt, ii, err := c.inverseOf(r, k)
	if err != nil || bt.rels[ii].many {
		return err
	}
	b := c.draft(bt, k.ID, false)
	if b == nil || b.v == nil || b.v.st == nil {
		return nil
	}
	cs, ok := b.v.st.canonRel(ii)
	if !ok || cs.one.IsZero() || cs.one == d.key() || !c.relNow(b, ii).one.IsZero() {
		return nil
	}
	return c.replaceOne(b, ii, cs.one)
}

// recordFor returns the table and entry of the record k, which the Store
// must hold, for op ("delete", "unload", ...). Called with Store.mu held.
func (s *Store) recordFor(op string, k Key) (*table, *entry, error) {
	t := s.lookupType(k.Type)
	if t == nil {
		return nil, nil, fmt.Errorf("%w %q", ErrUnknownType, k.Type)
	}
	e := t.entry(k.ID)
	if e == nil || !e.loaded() {
		return t, nil, fmt.Errorf("recstore: %s %v: %w", op, k, ErrNotLoaded)
	}
	return t, e, nil
}

// errUnloadSaving wraps ErrSaving for Unload and UnloadAll.
func errUnloadSaving(k Key) error {
	return fmt.Errorf("recstore: unload %v: %w", k, ErrSaving)
}
