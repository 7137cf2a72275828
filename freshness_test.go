package recstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

type frBook struct {
	ID    string `jsonapi:"primary,fr-books"`
	Title string `jsonapi:"attr,title"`
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func frBooks(n int) string {
	s := `{"data":[`
	for i := range n {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(`{"type":"fr-books","id":"%d","attributes":{"title":"t%d"}}`, i+1, i+1)
	}
	return s + `]}`
}

// TestExpiry_find walks one record through fresh, stale and expired under
// a time-based policy, counting backend calls.
func TestExpiry_find(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		after     time.Duration // clock moved after the first Find
		wantCalls int           // FindRecord calls after the second Find (and Wait)
		fresh     recstore.Freshness
	}{
		{"fresh: no call", 30 * time.Second, 1, recstore.Freshness{}},
		{"stale: served, reloaded in the background", 90 * time.Second, 2, recstore.Freshness{Stale: true}},
		{"expired: reloaded before answering", 11 * time.Minute, 2, recstore.Freshness{Stale: true, Expired: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			ad := recstoretest.NewMemoryAdapter(frBooks(1))
			s := recstore.New(&recstore.Options{Adapter: ad, Clock: clock.Now,
				Expiry: &recstore.Expiry{Soft: time.Minute, Hard: 10 * time.Minute}})
			defer s.Close()
			books := recstore.MustRegister[frBook](s, nil)

			loadedAt := clock.Now()
			_, err := books.Find(ctx, "1", nil)
			require.NoError(t, err)
			require.Equal(t, 1, ad.Calls("FindRecord"))
			_, f, ok := books.PeekFreshness("1")
			require.True(t, ok)
			assert.Equal(t, loadedAt, f.LoadedAt.UTC())
			assert.Equal(t, loadedAt.Add(time.Minute), f.SoftExpires.UTC())
			assert.Equal(t, loadedAt.Add(10*time.Minute), f.HardExpires.UTC())
			assert.False(t, f.Stale)

			clock.Add(tc.after)
			_, f, _ = books.PeekFreshness("1")
			assert.Equal(t, tc.fresh.Stale, f.Stale)
			assert.Equal(t, tc.fresh.Expired, f.Expired)

			got, err := books.Find(ctx, "1", nil)
			require.NoError(t, err)
			assert.Equal(t, "t1", got.Title)
			s.Wait()
			assert.Equal(t, tc.wantCalls, ad.Calls("FindRecord"))
			if tc.wantCalls > 1 {
				_, f, _ = books.PeekFreshness("1")
				assert.False(t, f.Stale, "reloaded: fresh again")
				assert.Equal(t, loadedAt.Add(tc.after), f.LoadedAt.UTC())
			}
		})
	}
}

// TestExpiry_serviceLoad is the complaint: one miss and ten spaced
// hits made 11 backend calls under Ember's policy; under an Expiry they
// make one.
func TestExpiry_serviceLoad(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		expiry *recstore.Expiry
		calls  int
	}{
		{"Ember's policy: a call per hit", nil, 11},
		{"time-based: one call", &recstore.Expiry{Soft: time.Hour}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			ad := recstoretest.NewMemoryAdapter(frBooks(1))
			s := recstore.New(&recstore.Options{Adapter: ad, Clock: clock.Now, Expiry: tc.expiry})
			defer s.Close()
			books := recstore.MustRegister[frBook](s, nil)
			for range 11 {
				_, err := books.Find(ctx, "1", nil)
				require.NoError(t, err)
				s.Wait()
				clock.Add(time.Second)
			}
			assert.Equal(t, tc.calls, ad.Calls("FindRecord"))
		})
	}
}

