package recstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A REST or JSON record hash's links member gives relationships their
// related links, as Ember Data's JSONSerializer reads it; wrong types
// fail with a pointer and leave the Store as it was.
func TestRESTSerializer_HashLinks(t *testing.T) {
	album1 := recstore.Key{Type: "album", ID: "1"}
	tests := []struct {
		name    string
		ser     recstore.Serializer
		typ     string
		first   string // pushed first with the same serializer, if not ""
		payload string
		rel     string
		want    recstore.Related // Name, Many, Known, Keys, Links compared
		wantRep []string         // unknown members reported, as pointers
		wantErr string           // the DocumentError's pointer
		reason  string
	}{
		{name: "a string link makes a links-only relationship",
			ser: &recstore.RESTSerializer{}, typ: "album",
			payload: `{"album": {"id": 1, "title": "x", "links": {"tracks": "/albums/1/tracks"}}}`,
			rel:     "tracks",
			want:    recstore.Related{Name: "tracks", Many: true, Links: map[string]any{"related": "/albums/1/tracks"}},
			reason:  "links.tracks is tracks' related link, and links is no unknown member"},
		{name: "links-only keeps the data pushed before",
			ser: &recstore.RESTSerializer{}, typ: "album",
			first:   `{"album": {"id": 1, "tracks": [2]}}`,
			payload: `{"album": {"id": 1, "links": {"tracks": "/albums/1/tracks"}}}`,
			rel:     "tracks",
			want: recstore.Related{Name: "tracks", Many: true, Known: true, Keys: []recstore.Key{{Type: "track", ID: "2"}},
				Links: map[string]any{"related": "/albums/1/tracks"}},
			reason: "a link without data leaves the data as the Store holds it"},
		{name: "data and a link together",
			ser: &recstore.RESTSerializer{}, typ: "album",
			payload: `{"album": {"id": 1, "label": 7, "links": {"label": "/albums/1/label"}}}`,
			rel:     "label",
			want: recstore.Related{Name: "label", Known: true, Keys: []recstore.Key{{Type: "label", ID: "7"}},
				Links: map[string]any{"related": "/albums/1/label"}}},
		{name: "a link object with an href is kept as it is",
			ser: &recstore.JSONSerializer{}, typ: "album",
			payload: `{"id": 1, "links": {"tracks": {"href": "/albums/1/tracks", "meta": {"count": 2}}}}`,
			rel:     "tracks",
			want: recstore.Related{Name: "tracks", Many: true,
				Links: map[string]any{"related": map[string]any{"href": "/albums/1/tracks", "meta": map[string]any{"count": float64(2)}}}}},
		{name: "keys follow KeyForRelationship",
			ser: &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{
				KeyForRelationship: inflect.Underscore, Attrs: map[string]string{"tracks": "track_ids"}}},
			typ:     "album",
			payload: `{"album": {"id": 1, "links": {"tracks": "/albums/1/tracks"}}}`,
			rel:     "tracks",
			want:    recstore.Related{Name: "tracks", Many: true, Links: map[string]any{"related": "/albums/1/tracks"}},
			reason:  "Attrs renames the data member, not the link's key"},
		{name: "a key naming no relationship is reported and skipped",
			ser: &recstore.RESTSerializer{}, typ: "album",
			payload: `{"album": {"id": 1, "links": {"songs": "/albums/1/songs", "tracks": null}}}`,
			rel:     "tracks",
			want:    recstore.Related{Name: "tracks", Many: true},
			wantRep: []string{"/album/links/songs"},
			reason:  "a null link is absent"},
		{name: "null links are absent",
			ser: &recstore.RESTSerializer{}, typ: "album",
			payload: `{"album": {"id": 1, "links": null}}`,
			rel:     "tracks", want: recstore.Related{Name: "tracks", Many: true}},
		{name: "links not an object",
			ser: &recstore.RESTSerializer{}, typ: "album",
			first:   `{"album": {"id": 1, "title": "before"}}`,
			payload: `{"album": {"id": 1, "title": "after", "links": ["/albums/1/tracks"]}}`,
			wantErr: "/album/links"},
		{name: "a link of the wrong type",
			ser: &recstore.RESTSerializer{}, typ: "album",
			payload: `{"albums": [{"id": 1}, {"id": 2, "links": {"tracks": 5}}]}`,
			wantErr: "/albums/1/links/tracks"},
		{name: "a link object without an href string",
			ser: &recstore.JSONSerializer{}, typ: "album",
			payload: `{"id": 1, "links": {"label": {"href": 1}}}`,
			wantErr: "/links/label"},
		{name: "a sideloaded record's links",
			ser: &recstore.RESTSerializer{}, typ: "track",
			payload: `{"track": {"id": 5}, "albums": [{"id": 1, "links": {"tracks": "/albums/1/tracks"}}]}`,
			rel:     "tracks",
			want:    recstore.Related{Name: "tracks", Many: true, Links: map[string]any{"related": "/albums/1/tracks"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, log := reportStore(t, &recstore.Options{Serializer: tt.ser})
			if tt.first != "" {
				_, err := s.PushPayload(tt.typ, tt.first)
				require.NoError(t, err, "pushing %s", tt.first)
			}
			before := recstore.Dump(s)
			_, err := s.PushPayload(tt.typ, tt.payload)
			if tt.wantErr != "" {
				var de *recstore.DocumentError
				require.ErrorAs(t, err, &de, "pushing %s", tt.payload)
				require.ErrorIs(t, err, recstore.ErrInvalidDocument)
				assert.Equal(t, tt.wantErr, de.Pointer, "the pointer of %v", err)
				requireUnchanged(t, s, before)
				return
			}
			require.NoError(t, err, "pushing %s", tt.payload)
			got, ok := s.Related(album1, tt.rel)
			require.True(t, ok, "album 1 is loaded")
			got.NotLoaded, got.Inverse, got.InverseMany, got.Meta = nil, "", false, nil
			assert.Equal(t, tt.want, got, "%s of %s: %s", tt.rel, tt.payload, tt.reason)
			var reps []string
			for _, r := range log.list() {
				if r.Kind == recstore.ReportUnknownMember {
					reps = append(reps, r.Pointer)
				}
			}
			assert.Equal(t, tt.wantRep, reps, "unknown members reported for %s", tt.payload)
		})
	}
}

