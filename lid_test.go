package recstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type lidAlbum struct {
	ID     string      `jsonapi:"primary,lid-album"`
	Title  string      `jsonapi:"attr,title"`
	Tracks []*lidTrack `jsonapi:"relation,tracks" recstore:"inverse=album"`
}

type lidTrack struct {
	ID    string    `jsonapi:"primary,lid-track"`
	Name  string    `jsonapi:"attr,name"`
	Album *lidAlbum `jsonapi:"relation,album"`
}

// lidNote names a track one way: no inverse points back.
type lidNote struct {
	ID    string         `jsonapi:"primary,lid-note"`
	About recstore.Key   `jsonapi:"relation,about"`
	Refs  []recstore.Key `jsonapi:"relation,refs"`
}

func newLIDStore(t *testing.T, a recstore.Adapter) (*recstore.Store, *recstore.Model[lidAlbum], *recstore.Model[lidTrack], *recstore.Model[lidNote]) {
	t.Helper()
	s := recstore.New(&recstore.Options{Adapter: a})
	t.Cleanup(func() { s.Close() })
	return s, recstore.MustRegister[lidAlbum](s, nil), recstore.MustRegister[lidTrack](s, nil), recstore.MustRegister[lidNote](s, nil)
}

func TestLID_PushAssignsID(t *testing.T) {
	s, albums, tracks, notes := newLIDStore(t, nil)
	_, err := s.Push(`{"data": {"type": "lid-album", "id": "1", "attributes": {"title": "A"}}}`)
	require.NoError(t, err)
	a, _ := albums.Peek("1")
	k, err := tracks.Create(lidTrack{Name: "new", Album: &a})
	require.NoError(t, err)
	require.Contains(t, k.ID, recstore.LIDPrefix)
	nk, err := notes.Create(lidNote{ID: "n", About: k, Refs: []recstore.Key{k}})
	require.NoError(t, err)

	// A document names the new record by its lid...
	_, err = s.Push(`{"data": {"type": "lid-track", "lid": "` + k.ID + `", "attributes": {"name": "server"}}}`)
	require.NoError(t, err)
	tr, _ := tracks.Peek(k.ID)
	assert.Equal(t, "new", tr.Name, "a push by lid keeps the local value")
	assert.True(t, s.State(k).IsNew(), "named by its lid, it is still new")

	// ... and gives it its id.
	_, err = s.Push(`{"data": {"type": "lid-track", "id": "7", "lid": "` + k.ID + `", "attributes": {"name": "new"}}}`)
	require.NoError(t, err)
	assert.Equal(t, recstore.Key{Type: "lid-track", ID: "7"}, s.Resolve(k))
	tr, ok := tracks.Peek(k.ID)
	require.True(t, ok, "the lid still names the record")
	assert.Empty(t, s.ChangedAttributes(k), "the pushed name equals the local one")
	assert.Equal(t, "7", tr.ID)
	rel, _ := s.Related(recstore.Key{Type: "lid-album", ID: "1"}, "tracks")
	assert.Equal(t, []recstore.Key{{Type: "lid-track", ID: "7"}}, rel.Keys, "the inverse names the new id")
	n, _ := notes.Peek(nk.ID)
	assert.Equal(t, recstore.Key{Type: "lid-track", ID: "7"}, n.About, "a one-way reference names the new id")
	assert.Equal(t, []recstore.Key{{Type: "lid-track", ID: "7"}}, n.Refs)
	assert.Equal(t, 1, tracks.Len())
	assert.False(t, s.State(k).IsNew(), "the backend has it")

	// Unloading it forgets the lid too.
	require.NoError(t, tracks.Unload("7"))
	_, ok = tracks.Peek(k.ID)
	assert.False(t, ok)
}

func TestLID_Refused(t *testing.T) {
	s, _, tracks, _ := newLIDStore(t, nil)
	k, err := tracks.Create(lidTrack{Name: "new"})
	require.NoError(t, err)
	for _, tc := range []struct{ name, doc, ptr string }{
		{"id is a live lid", `{"data": {"type": "lid-track", "id": "` + k.ID + `", "attributes": {"name": "x"}}}`, "/data/id"},
		{"unknown lid", `{"data": {"type": "lid-track", "lid": "@lid:lid-track-999"}}`, "/data/lid"},
		{"lid of another type", `{"data": {"type": "lid-album", "lid": "` + k.ID + `"}}`, "/data/lid"},
		{"identifier with unknown lid", `{"data": {"type": "lid-album", "id": "1", "relationships": {"tracks": {"data": [{"type": "lid-track", "lid": "nope"}]}}}}`, "/data/relationships/tracks/data/0/lid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Push(tc.doc)
			var de *recstore.DocumentError
			require.True(t, errors.As(err, &de), "%v", err)
			assert.Equal(t, tc.ptr, de.Pointer)
			tr, _ := tracks.Peek(k.ID)
			assert.Equal(t, "new", tr.Name, "nothing changed")
		})
	}
}

func TestLID_IdentifierAndPayload(t *testing.T) {
	s, _, tracks, _ := newLIDStore(t, nil)
	k, err := tracks.Create(lidTrack{Name: "new"})
	require.NoError(t, err)
	_, err = s.Push(`{"data": {"type": "lid-album", "id": "1", "relationships": {"tracks": {"data": [{"type": "lid-track", "lid": "` + k.ID + `"}]}}}}`)
	require.NoError(t, err)
	tr, _ := tracks.Peek(k.ID)
	require.NotNil(t, tr.Album, "the inverse reached the local record")
	assert.Equal(t, "1", tr.Album.ID)

	// The JSON:API serializer passes lids through.
	_, err = s.PushPayload("lid-track", []byte(`{"data": {"type": "lid-tracks", "id": "9", "lid": "`+k.ID+`", "attributes": {"name": "saved"}}}`))
	require.NoError(t, err)
	assert.Equal(t, "9", s.Resolve(k).ID)
	tr, _ = tracks.Peek("9")
	assert.Equal(t, "new", tr.Name, "the local change stays")
	assert.Equal(t, "saved", s.ChangedAttributes(s.Resolve(k))["name"].Old)
}

func TestLID_SerializedAsLID(t *testing.T) {
	m := recstoretest.NewMemoryAdapter()
	var bodies []string
	m.OnSave = func(op string, req *recstore.Request, _ map[string]any) error {
		bodies = append(bodies, string(req.Body))
		return nil
	}
	s, albums, tracks, _ := newLIDStore(t, m)
	ak, err := albums.Create(lidAlbum{Title: "A"})
	require.NoError(t, err)
	a, _ := albums.Peek(ak.ID)
	_, err = tracks.Create(lidTrack{Name: "t", Album: &a})
	require.Error(t, err, "a related record with no id is named by its Key")
	tk, err := tracks.Create(lidTrack{Name: "t"})
	require.NoError(t, err)
	require.NoError(t, s.SetRelated(tk, "album", ak))
	b, err := s.Serialize(tk, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"data": {"type": "lid-tracks", "lid": "`+tk.ID+`", "attributes": {"name": "t"},
		"relationships": {"album": {"data": {"type": "lid-albums", "lid": "`+ak.ID+`"}}}}}`, string(b))
	nak, err := s.Save(context.Background(), ak)
	require.NoError(t, err)
	b, err = s.Serialize(tk, nil)
	require.NoError(t, err)
	assert.Contains(t, string(b), `{"type":"lid-albums","id":"`+nak.ID+`"}`, "saved: named by its id")
}
