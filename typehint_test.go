package recstore_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type MusicAlbum struct {
	ID string `jsonapi:"primary,musicAlbum"`
}

type Cookie struct {
	ID string `jsonapi:"primary,cookie"`
}

// Push of a type that is a registered model's name in another form (the
// backend's plural, another case) fails as before, matching
// ErrUnknownType, and says which model it resembles and that PushPayload
// reads a backend's shape. A type like no model gets no hint.
func TestStore_Push_unknownTypeHint(t *testing.T) {
	s, _, _, _, _ := newStore(t, nil)
	recstore.MustRegister[MusicAlbum](s, nil)
	recstore.MustRegister[Cookie](s, nil)
	recstore.MustRegister[Person](s, nil)
	recstore.MustRegister[GithubHandle](s, nil)
	_, err := s.Push(base)
	require.NoError(t, err)
	before := recstore.Dump(s)

	tests := []struct {
		name    string
		typ     string
		want    string // the model hinted at; "" for no hint
		reason  string
		where   string // "data" (default), "included" or "linkage"
		pointer string
	}{
		{name: "plural", typ: "albums", want: "album"},
		{name: "capitalized", typ: "Album", want: "album"},
		{name: "upper-case plural", typ: "ALBUMS", want: "album"},
		{name: "dasherized plural of a camel-case model", typ: "music-albums", want: "musicAlbum"},
		{name: "dasherized", typ: "music-album", want: "musicAlbum"},
		{name: "underscored", typ: "music_albums", want: "musicAlbum"},
		{name: "camel-case plural", typ: "musicAlbums", want: "musicAlbum"},
		{name: "Pascal case", typ: "MusicAlbum", want: "musicAlbum"},
		{name: "camel-case plural of a dasherized model", typ: "githubHandles", want: "github-handle"},
		{name: "underscored plural of a dasherized model", typ: "github_handles", want: "github-handle"},
		{name: "irregular plural", typ: "people", want: "person"},
		{name: "plural the singularizer gets wrong", typ: "cookies", want: "cookie", reason: "compared with the model's plural too"},
		{name: "like no model", typ: "singer"},
		{name: "close but not a form of one", typ: "albumz"},
		{name: "empty words", typ: "-_-"},
		{name: "very long", typ: strings.Repeat("albums", 1000)},
		{name: "in included", typ: "labels", want: "label", where: "included", pointer: "/included/0/type"},
		{name: "in a linkage", typ: "labels", want: "label", where: "linkage", pointer: "/data/relationships/label/data/type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, _ := json.Marshal(tt.typ)
			var doc string
			switch tt.where {
			case "included":
				doc = `{"data": null, "included": [{"type": ` + string(typ) + `, "id": "1"}]}`
			case "linkage":
				doc = `{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": ` + string(typ) + `, "id": "1"}}}}}`
			default:
				doc = `{"data": {"type": ` + string(typ) + `, "id": "1"}}`
				tt.pointer = "/data/type"
			}
			var asDoc recstore.Document
			require.NoError(t, json.Unmarshal([]byte(doc), &asDoc))
			for _, in := range []any{doc, &asDoc} {
				_, err := s.Push(in)
				require.ErrorIs(t, err, recstore.ErrUnknownType)
				require.ErrorIs(t, err, recstore.ErrInvalidDocument)
				var de *recstore.DocumentError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, tt.pointer, de.Pointer)
				if tt.want == "" {
					assert.NotContains(t, err.Error(), "did you mean", "%T: %s", in, tt.reason)
				} else {
					assert.Contains(t, err.Error(), `(did you mean "`+tt.want+`"? Push takes model names; PushPayload reads a backend's own shape)`,
						"%T: %s", in, tt.reason)
				}
				requireUnchanged(t, s, before)
			}
		})
	}

	_, err = s.Push(`{"data": {"type": "albums", "id": "1"}}`)
	assert.EqualError(t, err, `recstore: invalid document at /data/type: unknown type "albums" (did you mean "album"? Push takes model names; PushPayload reads a backend's own shape)`)
}

type Octopus struct {
	ID string `jsonapi:"primary,octopus"`
}

// The hint reads a type with the Store's own words (Options.Inflector),
// as PushPayload would read it.
func TestStore_Push_unknownTypeHintUsesStoreWords(t *testing.T) {
	rules := inflect.English()
	rules.Irregular("octopus", "octopodes")
	s := recstore.New(&recstore.Options{Inflector: rules})
	recstore.MustRegister[Octopus](s, nil)
	_, err := s.Push(`{"data": {"type": "octopodes", "id": "1"}}`)
	require.ErrorIs(t, err, recstore.ErrUnknownType)
	assert.Contains(t, err.Error(), `did you mean "octopus"?`)

	plain := recstore.New(nil)
	recstore.MustRegister[Octopus](plain, nil)
	_, err = plain.Push(`{"data": {"type": "octopodes", "id": "1"}}`)
	require.ErrorIs(t, err, recstore.ErrUnknownType)
	assert.NotContains(t, err.Error(), "did you mean", "another Store's words do not reach this one")
}
