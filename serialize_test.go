package recstore_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serializeBase is pushed before each Serialize case: an album with a
// label and two tracks (tracks' album is the inverse of album.tracks, so
// album.tracks is one-to-many and not written), a post with comments (no
// inverse: written) and an unset author.
const serializeBase = `{"data": [
	{"type": "album", "id": "1", "attributes": {"title": "Fewer Moving Parts", "artist": "David Bazan", "songCount": 10},
	 "relationships": {"label": {"data": {"type": "label", "id": "7"}},
	                   "tracks": {"data": [{"type": "track", "id": "t1"}, {"type": "track", "id": "t2"}]}}},
	{"type": "album", "id": "2", "attributes": {"title": "Calgary"}, "relationships": {"label": {"data": null}}},
	{"type": "post", "id": "p1", "attributes": {"title": "Hello"},
	 "relationships": {"comments": {"data": [{"type": "comment", "id": "c1"}]}}},
	{"type": "github-handle", "id": "h1", "attributes": {"userName": "ann"},
	 "relationships": {"owner": {"data": {"type": "person", "id": "9"}}}}
]}`

func TestSerialize(t *testing.T) {
	underscore := &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{
		KeyForAttribute: inflect.Underscore, Attrs: map[string]string{"title": "le_title"}}}
	tests := []struct {
		name string
		ser  recstore.Serializer
		key  recstore.Key
		opts *recstore.SerializeOptions
		want string
	}{
		{"JSON:API with id, to-one written, one-to-many left to the other side", &recstore.JSONAPISerializer{},
			recstore.Key{Type: "album", ID: "1"}, &recstore.SerializeOptions{IncludeID: true},
			`{"data": {"type": "albums", "id": "1",
				"attributes": {"title": "Fewer Moving Parts", "artist": "David Bazan", "song-count": 10},
				"relationships": {"label": {"data": {"type": "labels", "id": "7"}}}}}`},
		{"JSON:API without id, null to-one", &recstore.JSONAPISerializer{},
			recstore.Key{Type: "album", ID: "2"}, nil,
			`{"data": {"type": "albums", "attributes": {"title": "Calgary", "artist": "", "song-count": 0},
				"relationships": {"label": {"data": null}}}}`},
		{"JSON:API many-to-none written, unknown to-one left out", &recstore.JSONAPISerializer{},
			recstore.Key{Type: "post", ID: "p1"}, &recstore.SerializeOptions{IncludeID: true},
			`{"data": {"type": "posts", "id": "p1", "attributes": {"title": "Hello"},
				"relationships": {"comments": {"data": [{"type": "comments", "id": "c1"}]}}}}`},
		{"JSON:API dasherized plural type", &recstore.JSONAPISerializer{},
			recstore.Key{Type: "github-handle", ID: "h1"}, nil,
			`{"data": {"type": "github-handles", "attributes": {"user-name": "ann"},
				"relationships": {"owner": {"data": {"type": "people", "id": "9"}}}}}`},
		{"JSON:API payload key hook", &recstore.JSONAPISerializer{PayloadKeyFromModelName: func(s string) string { return s }},
			recstore.Key{Type: "github-handle", ID: "h1"}, nil,
			`{"data": {"type": "github-handle", "attributes": {"user-name": "ann"},
				"relationships": {"owner": {"data": {"type": "person", "id": "9"}}}}}`},
		{"REST root key, no id by default", &recstore.RESTSerializer{},
			recstore.Key{Type: "album", ID: "1"}, nil,
			`{"album": {"title": "Fewer Moving Parts", "artist": "David Bazan", "songCount": 10, "label": "7"}}`},
		{"REST camelized root key, id, mapped keys", underscore,
			recstore.Key{Type: "github-handle", ID: "h1"}, &recstore.SerializeOptions{IncludeID: true},
			`{"githubHandle": {"id": "h1", "user_name": "ann", "owner": {"id": "9", "type": "person"}}}`},
		{"REST Attrs mapping", underscore,
			recstore.Key{Type: "post", ID: "p1"}, nil,
			`{"post": {"le_title": "Hello", "comments": ["c1"]}}`},
		{"JSON flat hash with primary key", &recstore.JSONSerializer{PrimaryKey: "_id"},
			recstore.Key{Type: "album", ID: "2"}, &recstore.SerializeOptions{IncludeID: true},
			`{"_id": "2", "title": "Calgary", "artist": "", "songCount": 0, "label": null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSerializerStore(t, &recstore.Options{Serializer: tt.ser})
			_, err := s.Push(serializeBase)
			require.NoError(t, err)
			got, err := s.Serialize(tt.key, tt.opts)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(got))
		})
	}
}

// Relationships named in Embedded are written as records, as Ember's
// embedded: 'always' does, and read back by the same serializer.
func TestSerializeEmbedded(t *testing.T) {
	ser := &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{
		Embedded: map[string]bool{"label": true, "tracks": true, "owner": true}}}
	s := newSerializerStore(t, &recstore.Options{Serializer: ser})
	_, err := s.Push(serializeBase)
	require.NoError(t, err)
	_, err = s.Push(`{"data": [
		{"type": "label", "id": "7", "attributes": {"name": "4AD"}},
		{"type": "track", "id": "t1", "attributes": {"title": "Wait"}},
		{"type": "person", "id": "9", "attributes": {"firstName": "Ann"}}]}`)
	require.NoError(t, err)

	album, err := s.Serialize(recstore.Key{Type: "album", ID: "1"}, &recstore.SerializeOptions{IncludeID: true})
	require.NoError(t, err)
	assert.JSONEq(t, `{"album": {"id": "1", "title": "Fewer Moving Parts", "artist": "David Bazan", "songCount": 10,
		"label": {"id": "7", "name": "4AD"},
		"tracks": [{"id": "t1", "title": "Wait"}, "t2"]}}`, string(album),
		"a one-to-many is written when embedded; the track leaves out its album; t2 is not loaded: its id")
	handle, err := s.Serialize(recstore.Key{Type: "github-handle", ID: "h1"}, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"githubHandle": {"userName": "ann", "owner": {"id": "9", "firstName": "Ann", "type": "person"}}}`, string(handle),
		"a Key relationship's embedded record names its type")

	// What was written reads back the same.
	s2 := newSerializerStore(t, &recstore.Options{Serializer: ser})
	_, err = s2.PushPayload("album", album)
	require.NoError(t, err)
	a, _ := s2.Peek(recstore.Key{Type: "album", ID: "1"})
	got := a.(Album)
	require.NotNil(t, got.Label)
	assert.Equal(t, "4AD", got.Label.Name)
	require.Len(t, got.Tracks, 1, "t2 is known by id only")
	assert.Equal(t, "Wait", got.Tracks[0].Title)
	rel, _ := s2.Related(recstore.Key{Type: "album", ID: "1"}, "tracks")
	assert.Equal(t, []recstore.Key{{Type: "track", ID: "t1"}, {Type: "track", ID: "t2"}}, rel.Keys)
	_, err = s2.PushPayload("github-handle", handle)
	require.Error(t, err, "no id was asked for")
	handle, err = s.Serialize(recstore.Key{Type: "github-handle", ID: "h1"}, &recstore.SerializeOptions{IncludeID: true})
	require.NoError(t, err)
	_, err = s2.PushPayload("github-handle", handle)
	require.NoError(t, err)
	p, ok := s2.Peek(recstore.Key{Type: "person", ID: "9"})
	require.True(t, ok)
	assert.Equal(t, "Ann", p.(Person).FirstName)
}

