package recstore_test

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSubscribe_Cause: every change tells its subscribers what made it,
// so that one can tell the backend's news from a local edit or the
// Store's own housekeeping (as recstoreredis does to publish only the
// former).
func TestSubscribe_Cause(t *testing.T) {
	ctx := context.Background()
	album := recstore.Key{Type: "album", ID: "1"}
	mem := recstoretest.NewMemoryAdapter(`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}}}`)
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: mem})
	defer s.Close()
	var dump bytes.Buffer

	type step struct {
		name string
		do   func(t *testing.T)
		kind recstore.EventKind
		want recstore.Cause
	}
	for _, st := range []step{
		{"Find loads", func(t *testing.T) { _, err := albums.Find(ctx, "1", nil); require.NoError(t, err) }, recstore.EventAdded, recstore.CausePush},
		{"Push", func(t *testing.T) {
			_, err := s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "B"}}}`)
			require.NoError(t, err)
		}, recstore.EventUpdated, recstore.CausePush},
		{"an edit", func(t *testing.T) {
			_, err := albums.Edit("1", func(a *Album) { a.Title = "C" })
			require.NoError(t, err)
		}, recstore.EventUpdated, recstore.CauseLocal},
		{"Rollback", func(t *testing.T) { require.NoError(t, albums.Rollback("1")) }, recstore.EventUpdated, recstore.CauseLocal},
		{"Dump, then Unload", func(t *testing.T) {
			require.NoError(t, s.Dump(ctx, &dump))
			require.NoError(t, albums.Unload("1"))
		}, recstore.EventRemoved, recstore.CauseUnload},
		{"Restore", func(t *testing.T) { require.NoError(t, s.Restore(ctx, &dump)) }, recstore.EventAdded, recstore.CauseRestore},
	} {
		t.Run(st.name, func(t *testing.T) {
			c := newCollector()
			sub := s.Subscribe(&recstore.SubscribeOptions{Key: album}, c.fn)
			defer sub.Close()
			st.do(t)
			b := rawNext(t, c)
			require.Len(t, b, 1)
			assert.Equal(t, st.kind, b[0].Kind)
			assert.Equal(t, st.want, b[0].Cause, "got %v", b[0].Cause)
		})
	}

	// A save: it starts (local: State.Saving), then the backend confirms.
	_, err := albums.Edit("1", func(a *Album) { a.Title = "D" })
	require.NoError(t, err)
	c := newCollector()
	sub := s.Subscribe(&recstore.SubscribeOptions{Key: album}, c.fn)
	_, err = albums.Save(ctx, "1")
	require.NoError(t, err)
	var got recstore.Cause
	for got != recstore.CauseLocal|recstore.CauseSave {
		b := rawNext(t, c)
		if t.Failed() {
			break
		}
		for _, e := range b {
			got |= e.Cause
		}
	}
	sub.Close()
	assert.Equal(t, recstore.CauseLocal|recstore.CauseSave, got, "got %v", got)

	// Eviction.
	b := recstore.New(&recstore.Options{MaxRecords: 1})
	defer b.Close()
	bl := recstore.MustRegister[Label](b, nil)
	c = newCollector()
	sub = b.Subscribe(nil, c.fn)
	_, err = bl.Push(`{"data": [{"type": "label", "id": "1"}]}`)
	require.NoError(t, err)
	_, err = bl.Push(`{"data": [{"type": "label", "id": "2"}]}`)
	require.NoError(t, err)
	_, err = bl.Push(`{"data": [{"type": "label", "id": "3"}]}`)
	require.NoError(t, err)
	for evicted := false; !evicted; {
		for _, e := range rawNext(t, c) {
			if e.Kind == recstore.EventRemoved {
				evicted = true
				assert.Equal(t, recstore.CauseEvict, e.Cause)
			}
		}
	}
	sub.Close()
}

func TestCause_String(t *testing.T) {
	for c, want := range map[recstore.Cause]string{
		0:                                        "none",
		recstore.CausePush:                       "push",
		recstore.CauseLocal | recstore.CauseSave: "local|save",
		recstore.CauseRestore | 1<<7:             "restore|Cause(?)",
	} {
		assert.Equal(t, want, c.String())
	}
	assert.True(t, (recstore.CauseLocal | recstore.CauseSave).Has(recstore.CauseSave))
	assert.False(t, recstore.CausePush.Has(recstore.CauseSave))
	assert.False(t, recstore.CausePush.Has(0))
}

// rawNext takes the next batch a collector holds.
func rawNext(t *testing.T, c *collector) []recstore.Event {
	t.Helper()
	select {
	case <-c.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no batch")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.batches[0]
	c.batches = c.batches[1:]
	return b
}

// TestSubscription_Drain: Drain returns once every batch published before
// it was delivered, and at once after Close or when ctx ends.
func TestSubscription_Drain(t *testing.T) {
	s, _, labels, _, _ := newStore(t, nil)
	defer s.Close()
	release := make(chan struct{})
	var got atomic.Int64
	sub := s.Subscribe(nil, func(b []recstore.Event) {
		<-release
		got.Add(int64(len(b)))
	})
	for i := range 10 {
		_, err := labels.Push(fmt.Sprintf(`{"data": {"type": "label", "id": "%d"}}`, i))
		require.NoError(t, err)
	}
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, sub.Drain(short), context.DeadlineExceeded, "fn is blocked")
	close(release)
	require.NoError(t, sub.Drain(context.Background()))
	assert.Equal(t, int64(10), got.Load(), "every event before Drain was delivered")
	sub.Close()
	require.NoError(t, sub.Drain(context.Background()), "closed: nothing to wait for")
}

// TestUnloadUnchanged: a record with local changes stays, edit and all;
// a clean one is unloaded.
func TestUnloadUnchanged(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	defer s.Close()
	_, err := s.Push(`{"data": [{"type": "album", "id": "1"}, {"type": "album", "id": "2"}]}`)
	require.NoError(t, err)
	_, err = albums.Edit("2", func(a *Album) { a.Title = "mine" })
	require.NoError(t, err)
	require.NoError(t, s.UnloadUnchanged(recstore.Key{Type: "album", ID: "1"}))
	assert.False(t, albums.Has("1"))
	require.ErrorIs(t, s.UnloadUnchanged(recstore.Key{Type: "album", ID: "2"}), recstore.ErrChanged)
	a, ok := albums.Peek("2")
	require.True(t, ok)
	assert.Equal(t, "mine", a.Title)
	require.ErrorIs(t, s.UnloadUnchanged(recstore.Key{Type: "album", ID: "1"}), recstore.ErrNotLoaded)
}
