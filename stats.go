package recstore

import (
	"context"
	"expvar"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"
)

// Stats are the Store's measurements since New, as [Store.Stats] returns
// them: counts only grow; Records, Bytes, InFlight and Waiting are as of
// the call. Publish them with [Store.Var] (expvar) or the recstoreotel module
// (OpenTelemetry).
type Stats struct {
	// Hits counts Finds answered from the Store with no backend call.
	Hits int64
	// StaleHits counts Finds answered from the Store that reloaded the
	// record in the background: stale under an Expiry, or any hit under
	// Ember Data's policy.
	StaleHits int64
	// Misses counts Finds that waited for the backend: the record was
	// not held, had expired, or was invalidated, or a reload was asked.
	Misses int64
	// AdapterCalls counts the calls the Store made to Adapters, of every
	// kind (FindRecord, FindMany, Query, saves, links ...).
	AdapterCalls int64
	// AdapterErrors counts those that failed.
	AdapterErrors int64
	// SharedWaiters counts Finds that joined a call already under way
	// for their record instead of making one.
	SharedWaiters int64
	// CoalescedBatches counts the FindMany calls made of Finds coalesced
	// (Options.Coalesce).
	CoalescedBatches int64
	// InFlight is how many adapter calls are under way, and Waiting how
	// many wait for a slot (Options.MaxConcurrentCalls).
	InFlight, Waiting int64
	// Evictions counts records evicted, by the bound that made room.
	Evictions Evictions
	// Records and Bytes are the records held (as Len counts them) and
	// their estimated size in bytes (see Options.MaxBytes), over every
	// type. Sizes are estimated only while the Store or a model has a
	// bound (MaxRecords or MaxBytes): Bytes is 0 otherwise.
	Records, Bytes int64
	// Pushes times every push: Push, PushPayload and each adapter answer
	// pushed, from the call to its result being visible.
	Pushes Histogram
	// Types holds the figures of each registered type.
	Types map[string]TypeStats
}

// Evictions counts records evicted, by cause: the Store's bound on
// records or bytes (Options.MaxRecords, MaxBytes) or a type's own
// (ModelOptions.MaxRecords, MaxBytes).
type Evictions struct {
	// StoreRecords and StoreBytes count evictions that kept the Store
	// within Options.MaxRecords and MaxBytes.
	StoreRecords, StoreBytes int64
	// TypeRecords and TypeBytes count evictions that kept a type within
	// its ModelOptions.MaxRecords and MaxBytes.
	TypeRecords, TypeBytes int64
}

// Total returns the evictions of every cause.
func (e Evictions) Total() int64 {
	return e.StoreRecords + e.StoreBytes + e.TypeRecords + e.TypeBytes
}

// TypeStats are one type's figures in [Stats].
type TypeStats struct {
	// Hits, StaleHits and Misses count the type's Finds, as Stats does.
	Hits, StaleHits, Misses int64
	// Evictions counts the type's records evicted, by cause.
	Evictions Evictions
	// Records and Bytes are the type's records held and their estimated
	// size.
	Records, Bytes int64
}

// A Histogram counts durations in buckets: Counts[i] counts those at most
// Bounds[i], and the last count those above every bound.
type Histogram struct {
	// Bounds are the buckets' upper bounds, ascending.
	Bounds []time.Duration
	// Counts has one count per bound, and one more for the durations
	// above the last bound.
	Counts []int64
	// Count is the number of durations counted.
	Count int64
	// Sum is their total.
	Sum time.Duration
}

// histBounds are the upper bounds of the push latency buckets: powers of
// four from 1µs to about 4s.
var histBounds = func() []time.Duration {
	b := make([]time.Duration, 12)
	d := time.Microsecond
	for i := range b {
		b[i] = d
		d *= 4
	}
	return b
}()

// histogram is a Histogram recorded with atomics.
type histogram struct {
	counts [13]atomic.Int64
	sum    atomic.Int64
}

func (h *histogram) record(d time.Duration) {
	i, _ := slices.BinarySearch(histBounds, d)
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

func (h *histogram) snapshot() Histogram {
	out := Histogram{Bounds: slices.Clone(histBounds), Counts: make([]int64, len(h.counts)), Sum: time.Duration(h.sum.Load())}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
		out.Count += out.Counts[i]
	}
	return out
}

// storeStats are the Store's counters.
type storeStats struct {
	calls, callErrors, shared, batches atomic.Int64
	inFlight, waiting                  atomic.Int64
	pushes                             histogram
}

// tableStats are one table's counters.
type tableStats struct {
	hits, staleHits, misses atomic.Int64
	evicted                 [4]atomic.Int64 // by evictCause
}