// Normalize gives the links as maps in the Document, and Push of that
// Document keeps what PushPayload keeps.
func TestJSONSerializer_HashLinksDocument(t *testing.T) {
	s := newSerializerStore(t, nil)
	j := &recstore.JSONSerializer{}
	doc, err := j.Normalize(s, "album", []byte(`{"id": 1, "tracks": [2], "links": {"tracks": "/t", "label": {"href": "/l"}}}`))
	require.NoError(t, err)
	require.Len(t, doc.Data, 1)
	rels := doc.Data[0].Relationships
	assert.Equal(t, &recstore.Relationship{Many: true, Data: []recstore.Key{{Type: "track", ID: "2"}},
		Links: map[string]any{"related": "/t"}}, rels["tracks"])
	assert.Equal(t, &recstore.Relationship{LinksOnly: true, Links: map[string]any{"related": map[string]any{"href": "/l"}}}, rels["label"])
	_, err = s.Push(doc)
	require.NoError(t, err)
	r, _ := s.Related(recstore.Key{Type: "album", ID: "1"}, "label")
	assert.Equal(t, "/l", recstore.Href(r.Links, "related"))
}

// An attribute whose payload key is "links" takes the member, as before.
func TestJSONSerializer_LinksAttribute(t *testing.T) {
	type Page struct {
		ID    string `jsonapi:"primary,page"`
		Links string `jsonapi:"attr,links"`
	}
	s := recstore.New(nil)
	pages := recstore.MustRegister[Page](s, &recstore.ModelOptions{Serializer: &recstore.JSONSerializer{}})
	got, err := pages.PushPayload(`{"id": 1, "links": "see also"}`)
	require.NoError(t, err)
	assert.Equal(t, []Page{{ID: "1", Links: "see also"}}, got)
}

// A hostile links object (hundreds of thousands of keys, repeated
// names, deep nesting) costs time linear in its size and gives typed
// errors or bounded reports, never a panic.
func TestJSONSerializer_HashLinksHostile(t *testing.T) {
	many := func(key string, n int) string {
		var b strings.Builder
		b.WriteString(`{"id": 1, "links": {`)
		for i := range n {
			fmt.Fprintf(&b, `"%s%d": "/x",`, key, i)
		}
		b.WriteString(`"tracks": "/albums/1/tracks"}}`)
		return b.String()
	}
	t.Run("many unknown keys", func(t *testing.T) {
		s, log := reportStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}, MaxDocumentBytes: 32 << 20})
		_, err := s.PushPayload("album", many("k", 200_000))
		require.NoError(t, err)
		r, _ := s.Related(recstore.Key{Type: "album", ID: "1"}, "tracks")
		assert.Equal(t, "/albums/1/tracks", recstore.Href(r.Links, "related"))
		total := 0
		for _, rep := range log.list() {
			total += rep.Count
		}
		assert.Equal(t, 200_000, total, "every unknown link counted")
		assert.LessOrEqual(t, len(log.list()), 32, "reports are merged past a few distinct ones")
	})
	t.Run("repeated names", func(t *testing.T) {
		s := newSerializerStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}})
		before := recstore.Dump(s)
		_, err := s.PushPayload("album", `{"id": 1, "links": {"tracks": "/a", "tracks": "/b"}}`)
		var de *recstore.DocumentError
		require.ErrorAs(t, err, &de, "a repeated link name")
		assert.Equal(t, "/links/tracks", de.Pointer)
		requireUnchanged(t, s, before)
	})
	t.Run("deep link object", func(t *testing.T) {
		s := newSerializerStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}})
		before := recstore.Dump(s)
		deep := strings.Repeat(`[`, 10_000) + strings.Repeat(`]`, 10_000)
		_, err := s.PushPayload("album", `{"id": 1, "links": {"tracks": {"href": "/a", "meta": `+deep+`}}}`)
		require.ErrorIs(t, err, recstore.ErrInvalidDocument)
		requireUnchanged(t, s, before)
	})
}

