package recstore_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FindLink resolves each form of link as Ember Data does and sends it
// with the adapter's headers and Prepare, to the origin it resolves to.
func TestHTTPAdapter_FindLink(t *testing.T) {
	const body = `{"data": []}`
	srv, seen := jsonAPIServer(t, http.StatusOK, "application/vnd.api+json", body)
	host := srv.URL
	tests := []struct {
		name      string
		rest      bool
		req       recstore.Request
		wantPath  string
		wantQuery string
		reason    string
	}{
		{name: "absolute", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: host + "/elsewhere/tracks?x=1"},
			wantPath: "/elsewhere/tracks", wantQuery: "x=1", reason: "used as it is"},
		{name: "scheme-relative", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "//" + strings.TrimPrefix(host, "http://") + "/t"},
			wantPath: "/t", reason: "Host's scheme"},
		{name: "host-relative", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "/albums/1/tracks"},
			wantPath: "/albums/1/tracks", reason: "Host and path, no Namespace"},
		{name: "relative related", req: recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "tracks"},
			wantPath: "/api/albums/1/tracks", reason: "the record's URL, then the link"},
		{name: "relative related, escaped id", req: recstore.Request{Type: "github-handle", ID: "a/b", Relationship: "user", Link: "owner?full=1"},
			wantPath: "/api/github-handles/a%2Fb/owner", wantQuery: "full=1", reason: "the id stays one segment"},
		{name: "relative related, REST", rest: true, req: recstore.Request{Type: "github-handle", ID: "1", Relationship: "user", Link: "user"},
			wantPath: "/api/githubHandles/1/user", reason: "REST paths"},
		{name: "pagination, query only", req: recstore.Request{Type: "album", Query: url.Values{"filter[title]": {"x"}}, Link: "?page%5Bnumber%5D=2"},
			wantPath: "/api/albums", wantQuery: "page%5Bnumber%5D=2", reason: "RFC 3986: the query replaces the collection's"},
		{name: "pagination, path", req: recstore.Request{Type: "album", Link: "albums?page%5Bnumber%5D=3"},
			wantPath: "/api/albums", wantQuery: "page%5Bnumber%5D=3", reason: "RFC 3986: the last segment is replaced"},
		{name: "pagination, dot segments", req: recstore.Request{Type: "album", Link: "../v2/albums?cursor=abc"},
			wantPath: "/v2/albums", wantQuery: "cursor=abc", reason: "RFC 3986 removes dot segments"},
		{name: "pagination, host-relative", req: recstore.Request{Type: "album", Link: "/api/albums?page%5Bnumber%5D=2"},
			wantPath: "/api/albums", wantQuery: "page%5Bnumber%5D=2", reason: "Host and path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*seen = nil
			h := recstore.HTTPAdapter{Host: host + "/", Namespace: "api", Header: http.Header{"Authorization": {"Bearer static"}},
				Prepare: func(r *http.Request) error { r.Header.Set("X-Token", "fresh"); return nil }}
			var a recstore.LinkFinder = &h
			if tt.rest {
				a = &recstore.RESTAdapter{HTTPAdapter: h}
			}
			got, err := a.FindLink(context.Background(), &tt.req)
			require.NoError(t, err, "link %q", tt.req.Link)
			assert.Equal(t, body, string(got))
			require.Len(t, *seen, 1)
			r := (*seen)[0]
			assert.Equal(t, "GET", r.Method)
			assert.Equal(t, tt.wantPath, r.Path, "link %q: %s", tt.req.Link, tt.reason)
			assert.Equal(t, tt.wantQuery, r.RawQuery, "link %q: %s", tt.req.Link, tt.reason)
			assert.Equal(t, "Bearer static", r.Auth, "Header is sent on the origin")
			assert.Equal(t, "fresh", r.Token, "Prepare runs on the origin")
			if tt.rest {
				assert.Equal(t, "application/json", r.Accept)
			} else {
				assert.Equal(t, "application/vnd.api+json", r.Accept)
			}
		})
	}
}

