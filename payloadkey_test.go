package recstore_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Models whose names the English rules once got wrong, or still do
// (wave → waves → "wafe"), and their kin.
type (
	inflCookie struct {
		ID     string `jsonapi:"primary,cookie"`
		Flavor string `jsonapi:"attr,flavor"`
	}
	inflJar struct {
		ID      string        `jsonapi:"primary,jar"`
		Label   string        `jsonapi:"attr,label"`
		Cookies []*inflCookie `jsonapi:"relation,cookies"`
	}
	inflTin struct {
		ID      string         `jsonapi:"primary,tin"`
		Cookies []recstore.Key `jsonapi:"relation,cookies"`
		Things  []recstore.Key `jsonapi:"relation,things"`
	}
	inflPie struct {
		ID string `jsonapi:"primary,pie"`
	}
	inflToe struct {
		ID string `jsonapi:"primary,toe"`
	}
	inflCanoe struct {
		ID string `jsonapi:"primary,canoe"`
	}
	inflBase struct {
		ID string `jsonapi:"primary,base"`
	}
	inflWave struct {
		ID     string `jsonapi:"primary,wave"`
		Height int    `jsonapi:"attr,height"`
	}
	inflBlogPost struct {
		ID string `jsonapi:"primary,blogPost"`
	}
	inflGithubHandle struct {
		ID string `jsonapi:"primary,github-handle"`
	}
	inflCurve struct {
		ID string `jsonapi:"primary,curve"`
	}
	inflCurf struct {
		ID string `jsonapi:"primary,curf"`
	}
	inflDatum struct {
		ID string `jsonapi:"primary,datum"`
	}
	inflData struct {
		ID string `jsonapi:"primary,data"`
	}
	inflCactus struct {
		ID   string `jsonapi:"primary,cactus"`
		Name string `jsonapi:"attr,name"`
	}
)

func inflStore(t *testing.T, opts *recstore.Options) *recstore.Store {
	t.Helper()
	s := recstore.New(opts)
	t.Cleanup(func() { s.Close() })
	recstore.MustRegister[inflCookie](s, nil)
	recstore.MustRegister[inflJar](s, nil)
	recstore.MustRegister[inflTin](s, nil)
	recstore.MustRegister[inflPie](s, nil)
	recstore.MustRegister[inflToe](s, nil)
	recstore.MustRegister[inflCanoe](s, nil)
	recstore.MustRegister[inflBase](s, nil)
	recstore.MustRegister[inflWave](s, nil)
	recstore.MustRegister[inflBlogPost](s, nil)
	recstore.MustRegister[inflGithubHandle](s, nil)
	recstore.MustRegister[inflCurve](s, nil)
	recstore.MustRegister[inflCurf](s, nil)
	recstore.MustRegister[inflDatum](s, nil)
	recstore.MustRegister[inflData](s, nil)
	return s
}

func TestStore_ModelNameFromPayloadKey(t *testing.T) {
	s := inflStore(t, nil)
	tests := []struct {
		key, want string
		reason    string
	}{
		{"cookies", "cookie", "a model's plural"},
		{"cookie", "cookie", "its name"},
		{"Cookies", "cookie", "in another case"},
		{"COOKIES", "cookie", "all upper case"},
		{"pies", "pie", ""},
		{"toes", "toe", ""},
		{"canoes", "canoe", ""},
		{"bases", "base", ""},
		{"waves", "wave", "the English rules still say wafe; the model wins"},
		{"blogPosts", "blogPost", "a camelized model name, plural"},
		{"blog-posts", "blogPost", "dasherized"},
		{"blog_posts", "blogPost", "underscored"},
		{"BlogPosts", "blogPost", "capitalized"},
		{"blog-post", "blogPost", "its name, dasherized"},
		{"github-handles", "github-handle", ""},
		{"githubHandles", "github-handle", ""},
		{"github_handles", "github-handle", ""},
		{"GithubHandle", "github-handle", ""},
		{"data", "data", "a model's own name beats another's plural (datum → data)"},
		{"curves", "curf", "curve and curf share a plural: neither takes it, the guess decides"},
		{"curve", "curve", ""},
		{"curf", "curf", ""},
		{"categories", "category", "no model: the guess"},
		{"people", "person", "no model: the guess"},
		{"unknown-things", "unknown-thing", "no model: the guess"},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			assert.Equal(t, tt.want, s.ModelNameFromPayloadKey(tt.key), "key %q: %s", tt.key, tt.reason)
		})
	}
	// The package function knows no Store's models.
	assert.Equal(t, "wafe", recstore.ModelNameFromPayloadKey("waves"))
	assert.Equal(t, "cookie", recstore.ModelNameFromPayloadKey("cookies"), "the English rules know cookie")
}

