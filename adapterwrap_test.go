package recstore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingFinds wraps an Adapter and changes only FindRecord: every other
// capability is the wrapped one's, through Unwrap.
type countingFinds struct {
	next  recstore.Adapter
	finds atomic.Int64
}

func (c *countingFinds) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	c.finds.Add(1)
	return c.next.FindRecord(ctx, req)
}

func (c *countingFinds) Unwrap() recstore.Adapter { return c.next }

// quietMemory is a ReloadPolicy: a wrapped Adapter's policy applies too.
type quietMemory struct {
	*recstoretest.MemoryAdapter
	recstore.DefaultReloadPolicy
}

func (quietMemory) ShouldBackgroundReloadRecord(*recstore.Snapshot) bool { return false }

// selfish unwraps to itself: the Store must not loop.
type selfish struct{ recstore.AdapterFunc }

func (s selfish) Unwrap() recstore.Adapter { return s }

func TestAdapterWrapper(t *testing.T) {
	ctx := context.Background()
	mem := recstoretest.NewMemoryAdapter(
		`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}}}`,
		`{"data": {"type": "album", "id": "2", "attributes": {"title": "B"}}}`)
	w := &countingFinds{next: quietMemory{MemoryAdapter: mem}}
	var _ recstore.AdapterWrapper = w
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: w})
	defer s.Close()

	_, err := albums.Find(ctx, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), w.finds.Load(), "FindRecord is the wrapper's")
	_, err = albums.Find(ctx, "1", nil)
	require.NoError(t, err)
	s.Wait()
	assert.Equal(t, int64(1), w.finds.Load(), "the wrapped Adapter's ReloadPolicy says no background reload")

	all, err := albums.FindAll(ctx, &recstore.FindOptions{Reload: recstore.ReloadAlways})
	require.NoError(t, err, "FindAll is found on the wrapped Adapter")
	assert.Len(t, all, 2)

	_, err = albums.Edit("1", func(a *Album) { a.Title = "A2" })
	require.NoError(t, err)
	_, err = albums.Save(ctx, "1")
	require.NoError(t, err, "UpdateRecord is found on the wrapped Adapter")
	assert.Equal(t, recstore.StatusLoaded, albums.State("1").Status)

	// A chain that loops ends: FindAll is simply not supported.
	s2, albums2, _, _, _ := newStore(t, &recstore.Options{Adapter: selfish{func(context.Context, *recstore.Request) ([]byte, error) {
		return nil, recstore.ErrNotFound
	}}})
	defer s2.Close()
	_, err = albums2.FindAll(ctx, nil)
	require.ErrorIs(t, err, recstore.ErrNotSupported)
}
