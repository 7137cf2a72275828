package recstore_test

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonapi"
	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// google/jsonapi is our interop oracle (see STYLE.md): what its
// MarshalPayload writes must push cleanly and read back as the values it was
// given, and documents we accept that it can read must give it the values our
// Peek gives.

// Release holds what Kinds holds in a form google/jsonapi can write: Kinds
// has Key relations (google/jsonapi's marshaller only walks *S and []*S) and
// Celsius, whose JSON form google/jsonapi would not use. It has an int
// primary id, every time format google/jsonapi writes, nullable pointers and
// omitempty attributes and relations.
type Release struct {
	ID       int        `jsonapi:"primary,release"`
	Title    string     `jsonapi:"attr,title"`
	Plays    int64      `jsonapi:"attr,plays"`
	Rating   float64    `jsonapi:"attr,rating"`
	Gain     float32    `jsonapi:"attr,gain"`
	Side     uint8      `jsonapi:"attr,side"`
	Tags     []string   `jsonapi:"attr,tags"`
	Live     bool       `jsonapi:"attr,live"`
	Issued   time.Time  `jsonapi:"attr,issued,iso8601"`
	Recorded time.Time  `jsonapi:"attr,recorded,rfc3339"`
	Pressed  time.Time  `jsonapi:"attr,pressed"` // google/jsonapi's default: Unix seconds
	Remaster *time.Time `jsonapi:"attr,remaster,iso8601"`
	Reissue  *time.Time `jsonapi:"attr,reissue,rfc3339"`
	Deleted  *time.Time `jsonapi:"attr,deleted"`
	Note     *string    `jsonapi:"attr,note"`
	Discs    *int       `jsonapi:"attr,discs"`
	Promo    *bool      `jsonapi:"attr,promo,omitempty"`
	Subtitle string     `jsonapi:"attr,subtitle,omitempty"`
	Bonus    int        `jsonapi:"attr,bonus,omitempty"`
	Label    *Label     `jsonapi:"relation,label,omitempty"`
	Albums   []*Album   `jsonapi:"relation,albums,omitempty"`
}

// Venue has the links and meta google/jsonapi writes for models that
// implement its Linkable, Metable, RelationshipLinkable and
// RelationshipMetable: members a record store ignores, but must accept.
type Venue struct {
	ID    string `jsonapi:"primary,venue"`
	Name  string `jsonapi:"attr,name"`
	Label *Label `jsonapi:"relation,label"`
}

func (v Venue) JSONAPILinks() *jsonapi.Links {
	return &jsonapi.Links{"self": "/venues/" + v.ID, "map": jsonapi.Link{Href: "/maps/" + v.ID, Meta: jsonapi.Meta{"zoom": 3}}}
}

func (v Venue) JSONAPIMeta() *jsonapi.Meta { return &jsonapi.Meta{"capacity": 500} }

func (v Venue) JSONAPIRelationshipLinks(relation string) *jsonapi.Links {
	return &jsonapi.Links{"related": "/venues/" + v.ID + "/" + relation}
}

func (v Venue) JSONAPIRelationshipMeta(relation string) *jsonapi.Meta {
	return &jsonapi.Meta{"since": 2009}
}

// Venues gives a many document top-level links and meta.
type Venues []*Venue

func (Venues) JSONAPILinks() *jsonapi.Links { return &jsonapi.Links{"next": "/venues?page=2"} }

func (Venues) JSONAPIMeta() *jsonapi.Meta { return &jsonapi.Meta{"total": 2} }

// newInteropStore is newStore with Release and Venue registered too.
func newInteropStore(t *testing.T) *recstore.Store {
	t.Helper()
	s, _, _, _, _ := newStore(t, nil)
	_, err := recstore.Register[Release](s, nil)
	require.NoError(t, err)
	_, err = recstore.Register[Venue](s, nil)
	require.NoError(t, err)
	return s
}

// interopKey is the Store key of an interop record.
func interopKey(t *testing.T, rec any) recstore.Key {
	t.Helper()
	switch r := rec.(type) {
	case Album:
		return recstore.Key{Type: "album", ID: r.ID}
	case Label:
		return recstore.Key{Type: "label", ID: r.ID}
	case Track:
		return recstore.Key{Type: "track", ID: r.ID}
	case Release:
		return recstore.Key{Type: "release", ID: strconv.Itoa(r.ID)}
	case Venue:
		return recstore.Key{Type: "venue", ID: r.ID}
	}
	t.Fatalf("no key for %T", rec)
	return recstore.Key{}
}