// A cookie model reads its own cookies payloads, whichever serializer,
// and whichever part of the payload names it.
func TestPushPayload_ModelReadsItsPlural(t *testing.T) {
	tests := []struct {
		name    string
		ser     recstore.Serializer
		typ     string
		payload string
		want    []recstore.Key
		check   func(t *testing.T, s *recstore.Store)
	}{
		{name: "REST root key", ser: &recstore.RESTSerializer{}, typ: "cookie",
			payload: `{"cookies": [{"id": 1, "flavor": "ginger"}, {"id": 2, "flavor": "oat"}]}`,
			want:    []recstore.Key{{Type: "cookie", ID: "1"}, {Type: "cookie", ID: "2"}}},
		{name: "REST root key, no type asked", ser: &recstore.RESTSerializer{},
			payload: `{"waves": {"id": 7, "height": 3}}`,
			want:    []recstore.Key{{Type: "wave", ID: "7"}}},
		{name: "REST sideload and to-many", ser: &recstore.RESTSerializer{}, typ: "jar",
			payload: `{"jars": [{"id": 1, "label": "biscuits", "cookies": [1, 2]}], "cookies": [{"id": 1, "flavor": "ginger"}, {"id": 2}]}`,
			want:    []recstore.Key{{Type: "jar", ID: "1"}, {Type: "cookie", ID: "1"}, {Type: "cookie", ID: "2"}},
			check: func(t *testing.T, s *recstore.Store) {
				r, ok := s.Related(recstore.Key{Type: "jar", ID: "1"}, "cookies")
				require.True(t, ok)
				assert.Equal(t, []recstore.Key{{Type: "cookie", ID: "1"}, {Type: "cookie", ID: "2"}}, r.Keys)
			}},
		{name: "REST Key relationship by its name and by type", ser: &recstore.RESTSerializer{}, typ: "tin",
			payload: `{"tins": [{"id": 1, "cookies": [3], "things": [{"id": 4, "type": "cookies"}, {"id": 5, "type": "waves"}]}]}`,
			want:    []recstore.Key{{Type: "tin", ID: "1"}},
			check: func(t *testing.T, s *recstore.Store) {
				r, ok := s.Related(recstore.Key{Type: "tin", ID: "1"}, "cookies")
				require.True(t, ok)
				assert.Equal(t, []recstore.Key{{Type: "cookie", ID: "3"}}, r.Keys)
				r, ok = s.Related(recstore.Key{Type: "tin", ID: "1"}, "things")
				require.True(t, ok)
				assert.Equal(t, []recstore.Key{{Type: "cookie", ID: "4"}, {Type: "wave", ID: "5"}}, r.Keys)
			}},
		{name: "JSON:API types", ser: &recstore.JSONAPISerializer{},
			payload: `{"data": {"type": "jars", "id": "1", "relationships": {"cookies": {"data": [{"type": "cookies", "id": "9"}]}}},
				"included": [{"type": "cookies", "id": "9", "attributes": {"flavor": "oat"}}, {"type": "waves", "id": "2"}]}`,
			want: []recstore.Key{{Type: "jar", ID: "1"}, {Type: "cookie", ID: "9"}, {Type: "wave", ID: "2"}}},
		{name: "JSON:API camelized and underscored types", ser: &recstore.JSONAPISerializer{},
			payload: `{"data": [{"type": "blogPosts", "id": "1"}, {"type": "github_handles", "id": "2"}]}`,
			want:    []recstore.Key{{Type: "blogPost", ID: "1"}, {Type: "github-handle", ID: "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := inflStore(t, &recstore.Options{Serializer: tt.ser})
			keys, err := s.PushPayload(tt.typ, tt.payload)
			require.NoError(t, err)
			assert.Equal(t, tt.want, keys)
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}

	// Through the typed handle, values and all.
	s := recstore.New(&recstore.Options{Serializer: &recstore.RESTSerializer{}})
	cookies := recstore.MustRegister[inflCookie](s, nil)
	got, err := cookies.PushPayload(`{"cookies": [{"id": 1, "flavor": "ginger"}]}`)
	require.NoError(t, err)
	assert.Equal(t, []inflCookie{{ID: "1", Flavor: "ginger"}}, got)
}

// Each Store has its own words: Options.Inflector is copied at New, and
// one Store's words reach neither another Store nor the package's rules.
func TestStore_InflectorPerStore(t *testing.T) {
	rules := inflect.English()
	rules.Irregular("cactus", "cacti")
	a := recstore.New(&recstore.Options{Inflector: rules})
	b := recstore.New(nil)
	rules.Irregular("formula", "formulae") // after New: not a's
	c := recstore.New(&recstore.Options{Inflector: rules})
	for _, s := range []*recstore.Store{a, b, c} {
		t.Cleanup(func() { s.Close() })
	}

	tests := []struct {
		store     *recstore.Store
		name, key string
		want      string
	}{
		{a, "a", "cacti", "cactus"},
		{b, "b", "cacti", "cacti"},
		{c, "c", "cacti", "cactus"},
		{a, "a", "formulae", "formulae"},
		{b, "b", "formulae", "formulae"},
		{c, "c", "formulae", "formula"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.key, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.store.ModelNameFromPayloadKey(tt.key))
		})
	}
	assert.Equal(t, "cacti", recstore.ModelNameFromPayloadKey("cacti"), "the package's rules are untouched")

	// Registered, the model reads its plural in a and not in b, and a
	// writes it.
	ca := recstore.MustRegister[inflCactus](a, nil)
	cb := recstore.MustRegister[inflCactus](b, nil)
	doc := `{"data": [{"type": "cacti", "id": "1", "attributes": {"name": "saguaro"}}]}`
	_, err := ca.PushPayload(doc)
	require.NoError(t, err)
	keys, err := b.PushPayload("", `{"data": [], "included": [{"type": "cacti", "id": "1"}]}`)
	require.NoError(t, err, "an unknown included type is skipped")
	assert.Empty(t, keys)
	assert.Zero(t, cb.Len())
	out, err := ca.Serialize("1", nil)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"type":"cacti"`)
}

// An HTTPAdapter.Inflector that is the Store's Options.Inflector gives the
// default paths the Store's words, so a Find goes to /cacti/1 and reads
// the cacti answer (see TestHTTPAdapter_StoreRules for an adapter without
// one).
func TestHTTPAdapter_InflectorPaths(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/api/cacti/1":
			w.Header().Set("Content-Type", "application/vnd.api+json")
			io.WriteString(w, `{"data": {"type": "cacti", "id": "1", "attributes": {"name": "saguaro"}}}`)
		case "/api/cacti/2":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"cacti": {"id": 2, "name": "barrel"}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	rules := inflect.English()
	rules.Irregular("cactus", "cacti")

	tests := []struct {
		name string
		ad   recstore.Adapter
		ser  recstore.Serializer
		id   string
		want inflCactus
	}{
		{"JSON:API", &recstore.HTTPAdapter{Host: srv.URL, Namespace: "api", Inflector: rules}, nil, "1",
			inflCactus{ID: "1", Name: "saguaro"}},
		{"REST", &recstore.RESTAdapter{HTTPAdapter: recstore.HTTPAdapter{Host: srv.URL, Namespace: "api", Inflector: rules}},
			&recstore.RESTSerializer{}, "2", inflCactus{ID: "2", Name: "barrel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := recstore.New(&recstore.Options{Inflector: rules, Adapter: tt.ad, Serializer: tt.ser})
			t.Cleanup(func() { s.Close() })
			cacti := recstore.MustRegister[inflCactus](s, nil)
			got, err := cacti.Find(context.Background(), tt.id, noBackground)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	// Without it, the path is English's.
	_, err := (&recstore.HTTPAdapter{Host: srv.URL, Namespace: "api"}).FindRecord(context.Background(), &recstore.Request{Type: "cactus", ID: "1"})
	require.ErrorIs(t, err, recstore.ErrNotFound)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"/api/cacti/1", "/api/cacti/2", "/api/cactus/1"}, paths)
}

// Models registered while payloads are pushed: every push sees either
// the models before a registration or after it, never half of one.
func TestStore_RegisterWhilePushingPayloads(t *testing.T) {
	s := recstore.New(&recstore.Options{Serializer: &recstore.RESTSerializer{}})
	t.Cleanup(func() { s.Close() })
	cookies := recstore.MustRegister[inflCookie](s, nil)
	registers := []func() error{
		func() error { _, err := recstore.Register[inflPie](s, nil); return err },
		func() error { _, err := recstore.Register[inflToe](s, nil); return err },
		func() error { _, err := recstore.Register[inflCanoe](s, nil); return err },
		func() error { _, err := recstore.Register[inflBase](s, nil); return err },
		func() error { _, err := recstore.Register[inflWave](s, nil); return err },
		func() error { _, err := recstore.Register[inflBlogPost](s, nil); return err },
		func() error { _, err := recstore.Register[inflJar](s, nil); return err },
	}
	var wg sync.WaitGroup
	for _, reg := range registers {
		wg.Go(func() { assert.NoError(t, reg()) })
	}
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				payload := fmt.Sprintf(`{"cookies": [{"id": "%d-%d", "flavor": "oat"}], "pies": [{"id": 1}], "waves": [{"id": 2, "height": 1}],
					"blog-posts": [{"id": 3}], "jars": [{"id": 4, "cookies": ["%d-%d"]}]}`, g, i, g, i)
				keys, err := s.PushPayload("cookie", payload)
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, recstore.Key{Type: "cookie", ID: fmt.Sprintf("%d-%d", g, i)}, keys[0])
				for _, k := range keys[1:] {
					assert.Contains(t, []string{"pie", "wave", "blogPost", "jar", "cookie"}, k.Type, "%q", keys)
				}
				_ = s.ModelNameFromPayloadKey("waves")
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 200, cookies.Len())
	for key, want := range map[string]string{"pies": "pie", "toes": "toe", "canoes": "canoe", "bases": "base", "waves": "wave", "blog-posts": "blogPost", "jars": "jar"} {
		assert.Equal(t, want, s.ModelNameFromPayloadKey(key), "after every registration")
	}
	keys, err := s.PushPayload("", `{"waves": [{"id": 9}], "jars": [{"id": 8, "cookies": []}]}`)
	require.NoError(t, err)
	assert.ElementsMatch(t, []recstore.Key{{Type: "wave", ID: "9"}, {Type: "jar", ID: "8"}}, keys)
}

// BenchmarkStore_ModelNameFromPayloadKey compares the Store's lookup with
// the package's guess, which serializers used for every key before.
func BenchmarkStore_ModelNameFromPayloadKey(b *testing.B) {
	s := recstore.New(nil)
	recstore.MustRegister[Album](s, nil)
	recstore.MustRegister[inflGithubHandle](s, nil)
	for _, bb := range []struct{ name, key string }{
		{"registered", "albums"},
		{"registered-camelized", "githubHandles"},
		{"registered-capitalized", "GithubHandles"},
		{"unknown", "categories"},
	} {
		b.Run("baseline=package/"+bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = recstore.ModelNameFromPayloadKey(bb.key)
			}
		})
		b.Run("store/"+bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = s.ModelNameFromPayloadKey(bb.key)
			}
		})
	}
}
