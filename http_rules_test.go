package recstore_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
)

// Glorp is a model whose plural no English rule knows: the inflection
// rules given to a test decide it ("glorps" by default).
type Glorp struct {
	ID string `jsonapi:"primary,glorp"`
}

// glorpServer answers JSON:API requests for any collection, naming each
// resource's type typ, or if typ is "" after the collection's path
// segment, so that a response reads back only if the Store knows that
// plural. A Query for
// page=1 links to "?page=2", relative to the URL it was sent to. It
// records every request's URL.
func glorpServer(t *testing.T, typ string) (srv *httptest.Server, sent func() []string) {
	t.Helper()
	var mu sync.Mutex
	var urls []string
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		urls = append(urls, r.URL.RequestURI())
		mu.Unlock()
		seg, id, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if typ != "" {
			seg = typ
		}
		res := func(id string) string { return fmt.Sprintf(`{"type": %q, "id": %q}`, seg, id) }
		w.Header().Set("Content-Type", "application/vnd.api+json")
		q := r.URL.Query()
		switch {
		case id != "":
			io.WriteString(w, `{"data": `+res(id)+`}`)
		case q.Get("filter[id]") != "":
			var data []string
			for _, id := range strings.Split(q.Get("filter[id]"), ",") {
				data = append(data, res(id))
			}
			io.WriteString(w, `{"data": [`+strings.Join(data, ",")+`]}`)
		case q.Get("page") == "1":
			io.WriteString(w, `{"data": [`+res("p1")+`], "links": {"next": "?page=2"}}`)
		case q.Get("page") != "":
			io.WriteString(w, `{"data": [`+res("p"+q.Get("page"))+`]}`)
		default:
			io.WriteString(w, `{"data": [`+res("all")+`]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), urls...)
	}
}

// glorpRules returns English rules with glorp's plural set to plural.
func glorpRules(plural string) *inflect.Rules {
	r := inflect.English()
	r.Irregular("glorp", plural)
	return r
}

// The Store's HTTPAdapter builds its paths with the Store's own words
// (Options.Inflector), on every kind of request the Store makes, with no
// HTTPAdapter.Inflector; words added after New reach neither the Store
// nor the paths, even when the very rules were given to both; and an
// HTTPAdapter.Inflector of its own overrides the Store's words.
func TestHTTPAdapter_StoreRules(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// setup returns the Store's Options.Inflector and the adapter's
		// Inflector, and what to do once New returned.
		setup      func() (store, adapter *inflect.Rules, afterNew func())
		answerType string // "": the server names the type after the path
		wantPath   string // the collection's path segment
		wantKnown  string // a payload key the Store reads as glorp
		wantGuess  string // a payload key the Store does not read as glorp
		reason     string
	}{
		{
			name: "Store rules, no adapter Inflector",
			setup: func() (*inflect.Rules, *inflect.Rules, func()) {
				return glorpRules("glorpim"), nil, func() {}
			},
			wantPath: "glorpim", wantKnown: "glorpim",
			reason: "the Store's words name the collection",
		},
		{
			name: "the same rules given to both",
			setup: func() (*inflect.Rules, *inflect.Rules, func()) {
				r := glorpRules("glorpim")
				return r, r, func() {}
			},
			wantPath: "glorpim", wantKnown: "glorpim",
			reason: "the old advice still works",
		},
		{
			name: "words added after New, rules given to both",
			setup: func() (*inflect.Rules, *inflect.Rules, func()) {
				r := inflect.English()
				return r, r, func() { r.Irregular("glorp", "glorpim") }
			},
			wantPath: "glorps", wantKnown: "glorps", wantGuess: "glorpim",
			reason: "New copied the rules: a later word reaches neither payloads nor paths",
		},
		{
			name: "words added after New, rules given to the Store only",
			setup: func() (*inflect.Rules, *inflect.Rules, func()) {
				r := inflect.English()
				return r, nil, func() { r.Irregular("glorp", "glorpim") }
			},
			wantPath: "glorps", wantKnown: "glorps", wantGuess: "glorpim",
			reason: "New copied the rules: a later word reaches neither payloads nor paths",
		},
		{
			name: "an adapter Inflector of its own overrides",
			setup: func() (*inflect.Rules, *inflect.Rules, func()) {
				return glorpRules("glorpim"), glorpRules("glorpen"), func() {}
			},
			answerType: "glorp", // the Store's words do not read "glorpen"
			wantPath:   "glorpen", wantKnown: "glorpim", wantGuess: "glorpen",
			reason: "HTTPAdapter.Inflector is an override",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, sent := glorpServer(t, tt.answerType)
			storeRules, adRules, afterNew := tt.setup()
			ad := &recstore.HTTPAdapter{Host: srv.URL, Inflector: adRules}
			s := recstore.New(&recstore.Options{Inflector: storeRules, Adapter: ad})
			t.Cleanup(func() { s.Close() })
			// A full batch goes at once, so the window never matters.
			coalescing := recstore.New(&recstore.Options{Inflector: storeRules, Adapter: ad,
				Coalesce: &recstore.CoalesceOptions{MaxBatch: 2, Window: time.Minute}})
			t.Cleanup(func() { coalescing.Close() })
			afterNew()
			glorps := recstore.MustRegister[Glorp](s, nil)
			batched := recstore.MustRegister[Glorp](coalescing, nil)
			assert.Equal(t, "glorp", s.ModelNameFromPayloadKey(tt.wantKnown), "the Store reads %q", tt.wantKnown)
			if tt.wantGuess != "" {
				assert.NotEqual(t, "glorp", s.ModelNameFromPayloadKey(tt.wantGuess), "the Store reads %q: %s", tt.wantGuess, tt.reason)
			}

			_, err := glorps.FindAll(ctx, noBackground)
			assert.NoError(t, err, "FindAll: %s", tt.reason)
			_, err = glorps.Find(ctx, "1", noBackground)
			assert.NoError(t, err, "Find: %s", tt.reason)
			for _, err := range glorps.QueryPages(ctx, url.Values{"page": {"1"}}) {
				if !assert.NoError(t, err, "QueryPages: %s", tt.reason) {
					break
				}
			}
			var wg sync.WaitGroup
			for _, id := range []string{"2", "3"} { // one FindMany
				wg.Go(func() {
					_, err := batched.Find(ctx, id, noBackground)
					assert.NoError(t, err, "coalesced Find %s: %s", id, tt.reason)
				})
			}
			wg.Wait()

			p := "/" + tt.wantPath
			want := []string{p, p + "/1", p + "?page=1", p + "?page=2", p + "?filter%5Bid%5D=2%2C3|" + p + "?filter%5Bid%5D=3%2C2"}
			got := sent()
			require.Len(t, got, len(want), "requests sent: %q; %s", got, tt.reason)
			for i, w := range want {
				assert.Contains(t, strings.Split(w, "|"), got[i], "request %d: %s", i, tt.reason)
			}
		})
	}
}

// RESTAdapter takes the Store's words too.
func TestRESTAdapter_StoreRules(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"glorpim": [{"id": "1"}]}`)
	}))
	t.Cleanup(srv.Close)
	s := recstore.New(&recstore.Options{
		Inflector:  glorpRules("glorpim"),
		Serializer: &recstore.RESTSerializer{},
		Adapter:    &recstore.RESTAdapter{HTTPAdapter: recstore.HTTPAdapter{Host: srv.URL, Client: srv.Client()}},
	})
	t.Cleanup(func() { s.Close() })
	glorps := recstore.MustRegister[Glorp](s, nil)
	g, err := glorps.Find(context.Background(), "1", noBackground)
	require.NoError(t, err)
	assert.Equal(t, "1", g.ID)
	assert.Equal(t, "/glorpim/1", got, "the Store's plural names the collection")
}

