// Package recstoreotel publishes a recstore Store's [recstore.Stats] as
// OpenTelemetry metrics. It is a module of its own, so that the recstore
// module keeps no dependency beyond the standard library.
//
//	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
//	meter := provider.Meter(recstoreotel.ScopeName)
//
//	store := recstore.New(&recstore.Options{Adapter: adapter})
//	reg, err := recstoreotel.Register(store, meter,
//		recstoreotel.WithAttributes(attribute.String("recstore.store", "catalog")))
//	if err != nil {
//		return err
//	}
//	defer reg.Unregister()
//
// Register makes observable (asynchronous) instruments and one callback:
// each collection takes one [recstore.Store.Stats] and observes every
// instrument from it, so the figures of one collection agree with each
// other. The Store pays nothing between collections. Register needs only
// the OpenTelemetry API: any Meter will do.
//
// # Metrics
//
// Counters (cumulative, monotonic):
//
//	recstore.find.hits                  {find}    per recstore.type
//	recstore.find.stale_hits            {find}    per recstore.type
//	recstore.find.misses                {find}    per recstore.type
//	recstore.evictions                  {record}  per recstore.type and recstore.eviction.cause
//	recstore.adapter.calls              {call}
//	recstore.adapter.errors             {call}
//	recstore.adapter.shared_waiters     {find}
//	recstore.adapter.coalesced_batches  {call}
//	recstore.push.count                 {push}
//	recstore.push.time                  s         the total time pushes took
//
// Up-down counters (values as of the collection):
//
//	recstore.adapter.in_flight          {call}
//	recstore.adapter.waiting            {call}
//	recstore.records                    {record}  per recstore.type
//	recstore.bytes                      By        per recstore.type
//
// recstore.eviction.cause is one of store_records, store_bytes,
// type_records and type_bytes: the bound that made room (see
// [recstore.Evictions]). Sum a metric over recstore.type for the Store's
// total; the Store-wide figures are not exported a second time.
//
// # Push latency
//
// The Store keeps push latency in a histogram of its own
// ([recstore.Stats].Pushes, fixed buckets). The OpenTelemetry API has no
// asynchronous histogram, and a synchronous Float64Histogram needs a
// Record call on every push: a hook the core does not have (replaying
// the buckets' growth as Records at collection would invent the values
// and the sum). So Register exports the count and the total time of
// pushes, recstore.push.count and recstore.push.time, whose rate ratio
// is the mean latency; the distribution stays in Stats.Pushes.
package recstoreotel

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/recstore/recstore"
)

// ScopeName is the instrumentation scope name to get a Meter by:
//
//	meter := provider.Meter(recstoreotel.ScopeName)
const ScopeName = "github.com/recstore/recstore/recstoreotel"

// The attribute keys the metrics carry.
const (
	// TypeKey is the record type a figure counts, as registered in the
	// Store (its JSON:API type).
	TypeKey = attribute.Key("recstore.type")
	// EvictionCauseKey is the bound an eviction made room under:
	// store_records, store_bytes, type_records or type_bytes.
	EvictionCauseKey = attribute.Key("recstore.eviction.cause")
)

// ErrNil is returned by [Register] given a nil Store or Meter.
var ErrNil = errors.New("recstoreotel: nil Store or Meter")

// An Option configures [Register]. A nil Option is ignored.
type Option func(*config)

// config is what the Options set.
type config struct {
	attrs []attribute.KeyValue
}

// WithAttributes adds attrs to every observation, for instance a name
// that tells apart the Stores of one program:
//
//	recstoreotel.WithAttributes(attribute.String("recstore.store", "catalog"))
//
// An attribute keyed recstore.type or recstore.eviction.cause is
// overridden where the metric sets that key itself.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, attrs...) }
}