// assertInteropRecord asserts got equals want, comparing times with Equal:
// google/jsonapi writes times in UTC, and Unix seconds are read in
// time.Local, so the instant survives but the location does not.
func assertInteropRecord(t *testing.T, want, got any, msg string) {
	t.Helper()
	w, ok := want.(Release)
	if !ok {
		assert.Equal(t, want, got, msg)
		return
	}
	g, ok := got.(Release)
	if !assert.True(t, ok, "%s: got a %T, want a Release", msg, got) {
		return
	}
	for _, f := range []struct {
		name string
		w, g *time.Time
	}{
		{"Issued", &w.Issued, &g.Issued},
		{"Recorded", &w.Recorded, &g.Recorded},
		{"Pressed", &w.Pressed, &g.Pressed},
		{"Remaster", w.Remaster, g.Remaster},
		{"Reissue", w.Reissue, g.Reissue},
		{"Deleted", w.Deleted, g.Deleted},
	} {
		if f.w == nil || f.g == nil {
			assert.Equal(t, f.w == nil, f.g == nil, "%s: %s is %v, want %v", msg, f.name, f.g, f.w)
			continue
		}
		assert.True(t, f.w.Equal(*f.g), "%s: %s is %v, want %v", msg, f.name, *f.g, *f.w)
	}
	// The times are checked; compare the rest as it is.
	g.Issued, g.Recorded, g.Pressed = w.Issued, w.Recorded, w.Pressed
	g.Remaster, g.Reissue, g.Deleted = w.Remaster, w.Reissue, w.Deleted
	assert.Equal(t, w, g, msg)
}

