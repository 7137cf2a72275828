package recstore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type Post struct {
	ID       string     `jsonapi:"primary,post"`
	Title    string     `jsonapi:"attr,title"`
	Comments []*Comment `jsonapi:"relation,comments"`
	Author   *Person    `jsonapi:"relation,author"`
}

type Comment struct {
	ID   string `jsonapi:"primary,comment"`
	Body string `jsonapi:"attr,body"`
}

type Person struct {
	ID        string `jsonapi:"primary,person"`
	FirstName string `jsonapi:"attr,firstName"`
}

type GithubHandle struct {
	ID       string       `jsonapi:"primary,github-handle"`
	UserName string       `jsonapi:"attr,userName"`
	Owner    recstore.Key `jsonapi:"relation,owner"`
}

// Coerced has a field of every kind serializers coerce.
type Coerced struct {
	ID   int64     `jsonapi:"primary,coerced"`
	S    string    `jsonapi:"attr,s"`
	N    int       `jsonapi:"attr,n"`
	F    float64   `jsonapi:"attr,f"`
	B    bool      `jsonapi:"attr,b"`
	PB   *bool     `jsonapi:"attr,pb"`
	T    time.Time `jsonapi:"attr,t"`
	Temp float64   `jsonapi:"attr,temp" recstore:"transform=fahrenheit"`
	Tags []string  `jsonapi:"attr,tags"`
}

// quiet is a logger for tests that expect skips.
func quiet() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// seedSerializer is the seed's album serializer: a REST serializer whose
// normalize step renames song_count to songCount.
func seedSerializer() *recstore.RESTSerializer {
	return &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{
		NormalizeHash: func(typ string, h *recstore.Hash) error {
			h.Rename("song_count", "songCount")
			return nil
		},
	}}
}

