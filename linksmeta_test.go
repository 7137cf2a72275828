package recstore_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pushVia pushes doc through one of the three ways in: JSON text, a
// Document decoded from it, or PushPayload with the JSON:API serializer.
func pushVia(t *testing.T, s *recstore.Store, via, doc string) error {
	t.Helper()
	switch via {
	case "text":
		_, err := s.Push(doc)
		return err
	case "document":
		var d recstore.Document
		require.NoError(t, json.Unmarshal([]byte(doc), &d), "decoding %s", doc)
		_, err := s.Push(&d)
		return err
	default:
		_, err := s.PushPayload("", doc)
		return err
	}
}

var pushWays = []string{"text", "document", "payload"}

func TestStore_LinksAndMeta(t *testing.T) {
	obj := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	const album = `{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}}}`
	tests := []struct {
		name              string
		docs              []string
		links, meta       map[string]any // album 1's
		relLinks, relMeta map[string]any // album 1's tracks
		relKnown          bool
		title             string
		reason            string
	}{
		{name: "none", docs: []string{album}, title: "A",
			reason: "a push without links or meta keeps none"},
		{name: "resource links and meta kept", title: "A",
			docs:  []string{`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}, "links": {"self": "/albums/1"}, "meta": {"rev": 3}}}`},
			links: obj("self", "/albums/1"), meta: obj("rev", 3.0)},
		{name: "members before type", title: "A",
			docs:  []string{`{"data": {"links": {"self": "/albums/1"}, "meta": {"rev": 3}, "id": "1", "type": "album", "attributes": {"title": "A"}}}`},
			links: obj("self", "/albums/1"), meta: obj("rev", 3.0)},
		{name: "a push with links replaces them, one without keeps them", title: "B",
			docs: []string{
				`{"data": {"type": "album", "id": "1", "links": {"self": "/albums/1", "edit": "/e"}, "meta": {"rev": 3}}}`,
				`{"data": {"type": "album", "id": "1", "links": {"self": {"href": "/v2/albums/1", "meta": {"x": true}}}}}`,
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "B"}}}`,
			},
			links:  obj("self", obj("href", "/v2/albums/1", "meta", obj("x", true))),
			meta:   obj("rev", 3.0),
			reason: "links are replaced whole, not merged; meta absent from the second push is kept"},
		{name: "null is absent", title: "A",
			docs: []string{
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}, "links": {"self": "/a"}, "meta": {"rev": 1}}}`,
				`{"data": {"type": "album", "id": "1", "links": null, "meta": null}}`,
			},
			links: obj("self", "/a"), meta: obj("rev", 1.0)},
		{name: "empty objects replace", title: "A",
			docs: []string{
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}, "links": {"self": "/a"}, "meta": {"rev": 1}}}`,
				`{"data": {"type": "album", "id": "1", "links": {}, "meta": {}}}`,
			},
			links: obj(), meta: obj()},
		{name: "links-only relationship", title: "A",
			docs:     []string{`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}, "relationships": {"tracks": {"links": {"related": "/albums/1/tracks", "self": "/albums/1/relationships/tracks"}, "meta": {"count": 2}}}}}`},
			relLinks: obj("related", "/albums/1/tracks", "self", "/albums/1/relationships/tracks"), relMeta: obj("count", 2.0),
			reason: "links and meta are kept, and the relationship stays unknown"},
		{name: "relationship links replaced, then kept", title: "A",
			docs: []string{
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}, "relationships": {"tracks": {"links": {"related": "/old"}, "meta": {"count": 2}}}}}`,
				`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "1"}], "links": {"related": "/new"}}}}}`,
				`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": []}}}}`,
			},
			relLinks: obj("related", "/new"), relMeta: obj("count", 2.0), relKnown: true},
		{name: "one resource twice in a document: the later copy merges over the earlier", title: "A",
			docs: []string{`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}, "meta": {"from": "data"}},
				"included": [{"type": "album", "id": "1", "links": {"self": "/i"}, "meta": {"from": "included"}}]}`},
			links: obj("self", "/i"), meta: obj("from", "data")},
		{name: "a record known by reference gains links when it loads", title: "A",
			docs: []string{
				`{"data": {"type": "track", "id": "1", "relationships": {"album": {"data": {"type": "album", "id": "1"}}}}}`,
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"}, "links": {"self": "/a"}, "relationships": {"tracks": {"links": {"related": "/t"}}}}}`,
			},
			links: obj("self", "/a"), relLinks: obj("related", "/t"), relKnown: true},
		{name: "relationship links from included copies", title: "A",
			docs:    []string{`{"data": {"type": "track", "id": "1"}, "included": [{"type": "album", "id": "1", "attributes": {"title": "A"}, "relationships": {"tracks": {"meta": {"m": "x"}}}}]}`},
			relMeta: obj("m", "x")},
	}
	for _, via := range pushWays {
		for _, tt := range tests {
			t.Run(via+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				s, albums, _, _, _ := newStore(t, nil)
				for _, doc := range tt.docs {
					require.NoError(t, pushVia(t, s, via, doc), "pushing %s", doc)
				}
				k := recstore.Key{Type: "album", ID: "1"}
				a, ok := albums.Peek("1")
				require.True(t, ok)
				assert.Equal(t, tt.title, a.Title)
				assert.Equal(t, tt.links, s.Links(k), "Store.Links: %s", tt.reason)
				assert.Equal(t, tt.meta, s.Meta(k), "Store.Meta: %s", tt.reason)
				assert.Equal(t, tt.links, albums.Links("1"), "Model.Links")
				assert.Equal(t, tt.meta, albums.Meta("1"), "Model.Meta")
				r, ok := s.Related(k, "tracks")
				require.True(t, ok)
				assert.Equal(t, tt.relLinks, r.Links, "Related.Links: %s", tt.reason)
				assert.Equal(t, tt.relMeta, r.Meta, "Related.Meta: %s", tt.reason)
				assert.Equal(t, tt.relKnown, r.Known)
				require.NoError(t, recstore.CheckInverses(s))
			})
		}
	}
}

