package recstore_test

import (
	"slices"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func keys(typ string, ids ...string) []recstore.Key {
	ks := []recstore.Key{}
	for _, id := range ids {
		ks = append(ks, recstore.Key{Type: typ, ID: id})
	}
	return ks
}

// relState is what a test expects of one relationship.
type relState struct {
	known     bool
	keys      []recstore.Key
	notLoaded []recstore.Key
}

func assertRelated(t *testing.T, s *recstore.Store, k recstore.Key, name string, want relState) {
	t.Helper()
	r, ok := s.Related(k, name)
	require.True(t, ok, "%v has no relationship %q", k, name)
	assert.Equal(t, want.known, r.Known, "%v.%s known", k, name)
	if want.keys == nil {
		want.keys = []recstore.Key{}
	}
	if want.notLoaded == nil {
		want.notLoaded = []recstore.Key{}
	}
	got, gotNL := r.Keys, r.NotLoaded
	if got == nil {
		got = []recstore.Key{}
	}
	if gotNL == nil {
		gotNL = []recstore.Key{}
	}
	assert.Equal(t, want.keys, got, "%v.%s keys", k, name)
	assert.Equal(t, want.notLoaded, gotNL, "%v.%s not loaded", k, name)
}

// Relationship merge rules and inverses, as a sequence of pushes and the
// relationships they must leave.
func TestPushRelationships(t *testing.T) {
	album := func(id string) recstore.Key { return recstore.Key{Type: "album", ID: id} }
	track := func(id string) recstore.Key { return recstore.Key{Type: "track", ID: id} }
	type check struct {
		k    recstore.Key
		name string
		want relState
	}
	tests := []struct {
		name   string
		pushes []string
		checks []check
	}{
		{
			name:   "to-one data sets it; the related record need not be loaded",
			pushes: []string{`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "7"}}}}}`},
			checks: []check{{album("1"), "label", relState{true, keys("label", "7"), keys("label", "7")}}},
		},
		{
			name: "to-one data replaces",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "7"}}}}}`,
				`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "8"}}}}, "included": [{"type": "label", "id": "8"}]}`,
			},
			checks: []check{{album("1"), "label", relState{true, keys("label", "8"), nil}}},
		},
		{
			name: "to-one null clears",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "7"}}}}}`,
				`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": null}}}}`,
			},
			checks: []check{{album("1"), "label", relState{known: true}}},
		},
		{
			name: "absent relationship, or links only, leaves it",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "7"}}, "tracks": {"data": [{"type": "track", "id": "a"}]}}}}`,
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "x"}}}`,
				`{"data": {"type": "album", "id": "1", "relationships": {"label": {"links": {"related": "/albums/1/label"}}, "tracks": {"meta": {"count": 9}}}}}`,
				`{"data": {"type": "album", "id": "1", "relationships": {}}}`,
			},
			checks: []check{
				{album("1"), "label", relState{true, keys("label", "7"), keys("label", "7")}},
				{album("1"), "tracks", relState{true, keys("track", "a"), keys("track", "a")}},
			},
		},
		{
			name:   "never pushed is unknown, not empty",
			pushes: []string{`{"data": {"type": "album", "id": "1"}}`},
			checks: []check{{album("1"), "label", relState{}}, {album("1"), "tracks", relState{}}},
		},
		{
			name: "to-many data replaces, in order",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}}}}`,
				`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "c"}, {"type": "track", "id": "a"}]}}}, "included": [{"type": "track", "id": "a"}]}`,
			},
			checks: []check{
				{album("1"), "tracks", relState{true, keys("track", "c", "a"), keys("track", "c")}},
				{track("a"), "album", relState{true, keys("album", "1"), nil}},
			},
		},
		{
			name: "to-many [] clears and the inverse follows",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}]}}}, "included": [{"type": "track", "id": "a"}]}`,
				`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": []}}}}`,
			},
			checks: []check{
				{album("1"), "tracks", relState{known: true}},
				{track("a"), "album", relState{known: true}},
			},
		},
		{
			name: "duplicate members of a to-many are kept once",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}, {"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}}}}`,
			},
			checks: []check{{album("1"), "tracks", relState{true, keys("track", "a", "b"), keys("track", "a", "b")}}},
		},
		{
			name: "setting the to-one side adds to the inverse to-many",
			pushes: []string{
				`{"data": [{"type": "track", "id": "a", "relationships": {"album": {"data": {"type": "album", "id": "1"}}}},
				           {"type": "track", "id": "b", "relationships": {"album": {"data": {"type": "album", "id": "1"}}}}],
				  "included": [{"type": "album", "id": "1"}]}`,
			},
			checks: []check{
				{album("1"), "tracks", relState{true, keys("track", "a", "b"), nil}},
				{track("a"), "album", relState{true, keys("album", "1"), nil}},
			},
		},
		{
			name: "moving a track to another album takes it off the first",
			pushes: []string{
				`{"data": [{"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}}},
				           {"type": "album", "id": "2", "relationships": {"tracks": {"data": [{"type": "track", "id": "c"}]}}}],
				  "included": [{"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}`,
				`{"data": {"type": "track", "id": "a", "relationships": {"album": {"data": {"type": "album", "id": "2"}}}}}`,
			},
			checks: []check{
				{album("1"), "tracks", relState{true, keys("track", "b"), nil}},
				{album("2"), "tracks", relState{true, keys("track", "c", "a"), keys("track", "c")}},
				{track("a"), "album", relState{true, keys("album", "2"), nil}},
				{track("b"), "album", relState{true, keys("album", "1"), nil}},
			},
		},
		{
			name: "an album claiming a track takes it from its old album",
			pushes: []string{
				`{"data": [{"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}}}],
				  "included": [{"type": "track", "id": "a"}]}`,
				`{"data": [{"type": "album", "id": "2", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}]}}}]}`,
			},
			checks: []check{
				{album("1"), "tracks", relState{true, keys("track", "b"), keys("track", "b")}},
				{album("2"), "tracks", relState{true, keys("track", "a"), nil}},
				{track("a"), "album", relState{true, keys("album", "2"), nil}},
			},
		},
		{
			name: "setting a to-one to null removes it from the inverse",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}}}}`,
				`{"data": {"type": "track", "id": "b", "relationships": {"album": {"data": null}}}}`,
			},
			checks: []check{
				{album("1"), "tracks", relState{true, keys("track", "a"), keys("track", "a")}},
				{track("b"), "album", relState{known: true}},
			},
		},
		{
			name: "both sides in one document, the later one wins",
			pushes: []string{
				`{"data": [{"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}]}}},
				           {"type": "track", "id": "a", "relationships": {"album": {"data": {"type": "album", "id": "2"}}}}],
				  "included": [{"type": "album", "id": "2"}]}`,
			},
			checks: []check{
				{album("1"), "tracks", relState{known: true}},
				{album("2"), "tracks", relState{true, keys("track", "a"), nil}},
				{track("a"), "album", relState{true, keys("album", "2"), nil}},
			},
		},
		{
			name: "a cycle through included is stored once",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}]}}},
				  "included": [{"type": "track", "id": "a", "relationships": {"album": {"data": {"type": "album", "id": "1"}}}}]}`,
			},
			checks: []check{
				{album("1"), "tracks", relState{true, keys("track", "a"), nil}},
				{track("a"), "album", relState{true, keys("album", "1"), nil}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _, _ := newStore(t, nil)
			for _, p := range tt.pushes {
				_, err := s.Push(p)
				require.NoError(t, err)
				require.NoError(t, recstore.CheckInverses(s), "after %s", p)
			}
			for _, c := range tt.checks {
				assertRelated(t, s, c.k, c.name, c.want)
			}
		})
	}
}

