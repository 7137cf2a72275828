package recstore

import (
	"context"
	"fmt"
	"time"
)

// CoalesceOptions turn Finds of one type that miss the Store within a short
// window, and the background reloads Finds start, into one FindMany call,
// as Ember Data's coalesceFindRequests does. Only those without an Include
// list, whose type's Adapter is a ManyFinder, are coalesced; the others
// are sent on their own.
type CoalesceOptions struct {
	// Window is how long a batch waits for another Find before it is
	// sent: each Find that joins it starts the wait again, up to ten
	// Windows after the first, so that a burst goes out together; <= 0
	// means 1ms.
	Window time.Duration
	// MaxBatch sends a batch as soon as it holds this many records, and
	// caps each FindMany call; <= 0 means 100.
	MaxBatch int
}

// A ManyGrouper is a ManyFinder that splits the ids of one batch into the
// groups it sends as separate FindMany calls, for example to keep URLs
// short. Groups of one id are sent with FindRecord. GroupForFindMany runs
// on a goroutine the Store owns, which Close waits for; a panic in it
// fails the batch's Finds with an error wrapping a *PanicError.
type ManyGrouper interface {
	GroupForFindMany(typ string, ids []string) [][]string
}

// batch is one type's coalesced Finds waiting to be sent. The Store's
// flightMu guards it.
type batch struct {
	t     *table
	ad    Adapter
	mf    ManyFinder
	ctx   context.Context // the first caller's values, without its cancellation
	items []batchItem
	timer *time.Timer
	start time.Time
	// lim, if not nil, runs the batch's calls at most lim.n at a time
	// (LoadRelated's); nil sends every group at once, as coalesced Finds
	// are.
	lim *limiter
}

// A limiter runs queued group loads on at most n goroutines at once; the
// Store's flightMu guards it. Flights queued here are listed, so that
// Finds join them while they wait their turn, and one every caller has
// left is not sent (sendGroup skips it), so a queue never holds a caller
// up for a call nobody wants.
type limiter struct {
	n, active int
	queue     []groupLoad
}

// groupLoad is one queued call: ids of b, and their flights.
type groupLoad struct {
	b       *batch
	ids     []string
	flights []*flight
}

// queueLoads adds gs to l's queue and starts workers up to l.n. Called with
// flightMu held; each worker is counted in s.running until it exits, so
// Close waits for it.
func (s *Store) queueLoads(l *limiter, gs ...groupLoad) {
	l.queue = append(l.queue, gs...)
	for l.active < l.n && l.active < len(l.queue) {
		l.active++
		s.running++
		go s.work(l)
	}
}

// work runs l's queued loads one after another until the queue is empty.
// Once the Store is closed, what is left lands with ErrClosed, unsent.
func (s *Store) work(l *limiter) {
	for {
		s.flightMu.Lock()
		if len(l.queue) == 0 {
			l.active--
			s.running--
			s.idle.Broadcast()
			s.flightMu.Unlock()
			return
		}
		g := l.queue[0]
		l.queue[0] = groupLoad{}
		l.queue = l.queue[1:]
		if s.life.Err() != nil {
			for i, f := range g.flights {
				if !isDone(f) {
					s.land(Key{g.b.t.name, g.ids[i]}, f, ErrClosed)
				}
			}
			s.flightMu.Unlock()
			continue
		}
		s.flightMu.Unlock()
		s.loadGroup(g.b, g.ids, g.flights)
	}
}

type batchItem struct {
	id string
	f  *flight
}

func (o *CoalesceOptions) window() time.Duration {
	if o.Window <= 0 {
		return time.Millisecond
	}
	return o.Window
}

func (o *CoalesceOptions) maxBatch() int {
	if o == nil || o.MaxBatch <= 0 { // nil: a LoadRelated batch without Coalesce
		return 100
	}
	return o.MaxBatch
}