// Readers get maps of their own: changing one changes neither the Store
// nor another reader's.
func TestStore_LinksAreCopies(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	_, err := s.Push(`{"data": {"type": "album", "id": "1", "links": {"self": {"href": "/a"}}, "meta": {"tags": ["x"]},
		"relationships": {"tracks": {"links": {"related": "/t"}}}}}`)
	require.NoError(t, err)
	k := recstore.Key{Type: "album", ID: "1"}
	l := s.Links(k)
	l["self"].(map[string]any)["href"] = "changed"
	l["new"] = 1
	m := albums.Meta("1")
	m["tags"].([]any)[0] = "changed"
	r, _ := s.Related(k, "tracks")
	r.Links["related"] = "changed"
	assert.Equal(t, map[string]any{"self": map[string]any{"href": "/a"}}, s.Links(k))
	assert.Equal(t, map[string]any{"tags": []any{"x"}}, s.Meta(k))
	r, _ = s.Related(k, "tracks")
	assert.Equal(t, "/t", recstore.Href(r.Links, "related"))
}

func TestStore_LinksNotHeld(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	assert.Nil(t, s.Links(recstore.Key{Type: "album", ID: "1"}))
	assert.Nil(t, s.Meta(recstore.Key{Type: "nope", ID: "1"}))
	assert.Nil(t, albums.Links("1"))
	// A record known only through an inverse has no links of its own.
	_, err := s.Push(`{"data": {"type": "track", "id": "1", "links": {"self": "/t/1"}, "relationships": {"album": {"data": {"type": "album", "id": "1"}}}}}`)
	require.NoError(t, err)
	assert.Nil(t, albums.Links("1"))
	assert.Equal(t, map[string]any{"self": "/t/1"}, s.Links(recstore.Key{Type: "track", ID: "1"}))
	// Unloading forgets them; pushing again starts afresh.
	require.NoError(t, s.Unload(recstore.Key{Type: "track", ID: "1"}))
	_, err = s.Push(`{"data": {"type": "track", "id": "1"}}`)
	require.NoError(t, err)
	assert.Nil(t, s.Links(recstore.Key{Type: "track", ID: "1"}))
}

// A number too large for a float64 is kept and read as a json.Number, by
// Push and PushPayload alike.
func TestStore_MetaHugeNumber(t *testing.T) {
	for _, via := range []string{"text", "payload"} {
		t.Run(via, func(t *testing.T) {
			s, albums, _, _, _ := newStore(t, nil)
			require.NoError(t, pushVia(t, s, via, `{"data": {"type": "album", "id": "1", "meta": {"big": 1e400, "small": 1},
				"relationships": {"tracks": {"meta": {"big": -1e400}}}}}`))
			assert.Equal(t, map[string]any{"big": json.Number("1e400"), "small": json.Number("1")}, albums.Meta("1"))
			r, _ := albums.Related("1", "tracks")
			assert.Equal(t, map[string]any{"big": json.Number("-1e400")}, r.Meta)
		})
	}
}

