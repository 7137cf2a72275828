package recstoreotel_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoreotel"
	"github.com/recstore/recstore/recstoretest"
)

type book struct {
	ID    string `jsonapi:"primary,books"`
	Title string `jsonapi:"attr,title"`
}

type author struct {
	ID   string `jsonapi:"primary,authors"`
	Name string `jsonapi:"attr,name"`
}

const fixtures = `{"data":[
	{"type":"books","id":"1","attributes":{"title":"Dune"}},
	{"type":"books","id":"2","attributes":{"title":"Emma"}},
	{"type":"authors","id":"1","attributes":{"name":"Austen"}}]}`

// clock is a clock tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// collector is a MeterProvider with a ManualReader: the real SDK.
type collector struct {
	reader   *sdkmetric.ManualReader
	provider *sdkmetric.MeterProvider
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	r := sdkmetric.NewManualReader()
	p := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return &collector{reader: r, provider: p}
}

// collected are the metrics of one collection, by name.
type collected map[string]metricdata.Metrics

func (c *collector) collect(t *testing.T) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, c.reader.Collect(context.Background(), &rm))
	out := collected{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// key is how the points of a metric are keyed: its attributes, encoded
// as "k=v,k=v" sorted by key.
func key(set attribute.Set) string { return set.Encoded(attribute.DefaultEncoder()) }

// ints returns the points of an int64 metric (counter or up-down
// counter), by key, and checks it is a cumulative sum with the given
// monotonicity.
func (c collected) ints(t *testing.T, name string, monotonic bool) map[string]int64 {
	t.Helper()
	m, ok := c[name]
	require.True(t, ok, "metric %s not collected", name)
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a %T", name, m.Data)
	assert.Equal(t, metricdata.CumulativeTemporality, sum.Temporality, name)
	assert.Equal(t, monotonic, sum.IsMonotonic, name)
	out := map[string]int64{}
	for _, p := range sum.DataPoints {
		out[key(p.Attributes)] = p.Value
	}
	return out
}

// floats is ints for a float64 counter.
func (c collected) floats(t *testing.T, name string) map[string]float64 {
	t.Helper()
	m, ok := c[name]
	require.True(t, ok, "metric %s not collected", name)
	sum, ok := m.Data.(metricdata.Sum[float64])
	require.True(t, ok, "%s is a %T", name, m.Data)
	assert.True(t, sum.IsMonotonic, name)
	out := map[string]float64{}
	for _, p := range sum.DataPoints {
		out[key(p.Attributes)] = p.Value
	}
	return out
}

// TestRegister drives a Store through hits, stale hits, misses, a failed
// call and a Push, and reads every metric back through the SDK.
func TestRegister(t *testing.T) {
	ctx := context.Background()
	c := newCollector(t)
	clk := newClock()
	s := recstore.New(&recstore.Options{Adapter: recstoretest.NewMemoryAdapter(fixtures),
		Clock: clk.Now, Expiry: &recstore.Expiry{Soft: time.Minute}})
	defer s.Close()
	books := recstore.MustRegister[book](s, nil)
	authors := recstore.MustRegister[author](s, nil)
	reg, err := recstoreotel.Register(s, c.provider.Meter(recstoreotel.ScopeName),
		recstoreotel.WithAttributes(attribute.String("recstore.store", "catalog")))
	require.NoError(t, err)
	defer func() { require.NoError(t, reg.Unregister()) }()

	_, err = books.Find(ctx, "1", nil) // miss
	require.NoError(t, err)
	_, err = books.Find(ctx, "1", nil) // hit
	require.NoError(t, err)
	_, err = books.Find(ctx, "1", nil) // hit
	require.NoError(t, err)
	clk.Add(2 * time.Minute)
	_, err = books.Find(ctx, "1", nil) // stale hit, reloads in the background
	require.NoError(t, err)
	s.Wait()
	_, err = books.Find(ctx, "404", nil) // miss, failed call
	require.ErrorIs(t, err, recstore.ErrNotFound)
	_, err = authors.Find(ctx, "1", nil) // miss
	require.NoError(t, err)
	_, err = books.Push([]byte(`{"data":{"type":"books","id":"3","attributes":{"title":"Ulysses"}}}`))
	require.NoError(t, err)

	got := c.collect(t)
	st := s.Stats()
	const (
		store     = "recstore.store=catalog"
		bookKey   = "recstore.store=catalog,recstore.type=books"
		authorKey = "recstore.store=catalog,recstore.type=authors"
	)
	require.Equal(t, []string{"authors", "books"}, st.TypeNames(), "the types the keys below name")

	for _, tc := range []struct {
		name      string
		monotonic bool
		want      map[string]int64
	}{
		{"recstore.find.hits", true, map[string]int64{bookKey: 2, authorKey: 0}},
		{"recstore.find.stale_hits", true, map[string]int64{bookKey: 1, authorKey: 0}},
		{"recstore.find.misses", true, map[string]int64{bookKey: 2, authorKey: 1}},
		{"recstore.records", false, map[string]int64{bookKey: 2, authorKey: 1}},
		{"recstore.adapter.calls", true, map[string]int64{store: 4}}, // 3 misses, 1 reload
		{"recstore.adapter.errors", true, map[string]int64{store: 1}},
		{"recstore.adapter.shared_waiters", true, map[string]int64{store: 0}},
		{"recstore.adapter.coalesced_batches", true, map[string]int64{store: 0}},
		{"recstore.adapter.in_flight", false, map[string]int64{store: 0}},
		{"recstore.adapter.waiting", false, map[string]int64{store: 0}},
		{"recstore.push.count", true, map[string]int64{store: 4}}, // 3 answers, 1 Push
		{"recstore.bytes", false, map[string]int64{bookKey: st.Types["books"].Bytes, authorKey: st.Types["authors"].Bytes}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, got.ints(t, tc.name, tc.monotonic))
		})
	}
	assert.Equal(t, st.Pushes.Count, int64(4))

	// Evictions: a point per type and cause (all zero: no bound is set).
	ev := got.ints(t, "recstore.evictions", true)
	assert.Len(t, ev, 8)
	for _, typ := range []string{"authors", "books"} {
		for _, cause := range []string{"store_records", "store_bytes", "type_records", "type_bytes"} {
			k := "recstore.eviction.cause=" + cause + ",recstore.store=catalog,recstore.type=" + typ
			assert.Contains(t, ev, k)
			assert.Zero(t, ev[k])
		}
	}

	// Push time: the Store's sum, in seconds.
	pt := got.floats(t, "recstore.push.time")
	require.Contains(t, pt, store)
	assert.Positive(t, pt[store])
	assert.InDelta(t, st.Pushes.Sum.Seconds(), pt[store], 1e-12)

	// Units and descriptions.
	units := map[string]string{
		"recstore.find.hits": "{find}", "recstore.records": "{record}", "recstore.bytes": "By",
		"recstore.push.time": "s", "recstore.adapter.calls": "{call}", "recstore.evictions": "{record}",
	}
	for name, unit := range units {
		assert.Equal(t, unit, got[name].Unit, name)
	}
	assert.Len(t, got, 14)
	for name, m := range got {
		assert.NotEmpty(t, m.Description, name)
	}
}

