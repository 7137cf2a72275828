package recstore_test

import (
	"context"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// localSeeds name the records newLocalStore creates: track "@lid:track-1"
// (no id yet) and album 3 (a client id), with album 1 edited locally.
var localSeeds = []string{
	`{"data": {"type": "track", "lid": "@lid:track-1", "attributes": {"title": "server"}}}`,
	`{"data": {"type": "track", "id": "t9", "lid": "@lid:track-1", "attributes": {"title": "saved"}}}`,
	`{"data": {"type": "track", "id": "@lid:track-1"}}`,
	`{"data": {"type": "album", "id": "1", "attributes": {"title": "local"}, "relationships": {"tracks": {"data": [{"type": "track", "lid": "@lid:track-1"}]}}}}`,
	`{"data": {"type": "album", "id": "1", "attributes": {"title": "pushed"}, "relationships": {"tracks": {"data": []}}}}`,
	`{"data": {"type": "album", "id": "3", "attributes": {"title": "server 3"}}}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "lid": "@lid:track-2"}]}}}}`,
	`{"data": [{"type": "track", "id": "t9", "lid": "@lid:track-1"}, {"type": "track", "id": "t9", "lid": "@lid:track-1"}]}`,
	`{"data": {"type": "track", "id": "t1", "lid": "@lid:track-1"}}`,
	`{"data": {"type": "album", "lid": "@lid:track-1"}}`,
	`{"data": {"type": "track", "lid": 5}}`,
}

// newLocalStore returns a Store holding base, with local changes of every
// kind: a record created without an id and linked to album 1, a record
// created with a client id, and attribute and relationship edits of a
// loaded record.
func newLocalStore(t *testing.T, opts *recstore.Options) *recstore.Store {
	t.Helper()
	s, albums, _, tracks, _ := newStore(t, opts)
	t.Cleanup(func() { s.Close() })
	_, err := s.Push(base)
	require.NoError(t, err)
	k, err := tracks.Create(Track{Title: "new"})
	require.NoError(t, err)
	require.Equal(t, "@lid:track-1", k.ID)
	_, err = albums.Create(Album{ID: "3", Title: "three"})
	require.NoError(t, err)
	_, err = albums.Edit("1", func(a *Album) { a.Title = "edited"; a.Tracks = a.Tracks[:1] })
	require.NoError(t, err)
	require.NoError(t, s.SetRelated(k, "album", recstore.Key{Type: "album", ID: "1"}))
	return s
}

// FuzzPushLocal pushes documents into a Store with local changes: a
// failed push leaves the local state (values, changes, relationships'
// canonical states, local identifiers) exactly as it was, and a
// successful one, repeated, changes nothing more.
func FuzzPushLocal(f *testing.F) {
	for _, seed := range append(localSeeds, pushSeeds...) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		s := newLocalStore(t, fuzzOptions())
		before := recstore.Dump(s)
		keys, err := s.Push(doc)
		if err != nil {
			require.ErrorIs(t, err, recstore.ErrInvalidDocument)
			require.Nil(t, keys)
			require.Equal(t, before, recstore.Dump(s), "the push failed (%v) but changed the store", err)
			return
		}
		after, _ := storeState(s)
		again, err := s.Push(doc)
		require.NoError(t, err, "the same push failed the second time")
		require.Equal(t, keys, again)
		afterAgain, _ := storeState(s)
		require.Equal(t, after, afterAgain, "the same push changed the store again")
	})
}

// saveAnswerAdapter answers every save with its payload.
type saveAnswerAdapter struct{ payload []byte }

func (a saveAnswerAdapter) FindRecord(context.Context, *recstore.Request) ([]byte, error) {
	return nil, recstore.ErrNotFound
}
func (a saveAnswerAdapter) CreateRecord(context.Context, *recstore.Request) ([]byte, error) {
	return a.payload, nil
}
func (a saveAnswerAdapter) UpdateRecord(context.Context, *recstore.Request) ([]byte, error) {
	return a.payload, nil
}

// FuzzSaveAnswer saves a created and an edited record against a backend
// that answers anything: a save either lands (the record is saved, not
// new) or fails with an *AdapterError and leaves every local change in
// place; either way the record is not left saving.
func FuzzSaveAnswer(f *testing.F) {
	for _, seed := range append(localSeeds, pushSeeds...) {
		f.Add([]byte(seed))
	}
	f.Add([]byte(``))
	f.Add([]byte(`{"data": {"type": "tracks", "id": "t7", "attributes": {"title": "saved"}}}`))
	f.Add([]byte(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "saved"}}, "included": [{"type": "tracks", "id": "t5"}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		opts := fuzzOptions()
		opts.Adapter = saveAnswerAdapter{payload}
		s := newLocalStore(t, opts)
		for _, k := range []recstore.Key{{Type: "track", ID: "@lid:track-1"}, {Type: "album", ID: "1"}} {
			before := s.ChangedAttributes(k)
			nk, err := s.Save(context.Background(), k)
			st := s.State(nk)
			require.False(t, st.Saving, "a save that returned left the record saving")
			if err != nil {
				var ae *recstore.AdapterError
				require.ErrorAs(t, err, &ae)
				require.NotEmpty(t, err.Error())
				require.Equal(t, before, s.ChangedAttributes(k), "a failed save lost local changes")
				continue
			}
			require.False(t, st.IsNew(), "a saved record is new")
			require.Equal(t, nk, s.Resolve(k))
		}
	})
}