// coalesce adds flight f of t/id to t's pending batch, starting the batch
// and its timer if there is none. Called with flightMu held.
func (s *Store) coalesce(ctx context.Context, t *table, ad Adapter, mf ManyFinder, id string, f *flight) {
	if s.batches == nil {
		s.batches = map[*table]*batch{}
	}
	b := s.batches[t]
	if b == nil {
		b = &batch{t: t, ad: ad, mf: mf, ctx: context.WithoutCancel(ctx), start: time.Now()}
		s.batches[t] = b
		b.timer = time.AfterFunc(s.opts.Coalesce.window(), func() { s.flush(b) })
	} else if w := s.opts.Coalesce.window(); time.Since(b.start) < 10*w {
		b.timer.Reset(w) // if it has fired, flush waits for our lock and sends this too
	}
	// Until the batch is sent, a flight every caller has left is dropped
	// from it.
	f.cancel = func() { f.waiters = -1 }
	b.items = append(b.items, batchItem{id, f})
	if len(b.items) >= s.opts.Coalesce.maxBatch() {
		b.timer.Stop()
		delete(s.batches, t)
		s.running++ // Close waits for the send, GroupForFindMany included
		go s.send(b)
	}
}

// flush sends b when its window ends, unless it was sent already.
func (s *Store) flush(b *batch) {
	s.flightMu.Lock()
	if s.batches[b.t] != b {
		s.flightMu.Unlock()
		return
	}
	delete(s.batches, b.t)
	s.running++ // as in coalesce
	s.flightMu.Unlock()
	s.send(b)
}

// send splits b's live flights into groups and loads each group. The
// caller counted it in s.running, so that Close waits for it: it may be
// in GroupForFindMany, which is user code, and must not outlive Close.
func (s *Store) send(b *batch) {
	defer func() {
		s.flightMu.Lock()
		s.running--
		s.idle.Broadcast()
		s.flightMu.Unlock()
	}()
	s.flightMu.Lock()
	byID := map[string]*flight{}
	var ids []string
	for _, it := range b.items {
		if it.f.waiters >= 0 {
			byID[it.id] = it.f
			ids = append(ids, it.id)
		}
	}
	s.flightMu.Unlock()
	var groups [][]string
	max := s.opts.Coalesce.maxBatch()
	grouper, _ := b.mf.(ManyGrouper)
	for len(ids) > 0 {
		n := min(max, len(ids))
		chunk := ids[:n:n]
		ids = ids[n:]
		if grouper == nil {
			groups = append(groups, chunk)
			continue
		}
		// This runs on a timer's goroutine or one of ours: a panic must
		// reach the batch's callers, not end the process.
		err := recovering("GroupForFindMany", func() error {
			groups = append(groups, s.groupForFindMany(grouper, b.t.name, chunk)...)
			return nil
		})
		if err != nil {
			ls := make([]landing, 0, len(byID))
			for id, f := range byID {
				ls = append(ls, landing{Key{b.t.name, id}, f, &AdapterError{Op: "GroupForFindMany", Type: b.t.name, ID: id, Err: err}})
			}
			s.settle(ls...)
			return
		}
	}
	var sends []groupLoad
	for _, g := range groups {
		flights := make([]*flight, 0, len(g))
		gids := make([]string, 0, len(g))
		for _, id := range g {
			if f, ok := byID[id]; ok {
				flights = append(flights, f)
				gids = append(gids, id)
				delete(byID, id) // a grouper that repeats an id gets it once
			}
		}
		if len(gids) > 0 {
			sends = append(sends, groupLoad{b, gids, flights})
		}
	}
	// Ids a grouper left out are sent on their own.
	for id, f := range byID {
		sends = append(sends, groupLoad{b, []string{id}, []*flight{f}})
	}
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	if s.life.Err() != nil {
		for _, it := range b.items {
			if !isDone(it.f) {
				s.land(Key{b.t.name, it.id}, it.f, ErrClosed)
			}
		}
		return
	}
	if b.lim != nil {
		s.queueLoads(b.lim, sends...)
		return
	}
	s.running += len(sends)
	for _, g := range sends {
		go s.sendGroup(g.b, g.ids, g.flights)
	}
}