// TestRegister_cumulative: each collection takes fresh Stats.
func TestRegister_cumulative(t *testing.T) {
	ctx := context.Background()
	c := newCollector(t)
	// Under an Expiry a fresh record is a plain hit; under the default
	// (Ember Data's) policy every hit reloads and counts as a stale hit.
	s := recstore.New(&recstore.Options{Adapter: recstoretest.NewMemoryAdapter(fixtures),
		Expiry: &recstore.Expiry{Soft: time.Hour}})
	defer s.Close()
	books := recstore.MustRegister[book](s, nil)
	_, err := recstoreotel.Register(s, c.provider.Meter(recstoreotel.ScopeName))
	require.NoError(t, err)

	const k = "recstore.type=books"
	got := c.collect(t)
	assert.Equal(t, map[string]int64{k: 0}, got.ints(t, "recstore.find.hits", true))
	assert.Equal(t, map[string]int64{k: 0}, got.ints(t, "recstore.records", false))
	for i := range 3 {
		_, err := books.Find(ctx, "1", nil)
		require.NoError(t, err)
		got = c.collect(t)
		assert.Equal(t, map[string]int64{k: int64(i)}, got.ints(t, "recstore.find.hits", true))
		assert.Equal(t, map[string]int64{k: 1}, got.ints(t, "recstore.find.misses", true))
		assert.Equal(t, map[string]int64{k: 1}, got.ints(t, "recstore.records", false))
	}
	// A type registered after Register is observed from then on.
	recstore.MustRegister[author](s, nil)
	assert.Equal(t, map[string]int64{k: 1, "recstore.type=authors": 0}, c.collect(t).ints(t, "recstore.records", false))
}