func TestStore_LinksInvalid(t *testing.T) {
	tests := []struct {
		name, doc string
		pointer   string
		wantErr   error
		ways      []string
	}{
		{name: "links a string", doc: `{"data": {"type": "album", "id": "1", "links": "/a"}}`, pointer: "/data/links", wantErr: recstore.ErrInvalidDocument},
		{name: "meta an array", doc: `{"data": [{"type": "album", "id": "1", "meta": [1]}]}`, pointer: "/data/0/meta", wantErr: recstore.ErrInvalidDocument},
		{name: "relationship links a number", doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": 1}}}}`,
			pointer: "/data/relationships/tracks/links", wantErr: recstore.ErrInvalidDocument},
		{name: "links repeated", doc: `{"data": {"type": "album", "id": "1", "links": {}, "links": {}}}`,
			pointer: "/data/links", wantErr: recstore.ErrDuplicateMember, ways: []string{"text", "payload"}},
		{name: "relationship meta repeated", doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": {"meta": {}, "meta": {}}}}}`,
			pointer: "/data/relationships/label/meta", wantErr: recstore.ErrDuplicateMember, ways: []string{"text", "payload"}},
		{name: "a name repeated inside links", doc: `{"data": {"type": "album", "id": "1", "links": {"self": "/a", "self": "/b"}}}`,
			pointer: "/data/links/self", wantErr: recstore.ErrDuplicateMember, ways: []string{"text", "payload"}},
		{name: "bad syntax inside meta", doc: `{"data": {"type": "album", "id": "1", "meta": {"a": tru}}}`, wantErr: recstore.ErrSyntax, ways: []string{"text"}},
	}
	for _, tt := range tests {
		ways := tt.ways
		if ways == nil {
			ways = []string{"text", "payload"}
		}
		for _, via := range ways {
			t.Run(via+"/"+tt.name, func(t *testing.T) {
				s, _, _, _, _ := newStore(t, nil)
				_, err := s.Push(`{"data": {"type": "album", "id": "1", "links": {"self": "/x"}}}`)
				require.NoError(t, err)
				before := recstore.Dump(s)
				err = pushVia(t, s, via, tt.doc)
				require.ErrorIs(t, err, tt.wantErr)
				var de *recstore.DocumentError
				require.ErrorAs(t, err, &de)
				if tt.pointer != "" {
					assert.Equal(t, tt.pointer, de.Pointer, "pointer of %v", err)
				}
				requireUnchanged(t, s, before)
			})
		}
	}
}

// A Document whose links cannot be encoded fails with a pointer to them.
func TestStore_LinksDocumentUnencodable(t *testing.T) {
	s, _, _, _, _ := newStore(t, nil)
	before := recstore.Dump(s)
	_, err := s.Push(&recstore.Document{Data: []*recstore.Resource{{Type: "album", ID: "1",
		Relationships: map[string]*recstore.Relationship{"tracks": {LinksOnly: true, Meta: map[string]any{"f": func() {}}}}}}})
	var de *recstore.DocumentError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "/data/relationships/tracks/meta", de.Pointer)
	requireUnchanged(t, s, before)
}

// A reader of Related sees a relationship's data and links from one push,
// never one push's data with another's links.
func TestStore_RelatedLinksConsistent(t *testing.T) {
	s, _, _, _, _ := newStore(t, nil)
	k := recstore.Key{Type: "album", ID: "1"}
	push := func(i int) error {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": "1", "links": {"self": "/%d"},
			"relationships": {"label": {"data": {"type": "label", "id": "%d"}, "links": {"related": "/%d"}}}}}`, i, i, i))
		return err
	}
	require.NoError(t, push(0))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		defer close(stop)
		for i := 1; i <= 2000; i++ {
			if err := push(i); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, ok := s.Related(k, "label")
				if !ok || len(r.Keys) != 1 || "/"+r.Keys[0].ID != recstore.Href(r.Links, "related") {
					t.Errorf("data and links from different pushes: %+v", r)
					return
				}
				if s.Links(k) == nil {
					t.Error("links missing")
					return
				}
			}
		})
	}
	wg.Wait()
}
