package recstore_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

// Regression tests for what the review of the cache found.

func crBooks(from, n int) string {
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"type":"fr-books","id":"%d","attributes":{"title":"t%d"}}`, from+i, from+i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// Under a small bound, concurrent Finds of distinct records each return
// the record they loaded, even when another Find's push evicts it before
// it is read.
func TestReview_findUnderBound(t *testing.T) {
	ad := recstoretest.NewMemoryAdapter(crBooks(0, 2000))
	s := recstore.New(&recstore.Options{Adapter: ad, MaxRecords: 20, MaxConcurrentCalls: 64})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := range 32 {
		wg.Go(func() {
			for i := range 30 {
				id := strconv.Itoa(g*30 + i)
				b, err := books.Find(context.Background(), id, &recstore.FindOptions{BackgroundReload: recstore.ReloadNever})
				if err != nil || b.ID != id {
					failed.Add(1)
					t.Errorf("find %s: %v %+v", id, err, b)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, failed.Load())
	assert.LessOrEqual(t, books.Len(), 20+1)
}

// Estimated bytes add up exactly: after edits, rollbacks, evictions and
// UnloadAll they come back to zero, and under churn they do not drift.
func TestReview_bytesDoNotDrift(t *testing.T) {
	s, albums, tracks := evStore(t, &recstore.Options{MaxRecords: 50}, nil, nil)
	_, err := albums.Push([]byte(`{"data":{"type":"ev-albums","id":"a","attributes":{"title":"x"}}}`))
	require.NoError(t, err)
	for i := range 200 {
		evPushTrack(t, tracks, i, "a")
		if i%7 == 0 {
			_, err := tracks.Edit(strconv.Itoa(i), func(tr *evTrack) { tr.Title = strings.Repeat("y", i) })
			require.NoError(t, err)
			require.NoError(t, tracks.Rollback(strconv.Itoa(i)))
		}
	}
	st := s.Stats()
	per := float64(st.Types["ev-tracks"].Bytes) / float64(st.Types["ev-tracks"].Records)
	for i := 200; i < 400; i++ {
		evPushTrack(t, tracks, i, "a")
	}
	st = s.Stats()
	assert.InDelta(t, per, float64(st.Types["ev-tracks"].Bytes)/float64(st.Types["ev-tracks"].Records), per*0.1, "the same records, the same size")
	require.NoError(t, s.UnloadAll())
	assert.Zero(t, s.Stats().Bytes)
	assert.Zero(t, s.Stats().Records)
}

// "Forever" does not wrap into the past.
func TestReview_expirySaturates(t *testing.T) {
	ctx := context.Background()
	ad := recstoretest.NewMemoryAdapter(frBooks(1))
	s := recstore.New(&recstore.Options{Adapter: ad, Expiry: &recstore.Expiry{Soft: math.MaxInt64, Hard: math.MaxInt64}})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	for range 3 {
		_, err := books.Find(ctx, "1", nil)
		require.NoError(t, err)
	}
	s.Wait()
	assert.Equal(t, 1, ad.Calls("FindRecord"))

	for _, h := range []http.Header{
		{"Expires": {"Fri, 31 Dec 9999 23:59:59 GMT"}, "Date": {"Thu, 01 Jan 2026 00:00:00 GMT"}},
		{"Cache-Control": {"max-age=99999999999"}},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Type", "application/vnd.api+json")
			fmt.Fprint(w, `{"data":{"type":"fr-books","id":"1"}}`)
		}))
		s := recstore.New(&recstore.Options{Adapter: &recstore.HTTPAdapter{Host: srv.URL}, Expiry: &recstore.Expiry{FromHeaders: true}})
		books := recstore.MustRegister[frBook](s, nil)
		_, err := books.Find(ctx, "1", nil)
		require.NoError(t, err)
		_, f, _ := books.PeekFreshness("1")
		assert.False(t, f.Stale, "%v", h)
		assert.True(t, f.SoftExpires.After(time.Now().AddDate(50, 0, 0)), "%v: %v", h, f.SoftExpires)
		s.Close()
		srv.Close()
	}
}

// A save waiting for a call slot when Close comes fails with ErrClosed
// and never reaches the Adapter.
func TestReview_closeWhileSaveWaits(t *testing.T) {
	ad := &gateAdapter{gate: make(chan struct{}), started: make(chan struct{}, 4)}
	saves := &saveCounter{}
	s := recstore.New(&recstore.Options{Adapter: struct {
		*gateAdapter
		*saveCounter
	}{ad, saves}, MaxConcurrentCalls: 1})
	books := recstore.MustRegister[frBook](s, nil)
	_, err := books.Push([]byte(frBooks(1)))
	require.NoError(t, err)
	_, err = books.Edit("1", func(b *frBook) { b.Title = "new" })
	require.NoError(t, err)
	go func() { _, _ = books.Find(context.Background(), "2", nil) }()
	<-ad.started
	saved := make(chan error, 1)
	go func() {
		_, err := books.Save(context.Background(), "1")
		saved <- err
	}()
	require.Eventually(t, func() bool { return s.Stats().Waiting == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, s.Close())
	require.ErrorIs(t, <-saved, recstore.ErrClosed)
	assert.Zero(t, saves.n.Load(), "no save reached the Adapter")
}

type saveCounter struct{ n atomic.Int64 }

func (c *saveCounter) UpdateRecord(context.Context, *recstore.Request) ([]byte, error) {
	c.n.Add(1)
	return nil, nil
}

// A page larger than the bound does not push out the records read more
// than once: its own records wait for the next change.
func TestReview_bigPageKeepsHotSet(t *testing.T) {
	s := recstore.New(&recstore.Options{MaxRecords: 100})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	_, err := books.Push([]byte(crBooks(0, 50)))
	require.NoError(t, err)
	for range 3 {
		for i := range 50 {
			_, ok := books.Peek(strconv.Itoa(i))
			require.True(t, ok)
		}
	}
	for page := range 3 {
		_, err := books.Push([]byte(crBooks(1000+page*150, 150)))
		require.NoError(t, err)
	}
	_, err = books.Push([]byte(crBooks(5000, 1)))
	require.NoError(t, err)
	kept := 0
	for i := range 50 {
		if books.Has(strconv.Itoa(i)) {
			kept++
		}
	}
	assert.Equal(t, 50, kept, "the hot set survives a scan in big pages")
	assert.LessOrEqual(t, books.Len(), 100)
}

// An Invalidate that comes while a Find is under way is not lost when
// the Find lands.
func TestReview_invalidateDuringLoad(t *testing.T) {
	ad := &gateAdapter{gate: make(chan struct{}), started: make(chan struct{}, 1)}
	s := recstore.New(&recstore.Options{Adapter: ad, Expiry: &recstore.Expiry{Soft: time.Hour}})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	done := make(chan error, 1)
	go func() {
		_, err := books.Find(context.Background(), "1", nil)
		done <- err
	}()
	<-ad.started
	require.NoError(t, s.Invalidate(recstore.Key{Type: "fr-books", ID: "1"}))
	close(ad.gate)
	require.NoError(t, <-done)
	_, f, ok := books.PeekFreshness("1")
	require.True(t, ok)
	assert.True(t, f.Invalidated, "the answer may predate what invalidated it")
}

// Records whose relationships an eviction changed are no longer what the
// backend sent: they are marked invalidated, so Find reloads them.
func TestReview_evictionInvalidatesInverses(t *testing.T) {
	s, albums, tracks := evStore(t, nil, nil, &recstore.ModelOptions{MaxRecords: 2})
	_, err := albums.Push([]byte(`{"data":{"type":"ev-albums","id":"a"}}`))
	require.NoError(t, err)
	for i := range 4 {
		evPushTrack(t, tracks, i, "a")
	}
	f, ok := s.Freshness(recstore.Key{Type: "ev-albums", ID: "a"})
	require.True(t, ok)
	assert.True(t, f.Invalidated)
}

// A bounded Store churning through records that name records it never
// loads forgets those as the records naming them are evicted: its id
// index stays the size of what it holds.
func TestReview_churnForgetsReferences(t *testing.T) {
	s, albums, _ := evStore(t, &recstore.Options{MaxRecords: 100}, nil, nil)
	for chunk := range 20 {
		var b strings.Builder
		b.WriteString(`{"data":[`)
		for i := range 100 {
			id := chunk*100 + i
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"type":"ev-albums","id":"%d","relationships":{"tracks":{"data":[{"type":"ev-tracks","id":"%d-1"},{"type":"ev-tracks","id":"%d-2"}]}}}`, id, id, id)
		}
		b.WriteString(`]}`)
		_, err := albums.Push([]byte(b.String()))
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, albums.Len(), 200)
	assert.Less(t, recstore.IDMapSlots(s, "ev-tracks"), 2000, "not an entry for each of the 4,000 tracks ever named")
}

