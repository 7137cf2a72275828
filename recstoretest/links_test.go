package recstoretest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkFixtures: five albums, the first with tracks, a label, a missing
// producer; tracks point back at their album, the second album's tracks
// are given by links only.
const linkFixtures = `{"data": [
	{"type": "albums", "id": "1", "attributes": {"title": "a"}, "relationships": {
		"tracks": {"data": [{"type": "tracks", "id": "10"}, {"type": "tracks", "id": "11"}, {"type": "tracks", "id": "99"}]},
		"label": {"data": {"type": "labels", "id": "7"}},
		"producer": {"data": {"type": "people", "id": "404"}},
		"cover": {"data": null}}},
	{"type": "albums", "id": "2", "attributes": {"title": "b"}, "relationships": {
		"tracks": {"links": {"related": "/albums/2/tracks"}}}},
	{"type": "albums", "id": "3", "attributes": {"title": "a"}},
	{"type": "albums", "id": "4", "attributes": {"title": "a"}},
	{"type": "albums", "id": "5", "attributes": {"title": "b"}}],
 "included": [
	{"type": "labels", "id": "7", "attributes": {"name": "Undertow"}},
	{"type": "tracks", "id": "10", "relationships": {"album": {"data": {"type": "albums", "id": "1"}}}},
	{"type": "tracks", "id": "11", "relationships": {"album": {"data": {"type": "albums", "id": "1"}}}},
	{"type": "tracks", "id": "20", "relationships": {"album": {"data": {"type": "albums", "id": "2"}}}}]}`

// served is a document as the tests read it.
type served struct {
	Data  json.RawMessage
	Links map[string]*string
	Meta  map[string]any
}

