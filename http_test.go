package recstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorded is one request a test server saw.
type recorded struct {
	Method, Path, RawQuery, Accept, ContentType, Auth, Token, Body string
}

// jsonAPIServer answers every request with status and body, recording it.
func jsonAPIServer(t *testing.T, status int, contentType, body string) (*httptest.Server, *[]recorded) {
	t.Helper()
	var mu sync.Mutex
	var seen []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Accept"),
			r.Header.Get("Content-Type"), r.Header.Get("Authorization"), r.Header.Get("X-Token"), string(b)})
		mu.Unlock()
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestHTTPAdapterRequests(t *testing.T) {
	const ct = "application/vnd.api+json"
	tests := []struct {
		name    string
		rest    bool
		call    func(context.Context, recstore.Adapter) error
		want    recorded
		wantRaw string // query, when it matters
	}{
		{"find record with include", false, func(ctx context.Context, a recstore.Adapter) error {
			_, err := a.FindRecord(ctx, &recstore.Request{Type: "github-handle", ID: "a/b c", Include: []string{"owner", "repos"}})
			return err
		}, recorded{Method: "GET", Path: "/api/v1/github-handles/a%2Fb%20c", Accept: ct}, "include=owner%2Crepos"},
		{"find all", false, func(ctx context.Context, a recstore.Adapter) error {
			_, err := a.(recstore.AllFinder).FindAll(ctx, &recstore.Request{Type: "person"})
			return err
		}, recorded{Method: "GET", Path: "/api/v1/people", Accept: ct}, ""},
		{"find many as filter[id]", false, func(ctx context.Context, a recstore.Adapter) error {
			_, err := a.(recstore.ManyFinder).FindMany(ctx, &recstore.Request{Type: "album", IDs: []string{"1", "2"}})
			return err
		}, recorded{Method: "GET", Path: "/api/v1/albums", Accept: ct}, "filter%5Bid%5D=1%2C2"},
		{"query sorted by key", false, func(ctx context.Context, a recstore.Adapter) error {
			_, err := a.(recstore.Querier).Query(ctx, &recstore.Request{Type: "album", Query: url.Values{"sort": {"title"}, "filter[artist]": {"Bon Iver"}}})
			return err
		}, recorded{Method: "GET", Path: "/api/v1/albums", Accept: ct}, "filter%5Bartist%5D=Bon+Iver&sort=title"},
		{"create posts the body", false, func(ctx context.Context, a recstore.Adapter) error {
			_, err := a.(recstore.Creator).CreateRecord(ctx, &recstore.Request{Type: "album", Body: []byte(`{"data":{}}`)})
			return err
		}, recorded{Method: "POST", Path: "/api/v1/albums", Accept: ct, ContentType: ct, Body: `{"data":{}}`}, ""},
		{"update patches", false, func(ctx context.Context, a recstore.Adapter) error {
			_, err := a.(recstore.Updater).UpdateRecord(ctx, &recstore.Request{Type: "album", ID: "1", Body: []byte(`{}`)})
			return err
		}, recorded{Method: "PATCH", Path: "/api/v1/albums/1", Accept: ct, ContentType: ct, Body: `{}`}, ""},
		{"delete", false, func(ctx context.Context, a recstore.Adapter) error {
			return a.(recstore.Deleter).DeleteRecord(ctx, &recstore.Request{Type: "album", ID: "1"})
		}, recorded{Method: "DELETE", Path: "/api/v1/albums/1", Accept: ct}, ""},
		{"REST: camelized plural path", true, func(ctx context.Context, a recstore.Adapter) error {
			_, err := a.FindRecord(ctx, &recstore.Request{Type: "github-handle", ID: "1"})
			return err
		}, recorded{Method: "GET", Path: "/api/v1/githubHandles/1", Accept: "application/json"}, ""},
		{"REST: find many as ids[]", true, func(ctx context.Context, a recstore.Adapter) error {
			_, err := a.(recstore.ManyFinder).FindMany(ctx, &recstore.Request{Type: "album", IDs: []string{"1", "2"}})
			return err
		}, recorded{Method: "GET", Path: "/api/v1/albums", Accept: "application/json"}, "ids%5B%5D=1&ids%5B%5D=2"},
		{"REST: update puts", true, func(ctx context.Context, a recstore.Adapter) error {
			_, err := a.(recstore.Updater).UpdateRecord(ctx, &recstore.Request{Type: "album", ID: "1", Body: []byte(`{}`)})
			return err
		}, recorded{Method: "PUT", Path: "/api/v1/albums/1", Accept: "application/json", ContentType: "application/json", Body: `{}`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := jsonAPIServer(t, 200, "application/json", `{"data": null}`)
			h := recstore.HTTPAdapter{Host: srv.URL + "/", Namespace: "/api/v1/",
				Header:  http.Header{"Authorization": {"Bearer static"}},
				Prepare: func(r *http.Request) error { r.Header.Set("X-Token", "fresh"); return nil }}
			var a recstore.Adapter = &h
			if tt.rest {
				a = &recstore.RESTAdapter{HTTPAdapter: h}
			}
			require.NoError(t, tt.call(context.Background(), a))
			require.Len(t, *seen, 1)
			got := (*seen)[0]
			assert.Equal(t, tt.wantRaw, got.RawQuery)
			got.RawQuery = ""
			tt.want.Auth, tt.want.Token = "Bearer static", "fresh"
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestHTTPAdapterStatuses(t *testing.T) {
	tests := []struct {
		status      int
		contentType string
		body        string
		is          error
		wantDetail  string
	}{
		{400, "application/vnd.api+json", `{"errors": [{"status": "400", "detail": "bad filter"}]}`, recstore.ErrInvalid, "bad filter"},
		{422, "application/vnd.api+json", `{"errors": [{"detail": "title is too short", "source": {"pointer": "/data/attributes/title"}}]}`, recstore.ErrInvalid, "title is too short"},
		{401, "text/plain", "who are you", recstore.ErrUnauthorized, "who are you"},
		{403, "", "", recstore.ErrForbidden, ""},
		{404, "application/json", `{"errors": [{"title": "Not Found"}]}`, recstore.ErrNotFound, ""},
		{409, "application/json", `{}`, recstore.ErrConflict, "{}"},
		{500, "text/html", "<h1>oops</h1>", recstore.ErrServer, "<h1>oops</h1>"},
		{503, "text/plain", "later", recstore.ErrServer, "later"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv, _ := jsonAPIServer(t, tt.status, tt.contentType, tt.body)
			a := &recstore.HTTPAdapter{Host: srv.URL}
			_, err := a.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
			var he *recstore.HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tt.status, he.Status)
			assert.ErrorIs(t, err, tt.is)
			require.NotEmpty(t, he.Errors)
			assert.Equal(t, tt.wantDetail, he.Errors[0].Detail)
			assert.Contains(t, err.Error(), fmt.Sprintf("GET %s/albums/1 returned %d", srv.URL, tt.status))
		})
	}
}

// Faults against a real server on loopback: each is a typed error, the
// store stays as it was, and every waiting caller is released.
func TestHTTPAdapterFaults(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	handlers := map[string]http.HandlerFunc{
		"/albums/html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>login page</html>")
		},
		"/albums/big": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			io.WriteString(w, `{"data": {"type": "albums", "id": "big", "attributes": {"title": "`+strings.Repeat("x", 4096)+`"}}}`)
		},
		"/albums/notjson": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			io.WriteString(w, `{"data": {"type": "albums", "id": "notjson",`)
		},
		"/albums/null": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			io.WriteString(w, `{"data": null}`)
		},
		"/albums/other": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			io.WriteString(w, `{"data": {"type": "albums", "id": "7"}}`)
		},
		"/albums/hang": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		},
		"/albums/reset": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, `{"data": {"type": "albums", "id": "reset", "attributes": {"ti`)
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := handlers[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)

	// A port nothing listens on, for connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		host string
		id   string
		is   []error
	}{
		{"wrong content type", srv.URL, "html", []error{recstore.ErrBadResponse}},
		{"over the size limit", srv.URL, "big", []error{recstore.ErrBadResponse}},
		{"not JSON", srv.URL, "notjson", []error{recstore.ErrInvalidDocument}},
		{"data null", srv.URL, "null", []error{recstore.ErrNotFound}},
		{"another id", srv.URL, "other", []error{recstore.ErrWrongRecord}},
		{"hangs past the caller's deadline", srv.URL, "hang", []error{context.DeadlineExceeded}},
		{"reset mid-body", srv.URL, "reset", []error{recstore.ErrAborted}},
		{"connection refused", refused, "x", []error{recstore.ErrAborted}},
		{"404", srv.URL, "missing", []error{recstore.ErrNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, albums := findStore(t, &recstore.HTTPAdapter{Host: tt.host, MaxResponseBytes: 1024}, nil)
			before := recstore.Dump(s)
			timeout := 30 * time.Second // ample for a loaded CI machine
			if tt.id == "hang" {
				timeout = 300 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			var wg sync.WaitGroup
			errs := make([]error, 5)
			for i := range errs {
				wg.Go(func() { _, errs[i] = albums.Find(ctx, tt.id, noBackground) })
			}
			wg.Wait() // every waiting caller is released
			for _, err := range errs {
				require.Error(t, err)
				for _, is := range tt.is {
					assert.ErrorIs(t, err, is, "%v", err)
				}
			}
			requireUnchanged(t, s, before)
		})
	}
}

