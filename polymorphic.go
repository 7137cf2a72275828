package recstore

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// A polymorphic relation is a relation field of interface type: `Handles
// []Handle`, `Owner Owned`. It holds records of every model whose pointer
// implements the interface, and reads fill it with a fresh *S per member,
// so that a type switch reads `case *GithubHandle:` whatever the receivers
// of S's methods. The set of such models grows as models register.

// polyRel is what a polymorphic relField knows beyond an ordinary one.
type polyRel struct {
	iface reflect.Type

	// impls maps the type name of each registered model whose pointer
	// implements iface to how a read boxes one. Register replaces it under
	// Store.mu, before it publishes the new model; pushes and reads load
	// it without a lock.
	impls atomic.Pointer[map[string]polyImpl]
}

// polyImpl is one model that a polymorphic relation may hold.
type polyImpl struct {
	t *table
	// tab is the first word of an interface value of iface holding a *S:
	// with it a read builds the interface from a *S without reflection.
	// nil means this runtime lays interfaces out otherwise, and reads go
	// through reflect.
	tab unsafe.Pointer
}

// ifaceWords is how the gc runtime lays out an interface value with
// methods: a pointer to its method table and a pointer to the value. A *S
// is stored in the second word as it is. itabFor checks this layout at
// registration, so that reads can trust it.
type ifaceWords struct {
	tab, data unsafe.Pointer
}

func newPolyRel(t reflect.Type) (*polyRel, error) {
	if t.NumMethod() == 0 {
		return nil, errors.New("a relation of any model type is Key or []Key; an interface relation needs methods, which the models it holds implement")
	}
	p := &polyRel{iface: t}
	p.impls.Store(&map[string]polyImpl{})
	return p, nil
}

// implementedBy reports whether *rt implements the relation's interface
// (which it does whenever rt does).
func (p *polyRel) implementedBy(rt reflect.Type) bool {
	return reflect.PointerTo(rt).Implements(p.iface)
}

// polyHolds reports whether the polymorphic relation r may hold records of
// t. It is false for other relations: callers test r.keyed and r.elem
// first, so ordinary relations pay nothing for it.
func (r *relField) polyHolds(t *table) bool {
	if r.poly == nil {
		return false
	}
	_, ok := (*r.poly.impls.Load())[t.name]
	return ok
}

// relatesTo reports whether the pointer or polymorphic relation r holds
// records of the Go type rt. Registration only: it reflects.
func (r *relField) relatesTo(rt reflect.Type) bool {
	if r.poly != nil {
		return r.poly.implementedBy(rt)
	}
	return r.elem == rt
}

// mixed reports whether r may hold records of more than one type, so that
// serializers read and write each member's type.
func (r *relField) mixed() bool { return r.keyed || r.poly != nil }

// wrongType is the cause of the error for a linkage naming records of t,
// which r cannot hold.
func (r *relField) wrongType(t *table) error {
	if r.poly != nil {
		return fmt.Errorf("relationship %q holds models implementing %s, which %q (%s) does not", r.name, r.poly.iface, t.name, t.goType)
	}
	want := r.elem.String()
	if tt := r.target.Load(); tt != nil {
		want = strconv.Quote(tt.name)
	}
	return fmt.Errorf("relationship %q holds %s records, not %q", r.name, want, t.name)
}

// itabFor returns the method-table word of an iface value holding a *S
// (S is goType), or nil if the runtime does not lay out interfaces as
// ifaceWords says.
func itabFor(iface, goType reflect.Type) unsafe.Pointer {
	v := reflect.New(iface)
	ptr := reflect.New(goType)
	v.Elem().Set(ptr)
	w := (*ifaceWords)(v.UnsafePointer())
	if w.data != ptr.UnsafePointer() || w.tab == nil {
		return nil
	}
	return w.tab
}

// box returns a *S for the record at p, a fresh *S of im's model, as an
// interface value of the relation's type.
func (im polyImpl) box(iface reflect.Type, p unsafe.Pointer) ifaceWords {
	if im.tab != nil {
		return ifaceWords{im.tab, p}
	}
	var w ifaceWords
	reflect.NewAt(iface, unsafe.Pointer(&w)).Elem().Set(reflect.NewAt(im.t.goType, p))
	return w
}

// fillPoly reads the polymorphic relation r, whose state is st, into the
// field at dst: fresh copies of the related records, one level deep, in
// order, leaving out records the Store does not hold.
func (s *Store) fillPoly(r *relField, st *relState, dst unsafe.Pointer) {
	impls := *r.poly.impls.Load()
	if !r.many {
		w, _ := polyRead(impls, r.poly.iface, st.one)
		*(*ifaceWords)(dst) = w
		return
	}
	if len(st.many) == 0 {
		*(*[]ifaceWords)(dst) = nil
		return
	}
	out := make([]ifaceWords, 0, len(st.many))
	var im polyImpl // members often come in runs of one type: reuse its lookup
	for _, k := range st.many {
		if im.t == nil || im.t.name != k.Type {
			var ok bool
			if im, ok = impls[k.Type]; !ok {
				continue
			}
		}
		if v := im.t.loaded(k.ID); v != nil {
			p := im.t.newValue()
			im.t.read(v, p, false)
			out = append(out, im.box(r.poly.iface, p))
		}
	}
	*(*[]ifaceWords)(dst) = out
}

