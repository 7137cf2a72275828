package recstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSave_pushesDuringFlight: a value being saved stays current until
// the save lands, whatever pushes arrive meanwhile: one that brings the
// same value (a reload after the backend wrote it), then an older one (a
// load begun before the write). Found by a stress test of three Stores
// saving and reloading the same records: the save's value was lost.
func TestSave_pushesDuringFlight(t *testing.T) {
	ctx := context.Background()
	mem := recstoretest.NewMemoryAdapter(`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}}}`)
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: mem})
	defer s.Close()
	_, err := albums.Find(ctx, "1", nil)
	require.NoError(t, err)
	s.Wait()
	_, err = albums.Edit("1", func(a *Album) { a.Title = "B" })
	require.NoError(t, err)
	mem.Delay = 40 * time.Millisecond
	done := make(chan error, 1)
	go func() { _, err := albums.Save(ctx, "1"); done <- err }()
	time.Sleep(10 * time.Millisecond)
	for _, title := range []string{"B", "C"} {
		_, err = s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "` + title + `"}}}`)
		require.NoError(t, err)
		a, _ := albums.Peek("1")
		assert.Equal(t, "B", a.Title, "in flight, after a push of %q", title)
	}
	require.NoError(t, <-done)
	a, _ := albums.Peek("1")
	assert.Equal(t, "B", a.Title, "saved")
	assert.Equal(t, recstore.StatusLoaded, albums.State("1").Status, "clean")
}
