package recstoretest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linksOnlyFixtures: album 1 gives its tracks and its label by links
// only; two tracks and two labels name it, and album 2 is named by
// nothing.
const linksOnlyFixtures = `{"data": [
	{"type": "albums", "id": "1", "relationships": {
		"tracks": {"links": {"related": "/albums/1/tracks"}},
		"label": {"links": {"related": "/albums/1/label"}}}},
	{"type": "albums", "id": "2", "relationships": {
		"tracks": {"links": {"related": "/albums/2/tracks"}},
		"label": {"links": {"related": "/albums/2/label"}}}},
	{"type": "tracks", "id": "10", "attributes": {"title": "x"}, "relationships": {"album": {"data": {"type": "albums", "id": "1"}}}},
	{"type": "tracks", "id": "11", "relationships": {"album": {"data": {"type": "albums", "id": "1"}}}},
	{"type": "labels", "id": "L", "attributes": {"name": "Undertow"}, "relationships": {"albums": {"data": [{"type": "albums", "id": "1"}]}}},
	{"type": "labels", "id": "M", "relationships": {"albums": {"data": [{"type": "albums", "id": "1"}]}}}]}`

// A relationship given by links only is a to-one when its name is
// singular: its related link answers one resource or null, not an array.
// Its self link answers resource identifiers, not resources.
func TestMemoryAdapter_FindLinkLinksOnly(t *testing.T) {
	tests := []struct {
		name   string
		req    recstore.Request
		want   string // the document's data, compacted
		reason string
	}{
		{name: "to-one", req: recstore.Request{Type: "album", ID: "1", Relationship: "label", Link: "/albums/1/label"},
			want:   `{"type":"labels","id":"L","attributes":{"name":"Undertow"},"relationships":{"albums":{"data":[{"type":"albums","id":"1"}]}}}`,
			reason: "a singular name is a to-one: the first label naming album 1, not an array"},
		{name: "to-one none", req: recstore.Request{Type: "album", ID: "2", Relationship: "label", Link: "/albums/2/label"},
			want: `null`, reason: "a to-one no record names is null"},
		{name: "to-many", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "/albums/1/tracks"},
			want:   `[{"type":"tracks","id":"10","attributes":{"title":"x"},"relationships":{"album":{"data":{"type":"albums","id":"1"}}}},{"type":"tracks","id":"11","relationships":{"album":{"data":{"type":"albums","id":"1"}}}}]`,
			reason: "a plural name is a to-many"},
		{name: "to-many none", req: recstore.Request{Type: "album", ID: "2", Relationship: "tracks", Link: "/albums/2/tracks"},
			want: `[]`, reason: "an empty to-many is []"},
		{name: "to-many self", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "/albums/1/relationships/tracks"},
			want: `[{"type":"tracks","id":"10"},{"type":"tracks","id":"11"}]`, reason: "a self link answers identifiers"},
		{name: "to-one self", req: recstore.Request{Type: "album", ID: "1", Relationship: "label", Link: "/albums/1/relationships/label"},
			want: `{"type":"labels","id":"L"}`, reason: "a to-one self link answers one identifier"},
		{name: "to-one self none", req: recstore.Request{Type: "album", ID: "2", Relationship: "label", Link: "/albums/2/relationships/label"},
			want: `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := recstoretest.NewMemoryAdapter(linksOnlyFixtures)
			b, err := m.FindLink(context.Background(), &tt.req)
			require.NoError(t, err, "link %q", tt.req.Link)
			var doc struct{ Data json.RawMessage }
			require.NoError(t, json.Unmarshal(b, &doc), "%s", b)
			assert.JSONEq(t, tt.want, string(doc.Data), "link %q answered %s: %s", tt.req.Link, doc.Data, tt.reason)
		})
	}
}

// linksAlbum and linksTrack are albums with tracks and a label, for
// loading relationships given by links only.
type linksAlbum struct {
	ID     string        `jsonapi:"primary,album"`
	Tracks []*linksTrack `jsonapi:"relation,tracks"`
	Label  *Label        `jsonapi:"relation,label"`
}

type linksTrack struct {
	ID    string `jsonapi:"primary,track"`
	Title string `jsonapi:"attr,title"`
}

// Store.LoadRelated follows links-only relationships through a
// MemoryAdapter directly and through NewServer and an HTTPAdapter.
func TestMemoryAdapter_LoadRelatedLinksOnly(t *testing.T) {
	direct := func(m *recstoretest.MemoryAdapter) recstore.Adapter { return m }
	served := func(m *recstoretest.MemoryAdapter) recstore.Adapter {
		srv := recstoretest.NewServer(m)
		t.Cleanup(srv.Close)
		return &recstore.HTTPAdapter{Host: srv.URL}
	}
	tests := []struct {
		name    string
		adapter func(*recstoretest.MemoryAdapter) recstore.Adapter
		id, rel string
		want    []string
	}{
		{"direct to-one", direct, "1", "label", []string{"L"}},
		{"direct to-one none", direct, "2", "label", nil},
		{"direct to-many", direct, "1", "tracks", []string{"10", "11"}},
		{"server to-one", served, "1", "label", []string{"L"}},
		{"server to-one none", served, "2", "label", nil},
		{"server to-many", served, "1", "tracks", []string{"10", "11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := recstore.New(&recstore.Options{Adapter: tt.adapter(recstoretest.NewMemoryAdapter(linksOnlyFixtures))})
			defer s.Close()
			albums := recstore.MustRegister[linksAlbum](s, nil)
			recstore.MustRegister[linksTrack](s, nil)
			recstore.MustRegister[Label](s, nil)
			_, err := albums.Find(ctx, tt.id, nil)
			require.NoError(t, err)
			r, err := s.LoadRelated(ctx, recstore.Key{Type: "album", ID: tt.id}, tt.rel)
			require.NoError(t, err, "LoadRelated(album %s, %q)", tt.id, tt.rel)
			var ids []string
			for _, k := range r.Keys {
				ids = append(ids, k.ID)
			}
			assert.Equal(t, tt.want, ids, "LoadRelated(album %s, %q): keys %v", tt.id, tt.rel, r.Keys)
			assert.Empty(t, r.NotLoaded, "the related records are loaded")
		})
	}
}