// A request the adapter's own client gives up on is ErrTimeout.
func TestHTTPAdapterClientTimeout(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	a := &recstore.HTTPAdapter{Host: srv.URL, Client: &http.Client{Timeout: 50 * time.Millisecond}}
	_, err := a.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
	assert.ErrorIs(t, err, recstore.ErrTimeout)
	var he *recstore.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Zero(t, he.Status)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = (&recstore.HTTPAdapter{Host: srv.URL}).FindRecord(ctx, &recstore.Request{Type: "album", ID: "1"})
	assert.ErrorIs(t, err, recstore.ErrAborted)
	assert.ErrorIs(t, err, context.Canceled)
}

// An error status keeps its meaning even when its body is over the limit.
func TestHTTPAdapterLargeErrorBody(t *testing.T) {
	srv, _ := jsonAPIServer(t, 503, "text/html", strings.Repeat("<p>down</p>", 500))
	a := &recstore.HTTPAdapter{Host: srv.URL, MaxResponseBytes: 1000}
	_, err := a.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
	var he *recstore.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 503, he.Status)
	assert.ErrorIs(t, err, recstore.ErrServer)
	assert.NotContains(t, err.Error(), srv.URL+"/albums/1: Get", "the URL is named once")
}

func TestHTTPAdapterWithStore(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		switch r.URL.Path {
		case "/albums/1":
			assert.Equal(t, "label", r.URL.Query().Get("include"))
			io.WriteString(w, `{"data": {"type": "albums", "id": "1", "attributes": {"title": "Hospice", "song-count": 10},
				"relationships": {"label": {"data": {"type": "labels", "id": "7"}}}},
				"included": [{"type": "labels", "id": "7", "attributes": {"name": "Frenchkiss"}}]}`)
		case "/albums":
			io.WriteString(w, `{"data": [{"type": "albums", "id": "2", "attributes": {"title": "Calgary"}}], "meta": {"total": 1}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	s, albums := findStore(t, &recstore.HTTPAdapter{Host: srv.URL}, nil)
	a, err := albums.Find(context.Background(), "1", &recstore.FindOptions{Include: []string{"label"}, BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	assert.Equal(t, "Hospice", a.Title)
	assert.Equal(t, 10, a.SongCount)
	require.NotNil(t, a.Label)
	assert.Equal(t, "Frenchkiss", a.Label.Name)

	res, err := albums.Query(context.Background(), url.Values{"filter[title]": {"Calgary"}})
	require.NoError(t, err)
	require.Len(t, res.Records, 1)
	assert.Equal(t, map[string]any{"total": 1.0}, res.Meta)

	_, err = albums.Find(context.Background(), "3", nil)
	assert.ErrorIs(t, err, recstore.ErrNotFound)
	var he *recstore.HTTPError
	assert.True(t, errors.As(err, &he))
	assert.True(t, s.Has(recstore.Key{Type: "label", ID: "7"}))
}

// A detail made from a long body is cut on a character boundary.
func TestHTTPAdapter_DetailCutOnRune(t *testing.T) {
	for _, r := range []string{"é", "€", "𝄞"} {
		for pad := range 4 {
			body := strings.Repeat("a", pad) + strings.Repeat(r, 600)
			t.Run(fmt.Sprintf("%s/pad=%d", r, pad), func(t *testing.T) {
				srv, _ := jsonAPIServer(t, 500, "text/plain; charset=utf-8", body)
				_, err := (&recstore.HTTPAdapter{Host: srv.URL}).FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
				var he *recstore.HTTPError
				require.ErrorAs(t, err, &he)
				require.NotEmpty(t, he.Errors)
				d := he.Errors[0].Detail
				assert.True(t, utf8.ValidString(d), "detail %q splits a rune", d)
				assert.LessOrEqual(t, len(d), 512)
				assert.Greater(t, len(d), 512-utf8.UTFMax-1)
				require.True(t, strings.HasSuffix(d, "..."), d)
				assert.True(t, strings.HasPrefix(body, strings.TrimSuffix(d, "...")))
				assert.True(t, utf8.ValidString(err.Error()))
			})
		}
	}
}

// Ids "." and ".." are sent percent-encoded, so that no client, proxy or
// server removes them as dot segments, and a server decodes them back.
func TestHTTPAdapter_DotIDs(t *testing.T) {
	var mu sync.Mutex
	var got []string // method, escaped path, id as the server decoded it
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" (no id)")
		mu.Unlock()
		http.NotFound(w, r)
	})
	mux.HandleFunc("/api/albums/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" "+r.PathValue("id"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.api+json")
		io.WriteString(w, `{"data": null}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tests := []struct {
		id, want string
	}{
		{".", "/api/albums/%2E ."},
		{"..", "/api/albums/%2E%2E .."},
		{"...", "/api/albums/... ..."},
		{"../x", "/api/albums/..%2Fx ../x"},
		{`..\x`, "/api/albums/..%5Cx ..\\x"},
		{"%2E%2E", "/api/albums/%252E%252E %2E%2E"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			a := &recstore.HTTPAdapter{Host: srv.URL, Namespace: "api"}
			ctx := context.Background()
			_, err := a.FindRecord(ctx, &recstore.Request{Type: "album", ID: tt.id})
			require.NoError(t, err)
			_, err = a.UpdateRecord(ctx, &recstore.Request{Type: "album", ID: tt.id, Body: []byte(`{}`)})
			require.NoError(t, err)
			require.NoError(t, a.DeleteRecord(ctx, &recstore.Request{Type: "album", ID: tt.id}))
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, []string{"GET " + tt.want, "PATCH " + tt.want, "DELETE " + tt.want}, got)
		})
	}
}

