package recstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"unsafe"
)

// FindOptions control [Store.Find] and [Store.FindAll]. The zero value
// follows the Adapter's ReloadPolicy.
type FindOptions struct {
	// Reload says whether a record the Store holds is fetched again
	// before the call returns. ReloadDefault asks ShouldReloadRecord (or,
	// for FindAll, ShouldReloadAll).
	Reload Reload
	// BackgroundReload says whether a record returned from the cache is
	// fetched again in the background. ReloadDefault asks
	// ShouldBackgroundReloadRecord (or ShouldBackgroundReloadAll).
	BackgroundReload Reload
	// Include names related records the backend should send with the
	// record, passed to the Adapter in Request.Include.
	Include []string
}

// flight is one adapter call that any number of Finds of one record wait
// for. The Store's flightMu guards waiters and the Store's list of flights.
type flight struct {
	done    chan struct{} // closed once err is set
	err     error
	include []string
	waiters int  // Finds still waiting; at 0 the call is cancelled
	keep    bool // a background reload: not cancelled when waiters leave
	cancel  context.CancelFunc
	// bgJoined is 1 when a background reload started or joined the
	// flight: Wait waits for it and its error is reported.
	bgJoined int
	// invalidated says Invalidate named the record while the flight was
	// under way: what it lands may predate the change, and stays marked.
	// Guarded by flightMu.
	invalidated bool
	// v is the record's version as the flight's answer left it, read
	// before anything else could change it, so that its callers get the
	// record they loaded even if a bound evicts it meanwhile; set before
	// done is closed.
	v *version
}

// Find returns the record k, as its model's Go type (a T, not a *T). A
// record the Store holds is returned at once unless opts or the Adapter's
// ReloadPolicy ask for a fresh copy, and may be refreshed in the
// background after; it is read as Peek reads it, with its *S and []*S
// relations, from one state of the Store. A record it lacks is loaded
// with the type's Adapter, normalized by the type's Serializer and
// pushed, all or nothing, before Find returns. A failed first load leaves
// no trace in the Store; one that every caller has left, or that Close
// cancelled, stops before its answer is pushed. The answer's primary data
// must be the record asked for: null or no data is ErrNotFound, another
// record ErrWrongRecord, and an array, even of that one record,
// ErrBadResponse (an answer a RESTSerializer normalized, itself or through
// a serializer that wraps it, may be an array that holds it, as Ember
// Data's RESTSerializer allows).
//
// The adapter call runs on a goroutine the Store owns: a panic in it, or
// in the Serializer or other user code that pushing its answer runs,
// reaches every caller waiting on it as an error wrapping a *PanicError,
// and the Store is left as it was.
//
// Concurrent Finds of one record share one adapter call, when the later
// ones' Include lists are subsets of the first's. Each caller stops
// waiting when its own ctx is done, and gets ctx's error; the shared call
// is cancelled only when every caller has gone, so no caller's
// cancellation fails another's Find. The call runs with the first
// caller's context values (not its deadline): a Store is one principal's
// cache, so do not share one between users whose credentials an Adapter
// reads from the context.
// Use [Model.Find] for typed access.
func (s *Store) Find(ctx context.Context, k Key, opts *FindOptions) (any, error) {
	t := s.lookupType(k.Type)
	if t == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, k.Type)
	}
	var p unsafe.Pointer
	hit, err := s.find(ctx, t, k.ID, opts, func(v *version) {
		if p == nil {
			p = t.newValue()
		}
		t.read(v, p, true)
	})
	if err != nil {
		return nil, err
	}
	if hit {
		return reflect.NewAt(t.goType, p).Elem().Interface(), nil
	}
	v, ok := s.Peek(Key{t.name, k.ID})
	if !ok {
		return nil, fmt.Errorf("find %v: unloaded meanwhile: %w", k, ErrNotLoaded)
	}
	return v, nil
}