// Embedding stops at cycles, at a bounded depth, and writes each record
// once per call, so that records that all name each other cost linear
// work, not exponential.
func TestSerializeEmbeddedCyclesAndFanOut(t *testing.T) {
	ser := &recstore.JSONSerializer{Embedded: map[string]bool{"ref": true, "refs": true}}
	s, _, _, _, _ := newStore(t, &recstore.Options{Serializer: ser})
	_, err := s.Push(`{"data": [{"type": "kinds", "id": "1", "relationships": {"ref": {"data": {"type": "kinds", "id": "2"}}}},
		{"type": "kinds", "id": "2", "relationships": {"ref": {"data": {"type": "kinds", "id": "1"}}}}]}`)
	require.NoError(t, err)
	out, err := s.Serialize(recstore.Key{Type: "kinds", ID: "1"}, nil)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"ref":{"id":"2","type":"kinds"`, "2 is embedded")
	assert.Contains(t, string(out), `"ref":{"id":"1","type":"kinds"}`, "1, being written, is named, not embedded again")

	// A chain of 12: eight levels embedded, then an identifier.
	var chain strings.Builder
	chain.WriteString(`{"data": [`)
	for i := 10; i < 22; i++ {
		if i > 10 {
			chain.WriteString(",")
		}
		fmt.Fprintf(&chain, `{"type": "kinds", "id": "%d", "relationships": {"ref": {"data": {"type": "kinds", "id": "%d"}}}}`, i, i+1)
	}
	chain.WriteString(`]}`)
	_, err = s.Push(chain.String())
	require.NoError(t, err)
	out, err = s.Serialize(recstore.Key{Type: "kinds", ID: "10"}, nil)
	require.NoError(t, err)
	assert.Equal(t, 9, strings.Count(string(out), `"ref":`))
	assert.Contains(t, string(out), `"ref":{"id":"19","type":"kinds"}`)

	// Thirty records whose to-manys all name all thirty.
	var all strings.Builder
	all.WriteString(`[`)
	for i := range 30 {
		if i > 0 {
			all.WriteString(",")
		}
		fmt.Fprintf(&all, `{"type": "kinds", "id": "%d"}`, 100+i)
	}
	all.WriteString(`]`)
	var doc strings.Builder
	doc.WriteString(`{"data": [`)
	for i := range 30 {
		if i > 0 {
			doc.WriteString(",")
		}
		fmt.Fprintf(&doc, `{"type": "kinds", "id": "%d", "relationships": {"refs": {"data": %s}}}`, 100+i, all.String())
	}
	doc.WriteString(`]}`)
	_, err = s.Push(doc.String())
	require.NoError(t, err)
	out, err = s.Serialize(recstore.Key{Type: "kinds", ID: "100"}, nil)
	require.NoError(t, err)
	assert.Equal(t, 30, strings.Count(string(out), `"refs":`), "each record written once")
	assert.Less(t, len(out), 64<<10)
}

func TestSerializeErrors(t *testing.T) {
	s := newSerializerStore(t, nil)
	_, err := s.Serialize(recstore.Key{Type: "album", ID: "nope"}, nil)
	assert.ErrorIs(t, err, recstore.ErrNotLoaded)

	s2 := recstore.New(&recstore.Options{Serializer: recstore.SerializerFunc(func(*recstore.Store, string, []byte) (*recstore.Document, error) {
		return nil, nil
	})})
	m := recstore.MustRegister[Comment](s2, nil)
	_, err = m.Push(`{"data": {"type": "comment", "id": "1"}}`)
	require.NoError(t, err)
	_, err = m.Serialize("1", nil)
	assert.ErrorIs(t, err, recstore.ErrNotSerializable)

	// A custom transform that is not registered fails the write too.
	s3 := recstore.New(&recstore.Options{Serializer: &recstore.JSONSerializer{}})
	c := recstore.MustRegister[Coerced](s3, nil)
	_, err = c.Push(`{"data": {"type": "coerced", "id": 1}}`)
	require.NoError(t, err)
	_, err = c.Serialize("1", nil)
	assert.ErrorIs(t, err, recstore.ErrUnknownTransform)
}

// Normalize ∘ Serialize keeps every attribute and relationship, for each
// built-in serializer and every attribute kind its transforms handle.
func TestSerializeRoundTrip(t *testing.T) {
	transforms := map[string]recstore.Transform{"fahrenheit": fahrenheit{}}
	yes := true
	coerced := Coerced{ID: 42, S: "s", N: -3, F: 2.5, B: true, PB: &yes,
		T: time.Date(2020, 1, 2, 3, 4, 5, 6_000_000, time.UTC), Temp: 100, Tags: []string{"a", "b"}}
	for _, ser := range []interface {
		recstore.RecordSerializer
	}{
		&recstore.JSONAPISerializer{Transforms: transforms},
		&recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{Transforms: transforms, KeyForAttribute: inflect.Underscore}},
		&recstore.JSONSerializer{Transforms: transforms, PrimaryKey: "key"},
	} {
		t.Run(typeName(ser), func(t *testing.T) {
			src := newSerializerStore(t, &recstore.Options{Serializer: ser})
			recstore.MustRegister[Coerced](src, nil)
			_, err := src.Push(serializeBase)
			require.NoError(t, err)
			j, err := json.Marshal(map[string]any{"data": map[string]any{"type": "coerced", "id": "42", "attributes": map[string]any{
				"s": coerced.S, "n": coerced.N, "f": coerced.F, "b": coerced.B, "pb": coerced.PB, "t": coerced.T, "temp": coerced.Temp, "tags": coerced.Tags}}})
			require.NoError(t, err)
			_, err = src.Push(j)
			require.NoError(t, err)

			dst := newSerializerStore(t, &recstore.Options{Serializer: ser})
			recstore.MustRegister[Coerced](dst, nil)
			for _, k := range []recstore.Key{{Type: "album", ID: "1"}, {Type: "album", ID: "2"}, {Type: "post", ID: "p1"},
				{Type: "github-handle", ID: "h1"}, {Type: "coerced", ID: "42"}} {
				out, err := src.Serialize(k, &recstore.SerializeOptions{IncludeID: true})
				require.NoError(t, err)
				_, err = dst.PushPayload(k.Type, out)
				require.NoError(t, err, "%s", out)
				want, _ := src.Snapshot(k)
				got, ok := dst.Snapshot(k)
				require.True(t, ok, k)
				assert.Equal(t, want.Value(), got.Value(), "%s", out)
			}
		})
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *recstore.JSONAPISerializer:
		return "JSONAPI"
	case *recstore.RESTSerializer:
		return "REST"
	}
	return "JSON"
}

func TestSnapshot(t *testing.T) {
	s := newSerializerStore(t, nil)
	_, err := s.Push(serializeBase)
	require.NoError(t, err)
	snap, ok := s.Snapshot(recstore.Key{Type: "album", ID: "1"})
	require.True(t, ok)
	title, ok := snap.Attr("title")
	assert.True(t, ok)
	assert.Equal(t, "Fewer Moving Parts", title)
	_, ok = snap.Attr("nope")
	assert.False(t, ok)
	var names []string
	for name := range snap.Attrs() {
		names = append(names, name)
	}
	assert.Equal(t, []string{"title", "artist", "songCount"}, names)
	tracks, ok := snap.Relationship("tracks")
	require.True(t, ok)
	assert.Equal(t, "album", tracks.Inverse)
	assert.False(t, tracks.InverseMany)
	assert.False(t, tracks.SerializeHasMany())
	assert.Equal(t, []recstore.Key{{Type: "track", ID: "t1"}, {Type: "track", ID: "t2"}}, tracks.NotLoaded)
	label, _ := snap.Relationship("label")
	assert.True(t, label.SerializeHasMany(), "no inverse")
	_, ok = s.Snapshot(recstore.Key{Type: "album", ID: "9"})
	assert.False(t, ok)

	// A later push does not change the snapshot.
	_, err = s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "changed"}, "relationships": {"tracks": {"data": []}}}}`)
	require.NoError(t, err)
	assert.Equal(t, "Fewer Moving Parts", snap.Value().(Album).Title)
	tracks, _ = snap.Relationship("tracks")
	assert.Len(t, tracks.Keys, 2)
	rel, _ := s.Related(recstore.Key{Type: "album", ID: "1"}, "tracks")
	assert.Equal(t, "album", rel.Inverse)
}