// polyRead reads the record k, if the Store holds it and it is of a model
// in impls, as a fresh *S in an interface value of type iface.
func polyRead(impls map[string]polyImpl, iface reflect.Type, k Key) (ifaceWords, bool) {
	im, ok := impls[k.Type]
	if !ok {
		return ifaceWords{}, false
	}
	v := im.t.loaded(k.ID)
	if v == nil {
		return ifaceWords{}, false
	}
	p := im.t.newValue()
	im.t.read(v, p, false)
	return im.box(iface, p), true
}

// A polyPair is one polymorphic relation and one model it may hold.
type polyPair struct {
	owner *table
	r     *relField
	impl  *table
}

// linkPoly finds the pairs of polymorphic relation and implementing model
// that registering t makes, checks their inverses, and returns what to
// apply once every check has passed: the new members of each relation's
// set, and inverses the pairs imply. inverse gives a relation's inverse,
// counting those the other checks of this registration imply. Called with
// Store.mu held; it changes nothing.
func linkPoly(t *table, gos map[reflect.Type]*table, inverse func(*relField) string) (adds []polyPair, implied map[*relField]string, err error) {
	all := make([]*table, 0, len(gos)+1)
	for _, o := range gos {
		all = append(all, o)
	}
	all = append(all, t)
	for _, o := range all {
		for i := range o.rels {
			r := &o.rels[i]
			if r.poly == nil {
				continue
			}
			for _, s := range all {
				if (o == t || s == t) && r.poly.implementedBy(s.goType) {
					adds = append(adds, polyPair{o, r, s})
				}
			}
		}
	}
	implied = map[*relField]string{}
	inv := func(r *relField) string {
		if v := inverse(r); v != "" {
			return v
		}
		return implied[r]
	}
	// Every pair is checked, not only the new ones: an inverse this
	// registration implies on an older relation holds for its older
	// members too. An implied inverse may itself be a polymorphic
	// relation's, so the checks run again until they imply nothing new.
	for n := -1; n != len(implied); {
		n = len(implied)
		for _, o := range all {
			for i := range o.rels {
				r := &o.rels[i]
				if r.poly == nil || inv(r) == "" {
					continue
				}
				for _, s := range all {
					if !r.poly.implementedBy(s.goType) {
						continue
					}
					if err := checkPolyInverse(o, r, s, inv, implied); err != nil {
						return nil, nil, err
					}
				}
			}
		}
	}
	return adds, implied, nil
}

// checkPolyInverse checks that impl's relationship named by the inverse
// of owner's polymorphic relation r relates back to owner, and notes in
// implied the inverse this gives that relationship if it declares none.
func checkPolyInverse(owner *table, r *relField, impl *table, inv func(*relField) string, implied map[*relField]string) error {
	name := inv(r)
	bad := func(msg string, args ...any) error {
		return &ModelError{GoType: owner.goType, Field: r.goName, Msg: fmt.Sprintf(msg, args...)}
	}
	ii, ok := impl.relIdx[name]
	if !ok {
		return bad("inverse %q: %s implements %s but has no relationship %q", name, impl.goType, r.poly.iface, name)
	}
	back := &impl.rels[ii]
	switch have := inv(back); {
	case back.keyed && have != r.name:
		return bad("its inverse %s.%s is a Key relation, so it must declare %q as its own inverse too", impl.goType, back.goName, r.name)
	case !back.keyed && !back.relatesTo(owner.goType):
		return bad("inverse %s.%s does not relate to %s", impl.goType, back.goName, owner.goType)
	case have != "" && have != r.name:
		return bad("inverse %s.%s names %q as its own inverse, not %q", impl.goType, back.goName, have, r.name)
	case have == "":
		implied[back] = r.name
	}
	return nil
}

// addImpls publishes the new members of polymorphic relations' sets.
// Called with Store.mu held, before the new model is published.
func addImpls(adds []polyPair) {
	for _, a := range adds {
		old := *a.r.poly.impls.Load()
		m := make(map[string]polyImpl, len(old)+1)
		for k, v := range old {
			m[k] = v
		}
		m[a.impl.name] = polyImpl{t: a.impl, tab: itabFor(a.r.poly.iface, a.impl.goType)}
		a.r.poly.impls.Store(&m)
	}
}