// A record call without an id would name the collection (DELETE /albums):
// it is refused before any request.
func TestHTTPAdapter_EmptyID(t *testing.T) {
	srv, seen := jsonAPIServer(t, 200, "application/vnd.api+json", `{"data": null}`)
	a := &recstore.HTTPAdapter{Host: srv.URL}
	ctx := context.Background()
	_, err := a.FindRecord(ctx, &recstore.Request{Type: "album"})
	assert.ErrorIs(t, err, recstore.ErrNotFound)
	_, err = a.UpdateRecord(ctx, &recstore.Request{Type: "album", Body: []byte(`{}`)})
	assert.ErrorIs(t, err, recstore.ErrNotFound)
	err = a.DeleteRecord(ctx, &recstore.Request{Type: "album"})
	assert.ErrorIs(t, err, recstore.ErrNotFound)
	var he *recstore.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "DELETE", he.Method)
	assert.Empty(t, *seen)
}

// An id holding filter[id]'s comma never turns into two ids: FindMany
// refuses it, GroupForFindMany gives it a group of its own, and a
// coalescing Store finds it at its own URL.
func TestHTTPAdapter_IDWithSeparator(t *testing.T) {
	srv, seen := jsonAPIServer(t, 200, "application/vnd.api+json", `{"data": []}`)
	a := &recstore.HTTPAdapter{Host: srv.URL}
	_, err := a.FindMany(context.Background(), &recstore.Request{Type: "album", IDs: []string{"1", "a,b"}})
	require.ErrorIs(t, err, recstore.ErrNotSupported)
	assert.Empty(t, *seen)

	assert.Equal(t, [][]string{{"a,b"}}, a.GroupForFindMany("album", []string{"a,b"}))
	groups := a.GroupForFindMany("album", []string{"1", "a,b", "2", ","})
	assert.ElementsMatch(t, [][]string{{"1", "2"}, {"a,b"}, {","}}, groups)
	rest := &recstore.RESTAdapter{HTTPAdapter: *a}
	assert.Equal(t, [][]string{{"1", "a,b", "2"}}, rest.GroupForFindMany("album", []string{"1", "a,b", "2"}),
		"ids[] needs no separator")

	var mu sync.Mutex
	var paths []string
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ids []string
		if f := r.URL.Query().Get("filter[id]"); f != "" {
			ids = strings.Split(f, ",")
		} else {
			ids = []string{strings.TrimPrefix(r.URL.Path, "/albums/")}
		}
		mu.Lock()
		paths = append(paths, r.URL.RequestURI())
		mu.Unlock()
		var data []string
		for _, id := range ids {
			data = append(data, fmt.Sprintf(`{"type": "albums", "id": %q, "attributes": {"title": "t"}}`, id))
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		if len(data) == 1 && r.URL.RawQuery == "" {
			io.WriteString(w, `{"data": `+data[0]+`}`)
			return
		}
		io.WriteString(w, `{"data": [`+strings.Join(data, ",")+`]}`)
	}))
	t.Cleanup(store.Close)
	// A full batch is sent at once, so the window never matters.
	s, albums := findStore(t, &recstore.HTTPAdapter{Host: store.URL},
		&recstore.Options{Coalesce: &recstore.CoalesceOptions{MaxBatch: 3, Window: time.Minute}})
	var wg sync.WaitGroup
	for _, id := range []string{"1", "a,b", "2"} {
		wg.Go(func() {
			_, err := albums.Find(context.Background(), id, noBackground)
			assert.NoError(t, err, id)
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, paths, 2, "%q", paths)
	slices.Sort(paths) // the batch's order is the callers'
	assert.Equal(t, "/albums/a%2Cb", paths[0])
	assert.Contains(t, []string{"/albums?filter%5Bid%5D=1%2C2", "/albums?filter%5Bid%5D=2%2C1"}, paths[1])
	assert.False(t, s.Has(recstore.Key{Type: "album", ID: "a"}), "the id became two")
}

// appHeaders are what an app sets on its requests: static headers, cookies
// and a per-request token. None may reach another origin.
var appHeaders = []string{"Authorization", "Cookie", "X-App", "X-Token", "Referer"}

// leakyAdapter sets every kind of app header: Header, Prepare and the
// client's cookie jar (for home's host, which cookies share across ports).
func leakyAdapter(t *testing.T, home string) *recstore.HTTPAdapter {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	u, err := url.Parse(home)
	require.NoError(t, err)
	jar.SetCookies(u, []*http.Cookie{{Name: "jar", Value: "secret"}})
	return &recstore.HTTPAdapter{Host: home, Namespace: "api",
		Client: &http.Client{Jar: jar},
		Header: http.Header{"Authorization": {"Bearer static"}, "Cookie": {"session=secret"}, "X-App": {"secret"}},
		Prepare: func(r *http.Request) error {
			r.Header.Set("X-Token", "fresh")
			return nil
		}}
}

// originServer records the headers of every request it gets and answers
// with album id.
type originServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func newOriginServer(t *testing.T, h http.HandlerFunc) *originServer {
	t.Helper()
	o := &originServer{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.seen = append(o.seen, r.Header.Clone())
		o.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		fmt.Fprintf(w, `{"data": {"type": "albums", "id": %q, "attributes": {"title": "from %s"}}}`, path.Base(r.URL.Path), r.Host)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *originServer) requests() []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.seen)
}