func TestPushPayload_SeedREST(t *testing.T) {
	s := recstore.New(nil)
	albums := recstore.MustRegister[Album](s, &recstore.ModelOptions{Serializer: seedSerializer()})
	recstore.MustRegister[Label](s, nil)
	recstore.MustRegister[Track](s, nil)
	got, err := albums.PushPayload(map[string]any{
		"albums": []any{
			map[string]any{"id": 1, "title": "Fever Moving Parts", "artist": "David Bazan", "song_count": 10},
			map[string]any{"id": 2, "title": "Calgary b/w I Can't Make You Love Me/Nick Of Time", "artist": "Bon Iver", "song_count": 2},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, []Album{
		{ID: "1", Title: "Fever Moving Parts", Artist: "David Bazan", SongCount: 10},
		{ID: "2", Title: "Calgary b/w I Can't Make You Love Me/Nick Of Time", Artist: "Bon Iver", SongCount: 2},
	}, got)

	// A partial hash is a partial update.
	keys, err := s.PushPayload("album", `{"album": {"id": 1, "song_count": 11}}`)
	require.NoError(t, err)
	assert.Equal(t, []recstore.Key{{Type: "album", ID: "1"}}, keys)
	a, _ := albums.Peek("1")
	assert.Equal(t, Album{ID: "1", Title: "Fever Moving Parts", Artist: "David Bazan", SongCount: 11}, a)
}

func newSerializerStore(t *testing.T, opts *recstore.Options) *recstore.Store {
	t.Helper()
	if opts == nil {
		opts = &recstore.Options{}
	}
	if opts.Logger == nil {
		opts.Logger, _ = quiet()
	}
	s := recstore.New(opts)
	recstore.MustRegister[Album](s, nil)
	recstore.MustRegister[Label](s, nil)
	recstore.MustRegister[Track](s, nil)
	recstore.MustRegister[Post](s, nil)
	recstore.MustRegister[Comment](s, nil)
	recstore.MustRegister[Person](s, nil)
	recstore.MustRegister[GithubHandle](s, nil)
	return s
}

func TestRESTSerializer(t *testing.T) {
	rest := &recstore.RESTSerializer{}
	tests := []struct {
		name     string
		typ      string
		payload  string
		ser      *recstore.RESTSerializer
		wantKeys []string
		want     map[string]any // key → expected Peek value
		skipped  int
	}{
		{
			name:     "plural root key, array",
			typ:      "post",
			payload:  `{"posts": [{"id": 1, "title": "a"}, {"id": "2", "title": "b"}]}`,
			wantKeys: []string{"post:1", "post:2"},
			want:     map[string]any{"post:2": Post{ID: "2", Title: "b"}},
		},
		{
			name:     "singular root key, object",
			typ:      "post",
			payload:  `{"post": {"id": 1, "title": "a", "comments": [1, 2], "author": 9}}`,
			wantKeys: []string{"post:1"},
			want:     map[string]any{"post:1": Post{ID: "1", Title: "a", Comments: []*Comment{}}},
		},
		{
			name:     "sideloads are normalized by their own type and returned after the primary records",
			typ:      "post",
			payload:  `{"comments": [{"id": 1, "body": "c1"}], "post": {"id": 1, "title": "a", "comments": [1]}, "people": [{"id": 9, "firstName": "Ann"}]}`,
			wantKeys: []string{"post:1", "comment:1", "person:9"},
			want: map[string]any{
				"post:1":   Post{ID: "1", Title: "a", Comments: []*Comment{{ID: "1", Body: "c1"}}},
				"person:9": Person{ID: "9", FirstName: "Ann"},
			},
		},
		{
			name:     "a leading underscore sideloads the primary type",
			typ:      "post",
			payload:  `{"post": {"id": 1, "title": "main"}, "_posts": [{"id": 2, "title": "related"}]}`,
			wantKeys: []string{"post:1", "post:2"},
			want:     map[string]any{"post:2": Post{ID: "2", Title: "related"}},
		},
		{
			name:     "meta is not a type, null is skipped, unknown keys are skipped and reported",
			typ:      "post",
			payload:  `{"meta": {"total": 1}, "posts": [{"id": 1}], "comments": null, "evilMinions": [{"id": 1}]}`,
			wantKeys: []string{"post:1"},
			skipped:  1,
		},
		{
			name:     "without a type every record is primary",
			payload:  `{"people": [{"id": 1}], "posts": [{"id": 2}]}`,
			wantKeys: []string{"person:1", "post:2"},
		},
		{
			name:     "dasherized and underscored keys map to model types",
			payload:  `{"github_handles": [{"id": "h1", "userName": "ann", "owner": {"id": 1, "type": "people"}}]}`,
			wantKeys: []string{"github-handle:h1"},
			want:     map[string]any{"github-handle:h1": GithubHandle{ID: "h1", UserName: "ann", Owner: recstore.Key{Type: "person", ID: "1"}}},
		},
		{
			name:     "a polymorphic to-one names its type in a Type member",
			payload:  `{"githubHandles": [{"id": "h1", "owner": 1, "ownerType": "people"}, {"id": "h2", "owner": {"id": 2, "type": "post"}}, {"id": "h3", "owner": null, "ownerType": "person"}]}`,
			wantKeys: []string{"github-handle:h1", "github-handle:h2", "github-handle:h3"},
			want: map[string]any{
				"github-handle:h1": GithubHandle{ID: "h1", Owner: recstore.Key{Type: "person", ID: "1"}},
				"github-handle:h2": GithubHandle{ID: "h2", Owner: recstore.Key{Type: "post", ID: "2"}},
				"github-handle:h3": GithubHandle{ID: "h3"},
			},
		},
		{
			name:     "embedded records become included resources",
			typ:      "post",
			payload:  `{"post": {"id": 1, "author": {"id": 5, "firstName": "Tom"}, "comments": [{"id": 7, "body": "hi"}, 8]}}`,
			wantKeys: []string{"post:1", "comment:7", "person:5"}, // included in the order the model declares relationships
			want: map[string]any{
				"post:1":    Post{ID: "1", Author: &Person{ID: "5", FirstName: "Tom"}, Comments: []*Comment{{ID: "7", Body: "hi"}}},
				"comment:7": Comment{ID: "7", Body: "hi"},
			},
		},
		{
			name:     "a configured primary key and key mapping",
			typ:      "person",
			ser:      &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{PrimaryKey: "_id", KeyForAttribute: inflect.Underscore}},
			payload:  `{"people": [{"_id": "p1", "first_name": "Ann", "firstName": "ignored"}]}`,
			wantKeys: []string{"person:p1"},
			want:     map[string]any{"person:p1": Person{ID: "p1", FirstName: "Ann"}},
		},
		{
			name:     "Attrs maps single members",
			typ:      "album",
			ser:      &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{Attrs: map[string]string{"songCount": "tracks_total", "label": "record_label"}}},
			payload:  `{"albums": [{"id": 1, "tracks_total": 12, "record_label": 3}], "labels": [{"id": 3, "name": "4AD"}]}`,
			wantKeys: []string{"album:1", "label:3"},
			want:     map[string]any{"album:1": Album{ID: "1", SongCount: 12, Label: &Label{ID: "3", Name: "4AD"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ser := tt.ser
			if ser == nil {
				ser = rest
			}
			logger, logs := quiet()
			s := newSerializerStore(t, &recstore.Options{Serializer: ser, Logger: logger})
			keys, err := s.PushPayload(tt.typ, tt.payload)
			require.NoError(t, err)
			var got []string
			for _, k := range keys {
				got = append(got, k.String())
			}
			assert.Equal(t, tt.wantKeys, got)
			for k, want := range tt.want {
				typ, id, _ := strings.Cut(k, ":")
				v, ok := s.Peek(recstore.Key{Type: typ, ID: id})
				require.True(t, ok, k)
				assert.Equal(t, want, v, k)
			}
			doc, err := ser.Normalize(s, tt.typ, []byte(tt.payload))
			require.NoError(t, err)
			assert.Len(t, doc.Skipped, tt.skipped)
			for _, e := range doc.Skipped {
				assert.ErrorIs(t, e, recstore.ErrUnknownType)
			}
			if tt.skipped > 0 {
				assert.Contains(t, logs.String(), "skipped")
			}
		})
	}
}

func TestRESTSerializerMeta(t *testing.T) {
	s := newSerializerStore(t, &recstore.Options{Serializer: &recstore.RESTSerializer{}})
	doc, err := s.SerializerFor("post").Normalize(s, "post", []byte(`{"meta": {"total": 3}, "posts": []}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"total": 3.0}, doc.Meta)
	assert.True(t, doc.Many)
	assert.Empty(t, doc.Data)
}

func TestJSONSerializer(t *testing.T) {
	s := newSerializerStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}})
	keys, err := s.PushPayload("post", `{"id": 1, "title": "t", "comments": [1, 2], "author": null}`)
	require.NoError(t, err)
	assert.Equal(t, []recstore.Key{{Type: "post", ID: "1"}}, keys)
	rel, _ := s.Related(recstore.Key{Type: "post", ID: "1"}, "comments")
	assert.Equal(t, []recstore.Key{{Type: "comment", ID: "1"}, {Type: "comment", ID: "2"}}, rel.Keys)
	rel, _ = s.Related(recstore.Key{Type: "post", ID: "1"}, "author")
	assert.True(t, rel.Empty())

	keys, err = s.PushPayload("post", `[{"id": 2}, {"id": 3}]`)
	require.NoError(t, err)
	assert.Len(t, keys, 2)

	_, err = s.PushPayload("", `{"id": 1}`)
	assert.ErrorIs(t, err, recstore.ErrUnknownType, "the JSON serializer needs a type")
}

// Attrs maps single members both ways in JSON:API too.
func TestJSONAPISerializerAttrs(t *testing.T) {
	ser := &recstore.JSONAPISerializer{Attrs: map[string]string{"userName": "handle", "owner": "belongs-to"}}
	s := newSerializerStore(t, &recstore.Options{Serializer: ser})
	_, err := s.PushPayload("", `{"data": {"type": "github-handles", "id": "h1", "attributes": {"handle": "ann", "user-name": "ignored"},
		"relationships": {"belongs-to": {"data": {"type": "people", "id": "1"}}}}}`)
	require.NoError(t, err)
	h, _ := s.Peek(recstore.Key{Type: "github-handle", ID: "h1"})
	assert.Equal(t, GithubHandle{ID: "h1", UserName: "ann", Owner: recstore.Key{Type: "person", ID: "1"}}, h)
	out, err := s.Serialize(recstore.Key{Type: "github-handle", ID: "h1"}, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"data": {"type": "github-handles", "attributes": {"handle": "ann"},
		"relationships": {"belongs-to": {"data": {"type": "people", "id": "1"}}}}}`, string(out))
	msgs := s.ExtractErrors("github-handle", []recstore.ErrorObject{{Detail: "taken", Source: &recstore.ErrorSource{Pointer: "/data/attributes/handle"}}})
	assert.Equal(t, map[string][]string{"userName": {"taken"}}, msgs)
}

func TestJSONAPISerializer(t *testing.T) {
	logger, logs := quiet()
	s := newSerializerStore(t, &recstore.Options{Logger: logger})
	keys, err := s.PushPayload("", `{
		"data": [{"type": "github-handles", "id": "h1", "attributes": {"user-name": "ann", "userName": "camel is ignored"},
		          "relationships": {"owner": {"data": {"type": "people", "id": 1}}}}],
		"included": [{"type": "people", "id": "1", "attributes": {"first-name": "Ann"}},
		             {"type": "unicorns", "id": "1"}],
		"meta": {"page": 1}}`)
	require.NoError(t, err)
	assert.Equal(t, []recstore.Key{{Type: "github-handle", ID: "h1"}, {Type: "person", ID: "1"}}, keys)
	h, ok := s.Peek(recstore.Key{Type: "github-handle", ID: "h1"})
	require.True(t, ok)
	assert.Equal(t, GithubHandle{ID: "h1", UserName: "ann", Owner: recstore.Key{Type: "person", ID: "1"}}, h)
	p, _ := s.Peek(recstore.Key{Type: "person", ID: "1"})
	assert.Equal(t, Person{ID: "1", FirstName: "Ann"}, p)
	assert.Contains(t, logs.String(), "unicorns")

	// An unknown type in data is fatal.
	before := recstore.Dump(s)
	_, err = s.PushPayload("", `{"data": [{"type": "people", "id": "2"}, {"type": "unicorns", "id": "1"}]}`)
	var de *recstore.DocumentError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, recstore.ErrUnknownType)
	assert.Equal(t, "/data/1/type", de.Pointer)
	requireUnchanged(t, s, before)

	// Links-only relationships leave what the store holds.
	_, err = s.PushPayload("", `{"data": {"type": "posts", "id": "1", "relationships": {"comments": {"data": [{"type": "comments", "id": "1"}]}}}}`)
	require.NoError(t, err)
	_, err = s.PushPayload("", `{"data": {"type": "posts", "id": "1", "relationships": {"comments": {"links": {"related": "/posts/1/comments"}}}}}`)
	require.NoError(t, err)
	rel, _ := s.Related(recstore.Key{Type: "post", ID: "1"}, "comments")
	assert.Len(t, rel.Keys, 1)
}

type fahrenheit struct{}

func (fahrenheit) Deserialize(v any) (any, error) {
	f, ok := v.(float64)
	if !ok {
		return nil, fmt.Errorf("want degrees Fahrenheit, got %T", v)
	}
	return (f - 32) * 5 / 9, nil
}

func (fahrenheit) Serialize(v any) (any, error) {
	c, ok := v.(float64)
	if !ok {
		return nil, fmt.Errorf("want degrees Celsius, got %T", v)
	}
	return c*9/5 + 32, nil
}

func TestTransforms(t *testing.T) {
	ser := &recstore.JSONSerializer{Transforms: map[string]recstore.Transform{"fahrenheit": fahrenheit{}}}
	yes := true
	tests := []struct {
		name string
		hash string
		want Coerced
	}{
		{"string from number and bool", `{"s": 12.5}`, Coerced{S: "12.5"}},
		{"string from bool", `{"s": true}`, Coerced{S: "true"}},
		{"empty string stays", `{"s": ""}`, Coerced{}},
		{"number from numeric string", `{"n": "42", "f": "1.1"}`, Coerced{N: 42, F: 1.1}},
		{"number from bool", `{"n": true, "f": false}`, Coerced{N: 1}},
		{"integer from an integral float or exponent", `{"n": 1e3}`, Coerced{N: 1000}},
		{"integer from 2.0", `{"n": 2.0}`, Coerced{N: 2}},
		{"integer from a string with an exponent", `{"n": "1e3"}`, Coerced{N: 1000}},
		{"number from empty or bad string is null", `{"n": "", "f": "abc"}`, Coerced{}},
		{"number from hex, octal and binary strings", `{"n": "0x10", "f": "0b11"}`, Coerced{N: 16, F: 3}},
		{"what Number() reads as NaN is null", `{"n": "1_000", "f": "inf"}`, Coerced{}},
		{"number from a spaced, signed decimal string", `{"n": " -12 ", "f": "+.5"}`, Coerced{N: -12, F: 0.5}},
		{"Infinity is null", `{"n": "Infinity", "f": "-Infinity"}`, Coerced{}},
		{"a number beyond float64 is Infinity, so null", `{"n": 1e400, "f": -1e400}`, Coerced{}},
		{"boolean from strings", `{"b": "T"}`, Coerced{B: true}},
		{"boolean from other strings", `{"b": "yes"}`, Coerced{}},
		{"boolean from 1", `{"b": 1, "pb": 1}`, Coerced{B: true, PB: &yes}},
		{"boolean null allowed for pointers", `{"pb": null}`, Coerced{}},
		{"date from ISO string with +HHMM", `{"t": "2020-01-02T03:04:05+0100"}`, Coerced{T: time.Date(2020, 1, 2, 2, 4, 5, 0, time.UTC)}},
		{"date from day", `{"t": "2020-01-02"}`, Coerced{T: time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)}},
		{"date from milliseconds", `{"t": 1577934245000}`, Coerced{T: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)}},
		{"custom transform", `{"temp": 212}`, Coerced{Temp: 100}},
		{"no transform for other kinds", `{"tags": ["a"]}`, Coerced{Tags: []string{"a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := recstore.New(&recstore.Options{Serializer: ser})
			m := recstore.MustRegister[Coerced](s, nil)
			got, err := m.PushPayload(strings.Replace(tt.hash, "{", `{"id": 1, `, 1))
			require.NoError(t, err)
			require.Len(t, got, 1)
			tt.want.ID = 1
			assert.True(t, tt.want.T.Equal(got[0].T), "time %v", got[0].T)
			got[0].T, tt.want.T = time.Time{}, time.Time{}
			assert.Equal(t, tt.want, got[0])
		})
	}

	// Transforms run in serializers only: a plain push is strict.
	s := recstore.New(nil)
	recstore.MustRegister[Coerced](s, nil)
	_, err := s.Push(`{"data": {"type": "coerced", "id": 1, "attributes": {"n": "42"}}}`)
	assert.ErrorIs(t, err, recstore.ErrInvalidAttribute)
}

func TestSerializerBadInput(t *testing.T) {
	tests := []struct {
		name    string
		ser     recstore.Serializer
		typ     string
		payload string
		pointer string
		is      error
	}{
		{"REST payload not an object", &recstore.RESTSerializer{}, "post", `[{"id": 1}]`, "", nil},
		{"REST value not a record", &recstore.RESTSerializer{}, "post", `{"posts": 3}`, "/posts", nil},
		{"REST hash without id", &recstore.RESTSerializer{}, "post", `{"posts": [{"id": 1}, {"title": "x"}]}`, "/posts/1/id", nil},
		{"REST related object without id", &recstore.RESTSerializer{}, "post", `{"posts": [{"id": 1, "author": {"type": "person"}}]}`, "/posts/0/author/id", nil},
		{"JSON hash without its primary key", &recstore.JSONSerializer{PrimaryKey: "_id"}, "post", `[{"_id": 1}, {"id": 2}]`, "/1/_id", nil},
		{"REST id of the wrong shape", &recstore.RESTSerializer{}, "post", `{"posts": [{"id": [1]}]}`, "/posts/0/id", nil},
		{"REST relationship id of the wrong shape", &recstore.RESTSerializer{}, "post", `{"posts": [{"id": 1, "author": true}]}`, "/posts/0/author", nil},
		{"REST to-many not an array", &recstore.RESTSerializer{}, "post", `{"posts": [{"id": 1, "comments": 4}]}`, "/posts/0/comments", nil},
		{"REST Strict, an object for a string", &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{Strict: true}}, "post", `{"posts": [{"id": 1, "title": {"a": 1}}]}`, "/posts/0/title", recstore.ErrLossyCoercion},
		{"REST fraction for an integer", &recstore.RESTSerializer{}, "album", `{"albums": [{"id": 1, "songCount": 1.5}]}`, "/albums/0/songCount", recstore.ErrInvalidAttribute},
		{"REST fractional string for an integer", &recstore.RESTSerializer{}, "album", `{"albums": [{"id": 1, "songCount": "1.5"}]}`, "/albums/0/songCount", recstore.ErrInvalidAttribute},
		{"REST value the store rejects", &recstore.RESTSerializer{}, "album", `{"albums": [{"id": 1, "songCount": 99999999999999999999}]}`, "/albums/0/songCount", recstore.ErrInvalidAttribute},
		{"REST not JSON", &recstore.RESTSerializer{}, "post", `{"posts": [}`, "/posts/0", recstore.ErrSyntax},
		{"REST polymorphic type unknown", &recstore.RESTSerializer{}, "", `{"githubHandles": [{"id": 1, "owner": 1, "ownerType": "planet"}]}`, "/githubHandles/0/ownerType", recstore.ErrUnknownType},
		{"REST polymorphic type not a string", &recstore.RESTSerializer{}, "", `{"githubHandles": [{"id": 1, "owner": 1, "ownerType": 7}]}`, "/githubHandles/0/ownerType", nil},
		{"REST polymorphic id of the wrong shape", &recstore.RESTSerializer{}, "", `{"githubHandles": [{"id": 1, "owner": true, "ownerType": "person"}]}`, "/githubHandles/0/owner", nil},
		{"JSON:API resource without type", &recstore.JSONAPISerializer{}, "", `{"data": [{"id": 1}]}`, "/data/0/type", nil},
		{"JSON:API resource with a numeric type", &recstore.JSONAPISerializer{}, "", `{"data": [{"type": 7, "id": 1}]}`, "/data/0/type", nil},
		{"JSON:API resource without id", &recstore.JSONAPISerializer{}, "", `{"data": [{"type": "posts", "id": 1}, {"type": "posts", "id": 2}, {"type": "posts", "id": 3}, {"type": "posts"}]}`, "/data/3/id", nil},
		{"JSON:API included resource without id", &recstore.JSONAPISerializer{}, "", `{"data": null, "included": [{"type": "people"}]}`, "/included/0/id", nil},
		{"JSON:API included resource without type", &recstore.JSONAPISerializer{}, "", `{"data": null, "included": [{"type": "people", "id": 1}, {"id": 2}]}`, "/included/1/type", nil},
		{"JSON:API linkage without type", &recstore.JSONAPISerializer{}, "", `{"data": {"type": "posts", "id": 1, "relationships": {"author": {"data": {"id": 1}}}}}`, "/data/relationships/author/data/type", nil},
		{"JSON:API linkage without id", &recstore.JSONAPISerializer{}, "", `{"data": {"type": "posts", "id": 1, "relationships": {"comments": {"data": [{"type": "comments", "id": 1}, {"type": "comments"}]}}}}`, "/data/relationships/comments/data/1/id", nil},
		{"JSON:API no data", &recstore.JSONAPISerializer{}, "", `{"meta": {}}`, "", nil},
		{"JSON:API bad linkage", &recstore.JSONAPISerializer{}, "", `{"data": {"type": "posts", "id": 1, "relationships": {"author": {"data": [{"type": "people", "id": 1}]}}}}`, "/data/relationships/author/data", nil},
		{"JSON payload not a hash", &recstore.JSONSerializer{}, "post", `"post"`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _, _ := newStore(t, &recstore.Options{Serializer: tt.ser})
			recstore.MustRegister[Post](s, nil)
			recstore.MustRegister[Comment](s, nil)
			recstore.MustRegister[Person](s, nil)
			recstore.MustRegister[GithubHandle](s, nil)
			_, err := s.Push(base)
			require.NoError(t, err)
			_, err = s.Push(`{"data": {"type": "post", "id": "1", "attributes": {"title": "x"}}}`)
			require.NoError(t, err)
			before := recstore.Dump(s)
			_, err = s.PushPayload(tt.typ, tt.payload)
			require.Error(t, err)
			assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			var de *recstore.DocumentError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.pointer, de.Pointer, "%v", err)
			requireUnchanged(t, s, before)
		})
	}

	s := newSerializerStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}})
	m := recstore.MustRegister[Coerced](s, nil)
	_, err := m.PushPayload(`{"id": 1, "temp": 3}`)
	assert.ErrorIs(t, err, recstore.ErrUnknownTransform)
	_, err = s.PushPayload("nope", `{}`)
	assert.ErrorIs(t, err, recstore.ErrUnknownType)
	_, err = s.PushPayload("post", `{"id": 1, "title": 1}`)
	require.NoError(t, err, "a number for a string is coerced")
}