// Stats returns the Store's measurements.
func (s *Store) Stats() Stats {
	st := Stats{
		AdapterCalls:     s.stats.calls.Load(),
		AdapterErrors:    s.stats.callErrors.Load(),
		SharedWaiters:    s.stats.shared.Load(),
		CoalescedBatches: s.stats.batches.Load(),
		InFlight:         s.stats.inFlight.Load(),
		Waiting:          s.stats.waiting.Load(),
		Pushes:           s.stats.pushes.snapshot(),
		Types:            map[string]TypeStats{},
	}
	for name, t := range *s.tables.Load() {
		ts := TypeStats{
			Hits:      t.stats.hits.Load(),
			StaleHits: t.stats.staleHits.Load(),
			Misses:    t.stats.misses.Load(),
			Evictions: Evictions{
				StoreRecords: t.stats.evicted[causeStoreRecords].Load(),
				StoreBytes:   t.stats.evicted[causeStoreBytes].Load(),
				TypeRecords:  t.stats.evicted[causeTypeRecords].Load(),
				TypeBytes:    t.stats.evicted[causeTypeBytes].Load(),
			},
			Records: t.live.Load(),
			Bytes:   t.bytes.Load(),
		}
		st.Types[name] = ts
		st.Hits += ts.Hits
		st.StaleHits += ts.StaleHits
		st.Misses += ts.Misses
		st.Evictions.StoreRecords += ts.Evictions.StoreRecords
		st.Evictions.StoreBytes += ts.Evictions.StoreBytes
		st.Evictions.TypeRecords += ts.Evictions.TypeRecords
		st.Evictions.TypeBytes += ts.Evictions.TypeBytes
		st.Records += ts.Records
		st.Bytes += ts.Bytes
	}
	return st
}

// Var returns the Store's Stats as an expvar.Var, for expvar.Publish:
//
//	expvar.Publish("recstore", store.Var())
//
// Each read of it takes a fresh Stats. The Store publishes nothing itself:
// a program may hold many Stores, and expvar names are global.
func (s *Store) Var() expvar.Var {
	return expvar.Func(func() any { return s.Stats() })
}

// TypeNames returns the names in st.Types, sorted.
func (st Stats) TypeNames() []string { return slices.Sorted(maps.Keys(st.Types)) }

// calling runs fn, one call to an Adapter, once a slot is free under
// Options.MaxConcurrentCalls: a call past the cap waits its turn, or
// until ctx is done. It counts the call and logs it at level Debug.
func (s *Store) calling(ctx context.Context, op, typ string, fn func() error) error {
	if s.callSlots != nil {
		select {
		case s.callSlots <- struct{}{}:
		default:
			s.stats.waiting.Add(1)
			select {
			case s.callSlots <- struct{}{}:
				s.stats.waiting.Add(-1)
			case <-ctx.Done():
				s.stats.waiting.Add(-1)
				return ctx.Err()
			case <-s.life.Done():
				s.stats.waiting.Add(-1)
				return ErrClosed
			}
		}
		defer func() { <-s.callSlots }()
		if s.life.Err() != nil {
			return ErrClosed // Close came while it waited: no user code runs after it
		}
	}
	s.stats.calls.Add(1)
	s.stats.inFlight.Add(1)
	var start time.Time
	debug := s.opts.DebugLogger != nil && s.debugging(ctx)
	if debug {
		start = time.Now()
	}
	err := errCallPanicked
	defer func() {
		s.stats.inFlight.Add(-1)
		if err != nil {
			s.stats.callErrors.Add(1)
		}
		if debug {
			s.debug(ctx, "recstore: adapter call", slog.String("op", op), slog.String("type", typ),
				slog.Duration("took", time.Since(start)), slog.Any("err", err))
		}
	}()
	err = fn()
	return err
}

// errCallPanicked stands for the outcome of an adapter call that did not
// return (it panicked), in calling's bookkeeping.
var errCallPanicked error = &PanicError{Op: "adapter call"}

// debugging reports whether Options.DebugLogger logs at level Debug. A
// panic in its handler means no.
func (s *Store) debugging(ctx context.Context) (on bool) {
	if s.opts.DebugLogger == nil {
		return false
	}
	defer func() {
		if recover() != nil {
			on = false
		}
	}()
	return s.opts.DebugLogger.Enabled(ctx, slog.LevelDebug)
}

// debug logs msg to Options.DebugLogger at level Debug. A panic in its
// handler is dropped.
func (s *Store) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	defer func() { _ = recover() }()
	s.opts.DebugLogger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}
