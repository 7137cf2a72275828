package recstore

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// An EventKind says what happened to a record.
type EventKind uint8

const (
	// EventAdded: the record was loaded, pushed or created, and is listed
	// now.
	EventAdded EventKind = iota + 1
	// EventUpdated: attributes, relationships or its State changed.
	EventUpdated
	// EventRemoved: the record was unloaded, or its deletion was saved;
	// All and Len no longer list it.
	EventRemoved
	// EventOverflow: the subscriber fell so far behind that events were
	// merged and then dropped; Key is zero. Read what you need from the
	// Store again: nothing after this event is missing.
	EventOverflow
)

var eventKindNames = [...]string{"", "added", "updated", "removed", "overflow"}

// String names the kind: "added", "updated", "removed" or "overflow".
func (k EventKind) String() string {
	if int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "EventKind(?)"
}

// A Cause says what made a change a subscriber hears of. Causes are
// bits, so that merged events (see SubscribeOptions.Buffer) keep them
// all: test one with Has.
type Cause uint8

const (
	// CauseLocal: a change made here that the backend has not confirmed:
	// Create, an edit, Delete, Rollback, or a save starting or failing.
	CauseLocal Cause = 1 << iota
	// CausePush: data from outside: Push, PushPayload, or the answer to a
	// load (Find, FindMany, FindAll, Query, a link, included records).
	CausePush
	// CauseSave: a save the backend confirmed, with what its answer
	// carried; a deletion saved is an EventRemoved of this cause.
	CauseSave
	// CauseUnload: Unload or UnloadAll.
	CauseUnload
	// CauseEvict: the Store's bounds (Options.MaxRecords, MaxBytes)
	// unloaded the record.
	CauseEvict
	// CauseRestore: Store.Restore loaded the record from a snapshot.
	CauseRestore
)

var causeLabels = [...]string{"local", "push", "save", "unload", "evict", "restore"}

// Has reports whether c includes every bit of want.
func (c Cause) Has(want Cause) bool { return c&want == want && want != 0 }

// String names the causes, joined by "|": "push", "local|save".
func (c Cause) String() string {
	if c == 0 {
		return "none"
	}
	var out []byte
	for i, name := range causeLabels {
		if c&(1<<i) != 0 {
			if len(out) > 0 {
				out = append(out, '|')
			}
			out = append(out, name...)
		}
	}
	if c>>len(causeLabels) != 0 {
		if len(out) > 0 {
			out = append(out, '|')
		}
		out = append(out, "Cause(?)"...)
	}
	return string(out)
}

// An Event tells a subscriber that one record changed. A push, an edit or
// a save that changes records sends one batch of Events, after the change
// is published, so a subscriber reading the Store sees at least that
// state; a change that changes nothing sends nothing.
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// Key is the record.
	Key Key
	// State reports that the record's State changed (a save started or
	// ended, a local change was made or dropped, errors came or went); for
	// EventAdded, that it is not StatusLoaded (a record created here).
	State bool
	// Cause says what made the change: one Cause bit, or several when a
	// subscriber that fell behind gets events of one record merged.
	Cause Cause

	// What changed, as bits by the model's attribute and relationship
	// indexes: an event costs no allocation until its names are asked for.
	t           *table
	attrs, rels bitset
}

// Attrs names the attributes whose values changed (every attribute that
// is not its zero value, for EventAdded), in the model's order.
func (ev Event) Attrs() []string { return ev.names(&ev.attrs, true) }

// Rels names the relationships whose members changed, in the model's
// order.
func (ev Event) Rels() []string { return ev.names(&ev.rels, false) }

// Changed reports whether the attribute or relationship name changed.
func (ev Event) Changed(name string) bool {
	if ev.t == nil {
		return false
	}
	if i, ok := ev.t.attrIdx[name]; ok {
		return ev.attrs.has(i)
	}
	if i, ok := ev.t.relIdx[name]; ok {
		return ev.rels.has(i)
	}
	return false
}