// redirectTo answers every request with a redirect of the given status to
// the same path on target.
func redirectTo(target *string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, *target+r.URL.RequestURI(), status)
	}
}

// A redirect to another port of the same host is refused by default:
// the other origin gets no request, so none of the app's headers, and
// nothing is pushed. Go's client alone would send it every header.
func TestHTTPAdapter_CrossOriginRedirectRefused(t *testing.T) {
	calls := []struct {
		name string
		call func(context.Context, *recstore.HTTPAdapter) error
	}{
		{"find", func(ctx context.Context, a *recstore.HTTPAdapter) error {
			_, err := a.FindRecord(ctx, &recstore.Request{Type: "album", ID: "1"})
			return err
		}},
		{"update", func(ctx context.Context, a *recstore.HTTPAdapter) error {
			_, err := a.UpdateRecord(ctx, &recstore.Request{Type: "album", ID: "1", Body: []byte(`{"data": {}}`)})
			return err
		}},
		{"delete", func(ctx context.Context, a *recstore.HTTPAdapter) error {
			return a.DeleteRecord(ctx, &recstore.Request{Type: "album", ID: "1"})
		}},
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, c := range calls {
			t.Run(fmt.Sprint(c.name, "/", status), func(t *testing.T) {
				other := newOriginServer(t, nil)
				home := newOriginServer(t, redirectTo(&other.URL, status))
				a := leakyAdapter(t, home.URL)
				client := a.Client
				err := c.call(context.Background(), a)
				require.ErrorIs(t, err, recstore.ErrCrossOriginRedirect)
				var he *recstore.HTTPError
				require.ErrorAs(t, err, &he)
				assert.Zero(t, he.Status)
				assert.Contains(t, err.Error(), other.URL, "the error names the refused origin")
				assert.Len(t, home.requests(), 1)
				assert.Empty(t, other.requests(), "the other origin got a request")
				assert.Same(t, client, a.Client)
				assert.Nil(t, client.CheckRedirect, "the app's client was changed")
				assert.IsType(t, &cookiejar.Jar{}, client.Jar, "the app's client was changed")
			})
		}
	}
}

