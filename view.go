package recstore

import (
	"iter"
	"slices"
	"sync"
)

// A View is a live list of one model's records that a filter keeps: it
// is current as soon as each push, edit, save or unload that changes
// them returns, and is safe to read from any goroutine. Records are
// listed in the order they joined the view.
type View[T any] struct {
	m    *Model[T]
	keep func(*T) bool

	mu    sync.RWMutex
	in    map[string]bool // ids in the view
	order []string        // ids in the order they joined; may hold ids that left
	dead  int             // ids in order that left
}

// viewer is a View as the type-erased Store updates it.
type viewer interface {
	update(id string, v *version)
}

// View returns a live view of this model's records for which keep
// returns true (every record, for a nil keep). keep runs as changes are
// published, with the Store's lock held: it must be quick, must not call
// the Store, and gets a copy it may not keep. A panic in keep leaves the
// record out of the view and is reported (ReportPanic); the change goes
// on. Close the View when done with it.
func (m *Model[T]) View(keep func(*T) bool) *View[T] {
	v := &View[T]{m: m, keep: keep, in: map[string]bool{}}
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range *m.t.order.Load() {
		v.update(e.id, e.cur.Load())
	}
	list := append(slices.Clone(m.t.viewList()), viewer(v))
	m.t.views.Store(&list)
	s.views.Add(1)
	return v
}

func (t *table) viewList() []viewer {
	if l := t.views.Load(); l != nil {
		return *l
	}
	return nil
}

// Close stops keeping the view current; reads afterwards see it as it
// was.
func (v *View[T]) Close() {
	t := v.m.t
	v.m.s.mu.Lock()
	defer v.m.s.mu.Unlock()
	list := t.viewList()
	if i := slices.Index(list, viewer(v)); i >= 0 {
		list = slices.Delete(slices.Clone(list), i, i+1)
		t.views.Store(&list)
		v.m.s.views.Add(-1)
	}
}

// update puts record id, now at version ver, in or out of the view.
// Called with Store.mu held.
func (v *View[T]) update(id string, ver *version) {
	keep := ver.listed()
	if keep && v.keep != nil {
		keep = v.filter(v.m.value(ver, true))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch was := v.in[id]; {
	case keep && !was:
		v.in[id] = true
		v.order = append(v.order, id)
	case !keep && was:
		delete(v.in, id)
		v.dead++
		if v.dead > 32 && v.dead > len(v.order)/2 {
			v.order = slices.DeleteFunc(v.order, func(id string) bool { return !v.in[id] })
			v.dead = 0
		}
	}
}

// filter runs keep on rec; a panic leaves the record out and is
// reported, on a goroutine Close waits for (the caller holds the lock).
func (v *View[T]) filter(rec T) (keep bool) {
	defer func() {
		if p := recover(); p != nil {
			keep = false
			s := v.m.s
			err := newPanicError("View", p)
			if s.life.Err() != nil {
				return // after Close, no goroutine starts and nothing is reported
			}
			s.subWG.Add(1)
			go func() {
				defer s.subWG.Done()
				s.deliver(Report{Kind: ReportPanic, Type: v.m.t.name, Message: "view filter panicked", Count: 1, Err: err})
			}()
		}
	}()
	return v.keep(&rec)
}

// Len returns the number of records in the view.
func (v *View[T]) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.in)
}

// IDs returns the ids of the records in the view, in the order they
// joined it.
func (v *View[T]) IDs() []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]string, 0, len(v.in))
	for _, id := range v.order {
		if v.in[id] {
			out = append(out, id)
		}
	}
	return out
}

// All returns an iterator over the records in the view, as (id, copy)
// pairs, read as they are when the iteration reaches them.
func (v *View[T]) All() iter.Seq2[string, T] {
	return func(yield func(string, T) bool) {
		for _, id := range v.IDs() {
			if rec, ok := v.m.Peek(id); ok && !yield(id, rec) {
				return
			}
		}
	}
}

// updateViews brings the views of the tables this commit changed up to
// date. Called by publish, with Store.mu held, once the new versions are
// visible.
func (c *commit) updateViews() {
	for _, d := range c.drafts {
		views := d.t.viewList()
		if len(views) == 0 || d.v == d.base && !d.drop {
			continue
		}
		var ver *version
		if !d.drop {
			ver = d.v
		}
		for _, v := range views {
			v.update(d.e.id, ver)
		}
	}
}

// viewsOn reports whether any table has a view; publish skips updating
// views for Stores with none.
func (s *Store) viewsOn() bool { return s.views.Load() > 0 }
