package recstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// albumFixtures makes n albums, ids 1 to n, titled "odd" or "even".
func albumFixtures(n int) string {
	var rs []string
	for i := 1; i <= n; i++ {
		title := "odd"
		if i%2 == 0 {
			title = "even"
		}
		rs = append(rs, fmt.Sprintf(`{"type": "albums", "id": "%d", "attributes": {"title": %q}}`, i, title))
	}
	return `{"data": [` + strings.Join(rs, ",") + `]}`
}

// pagedServer serves n albums through recstoretest's server, and an
// HTTPAdapter for it.
func pagedServer(t *testing.T, n int) (*recstoretest.MemoryAdapter, *recstore.HTTPAdapter) {
	t.Helper()
	m := recstoretest.NewMemoryAdapter(albumFixtures(n))
	srv := recstoretest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, &recstore.HTTPAdapter{Host: srv.URL}
}

// albumIDs lists the ids of albums.
func albumIDs(as []Album) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func TestModel_QueryPages(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		query  url.Values
		want   [][]string
		total  float64
		reason string
	}{
		{name: "by number", n: 5, query: url.Values{"page[size]": {"2"}}, want: [][]string{{"1", "2"}, {"3", "4"}, {"5"}}, total: 5},
		{name: "by offset", n: 5, query: url.Values{"page[offset]": {"1"}, "page[limit]": {"3"}}, want: [][]string{{"2", "3", "4"}, {"5"}}, total: 5,
			reason: "the walk starts where the query does"},
		{name: "filtered", n: 7, query: url.Values{"filter[title]": {"odd"}, "page[size]": {"3"}}, want: [][]string{{"1", "3", "5"}, {"7"}}, total: 4,
			reason: "the links keep the filter"},
		{name: "one page", n: 2, query: url.Values{"page[size]": {"5"}}, want: [][]string{{"1", "2"}}, total: 2},
		{name: "exact pages", n: 4, query: url.Values{"page[size]": {"2"}}, want: [][]string{{"1", "2"}, {"3", "4"}}, total: 4},
		{name: "empty", n: 0, query: url.Values{"page[size]": {"2"}}, want: [][]string{{}}, total: 0},
		{name: "no pages asked", n: 3, query: url.Values{"filter[title]": {"odd"}}, want: [][]string{{"1", "3"}},
			reason: "a collection without a next link is one page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, a := pagedServer(t, tt.n)
			_, albums := findStore(t, a, nil)
			var got [][]string
			for page, err := range albums.QueryPages(context.Background(), tt.query) {
				require.NoError(t, err)
				got = append(got, albumIDs(page.Records))
				if tt.total > 0 || tt.n == 0 {
					assert.Equal(t, tt.total, page.Meta["total"], "page %d", len(got))
				}
			}
			assert.Equal(t, tt.want, got, "query %v: %s", tt.query, tt.reason)
			var all []string
			for _, p := range tt.want {
				all = append(all, p...)
			}
			for _, id := range all {
				_, ok := albums.Peek(id)
				assert.True(t, ok, "album %s was pushed", id)
			}
		})
	}
}

// The untyped walk yields keys; a MemoryAdapter without HTTP follows its
// own links the same way.
func TestStore_QueryPages(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(albumFixtures(5))
	s, _ := findStore(t, m, nil)
	var got [][]recstore.Key
	for page, err := range s.QueryPages(context.Background(), "album", url.Values{"page[size]": {"2"}}) {
		require.NoError(t, err)
		got = append(got, page.Records)
	}
	k := func(id string) recstore.Key { return recstore.Key{Type: "album", ID: id} }
	assert.Equal(t, [][]recstore.Key{{k("1"), k("2")}, {k("3"), k("4")}, {k("5")}}, got)
	assert.Equal(t, 1, m.Calls("Query"))
	assert.Equal(t, 2, m.Calls("FindLink"))

	// An unknown type is one error.
	n := 0
	for page, err := range s.QueryPages(context.Background(), "albums", nil) {
		n++
		assert.Nil(t, page)
		require.ErrorIs(t, err, recstore.ErrUnknownType)
	}
	assert.Equal(t, 1, n)
}