// TestExpiry_everyWayIn checks that a record knows when it was loaded
// however it arrived.
func TestExpiry_everyWayIn(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	ad := recstoretest.NewMemoryAdapter(frBooks(6))
	s := recstore.New(&recstore.Options{Adapter: ad, Clock: clock.Now,
		Coalesce: &recstore.CoalesceOptions{}, Expiry: &recstore.Expiry{Soft: time.Minute}})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	at := func(id string) time.Time {
		f, ok := s.Freshness(recstore.Key{Type: "fr-books", ID: id})
		require.True(t, ok, id)
		return f.LoadedAt.UTC()
	}

	t0 := clock.Now()
	_, err := books.Push([]byte(`{"data":{"type":"fr-books","id":"1","attributes":{"title":"p"}}}`))
	require.NoError(t, err)
	assert.Equal(t, t0, at("1"), "Push")

	clock.Add(time.Second)
	_, err = books.FindAll(ctx, &recstore.FindOptions{Reload: recstore.ReloadAlways})
	require.NoError(t, err)
	for _, id := range []string{"1", "2", "6"} {
		assert.Equal(t, t0.Add(time.Second), at(id), "FindAll %s", id)
	}

	clock.Add(time.Second)
	_, err = books.Query(ctx, map[string][]string{"filter[title]": {"t3"}})
	require.NoError(t, err)
	assert.Equal(t, t0.Add(2*time.Second), at("3"), "Query")
	assert.Equal(t, t0.Add(time.Second), at("4"), "not in the answer")

	// A record created here was never loaded, and never goes stale.
	k, err := books.Create(frBook{Title: "new"})
	require.NoError(t, err)
	f, ok := s.Freshness(k)
	require.True(t, ok)
	assert.True(t, f.LoadedAt.IsZero())
	clock.Add(time.Hour)
	f, _ = s.Freshness(k)
	assert.False(t, f.Stale)
	// Its save's answer loads it.
	saved, err := s.Save(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, clock.Now(), at(saved.ID), "Save")
}

// TestExpiry_perModel gives one model its own policy over the Store's.
func TestExpiry_perModel(t *testing.T) {
	type frAuthor struct {
		ID   string `jsonapi:"primary,fr-authors"`
		Name string `jsonapi:"attr,name"`
	}
	clock := newFakeClock()
	s := recstore.New(&recstore.Options{Clock: clock.Now, Expiry: &recstore.Expiry{Soft: time.Hour}})
	books := recstore.MustRegister[frBook](s, nil)
	authors := recstore.MustRegister[frAuthor](s, &recstore.ModelOptions{Expiry: &recstore.Expiry{Soft: time.Second, Hard: time.Minute}})
	_, err := books.Push([]byte(frBooks(1)))
	require.NoError(t, err)
	_, err = authors.Push([]byte(`{"data":{"type":"fr-authors","id":"1"}}`))
	require.NoError(t, err)
	clock.Add(2 * time.Second)
	_, fb, _ := books.PeekFreshness("1")
	_, fa, _ := authors.PeekFreshness("1")
	assert.False(t, fb.Stale)
	assert.True(t, fa.Stale)
	assert.False(t, fa.Expired)
}

// TestInvalidate marks records stale under any policy, until reloaded.
func TestInvalidate(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	ad := recstoretest.NewMemoryAdapter(frBooks(3))
	s := recstore.New(&recstore.Options{Adapter: ad, Clock: clock.Now, Expiry: &recstore.Expiry{Soft: time.Hour}})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	_, err := books.FindAll(ctx, nil)
	require.NoError(t, err)

	require.NoError(t, s.Invalidate(recstore.Key{Type: "fr-books", ID: "2"}, recstore.Key{Type: "fr-books", ID: "404"}))
	_, f, ok := books.PeekFreshness("2")
	require.True(t, ok, "Peek still serves it")
	assert.True(t, f.Invalidated && f.Stale && f.Expired)
	_, f, _ = books.PeekFreshness("1")
	assert.False(t, f.Stale)

	_, err = books.Find(ctx, "2", nil)
	require.NoError(t, err)
	assert.Equal(t, 1, ad.Calls("FindRecord"), "reloaded before answering")
	_, f, _ = books.PeekFreshness("2")
	assert.False(t, f.Invalidated, "loaded again")
	_, err = books.Find(ctx, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, 1, ad.Calls("FindRecord"))

	require.NoError(t, s.InvalidateAll("fr-books"))
	_, f, _ = books.PeekFreshness("3")
	assert.True(t, f.Invalidated)
	require.ErrorIs(t, s.Invalidate(recstore.Key{Type: "nope", ID: "1"}), recstore.ErrUnknownType)
	require.ErrorIs(t, s.InvalidateAll("nope"), recstore.ErrUnknownType)
}

