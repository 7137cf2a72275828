package recstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// maxRelatedCalls caps the adapter calls one LoadRelated starts at once
// for members the Store lacks; the others wait their turn in a queue.
const maxRelatedCalls = 8

// relKey names one relationship of one record: what concurrent link loads
// share.
type relKey struct {
	k    Key
	name string
}

// LoadRelated loads the relationship name of the record k from the
// backend, and returns it as [Store.Related] reads it afterwards: Ember
// Data's findHasMany and findBelongsTo, as a reference's reload does them.
// A []*S or *S field read from the Store leaves out related records it
// does not hold; after LoadRelated it holds them all, unless the backend
// left some out (then LoadRelated fails).
//
// When the relationship has a related link (Related.Links["related"],
// read with [Href]) and the Adapter of k's type is a [LinkFinder],
// LoadRelated calls FindLink with a Request whose Type and ID are k's,
// Relationship is name and Link is the link. The answer is normalized by
// the Serializer of the related model, or the application's for
// relations that may hold more than one type (Key, []Key, and interface
// relations, which are polymorphic), and pushed; its primary data becomes
// the relationship, which is then known: a to-many gets the data's
// records in order, a to-one its one record, or null. Declared inverses
// are kept in step as by any push. The answer's top-level meta and links,
// when present, replace the relationship's, as in Ember Data, except that
// the related link followed stays when the answer's links have none. A
// paginated to-many answer sets the relationship to its first page only,
// as in Ember Data: nothing follows its next link, which Related.Links
// keeps when the answer's links carry it. An answer of the wrong shape (an
// array for a to-one, a single resource or null for a to-many) pushes
// nothing and fails with an *[AdapterError] wrapping ErrBadResponse, as
// Find's does; one holding a record of a type the relationship cannot
// hold with an *AdapterError holding a *[DocumentError]
// (ErrInvalidDocument). An answer that
// lands after k was unloaded, even if k was pushed again meanwhile (the
// answer is to the old record's link), pushes nothing and fails with
// ErrNotLoaded; pushes that only update k do not fail it. A related
// member that gives no usable href ("", a number, an object without a
// string href) fails with an *AdapterError (Op "FindLink") wrapping
// ErrBadResponse, and nothing is asked for; a null one is no link, as in
// JSON:API.
//
// Without a related link, or without a LinkFinder, LoadRelated loads the
// members the Store does not hold: per type, with FindMany calls of at
// most 100 ids (Options.Coalesce's MaxBatch, split further by a
// [ManyGrouper]) when the member type's Adapter is a [ManyFinder], else
// one FindRecord per member. One LoadRelated makes at most 8 of these
// calls at once, whatever the number of members; the others wait their
// turn, and one whose callers have all gone is never made. Members the
// answer leaves out fail the call with an error wrapping ErrNotFound
// (with more than one failure, "recstore: N of M related records failed
// to load", wrapping the first); the others are pushed. These loads are
// shared with Finds of the same records. A relationship with nothing to
// load returns at once with a nil error: one never pushed with data or a
// related link stays unknown (Related.Known false). One with only a link
// the Adapter cannot follow fails with ErrNotSupported (or ErrNoAdapter).
//
// Concurrent LoadRelated calls for one relationship share one adapter
// call, with the same rules as [Store.Find]: each caller stops waiting
// when its own ctx is done, the call is cancelled only when every caller
// has gone, and Close cancels it. The call runs on a goroutine the Store
// owns: a panic in the Adapter, or in the Serializer or other user code
// that pushing its answer runs, reaches every caller as an error wrapping
// a *PanicError, and the Store is left as it was.
//
// It fails with an error wrapping ErrUnknownType or
// ErrUnknownRelationship for names no model defines, and one wrapping
// ErrNotLoaded when the Store does not hold k, before the load or after it.
func (s *Store) LoadRelated(ctx context.Context, k Key, name string) (Related, error) {
	t := s.lookupType(k.Type)
	if t == nil {
		return Related{}, fmt.Errorf("%w %q", ErrUnknownType, k.Type)
	}
	ri, ok := t.relIdx[name]
	if !ok {
		return Related{}, fmt.Errorf("%w %q of type %q", ErrUnknownRelationship, name, k.Type)
	}
	if err := s.loadRelated(ctx, t, k.ID, ri); err != nil {
		return Related{}, err
	}
	r, ok := s.Related(k, name)
	if !ok {
		return Related{}, fmt.Errorf("%w: load %s of %v: unloaded meanwhile", ErrNotLoaded, name, k)
	}
	return r, nil
}

