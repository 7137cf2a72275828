package recstore_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idsBrackets is a URLForFindMany that sends ?ids[]=1&ids[]=2.
func idsBrackets(base, _ string, ids []string) string {
	return base + "?" + url.Values{"ids[]": ids}.Encode()
}

func TestHTTPAdapter_URLForFindMany(t *testing.T) {
	tests := []struct {
		name     string
		rest     bool
		hook     func(base, typ string, ids []string) string
		req      recstore.Request
		wantPath string // escaped
		wantRaw  string
	}{
		{name: "default stays filter[id]", req: recstore.Request{Type: "album", IDs: []string{"1", "2"}},
			wantPath: "/api/albums", wantRaw: "filter%5Bid%5D=1%2C2"},
		{name: "REST default stays ids[]", rest: true, req: recstore.Request{Type: "album", IDs: []string{"1", "2"}},
			wantPath: "/api/albums", wantRaw: "ids%5B%5D=1&ids%5B%5D=2"},
		{name: "ids in the path", hook: recstore.CommaIDsURL, req: recstore.Request{Type: "album", IDs: []string{"1", "2"}},
			wantPath: "/api/albums/1,2"},
		{name: "ids in the path, REST", rest: true, hook: recstore.CommaIDsURL,
			req: recstore.Request{Type: "github-handle", IDs: []string{"1", "2"}}, wantPath: "/api/githubHandles/1,2"},
		{name: "ids in the path are escaped", hook: recstore.CommaIDsURL,
			req:      recstore.Request{Type: "album", IDs: []string{".", "a/b", "..", "c,d", "é"}},
			wantPath: "/api/albums/%2E,a%2Fb,%2E%2E,c%2Cd,%C3%A9"},
		{name: "ids in the path with include", hook: recstore.CommaIDsURL,
			req:      recstore.Request{Type: "album", IDs: []string{"1", "2"}, Include: []string{"label", "tracks"}},
			wantPath: "/api/albums/1,2", wantRaw: "include=label%2Ctracks"},
		{name: "a hook's own query keeps it, include appended", hook: idsBrackets,
			req:      recstore.Request{Type: "album", IDs: []string{"1", "2"}, Include: []string{"label"}},
			wantPath: "/api/albums", wantRaw: "ids%5B%5D=1&ids%5B%5D=2&include=label"},
		{name: "the hook gets typ", hook: func(base, typ string, ids []string) string {
			return base + "/by-" + typ + "/" + strings.Join(ids, "+")
		}, req: recstore.Request{Type: "album", IDs: []string{"1", "2"}}, wantPath: "/api/albums/by-album/1+2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := jsonAPIServer(t, 200, "application/json", `{"data": []}`)
			h := recstore.HTTPAdapter{Host: srv.URL, Namespace: "api", URLForFindMany: tt.hook}
			var mf recstore.ManyFinder = &h
			if tt.rest {
				mf = &recstore.RESTAdapter{HTTPAdapter: h}
			}
			ids := slices.Clone(tt.req.IDs)
			_, err := mf.FindMany(context.Background(), &tt.req)
			require.NoError(t, err)
			require.Len(t, *seen, 1)
			assert.Equal(t, tt.wantPath, (*seen)[0].Path, "path for %q", tt.req.IDs)
			assert.Equal(t, tt.wantRaw, (*seen)[0].RawQuery, "query for %q", tt.req.IDs)
			assert.Equal(t, ids, tt.req.IDs, "the request is not modified")
		})
	}
}