// Reads fill relations with the related records' current state, one level
// deep, and never share memory between reads or with the store.
func TestReadsFillCurrentState(t *testing.T) {
	s, albums, labels, tracks, _ := newStore(t, nil)
	_, err := s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"},
		"relationships": {"label": {"data": {"type": "label", "id": "7"}},
		                  "tracks": {"data": [{"type": "track", "id": "a"}, {"type": "track", "id": "gone"}, {"type": "track", "id": "b"}]}}},
		"included": [{"type": "label", "id": "7", "attributes": {"name": "Old"}},
		             {"type": "track", "id": "a", "attributes": {"title": "ta"}},
		             {"type": "track", "id": "b", "attributes": {"title": "tb"}}]}`)
	require.NoError(t, err)

	a, ok := albums.Peek("1")
	require.True(t, ok)
	require.NotNil(t, a.Label)
	assert.Equal(t, Label{ID: "7", Name: "Old"}, *a.Label)
	require.Len(t, a.Tracks, 2, "tracks not loaded are left out")
	assert.Equal(t, "ta", a.Tracks[0].Title)
	assert.Equal(t, "tb", a.Tracks[1].Title)
	assert.Nil(t, a.Tracks[0].Album, "filled one level deep")

	// A later push to the label shows through the album.
	_, err = labels.Push(`{"data": {"type": "label", "id": "7", "attributes": {"name": "New"}}}`)
	require.NoError(t, err)
	a, _ = albums.Peek("1")
	assert.Equal(t, "New", a.Label.Name)

	// The track sees its album through the inverse, one level deep.
	tr, ok := tracks.Peek("a")
	require.True(t, ok)
	require.NotNil(t, tr.Album)
	assert.Equal(t, "A", tr.Album.Title)
	assert.Nil(t, tr.Album.Label)
	assert.Nil(t, tr.Album.Tracks)

	// Mutating what a read returned changes nothing.
	a.Title = "mutated"
	a.Label.Name = "mutated"
	a.Tracks[0].Title = "mutated"
	a.Tracks = append(a.Tracks[:0], &Track{ID: "zz"})
	b, _ := albums.Peek("1")
	assert.Equal(t, "A", b.Title)
	assert.Equal(t, "New", b.Label.Name)
	assert.Equal(t, "ta", b.Tracks[0].Title)
	assert.NotSame(t, b.Label, a.Label)

	// An unloaded related record disappears from reads but stays named.
	require.NoError(t, labels.Unload("7"))
	b, _ = albums.Peek("1")
	assert.Nil(t, b.Label)
	assertRelated(t, s, recstore.Key{Type: "album", ID: "1"}, "label", relState{true, keys("label", "7"), keys("label", "7")})
}

func TestReadsCopyAttributes(t *testing.T) {
	s, _, _, _, kinds := newStore(t, nil)
	_, err := s.Push(`{"data": {"type": "kinds", "id": 1, "attributes": {"tags": ["a"], "meta": {"m": [1]}, "ps": "p",
		"nested": {"Tags": ["n"]}, "scores": {"x": 1}, "points": [{"X": 1}]}}}`)
	require.NoError(t, err)
	k, _ := kinds.Peek("1")
	k.Tags[0] = "changed"
	k.Meta["m"].([]any)[0] = "changed"
	*k.PS = "changed"
	k.Nested.Tags[0] = "changed"
	k.Scores["x"] = 9
	k.Points[0].X = 9
	k2, _ := kinds.Peek("1")
	assert.Equal(t, []string{"a"}, k2.Tags)
	assert.Equal(t, map[string]any{"m": []any{1.0}}, k2.Meta)
	assert.Equal(t, "p", *k2.PS)
	assert.Equal(t, []string{"n"}, k2.Nested.Tags)
	assert.Equal(t, map[string]int{"x": 1}, k2.Scores)
	assert.Equal(t, 1, k2.Points[0].X)
}

// Key and []Key relations hold identifiers of any registered type.
func TestKeyRelations(t *testing.T) {
	s, _, _, _, kinds := newStore(t, nil)
	_, err := s.Push(`{"data": {"type": "kinds", "id": 1, "relationships": {
		"ref": {"data": {"type": "album", "id": "1"}},
		"refs": {"data": [{"type": "label", "id": "2"}, {"type": "track", "id": 3}]}}}}`)
	require.NoError(t, err)
	k, _ := kinds.Peek("1")
	assert.Equal(t, recstore.Key{Type: "album", ID: "1"}, k.Ref)
	assert.Equal(t, []recstore.Key{{Type: "label", ID: "2"}, {Type: "track", ID: "3"}}, k.Refs)

	_, err = s.Push(`{"data": {"type": "kinds", "id": 1, "relationships": {"ref": {"data": null}, "refs": {"data": []}}}}`)
	require.NoError(t, err)
	k, _ = kinds.Peek("1")
	assert.True(t, k.Ref.IsZero())
	assert.Empty(t, k.Refs)
}

func TestUnload(t *testing.T) {
	s, albums, labels, tracks, _ := newStore(t, nil)
	_, err := s.Push(`{"data": [
		{"type": "album", "id": "1", "attributes": {"title": "A", "artist": "X"}, "relationships": {
			"label": {"data": {"type": "label", "id": "7"}},
			"tracks": {"data": [{"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}}},
		{"type": "album", "id": "2", "relationships": {"label": {"data": {"type": "label", "id": "7"}}}}],
		"included": [{"type": "label", "id": "7"}, {"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}`)
	require.NoError(t, err)

	// Unloading a track removes it from its album's tracks (inverse).
	require.NoError(t, tracks.Unload("a"))
	assert.Error(t, tracks.Unload("a"), "second unload reports false")
	assert.False(t, tracks.Has("a"))
	assertRelated(t, s, recstore.Key{Type: "album", ID: "1"}, "tracks", relState{true, keys("track", "b"), nil})

	// Unloading an album nulls its tracks' album, which only its tracks
	// list made known (the backend never sent track b's album): unknown
	// again, not known null. A label without inverse stays named by
	// albums, as not loaded.
	require.NoError(t, albums.Unload("1"))
	assertRelated(t, s, recstore.Key{Type: "track", ID: "b"}, "album", relState{})
	require.NoError(t, labels.Unload("7"))
	assertRelated(t, s, recstore.Key{Type: "album", ID: "2"}, "label", relState{true, keys("label", "7"), keys("label", "7")})

	// Pushing an unloaded record again starts afresh.
	_, err = s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "B"}}}`)
	require.NoError(t, err)
	a, _ := albums.Peek("1")
	assert.Equal(t, Album{ID: "1", Title: "B"}, a)
	assertRelated(t, s, recstore.Key{Type: "album", ID: "1"}, "tracks", relState{})

	assert.Error(t, s.Unload(recstore.Key{Type: "nope", ID: "1"}))
	_, ok := s.Related(recstore.Key{Type: "track", ID: "a"}, "album")
	assert.False(t, ok, "an unloaded record has no relationships to read")
}

func TestUnloadAll(t *testing.T) {
	s, albums, labels, tracks, _ := newStore(t, nil)
	_, err := s.Push(base)
	require.NoError(t, err)

	require.ErrorIs(t, s.UnloadAll("album", "nope"), recstore.ErrUnknownType)
	assert.Equal(t, 2, albums.Len(), "a failed UnloadAll unloads nothing")

	require.NoError(t, s.UnloadAll("album"))
	assert.Equal(t, 0, albums.Len())
	assert.Empty(t, s.Keys("album"))
	assert.Equal(t, 1, labels.Len())
	// t1's album came from album 1's tracks list only: unknown again.
	assertRelated(t, s, recstore.Key{Type: "track", ID: "t1"}, "album", relState{})

	tracks.UnloadAll()
	assert.Equal(t, 0, tracks.Len())

	require.NoError(t, s.UnloadAll())
	for _, typ := range s.Types() {
		assert.Zero(t, s.Len(typ), typ)
	}
	// The store works as new afterwards.
	_, err = s.Push(base)
	require.NoError(t, err)
	assert.Equal(t, 2, albums.Len())
}

// A record the Store knows only by reference is not unloaded: what the
// records that name it say came from the backend and stays.
func TestUnloadOfARecordNotLoaded(t *testing.T) {
	s, albums, _, tracks, _ := newStore(t, nil)
	_, err := s.Push(`{"data": {"type": "track", "id": "5", "relationships": {"album": {"data": {"type": "album", "id": "2"}}}}}`)
	require.NoError(t, err)
	before := recstore.Dump(s)
	assert.Error(t, albums.Unload("2"))
	assert.Error(t, s.Unload(recstore.Key{Type: "album", ID: "404"}))
	requireUnchanged(t, s, before)
	require.NoError(t, s.UnloadAll("album"))
	requireUnchanged(t, s, before)
	rel, _ := tracks.Related("5", "album")
	assert.Equal(t, []recstore.Key{{Type: "album", ID: "2"}}, rel.Keys)
	require.NoError(t, recstore.CheckInverses(s))
}

func TestStoreReads(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	_, err := s.Push(`{"data": [{"type": "album", "id": "b", "attributes": {"title": "B"}}, {"type": "album", "id": "a"}, {"type": "album", "id": "c"}]}`)
	require.NoError(t, err)

	assert.Equal(t, []string{"album", "kinds", "label", "track"}, s.Types())
	assert.Equal(t, 3, s.Len("album"))
	assert.Equal(t, 0, s.Len("nope"))
	assert.Equal(t, keys("album", "b", "a", "c"), s.Keys("album"), "insertion order")
	assert.Empty(t, s.Keys("nope"))

	v, ok := s.Peek(recstore.Key{Type: "album", ID: "b"})
	require.True(t, ok)
	assert.Equal(t, Album{ID: "b", Title: "B"}, v)
	_, ok = s.Peek(recstore.Key{Type: "album", ID: "z"})
	assert.False(t, ok)
	_, ok = s.Peek(recstore.Key{Type: "nope", ID: "b"})
	assert.False(t, ok)
	_, ok = albums.Peek("z")
	assert.False(t, ok)

	var ids []string
	for id, a := range albums.All() {
		assert.Equal(t, id, a.ID)
		ids = append(ids, id)
	}
	assert.Equal(t, []string{"b", "a", "c"}, ids)

	// Iteration stops when asked and skips what was unloaded meanwhile.
	ids = ids[:0]
	for id := range albums.All() {
		ids = append(ids, id)
		albums.Unload("a")
	}
	assert.Equal(t, []string{"b", "c"}, ids)
	for range albums.All() {
		break
	}

	// Order survives unload and reload: a reloaded record goes last.
	_, err = s.Push(`{"data": {"type": "album", "id": "a"}}`)
	require.NoError(t, err)
	assert.Equal(t, keys("album", "b", "c", "a"), s.Keys("album"))
	assert.True(t, slices.Equal([]string{"b", "c", "a"}, slices.Collect(func(yield func(string) bool) {
		for id := range albums.All() {
			if !yield(id) {
				return
			}
		}
	})))
}

func TestModelPush(t *testing.T) {
	s, albums, _, _, kinds := newStore(t, nil)
	got, err := albums.Push(`{"data": [{"type": "album", "id": "1", "attributes": {"title": "A"}, "relationships": {"label": {"data": {"type": "label", "id": "7"}}}}],
		"included": [{"type": "label", "id": "7", "attributes": {"name": "L"}}]}`)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "A", got[0].Title)
	assert.Equal(t, &Label{ID: "7", Name: "L"}, got[0].Label)

	before := recstore.Dump(s)
	_, err = albums.Push(`{"data": [{"type": "album", "id": "2"}, {"type": "label", "id": "8"}]}`)
	require.ErrorIs(t, err, recstore.ErrInvalidDocument)
	requireUnchanged(t, s, before)

	one, err := kinds.Push(`{"data": {"type": "kinds", "id": "9"}}`)
	require.NoError(t, err)
	assert.Equal(t, []Kinds{{ID: 9}}, one)
	none, err := kinds.Push(`{"data": null}`)
	require.NoError(t, err)
	assert.Empty(t, none)
	assert.Equal(t, "kinds", kinds.Type())
	assert.Same(t, s, kinds.Store())
}