// Find returns the record id as [Store.Find] does.
func (m *Model[T]) Find(ctx context.Context, id string, opts *FindOptions) (out T, err error) {
	t := m.t
	hit, err := m.s.find(ctx, t, id, opts, func(v *version) {
		if t.clones == nil && !t.fills {
			out = *(*T)(v.val) // as Peek's fast path, straight into the result
			if len(t.rels) > 0 {
				t.fillKeys(v, unsafe.Pointer(&out))
			}
			return
		}
		out = m.value(v, true)
	})
	if err != nil || hit {
		return out, err
	}
	out, ok := m.Peek(id)
	if !ok {
		return out, fmt.Errorf("find %s:%s: unloaded meanwhile: %w", t.name, id, ErrNotLoaded)
	}
	return out, nil
}

// find makes sure the record t/id is loaded as opts ask, and starts a
// background reload when they or the policy say so. When the answer is
// the record as the Store already held it, find calls read with its
// version and reports a hit; read may run more than once and must have
// no effect beyond its result. On a miss the caller reads the record the
// load pushed.
func (s *Store) find(ctx context.Context, t *table, id string, opts *FindOptions, read func(*version)) (hit bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if e := t.aliased(id); e != nil {
		id = e.id // a local identifier names a record that has an id now
	}
	e, v := t.peekEntry(id)
	if v != nil && v.st != nil && (v.st.isNew || v.st.gone) {
		// Created here and not saved, or deleted there: the backend has
		// nothing to reload.
		t.stats.hits.Add(1)
		s.readHit(t, id, v, read)
		return true, nil
	}
	if v != nil && opts != nil && opts.Reload == ReloadNever && opts.BackgroundReload == ReloadNever {
		t.stats.hits.Add(1)
		s.readHit(t, id, v, read) // the cheapest hit: no policy to ask
		return true, nil
	}
	var o FindOptions
	if opts != nil {
		o = *opts
	}
	if id == "" {
		return false, fmt.Errorf("find %s: %w: empty id", t.name, ErrNotFound)
	}
	ad := s.adapterFor(t)
	if v == nil {
		t.stats.misses.Add(1)
		if ad == nil {
			return false, &AdapterError{Op: "FindRecord", Type: t.name, ID: id, Err: ErrNoAdapter}
		}
		v, err := s.fetch(ctx, t, ad, id, o.Include, false, true)
		return s.fetched(t, id, v, err, read)
	}
	if ad == nil || o.Reload == ReloadNever && o.BackgroundReload == ReloadNever {
		t.stats.hits.Add(1)
		s.readHit(t, id, v, read)
		return true, nil
	}
	var reload, background bool
	if exp := t.expiryOf(); exp != nil || e.meta.Load()&metaInvalid != 0 {
		// A time-based policy, or a record marked stale under any policy.
		f := t.freshness(e, s.now())
		reload, background = f.Expired, f.Stale
	} else {
		policy := policyOf(ad)
		snap := s.lazySnapshot(t, id)
		reload = o.Reload == ReloadDefault && policy.ShouldReloadRecord(snap)
		background = !reload && o.BackgroundReload == ReloadDefault && policy.ShouldBackgroundReloadRecord(snap)
	}
	switch o.Reload {
	case ReloadAlways:
		reload = true
	case ReloadNever:
		reload = false
	}
	if reload {
		t.stats.misses.Add(1)
		v, err := s.fetch(ctx, t, ad, id, o.Include, false, false)
		return s.fetched(t, id, v, err, read)
	}
	switch o.BackgroundReload {
	case ReloadAlways:
		background = true
	case ReloadNever:
		background = false
	}
	// The answer is the record as it is before the reload starts, even if
	// the reload lands before the caller looks at it.
	s.readHit(t, id, v, read)
	if background {
		t.stats.staleHits.Add(1)
		_, _ = s.fetch(ctx, t, ad, id, o.Include, true, false)
	} else {
		t.stats.hits.Add(1)
	}
	return true, nil
}

// fetched returns find's result for what fetch returned: read is called
// with v, the version the load left, so that a bound evicting the record
// meanwhile does not fail the Find that loaded it. Without one (the Find
// joined a flight that had landed) the caller reads the record itself.
func (s *Store) fetched(t *table, id string, v *version, err error, read func(*version)) (bool, error) {
	if err != nil || v == nil {
		return false, err
	}
	s.readHit(t, id, v, read)
	return true, nil
}