// Breaking out of the loop asks for nothing more.
func TestModel_QueryPagesBreak(t *testing.T) {
	m, a := pagedServer(t, 9)
	_, albums := findStore(t, a, nil)
	pages := 0
	for _, err := range albums.QueryPages(context.Background(), url.Values{"page[size]": {"2"}}) {
		require.NoError(t, err)
		pages++
		if pages == 2 {
			break
		}
	}
	assert.Equal(t, 2, pages)
	assert.Equal(t, 2, m.Calls(""), "one request per page walked, none after the break")
	_, ok := albums.Peek("5")
	assert.False(t, ok, "the third page was not loaded")
}

// A context cancelled between pages, or while a page loads, ends the walk
// with one error; what was pushed before stays, the page cut off is not
// pushed.
func TestModel_QueryPagesCancelled(t *testing.T) {
	tests := []struct {
		name   string
		during bool // cancel while the second page loads, not between pages
	}{{"between pages", false}, {"during a call", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m, a := pagedServer(t, 6)
			if tt.during {
				var calls atomic.Int32
				m.Fail = func(op string, req *recstore.Request) error {
					if calls.Add(1) == 2 {
						cancel() // the server has the request; the client gives up on it
					}
					return nil
				}
			}
			s, albums := findStore(t, a, nil)
			var errs []error
			pages := 0
			for page, err := range albums.QueryPages(ctx, url.Values{"page[size]": {"2"}}) {
				if err != nil {
					errs = append(errs, err)
					assert.Nil(t, page)
					continue
				}
				pages++
				if !tt.during {
					cancel()
				}
			}
			assert.Equal(t, 1, pages)
			require.Len(t, errs, 1, "the error is yielded once, then the walk stops")
			require.ErrorIs(t, errs[0], context.Canceled)
			assert.Equal(t, 2, s.Len("album"), "the first page stays; the second was not pushed")
		})
	}
}

// loopServer serves pages of one album each, whose links the test
// chooses: links[i] is page i's links object, in which "{srv}" stands for
// the server's origin. Page i is /api/albums?p=i.
func loopServer(t *testing.T, links []string) (*recstore.HTTPAdapter, *int) {
	t.Helper()
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		var i int
		fmt.Sscan(r.URL.Query().Get("p"), &i)
		if i >= len(links) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		fmt.Fprintf(w, `{"data": [{"type": "albums", "id": "%d"}], "links": %s}`, i+1, strings.ReplaceAll(links[i], "{srv}", "http://"+r.Host))
	}))
	t.Cleanup(srv.Close)
	return &recstore.HTTPAdapter{Host: srv.URL, Namespace: "api"}, &calls
}