// LoadRelated loads the relationship name of the record id as
// [Store.LoadRelated] does, and returns the record as [Model.Peek] reads
// it afterwards, with that relation filled.
func (m *Model[T]) LoadRelated(ctx context.Context, id, name string) (T, error) {
	var zero T
	ri, ok := m.t.relIdx[name]
	if !ok {
		return zero, fmt.Errorf("%w %q of type %q", ErrUnknownRelationship, name, m.t.name)
	}
	if err := m.s.loadRelated(ctx, m.t, id, ri); err != nil {
		return zero, err
	}
	out, ok := m.Peek(id)
	if !ok {
		return zero, fmt.Errorf("%w: load %s of %s:%s: unloaded meanwhile", ErrNotLoaded, name, m.t.name, id)
	}
	return out, nil
}

// loadRelated loads relationship ri of t/id through its related link, or
// else loads its members that the Store does not hold.
func (s *Store) loadRelated(ctx context.Context, t *table, id string, ri int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &t.rels[ri]
	k := Key{t.name, id}
	var e *entry
	var v *version
	var keys []Key
	s.consistent(func() {
		keys = nil
		if e = t.entry(id); e == nil {
			v = nil
			return
		}
		if v = e.cur.Load(); v != nil && v.val == nil {
			v = nil
		}
		if v != nil {
			st := v.rel(ri)
			keys = st.many
			if !r.many && !st.one.IsZero() {
				keys = []Key{st.one}
			}
		}
	})
	if v == nil {
		return fmt.Errorf("%w: load %s of %v", ErrNotLoaded, r.name, k)
	}
	href, hasLink := relatedHref(t.relLinksMeta(id, ri).links)
	if hasLink && href == "" {
		return &AdapterError{Op: "FindLink", Type: t.name, ID: id, Err: fmt.Errorf(
			"%w: the related link of relationship %q has no usable href", ErrBadResponse, r.name)}
	}
	ad := s.adapterFor(t)
	if lf, ok := capability[LinkFinder](ad); ok && href != "" {
		return s.followLink(ctx, t, e, ri, id, href, lf)
	}
	if href != "" && !v.rel(ri).known {
		// A link this Adapter cannot follow, and no data to go by.
		err := ErrNotSupported
		if ad == nil {
			err = ErrNoAdapter
		}
		return &AdapterError{Op: "FindLink", Type: t.name, ID: id, Err: err}
	}
	return s.loadMembers(ctx, keys)
}

// followLink loads relationship ri of t/id through its related link,
// sharing the call with concurrent loads of the same relationship.
func (s *Store) followLink(ctx context.Context, t *table, e *entry, ri int, id, href string, lf LinkFinder) error {
	rk := relKey{Key{t.name, id}, t.rels[ri].name}
	s.flightMu.Lock()
	if s.life.Err() != nil {
		s.flightMu.Unlock()
		return ErrClosed
	}
	f := s.relFlights[rk]
	if f == nil {
		f = &flight{done: make(chan struct{})}
		// As in fetch: the call keeps the first caller's values, not its
		// cancellation, and ends with the Store.
		fctx, cancel := s.callContext(ctx, false)
		f.cancel = cancel
		if s.relFlights == nil {
			s.relFlights = map[relKey]*flight{}
		}
		s.relFlights[rk] = f
		s.running++
		go func() {
			err := s.loadLink(fctx, t, e, ri, id, href, lf)
			cancel()
			s.flightMu.Lock()
			if s.relFlights[rk] == f {
				delete(s.relFlights, rk)
			}
			if err != nil && s.life.Err() != nil && errors.Is(err, context.Canceled) {
				err = ErrClosed
			}
			f.err = err
			close(f.done)
			s.running--
			s.idle.Broadcast()
			s.flightMu.Unlock()
		}()
	}
	f.waiters++
	s.flightMu.Unlock()
	return s.await(ctx, []*flight{f}, func(int) {
		if s.relFlights[rk] == f {
			delete(s.relFlights, rk)
		}
	})
}

