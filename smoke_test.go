package recstore_test

import (
	"testing"

	"github.com/recstore/recstore"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	s, albums, labels, tracks, _ := newStore(t, nil)
	_, err := s.Push(`{"data":{"type":"album","id":1,"attributes":{"title":"A","artist":"X","songCount":3},
	  "relationships":{"label":{"data":{"type":"label","id":"7"}},"tracks":{"data":[{"type":"track","id":"t1"},{"type":"track","id":"t2"}]}}},
	  "included":[{"type":"label","id":"7","attributes":{"name":"Sub Pop"}},{"type":"track","id":"t1","attributes":{"title":"one"}}]}`)
	require.NoError(t, err)
	a, ok := albums.Peek("1")
	require.True(t, ok)
	assert.Equal(t, "A", a.Title)
	require.NotNil(t, a.Label)
	assert.Equal(t, "Sub Pop", a.Label.Name)
	require.Len(t, a.Tracks, 1)
	tr, ok := tracks.Peek("t1")
	require.True(t, ok)
	require.NotNil(t, tr.Album)
	assert.Equal(t, "A", tr.Album.Title)
	rel, ok := albums.Related("1", "tracks")
	require.True(t, ok)
	assert.Len(t, rel.Keys, 2)
	assert.Len(t, rel.NotLoaded, 1)
	_, err = s.Push(`{"data":{"type":"track","id":"t1","relationships":{"album":{"data":{"type":"album","id":"2"}}}}}`)
	require.NoError(t, err)
	rel, _ = albums.Related("1", "tracks")
	assert.Equal(t, "t2", rel.Keys[0].ID)
	assert.Len(t, rel.Keys, 1)
	_ = labels
	t.Log(recstore.Dump(s))
}
