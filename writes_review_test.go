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

// Regression tests for what a review of the write path found.

func TestSave_LandsWhenCtxEndsAfterSuccess(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := recstoretest.NewMemoryAdapter()
	m.OnSave = func(string, *recstore.Request, map[string]any) error { cancel(); return nil }
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: m})
	defer s.Close()
	k, err := albums.Create(Album{Title: "a"})
	require.NoError(t, err)
	nk, err := s.Save(ctx, k)
	require.NoError(t, err, "the backend created it: the answer lands")
	assert.Equal(t, recstore.StatusLoaded, s.State(nk).Status)
	assert.Equal(t, 1, m.Calls("CreateRecord"))
}

func TestRelationshipChangesSettle(t *testing.T) {
	s, _, _, _, _ := newStore(t, nil)
	_, err := s.Push(`{"data": [{"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "t1"}, {"type": "track", "id": "t2"}]}}},
		{"type": "album", "id": "2", "relationships": {"tracks": {"data": []}}}],
		"included": [{"type": "track", "id": "t1"}, {"type": "track", "id": "t2"}]}`)
	require.NoError(t, err)
	t1, a1, a2 := recstore.Key{Type: "track", ID: "t1"}, recstore.Key{Type: "album", ID: "1"}, recstore.Key{Type: "album", ID: "2"}

	require.NoError(t, s.SetRelated(t1, "album", a2))
	assert.Len(t, s.ChangedRelationships(a2), 1)
	require.NoError(t, s.Rollback(t1))
	for _, k := range []recstore.Key{t1, a1, a2} {
		assert.Nil(t, s.ChangedRelationships(k), "%v after the rollback", k)
		assert.Equal(t, recstore.StatusLoaded, s.State(k).Status, "%v after the rollback", k)
	}

	require.NoError(t, s.SetRelated(t1, "album", a2))
	require.NoError(t, s.SetRelated(t1, "album", a1))
	for _, k := range []recstore.Key{t1, a1, a2} {
		assert.Nil(t, s.ChangedRelationships(k), "%v set back", k)
		assert.Equal(t, recstore.StatusLoaded, s.State(k).Status, "%v set back", k)
	}
	require.NoError(t, recstore.CheckInverses(s))
}

func TestSetAttr_RefusesLossyConversions(t *testing.T) {
	s, _, _, _, kinds := newStore(t, nil)
	_, err := s.Push(`{"data": {"type": "kinds", "id": 1, "attributes": {"i8": 1, "u": 1, "f32": 1.5}}}`)
	require.NoError(t, err)
	k := recstore.Key{Type: "kinds", ID: "1"}
	for _, tc := range []struct {
		attr  string
		value any
		ok    bool
	}{
		{"i", 3.9, false},
		{"i", 3.0, true},
		{"i8", 300, false},
		{"i8", -128, true},
		{"u", -1, false},
		{"u", uint8(7), true},
		{"f32", 0.1, false}, // float32 cannot hold 0.1 exactly
		{"f32", 0.5, true},
		{"f64", float32(0.1), true},
	} {
		err := s.SetAttr(k, tc.attr, tc.value)
		if tc.ok {
			assert.NoError(t, err, "%s = %v", tc.attr, tc.value)
			continue
		}
		var ae *recstore.AttributeError
		require.ErrorAs(t, err, &ae, "%s = %v", tc.attr, tc.value)
		assert.ErrorIs(t, err, recstore.ErrLossyCoercion)
		assert.ErrorIs(t, err, recstore.ErrInvalidAttribute)
	}
	v, _ := kinds.Peek("1")
	assert.EqualValues(t, -128, v.I8)
	assert.EqualValues(t, 7, v.U)
}

func TestCreate_LocalIdentifiers(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	_, err := albums.Create(Album{ID: recstore.LIDPrefix + "album-2"})
	assert.ErrorIs(t, err, recstore.ErrIDInUse, "a client id that looks like a lid")
	// A backend may use such ids: new lids go around them.
	_, err = s.Push(`{"data": {"type": "album", "id": "@lid:album-1"}}`)
	require.NoError(t, err)
	k, err := albums.Create(Album{Title: "x"})
	require.NoError(t, err)
	assert.NotEqual(t, "@lid:album-1", k.ID)

	_, err = s.Create(nil)
	assert.Error(t, err)
	_, err = s.Create((*Album)(nil))
	assert.Error(t, err)
}