// loadLink makes one FindLink call and pushes its answer as the state of
// relationship ri of t/id, all or nothing, provided e still holds the
// record.
func (s *Store) loadLink(ctx context.Context, t *table, e *entry, ri int, id, href string, lf LinkFinder) error {
	r := &t.rels[ri]
	fail := func(err error) error { return &AdapterError{Op: "FindLink", Type: t.name, ID: id, Err: err} }
	var payload []byte
	req := s.beginLoad(&Request{Type: t.name, ID: id, Relationship: r.name, Link: href, store: s})
	defer s.endLoad(req)
	err := recovering("FindLink", func() (err error) {
		return s.calling(ctx, "FindLink", t.name, func() (err error) {
			payload, err = lf.FindLink(ctx, req)
			return err
		})
	})
	if err = s.answered(ctx, err); err != nil {
		return fail(err)
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return fail(fmt.Errorf("%w: the response to %s is empty", ErrNotFound, href))
	}
	typ := "" // Key and []Key relations may hold any type: the application's serializer
	if tt := r.target.Load(); tt != nil {
		typ = tt.name
	}
	err = recovering("PushPayload", func() error {
		return s.pushPayloadWith(typ, payload, nil, func(doc *Document) error {
			if err := s.answered(ctx, nil); err != nil {
				return err
			}
			return relate(doc, t, e, ri, id, href)
		}, req.withAge(), nil)
	})
	if err != nil {
		// The relationship's data was the answer's primary data: point
		// there.
		var de *DocumentError
		prefix := "/data/relationships/" + escapePointer(r.name) + "/data"
		if errors.As(err, &de) && strings.HasPrefix(de.Pointer, prefix) {
			de.Pointer = "/data" + de.Pointer[len(prefix):]
		}
		return fail(err)
	}
	return nil
}

// relate turns doc, the answer to relationship ri's related link, into the
// document to push: its primary records become included ones, and its
// primary data the relationship's data, on a resource that names the
// owner t/id and nothing else of it. The push then checks the data's
// types and keeps inverses in step, as for any push; doc's guard fails it
// unless e, the owner's entry when the load began, still holds the record:
// an owner unloaded meanwhile is not created anew, and one unloaded and
// pushed again is a new record (Unload drops the entry; a push after it
// makes another), which an answer to the old one's link must not change.
// Pushes that only update the owner keep its entry and do not fail it.
func relate(doc *Document, t *table, e *entry, ri int, id, href string) error {
	r := &t.rels[ri]
	switch {
	case r.many && !doc.Many && len(doc.Data) == 0:
		return fmt.Errorf("%w: the related link of to-many relationship %q answered null, not an array", ErrBadResponse, r.name)
	case r.many && !doc.Many:
		return fmt.Errorf("%w: the related link of to-many relationship %q answered a single resource, not an array", ErrBadResponse, r.name)
	case !r.many && doc.Many:
		return fmt.Errorf("%w: the related link of to-one relationship %q answered an array, not a single resource or null", ErrBadResponse, r.name)
	}
	keys := make([]Key, len(doc.Data))
	for i, res := range doc.Data {
		if res == nil {
			return fmt.Errorf("%w: the answer holds a nil resource", ErrInvalidDocument)
		}
		keys[i] = Key{res.Type, res.ID}
	}
	rel := &Relationship{Data: keys, Many: r.many, Meta: doc.Meta, Links: doc.Links}
	if doc.Links != nil && Href(doc.Links, "related") == "" {
		rel.Links = maps.Clone(doc.Links)
		rel.Links["related"] = href
	}
	doc.Included = append(doc.Included, doc.Data...) // data merges over included, as before
	doc.Data = []*Resource{{Type: t.name, ID: id, Relationships: map[string]*Relationship{r.name: rel}}}
	doc.Many = false
	doc.guard = func() error {
		// Called with Store.mu held, which Unload and pushes take too.
		if t.entry(id) != e || !e.loaded() {
			return fmt.Errorf("%w: load %s of %s:%s: unloaded meanwhile", ErrNotLoaded, r.name, t.name, id)
		}
		return nil
	}
	return nil
}

