package recstore

import (
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unsafe"
)

// A Status is where a record is in its life: what Ember Data's isNew,
// isDeleted and hasDirtyAttributes say together, as one value.
type Status uint8

const (
	// StatusEmpty: the Store holds no record under the key (never loaded,
	// or unloaded).
	StatusEmpty Status = iota
	// StatusLoaded: the record is as the backend last sent it, with no
	// local changes (Ember's root.loaded.saved).
	StatusLoaded
	// StatusCreated: created locally and not saved yet
	// (root.loaded.created).
	StatusCreated
	// StatusUpdated: loaded, with local changes not saved yet
	// (root.loaded.updated).
	StatusUpdated
	// StatusDeleted: marked for deletion by Delete, not saved yet
	// (root.deleted.uncommitted). It is still read, listed and related.
	StatusDeleted
	// StatusDeletedSaved: its deletion was saved. Peek still reads it,
	// but All, Len, Keys and relationships no longer hold it; Unload
	// forgets it (root.deleted.saved).
	StatusDeletedSaved
)

var statusNames = [...]string{"empty", "loaded", "created", "updated", "deleted", "deleted.saved"}

// String names the status as Ember Data's stateName does, without the
// "root." prefix: "loaded", "created", "deleted.saved".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// A State is what the Store knows of one record's life: its Status,
// whether a save is in flight, and how the last save failed. It is a
// copy: later changes to the record do not change it.
type State struct {
	// Status is where the record is in its life.
	Status Status
	// Saving reports a save in flight (Ember's isSaving). Edits made
	// meanwhile stay local changes on top of the values being saved.
	Saving bool
	// Errors holds the backend's validation errors from the last save,
	// by attribute or relationship name (BaseErrors for the record as a
	// whole), as [Store.ExtractErrors] maps them. Changing an attribute
	// drops its errors; the others stay until the next save. Empty
	// means valid.
	Errors map[string][]string
	// Err is the last save's error when it failed for another reason
	// than validation (Ember's adapterError); nil after a success or a
	// Rollback.
	Err error
}

// IsNew reports a record created locally and not saved yet.
func (st State) IsNew() bool { return st.Status == StatusCreated }

// IsDeleted reports a record marked for deletion, saved or not.
func (st State) IsDeleted() bool {
	return st.Status == StatusDeleted || st.Status == StatusDeletedSaved
}

// IsDirty reports a record with something to save: created, updated or
// deleted, not yet saved (Ember's hasDirtyAttributes, with relationships
// counted too).
func (st State) IsDirty() bool {
	return st.Status == StatusCreated || st.Status == StatusUpdated || st.Status == StatusDeleted
}

// IsValid reports that the last save left no validation errors.
func (st State) IsValid() bool { return len(st.Errors) == 0 }

// Name is the state as Ember Data's stateName writes it, such as
// "root.loaded.updated.inFlight" or "root.deleted.invalid".
func (st State) Name() string {
	var base string
	switch st.Status {
	case StatusEmpty:
		return "root.empty"
	case StatusLoaded:
		// Ember checks dirtiness first: a record with no changes left is
		// saved even with errors left. One being saved is in flight.
		if !st.Saving {
			return "root.loaded.saved"
		}
		return "root.loaded.updated.inFlight"
	case StatusCreated:
		base = "root.loaded.created"
	case StatusUpdated:
		base = "root.loaded.updated"
	case StatusDeleted:
		base = "root.deleted"
	case StatusDeletedSaved:
		return "root.deleted.saved"
	default:
		return "root." + st.Status.String()
	}
	switch {
	case st.Saving:
		return base + ".inFlight"
	case !st.IsValid():
		return base + ".invalid"
	}
	return base + ".uncommitted"
}

// A Change is one attribute's or relationship's local change: Old is its
// value as the backend has it (before a save in flight lands), nil for a
// record never saved; New is the local value. For a relationship both are
// []Key (a to-one's is empty or holds one Key).
type Change struct {
	// Old is the backend's value, as it was before any save in flight.
	Old any
	// New is the local value, as reads show it.
	New any
}

