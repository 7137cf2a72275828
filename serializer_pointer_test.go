package recstore_test

import (
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// identityJSONAPI is a JSONAPISerializer that maps no names, so that a
// document means the same to Push and to PushPayload through it.
func identityJSONAPI() *recstore.JSONAPISerializer {
	id := func(s string) string { return s }
	return &recstore.JSONAPISerializer{KeyForAttribute: id, KeyForRelationship: id, ModelNameFromPayloadKey: id}
}

// badDocs fail Push and PushPayload alike, each somewhere else.
var badDocs = []struct{ name, doc string }{
	{"too deep in an attribute", `{"data": {"type": "kinds", "id": 1, "attributes": {"any": ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}}`},
	{"too deep in meta", `{"data": {"type": "kinds", "id": 1, "meta": ` + strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40) + `}}`},
	{"too deep in a relationship", `{"data": {"type": "album", "id": 1, "relationships": {"label": {"meta": ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}}}`},
	{"syntax error in an attribute", `{"data": {"type": "kinds", "id": 1, "attributes": {"s": "x", "tags": [1, tru]}}}`},
	{"syntax error in a linkage", `{"data": {"type": "album", "id": 1, "relationships": {"tracks": {"data": [{"type": "track", "id": x}]}}}}`},
	{"syntax error in a key", `{"data": {"type": "album", "id": 1, "attributes": {"title": "x", 7: 1}}}`},
	{"too many resources in data", `{"data": [` + strings.Repeat(`{"type": "label", "id": "1"},`, 70) + `{"type": "label", "id": "1"}]}`},
	{"too many resources in included", `{"data": null, "included": [` + strings.Repeat(`{"type": "label", "id": "1"},`, 70) + `{"type": "label", "id": "1"}]}`},
	{"wrong JSON kind for a slice", `{"data": {"type": "kinds", "id": 1, "attributes": {"tags": 5}}}`},
	{"wrong JSON kind in a list", `{"data": [{"type": "album", "id": "1"}, {"type": "kinds", "id": 1, "attributes": {"tags": [1]}}]}`},
	{"wrong JSON kind in included", `{"data": null, "included": [{"type": "album", "id": "1"}, {"type": "kinds", "id": 1, "attributes": {"tags": [1]}}]}`},
	{"integer overflow", `{"data": {"type": "kinds", "id": 1, "attributes": {"i8": 300}}}`},
	{"json.Unmarshaler fails", `{"data": {"type": "kinds", "id": 1, "attributes": {"raw": "hot"}}}`},
	{"id too long", `{"data": {"type": "album", "id": "` + strings.Repeat("9", 65) + `"}}`},
	{"linkage id too long", `{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "` + strings.Repeat("9", 65) + `"}}}}}`},
	{"id does not fit an integer primary", `{"data": {"type": "kinds", "id": "abc"}}`},
	{"unknown type", `{"data": {"type": "albums", "id": "1"}}`},
	{"unknown type in a linkage", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "1"}, {"type": "nope", "id": "1"}]}}}}`},
	{"to-many given an object", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": {"type": "track", "id": "t1"}}}}}`},
	{"attributes null", `{"data": {"type": "album", "id": "1", "attributes": null}}`},
	{"relationships null", `{"data": {"type": "album", "id": "1", "relationships": null}}`},
	{"attributes not an object", `{"data": {"type": "album", "id": "1", "attributes": []}}`},
	{"no data", `{"meta": {}}`},
	{"trailing data", `{"data": null} x`},
}

// PushPayload through a serializer that maps no names fails where Push
// fails, with the same pointer.
func TestPushPayload_PointersMatchPush(t *testing.T) {
	for _, tt := range badDocs {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _, _ := newStore(t, fuzzOptions())
			_, pushErr := s.Push(tt.doc)
			require.Error(t, pushErr)
			var want *recstore.DocumentError
			require.ErrorAs(t, pushErr, &want)

			opts := fuzzOptions()
			opts.Serializer = identityJSONAPI()
			s, _, _, _, _ = newStore(t, opts)
			before := recstore.Dump(s)
			_, err := s.PushPayload("", tt.doc)
			require.Error(t, err)
			var got *recstore.DocumentError
			require.ErrorAs(t, err, &got)
			assert.Equal(t, want.Pointer, got.Pointer, "Push: %v\nPushPayload: %v", pushErr, err)
			requireUnchanged(t, s, before)
		})
	}
}