// A next link that leads back to a page already walked stops the walk
// with a *PageLoopError before it is asked for, however it spells the
// page: links are compared once resolved against the page that sent them.
func TestModel_QueryPagesLoop(t *testing.T) {
	tests := []struct {
		name      string
		links     []string
		wantPages int
		wantLink  string
		reason    string
	}{
		{name: "next is self", links: []string{`{"self": "/api/albums?p=0", "next": "/api/albums?p=0"}`},
			wantPages: 1, wantLink: "/api/albums?p=0", reason: "a page that names itself as next"},
		{name: "back to the first", links: []string{`{"self": "?p=0", "next": "?p=1"}`, `{"next": {"href": "?p=0"}}`},
			wantPages: 2, wantLink: "?p=0", reason: "relative links, relative to the first page's self link"},
		{name: "cycle without self links", links: []string{`{"next": "?p=1"}`, `{"next": "?p=2"}`, `{"next": "?p=1"}`},
			wantPages: 3, wantLink: "?p=1", reason: "the next links followed"},
		{name: "query-relative back to a path self", links: []string{`{"self": "/api/albums?p=0", "next": "?p=1"}`, `{"next": "?p=0"}`},
			wantPages: 2, wantLink: "?p=0", reason: "?p=0 from /api/albums?p=1 is /api/albums?p=0, the first page's self"},
		{name: "path-relative", links: []string{`{"self": "/api/albums?p=0", "next": "albums?p=1"}`, `{"next": "albums?p=0"}`},
			wantPages: 2, wantLink: "albums?p=0", reason: "albums?p=0 from /api/albums?p=1 is /api/albums?p=0"},
		{name: "host-relative back to an absolute self", links: []string{`{"self": "{srv}/api/albums?p=0", "next": "?p=1"}`, `{"next": "/api/albums?p=0"}`},
			wantPages: 2, wantLink: "/api/albums?p=0", reason: "/api/albums?p=0 on the first page's origin is its self"},
		{name: "absolute back to a relative next", links: []string{`{"self": "{srv}/api/albums?p=0", "next": "?p=1"}`, `{"next": "?p=2"}`, `{"next": "{srv}/api/albums?p=1"}`},
			wantPages: 3, wantLink: "{srv}/api/albums?p=1", reason: "the link that loaded the second page, resolved"},
		{name: "fragment", links: []string{`{"self": "/api/albums?p=0", "next": "?p=1"}`, `{"next": "?p=0#albums"}`},
			wantPages: 2, wantLink: "?p=0#albums", reason: "a fragment is never sent: the same page"},
		{name: "query order and escaping", links: []string{`{"self": "/api/albums?p=0&size=1", "next": "?size=1&p=1"}`, `{"next": "?size=1&p=%30"}`},
			wantPages: 2, wantLink: "?size=1&p=%30", reason: "the same parameters, in another order and escaping"},
		{name: "a later page's self", links: []string{`{"next": "?p=1"}`, `{"self": "/api/albums?p=1", "next": "?p=2"}`, `{"next": "albums?p=1"}`},
			wantPages: 3, wantLink: "albums?p=1", reason: "the second page's self link is its URL, which its next resolves against"},
		{name: "first page without self", links: []string{`{"next": "?p=1"}`, `{"next": "/api/albums?p=0"}`},
			wantPages: 4, wantLink: "/api/albums?p=0",
			reason: "the first page's URL is unknown: it is loaded again, and the walk goes round until a link names a page walked since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, calls := loopServer(t, tt.links)
			tt.wantLink = strings.ReplaceAll(tt.wantLink, "{srv}", a.Host)
			s, albums := findStore(t, a, nil)
			pages := 0
			var errs []error
			for page, err := range albums.QueryPages(context.Background(), url.Values{"p": {"0"}}) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				pages++
				require.Len(t, page.Records, 1)
			}
			require.Len(t, errs, 1)
			var le *recstore.PageLoopError
			require.ErrorAs(t, errs[0], &le, tt.reason)
			require.ErrorIs(t, errs[0], recstore.ErrPageLoop)
			assert.Equal(t, recstore.PageLoopError{Type: "album", Link: tt.wantLink}, *le)
			assert.Equal(t, tt.wantPages, pages, tt.reason)
			assert.Equal(t, tt.wantPages, *calls, "the looping link is not asked for")
			assert.Equal(t, len(tt.links), s.Len("album"))
		})
	}
}