func TestInteropGoogleJSONAPI(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	issued := time.Date(2024, 5, 1, 10, 0, 0, 0, cet)
	recorded := time.Date(2023, 11, 2, 8, 30, 15, 0, time.UTC)
	pressed := time.Date(2024, 4, 20, 23, 59, 59, 0, cet)
	remaster := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

	label := &Label{ID: "7", Name: "Frenchkiss"}
	full := Release{
		ID: 42, Title: "Hospice", Plays: 1 << 40, Rating: 4.5, Gain: 0.1, Side: 255, Tags: []string{"indie", "lp"}, Live: true,
		Issued: issued, Recorded: recorded, Pressed: pressed,
		Remaster: &remaster, Reissue: &recorded, Deleted: &pressed,
		Note: new("remastered"), Discs: new(2), Promo: new(false),
		Subtitle: "Deluxe", Bonus: 3,
	}

	tests := []struct {
		name string
		// prior, if set, is pushed first, as a record already loaded.
		prior string
		// value is what google/jsonapi marshals: a *T, or a []*T for many.
		value any
		// keys are the primary keys Push must return, in order.
		keys []recstore.Key
		// want are records Peek must return, found by their keys.
		want   []any
		reason string
	}{
		{
			name:  "single record",
			value: &Label{ID: "7", Name: "Frenchkiss"},
			keys:  keys("label", "7"),
			want:  []any{Label{ID: "7", Name: "Frenchkiss"}},
		},
		{
			name:  "many records keep data order",
			value: []*Label{{ID: "9", Name: "Barsuk"}, {ID: "7", Name: "Frenchkiss"}, {ID: "8"}},
			keys:  keys("label", "9", "7", "8"),
			want:  []any{Label{ID: "9", Name: "Barsuk"}, Label{ID: "7", Name: "Frenchkiss"}, Label{ID: "8"}},
		},
		{
			name: "relations with included, to-many order",
			value: &Album{ID: "1", Title: "Hospice", Artist: "The Antlers", SongCount: 10, Label: label,
				Tracks: []*Track{{ID: "b", Title: "Kettering"}, {ID: "a", Title: "Prologue"}}},
			keys: keys("album", "1"),
			want: []any{
				Album{ID: "1", Title: "Hospice", Artist: "The Antlers", SongCount: 10, Label: label,
					Tracks: []*Track{{ID: "b", Title: "Kettering"}, {ID: "a", Title: "Prologue"}}},
				Label{ID: "7", Name: "Frenchkiss"},
				// google/jsonapi cannot write the back reference (it would
				// recurse forever), so its included tracks say "album":
				// null; the album's tracks, in data, are read after them and
				// the inverse puts the album back.
				Track{ID: "a", Title: "Prologue", Album: &Album{ID: "1", Title: "Hospice", Artist: "The Antlers", SongCount: 10}},
			},
			reason: "included resources and inverses",
		},
		{
			name: "to-one side in data, to-many side included",
			value: []*Track{
				{ID: "a", Title: "Prologue", Album: &Album{ID: "1", Title: "Hospice"}},
				{ID: "b", Title: "Kettering", Album: &Album{ID: "1", Title: "Hospice"}},
			},
			keys: keys("track", "a", "b"),
			want: []any{
				Track{ID: "a", Title: "Prologue", Album: &Album{ID: "1", Title: "Hospice"}},
				// The included album says "tracks": [] (google/jsonapi
				// writes a nil []*S so); the tracks in data are read after
				// it and the inverse adds them, in data order.
				Album{ID: "1", Title: "Hospice", Tracks: []*Track{{ID: "a", Title: "Prologue"}, {ID: "b", Title: "Kettering"}}},
			},
			reason: "included resources and inverses",
		},
		{
			name: "many records sharing included records",
			value: []*Album{
				{ID: "1", Title: "Hospice", Label: label, Tracks: []*Track{{ID: "a", Title: "Prologue"}}},
				{ID: "2", Title: "Burst Apart", Label: label},
			},
			keys: keys("album", "1", "2"),
			want: []any{
				Album{ID: "1", Title: "Hospice", Label: label, Tracks: []*Track{{ID: "a", Title: "Prologue"}}},
				// google/jsonapi writes a nil []*S as "data": [].
				Album{ID: "2", Title: "Burst Apart", Label: label},
				Label{ID: "7", Name: "Frenchkiss"},
			},
		},
		{
			name:  "int id, every time format, pointers set, omitempty set",
			value: &full,
			keys:  keys("release", "42"),
			want:  []any{full},
		},
		{
			name:  "zero values: nil pointers are null, zero times and omitempty are absent",
			value: &Release{ID: 1, Title: "Untitled"},
			keys:  keys("release", "1"),
			want:  []any{Release{ID: 1, Title: "Untitled"}},
		},
		{
			name: "a pointer to a zero time is written, not omitted",
			value: &Release{ID: 1, Remaster: &time.Time{}, Reissue: &time.Time{}, Deleted: &time.Time{},
				Note: new(""), Discs: new(0), Promo: new(false)},
			keys: keys("release", "1"),
			want: []any{Release{ID: 1, Remaster: &time.Time{}, Reissue: &time.Time{}, Deleted: &time.Time{},
				Note: new(""), Discs: new(0), Promo: new(false)}},
		},
		{
			name: "omitted zero values leave a loaded record's values",
			prior: `{"data": {"type": "release", "id": "1", "attributes": {
				"issued": "2024-05-01T09:00:00Z", "subtitle": "Deluxe", "bonus": 3, "promo": true}}}`,
			value: &Release{ID: 1, Title: "Untitled"},
			keys:  keys("release", "1"),
			want:  []any{Release{ID: 1, Title: "Untitled", Issued: issued, Subtitle: "Deluxe", Bonus: 3, Promo: new(true)}},
			reason: "google/jsonapi leaves zero times and omitempty zeros out, and JSON:API " +
				"reads an absent member as unchanged, so a Go zero cannot reach a loaded record this way",
		},
		{
			name:  "top-level, resource and relationship links and meta are ignored",
			value: Venues{{ID: "3", Name: "Bowery Ballroom", Label: label}, {ID: "4", Name: "Metro"}},
			keys:  keys("venue", "3", "4"),
			want:  []any{Venue{ID: "3", Name: "Bowery Ballroom", Label: label}, Venue{ID: "4", Name: "Metro"}},
		},
		{
			name: "relations of included records are read one level deep",
			value: &Release{ID: 5, Title: "Greatest", Label: label,
				Albums: []*Album{{ID: "2", Title: "Burst Apart", Label: label}, {ID: "1", Title: "Hospice"}}},
			keys: keys("release", "5"),
			want: []any{
				// Peek fills relations one level deep: the albums' own
				// relations are left nil on the release.
				Release{ID: 5, Title: "Greatest", Label: label,
					Albums: []*Album{{ID: "2", Title: "Burst Apart"}, {ID: "1", Title: "Hospice"}}},
				Album{ID: "2", Title: "Burst Apart", Label: label},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newInteropStore(t)
			if tt.prior != "" {
				_, err := s.Push(tt.prior)
				require.NoError(t, err, "prior push")
			}
			var buf bytes.Buffer
			require.NoError(t, jsonapi.MarshalPayload(&buf, tt.value))
			doc := buf.String()

			got, err := s.Push(doc)
			require.NoError(t, err, "push of google/jsonapi's %s", doc)
			assert.Equal(t, tt.keys, got, "keys pushed from %s", doc)
			for _, want := range tt.want {
				k := interopKey(t, want)
				rec, ok := s.Peek(k)
				if assert.True(t, ok, "Peek(%v) after pushing %s", k, doc) {
					assertInteropRecord(t, want, rec, "Peek("+k.String()+") after pushing "+doc+"; "+tt.reason)
				}
			}
		})
	}
}