// Through Find: the refused redirect is an error, and the store is
// unchanged; so is a redirect from https to http, or to another host.
func TestHTTPAdapter_CrossOriginRedirectPushesNothing(t *testing.T) {
	other := newOriginServer(t, nil)
	_, port, err := net.SplitHostPort(other.Listener.Addr().String())
	require.NoError(t, err)
	targets := map[string]string{
		"other port":   other.URL,
		"other host":   "http://localhost:" + port,
		"other scheme": "https://" + other.Listener.Addr().String(),
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			home := newOriginServer(t, redirectTo(&target, http.StatusFound))
			s, albums := findStore(t, leakyAdapter(t, home.URL), nil)
			before := recstore.Dump(s)
			_, err := albums.Find(context.Background(), "1", noBackground)
			require.ErrorIs(t, err, recstore.ErrCrossOriginRedirect)
			requireUnchanged(t, s, before)
		})
	}
	assert.Empty(t, other.requests())
}

// A redirect within the origin is followed with every header, and its
// answer is pushed.
func TestHTTPAdapter_SameOriginRedirect(t *testing.T) {
	var srv *originServer
	srv = newOriginServer(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v2/") {
			http.Redirect(w, r, "/v2"+r.URL.Path, http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		io.WriteString(w, `{"data": {"type": "albums", "id": "1", "attributes": {"title": "moved"}}}`)
	})
	// http://127.0.0.1:port and http://LOCALHOST... differ; spell the
	// same origin differently instead: upper case and the port explicit.
	_, albums := findStore(t, leakyAdapter(t, strings.Replace(srv.URL, "http://", "HTTP://", 1)), nil)
	a, err := albums.Find(context.Background(), "1", noBackground)
	require.NoError(t, err)
	assert.Equal(t, "moved", a.Title)
	seen := srv.requests()
	require.Len(t, seen, 2)
	assert.Equal(t, "Bearer static", seen[1].Get("Authorization"))
	assert.Equal(t, "fresh", seen[1].Get("X-Token"))
	assert.Equal(t, "secret", seen[1].Get("X-App"))
	assert.Contains(t, seen[1].Get("Cookie"), "session=secret")
}