func TestQueryResult_Next(t *testing.T) {
	ctx := context.Background()
	t.Run("last page", func(t *testing.T) {
		m, a := pagedServer(t, 3)
		_, albums := findStore(t, a, nil)
		first, err := albums.Query(ctx, url.Values{"page[size]": {"2"}})
		require.NoError(t, err)
		last, err := first.Next(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"3"}, albumIDs(last.Records))
		assert.Nil(t, last.Links["next"])
		after, err := last.Next(ctx)
		require.NoError(t, err)
		assert.Nil(t, after, "no next link: no more pages")
		var none *recstore.QueryResult[Album]
		after, err = none.Next(ctx)
		require.NoError(t, err)
		assert.Nil(t, after)
		assert.Equal(t, 2, m.Calls(""), "nothing asked past the last page")

		// Next again from the first page loads the second page again.
		again, err := first.Next(ctx)
		require.NoError(t, err)
		assert.Equal(t, last.Records, again.Records)
	})
	t.Run("not made by a store", func(t *testing.T) {
		r := &recstore.QueryResult[Album]{Links: map[string]any{"next": "/albums?page=2"}}
		_, err := r.Next(ctx)
		require.ErrorIs(t, err, recstore.ErrNotSupported)
	})
	t.Run("adapter is no LinkFinder", func(t *testing.T) {
		q := &queryOnly{payload: `{"data": [], "links": {"next": "/albums?page=2"}}`}
		s, albums := findStore(t, q, nil)
		first, err := albums.Query(ctx, nil)
		require.NoError(t, err)
		before := recstore.Dump(s)
		_, err = first.Next(ctx)
		var ae *recstore.AdapterError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "FindLink", ae.Op)
		require.ErrorIs(t, err, recstore.ErrNotSupported)
		requireUnchanged(t, s, before)
	})
	t.Run("failures change nothing", func(t *testing.T) {
		tests := []struct {
			name    string
			links   []string
			wantErr error
		}{
			{"not found", []string{`{"next": "?p=7"}`}, recstore.ErrNotFound},
			{"bad document", []string{`{"next": "?p=1"}`, `{"next": `}, recstore.ErrInvalidDocument},
			{"other origin", []string{`{"next": "https://evil.example.com/albums?p=1"}`}, recstore.ErrCrossOriginLink},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a, _ := loopServer(t, tt.links)
				s, albums := findStore(t, a, nil)
				first, err := albums.Query(ctx, url.Values{"p": {"0"}})
				require.NoError(t, err)
				before := recstore.Dump(s)
				_, err = first.Next(ctx)
				var ae *recstore.AdapterError
				require.ErrorAs(t, err, &ae)
				require.ErrorIs(t, err, tt.wantErr)
				requireUnchanged(t, s, before)
			})
		}
	})
	t.Run("closed", func(t *testing.T) {
		_, a := pagedServer(t, 3)
		s, albums := findStore(t, a, nil)
		first, err := albums.Query(ctx, url.Values{"page[size]": {"2"}})
		require.NoError(t, err)
		s.Close()
		_, err = first.Next(ctx)
		require.ErrorIs(t, err, recstore.ErrClosed)
	})
}

// FindAll makes one call: of a backend that pages every collection, it
// gets the first page only. QueryPages gets them all.
func TestFindAll_PaginatedCollection(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(albumFixtures(5))
	m.PageSize = 2
	_, albums := findStore(t, m, nil)
	got, err := albums.FindAll(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2"}, albumIDs(got), "the first page only")
	n := 0
	for page, err := range albums.QueryPages(context.Background(), nil) {
		require.NoError(t, err)
		n += len(page.Records)
	}
	assert.Equal(t, 5, n)
}

// One result may be walked from several goroutines at once: each walk is
// its own, and none sees the others' pages as a loop.
func TestQueryResult_NextConcurrent(t *testing.T) {
	_, a := pagedServer(t, 7)
	s, albums := findStore(t, a, nil)
	first, err := albums.Query(context.Background(), url.Values{"page[size]": {"2"}})
	require.NoError(t, err)
	const walkers = 4
	got := make([][]string, walkers)
	var wg sync.WaitGroup
	for i := range walkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for page, err := first.Next(context.Background()); page != nil || err != nil; page, err = page.Next(context.Background()) {
				if err != nil {
					got[i] = append(got[i], err.Error())
					return
				}
				got[i] = append(got[i], albumIDs(page.Records)...)
			}
		}()
	}
	// Pushes and reads meanwhile.
	_, err = s.Push(`{"data": {"type": "album", "id": "100", "attributes": {"title": "pushed"}}}`)
	require.NoError(t, err)
	wg.Wait()
	for i := range walkers {
		assert.Equal(t, []string{"3", "4", "5", "6", "7"}, got[i], "walker %d", i)
	}
	assert.Equal(t, 8, s.Len("album"))
}
