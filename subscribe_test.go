package recstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ev is an Event as tests compare it.
type ev struct {
	Kind  recstore.EventKind
	Key   recstore.Key
	Attrs []string
	Rels  []string
	State bool
}

func evs(events []recstore.Event) []ev {
	out := make([]ev, len(events))
	for i, e := range events {
		out[i] = ev{e.Kind, e.Key, e.Attrs(), e.Rels(), e.State}
	}
	return out
}

// collector gathers the batches a subscription receives.
type collector struct {
	mu      sync.Mutex
	batches [][]recstore.Event
	got     chan struct{}
}

func newCollector() *collector { return &collector{got: make(chan struct{}, 1024)} }

func (c *collector) fn(evs []recstore.Event) {
	c.mu.Lock()
	c.batches = append(c.batches, evs)
	c.mu.Unlock()
	c.got <- struct{}{}
}

// next waits for the next batch.
func (c *collector) next(t *testing.T) []ev {
	t.Helper()
	return evs(rawNext(t, c))
}

// none checks that no batch arrives (after a change that should send none,
// and one that surely sends some, which it waits for).
func (c *collector) none(t *testing.T, s *recstore.Store) {
	t.Helper()
	_, err := s.Push(`{"data": {"type": "label", "id": "sentinel", "attributes": {"name": "` + fmt.Sprint(time.Now().UnixNano()) + `"}}}`)
	require.NoError(t, err)
	b := c.next(t)
	require.Len(t, b, 1)
	assert.Equal(t, "sentinel", b[0].Key.ID, "a batch came before the sentinel's: %+v", b)
}

func TestSubscribe_EventsOfEachKind(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	defer s.Close()
	c := newCollector()
	sub := s.Subscribe(nil, c.fn)
	defer sub.Close()

	_, err := s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "A", "songCount": 3},
		"relationships": {"tracks": {"data": [{"type": "track", "id": "t1"}]}}},
		"included": [{"type": "track", "id": "t1", "attributes": {"title": "one"}}]}`)
	require.NoError(t, err)
	b := c.next(t)
	require.Len(t, b, 2, "one batch per push: %+v", b)
	assert.Equal(t, ev{Kind: recstore.EventAdded, Key: recstore.Key{Type: "album", ID: "1"},
		Attrs: []string{"title", "songCount"}, Rels: []string{"tracks"}}, b[0], "data first, in document order")
	assert.Equal(t, ev{Kind: recstore.EventAdded, Key: recstore.Key{Type: "track", ID: "t1"},
		Attrs: []string{"title"}, Rels: []string{"album"}}, b[1])

	_, err = s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "B", "songCount": 3}}}`)
	require.NoError(t, err)
	assert.Equal(t, []ev{{Kind: recstore.EventUpdated, Key: recstore.Key{Type: "album", ID: "1"}, Attrs: []string{"title"}}}, c.next(t))

	// The same push again changes nothing and sends nothing.
	_, err = s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "B", "songCount": 3}}}`)
	require.NoError(t, err)
	c.none(t, s)

	_, err = albums.Edit("1", func(a *Album) { a.Artist = "X" })
	require.NoError(t, err)
	assert.Equal(t, []ev{{Kind: recstore.EventUpdated, Key: recstore.Key{Type: "album", ID: "1"}, Attrs: []string{"artist"}, State: true}}, c.next(t))

	require.NoError(t, albums.Unload("1"))
	b = c.next(t)
	assert.Equal(t, ev{Kind: recstore.EventRemoved, Key: recstore.Key{Type: "album", ID: "1"}}, b[0])
	assert.Equal(t, ev{Kind: recstore.EventUpdated, Key: recstore.Key{Type: "track", ID: "t1"}, Rels: []string{"album"}}, b[1], "the inverse side")
}

func TestSubscribe_Filters(t *testing.T) {
	s, _, _, _, _ := newStore(t, nil)
	defer s.Close()
	all, albums, one := newCollector(), newCollector(), newCollector()
	defer s.Subscribe(nil, all.fn).Close()
	defer s.Subscribe(&recstore.SubscribeOptions{Type: "album"}, albums.fn).Close()
	defer s.Subscribe(&recstore.SubscribeOptions{Key: recstore.Key{Type: "album", ID: "2"}}, one.fn).Close()
	_, err := s.Push(`{"data": [{"type": "album", "id": "1"}, {"type": "album", "id": "2"}], "included": [{"type": "label", "id": "7"}]}`)
	require.NoError(t, err)
	assert.Len(t, all.next(t), 3)
	assert.Len(t, albums.next(t), 2)
	assert.Equal(t, []ev{{Kind: recstore.EventAdded, Key: recstore.Key{Type: "album", ID: "2"}}}, one.next(t))
}

func TestSubscribe_SaveStates(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "A"}}}`)
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: m})
	defer s.Close()
	_, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	s.Wait()
	c := newCollector()
	defer albums.Subscribe(c.fn).Close()
	_, err = albums.Edit("1", func(a *Album) { a.Title = "B" })
	require.NoError(t, err)
	c.next(t)
	_, err = albums.Save(context.Background(), "1")
	require.NoError(t, err)
	k := recstore.Key{Type: "album", ID: "1"}
	// The save starts, then lands: one batch each, or one batch of both
	// when the save lands before the subscriber takes the first.
	got := c.next(t)
	if len(got) < 2 {
		got = append(got, c.next(t)...)
	}
	assert.Equal(t, []ev{{Kind: recstore.EventUpdated, Key: k, State: true}, {Kind: recstore.EventUpdated, Key: k, State: true}}, got)
}