func (ev Event) names(b *bitset, attrs bool) []string {
	if ev.t == nil || b.empty() {
		return nil
	}
	var out []string
	if attrs {
		for i := range ev.t.attrs {
			if b.has(i) {
				out = append(out, ev.t.attrs[i].name)
			}
		}
	} else {
		for i := range ev.t.rels {
			if b.has(i) {
				out = append(out, ev.t.rels[i].name)
			}
		}
	}
	return out
}

// SubscribeOptions say which changes a subscription receives. The zero
// value, or nil, subscribes to every record of every type.
type SubscribeOptions struct {
	// Type, if not empty, limits the subscription to records of this
	// model type.
	Type string
	// Key, if not zero, limits it to this one record (Type is then
	// ignored).
	Key Key
	// Buffer caps the events waiting for the subscriber; <= 0 means
	// DefaultSubscribeBuffer. When it is full, waiting events of one
	// record are merged into one; when they are all of distinct records,
	// they are dropped and the subscriber gets one EventOverflow instead.
	Buffer int
}

// DefaultSubscribeBuffer is the number of events a subscription holds for
// a subscriber that has not taken them yet.
const DefaultSubscribeBuffer = 4096

// A Subscription delivers a Store's changes to one function. Its methods
// are safe for concurrent use, from the function itself too.
type Subscription struct {
	s      *Store
	fn     func([]Event)
	filter SubscribeOptions
	max    int

	mu      sync.Mutex
	queue   []Event
	over    bool // events were dropped since the last delivery
	running bool // a goroutine is delivering
	closed  atomic.Bool
	// enqueued counts the batches enqueued; done, those whose delivery
	// ended (fn returned, or they were merged into one that did);
	// progress is closed, and replaced, whenever done moves or the
	// subscription closes (see Drain).
	enqueued, done uint64
	progress       chan struct{}
}

// Subscribe calls fn with each batch of changes to the records opts
// selects, in the order the changes were published, one batch at a time.
//
// fn runs on a goroutine of the Store's, never under its lock, so it may
// read the Store, change it, and Close its own Subscription; as
// OnBackgroundError, it must not call Store.Close or Wait, which wait for
// it (close the Store from another goroutine). A change
// never waits for fn: events wait in a bounded buffer (see
// SubscribeOptions.Buffer) beyond the batch being delivered, and a
// subscriber that falls behind gets merged events and, at worst, an
// EventOverflow telling it to read the Store again; events are never
// dropped without one. Store.Close delivers the batches of changes
// published before it; changes made after it send nothing.
// Subscription.Close drops the batches still waiting (Drain first to
// have them). A panic in fn is
// recovered and reported (ReportPanic, see Options.OnReport); later
// batches are still delivered. After Store.Close returns, fn is not
// running and is not called again.
//
// Callbacks rather than channels: a channel would make the Store either
// block on a slow reader or drop, and it hands the reader the job of
// draining it after unsubscribing; a function lets the Store own the
// buffer, the merging and the goroutine, and Close waits for it.
func (s *Store) Subscribe(opts *SubscribeOptions, fn func([]Event)) *Subscription {
	sub := &Subscription{s: s, fn: fn, max: DefaultSubscribeBuffer}
	if opts != nil {
		sub.filter = *opts
		if opts.Buffer > 0 {
			sub.max = opts.Buffer
		}
	}
	// Under the Store's lock, so that no change is half published: the
	// subscription sees every change after the one a read made now sees.
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if s.life.Err() != nil {
		sub.closed.Store(true)
		return sub
	}
	list := append(slices.Clone(s.subscribersList()), sub)
	s.subs.Store(&list)
	return sub
}

// Subscribe calls fn with each batch of changes to this model's records;
// see [Store.Subscribe].
func (m *Model[T]) Subscribe(fn func([]Event)) *Subscription {
	return m.s.Subscribe(&SubscribeOptions{Type: m.t.name}, fn)
}

// Close ends the subscription: fn is not called with batches published
// afterwards, nor with those still waiting (call Drain first to have
// them). A batch being delivered finishes. Close may be called from fn,
// and more than once.
func (sub *Subscription) Close() {
	if sub.closed.Swap(true) {
		return
	}
	s := sub.s
	s.subMu.Lock()
	list := slices.DeleteFunc(slices.Clone(s.subscribersList()), func(x *Subscription) bool { return x == sub })
	s.subs.Store(&list)
	s.subMu.Unlock()
	sub.mu.Lock()
	sub.queue = nil
	sub.advance(sub.enqueued)
	sub.mu.Unlock()
}