// loadMembers loads the records of keys that the Store does not hold, per
// type: with one batch, sent as coalesced Finds are (FindMany calls split
// by MaxBatch and a ManyGrouper), when the type's Adapter is a
// ManyFinder, else one FindRecord each. A member a flight is loading
// already is waited for, not asked for again.
func (s *Store) loadMembers(ctx context.Context, keys []Key) error {
	type group struct {
		t   *table
		ad  Adapter
		ids []string
	}
	var groups []*group
	byType := map[*table]*group{}
	seen := map[Key]bool{}
	for _, mk := range keys {
		tt := s.lookupType(mk.Type)
		if tt == nil || seen[mk] || tt.loaded(mk.ID) != nil {
			continue
		}
		seen[mk] = true
		g := byType[tt]
		if g == nil {
			g = &group{t: tt, ad: s.adapterFor(tt)}
			if g.ad == nil {
				return &AdapterError{Op: "FindRecord", Type: tt.name, ID: mk.ID, Err: ErrNoAdapter}
			}
			byType[tt] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, mk.ID)
	}
	if len(groups) == 0 {
		return nil
	}
	var fs []*flight
	var fkeys []Key
	s.flightMu.Lock()
	if s.life.Err() != nil {
		s.flightMu.Unlock()
		return ErrClosed
	}
	if s.flights == nil {
		s.flights = map[Key][]*flight{}
	}
	// One limiter for the call, whatever the members' types: the calls
	// queued behind it are the ones no other caller asked for yet.
	lim := &limiter{n: maxRelatedCalls}
	for _, g := range groups {
		mf, _ := capability[ManyFinder](g.ad)
		b := &batch{t: g.t, ad: g.ad, mf: mf, ctx: context.WithoutCancel(ctx), lim: lim}
		for _, id := range g.ids {
			mk := Key{g.t.name, id}
			var f *flight
			if fl := s.flights[mk]; len(fl) > 0 {
				f = fl[0] // any flight of the record loads it
			} else if g.t.loaded(id) != nil {
				continue // a flight landed it since we looked
			} else {
				f = &flight{done: make(chan struct{})}
				f.cancel = func() { f.waiters = -1 } // dropped from the batch, as in coalesce
				s.flights[mk] = append(s.flights[mk], f)
				b.items = append(b.items, batchItem{id, f})
			}
			f.waiters++
			fs = append(fs, f)
			fkeys = append(fkeys, mk)
		}
		switch {
		case len(b.items) == 0:
		case mf != nil:
			s.running++ // send counts down, as after coalesce
			go s.send(b)
		default:
			for _, it := range b.items {
				s.queueLoads(lim, groupLoad{b, []string{it.id}, []*flight{it.f}})
			}
		}
	}
	s.flightMu.Unlock()
	return s.await(ctx, fs, func(i int) { s.unlist(fkeys[i], fs[i]) })
}

// await waits for the flights fs, which the caller has joined (counted in
// their waiters) under flightMu, as fetch waits for one: until each has
// landed, or until ctx is done. A caller that leaves stops counting, and a
// flight every caller has left is cancelled, unless a background reload
// keeps it, and unlisted (unlist(i) removes fs[i] from where later
// callers would join it; called with flightMu held). await returns ctx's
// error, or the flights' first error.
func (s *Store) await(ctx context.Context, fs []*flight, unlist func(i int)) error {
	for i, f := range fs {
		select {
		case <-f.done:
		case <-ctx.Done():
			s.flightMu.Lock()
			for j := i; j < len(fs); j++ {
				g := fs[j]
				if isDone(g) {
					continue
				}
				g.waiters--
				if g.waiters == 0 && !g.keep {
					g.cancel()
					unlist(j)
				}
			}
			s.flightMu.Unlock()
			return ctx.Err()
		}
	}
	var first error
	failed := 0
	for _, f := range fs {
		if f.err != nil {
			if failed++; first == nil {
				first = f.err
			}
		}
	}
	if failed > 1 {
		return fmt.Errorf("recstore: %d of %d related records failed to load; the first: %w", failed, len(fs), first)
	}
	return first
}

// relatedHref reads the related member of a relationship's stored links
// object, and nothing else of it: its href, and whether links has a
// related member at all. A null member is none, as JSON:API's null link
// is; one that gives no href (a number, "", an object without a string
// href) is present with an empty href, which the caller rejects.
func relatedHref(links string) (href string, present bool) {
	if links == "" {
		return "", false
	}
	var m map[string]json.RawMessage // the other members stay unparsed bytes
	if json.Unmarshal([]byte(links), &m) != nil {
		return "", false
	}
	raw, ok := m["related"]
	if !ok || string(raw) == "null" {
		return "", false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", true
	}
	return Href(map[string]any{"related": v}, "related"), true // one rule for a link's two forms
}
