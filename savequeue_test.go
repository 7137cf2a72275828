package recstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/require"
)

// TestSaveQueuedBehindCreate: a save that waited for a create's save runs as
// an update of the record under its new id, not on the entry it left.
func TestSaveQueuedBehindCreate(t *testing.T) {
	m := recstoretest.NewMemoryAdapter()
	hold := make(chan struct{})
	entered := make(chan struct{}, 4)
	m.OnSave = func(op string, _ *recstore.Request, _ map[string]any) error {
		entered <- struct{}{}
		<-hold
		return nil
	}
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: m})
	defer s.Close()
	k, err := albums.Create(Album{Title: "a"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var k1, k2 recstore.Key
	var e1, e2 error
	wg.Add(1)
	go func() { defer wg.Done(); k1, e1 = s.Save(context.Background(), k) }()
	<-entered
	_, err = albums.Edit(k.ID, func(a *Album) { a.Title = "b" })
	require.NoError(t, err)
	wg.Add(1)
	go func() { defer wg.Done(); k2, e2 = s.Save(context.Background(), k) }()
	close(hold)
	wg.Wait()
	require.NoError(t, e1)
	require.NoError(t, e2)
	require.Equal(t, k1, k2)
	require.Equal(t, 1, m.Calls("CreateRecord"))
	require.Equal(t, 1, m.Calls("UpdateRecord"))
	require.Equal(t, recstore.StatusLoaded, s.State(k1).Status)
}