// newConfig applies opts.
func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Register publishes s's Stats through meter, whose instruments it makes
// (see the package documentation for their names). Each collection calls
// s.Stats once. Unregister the returned Registration to stop observing
// s; the instruments stay with meter, and several Stores can be
// registered on one Meter, told apart by [WithAttributes].
//
// Register returns [ErrNil] if s or meter is nil, and the error of the
// Meter if it refuses an instrument or the callback.
func Register(s *recstore.Store, meter metric.Meter, opts ...Option) (metric.Registration, error) {
	if s == nil || meter == nil {
		return nil, ErrNil
	}
	cfg := newConfig(opts)
	var (
		in   instruments
		errs []error
	)
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	upDown := func(name, unit, desc string) metric.Int64ObservableUpDownCounter {
		c, err := meter.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	in.hits = counter("recstore.find.hits", "{find}", "Finds answered from the Store with no backend call.")
	in.staleHits = counter("recstore.find.stale_hits", "{find}", "Finds answered from the Store that reloaded the record in the background.")
	in.misses = counter("recstore.find.misses", "{find}", "Finds that waited for the backend.")
	in.evictions = counter("recstore.evictions", "{record}", "Records evicted, by the bound that made room.")
	in.calls = counter("recstore.adapter.calls", "{call}", "Calls the Store made to Adapters.")
	in.callErrors = counter("recstore.adapter.errors", "{call}", "Adapter calls that failed.")
	in.shared = counter("recstore.adapter.shared_waiters", "{find}", "Finds that joined an adapter call already under way.")
	in.batches = counter("recstore.adapter.coalesced_batches", "{call}", "FindMany calls made of coalesced Finds.")
	in.pushes = counter("recstore.push.count", "{push}", "Pushes: Push, PushPayload and adapter answers.")
	pushTime, err := meter.Float64ObservableCounter("recstore.push.time", metric.WithUnit("s"),
		metric.WithDescription("Total time pushes took, from the call to the result being visible."))
	errs = append(errs, err)
	in.pushTime = pushTime
	in.inFlight = upDown("recstore.adapter.in_flight", "{call}", "Adapter calls under way.")
	in.waiting = upDown("recstore.adapter.waiting", "{call}", "Adapter calls waiting for a slot under Options.MaxConcurrentCalls.")
	in.records = upDown("recstore.records", "{record}", "Records held.")
	in.bytes = upDown("recstore.bytes", "By", "Estimated size of the records held.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	base := attribute.NewSet(cfg.attrs...)
	o := &observer{s: s, in: in, base: metric.WithAttributeSet(base), attrs: base.ToSlice()}
	return meter.RegisterCallback(o.observe,
		in.hits, in.staleHits, in.misses, in.evictions, in.calls, in.callErrors, in.shared,
		in.batches, in.pushes, in.pushTime, in.inFlight, in.waiting, in.records, in.bytes)
}

// instruments are the instruments Register makes.
type instruments struct {
	hits, staleHits, misses, evictions metric.Int64ObservableCounter
	calls, callErrors, shared, batches metric.Int64ObservableCounter
	pushes                             metric.Int64ObservableCounter
	pushTime                           metric.Float64ObservableCounter
	inFlight, waiting, records, bytes  metric.Int64ObservableUpDownCounter
}

// causes are the values of EvictionCauseKey, in the order typeSets.causes
// holds them.
var causes = [4]string{"store_records", "store_bytes", "type_records", "type_bytes"}

// typeSets are the attribute sets of one type's observations.
type typeSets struct {
	typ    metric.MeasurementOption    // base + recstore.type
	causes [4]metric.MeasurementOption // base + recstore.type + recstore.eviction.cause
}

// observer is Register's callback and its cache of attribute sets, one
// entry per type name seen (types are never unregistered, so it stays as
// small as the Store's schema).
type observer struct {
	s     *recstore.Store
	in    instruments
	base  metric.MeasurementOption // the WithAttributes attributes
	attrs []attribute.KeyValue     // the same, deduplicated

	mu    sync.Mutex // guards types: readers may collect concurrently
	types map[string]*typeSets
}

func (o *observer) setsOf(typ string) *typeSets {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ts, ok := o.types[typ]; ok {
		return ts
	}
	ts := &typeSets{typ: o.with(TypeKey.String(typ))}
	for i, c := range causes {
		ts.causes[i] = o.with(TypeKey.String(typ), EvictionCauseKey.String(c))
	}
	if o.types == nil {
		o.types = map[string]*typeSets{}
	}
	o.types[typ] = ts
	return ts
}

// with returns the option to observe with o's attributes and kvs, which
// win over them. It builds a fresh slice: attribute.NewSet sorts its
// argument in place.
func (o *observer) with(kvs ...attribute.KeyValue) metric.MeasurementOption {
	all := append(append(make([]attribute.KeyValue, 0, len(o.attrs)+len(kvs)), o.attrs...), kvs...)
	return metric.WithAttributeSet(attribute.NewSet(all...))
}

// observe observes every instrument from one Stats.
func (o *observer) observe(_ context.Context, ob metric.Observer) error {
	st := o.s.Stats()
	in := &o.in
	base := o.base
	ob.ObserveInt64(in.calls, st.AdapterCalls, base)
	ob.ObserveInt64(in.callErrors, st.AdapterErrors, base)
	ob.ObserveInt64(in.shared, st.SharedWaiters, base)
	ob.ObserveInt64(in.batches, st.CoalescedBatches, base)
	ob.ObserveInt64(in.inFlight, st.InFlight, base)
	ob.ObserveInt64(in.waiting, st.Waiting, base)
	ob.ObserveInt64(in.pushes, st.Pushes.Count, base)
	ob.ObserveFloat64(in.pushTime, st.Pushes.Sum.Seconds(), base)
	for typ, ts := range st.Types {
		sets := o.setsOf(typ)
		ob.ObserveInt64(in.hits, ts.Hits, sets.typ)
		ob.ObserveInt64(in.staleHits, ts.StaleHits, sets.typ)
		ob.ObserveInt64(in.misses, ts.Misses, sets.typ)
		ob.ObserveInt64(in.records, ts.Records, sets.typ)
		ob.ObserveInt64(in.bytes, ts.Bytes, sets.typ)
		for i, n := range [4]int64{ts.Evictions.StoreRecords, ts.Evictions.StoreBytes, ts.Evictions.TypeRecords, ts.Evictions.TypeBytes} {
			ob.ObserveInt64(in.evictions, n, sets.causes[i])
		}
	}
	return nil
}
