package recstore_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInvalidate_loadsUnderWay: a record invalidated while any load that
// brings it is under way (FindAll, Query, FindMany, a Find's included
// records) lands still invalidated, held or not: the answer may predate
// the change. A load begun after it lands fresh.
func TestInvalidate_loadsUnderWay(t *testing.T) {
	ctx := context.Background()
	one := recstore.Key{Type: "album", ID: "1"}
	loads := map[string]func(*recstore.Store) error{
		"FindAll": func(s *recstore.Store) error {
			_, err := s.FindAll(ctx, "album", &recstore.FindOptions{Reload: recstore.ReloadAlways})
			return err
		},
		"Query": func(s *recstore.Store) error {
			_, err := s.Query(ctx, "album", url.Values{})
			return err
		},
		"included": func(s *recstore.Store) error {
			_, err := s.Find(ctx, recstore.Key{Type: "track", ID: "t1"}, &recstore.FindOptions{Include: []string{"album"}, Reload: recstore.ReloadAlways})
			return err
		},
	}
	for name, load := range loads {
		for _, held := range []bool{true, false} {
			for _, all := range []bool{false, true} {
				t.Run(name, func(t *testing.T) {
					mem := recstoretest.NewMemoryAdapter(
						`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}, "relationships": {"tracks": {"data": [{"type": "track", "id": "t1"}]}}}}`,
						`{"data": {"type": "track", "id": "t1", "attributes": {"title": "x"}, "relationships": {"album": {"data": {"type": "album", "id": "1"}}}}}`)
					s, _, _, _, _ := newStore(t, &recstore.Options{Adapter: mem})
					defer s.Close()
					if held {
						_, err := s.Find(ctx, one, nil)
						require.NoError(t, err)
						s.Wait()
					}
					mem.Delay = 60 * time.Millisecond
					done := make(chan error, 1)
					go func() { done <- load(s) }()
					time.Sleep(20 * time.Millisecond) // the load is under way
					if all {
						require.NoError(t, s.InvalidateAll("album"))
					} else {
						require.NoError(t, s.Invalidate(one))
					}
					require.NoError(t, <-done)
					f, ok := s.Freshness(one)
					require.True(t, ok)
					assert.True(t, f.Invalidated, "held=%v all=%v: an answer begun before the invalidation is not fresh", held, all)

					mem.Delay = 0
					require.NoError(t, load(s))
					f, _ = s.Freshness(one)
					assert.False(t, f.Invalidated, "a load begun after it is")
				})
			}
		}
	}
}

// TestInvalidate_saveUnderWay: a save's answer that lands after an
// Invalidate made while it was under way leaves the record invalidated:
// the change another party made may have reached the backend after it.
func TestInvalidate_saveUnderWay(t *testing.T) {
	ctx := context.Background()
	mem := recstoretest.NewMemoryAdapter(`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}}}`)
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: mem})
	defer s.Close()
	_, err := albums.Find(ctx, "1", nil)
	require.NoError(t, err)
	s.Wait()
	for _, invalidate := range []bool{true, false} {
		_, err = albums.Edit("1", func(a *Album) { a.Title += "!" })
		require.NoError(t, err)
		mem.Delay = 40 * time.Millisecond
		done := make(chan error, 1)
		go func() { _, err := albums.Save(ctx, "1"); done <- err }()
		time.Sleep(10 * time.Millisecond)
		if invalidate {
			require.NoError(t, s.Invalidate(recstore.Key{Type: "album", ID: "1"}))
		}
		require.NoError(t, <-done)
		mem.Delay = 0
		_, f, _ := albums.PeekFreshness("1")
		assert.Equal(t, invalidate, f.Invalidated, "invalidated during the save: %v", invalidate)
	}
}