type panicIDs struct{ recstoretest.MemoryAdapter }

func (*panicIDs) GenerateID(string, *recstore.Snapshot) (string, error) { panic("no ids today") }

func TestCreate_GenerateIDPanics(t *testing.T) {
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: &panicIDs{}})
	defer s.Close()
	_, err := albums.Create(Album{Title: "x"})
	require.ErrorIs(t, err, recstore.ErrPanic)
	assert.Zero(t, albums.Len())
}

func TestSave_BadAnswers(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{
		{"not JSON", `not json`},
		{"errors with a 200", `{"errors": [{"title": "x"}]}`},
		{"an empty list", `{"data": []}`},
		{"another record", `{"data": {"type": "albums", "id": "2"}}`},
		{"another type", `{"data": {"type": "tracks", "id": "1"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ad := saveAnswerAdapter{[]byte(tc.answer)}
			s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: ad})
			defer s.Close()
			_, err := s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "a"}}}`)
			require.NoError(t, err)
			_, err = albums.Edit("1", func(a *Album) { a.Title = "b" })
			require.NoError(t, err)
			got, err := albums.Save(context.Background(), "1")
			require.ErrorIs(t, err, recstore.ErrBadResponse)
			assert.Equal(t, "b", got.Title, "Model.Save returns the record as left")
			assert.Equal(t, "root.loaded.updated.uncommitted", albums.State("1").Name())
			assert.Error(t, albums.State("1").Err)
		})
	}
}

func TestState_CleanButInvalid(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "a"}}}`)
	m.FailNext("UpdateRecord", recstoretest.Invalid("/data", "record is bad"))
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: m})
	defer s.Close()
	_, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	_, err = albums.Save(context.Background(), "1")
	require.ErrorIs(t, err, recstore.ErrInvalid)
	st := albums.State("1")
	assert.Equal(t, recstore.StatusLoaded, st.Status)
	assert.False(t, st.IsValid(), "the errors stay until the next save")
	assert.Equal(t, map[string][]string{recstore.BaseErrors: {"record is bad"}}, st.Errors)
	// Ember checks dirtiness before validity: nothing to save, so saved.
	assert.Equal(t, "root.loaded.saved", st.Name())
}

func TestSetRelated_LeavesTheCallersSlice(t *testing.T) {
	s, _, _, tracks, _ := newStore(t, nil)
	_, err := s.Push(`{"data": {"type": "album", "id": "1"}}`)
	require.NoError(t, err)
	k, err := tracks.Create(Track{Title: "t"})
	require.NoError(t, err)
	_, err = s.Push(`{"data": {"type": "track", "id": "9", "lid": "` + k.ID + `"}}`)
	require.NoError(t, err)
	keys := []recstore.Key{k}
	require.NoError(t, s.SetRelated(recstore.Key{Type: "album", ID: "1"}, "tracks", keys...))
	assert.Equal(t, k, keys[0])
	rel, _ := s.Related(recstore.Key{Type: "album", ID: "1"}, "tracks")
	assert.Equal(t, []recstore.Key{{Type: "track", ID: "9"}}, rel.Keys, "stored resolved")
}

func TestModelUnloadAll_WhileSaving(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "1"}}`)
	hold, entered := make(chan struct{}), make(chan struct{})
	m.OnSave = func(string, *recstore.Request, map[string]any) error { close(entered); <-hold; return nil }
	s, albums, _, _, _ := newStore(t, &recstore.Options{Adapter: m})
	defer s.Close()
	_, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	done := make(chan error)
	go func() { _, err := albums.Save(context.Background(), "1"); done <- err }()
	<-entered
	assert.ErrorIs(t, albums.UnloadAll(), recstore.ErrSaving)
	assert.Equal(t, 1, albums.Len(), "nothing unloaded")
	close(hold)
	require.NoError(t, <-done)
	require.NoError(t, albums.UnloadAll())
	assert.False(t, errors.Is(albums.Unload("1"), recstore.ErrSaving))
}