// gate answers FindRecord once released, telling when each call starts.
type gate struct {
	release chan struct{}
	started chan string
}

func (g *gate) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	g.started <- req.ID
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return fmt.Appendf(nil, `{"data":{"type":"books","id":%q,"attributes":{"title":"x"}}}`, req.ID), nil
}

// TestRegister_gauges: in_flight and waiting report the calls under way
// and waiting at the collection, then fall back to zero.
func TestRegister_gauges(t *testing.T) {
	c := newCollector(t)
	g := &gate{release: make(chan struct{}), started: make(chan string, 3)}
	s := recstore.New(&recstore.Options{Adapter: g, MaxConcurrentCalls: 1})
	defer s.Close()
	books := recstore.MustRegister[book](s, nil)
	_, err := recstoreotel.Register(s, c.provider.Meter(recstoreotel.ScopeName))
	require.NoError(t, err)

	var wg sync.WaitGroup
	for _, id := range []string{"1", "1", "2", "3"} { // the second "1" joins the first
		wg.Go(func() {
			_, err := books.Find(context.Background(), id, nil)
			assert.NoError(t, err)
		})
	}
	<-g.started
	require.Eventually(t, func() bool {
		st := s.Stats()
		return st.Waiting == 2 && st.SharedWaiters == 1
	}, 5*time.Second, time.Millisecond)
	got := c.collect(t)
	assert.Equal(t, map[string]int64{"": 1}, got.ints(t, "recstore.adapter.in_flight", false))
	assert.Equal(t, map[string]int64{"": 2}, got.ints(t, "recstore.adapter.waiting", false))
	assert.Equal(t, map[string]int64{"": 1}, got.ints(t, "recstore.adapter.shared_waiters", true))
	close(g.release)
	wg.Wait()
	got = c.collect(t)
	assert.Equal(t, map[string]int64{"": 0}, got.ints(t, "recstore.adapter.in_flight", false))
	assert.Equal(t, map[string]int64{"": 0}, got.ints(t, "recstore.adapter.waiting", false))
	assert.Equal(t, map[string]int64{"": 3}, got.ints(t, "recstore.adapter.calls", true))
}

