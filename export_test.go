package recstore

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Dump renders the Store's whole internal state, deterministically: every
// entry of every table (loaded or holding inverse state only), its value,
// its relationship state, the insertion order and the live counts. Two
// dumps are equal exactly when the Store is unchanged, which is what the
// all-or-nothing tests compare.
func Dump(s *Store) string {
	var b strings.Builder
	for _, name := range s.Types() {
		t := s.lookupType(name)
		fmt.Fprintf(&b, "type %s live=%d\n", name, t.live.Load())
		var ids []string
		t.byID.all(func(e *entry) bool { ids = append(ids, e.id); return true })
		sort.Strings(ids)
		for _, id := range ids {
			e := t.entry(id)
			v := e.cur.Load()
			if e.draft != nil {
				fmt.Fprintf(&b, "  %s: LEFTOVER DRAFT\n", id)
			}
			if v == nil {
				fmt.Fprintf(&b, "  %s: <nil version>\n", id)
				continue
			}
			if v.val == nil {
				fmt.Fprintf(&b, "  %s: <not loaded>", id)
			} else {
				fmt.Fprintf(&b, "  %s: %+v", id, reflect.NewAt(t.goType, v.val).Elem().Interface())
			}
			for i, r := range t.rels {
				st := *v.rel(i)
				fmt.Fprintf(&b, " %s(known=%v one=%v many=%v)", r.name, st.known, st.one, st.many)
			}
			if st := v.st; st != nil {
				// Local state, as the Store would roll back or save it.
				fmt.Fprintf(&b, " state(%s new=%v deleted=%v gone=%v saving=%v errs=%v err=%v", st.status(), st.isNew, st.deleted, st.gone, st.saving, st.errs, st.err)
				if st.remote != nil {
					fmt.Fprintf(&b, " remote=%+v", reflect.NewAt(t.goType, st.remote).Elem().Interface())
				}
				for i := range t.attrs {
					if st.local.has(i) {
						fmt.Fprintf(&b, " local:%s", t.attrs[i].name)
					}
				}
				for _, cs := range st.canon {
					fmt.Fprintf(&b, " canon:%s(one=%v many=%v)", t.rels[cs.tag-1].name, cs.one, cs.many)
				}
				b.WriteString(")")
			}
			if m := t.moreOf(e); m != nil {
				// As readers see them: JSON text is kept as pushed, and
				// a Document's maps are rendered with sorted keys.
				canon := func(lm linksMeta) string {
					return fmt.Sprintf("links=%v meta=%v", decodeObject(lm.links), decodeObject(lm.meta))
				}
				fmt.Fprintf(&b, " more(%s", canon(m.linksMeta))
				rels := slices.Clone(m.rels)
				slices.SortFunc(rels, func(a, b relMore) int { return int(a.ri - b.ri) })
				for _, r := range rels {
					fmt.Fprintf(&b, " %s(%s)", t.rels[r.ri].name, canon(r.linksMeta))
				}
				b.WriteString(")")
			}
			b.WriteString("\n")
		}
		b.WriteString("  order:")
		for _, e := range *t.order.Load() {
			if v := e.cur.Load(); v != nil && v.val != nil {
				b.WriteString(" " + e.id)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// CheckInverses reports the first broken inverse in the Store, or nil:
// for every relationship with an inverse, a record names another exactly
// when the other names it back, and no to-many list repeats a member. The
// commit relies on this to add inverse members without looking for them.
func CheckInverses(s *Store) error {
	var err error
	s.consistent(func() {
		err = nil
		for _, name := range s.Types() {
			t := s.lookupType(name)
			t.byID.all(func(e *entry) bool {
				v := e.cur.Load()
				if v == nil {
					return true
				}
				for ri := range t.rels {
					r := &t.rels[ri]
					if r.inverse == "" {
						continue
					}
					st := *v.rel(ri)
					members := st.many
					if !r.many && !st.one.IsZero() {
						members = []Key{st.one}
					}
					seen := map[Key]bool{}
					for _, m := range members {
						if seen[m] {
							err = fmt.Errorf("%s:%s.%s repeats %v", name, e.id, r.name, m)
							return false
						}
						seen[m] = true
						bt := s.lookupType(m.Type)
						if bt == nil {
							continue
						}
						be := bt.entry(m.ID)
						ii, ok := bt.relIdx[r.inverse]
						if be == nil || !ok {
							err = fmt.Errorf("%s:%s.%s names %v, which has no inverse state", name, e.id, r.name, m)
							return false
						}
						back := *be.cur.Load().rel(ii)
						self := Key{name, e.id}
						if back.one != self && !slices.Contains(back.many, self) {
							err = fmt.Errorf("%s:%s.%s names %v, which does not name it back in %s", name, e.id, r.name, m, r.inverse)
							return false
						}
					}
				}
				return true
			})
			if err != nil {
				return
			}
		}
	})
	return err
}

// Waiters counts the Finds waiting on flights for typ/id, so that tests
// can wait for callers to join instead of sleeping.
func Waiters(s *Store, typ, id string) int {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	n := 0
	for _, f := range s.flights[Key{typ, id}] {
		n += f.waiters
	}
	return n
}

// Closing reports whether Close has begun.
func Closing(s *Store) bool { return s.life.Err() != nil }

// SetTestHook makes s call hook at named points of every commit ("apply",
// "linkInverse", "publish", "read"), so that tests can panic there.
func SetTestHook(s *Store, hook func(point string)) { s.testHook = hook }

// RelState returns what record k, loaded or known only by reference,
// holds of relationship name, and how many relationship slots its version
// has.
func RelState(s *Store, k Key, name string) (known bool, keys []Key, slots int) {
	t := s.lookupType(k.Type)
	e := t.entry(k.ID)
	if e == nil {
		return false, nil, 0
	}
	v := e.cur.Load()
	st := *v.rel(t.relIdx[name])
	keys = st.many
	if !st.one.IsZero() {
		keys = []Key{st.one}
	}
	return st.known, keys, int(v.reln)
}

// IDMapSlots returns how many slots the id map of type typ has.
func IDMapSlots(s *Store, typ string) int { return len(*s.lookupType(typ).byID.slots.Load()) }