func TestNormalize(t *testing.T) {
	s := newSerializerStore(t, &recstore.Options{Serializer: &recstore.RESTSerializer{}})
	hash := []byte(`{"id": 1, "title": "t", "author": {"id": 2, "firstName": "Ann"}}`)
	doc, err := s.Normalize("post", hash)
	require.NoError(t, err)
	require.Len(t, doc.Data, 1)
	assert.Equal(t, "post", doc.Data[0].Type)
	assert.Equal(t, "1", doc.Data[0].ID)
	assert.Equal(t, []recstore.Key{{Type: "person", ID: "2"}}, doc.Data[0].Relationships["author"].Data)
	require.Len(t, doc.Included, 1)
	assert.False(t, s.Has(recstore.Key{Type: "post", ID: "1"}), "Normalize does not push")

	// The document is the caller's: it does not share the hash's memory.
	copy(hash, bytes.Repeat([]byte{' '}, len(hash)))
	j, err := json.Marshal(doc)
	require.NoError(t, err)
	assert.Contains(t, string(j), `"title":"t"`)

	_, err = s.Push(doc)
	require.NoError(t, err)
	assert.True(t, s.Has(recstore.Key{Type: "person", ID: "2"}))

	_, err = s.Normalize("", `{}`)
	assert.ErrorIs(t, err, recstore.ErrUnknownType)
	s2 := recstore.New(&recstore.Options{Serializer: recstore.SerializerFunc(func(*recstore.Store, string, []byte) (*recstore.Document, error) {
		return nil, errors.New("no")
	})})
	recstore.MustRegister[Post](s2, nil)
	_, err = s2.Normalize("post", `{}`)
	assert.Error(t, err, "a SerializerFunc cannot normalize single records")
	_, err = s2.PushPayload("post", `{}`)
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
}