// GroupForFindMany measures the URLs the hook builds: every group fits,
// no id is lost or repeated, and a longer form makes smaller groups.
func TestHTTPAdapter_GroupForFindManyMeasuresHook(t *testing.T) {
	const host = "http://example.com"
	many := make([]string, 40)
	for i := range many {
		many[i] = fmt.Sprint(i + 100)
	}
	tests := []struct {
		name       string
		rest       bool
		hook       func(base, typ string, ids []string) string
		limit      int
		ids        []string
		wantGroups [][]string // nil: check only that groups fit
		wantAlone  []string   // ids that must be in groups of their own
	}{
		{name: "path form, all fit", hook: recstore.CommaIDsURL, limit: 2048, ids: []string{"1", "2", "3"},
			wantGroups: [][]string{{"1", "2", "3"}}},
		{name: "path form, split exactly", hook: recstore.CommaIDsURL,
			limit: len(host + "/albums/1,2"), ids: []string{"1", "2", "3", "4", "5"},
			wantGroups: [][]string{{"1", "2"}, {"3", "4"}, {"5"}}},
		{name: "path form, many", hook: recstore.CommaIDsURL, limit: 60, ids: many},
		{name: "brackets form, many", hook: idsBrackets, limit: 60, ids: many},
		{name: "REST with a hook", rest: true, hook: recstore.CommaIDsURL, limit: 40, ids: many},
		{name: "escaped ids are measured escaped", hook: recstore.CommaIDsURL,
			limit: len(host + "/albums/%C3%A9,%C3%A9"), ids: []string{"é", "é", "é"},
			wantGroups: [][]string{{"é", "é"}, {"é"}}},
		{name: "a comma id goes alone", hook: recstore.CommaIDsURL, limit: 2048, ids: []string{"1", "a,b", "2"},
			wantAlone: []string{"a,b"}},
		{name: "a comma id goes alone, REST too", rest: true, hook: idsBrackets, limit: 2048,
			ids: []string{"1", "a,b", "2"}, wantAlone: []string{"a,b"}},
		{name: "an id too long alone still gets a group", hook: recstore.CommaIDsURL, limit: 30,
			ids: []string{"1", strings.Repeat("x", 50), "2"}, wantAlone: []string{strings.Repeat("x", 50)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := recstore.HTTPAdapter{Host: host, MaxURLLength: tt.limit, URLForFindMany: tt.hook}
			var g recstore.ManyGrouper = &h
			if tt.rest {
				g = &recstore.RESTAdapter{HTTPAdapter: h}
			}
			groups := g.GroupForFindMany("album", slices.Clone(tt.ids))
			if tt.wantGroups != nil {
				assert.Equal(t, tt.wantGroups, groups)
			}
			var all []string
			base := host + "/albums"
			for _, grp := range groups {
				all = append(all, grp...)
				if len(grp) > 1 {
					u := tt.hook(base, "album", grp)
					assert.LessOrEqual(t, len(u), tt.limit, "group %q builds %s", grp, u)
				}
				for _, id := range tt.wantAlone {
					if slices.Contains(grp, id) {
						assert.Len(t, grp, 1, "%q shares a group: %q", id, grp)
					}
				}
			}
			assert.ElementsMatch(t, tt.ids, all, "every id once")
		})
	}
	// The longer form needs more groups under the same limit.
	h := recstore.HTTPAdapter{Host: host, MaxURLLength: 60}
	h.URLForFindMany = recstore.CommaIDsURL
	path := len(h.GroupForFindMany("album", many))
	h.URLForFindMany = idsBrackets
	brackets := len(h.GroupForFindMany("album", many))
	assert.Greater(t, brackets, path, "ids[]= is longer than a comma")
}

