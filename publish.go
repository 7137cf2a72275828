package recstore

import (
	"slices"
)

// This file publishes a commit: the versions, the load times and
// expiry, the eviction bookkeeping, the order of records, Views and
// events.

// publish makes the commit visible: every draft's version is stored at
// once, between two increments of Store.seq.
func (c *commit) publish() {
	c.s.inject("publish")
	for _, d := range c.drafts {
		for _, x := range d.many {
			ri, md := x.ri, x.m
			keys := md.keys
			if md.tombs > 0 {
				keys = slices.DeleteFunc(keys, Key.IsZero)
			}
			if len(keys) == 0 {
				keys = nil
			}
			c.rel(d, ri).many = keys
		}
		if !d.drop && d.v != nil && d.v.st != nil {
			c.settle(d)
		}
	}
	var events []Event
	if c.s.subs.Load() != nil && len(c.s.subscribersList()) > 0 {
		events = c.events()
	}
	var now int64 // the load time of the records this commit loaded
	if c.loads {
		// Read before anything is published: Options.Clock is user
		// code, and a panic in it must leave the commit undone.
		now = c.s.now().UnixNano()
	}
	bounded := c.s.bounded()
	// From here on nothing calls user code: the commit cannot be undone.
	c.done = true
	c.s.seq.Add(1)
	for _, d := range c.drafts {
		t, e := d.t, d.e
		if !d.drop && d.v != nil && d.v.val == nil && d.v.st == nil && d.v.holdsNothing() {
			// A record known only by reference that no relationship
			// names any more (its referrers left): forget it, or a
			// bounded Store churning through records that name others
			// would keep an entry for each of them.
			d.drop = true
		}
		wasLoaded := d.base.listed()
		isLoaded := !d.drop && d.v.listed()
		if d.drop {
			e.cur.Store(nil)
			t.byID.del(e.id)
			if t.hasLIDs.Load() {
				t.forgetLID(e)
			}
			if t.hasDeadlines.Load() {
				t.deadlines.Delete(e)
			}
			if t.hasSaved.Load() {
				t.saved.Delete(e)
			}
		} else if d.v != d.base {
			e.cur.Store(d.v)
		}
		if d.loaded && !d.drop {
			c.stamp(t, e, now)
		}
		if c.more != nil || d.drop && t.hasMore.Load() {
			c.publishMore(d)
		}
		if bounded {
			switch {
			case !wasLoaded && isLoaded:
				c.s.admit(t, e)
				c.s.resize(t, e, d.v)
			case wasLoaded && !isLoaded:
				c.s.forget(t, e)
			case isLoaded && d.v != d.base:
				c.s.resize(t, e, d.v)
			}
		}
		switch {
		case !wasLoaded && isLoaded:
			if c.appends == nil {
				c.appends = map[*table][]*entry{}
			}
			c.appends[t] = append(c.appends[t], e)
			t.live.Add(1)
		case wasLoaded && !isLoaded:
			t.live.Add(-1)
			t.dead++
			if c.shrunk == nil {
				c.shrunk = map[*table]bool{}
			}
			c.shrunk[t] = true
		}
		e.draft = nil
	}
	for t, es := range c.appends {
		t.publishOrder(es)
	}
	for t := range c.shrunk {
		if _, done := c.appends[t]; !done {
			t.publishOrder(nil)
		}
	}
	c.s.seq.Add(1)
	if c.s.viewsOn() {
		c.updateViews()
	}
	if len(events) > 0 {
		c.s.notify(events)
	}
}

// savedSince reports whether st's record had a save confirmed after the
// request whose answer this commit pushes was made: the answer may hold
// the record as it was before the save, and would undo it.
func (c *commit) savedSince(st *staged) bool {
	if !st.t.hasSaved.Load() {
		return false
	}
	e := st.t.entry(st.id)
	if e == nil {
		return false
	}
	seq, ok := st.t.saved.Load(e)
	return ok && seq.(uint64) >= c.since
}

// stamp records that the backend's data for e reached the Store at now:
// its load time, and its expiry if the answer gave one that its type
// follows. A record loaded again is no longer invalidated, unless it was
// invalidated after the load that brought it began.
func (c *commit) stamp(t *table, e *entry, now int64) {
	e.at.Store(now)
	if c.since != 0 && t.hasSaved.Load() {
		// Loaded by a request made after its save: the save is safe once
		// no load made before it is under way (one could land after this
		// one, with the state before the save).
		if seq, ok := t.saved.Load(e); ok && seq.(uint64) < c.since && !c.s.loadsBefore(seq.(uint64)) {
			t.saved.Delete(e)
		}
	}
	if c.numbered && t.invalidatedSince(e.id, c.inv) {
		// Invalidated while the load was under way: its answer may be
		// older than the change.
		e.setMeta(metaInvalid, true)
	} else if e.meta.Load()&metaInvalid != 0 {
		e.setMeta(metaInvalid, false)
	}
	if c.maxAge.set {
		if exp := t.expiryOf(); exp != nil && exp.FromHeaders {
			soft := addSat(now, c.maxAge.fresh)
			t.deadlines.Store(e, deadlines{soft: soft, hard: addSat(soft, c.maxAge.stale)})
			t.hasDeadlines.Store(true)
			return
		}
	}
	if t.hasDeadlines.Load() {
		t.deadlines.Delete(e)
	}
}

// settle drops the local changes of d's relationships that now match
// their canonical state, and d's recState once it holds nothing.
// Any record the commit touched may need it, not only those whose state
// it wrote: an inverse edit can put a relationship back as it was.
func (c *commit) settle(d *draft) {
	same := func(cs relState) bool { return sameRel(&cs, d.v.rel(int(cs.tag)-1)) }
	if !slices.ContainsFunc(d.v.st.canon, same) && (!d.ownSt || !d.v.st.clean()) {
		return // nothing to drop (and a published state is never written)
	}
	st := c.state(d)
	st.canon = slices.DeleteFunc(st.canon, same)
	if len(st.canon) == 0 {
		st.canon = nil
	}
	if st.clean() {
		d.v.st = nil
	}
}

// publishOrder appends es to the table's order and compacts it when more
// than half of it is unloaded entries. Called with Store.mu held.
func (t *table) publishOrder(es []*entry) {
	old := *t.order.Load()
	if t.dead > 64 && t.dead > len(old)/2 {
		live := make([]*entry, 0, len(old)-t.dead+len(es))
		for _, e := range old {
			if e.loaded() {
				live = append(live, e)
			}
		}
		t.dead = 0
		live = append(live, es...)
		t.order.Store(&live)
		return
	}
	if len(es) == 0 {
		return
	}
	// Appending past len(old) never touches what readers of old can see.
	nu := append(old, es...)
	t.order.Store(&nu)
}