// Whatever form the hash comes in, the Document Normalize returns is the
// caller's own: it shares no memory with the input.
func TestNormalizeDoesNotShareInput(t *testing.T) {
	s := newSerializerStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}})
	raw := json.RawMessage(`{"id": 1, "title": "original"}`)
	doc, err := s.Normalize("post", raw)
	require.NoError(t, err)
	copy(raw, bytes.Repeat([]byte{' '}, len(raw)))
	assert.JSONEq(t, `"original"`, string(doc.Data[0].Attributes["title"].(json.RawMessage)))

	doc, err = s.Normalize("post", `{"id": 2, "title": "from a string"}`)
	require.NoError(t, err)
	title := doc.Data[0].Attributes["title"].(json.RawMessage)
	title[1] = 'F' // must not fault: the bytes are not the string's
	assert.JSONEq(t, `"From a string"`, string(title))
}

// Model.PushPayload returns the primary records only, like Model.Push, and
// refuses primary data of another type.
func TestModelPushPayloadReturnsPrimaryRecords(t *testing.T) {
	s := recstore.New(&recstore.Options{Serializer: &recstore.RESTSerializer{}})
	posts := recstore.MustRegister[Post](s, nil)
	recstore.MustRegister[Comment](s, nil)
	recstore.MustRegister[Person](s, nil)

	const payload = `{"post": {"id": 1, "comments": [{"id": 5, "body": "embedded"}]}, "_posts": [{"id": 2}]}`
	got, err := posts.PushPayload(payload)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "1", got[0].ID)
	assert.True(t, s.Has(recstore.Key{Type: "post", ID: "2"}), "the sideload is pushed")

	keys, err := s.PushPayload("post", payload)
	require.NoError(t, err)
	assert.Equal(t, []recstore.Key{{Type: "post", ID: "1"}, {Type: "comment", ID: "5"}, {Type: "post", ID: "2"}}, keys)

	js := recstore.New(nil)
	jposts := recstore.MustRegister[Post](js, nil)
	recstore.MustRegister[Comment](js, nil)
	before := recstore.Dump(js)
	_, err = jposts.PushPayload(`{"data": {"type": "comments", "id": "9"}}`)
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
	requireUnchanged(t, js, before)
}