// TestExpiry_fromHeaders reads an answer's expiry from HTTP headers, only
// when the policy asks for it.
func TestExpiry_fromHeaders(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		header      http.Header
		fromHeaders bool
		soft, hard  time.Duration // from the load time; 0 hard means none
	}{
		{"max-age", http.Header{"Cache-Control": {"public, max-age=30"}}, true, 30 * time.Second, 30 * time.Second},
		{"stale-while-revalidate", http.Header{"Cache-Control": {"max-age=30, stale-while-revalidate=60"}}, true, 30 * time.Second, 90 * time.Second},
		{"no-cache", http.Header{"Cache-Control": {"no-cache"}}, true, 0, 0 + 1},
		{"Expires", http.Header{"Expires": {"Thu, 01 Jan 2026 00:02:00 GMT"}, "Date": {"Thu, 01 Jan 2026 00:00:00 GMT"}}, true, 2 * time.Minute, 2 * time.Minute},
		{"Age taken off", http.Header{"Cache-Control": {"max-age=30"}, "Age": {"10"}}, true, 20 * time.Second, 20 * time.Second},
		{"ignored unless asked", http.Header{"Cache-Control": {"max-age=30"}}, false, time.Hour, 0},
		{"no headers", nil, true, time.Hour, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.Header().Set("Content-Type", "application/vnd.api+json")
				fmt.Fprint(w, `{"data":{"type":"fr-books","id":"1","attributes":{"title":"x"}}}`)
			}))
			defer srv.Close()
			clock := newFakeClock()
			s := recstore.New(&recstore.Options{Adapter: &recstore.HTTPAdapter{Host: srv.URL}, Clock: clock.Now,
				Expiry: &recstore.Expiry{Soft: time.Hour, FromHeaders: tc.fromHeaders}})
			defer s.Close()
			books := recstore.MustRegister[frBook](s, nil)
			_, err := books.Find(ctx, "1", nil)
			require.NoError(t, err)
			_, f, _ := books.PeekFreshness("1")
			assert.Equal(t, tc.soft, f.SoftExpires.Sub(f.LoadedAt))
			if tc.name == "no-cache" {
				assert.True(t, f.Expired)
				return
			}
			if tc.hard == 0 {
				assert.True(t, f.HardExpires.IsZero())
			} else {
				assert.Equal(t, tc.hard, f.HardExpires.Sub(f.LoadedAt))
			}
		})
	}
}

// ageAdapter reports a max-age on every answer, as an Adapter of one's own
// may.
type ageAdapter struct {
	*recstoretest.MemoryAdapter
	fresh atomic.Int64
}

func (a *ageAdapter) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	req.SetMaxAge(time.Duration(a.fresh.Load()), 0)
	return a.MemoryAdapter.FindRecord(ctx, req)
}

func TestRequest_SetMaxAge(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	ad := &ageAdapter{MemoryAdapter: recstoretest.NewMemoryAdapter(frBooks(2))}
	ad.fresh.Store(int64(5 * time.Second))
	s := recstore.New(&recstore.Options{Adapter: ad, Clock: clock.Now, Expiry: &recstore.Expiry{Soft: time.Hour, FromHeaders: true}})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	_, err := books.Find(ctx, "1", nil)
	require.NoError(t, err)
	clock.Add(6 * time.Second)
	_, err = books.Find(ctx, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, 2, ad.Calls("FindRecord"), "expired after its max-age: reloaded first")
	// A push without an expiry falls back on the type's.
	_, err = books.Push([]byte(frBooks(1)))
	require.NoError(t, err)
	_, f, _ := books.PeekFreshness("1")
	assert.Equal(t, time.Hour, f.SoftExpires.Sub(f.LoadedAt))
	assert.True(t, f.HardExpires.IsZero())
}

// TestReloadPolicy_seesFreshness lets a ReloadPolicy of one's own decide by
// age.
func TestReloadPolicy_seesFreshness(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	ad := &agePolicy{MemoryAdapter: recstoretest.NewMemoryAdapter(frBooks(1)), now: clock.Now}
	s := recstore.New(&recstore.Options{Adapter: ad, Clock: clock.Now})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	for i := range 5 {
		_, err := books.Find(ctx, "1", nil)
		require.NoError(t, err)
		clock.Add(20 * time.Second)
		_ = i
	}
	// Loaded at 0; reloaded at 40 s and 80 s (older than 30 s).
	assert.Equal(t, 3, ad.Calls("FindRecord"))
}

type agePolicy struct {
	*recstoretest.MemoryAdapter
	recstore.EmberReloadPolicy
	now func() time.Time
}

func (a *agePolicy) ShouldReloadRecord(snap *recstore.Snapshot) bool {
	return a.now().Sub(snap.Freshness().LoadedAt) > 30*time.Second
}

func (a *agePolicy) ShouldBackgroundReloadRecord(*recstore.Snapshot) bool { return false }