// A Store groups coalesced ids by the URLs its adapter will send, which
// use the Store's words: with a long plural, two ids whose URL would fit
// with the English plural do not fit, and go one by one.
func TestHTTPAdapter_StoreRulesGroup(t *testing.T) {
	const plural = "glorpimglorpimglorpim"
	srv, sent := glorpServer(t, "")
	limit := len(srv.URL + "/" + plural + "?filter%5Bid%5D=2") // one id fits, two do not
	tests := []struct {
		name string
		ad   recstore.Adapter
	}{
		{"filter[id]", &recstore.HTTPAdapter{Host: srv.URL, MaxURLLength: limit}},
		{"URLForFindMany", &recstore.HTTPAdapter{Host: srv.URL, MaxURLLength: limit, URLForFindMany: func(base, _ string, ids []string) string {
			return base + "?filter%5Bid%5D=" + strings.Join(ids, "%2C")
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(sent())
			s := recstore.New(&recstore.Options{
				Inflector: glorpRules(plural),
				Adapter:   tt.ad,
				Coalesce:  &recstore.CoalesceOptions{MaxBatch: 2, Window: time.Minute},
			})
			t.Cleanup(func() { s.Close() })
			glorps := recstore.MustRegister[Glorp](s, nil)
			var wg sync.WaitGroup
			for _, id := range []string{"2", "3"} {
				wg.Go(func() {
					_, err := glorps.Find(context.Background(), id, noBackground)
					assert.NoError(t, err, id)
				})
			}
			wg.Wait()
			got := sent()[before:]
			assert.ElementsMatch(t, []string{"/" + plural + "/2", "/" + plural + "/3"}, got, "grouped with the English plural, the pair would go together")
			for _, u := range got {
				assert.LessOrEqual(t, len(srv.URL+u), limit, u)
			}
		})
	}
}