// readHit calls read with the version of a record that find answers from
// the cache, so that read sees one state of the Store, as Peek does. v is
// the version find saw. A version never changes, so it is a consistent
// answer on its own unless read follows *S and []*S relations into other
// records: then the record is read again, with them, between two changes,
// or a Find could return this record as one push left it and a related
// record as the next left it. A record unloaded or evicted since is read
// as v, so that the Find that saw or loaded it still gets it.
func (s *Store) readHit(t *table, id string, v *version, read func(*version)) {
	if !t.fills {
		read(v)
		return
	}
	gone := false
	s.consistent(func() {
		cur := t.loaded(id)
		if gone = cur == nil; !gone {
			read(cur)
		}
	})
	if gone {
		// Unloaded or evicted since: the version seen is the answer,
		// with the related records as they are now.
		s.consistent(func() { read(v) })
	}
}

// adapterFor returns t's Adapter, or nil.
func (s *Store) adapterFor(t *table) Adapter {
	if t.adapter != nil {
		return t.adapter
	}
	return s.opts.Adapter
}

// fetch loads t/id through ad, joining a flight already under way for it
// when its Include list covers include. missing says the record was not
// loaded when the caller looked. With background set it does not
// wait: it starts or joins a flight that Close alone cancels, unless the
// Store runs MaxBackgroundReloads already.
func (s *Store) fetch(ctx context.Context, t *table, ad Adapter, id string, include []string, background, missing bool) (*version, error) {
	k := Key{t.name, id}
	s.flightMu.Lock()
	if s.life.Err() != nil {
		s.flightMu.Unlock()
		return nil, ErrClosed
	}
	var f *flight
	for _, g := range s.flights[k] {
		if covers(g.include, include) {
			f = g
			break
		}
	}
	if f == nil && missing && len(include) == 0 && t.loaded(id) != nil {
		// A flight landed the record between our miss and now: flights
		// push before they land, so this check under flightMu sees it.
		s.flightMu.Unlock()
		return nil, nil
	}
	if f == nil {
		mf, coalesce := capability[ManyFinder](ad)
		coalesce = coalesce && s.opts.Coalesce != nil && len(include) == 0
		// A background reload takes a slot, unless it joins a coalesced
		// batch, which goes out as one call whatever it holds. At the
		// cap it waits in the queue; the cached record stands meanwhile.
		if background && !coalesce {
			select {
			case s.bgSlots <- struct{}{}:
			default:
				include := slices.Clone(include) // the caller may reuse its options
				s.enqueue(Key{t.name, id}, func() {
					if t.loaded(id) != nil { // not unloaded while it waited
						_, _ = s.fetch(ctx, t, ad, id, include, true, false)
					}
				})
				s.flightMu.Unlock()
				return nil, nil
			}
		}
		f = &flight{done: make(chan struct{}), include: slices.Clone(include), keep: background}
		if background {
			f.bgJoined = 1
			s.bgRunning++
		}
		if s.flights == nil {
			s.flights = map[Key][]*flight{}
		}
		s.flights[k] = append(s.flights[k], f)
		if coalesce {
			s.coalesce(ctx, t, ad, mf, id, f)
		} else {
			// The call outlives any one caller: it keeps ctx's values
			// but not its cancellation, and ends with the Store.
			fctx, cancel := s.callContext(ctx, background)
			f.cancel = cancel
			s.running++
			go func() {
				var got map[string]*version
				err := s.load(fctx, t, ad, id, f.include, &got)
				f.v = got[id]
				cancel()
				s.settle(landing{k, f, err})
				if background {
					<-s.bgSlots
					s.dequeue()
				}
				s.flightMu.Lock()
				s.running--
				s.idle.Broadcast()
				s.flightMu.Unlock()
			}()
		}
	} else if background && f.bgJoined == 0 {
		// A background reload joining a foreground call keeps it going
		// when the callers leave, and Wait waits for it.
		f.keep = true
		f.bgJoined = 1
		s.bgRunning++
	}
	if background {
		s.flightMu.Unlock()
		return nil, nil
	}
	if f.waiters > 0 {
		s.stats.shared.Add(1)
	}
	f.waiters++
	s.flightMu.Unlock()

	select {
	case <-f.done:
		return f.v, f.err
	case <-ctx.Done():
		s.flightMu.Lock()
		f.waiters--
		if f.waiters == 0 && !f.keep {
			// Nobody waits: stop the call, and let a later Find start
			// afresh rather than join a call that is ending.
			f.cancel()
			s.unlist(k, f)
		}
		s.flightMu.Unlock()
		return nil, ctx.Err()
	}
}