func (s *Store) subscribersList() []*Subscription {
	if l := s.subs.Load(); l != nil {
		return *l
	}
	return nil
}

// wants reports whether sub receives events about k.
func (sub *Subscription) wants(k Key) bool {
	f := &sub.filter
	switch {
	case !f.Key.IsZero():
		return f.Key == k
	case f.Type != "":
		return f.Type == k.Type
	}
	return true
}

// notify hands a published batch to every subscription that wants some
// of it. Called at the end of a commit's publish, with Store.mu held: it
// only queues, and starts a delivery goroutine where none runs. The batch
// and its per-type parts are made once and shared, read-only, by every
// subscription that takes them, so a hundred subscribers to a type cost
// a hundred appends, not a hundred copies.
func (s *Store) notify(events []Event) {
	var byType map[string][]Event
	for _, sub := range s.subscribersList() {
		f := &sub.filter
		switch {
		case !f.Key.IsZero():
			for i := range events {
				if events[i].Key == f.Key {
					sub.enqueue(events[i : i+1 : i+1])
				}
			}
		case f.Type != "":
			if byType == nil {
				byType = map[string][]Event{}
				for i := range events {
					byType[events[i].Key.Type] = append(byType[events[i].Key.Type], events[i])
				}
			}
			if mine := byType[f.Type]; len(mine) > 0 {
				sub.enqueue(mine[:len(mine):len(mine)])
			}
		default:
			sub.enqueue(events[:len(events):len(events)])
		}
	}
}