// TestRegister_coalesced counts the FindMany batches coalesced Finds
// went out in.
func TestRegister_coalesced(t *testing.T) {
	c := newCollector(t)
	m := recstoretest.NewMemoryAdapter(fixtures)
	s := recstore.New(&recstore.Options{Adapter: m, Coalesce: &recstore.CoalesceOptions{}})
	defer s.Close()
	books := recstore.MustRegister[book](s, nil)
	_, err := recstoreotel.Register(s, c.provider.Meter(recstoreotel.ScopeName))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for _, id := range []string{"1", "2"} {
		wg.Go(func() {
			_, err := books.Find(context.Background(), id, nil)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	got := c.collect(t).ints(t, "recstore.adapter.coalesced_batches", true)
	assert.Equal(t, map[string]int64{"": int64(m.Calls("FindMany"))}, got)
	assert.Positive(t, got[""])
}

// TestRegister_unregister: once unregistered, the Store is no longer
// observed, and a second Register on the same Meter works.
func TestRegister_unregister(t *testing.T) {
	c := newCollector(t)
	s := recstore.New(&recstore.Options{Adapter: recstoretest.NewMemoryAdapter(fixtures)})
	defer s.Close()
	recstore.MustRegister[book](s, nil)
	meter := c.provider.Meter(recstoreotel.ScopeName)
	reg, err := recstoreotel.Register(s, meter)
	require.NoError(t, err)
	require.Contains(t, c.collect(t), "recstore.find.hits")

	require.NoError(t, reg.Unregister())
	assert.Empty(t, c.collect(t), "no observations once unregistered")

	reg, err = recstoreotel.Register(s, meter)
	require.NoError(t, err)
	assert.Len(t, c.collect(t), 14)
	require.NoError(t, reg.Unregister())
}

// TestRegister_twoStores: Stores on one Meter, told apart by their
// attributes; an attribute named like ours loses to ours.
func TestRegister_twoStores(t *testing.T) {
	ctx := context.Background()
	c := newCollector(t)
	meter := c.provider.Meter(recstoreotel.ScopeName)
	for _, name := range []string{"a", "b"} {
		s := recstore.New(&recstore.Options{Adapter: recstoretest.NewMemoryAdapter(fixtures)})
		defer s.Close()
		books := recstore.MustRegister[book](s, nil)
		_, err := recstoreotel.Register(s, meter,
			recstoreotel.WithAttributes(attribute.String("recstore.store", name), recstoreotel.TypeKey.String("overridden")),
			nil, // a nil Option is ignored
			recstoreotel.WithAttributes(attribute.String("recstore.store", name+name))) // last wins
		require.NoError(t, err)
		_, err = books.Find(ctx, "1", nil)
		require.NoError(t, err)
		if name == "b" {
			_, err = books.Find(ctx, "2", nil)
			require.NoError(t, err)
		}
	}
	got := c.collect(t)
	assert.Equal(t, map[string]int64{
		"recstore.store=aa,recstore.type=books": 1,
		"recstore.store=bb,recstore.type=books": 2,
	}, got.ints(t, "recstore.find.misses", true))
	assert.Equal(t, map[string]int64{
		"recstore.store=aa,recstore.type=overridden": 1,
		"recstore.store=bb,recstore.type=overridden": 2,
	}, got.ints(t, "recstore.adapter.calls", true), "a Store-wide metric keeps the caller's attribute")
}

// TestRegister_nil: nil arguments are an error, not a panic; any Meter
// will do, even a no-op one.
func TestRegister_nil(t *testing.T) {
	s := recstore.New(nil)
	defer s.Close()
	meter := noop.NewMeterProvider().Meter(recstoreotel.ScopeName)
	_, err := recstoreotel.Register(nil, meter)
	require.ErrorIs(t, err, recstoreotel.ErrNil)
	_, err = recstoreotel.Register(s, nil)
	require.ErrorIs(t, err, recstoreotel.ErrNil)
	reg, err := recstoreotel.Register(s, meter)
	require.NoError(t, err)
	require.NoError(t, reg.Unregister())
}

// TestRegister_concurrent collects while Finds and Pushes run, for the
// race detector.
func TestRegister_concurrent(t *testing.T) {
	// Two readers on one provider: the SDK runs the one callback for
	// each, so their collections may run it at the same time.
	r1, r2 := sdkmetric.NewManualReader(), sdkmetric.NewManualReader()
	p := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r1), sdkmetric.WithReader(r2))
	defer func() { _ = p.Shutdown(context.Background()) }()
	c := &collector{reader: r1, provider: p}
	s := recstore.New(&recstore.Options{Adapter: recstoretest.NewMemoryAdapter(fixtures)})
	defer s.Close()
	books := recstore.MustRegister[book](s, nil)
	_, err := recstoreotel.Register(s, p.Meter(recstoreotel.ScopeName))
	require.NoError(t, err)

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				_, _ = books.Find(context.Background(), fmt.Sprint(1+(i+w)%2), nil)
				_, err := books.Push(fmt.Appendf(nil, `{"data":{"type":"books","id":"p%d-%d","attributes":{"title":"x"}}}`, w, i))
				assert.NoError(t, err)
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 20 {
				var rm metricdata.ResourceMetrics
				assert.NoError(t, r2.Collect(context.Background(), &rm))
			}
		})
	}
	for range 20 {
		c.collect(t)
	}
	wg.Wait()
	// Finds of loaded books reload them in the background (Ember's
	// policy); a reload landing between the collection and Stats would
	// count a push in one and not the other.
	s.Wait()
	got := c.collect(t)
	assert.Equal(t, map[string]int64{"recstore.type=books": 202}, got.ints(t, "recstore.records", false))
	pushes := got.ints(t, "recstore.push.count", true)[""]
	assert.Equal(t, s.Stats().Pushes.Count, pushes)
	assert.GreaterOrEqual(t, pushes, int64(202), "200 Pushes, 2 answers or more")
}