func isDone(f *flight) bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// sendGroup loads one group of a batch as loadGroup does; it was counted
// in s.running, and counts itself down.
func (s *Store) sendGroup(b *batch, ids []string, flights []*flight) {
	s.loadGroup(b, ids, flights)
	s.flightMu.Lock()
	s.running--
	s.idle.Broadcast()
	s.flightMu.Unlock()
}

// loadGroup loads one group of a batch and lands its flights. The call is
// cancelled when every caller of every flight in it has gone, and not made
// if they went before it started.
func (s *Store) loadGroup(b *batch, ids []string, flights []*flight) {
	s.flightMu.Lock()
	gctx, gcancel := s.callContext(b.ctx, false)
	defer gcancel()
	// live counts the flights still wanted, kept the background reloads
	// among them, which no caller leaving cancels. Once only those are
	// left, the call is bounded by BackgroundTimeout, as theirs would be.
	// Both are guarded by flightMu, as f.cancel is called with it held.
	live, kept := 0, 0
	var bounded *time.Timer
	bound := func() {
		if bounded == nil && live == kept {
			bounded = time.AfterFunc(s.opts.BackgroundTimeout, gcancel)
		}
	}
	for _, f := range flights {
		switch {
		case f.waiters < 0:
			continue // left while the group formed
		case f.keep:
			kept++
		}
		live++
		f.cancel = func() {
			if live--; live == 0 {
				gcancel()
			} else {
				bound()
			}
		}
	}
	anyLive := live > 0
	if anyLive {
		bound()
	}
	s.flightMu.Unlock()
	defer func() {
		s.flightMu.Lock()
		if bounded != nil {
			bounded.Stop()
		}
		s.flightMu.Unlock()
	}()

	errs := map[string]error{}
	var got map[string]*version
	switch {
	case !anyLive:
		for _, id := range ids {
			errs[id] = context.Canceled
		}
	case len(ids) == 1:
		errs[ids[0]] = s.load(gctx, b.t, b.ad, ids[0], nil, &got)
	default:
		got = s.loadMany(gctx, b.t, b.mf, ids, errs)
	}
	ls := make([]landing, len(flights))
	for i, f := range flights {
		f.v = got[ids[i]]
		ls[i] = landing{Key{b.t.name, ids[i]}, f, errs[ids[i]]}
	}
	s.settle(ls...)
}

// loadMany makes one FindMany call for ids and pushes its answer. It sets
// errs for the ids that failed: all of them if the call or the push
// failed, else those the answer left out.
func (s *Store) loadMany(ctx context.Context, t *table, mf ManyFinder, ids []string, errs map[string]error) (got map[string]*version) {
	failAll := func(err error) {
		for _, id := range ids {
			errs[id] = &AdapterError{Op: "FindMany", Type: t.name, ID: id, Err: err}
		}
	}
	var payload []byte
	req := s.beginLoad(&Request{Type: t.name, IDs: ids, store: s})
	defer s.endLoad(req)
	err := recovering("FindMany", func() (err error) {
		s.stats.batches.Add(1)
		return s.calling(ctx, "FindMany", t.name, func() (err error) {
			payload, err = mf.FindMany(ctx, req)
			return err
		})
	})
	if err = s.answered(ctx, err); err != nil {
		failAll(err)
		return
	}
	seen := map[string]bool{}
	got = map[string]*version{}
	err = s.pushAnswer(ctx, true, t, req, payload, nil, func(data []Key, _ *Document) {
		for _, k := range data {
			seen[k.ID] = true
			if k.Type == t.name {
				got[k.ID] = t.loaded(k.ID)
			}
		}
	})
	if err != nil {
		failAll(err)
		return nil
	}
	for _, id := range ids {
		if !seen[id] {
			errs[id] = &AdapterError{Op: "FindMany", Type: t.name, ID: id, Err: fmt.Errorf(
				"%w: expected '%s:%s' to be present in the adapter provided payload, but it was not found", ErrNotFound, t.name, id)}
		}
	}
	return got
}