// Links that cannot be followed fail with a typed error, and nothing is
// sent.
func TestHTTPAdapter_FindLinkRefused(t *testing.T) {
	srv, seen := jsonAPIServer(t, http.StatusOK, "application/vnd.api+json", `{"data": []}`)
	other := newOriginServer(t, nil)
	tests := []struct {
		name    string
		req     recstore.Request
		wantErr error
		reason  string
	}{
		{"empty", recstore.Request{Type: "album", Link: " "}, recstore.ErrBadResponse, "no URL"},
		{"unparsable", recstore.Request{Type: "album", Link: "http://[::1"}, recstore.ErrBadResponse, "no URL"},
		{"mailto", recstore.Request{Type: "album", Link: "mailto:a@example.com"}, recstore.ErrBadResponse, "not http(s)"},
		{"file", recstore.Request{Type: "album", Link: "file:///etc/passwd"}, recstore.ErrBadResponse, "not http(s)"},
		{"other origin", recstore.Request{Type: "album", Link: other.URL + "/albums?page=2"}, recstore.ErrCrossOriginLink, "another port"},
		{"other origin, scheme-relative", recstore.Request{Type: "album", ID: "1", Relationship: "tracks", Link: "//evil.example.com/x"}, recstore.ErrCrossOriginLink, "another host"},
		{"other scheme", recstore.Request{Type: "album", Link: strings.Replace(srv.URL, "http:", "https:", 1) + "/albums"}, recstore.ErrCrossOriginLink, "another scheme"},
		{"relative related without id", recstore.Request{Type: "album", Relationship: "tracks", Link: "tracks"}, recstore.ErrNotFound, "it would name the collection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*seen = nil
			a := leakyAdapter(t, srv.URL)
			_, err := a.FindLink(context.Background(), &tt.req)
			var he *recstore.HTTPError
			require.ErrorAs(t, err, &he, "link %q", tt.req.Link)
			require.ErrorIs(t, err, tt.wantErr, "link %q: %s", tt.req.Link, tt.reason)
			assert.Equal(t, "GET", he.Method)
			assert.Empty(t, *seen, "link %q was sent", tt.req.Link)
		})
	}
	assert.Empty(t, other.requests())
}

// A link to an origin RedirectOrigins lists is followed without any of
// the app's credentials: no Header, no Prepare, no jar cookies.
func TestHTTPAdapter_FindLinkAllowedOrigin(t *testing.T) {
	home := newOriginServer(t, nil)
	other := newOriginServer(t, nil)
	a := leakyAdapter(t, home.URL)
	a.RedirectOrigins = []string{other.URL}
	got, err := a.FindLink(context.Background(), &recstore.Request{Type: "album", Link: other.URL + "/albums/9"})
	require.NoError(t, err)
	assert.Contains(t, string(got), `"id": "9"`)
	seen := other.requests()
	require.Len(t, seen, 1)
	for _, h := range appHeaders {
		assert.Empty(t, seen[0].Values(h), "%s reached the other origin", h)
	}
	assert.Equal(t, []string{"application/vnd.api+json"}, seen[0].Values("Accept"))
	assert.Empty(t, home.requests())

	// On its own origin the same adapter sends everything.
	_, err = a.FindLink(context.Background(), &recstore.Request{Type: "album", Link: home.URL + "/albums/1"})
	require.NoError(t, err)
	seen = home.requests()
	require.Len(t, seen, 1)
	assert.Equal(t, "fresh", seen[0].Get("X-Token"))
	assert.Equal(t, "Bearer static", seen[0].Get("Authorization"))
}