// A repeated member is an invalid document, with a pointer to it, for
// every serializer, as for a plain Push; a hash with very many members is
// read in linear time.
func TestSerializerRepeatedAndManyMembers(t *testing.T) {
	for _, tc := range []struct {
		ser     recstore.Serializer
		payload string
	}{
		{&recstore.JSONSerializer{}, `{"id": 1, "title": "first", "title": "last"}`},
		{&recstore.RESTSerializer{}, `{"post": {"id": 1, "title": "first", "title": "last"}}`},
		{&recstore.JSONAPISerializer{}, `{"data": {"type": "posts", "id": "1", "attributes": {"title": "first", "title": "last"}}}`},
	} {
		s := newSerializerStore(t, &recstore.Options{Serializer: tc.ser})
		before := recstore.Dump(s)
		_, err := s.PushPayload("post", tc.payload)
		require.ErrorIs(t, err, recstore.ErrDuplicateMember, "%T", tc.ser)
		require.ErrorIs(t, err, recstore.ErrInvalidDocument, "%T", tc.ser)
		requireUnchanged(t, s, before)
	}

	var b strings.Builder
	b.WriteString(`{"id": 1`)
	for i := range 200_000 {
		fmt.Fprintf(&b, `, "k%d": %d`, i, i)
	}
	b.WriteString(`, "title": "found", "k5x": 0}`)
	s := newSerializerStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}, MaxDocumentBytes: 16 << 20})
	_, err := s.PushPayload("post", b.String())
	require.NoError(t, err)
	p, _ := s.Peek(recstore.Key{Type: "post", ID: "1"})
	assert.Equal(t, "found", p.(Post).Title)
}