// With the other origin listed in RedirectOrigins, the redirect is
// followed without any of the app's headers or cookies, and its answer is
// used; a further redirect to an unlisted origin is still refused.
func TestHTTPAdapter_RedirectOrigins(t *testing.T) {
	third := newOriginServer(t, nil)
	other := newOriginServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/2") {
			http.Redirect(w, r, third.URL+r.URL.Path, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		fmt.Fprintf(w, `{"data": {"type": "albums", "id": %q, "attributes": {"title": "from other"}}}`, path.Base(r.URL.Path))
	})
	home := newOriginServer(t, redirectTo(&other.URL, http.StatusTemporaryRedirect))
	a := leakyAdapter(t, home.URL)
	a.RedirectOrigins = []string{"https://cdn.example.com", other.URL + "/"}
	s, albums := findStore(t, a, nil)

	got, err := albums.Find(context.Background(), "1", noBackground)
	require.NoError(t, err)
	assert.Equal(t, "from other", got.Title)
	seen := other.requests()
	require.Len(t, seen, 1)
	for _, h := range appHeaders {
		assert.Empty(t, seen[0].Values(h), "%s reached the other origin", h)
	}
	assert.Equal(t, []string{"application/vnd.api+json"}, seen[0].Values("Accept"))

	// A body sent again on a 307 keeps its content type only.
	_, err = a.UpdateRecord(context.Background(), &recstore.Request{Type: "album", ID: "1", Body: []byte(`{"data": {}}`)})
	require.NoError(t, err)
	seen = other.requests()
	require.Len(t, seen, 2)
	for _, h := range appHeaders {
		assert.Empty(t, seen[1].Values(h), "%s reached the other origin", h)
	}
	assert.Equal(t, "application/vnd.api+json", seen[1].Get("Content-Type"))

	before := recstore.Dump(s)
	_, err = albums.Find(context.Background(), "2", noBackground)
	require.ErrorIs(t, err, recstore.ErrCrossOriginRedirect)
	assert.Empty(t, third.requests())
	requireUnchanged(t, s, before)
}

