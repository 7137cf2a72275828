package recstore

import (
	"fmt"
	"reflect"
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
				st := v.rel(i)
				fmt.Fprintf(&b, " %s(known=%v one=%v many=%v)", r.name, st.known, st.one, st.many)
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