func TestExtractErrors(t *testing.T) {
	errs := []recstore.ErrorObject{
		{Detail: "is too short", Source: &recstore.ErrorSource{Pointer: "/data/attributes/le_title"}},
		{Title: "must be set", Source: &recstore.ErrorSource{Pointer: "data/attributes/song_count"}},
		{Detail: "is missing", Source: &recstore.ErrorSource{Pointer: "/data/relationships/label/data"}},
		{Detail: "record is locked", Source: &recstore.ErrorSource{Pointer: "/data"}},
		{Detail: "unmapped", Source: &recstore.ErrorSource{Pointer: "/data/attributes/colour"}},
		{Detail: "no source"},
		{Detail: "a parameter", Source: &recstore.ErrorSource{Parameter: "include"}},
		{Detail: "elsewhere", Source: &recstore.ErrorSource{Pointer: "/included/0"}},
		{Detail: "not data", Source: &recstore.ErrorSource{Pointer: "/database"}},
	}
	tests := []struct {
		name string
		ser  recstore.Serializer
		want map[string][]string
	}{
		{"REST with Attrs and underscored keys",
			&recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{KeyForAttribute: inflect.Underscore, Attrs: map[string]string{"title": "le_title"}}},
			map[string][]string{"title": {"is too short"}, "songCount": {"must be set"}, "label": {"is missing"},
				recstore.BaseErrors: {"record is locked"}, "colour": {"unmapped"}}},
		{"JSON:API dasherized keys", &recstore.JSONAPISerializer{},
			map[string][]string{"le_title": {"is too short"}, "song_count": {"must be set"}, "label": {"is missing"},
				recstore.BaseErrors: {"record is locked"}, "colour": {"unmapped"}}},
		{"not an ErrorExtractor: keys as they are", recstore.SerializerFunc(func(*recstore.Store, string, []byte) (*recstore.Document, error) { return nil, nil }),
			map[string][]string{"le_title": {"is too short"}, "song_count": {"must be set"}, "label": {"is missing"},
				recstore.BaseErrors: {"record is locked"}, "colour": {"unmapped"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSerializerStore(t, &recstore.Options{Serializer: tt.ser})
			assert.Equal(t, tt.want, s.ExtractErrors("album", errs))
		})
	}
	s := newSerializerStore(t, nil)
	assert.Equal(t, map[string][]string{"song-count": {"x"}}, s.ExtractErrors("unknown",
		[]recstore.ErrorObject{{Detail: "x", Source: &recstore.ErrorSource{Pointer: "/data/attributes/song-count"}}}))
	assert.Equal(t, map[string][]string{"songCount": {"x"}}, s.ExtractErrors("album",
		[]recstore.ErrorObject{{Detail: "x", Source: &recstore.ErrorSource{Pointer: "/data/attributes/song-count"}}}))
	assert.Empty(t, s.ExtractErrors("album", nil))
}