// A record that leaves the Store (unloaded, or its deletion saved) leaves
// both the backend's and the local view of an inverse changed locally.
func TestLeavingRecordLeavesBothLayers(t *testing.T) {
	for _, how := range []string{"unload", "delete"} {
		t.Run(how, func(t *testing.T) {
			m := recstoretest.NewMemoryAdapter(`{"data": [{"type": "tracks", "id": "t1"}]}`)
			s, _, _, _, _ := newStore(t, &recstore.Options{Adapter: m})
			defer s.Close()
			_, err := s.Push(`{"data": [{"type": "album", "id": "a1", "relationships": {"tracks": {"data": [{"type": "track", "id": "t1"}, {"type": "track", "id": "t2"}]}}},
				{"type": "album", "id": "a2", "relationships": {"tracks": {"data": []}}}],
				"included": [{"type": "track", "id": "t1"}, {"type": "track", "id": "t2"}]}`)
			require.NoError(t, err)
			t1, t2 := recstore.Key{Type: "track", ID: "t1"}, recstore.Key{Type: "track", ID: "t2"}
			a1 := recstore.Key{Type: "album", ID: "a1"}
			require.NoError(t, s.SetRelated(t2, "album", recstore.Key{Type: "album", ID: "a2"}))
			if how == "unload" {
				require.NoError(t, s.Unload(t1))
			} else {
				require.NoError(t, s.Delete(t1))
				_, err := s.Save(context.Background(), t1)
				require.NoError(t, err)
			}
			rel, _ := s.Related(a1, "tracks")
			assert.Empty(t, rel.Keys, "a1 holds neither t1 (gone) nor t2 (moved locally)")
			require.NoError(t, s.Rollback(t2))
			rel, _ = s.Related(a1, "tracks")
			assert.Equal(t, []recstore.Key{t2}, rel.Keys)
			assert.Nil(t, s.ChangedRelationships(a1))
			assert.Equal(t, recstore.StatusLoaded, s.State(a1).Status)
		})
	}
}

// A push that fails after giving a record known by reference a local
// identifier leaves nothing of it behind.
func TestFailedPushForgetsLocalIdentifiers(t *testing.T) {
	s, albums, _, tracks, _ := newStore(t, nil)
	_, err := albums.Push(`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "7"}]}}},
		"included": [{"type": "track", "id": "8"}]}`)
	require.NoError(t, err)
	k, err := tracks.Create(Track{Title: "local"})
	require.NoError(t, err)
	k2, err := tracks.Create(Track{Title: "local 2"})
	require.NoError(t, err)
	before := recstore.Dump(s)
	_, err = s.Push(`{"data": [{"type": "track", "id": "7", "lid": "` + k.ID + `"}, {"type": "track", "id": "8", "lid": "` + k2.ID + `"}]}`)
	require.ErrorIs(t, err, recstore.ErrIDInUse)
	assert.Equal(t, before, recstore.Dump(s))
	assert.Equal(t, k, s.Resolve(k))
	assert.Equal(t, recstore.Key{Type: "track", ID: "7"}, s.Resolve(recstore.Key{Type: "track", ID: "7"}))
	_, err = s.Push(`{"data": {"type": "track", "id": "7", "attributes": {"title": "seven"}}}`)
	require.NoError(t, err)
	assert.Equal(t, recstore.StatusLoaded, tracks.State("7").Status)
	assert.Equal(t, recstore.StatusCreated, tracks.State(k.ID).Status)
}

// A local identifier is never a backend's id, before its record's save
// or after.
func TestPushedIDThatIsASavedLID(t *testing.T) {
	s, _, _, tracks, _ := newStore(t, &recstore.Options{Adapter: recstoretest.NewMemoryAdapter()})
	defer s.Close()
	k, err := tracks.Create(Track{Title: "t"})
	require.NoError(t, err)
	nk, err := s.Save(context.Background(), k)
	require.NoError(t, err)
	_, err = s.Push(`{"data": {"type": "track", "id": "` + k.ID + `", "attributes": {"title": "x"}}}`)
	require.ErrorIs(t, err, recstore.ErrInvalidDocument)
	tr, _ := tracks.Peek(nk.ID)
	assert.Equal(t, "t", tr.Title)
}