// enqueue adds events to sub's buffer, merging and then dropping (with an
// overflow mark) when it is full.
func (sub *Subscription) enqueue(events []Event) {
	if sub.closed.Load() || sub.s.life.Err() != nil {
		return // after Close nothing is delivered, and no goroutine starts
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sub.enqueued++
	if len(sub.queue) == 0 && !sub.over {
		// Nothing waits: the batch is taken whole, however large (a push
		// is bounded by MaxResources); the buffer bounds what waits
		// beyond it.
		sub.queue = events // shared and read-only: appends below copy it
	} else {
		sub.queue = append(sub.queue, events...)
		if len(sub.queue) > sub.max {
			sub.queue = mergeEvents(sub.queue)
		}
		if len(sub.queue) > sub.max {
			sub.queue = nil // (never [:0]: the array may be a shared batch)
			sub.over = true
		}
	}
	if sub.running {
		return
	}
	s := sub.s
	s.subWG.Add(1)
	sub.running = true
	go sub.deliver()
}

// deliver runs the subscriber on its batches until none is waiting.
func (sub *Subscription) deliver() {
	defer sub.s.subWG.Done()
	for {
		sub.mu.Lock()
		batch := sub.queue
		if sub.over {
			batch = append([]Event{{Kind: EventOverflow}}, batch...)
			sub.over = false
		}
		sub.queue = nil
		taken := sub.enqueued
		// After Close nothing more is delivered (a batch under way ends);
		// Store.Close waits for what was published before it.
		if len(batch) == 0 || sub.closed.Load() {
			sub.running = false
			sub.advance(taken)
			sub.mu.Unlock()
			return
		}
		sub.mu.Unlock()
		if err := recovering("Subscribe", func() error { sub.fn(batch); return nil }); err != nil {
			sub.s.deliver(Report{Kind: ReportPanic, Message: "subscriber panicked", Count: 1, Err: err})
		}
		sub.mu.Lock()
		sub.advance(taken)
		sub.mu.Unlock()
	}
}

// advance records that the batches up to n were delivered, under sub.mu.
func (sub *Subscription) advance(n uint64) {
	sub.done = max(sub.done, n)
	if sub.progress != nil {
		close(sub.progress)
		sub.progress = nil
	}
}

// Drain waits until fn has returned from every batch of changes published
// before the call, or the subscription is closed, or ctx ends (then it
// returns ctx's error). It is for tests and orderly shutdowns: a
// subscriber that forwards changes elsewhere drains before it closes.
// It must not be called from fn, which would wait for itself.
func (sub *Subscription) Drain(ctx context.Context) error {
	sub.mu.Lock()
	target := sub.enqueued
	for sub.done < target && !sub.closed.Load() {
		if sub.progress == nil {
			sub.progress = make(chan struct{})
		}
		ch := sub.progress
		sub.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		sub.mu.Lock()
	}
	sub.mu.Unlock()
	return nil
}

// mergeEvents merges the events of each record into one, keeping the
// order of first appearance.
func mergeEvents(events []Event) []Event {
	at := make(map[Key]int, len(events))
	out := events[:0:0]
	for _, ev := range events {
		i, ok := at[ev.Key]
		if !ok || ev.Kind == EventOverflow {
			at[ev.Key] = len(out)
			out = append(out, ev)
			continue
		}
		m := &out[i]
		switch {
		case ev.Kind == EventRemoved:
			m.Kind = EventRemoved
		case m.Kind == EventRemoved && ev.Kind == EventAdded:
			m.Kind = EventUpdated // gone and back: read it again
		}
		m.attrs = m.attrs.union(ev.attrs)
		m.rels = m.rels.union(ev.rels)
		m.State = m.State || ev.State
		m.Cause |= ev.Cause
	}
	return out
}

// events returns what the commit changed, for subscribers: records first
// in the order c.first lists them (a push's document order), then the
// others it touched (inverse sides) in the order it touched them.
func (c *commit) events() []Event {
	out := make([]Event, 0, len(c.drafts))
	done := make(map[*entry]bool, len(c.first))
	for _, e := range c.first {
		if e == nil {
			continue // a resource the ordering guard left out
		}
		if d := e.draft; d != nil && !done[e] {
			done[e] = true
			if ev, ok := d.event(c.cause); ok {
				out = append(out, ev)
			}
		}
	}
	for _, d := range c.drafts {
		if done[d.e] {
			continue
		}
		if ev, ok := d.event(c.cause); ok {
			out = append(out, ev)
		}
	}
	return out
}

// event describes what d changes, if anything a subscriber would see.
func (d *draft) event(cause Cause) (Event, bool) {
	t := d.t
	was, is := d.base.listed(), !d.drop && d.v.listed()
	ev := Event{Key: d.key(), t: t, Cause: cause}
	switch {
	case !was && !is:
		return ev, false
	case !was:
		ev.Kind = EventAdded
	case !is:
		ev.Kind = EventRemoved
		return ev, true
	default:
		ev.Kind = EventUpdated
	}
	if d.v == d.base {
		return ev, ev.Kind != EventUpdated
	}
	var bv unsafe.Pointer
	if was {
		bv = d.base.val
	}
	if bv != d.v.val {
		for i := range t.attrs {
			a := &t.attrs[i]
			if bv == nil {
				if !a.equal(unsafe.Add(d.v.val, a.off), unsafe.Add(t.zero, a.off)) {
					ev.attrs.add(i)
				}
			} else if !a.equal(unsafe.Add(bv, a.off), unsafe.Add(d.v.val, a.off)) {
				ev.attrs.add(i)
			}
		}
	}
	for ri := range t.rels {
		if !sameRel(d.base.rel(ri), d.v.rel(ri)) {
			ev.rels.add(ri)
		}
	}
	before := stateOf(d.base)
	if !was {
		before = State{Status: StatusLoaded} // an added record's State is news only if it is not that
	}
	ev.State = !sameState(before, stateOf(d.v))
	if ev.Kind == EventUpdated && ev.attrs.empty() && ev.rels.empty() && !ev.State {
		return ev, false
	}
	return ev, true
}

// sameState reports whether two States read the same.
func sameState(a, b State) bool {
	if a.Status != b.Status || a.Saving != b.Saving || a.Err != b.Err || len(a.Errors) != len(b.Errors) {
		return false
	}
	for k, msgs := range a.Errors {
		if !slices.Equal(msgs, b.Errors[k]) {
			return false
		}
	}
	return true
}