// A landing is a flight's end: its record and its error.
type landing struct {
	k   Key
	f   *flight
	err error
}

// settle lands flights, all at once so that no waiter waits on another
// flight's report, and then reports the errors of those background
// reloads joined before it stops counting them, so that Wait returns only
// after the reports. Called without flightMu.
func (s *Store) settle(ls ...landing) {
	var failed []error
	bg := 0
	s.flightMu.Lock()
	for _, l := range ls {
		n := l.f.bgJoined
		l.f.bgJoined = 0 // counted down below, not by land
		s.land(l.k, l.f, l.err)
		if n > 0 && l.f.err != nil {
			failed = append(failed, l.f.err)
		}
		bg += n
	}
	s.flightMu.Unlock()
	if bg == 0 {
		return
	}
	for _, err := range failed {
		s.reportBackground(err)
	}
	s.flightMu.Lock()
	s.bgRunning -= bg
	s.idle.Broadcast()
	s.flightMu.Unlock()
}

// land ends flight f of record k with err, releasing its waiters. Called
// with flightMu held.
func (s *Store) land(k Key, f *flight, err error) {
	s.unlist(k, f)
	if f.invalidated && err == nil {
		if t := s.lookupType(k.Type); t != nil {
			if e := t.entry(k.ID); e != nil {
				e.setMeta(metaInvalid, true)
			}
		}
	}
	if err != nil && s.life.Err() != nil && errors.Is(err, context.Canceled) {
		err = ErrClosed
	}
	f.err = err
	close(f.done)
	if f.bgJoined > 0 {
		s.bgRunning -= f.bgJoined
		s.idle.Broadcast()
	}
}

// callContext returns the context an adapter call runs under: ctx's
// values, cancelled by Close, and, for a background reload, bounded by
// Options.BackgroundTimeout. A foreground call is cancelled when its
// callers leave, not when the first caller's ctx ends.
func (s *Store) callContext(ctx context.Context, background bool) (context.Context, context.CancelFunc) {
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if background {
		cctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), s.opts.BackgroundTimeout)
	}
	stop := context.AfterFunc(s.life, cancel)
	if s.life.Err() != nil {
		cancel() // AfterFunc would, but on another goroutine: too late
	}
	return cctx, func() { stop(); cancel() }
}

// unlist removes f from the flights later Finds may join. Called with
// flightMu held.
func (s *Store) unlist(k Key, f *flight) {
	s.flights[k] = slices.DeleteFunc(s.flights[k], func(g *flight) bool { return g == f })
	if len(s.flights[k]) == 0 {
		delete(s.flights, k)
	}
}