// recState is a record's local life: what it has that the backend does
// not know yet. A version of a record as the backend sent it has none
// (nil), so that records never edited pay nothing. Like the version that
// holds it, a recState is never written once published; a change copies
// it (see commit.state).
type recState struct {
	// remote points to a T holding the attributes as the backend has
	// them: the zero T of its table while the record is new.
	remote unsafe.Pointer
	// local says which attributes differ from their backend value.
	local bitset
	// canon holds, for each relationship changed locally, its backend
	// state (sorted by tag).
	canon []relState
	// While a save is in flight, fly points to the T being saved (a
	// published value, never written), flySet says which attributes it
	// changes, and flyRels holds the changed relationships' states it
	// sends. A success makes them the backend's; edits made meanwhile
	// stay local changes on top.
	fly     unsafe.Pointer
	flySet  bitset
	flyRels []relState

	isNew   bool // created locally, not saved yet
	deleted bool // marked for deletion
	gone    bool // its deletion was saved
	saving  bool // a save is in flight
	// flyDelete says the save in flight deletes the record: a Rollback
	// meanwhile cannot bring it back.
	flyDelete bool

	errs map[string][]string // validation errors of the last save
	err  error               // the last save's other error
}

// clean reports whether st holds nothing: the record is as the backend
// sent it, and needs no state.
func (st *recState) clean() bool {
	return st == nil || !st.isNew && !st.deleted && !st.gone && !st.saving &&
		st.local.empty() && len(st.canon) == 0 && len(st.errs) == 0 && st.err == nil
}

// canonical returns a pointer to attribute i's backend value (the
// zero value for a record never saved).
func (st *recState) canonical(t *table, i int) unsafe.Pointer {
	return unsafe.Add(st.remote, t.attrs[i].off)
}

// dirtyAttr reports whether attribute i of the record whose current
// value is at val is a local change: it differs from the backend's
// value, or, while a save is in flight, from the value being saved (the
// backend's once it lands: setting the old value back during the save is
// a change on top of it).
func (st *recState) dirtyAttr(t *table, i int, val unsafe.Pointer) bool {
	a := &t.attrs[i]
	cur := unsafe.Add(val, a.off)
	if !a.equal(cur, st.canonical(t, i)) {
		return true
	}
	return st.saving && st.flySet.has(i) && !a.equal(cur, unsafe.Add(st.fly, a.off))
}

// setDirty recomputes attribute i's local bit.
func (st *recState) setDirty(t *table, i int, val unsafe.Pointer) {
	if st.dirtyAttr(t, i, val) {
		st.local.add(i)
	} else {
		st.local.del(i)
	}
}

// canonRel returns the canonical state of relationship ri, and whether it
// was changed locally.
func (st *recState) canonRel(ri int) (*relState, bool) {
	if st == nil {
		return nil, false
	}
	if i, ok := relIndex(st.canon, ri); ok {
		return &st.canon[i], true
	}
	return nil, false
}

// status folds st into a Status for a record that is loaded.
func (st *recState) status() Status {
	switch {
	case st == nil:
		return StatusLoaded
	case st.gone:
		return StatusDeletedSaved
	case st.deleted:
		return StatusDeleted
	case st.isNew:
		return StatusCreated
	case !st.local.empty() || len(st.canon) > 0:
		return StatusUpdated
	}
	return StatusLoaded
}

// stateOf returns the State of a record's version v (nil: not loaded).
func stateOf(v *version) State {
	if v == nil || v.val == nil {
		return State{}
	}
	st := v.st
	out := State{Status: st.status()}
	if st != nil {
		out.Saving = st.saving
		if len(st.errs) > 0 {
			out.Errors = make(map[string][]string, len(st.errs))
			for k, msgs := range st.errs {
				out.Errors[k] = slices.Clone(msgs)
			}
		}
		out.Err = st.err
	}
	return out
}