// roundTripFunc lets a test stand in for a Transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// An answer whose final request went to another origin, as from a
// Transport that follows redirects itself, is not pushed.
func TestHTTPAdapter_AnswerFromAnotherOrigin(t *testing.T) {
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		moved := r.Clone(r.Context())
		moved.URL.Host = "evil.example.com"
		return &http.Response{StatusCode: 200, Request: moved, Header: http.Header{"Content-Type": {"application/vnd.api+json"}},
			Body: io.NopCloser(strings.NewReader(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "evil"}}}`))}, nil
	})}
	s, albums := findStore(t, &recstore.HTTPAdapter{Host: "https://api.example.com", Client: client}, nil)
	before := recstore.Dump(s)
	_, err := albums.Find(context.Background(), "1", noBackground)
	require.ErrorIs(t, err, recstore.ErrCrossOriginRedirect)
	assert.Contains(t, err.Error(), "https://evil.example.com:443")
	requireUnchanged(t, s, before)
}

// BenchmarkHTTPAdapter measures what the adapter adds to a request, its
// redirect check included, over the same GET made with net/http alone
// (the baseline, in the same run).
func BenchmarkHTTPAdapter(b *testing.B) {
	const body = `{"data": {"type": "albums", "id": "1", "attributes": {"title": "t"}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	ctx := context.Background()
	b.Run("baseline=net/http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/albums/1", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Accept", "application/vnd.api+json")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.Run("adapter=HTTPAdapter", func(b *testing.B) {
		b.ReportAllocs()
		a := &recstore.HTTPAdapter{Host: srv.URL, Client: client}
		req := &recstore.Request{Type: "album", ID: "1"}
		for b.Loop() {
			if _, err := a.FindRecord(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An error message stays one short line whatever the backend wrote: a
// JSON:API error's detail is cut and its control characters replaced
// (it may hold a terminal's escape sequences), though Errors keeps it.
func TestHTTPAdapter_ErrorMessageStaysShort(t *testing.T) {
	detail := strings.Repeat("\u001b[31mred\n", 100_000)
	body, err := json.Marshal(map[string]any{"errors": []map[string]string{{"detail": detail}}})
	require.NoError(t, err)
	srv, _ := jsonAPIServer(t, 500, "application/vnd.api+json", string(body))
	_, err = (&recstore.HTTPAdapter{Host: srv.URL}).FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
	var he *recstore.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, detail, he.Errors[0].Detail)
	msg := err.Error()
	assert.Less(t, len(msg), 1024)
	assert.NotContains(t, msg, "\u001b")
	assert.NotContains(t, msg, "\n")
	assert.True(t, utf8.ValidString(msg))
}