// A Store coalescing Finds sends them as /albums/1,2 with CommaIDsURL, to a
// server that knows no filter[id].
func TestHTTPAdapter_FindManyInPathThroughStore(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/albums/{ids}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.RequestURI())
		mu.Unlock()
		if r.URL.RawQuery != "" {
			http.Error(w, "no filters here", http.StatusBadRequest)
			return
		}
		// Split before decoding, so that a%2Cb stays one id.
		raw := strings.TrimPrefix(r.URL.EscapedPath(), "/api/albums/")
		var data []string
		for seg := range strings.SplitSeq(raw, ",") {
			id, err := url.PathUnescape(seg)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			data = append(data, fmt.Sprintf(`{"type": "albums", "id": %q, "attributes": {"title": "t%s"}}`, id, id))
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		if len(data) == 1 {
			io.WriteString(w, `{"data": `+data[0]+`}`)
			return
		}
		io.WriteString(w, `{"data": [`+strings.Join(data, ",")+`]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tests := []struct {
		name      string
		ids       []string
		wantPaths []string // sorted; either order of a batch's ids
	}{
		{"two ids, one request", []string{"1", "2"}, []string{"/api/albums/1,2|/api/albums/2,1"}},
		{"a comma id alone", []string{"3", "a,b"}, []string{"/api/albums/3", "/api/albums/a%2Cb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			paths = nil
			mu.Unlock()
			// A full batch is sent at once, so the window never matters.
			_, albums := findStore(t, &recstore.HTTPAdapter{Host: srv.URL, Namespace: "api", URLForFindMany: recstore.CommaIDsURL},
				&recstore.Options{Coalesce: &recstore.CoalesceOptions{MaxBatch: len(tt.ids), Window: time.Minute}})
			for id, err := range findAtOnce(t, albums, context.Background(), tt.ids) {
				require.NoError(t, err, id)
			}
			for _, id := range tt.ids {
				a, ok := albums.Peek(id)
				require.True(t, ok, id)
				assert.Equal(t, "t"+id, a.Title)
			}
			mu.Lock()
			defer mu.Unlock()
			slices.Sort(paths)
			require.Len(t, paths, len(tt.wantPaths), "%q", paths)
			for i, want := range tt.wantPaths {
				assert.Contains(t, strings.Split(want, "|"), paths[i])
			}
		})
	}
}

// No empty part (host, namespace or path) leaves an empty segment.
func TestHTTPAdapter_NoEmptySegments(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		path      func(string) string
		call      func(context.Context, *recstore.HTTPAdapter) error
		want      string
	}{
		{"empty path, record", "api", func(string) string { return "" }, findRecord("1"), "/api/1"},
		{"empty path, collection", "api", func(string) string { return "" }, findAll, "/api"},
		{"empty path and namespace, record", "", func(string) string { return "" }, findRecord("1"), "/1"},
		{"empty path and namespace, collection", "", func(string) string { return "" }, findAll, "/"},
		{"empty namespace", "", nil, findRecord("1"), "/albums/1"},
		{"slashes around the namespace", "/api/v1/", nil, findRecord("1"), "/api/v1/albums/1"},
		{"empty segments inside the namespace", "api//v1", nil, findRecord("1"), "/api/v1/albums/1"},
		{"only slashes in the namespace", "//", nil, findRecord("1"), "/albums/1"},
		{"empty path, find many", "api", func(string) string { return "" }, func(ctx context.Context, a *recstore.HTTPAdapter) error {
			_, err := a.FindMany(ctx, &recstore.Request{Type: "album", IDs: []string{"1", "2"}})
			return err
		}, "/api"},
		{"empty path, ids in the path", "api", func(string) string { return "" }, func(ctx context.Context, a *recstore.HTTPAdapter) error {
			a.URLForFindMany = recstore.CommaIDsURL
			_, err := a.FindMany(ctx, &recstore.Request{Type: "album", IDs: []string{"1", "2"}})
			return err
		}, "/api/1,2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := jsonAPIServer(t, 404, "text/plain", "no")
			a := &recstore.HTTPAdapter{Host: srv.URL + "/", Namespace: tt.namespace, PathForType: tt.path}
			err := tt.call(context.Background(), a)
			require.ErrorIs(t, err, recstore.ErrNotFound)
			require.Len(t, *seen, 1)
			assert.Equal(t, tt.want, (*seen)[0].Path)
			var he *recstore.HTTPError
			require.ErrorAs(t, err, &he)
			u, perr := url.Parse(he.URL)
			require.NoError(t, perr)
			assert.Equal(t, tt.want, u.EscapedPath(), "HTTPError.URL %s", he.URL)
		})
	}
}

func findRecord(id string) func(context.Context, *recstore.HTTPAdapter) error {
	return func(ctx context.Context, a *recstore.HTTPAdapter) error {
		_, err := a.FindRecord(ctx, &recstore.Request{Type: "album", ID: id})
		return err
	}
}

func findAll(ctx context.Context, a *recstore.HTTPAdapter) error {
	_, err := a.FindAll(ctx, &recstore.Request{Type: "album"})
	return err
}

// HTTPError.URL is the URL the request was sent to: after Prepare, which
// may rewrite it, with a password masked.
func TestHTTPError_URLIsTheOneSent(t *testing.T) {
	other, _ := jsonAPIServer(t, 404, "text/plain", "not here")
	tests := []struct {
		name     string
		host     string // "" means the home server
		prepare  func(*http.Request) error
		wantURL  func(home string) string
		wantSent bool
		wantErr  error
	}{
		{name: "no Prepare", wantURL: func(home string) string { return home + "/albums/1" }, wantSent: true,
			wantErr: recstore.ErrNotFound},
		{name: "Prepare signs the query", prepare: func(r *http.Request) error {
			r.URL.RawQuery = "sig=abc"
			return nil
		}, wantURL: func(home string) string { return home + "/albums/1?sig=abc" }, wantSent: true, wantErr: recstore.ErrNotFound},
		{name: "Prepare moves the request", prepare: func(r *http.Request) error {
			u, err := url.Parse(other.URL + "/v2/albums/1")
			r.URL, r.Host = u, u.Host
			return err
		}, wantURL: func(string) string { return other.URL + "/v2/albums/1" }, wantErr: recstore.ErrNotFound},
		{name: "Prepare fails after rewriting", prepare: func(r *http.Request) error {
			r.URL.Path = "/signed/albums/1"
			return fmt.Errorf("no token")
		}, wantURL: func(home string) string { return home + "/signed/albums/1" }},
		{name: "Prepare drops the URL", prepare: func(r *http.Request) error {
			r.URL = nil
			return nil
		}, wantURL: func(home string) string { return home + "/albums/1" }},
		{name: "a password is masked", host: "user:secret@", wantURL: func(home string) string {
			return strings.Replace(home, "://", "://user:xxxxx@", 1) + "/albums/1"
		}, wantSent: true, wantErr: recstore.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home, homeSeen := jsonAPIServer(t, 404, "text/plain", "not found")
			host := strings.Replace(home.URL, "://", "://"+tt.host, 1)
			a := &recstore.HTTPAdapter{Host: host, Prepare: tt.prepare}
			_, err := a.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
			var he *recstore.HTTPError
			require.ErrorAs(t, err, &he)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			assert.Equal(t, tt.wantURL(home.URL), he.URL)
			assert.NotContains(t, err.Error(), "secret")
			assert.Equal(t, tt.wantSent, len(*homeSeen) == 1, "sent home: %v", *homeSeen)
		})
	}
}

// A URLForFindMany that panics fails the coalesced Finds with ErrPanic,
// whether it panics measuring groups or building the request, and the
// process goes on.
func TestHTTPAdapter_URLForFindManyPanics(t *testing.T) {
	tests := []struct {
		name    string
		panicAt int // the hook's call that panics
	}{
		{"while grouping", 1},             // GroupForFindMany measures two ids once
		{"while building the request", 2}, // then FindMany builds the URL
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := jsonAPIServer(t, 200, "application/vnd.api+json", `{"data": []}`)
			var mu sync.Mutex
			calls := 0
			hook := func(base, typ string, ids []string) string {
				mu.Lock()
				calls++
				n := calls
				mu.Unlock()
				if n == tt.panicAt {
					panic("hook bug")
				}
				return recstore.CommaIDsURL(base, typ, ids)
			}
			_, albums := findStore(t, &recstore.HTTPAdapter{Host: srv.URL, URLForFindMany: hook},
				&recstore.Options{Coalesce: &recstore.CoalesceOptions{MaxBatch: 2, Window: time.Minute}})
			for id, err := range findAtOnce(t, albums, context.Background(), []string{"1", "2"}) {
				require.ErrorIs(t, err, recstore.ErrPanic, id)
			}
			assert.Empty(t, *seen, "nothing was sent")
			assert.Zero(t, albums.Len())
		})
	}
}