// copyState returns a private copy of st (a zero one for nil), sharing
// the immutable values it points to.
func copyState(st *recState) *recState {
	if st == nil {
		return &recState{}
	}
	cp := *st
	cp.flySet = st.flySet.clone()
	cp.local = st.local.clone()
	cp.canon = slices.Clone(st.canon)
	cp.flyRels = slices.Clone(st.flyRels)
	cp.errs = maps.Clone(st.errs)
	return &cp
}

// empty reports whether no bit is set.
func (b *bitset) empty() bool {
	if b.lo != 0 {
		return false
	}
	if b.hi != nil {
		for _, w := range *b.hi {
			if w != 0 {
				return false
			}
		}
	}
	return true
}

// del clears bit i.
func (b *bitset) del(i int) {
	if i < 64 {
		b.lo &^= 1 << i
		return
	}
	w := i/64 - 1
	if b.hi != nil && w < len(*b.hi) {
		(*b.hi)[w] &^= 1 << (i % 64)
	}
}

// union returns the bits set in b or o, sharing no memory with either.
func (b bitset) union(o bitset) bitset {
	out := b.clone()
	out.lo |= o.lo
	if o.hi != nil {
		for i, w := range *o.hi {
			if w != 0 {
				out.add(64*(i+1) + 63)
				out.del(64*(i+1) + 63)
				(*out.hi)[i] |= w
			}
		}
	}
	return out
}

// clone returns a copy that shares no memory with b.
func (b bitset) clone() bitset {
	if b.hi != nil {
		hi := slices.Clone(*b.hi)
		b.hi = &hi
	}
	return b
}

// equalFor returns a function that reports whether two values of type t,
// at two addresses, are the same attribute value: == for scalars (NaN
// equal to NaN, so that an unchanged NaN is not a change), Equal for
// times, reflect.DeepEqual for the rest.
func equalFor(t reflect.Type) func(x, y unsafe.Pointer) bool {
	if t == timeType {
		return func(x, y unsafe.Pointer) bool {
			a, b := (*time.Time)(x), (*time.Time)(y)
			return a.Equal(*b) && a.Location().String() == b.Location().String()
		}
	}
	switch t.Kind() {
	case reflect.String:
		return func(x, y unsafe.Pointer) bool { return *(*string)(x) == *(*string)(y) }
	case reflect.Bool, reflect.Int8, reflect.Uint8:
		return func(x, y unsafe.Pointer) bool { return *(*uint8)(x) == *(*uint8)(y) }
	case reflect.Int16, reflect.Uint16:
		return func(x, y unsafe.Pointer) bool { return *(*uint16)(x) == *(*uint16)(y) }
	case reflect.Int32, reflect.Uint32:
		return func(x, y unsafe.Pointer) bool { return *(*uint32)(x) == *(*uint32)(y) }
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return func(x, y unsafe.Pointer) bool { return *(*uint64)(x) == *(*uint64)(y) }
	case reflect.Float64:
		return func(x, y unsafe.Pointer) bool {
			a, b := *(*float64)(x), *(*float64)(y)
			return a == b || math.IsNaN(a) && math.IsNaN(b)
		}
	case reflect.Float32:
		return func(x, y unsafe.Pointer) bool {
			a, b := *(*float32)(x), *(*float32)(y)
			return a == b || a != a && b != b
		}
	}
	return func(x, y unsafe.Pointer) bool {
		return reflect.DeepEqual(reflect.NewAt(t, x).Elem().Interface(), reflect.NewAt(t, y).Elem().Interface())
	}
}

// sameRel reports whether two states of relationship r hold the same
// members (in the same order for a to-many): a relationship never set
// and one set to null or [] hold the same.
func sameRel(x, y *relState) bool {
	return x.one == y.one && slices.Equal(x.many, y.many)
}