func TestSubscribe_SlowSubscriberOverflows(t *testing.T) {
	s, _, _, _, _ := newStore(t, nil)
	defer s.Close()
	release := make(chan struct{})
	var mu sync.Mutex
	var got [][]recstore.Event
	first := true
	sub := s.Subscribe(&recstore.SubscribeOptions{Type: "album", Buffer: 8}, func(evs []recstore.Event) {
		mu.Lock()
		got = append(got, evs)
		wait := first
		first = false
		mu.Unlock()
		if wait {
			<-release // a slow subscriber: every push meanwhile waits in the buffer
		}
	})
	defer sub.Close()
	push := func(id int, title string) {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": "%d", "attributes": {"title": %q}}}`, id, title))
		require.NoError(t, err)
	}
	push(0, "first")
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 }, 5*time.Second, time.Millisecond)
	// Four records updated again and again: merged, nothing dropped.
	for i := range 40 {
		push(1+i%4, fmt.Sprint("v", i))
	}
	// Then more distinct records than the buffer holds: dropped, with an
	// overflow event.
	for i := range 20 {
		push(100+i, "x")
	}
	close(release)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range got {
			for _, ev := range b {
				if ev.Kind == recstore.EventOverflow {
					return true
				}
			}
		}
		return false
	}, 5*time.Second, time.Millisecond, "the subscriber is told it overflowed")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, recstore.EventOverflow, got[1][0].Kind, "the overflow comes first in the next batch")
	assert.LessOrEqual(t, len(got[1]), 9, "the buffer is bounded")
}

func TestSubscribe_CloseFromCallbackAndPanics(t *testing.T) {
	var reports []recstore.Report
	var rmu sync.Mutex
	s, _, _, _, _ := newStore(t, &recstore.Options{OnReport: func(r recstore.Report) { rmu.Lock(); reports = append(reports, r); rmu.Unlock() }})
	defer s.Close()
	var calls atomic.Int32
	var sub *recstore.Subscription
	sub = s.Subscribe(nil, func([]recstore.Event) { calls.Add(1); sub.Close() })
	panicky := s.Subscribe(nil, func([]recstore.Event) { panic("subscriber bug") })
	defer panicky.Close()
	c := newCollector()
	defer s.Subscribe(nil, c.fn).Close()
	for i := range 3 {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "label", "id": "%d"}}`, i))
		require.NoError(t, err)
		c.next(t)
	}
	s.Close()
	assert.Equal(t, int32(1), calls.Load(), "closed from its own callback")
	rmu.Lock()
	defer rmu.Unlock()
	require.NotEmpty(t, reports)
	assert.Equal(t, recstore.ReportPanic, reports[0].Kind)
	assert.ErrorIs(t, reports[0].Err, recstore.ErrPanic)
}

func TestSubscribe_NothingAfterClose(t *testing.T) {
	s, _, _, _, _ := newStore(t, nil)
	var after atomic.Bool
	var closed atomic.Bool
	s.Subscribe(nil, func([]recstore.Event) {
		if closed.Load() {
			after.Store(true)
		}
		time.Sleep(time.Millisecond)
	})
	for i := range 50 {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "label", "id": "%d"}}`, i))
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	closed.Store(true)
	_, err := s.Push(`{"data": {"type": "label", "id": "late"}}`)
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	assert.False(t, after.Load(), "a subscriber ran after Close returned")
}

func TestSubscribe_Race(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	var seen atomic.Int64
	var subs []*recstore.Subscription
	for i := range 8 {
		opts := &recstore.SubscribeOptions{Buffer: 16}
		if i%2 == 0 {
			opts.Type = "album"
		}
		subs = append(subs, s.Subscribe(opts, func(evs []recstore.Event) {
			seen.Add(int64(len(evs)))
			for _, ev := range evs {
				if ev.Kind != recstore.EventOverflow {
					albums.Peek(ev.Key.ID)
				}
			}
		}))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": "%d", "attributes": {"songCount": %d}}}`, i%20, g*1000+i))
				if err != nil {
					t.Error(err)
				}
				if i%50 == 0 {
					subs[g].Close()
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, s.Close())
	assert.Positive(t, seen.Load())
}

// A push larger than the buffer reaches a subscriber that keeps up whole,
// and Close delivers what was published before it.
func TestSubscribe_LargePushAndClose(t *testing.T) {
	s, _, _, _, _ := newStore(t, nil)
	var got atomic.Int64
	var overflow atomic.Bool
	s.Subscribe(&recstore.SubscribeOptions{Buffer: 8}, func(evs []recstore.Event) {
		for _, ev := range evs {
			if ev.Kind == recstore.EventOverflow {
				overflow.Store(true)
			}
		}
		got.Add(int64(len(evs)))
	})
	doc := `{"data": [`
	for i := range 100 {
		if i > 0 {
			doc += ","
		}
		doc += fmt.Sprintf(`{"type": "label", "id": "%d"}`, i)
	}
	_, err := s.Push(doc + `]}`)
	require.NoError(t, err)
	require.NoError(t, s.Close(), "Close delivers what was published before it")
	assert.Equal(t, int64(100), got.Load())
	assert.False(t, overflow.Load())
}