// ids lists the ids of d's data: one or an array; "null" for null.
func (d served) ids(t *testing.T) []string {
	t.Helper()
	var rs []struct{ ID string }
	if strings.HasPrefix(strings.TrimSpace(string(d.Data)), "[") {
		require.NoError(t, json.Unmarshal(d.Data, &rs))
	} else if string(d.Data) == "null" {
		return []string{"null"}
	} else {
		var r struct{ ID string }
		require.NoError(t, json.Unmarshal(d.Data, &r))
		rs = append(rs, r)
	}
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func read(t *testing.T, b []byte) served {
	t.Helper()
	var d served
	require.NoError(t, json.Unmarshal(b, &d), "%s", b)
	return d
}

// linkQuery returns the parameters of a link, "" for none.
func linkQuery(t *testing.T, l *string) string {
	t.Helper()
	if l == nil {
		return ""
	}
	u, err := url.Parse(*l)
	require.NoError(t, err)
	assert.Equal(t, "/albums", u.Path)
	q, err := url.QueryUnescape(u.RawQuery)
	require.NoError(t, err)
	return q
}

func TestMemoryAdapter_Pages(t *testing.T) {
	tests := []struct {
		name                          string
		pageSize                      int
		query                         url.Values
		want                          []string
		self, first, prev, next, last string
		total                         float64
	}{
		{name: "by number", query: url.Values{"page[number]": {"2"}, "page[size]": {"2"}}, want: []string{"3", "4"},
			self: "page[number]=2&page[size]=2", first: "page[number]=1&page[size]=2", prev: "page[number]=1&page[size]=2",
			next: "page[number]=3&page[size]=2", last: "page[number]=3&page[size]=2", total: 5},
		{name: "last by number", query: url.Values{"page[number]": {"3"}, "page[size]": {"2"}}, want: []string{"5"},
			self: "page[number]=3&page[size]=2", first: "page[number]=1&page[size]=2", prev: "page[number]=2&page[size]=2",
			last: "page[number]=3&page[size]=2", total: 5},
		{name: "size only", query: url.Values{"page[size]": {"4"}}, want: []string{"1", "2", "3", "4"},
			self: "page[number]=1&page[size]=4", first: "page[number]=1&page[size]=4",
			next: "page[number]=2&page[size]=4", last: "page[number]=2&page[size]=4", total: 5},
		{name: "past the end", query: url.Values{"page[number]": {"9"}, "page[size]": {"2"}}, want: []string{},
			self: "page[number]=9&page[size]=2", first: "page[number]=1&page[size]=2", prev: "page[number]=3&page[size]=2",
			last: "page[number]=3&page[size]=2", total: 5},
		{name: "by offset", query: url.Values{"page[offset]": {"1"}, "page[limit]": {"2"}}, want: []string{"2", "3"},
			self: "page[limit]=2&page[offset]=1", first: "page[limit]=2&page[offset]=0", prev: "page[limit]=2&page[offset]=0",
			next: "page[limit]=2&page[offset]=3", last: "page[limit]=2&page[offset]=4", total: 5},
		{name: "filtered", query: url.Values{"filter[title]": {"a"}, "page[size]": {"2"}}, want: []string{"1", "3"},
			self: "filter[title]=a&page[number]=1&page[size]=2", first: "filter[title]=a&page[number]=1&page[size]=2",
			next: "filter[title]=a&page[number]=2&page[size]=2", last: "filter[title]=a&page[number]=2&page[size]=2", total: 3},
		{name: "PageSize", pageSize: 3, want: []string{"1", "2", "3"},
			self: "page[number]=1&page[size]=3", first: "page[number]=1&page[size]=3",
			next: "page[number]=2&page[size]=3", last: "page[number]=2&page[size]=3", total: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := recstoretest.NewMemoryAdapter(linkFixtures)
			m.PageSize = tt.pageSize
			b, err := m.Query(context.Background(), &recstore.Request{Type: "album", Query: tt.query})
			require.NoError(t, err)
			d := read(t, b)
			assert.Equal(t, tt.want, d.ids(t))
			for _, l := range []struct {
				name, want string
			}{{"self", tt.self}, {"first", tt.first}, {"prev", tt.prev}, {"next", tt.next}, {"last", tt.last}} {
				require.Contains(t, d.Links, l.name, "JSON:API: an unavailable link is null, not left out")
				assert.Equal(t, l.want, linkQuery(t, d.Links[l.name]), "link %s of query %v", l.name, tt.query)
			}
			assert.Equal(t, tt.total, d.Meta["total"])
		})
	}

	// FindAll pages too, and ignores other parameters.
	m := recstoretest.NewMemoryAdapter(linkFixtures)
	b, err := m.FindAll(context.Background(), &recstore.Request{Type: "album", Query: url.Values{"filter[title]": {"b"}, "page[size]": {"2"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2"}, read(t, b).ids(t))

	// Without page parameters nothing changes: no links, no meta.
	b, err = m.FindAll(context.Background(), &recstore.Request{Type: "album"})
	require.NoError(t, err)
	var members map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &members))
	assert.Len(t, members, 1, "only data: %s", b)
	assert.Len(t, read(t, b).ids(t), 5)

	for _, q := range []url.Values{{"page[size]": {"0"}}, {"page[number]": {"x"}}, {"page[offset]": {"-1"}},
		{"page[number]": {"9223372036854775807"}, "page[size]": {"2"}}, {"page[number]": {"4611686018427387903"}, "page[size]": {"1000"}},
		{"page[offset]": {"9223372036854775807"}}, {"page[limit]": {"99999999999999999999"}}} {
		_, err := m.Query(context.Background(), &recstore.Request{Type: "album", Query: q})
		require.ErrorIs(t, err, recstore.ErrInvalid, "query %v", q)
	}
}

func TestMemoryAdapter_RelationshipLinks(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(linkFixtures)
	b, err := m.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "links", "served as loaded unless asked")

	m.RelationshipLinks = true
	b, err = m.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
	require.NoError(t, err)
	var doc struct {
		Data struct {
			Relationships map[string]struct{ Links map[string]string }
		}
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, map[string]string{"related": "/albums/1/tracks", "self": "/albums/1/relationships/tracks"},
		doc.Data.Relationships["tracks"].Links)
	assert.Equal(t, "/albums/1/label", doc.Data.Relationships["label"].Links["related"])

	b, err = m.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "2"})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"links": {"related": "/albums/2/tracks"}`, "a fixture's own links stay as written")

	// Created and updated records are answered as stored: with links.
	b, err = m.CreateRecord(context.Background(), &recstore.Request{Type: "album",
		Body: []byte(`{"data": {"type": "albums", "relationships": {"label": {"data": {"type": "labels", "id": "7"}}}}}`)})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"related":"/albums/21/label"`, "ids go on from the highest numeric one, track 20")
	b, err = m.UpdateRecord(context.Background(), &recstore.Request{Type: "album", ID: "3",
		Body: []byte(`{"data": {"relationships": {"label": {"data": null}}}}`)})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"related":"/albums/3/label"`)
}

func TestMemoryAdapter_FindLink(t *testing.T) {
	tests := []struct {
		name    string
		req     recstore.Request
		want    []string
		wantErr error
		reason  string
	}{
		{name: "to-many", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "/albums/1/tracks"},
			want: []string{"10", "11"}, reason: "the records held, in the relationship's order"},
		{name: "to-one", req: recstore.Request{Type: "album", ID: "1", Relationship: "label", Link: "/albums/1/label"}, want: []string{"7"}},
		{name: "to-one not held", req: recstore.Request{Type: "album", ID: "1", Relationship: "producer", Link: "/albums/1/producer"}, want: []string{"null"}},
		{name: "to-one null", req: recstore.Request{Type: "album", ID: "1", Relationship: "cover", Link: "/albums/1/cover"}, want: []string{"null"}},
		{name: "links only", req: recstore.Request{Type: "album", ID: "2", Relationship: "tracks", Link: "/albums/2/tracks"},
			want: []string{"20"}, reason: "the tracks pointing at album 2"},
		{name: "absolute", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "http://example.com/albums/1/tracks"}, want: []string{"10", "11"}},
		{name: "relative related", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "tracks"}, want: []string{"10", "11"}},
		{name: "self link", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "/albums/1/relationships/tracks"}, want: []string{"10", "11", "99"},
			reason: "the linkage as it is"},
		{name: "record", req: recstore.Request{Type: "album", Link: "/albums/3"}, want: []string{"3"}},
		{name: "page", req: recstore.Request{Type: "album", Link: "/albums?page%5Bnumber%5D=2&page%5Bsize%5D=3"}, want: []string{"4", "5"}},
		{name: "relative page", req: recstore.Request{Type: "album", Query: url.Values{"filter[title]": {"a"}}, Link: "?filter%5Btitle%5D=a&page%5Bsize%5D=1&page%5Bnumber%5D=3"},
			want: []string{"4"}},
		{name: "unknown relationship", req: recstore.Request{Type: "album", ID: "1", Relationship: "x", Link: "/albums/1/x"}, wantErr: recstore.ErrNotFound},
		{name: "unknown record", req: recstore.Request{Type: "album", ID: "9", Relationship: "tracks", Link: "/albums/9/tracks"}, wantErr: recstore.ErrNotFound},
		{name: "empty", req: recstore.Request{Type: "album", Link: ""}, wantErr: recstore.ErrNotFound},
		{name: "too deep", req: recstore.Request{Type: "album", Link: "/a/b/c/d/e"}, wantErr: recstore.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := recstoretest.NewMemoryAdapter(linkFixtures)
			b, err := m.FindLink(context.Background(), &tt.req)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr, "link %q", tt.req.Link)
				return
			}
			require.NoError(t, err, "link %q", tt.req.Link)
			assert.Equal(t, tt.want, read(t, b).ids(t), "link %q: %s", tt.req.Link, tt.reason)
			assert.Equal(t, 1, m.Calls("FindLink"))
		})
	}
}

// The server answers the links its documents hold, through HTTPAdapter.
func TestServer_Links(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(linkFixtures)
	m.RelationshipLinks = true
	srv := recstoretest.NewServer(m)
	defer srv.Close()
	a := &recstore.HTTPAdapter{Host: srv.URL}
	ctx := context.Background()

	b, err := a.FindRecord(ctx, &recstore.Request{Type: "album", ID: "1"})
	require.NoError(t, err)
	var doc struct {
		Data struct {
			Relationships map[string]struct{ Links map[string]string }
		}
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	related := doc.Data.Relationships["tracks"].Links["related"]
	b, err = a.FindLink(ctx, &recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: related})
	require.NoError(t, err)
	d := read(t, b)
	assert.Equal(t, []string{"10", "11"}, d.ids(t))
	assert.Contains(t, string(d.Data), `"related":"/tracks/10/album"`, "related records carry links too")
	b, err = a.FindLink(ctx, &recstore.Request{Type: "album", ID: "1", Relationship: "label", Link: "label"})
	require.NoError(t, err)
	assert.Equal(t, []string{"7"}, read(t, b).ids(t))

	b, err = a.Query(ctx, &recstore.Request{Type: "album", Query: url.Values{"filter[title]": {"a"}, "page[size]": {"2"}}})
	require.NoError(t, err)
	d = read(t, b)
	assert.Equal(t, []string{"1", "3"}, d.ids(t))
	require.NotNil(t, d.Links["next"])
	b, err = a.FindLink(ctx, &recstore.Request{Type: "album", Link: *d.Links["next"]})
	require.NoError(t, err)
	assert.Equal(t, []string{"4"}, read(t, b).ids(t))

	b, err = a.FindAll(ctx, &recstore.Request{Type: "album"})
	require.NoError(t, err)
	assert.Len(t, read(t, b).ids(t), 5, "no pages unless asked")

	_, err = a.Query(ctx, &recstore.Request{Type: "album", Query: url.Values{"page[size]": {"0"}}})
	var he *recstore.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 400, he.Status, fmt.Sprint(err))
	_, err = a.FindLink(ctx, &recstore.Request{Type: "album", Link: "/albums/1/nothing"})
	require.ErrorIs(t, err, recstore.ErrNotFound)
}