// LoadRelated follows a link a REST payload gave, and reads the answer
// with the related model's RESTSerializer.
func TestStore_LoadRelatedREST(t *testing.T) {
	ad := &restLinkAdapter{answers: map[string]string{
		"/albums/1/tracks": `{"tracks": [{"id": 3, "title": "three", "album": 1}, {"id": 2, "title": "two"}]}`,
	}}
	s, _, _, _, _ := newStore(t, &recstore.Options{Serializer: &recstore.RESTSerializer{}, Adapter: ad})
	t.Cleanup(func() { s.Close() })
	_, err := s.PushPayload("album", `{"album": {"id": 1, "links": {"tracks": "/albums/1/tracks"}}}`)
	require.NoError(t, err)
	r, err := s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
	require.NoError(t, err)
	assert.Equal(t, []recstore.Key{{Type: "track", ID: "3"}, {Type: "track", ID: "2"}}, r.Keys, "tracks in the answer's order")
	assert.True(t, r.Known)
	assert.Empty(t, r.NotLoaded)
	assert.Equal(t, "/albums/1/tracks", recstore.Href(r.Links, "related"), "the link followed stays")
	assert.Equal(t, []string{"album 1 tracks /albums/1/tracks"}, ad.calls)
}

// restLinkAdapter answers related links with REST payloads.
type restLinkAdapter struct {
	answers map[string]string
	calls   []string
}

func (a *restLinkAdapter) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return nil, recstore.ErrNotFound
}

func (a *restLinkAdapter) FindLink(ctx context.Context, req *recstore.Request) ([]byte, error) {
	a.calls = append(a.calls, req.Type+" "+req.ID+" "+req.Relationship+" "+req.Link)
	d, ok := a.answers[req.Link]
	if !ok {
		return nil, fmt.Errorf("%s: %w", req.Link, recstore.ErrNotFound)
	}
	return []byte(d), nil
}

// labelSerializer embeds a JSONSerializer and adds a Normalize of its
// own, as applications do to override one hook.
type labelSerializer struct {
	recstore.JSONSerializer
}

func (l *labelSerializer) Normalize(s *recstore.Store, typ string, payload []byte) (*recstore.Document, error) {
	return l.JSONSerializer.Normalize(s, typ, payload)
}

// restLabelSerializer embeds a RESTSerializer through a pointer.
type restLabelSerializer struct {
	*recstore.RESTSerializer
}

// outerSerializer reaches a JSONSerializer through a pointer to a type
// that embeds it by value.
type outerSerializer struct {
	*labelSerializer
}