// FindLink maps statuses and limits as the adapter's other calls do.
func TestHTTPAdapter_FindLinkFailures(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		max         int64
		wantErr     error
	}{
		{"not found", 404, "application/vnd.api+json", `{"errors": [{"title": "Not Found"}]}`, 0, recstore.ErrNotFound},
		{"server", 500, "text/plain", "oops", 0, recstore.ErrServer},
		{"too large", 200, "application/vnd.api+json", `{"data": [` + strings.Repeat(" ", 100) + `]}`, 64, recstore.ErrBadResponse},
		{"not JSON", 200, "text/html", "<html></html>", 0, recstore.ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := jsonAPIServer(t, tt.status, tt.contentType, tt.body)
			a := &recstore.HTTPAdapter{Host: srv.URL, MaxResponseBytes: tt.max}
			_, err := a.FindLink(context.Background(), &recstore.Request{Type: "album", Link: "/albums?page=2"})
			var he *recstore.HTTPError
			require.ErrorAs(t, err, &he)
			require.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, srv.URL+"/albums?page=2", he.URL)
		})
	}

	// A cancelled context aborts the request.
	srv, _ := jsonAPIServer(t, 200, "application/vnd.api+json", `{"data": []}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&recstore.HTTPAdapter{Host: srv.URL}).FindLink(ctx, &recstore.Request{Type: "album", Link: "/albums?page=2"})
	require.ErrorIs(t, err, recstore.ErrAborted)
	require.ErrorIs(t, err, context.Canceled)
}

// Documents whose relationships carry links, as recstoretest's server
// sends them with RelationshipLinks, push as before; their related links
// are answered on loopback.
func TestHTTPAdapter_FindLinkOnTestServer(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "a"},
		"relationships": {"label": {"data": {"type": "labels", "id": "7"}}, "tracks": {"data": [{"type": "tracks", "id": "3"}]}}},
		"included": [{"type": "labels", "id": "7", "attributes": {"name": "Undertow"}},
		{"type": "tracks", "id": "3", "attributes": {"title": "t"}, "relationships": {"album": {"data": {"type": "albums", "id": "1"}}}}]}`)
	m.RelationshipLinks = true
	srv := recstoretest.NewServer(m)
	t.Cleanup(srv.Close)
	a := &recstore.HTTPAdapter{Host: srv.URL}
	s, albums := findStore(t, a, nil)
	ctx := context.Background()

	got, err := albums.Find(ctx, "1", &recstore.FindOptions{Include: []string{"label", "tracks"}, BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	require.NotNil(t, got.Label)
	assert.Equal(t, "Undertow", got.Label.Name)
	require.Len(t, got.Tracks, 1)

	for _, tt := range []struct{ rel, link, want string }{
		{"label", "/albums/1/label", `"labels", "id": "7"`},
		{"tracks", "tracks", `"id":"3"`}, // re-encoded: it has relationships
	} {
		b, err := a.FindLink(ctx, &recstore.Request{Type: "album", ID: "1", Relationship: tt.rel, Link: tt.link})
		require.NoError(t, err, "link %q", tt.link)
		assert.Contains(t, string(b), tt.want)
		_, err = s.PushPayload("", b)
		require.NoError(t, err, "the related document pushes: %s", b)
	}
}

// LoadRelated follows a related link the test server sent, over HTTP on
// loopback: the relationship becomes what the link answered, and its
// records are pushed.
func TestLoadRelatedOverHTTP(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "a"},
		"relationships": {"label": {"data": {"type": "labels", "id": "7"}}, "tracks": {"data": [{"type": "tracks", "id": "3"}, {"type": "tracks", "id": "4"}]}}},
		"included": [{"type": "labels", "id": "7", "attributes": {"name": "Undertow"}},
		{"type": "tracks", "id": "3", "attributes": {"title": "t3"}, "relationships": {"album": {"data": {"type": "albums", "id": "1"}}}},
		{"type": "tracks", "id": "4", "attributes": {"title": "t4"}, "relationships": {"album": {"data": {"type": "albums", "id": "1"}}}}]}`)
	m.RelationshipLinks = true
	srv := recstoretest.NewServer(m)
	t.Cleanup(srv.Close)
	s, albums := findStore(t, &recstore.HTTPAdapter{Host: srv.URL}, nil)
	ctx := context.Background()

	got, err := albums.Find(ctx, "1", &recstore.FindOptions{BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	assert.Empty(t, got.Tracks, "the tracks were not included")
	rel, ok := albums.Related("1", "tracks")
	require.True(t, ok)
	require.NotEmpty(t, recstore.Href(rel.Links, "related"), "the server sent a related link: %v", rel.Links)
	assert.Len(t, rel.NotLoaded, 2)

	for _, name := range []string{"tracks", "label"} {
		r, err := s.LoadRelated(ctx, recstore.Key{Type: "album", ID: "1"}, name)
		require.NoError(t, err, name)
		assert.True(t, r.Known, name)
		assert.Empty(t, r.NotLoaded, name)
	}
	got, err = albums.LoadRelated(ctx, "1", "tracks")
	require.NoError(t, err)
	require.Len(t, got.Tracks, 2)
	assert.Equal(t, "t3", got.Tracks[0].Title)
	require.NotNil(t, got.Label)
	assert.Equal(t, "Undertow", got.Label.Name)
	assert.GreaterOrEqual(t, m.Calls("FindLink"), 3, "every load went through the related link")
}