// Documents we accept, in shapes google/jsonapi can read (string ids), read
// the same through its UnmarshalPayload as through our Push and Peek.
func TestInteropGoogleJSONAPIReverse(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// model is a pointer to a zero model of the primary type.
		model any
		many  bool
	}{
		{
			name: "relations with included, to-many order",
			doc: `{"data": {"type": "album", "id": "1",
				"attributes": {"title": "Hospice", "artist": "The Antlers", "songCount": 10},
				"relationships": {
					"label": {"data": {"type": "label", "id": "7"}},
					"tracks": {"data": [{"type": "track", "id": "b"}, {"type": "track", "id": "a"}]}}},
				"included": [
					{"type": "label", "id": "7", "attributes": {"name": "Frenchkiss"}},
					{"type": "track", "id": "a", "attributes": {"title": "Prologue"}},
					{"type": "track", "id": "b", "attributes": {"title": "Kettering"}}]}`,
			model: &Album{},
		},
		{
			name: "null and empty relations",
			doc: `{"data": {"type": "album", "id": "1", "attributes": {"title": "Hospice"},
				"relationships": {"label": {"data": null}, "tracks": {"data": []}}}}`,
			model: &Album{},
		},
		{
			name: "int id as a string, every time format, pointers, omitted attributes",
			doc: `{"data": {"type": "release", "id": "42", "attributes": {
				"title": "Hospice", "plays": 1099511627776, "rating": 4.5, "gain": 0.1, "side": 255,
				"tags": ["indie", "lp"], "live": true,
				"issued": "2024-05-01T09:00:00Z", "recorded": "2023-11-02T09:30:15+01:00",
				"pressed": 1713650399, "remaster": "2025-01-02T03:04:05Z",
				"reissue": "2023-11-02T08:30:15Z", "deleted": null,
				"note": "remastered", "discs": 2, "promo": false}}}`,
			model: &Release{},
		},
		{
			name: "many records",
			doc: `{"data": [
				{"type": "album", "id": "2", "attributes": {"title": "Burst Apart"},
					"relationships": {"label": {"data": {"type": "label", "id": "7"}}}},
				{"type": "album", "id": "1", "attributes": {"title": "Hospice", "songCount": 10}}],
				"included": [{"type": "label", "id": "7", "attributes": {"name": "Frenchkiss"}}]}`,
			model: &Album{},
			many:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var theirs []any
			if tt.many {
				recs, err := jsonapi.UnmarshalManyPayload(strings.NewReader(tt.doc), reflect.TypeOf(tt.model))
				require.NoError(t, err, "google/jsonapi reading %s", tt.doc)
				for _, r := range recs {
					theirs = append(theirs, reflect.ValueOf(r).Elem().Interface())
				}
			} else {
				require.NoError(t, jsonapi.UnmarshalPayload(strings.NewReader(tt.doc), tt.model), "google/jsonapi reading %s", tt.doc)
				theirs = []any{reflect.ValueOf(tt.model).Elem().Interface()}
			}

			s := newInteropStore(t)
			ks, err := s.Push(tt.doc)
			require.NoError(t, err, "push of %s", tt.doc)
			require.Len(t, ks, len(theirs), "primary records pushed from %s", tt.doc)
			for i, k := range ks {
				ours, ok := s.Peek(k)
				require.True(t, ok, "Peek(%v) after pushing %s", k, tt.doc)
				assertInteropRecord(t, theirs[i], ours, "Peek("+k.String()+") against google/jsonapi's UnmarshalPayload of "+tt.doc)
			}
		})
	}
}