// Sideloaded and embedded hashes of a type whose serializer embeds a
// JSONSerializer or RESTSerializer are read with the embedded settings:
// its key mappings and Strict, not the defaults.
func TestRESTSerializer_SideloadEmbeddingSerializer(t *testing.T) {
	settings := recstore.JSONSerializer{
		KeyForAttribute: func(name string) string { return "label_" + name },
		Strict:          true,
	}
	tests := []struct {
		name     string
		ser      recstore.Serializer // Label's serializer
		payload  string
		wantName string
		wantErr  error
		reason   string
	}{
		{name: "embedding a JSONSerializer, sideloaded", ser: &labelSerializer{settings},
			payload:  `{"album": {"id": 1, "label": 7}, "labels": [{"id": 7, "label_name": "Sub Pop"}]}`,
			wantName: "Sub Pop", reason: "the sideload's key follows the embedded KeyForAttribute"},
		{name: "embedding a RESTSerializer by pointer, sideloaded", ser: &restLabelSerializer{&recstore.RESTSerializer{JSONSerializer: settings}},
			payload:  `{"album": {"id": 1, "label": 7}, "labels": [{"id": 7, "label_name": "Sub Pop"}]}`,
			wantName: "Sub Pop"},
		{name: "embedding, an embedded record", ser: &labelSerializer{settings},
			payload:  `{"album": {"id": 1, "label": {"id": 7, "label_name": "Sub Pop"}}}`,
			wantName: "Sub Pop", reason: "an embedded record is read by its type's serializer too"},
		{name: "embedding, Strict fails a lossy sideload", ser: &labelSerializer{settings},
			payload: `{"album": {"id": 1, "label": 7}, "labels": [{"id": 7, "label_name": {"x": 1}}]}`,
			wantErr: recstore.ErrLossyCoercion, reason: "the embedded Strict is honoured"},
		{name: "a nil embedded pointer gets the defaults", ser: &restLabelSerializer{},
			payload:  `{"album": {"id": 1, "label": 7}, "labels": [{"id": 7, "name": "Sub Pop"}]}`,
			wantName: "Sub Pop", reason: "no panic: there is no embedded serializer to read with"},
		{name: "a nil pointer to an embedding type gets the defaults", ser: &outerSerializer{},
			payload:  `{"album": {"id": 1, "label": 7}, "labels": [{"id": 7, "name": "Sub Pop"}]}`,
			wantName: "Sub Pop", reason: "no panic reaching the JSONSerializer through nil"},
		{name: "a SerializerFunc cannot be seen through", ser: recstore.SerializerFunc((&labelSerializer{settings}).Normalize),
			payload:  `{"album": {"id": 1, "label": 7}, "labels": [{"id": 7, "name": "Sub Pop", "label_name": {"x": 1}}]}`,
			wantName: "Sub Pop", reason: "the payload's serializer's settings read the sideload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, _ := quiet()
			s := recstore.New(&recstore.Options{Logger: logger})
			albums := recstore.MustRegister[Album](s, &recstore.ModelOptions{Serializer: &recstore.RESTSerializer{}})
			labels := recstore.MustRegister[Label](s, &recstore.ModelOptions{Serializer: tt.ser})
			recstore.MustRegister[Track](s, nil)
			before := recstore.Dump(s)
			_, err := albums.PushPayload(tt.payload)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr, "pushing %s: %s", tt.payload, tt.reason)
				requireUnchanged(t, s, before)
				return
			}
			require.NoError(t, err, "pushing %s", tt.payload)
			l, ok := labels.Peek("7")
			require.True(t, ok, "label 7 pushed")
			assert.Equal(t, tt.wantName, l.Name, "%s: %s", tt.payload, tt.reason)
		})
	}
}

// jsonAPILabelSerializer embeds a JSONAPISerializer.
type jsonAPILabelSerializer struct {
	recstore.JSONAPISerializer
}

type jsonAPIOuterSerializer struct {
	*jsonAPILabelSerializer
}

// JSON:API resources of a type whose serializer embeds a
// JSONAPISerializer are read with the embedded settings too.
func TestJSONAPISerializer_EmbeddingSerializer(t *testing.T) {
	settings := recstore.JSONAPISerializer{Attrs: map[string]string{"name": "label-name"}, Strict: true}
	tests := []struct {
		name     string
		ser      recstore.Serializer
		attrs    string
		wantName string
		wantErr  error
	}{
		{name: "embedding, its Attrs", ser: &jsonAPILabelSerializer{settings}, attrs: `{"label-name": "Sub Pop"}`, wantName: "Sub Pop"},
		{name: "embedding, its Strict", ser: &jsonAPILabelSerializer{settings}, attrs: `{"label-name": {"x": 1}}`, wantErr: recstore.ErrLossyCoercion},
		{name: "a nil pointer on the way gets the defaults", ser: &jsonAPIOuterSerializer{}, attrs: `{"name": "Sub Pop"}`, wantName: "Sub Pop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, _ := quiet()
			s := recstore.New(&recstore.Options{Logger: logger})
			recstore.MustRegister[Album](s, nil)
			labels := recstore.MustRegister[Label](s, &recstore.ModelOptions{Serializer: tt.ser})
			recstore.MustRegister[Track](s, nil)
			before := recstore.Dump(s)
			payload := `{"data": {"type": "albums", "id": "1", "relationships": {"label": {"data": {"type": "labels", "id": "7"}}}},
				"included": [{"type": "labels", "id": "7", "attributes": ` + tt.attrs + `}]}`
			_, err := s.PushPayload("album", payload)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr, "pushing %s", payload)
				requireUnchanged(t, s, before)
				return
			}
			require.NoError(t, err, "pushing %s", payload)
			l, ok := labels.Peek("7")
			require.True(t, ok)
			assert.Equal(t, tt.wantName, l.Name, "label 7 of %s", payload)
		})
	}
}