// Every serializer's errors point at the member of the payload at fault,
// however the payload fails: while the serializer reads it, or when the
// Store rejects what it made of it.
func TestPushPayload_Pointers(t *testing.T) {
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	posts := func(n int) string {
		return `[` + strings.Repeat(`{"id": 1},`, n-1) + `{"id": 1}]`
	}
	comments := `[` + strings.Repeat(`{"id": 1, "body": "x"},`, 69) + `{"id": 1, "body": "x"}]`
	tests := []struct {
		name    string
		ser     recstore.Serializer
		typ     string
		payload string
		pointer string
		is      error
	}{
		{"REST too deep in a member", &recstore.RESTSerializer{}, "post", `{"posts": [{"id": 1, "title": ` + deep + `}]}`, "/posts/0/title", nil},
		{"REST syntax error in a member", &recstore.RESTSerializer{}, "post", `{"posts": [{"id": 1, "title": tru}]}`, "/posts/0/title", recstore.ErrSyntax},
		{"REST syntax error in an embedded record", &recstore.RESTSerializer{}, "post", `{"post": {"id": 1, "comments": [{"id": 2, "body": tru}]}}`, "/post/comments", recstore.ErrSyntax},
		{"REST too many resources", &recstore.RESTSerializer{}, "post", `{"posts": ` + posts(70) + `}`, "/posts/64", nil},
		{"REST too many embedded resources", &recstore.RESTSerializer{}, "post", `{"post": {"id": 1, "comments": ` + comments + `}}`, "/post/comments/63", nil},
		{"REST value the store rejects", &recstore.RESTSerializer{}, "album", `{"albums": [{"id": 1}, {"id": 2, "songCount": 99999999999999999999}]}`, "/albums/1/songCount", recstore.ErrInvalidAttribute},
		{"JSON too deep in a member", &recstore.JSONSerializer{}, "post", `{"id": 1, "title": ` + deep + `}`, "/title", nil},
		{"JSON too many resources", &recstore.JSONSerializer{}, "post", posts(70), "/64", nil},
		{"JSON value the store rejects", &recstore.JSONSerializer{}, "album", `[{"id": 1}, {"id": 2, "songCount": 99999999999999999999}]`, "/1/songCount", recstore.ErrInvalidAttribute},
		{"JSON:API too deep in an attribute", &recstore.JSONAPISerializer{}, "", `{"data": {"type": "posts", "id": "1", "attributes": {"title": ` + deep + `}}}`, "/data/attributes/title", nil},
		{"JSON:API syntax error in a linkage", &recstore.JSONAPISerializer{}, "", `{"data": {"type": "posts", "id": "1", "relationships": {"comments": {"data": [{"type": "comments", "id": x}]}}}}`, "/data/relationships/comments/data/0/id", recstore.ErrSyntax},
		{"JSON:API too many resources", &recstore.JSONAPISerializer{}, "", `{"data": [` + strings.Repeat(`{"type": "posts", "id": "1"},`, 69) + `{"type": "posts", "id": "1"}]}`, "/data/64", nil},
		{"JSON:API value the store rejects", &recstore.JSONAPISerializer{}, "", `{"data": [{"type": "albums", "id": "1"}, {"type": "albums", "id": "2", "attributes": {"song-count": 99999999999999999999}}]}`, "/data/1/attributes/song-count", recstore.ErrInvalidAttribute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fuzzOptions()
			opts.Serializer = tt.ser
			s := newSerializerStore(t, opts)
			before := recstore.Dump(s)
			_, err := s.PushPayload(tt.typ, tt.payload)
			require.Error(t, err)
			require.ErrorIs(t, err, recstore.ErrInvalidDocument)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			var de *recstore.DocumentError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.pointer, de.Pointer, "%v", err)
			requireUnchanged(t, s, before)
		})
	}
}