// slowReader answers FindRecord with what the backend held when the call
// started, once gate is closed: an answer overtaken by a save.
type slowReader struct {
	*recstoretest.MemoryAdapter
	gate    chan struct{}
	started chan struct{}
}

func (a *slowReader) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	payload, err := a.MemoryAdapter.FindRecord(ctx, req)
	a.started <- struct{}{}
	<-a.gate
	return payload, err
}

// A load whose answer was made before a save of the record was confirmed
// does not undo the save when it lands after it.
func TestReview_loadOvertakenBySave(t *testing.T) {
	ad := &slowReader{MemoryAdapter: recstoretest.NewMemoryAdapter(frBooks(1)), gate: make(chan struct{}), started: make(chan struct{}, 1)}
	s := recstore.New(&recstore.Options{Adapter: ad})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	_, err := books.Push([]byte(frBooks(1)))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := books.Find(context.Background(), "1", &recstore.FindOptions{Reload: recstore.ReloadAlways})
		done <- err
	}()
	<-ad.started // the answer holds title "t1"
	_, err = books.Edit("1", func(b *frBook) { b.Title = "saved" })
	require.NoError(t, err)
	_, err = books.Save(context.Background(), "1")
	require.NoError(t, err)
	close(ad.gate)
	require.NoError(t, <-done)
	b, _ := books.Peek("1")
	assert.Equal(t, "saved", b.Title, "the save is not undone")
	assert.Equal(t, recstore.StatusLoaded, books.State("1").Status)

	// A load made after the save lands as usual.
	ad.gate = make(chan struct{})
	close(ad.gate)
	require.NoError(t, ad.Load([]byte(`{"data":{"type":"fr-books","id":"1","attributes":{"title":"changed there"}}}`)))
	go func() { <-ad.started }()
	_, err = books.Find(context.Background(), "1", &recstore.FindOptions{Reload: recstore.ReloadAlways})
	require.NoError(t, err)
	b, _ = books.Peek("1")
	assert.Equal(t, "changed there", b.Title)
}

// A Clock that panics while a push is published leaves the Store as it
// was, and working.
func TestReview_clockPanics(t *testing.T) {
	var boom atomic.Bool
	s := recstore.New(&recstore.Options{Clock: func() time.Time {
		if boom.Load() {
			panic("clock")
		}
		return time.Now()
	}})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	_, err := books.Push([]byte(frBooks(1)))
	require.NoError(t, err)
	boom.Store(true)
	require.Panics(t, func() {
		_, _ = books.Push([]byte(`{"data":{"type":"fr-books","id":"1","attributes":{"title":"new"}}}`))
	})
	boom.Store(false)
	b, ok := books.Peek("1")
	require.True(t, ok)
	assert.Equal(t, "t1", b.Title, "the push that panicked changed nothing")
	_, err = books.Push([]byte(`{"data":{"type":"fr-books","id":"1","attributes":{"title":"new"}}}`))
	require.NoError(t, err)
	b, _ = books.Peek("1")
	assert.Equal(t, "new", b.Title)
	assert.Equal(t, 1, books.Len())
	assert.Equal(t, []recstore.Key{{Type: "fr-books", ID: "1"}}, s.Keys("fr-books"), "reads of many records are not left waiting for a half-published change")
}