// covers reports whether a flight fetching have serves a Find that needs
// want: every path in want is in have.
func covers(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// load makes one FindRecord call and pushes its answer, after checking it
// holds exactly the record asked for.
func (s *Store) load(ctx context.Context, t *table, ad Adapter, id string, include []string, got *map[string]*version) error {
	fail := func(err error) error { return &AdapterError{Op: "FindRecord", Type: t.name, ID: id, Err: err} }
	var payload []byte
	req := s.beginLoad(&Request{Type: t.name, ID: id, Include: include, store: s})
	defer s.endLoad(req)
	err := recovering("FindRecord", func() (err error) {
		return s.calling(ctx, "FindRecord", t.name, func() (err error) {
			payload, err = ad.FindRecord(ctx, req)
			return err
		})
	})
	if err = s.answered(ctx, err); err != nil {
		return fail(err)
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return fail(fmt.Errorf("%w: the response is empty", ErrNotFound))
	}
	err = s.pushAnswer(ctx, true, t, req, payload, func(doc *Document) error {
		if doc.rest && doc.Many {
			pickPrimary(doc, t.name, id)
		}
		switch {
		case doc.Many && !doc.rest:
			return fmt.Errorf("%w: a Find answer's primary data must be one resource, not an array", ErrBadResponse)
		case len(doc.Data) == 0:
			return fmt.Errorf("%w: the response has no data", ErrNotFound)
		case len(doc.Data) > 1:
			return fmt.Errorf("%w: the response holds %d records, none of them %s:%s", ErrWrongRecord, len(doc.Data), t.name, id)
		case doc.Data[0].Type != t.name || doc.Data[0].ID != id:
			return fmt.Errorf("%w: asked for %s:%s, got %s:%s", ErrWrongRecord, t.name, id, doc.Data[0].Type, doc.Data[0].ID)
		}
		return nil
	}, func([]Key, *Document) {
		if got != nil {
			*got = map[string]*version{id: t.loaded(id)}
		}
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// recovering runs fn for a goroutine the Store owns, where a panic in the
// user code fn calls would kill the process and leave the callers waiting
// for that goroutine waiting for good: it turns the panic into a
// *PanicError naming op, which reaches them as an error. fn runs on a
// goroutine of its own, so that user code calling runtime.Goexit (a
// test's t.FailNow inside an adapter, say) ends only that goroutine and
// comes back as a *PanicError too, instead of skipping the bookkeeping
// that Wait and Close count on. On the caller's own goroutine the Store
// recovers nothing, so a panic reaches the caller as any panic does.
func recovering(op string, fn func() error) (err error) {
	done := make(chan struct{})
	go func() {
		returned := false
		defer func() {
			if v := recover(); v != nil {
				err = newPanicError(op, v)
			} else if !returned {
				err = newPanicError(op, errGoexit)
			}
			close(done)
		}()
		err = fn()
		returned = true
	}()
	<-done
	return err
}

// errGoexit is the Value of the *PanicError for user code that called
// runtime.Goexit.
var errGoexit = errors.New("runtime.Goexit called")

// pushAnswer pushes an adapter's answer as PushPayload would. Normalizing
// a large answer takes a while, so once it is done pushAnswer checks again
// that someone still wants the answer (ctx ends when every caller has
// left, and at Close) before committing. check, if not nil, vets the
// document first. On a goroutine of the Store's, owned is true: a panic
// in the user code a push runs (the Serializer and its hooks, a
// Transform, a json.Unmarshaler, the Logger's handler) becomes a
// *PanicError whose Op is "PushPayload".
func (s *Store) pushAnswer(ctx context.Context, owned bool, t *table, req *Request, payload []byte, check func(*Document) error, read func([]Key, *Document)) error {
	pre := req.withAge()
	push := func() error {
		return s.pushPayloadWith(t.name, payload, t, func(doc *Document) error {
			if err := s.answered(ctx, nil); err != nil {
				return err
			}
			if check != nil {
				return check(doc)
			}
			return nil
		}, pre, read)
	}
	if !owned {
		return push()
	}
	return recovering("PushPayload", push)
}

// pickPrimary makes the record typ/id the primary data of doc, and the
// rest of its primary records included ones, when the data holds it among
// others: a REST backend may answer a Find or a QueryRecord with an array,
// and Ember Data's RESTSerializer takes the record asked for (for
// QueryRecord, the first) as the answer and the others as sideloads. (A
// JSON:API answer must hold one record, as in Ember.) Without the record
// in the data, doc is left as it was.
func pickPrimary(doc *Document, typ, id string) {
	i := slices.IndexFunc(doc.Data, func(r *Resource) bool { return r.Type == typ && r.ID == id })
	if i < 0 {
		return
	}
	rest := make([]*Resource, 0, len(doc.Data)-1+len(doc.Included))
	rest = append(rest, doc.Data[:i]...)
	rest = append(rest, doc.Data[i+1:]...)
	doc.Included = append(rest, doc.Included...)
	doc.Data = doc.Data[i : i+1]
	doc.Many = false
}

// answered is what an adapter call came to before its answer is pushed:
// the adapter's own error, else the end of ctx or the Store's Close while
// the call ran, either of which keeps the answer from landing.
func (s *Store) answered(ctx context.Context, err error) error {
	if err == nil {
		err = ctx.Err()
	}
	if err == nil && s.life.Err() != nil {
		err = ErrClosed
	}
	return err
}

// reportBackground hands the error of a background reload to
// OnBackgroundError, and as a Report to OnReport, or else to the Logger
// (see deliver). It runs on a goroutine the Store owns, so a panic in
// any of them is recovered: one in OnBackgroundError becomes a Report of
// kind ReportPanic carrying the *PanicError, followed by the error's own
// Report, so that it is not lost.
func (s *Store) reportBackground(err error) {
	if errors.Is(err, ErrClosed) || s.life.Err() != nil && errors.Is(err, context.Canceled) {
		return // Close stopped it: not a failure to report
	}
	var reps []Report
	handled := false
	if s.opts.OnBackgroundError != nil {
		perr := recovering("OnBackgroundError", func() error {
			s.opts.OnBackgroundError(err)
			return nil
		})
		if perr != nil {
			reps = append(reps, Report{Kind: ReportPanic, Count: 1, Message: "OnBackgroundError panicked", Err: perr})
		}
		handled = perr == nil
	}
	if !handled || s.opts.OnReport != nil {
		reps = append(reps, backgroundReport(err))
	}
	s.deliver(reps...)
}

// A queuedReload is a background reload waiting for a free slot.
type queuedReload struct {
	k     Key // the record, or {Type} for a FindAll
	start func()
}

// enqueue queues start, once per key, to run when a background slot
// frees. Wait waits for queued reloads as for running ones, and Close
// drops them. Called with flightMu held.
func (s *Store) enqueue(k Key, start func()) {
	if s.life.Err() != nil || s.bgQueued[k] {
		return
	}
	if s.bgQueued == nil {
		s.bgQueued = map[Key]bool{}
	}
	s.bgQueued[k] = true
	s.bgQueue = append(s.bgQueue, queuedReload{k, start})
	s.bgRunning++
}

// dequeue starts queued reloads, oldest first, while slots are free: one
// may take no slot (its record was unloaded, or it joins a call under
// way), and one may find the slot taken and queue again. Called without
// flightMu.
func (s *Store) dequeue() {
	for {
		s.flightMu.Lock()
		if len(s.bgQueue) == 0 || len(s.bgSlots) == cap(s.bgSlots) {
			s.flightMu.Unlock()
			return
		}
		q := s.bgQueue[0]
		s.bgQueue[0] = queuedReload{}
		s.bgQueue = s.bgQueue[1:]
		delete(s.bgQueued, q.k)
		s.flightMu.Unlock()
		q.start()
		s.flightMu.Lock()
		s.bgRunning-- // counted from enqueue until start had its own count
		s.idle.Broadcast()
		s.flightMu.Unlock()
	}
}

// Wait blocks until no background reload is running. It is for tests and
// orderly shutdowns; reloads started while it waits are waited for too.
func (s *Store) Wait() {
	s.flightMu.Lock()
	for s.bgRunning > 0 {
		s.idle.Wait()
	}
	s.flightMu.Unlock()
}

// Close cancels every adapter call the Store is making, background or
// not, fails Finds waiting in a coalesced batch, and waits until every
// goroutine the Store started for adapter calls or coalesced batches has
// returned (which takes as long as the Adapter takes to honour its
// cancelled context, or a ManyGrouper to return): no user code the Store
// started runs after Close returns. Later calls that would ask a backend
// fail with ErrClosed, as do Finds whose call Close cancelled; reads and
// pushes work as before. Close is idempotent and always returns nil.
func (s *Store) Close() error {
	s.flightMu.Lock()
	s.close()
	s.bgRunning -= len(s.bgQueue)
	s.bgQueue, s.bgQueued = nil, nil
	s.idle.Broadcast()
	for t, b := range s.batches {
		b.timer.Stop()
		delete(s.batches, t)
		for _, it := range b.items {
			s.land(Key{t.name, it.id}, it.f, ErrClosed)
		}
	}
	for s.running > 0 || s.bgRunning > 0 {
		s.idle.Wait()
	}
	s.flightMu.Unlock()
	// Once a commit under way has published (and queued its events), no
	// later one queues any, as life has ended: wait for the deliveries of
	// what was published before Close.
	s.mu.Lock()
	s.mu.Unlock() //nolint:staticcheck // a barrier, not a critical section
	s.subWG.Wait()
	return nil
}
