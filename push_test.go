package recstore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// base is pushed before each bad-input case so that "unchanged" means
// something: the store holds albums, a label, tracks and inverse state.
const base = `{"data": [
	{"type": "album", "id": "1", "attributes": {"title": "A", "artist": "X", "songCount": 3},
	 "relationships": {"label": {"data": {"type": "label", "id": "7"}},
	                   "tracks": {"data": [{"type": "track", "id": "t1"}, {"type": "track", "id": "t2"}]}}},
	{"type": "album", "id": "2", "attributes": {"title": "B"}}],
	"included": [{"type": "label", "id": "7", "attributes": {"name": "Sub Pop"}},
	             {"type": "track", "id": "t1", "attributes": {"title": "one"}},
	             {"type": "kinds", "id": 5, "attributes": {"s": "s", "i8": 8, "tags": ["a"]}}]}`

func TestPushBadInputLeavesStoreUnchanged(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	tests := []struct {
		name    string
		doc     string
		opts    *recstore.Options
		pointer string
		is      []error // every one must match
		// docPointer is the pointer when the same resources come as a
		// Document, where a missing and an empty id look alike.
		docPointer string
	}{
		{name: "not JSON", doc: `{"data": [}`, is: []error{recstore.ErrSyntax}},
		{name: "empty input", doc: ``, is: []error{recstore.ErrSyntax}},
		{name: "trailing garbage", doc: `{"data": null} x`, is: []error{recstore.ErrSyntax}},
		{name: "truncated", doc: `{"data": {"type": "album", "id": "1"`, is: []error{recstore.ErrSyntax}},
		{name: "top level array", doc: `[{"data": null}]`},
		{name: "top level string", doc: `"data"`},
		{name: "no data", doc: `{"meta": {}}`},
		{name: "data is a string", doc: `{"data": "x"}`, pointer: "/data"},
		{name: "no type", doc: `{"data": {"id": "1"}}`, pointer: "/data/type"},
		{name: "no id", doc: `{"data": {"type": "album"}}`, pointer: "/data/id"},
		{name: "no type in an array", doc: `{"data": [{"type": "album", "id": "9"}, {"type": "album", "id": "8"}, {"type": "album", "id": "7"}, {"id": "6"}]}`, pointer: "/data/3/type"},
		{name: "no id in an array", doc: `{"data": [{"type": "album", "id": "9"}, {"type": "album", "id": "8"}, {"type": "album", "id": "7"}, {"type": "album"}]}`, pointer: "/data/3/id"},
		{name: "no id, attributes first", doc: `{"data": [{"attributes": {"title": "x"}, "type": "album"}]}`, pointer: "/data/0/id"},
		{name: "no type in included", doc: `{"data": null, "included": [{"type": "album", "id": "3"}, {"id": "4"}]}`, pointer: "/included/1/type"},
		{name: "no id in included", doc: `{"data": null, "included": [{"type": "album", "id": "3"}, {"type": "label"}]}`, pointer: "/included/1/id"},
		{name: "empty id", doc: `{"data": {"type": "album", "id": ""}}`, pointer: "/data/id"},
		{name: "null id", doc: `{"data": {"type": "album", "id": null}}`, pointer: "/data/id"},
		{name: "object id", doc: `{"data": {"type": "album", "id": {"a": 1}}}`, pointer: "/data/id"},
		{name: "bool id", doc: `{"data": {"type": "album", "id": true}}`, pointer: "/data/id"},
		{name: "fractional id", doc: `{"data": {"type": "album", "id": 1.5}}`, pointer: "/data/id"},
		{name: "numeric type", doc: `{"data": {"type": 3, "id": "1"}}`, pointer: "/data/type"},
		{name: "bad id in an array", doc: `{"data": [{"type": "album", "id": "9"}, {"type": "album", "id": "8"}, {"type": "album", "id": "7"}, {"type": "album", "id": false}]}`, pointer: "/data/3/id"},
		{name: "unknown type in data", doc: `{"data": {"type": "albums", "id": "1"}}`, pointer: "/data/type", is: []error{recstore.ErrUnknownType}},
		{name: "unknown type in included", doc: `{"data": null, "included": [{"type": "album", "id": "3"}, {"type": "singer", "id": "1"}]}`, pointer: "/included/1/type", is: []error{recstore.ErrUnknownType}},
		{name: "unknown type in linkage", doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "singer", "id": "1"}}}}}`, pointer: "/data/relationships/label/data/type", is: []error{recstore.ErrUnknownType}},
		{name: "linkage of the wrong type", doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "track", "id": "1"}}}}}`, pointer: "/data/relationships/label/data/type"},
		{name: "string for an int", doc: `{"data": {"type": "album", "id": "1", "attributes": {"songCount": "ten"}}}`, pointer: "/data/attributes/songCount", is: []error{recstore.ErrInvalidAttribute}},
		{name: "int for a string", doc: `{"data": {"type": "album", "id": "1", "attributes": {"title": 10}}}`, pointer: "/data/attributes/title", is: []error{recstore.ErrInvalidAttribute}},
		{name: "exponent for an int", doc: `{"data": {"type": "album", "id": "1", "attributes": {"songCount": 1e2}}}`, pointer: "/data/attributes/songCount", is: []error{recstore.ErrInvalidAttribute}},
		{name: "fraction for an int", doc: `{"data": {"type": "album", "id": "1", "attributes": {"songCount": 1.5}}}`, pointer: "/data/attributes/songCount", is: []error{recstore.ErrInvalidAttribute}},
		{name: "int8 overflow", doc: `{"data": {"type": "kinds", "id": "1", "attributes": {"i8": 128}}}`, pointer: "/data/attributes/i8", is: []error{recstore.ErrInvalidAttribute}},
		{name: "uint negative", doc: `{"data": {"type": "kinds", "id": "1", "attributes": {"u": -1}}}`, pointer: "/data/attributes/u", is: []error{recstore.ErrInvalidAttribute}},
		{name: "int64 overflow", doc: `{"data": {"type": "kinds", "id": "1", "attributes": {"i64": 9223372036854775808}}}`, pointer: "/data/attributes/i64", is: []error{recstore.ErrInvalidAttribute}},
		{name: "float32 overflow", doc: `{"data": {"type": "kinds", "id": "1", "attributes": {"f32": 1e39}}}`, pointer: "/data/attributes/f32", is: []error{recstore.ErrInvalidAttribute}},
		{name: "bad time", doc: `{"data": {"type": "kinds", "id": "1", "attributes": {"t": "yesterday"}}}`, pointer: "/data/attributes/t", is: []error{recstore.ErrInvalidAttribute}},
		{name: "bool for a bool pointer's string", doc: `{"data": {"type": "kinds", "id": "1", "attributes": {"ps": true}}}`, pointer: "/data/attributes/ps", is: []error{recstore.ErrInvalidAttribute}},
		{name: "object for a slice", doc: `{"data": {"type": "kinds", "id": "1", "attributes": {"tags": {}}}}`, pointer: "/data/attributes/tags", is: []error{recstore.ErrInvalidAttribute}},
		{name: "Unmarshaler refuses", doc: `{"data": {"type": "kinds", "id": "1", "attributes": {"raw": "hot"}}}`, pointer: "/data/attributes/raw", is: []error{recstore.ErrInvalidAttribute}},
		{name: "id that does not fit an int primary", doc: `{"data": {"type": "kinds", "id": "abc"}}`, pointer: "/data/id"},
		{name: "int primary id with leading zeros", doc: `{"data": {"type": "kinds", "id": "007"}}`, pointer: "/data/id"},
		{name: "int primary id with a plus sign", doc: `{"data": {"type": "kinds", "id": "+7"}}`, pointer: "/data/id"},
		{name: "attributes not an object", doc: `{"data": {"type": "album", "id": "1", "attributes": []}}`, pointer: "/data/attributes"},
		{name: "relationships not an object", doc: `{"data": {"type": "album", "id": "1", "relationships": 1}}`, pointer: "/data/relationships"},
		{name: "relationship not an object", doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": "7"}}}`, pointer: "/data/relationships/label"},
		{name: "to-one given an array", doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": [{"type": "label", "id": "7"}]}}}}`, pointer: "/data/relationships/label/data"},
		{name: "to-many given an object", doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": {"type": "track", "id": "t1"}}}}}`, pointer: "/data/relationships/tracks/data"},
		{name: "linkage without id", doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label"}}}}}`, pointer: "/data/relationships/label/data/id"},
		{name: "linkage without type", doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "t1"}, {"id": "t2"}]}}}}`, pointer: "/data/relationships/tracks/data/1/type"},
		{name: "included not an array", doc: `{"data": null, "included": {}}`, pointer: "/included"},
		{name: "bad resource after good ones", doc: `{"data": [{"type": "album", "id": "1", "attributes": {"title": "changed"}}, {"type": "album", "id": "99", "attributes": {"title": "new"}}, {"type": "album", "id": "3", "attributes": {"songCount": "x"}}]}`, pointer: "/data/2/attributes/songCount", is: []error{recstore.ErrInvalidAttribute}},
		{name: "bad included after good data", doc: `{"data": {"type": "album", "id": "1", "attributes": {"title": "changed"}}, "included": [{"type": "label", "id": "7", "attributes": {"name": 1}}]}`, pointer: "/included/0/attributes/name", is: []error{recstore.ErrInvalidAttribute}},
		{name: "too deep", doc: `{"data": null, "meta": ` + deep + `}`, opts: &recstore.Options{MaxDepth: 20}, is: []error{recstore.ErrLimit}},
		{name: "too deep in an attribute", doc: `{"data": {"type": "kinds", "id": "1", "attributes": {"any": ` + deep + `}}}`, opts: &recstore.Options{MaxDepth: 20}, is: []error{recstore.ErrLimit}},
		{name: "too big", doc: `{"data": {"type": "album", "id": "1", "attributes": {"title": "` + strings.Repeat("x", 2000) + `"}}}`, opts: &recstore.Options{MaxDocumentBytes: 1024}, is: []error{recstore.ErrLimit}},
		{name: "too many resources", doc: `{"data": [{"type": "album", "id": "1"}, {"type": "album", "id": "2"}, {"type": "album", "id": "3"}], "included": [{"type": "label", "id": "1"}, {"type": "label", "id": "2"}, {"type": "label", "id": "3"}]}`, opts: &recstore.Options{MaxResources: 5}, is: []error{recstore.ErrLimit}},
		{name: "id too long", doc: `{"data": {"type": "album", "id": "` + strings.Repeat("9", 65) + `"}}`, opts: &recstore.Options{MaxIDBytes: 64}, pointer: "/data/id", is: []error{recstore.ErrLimit}},
		{name: "linkage id too long", doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "` + strings.Repeat("9", 65) + `"}}}}}`, opts: &recstore.Options{MaxIDBytes: 64}, is: []error{recstore.ErrLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _, _ := newStore(t, tt.opts)
			_, err := s.Push(base)
			require.NoError(t, err)
			before := recstore.Dump(s)

			keys, err := s.Push(tt.doc)
			require.Error(t, err)
			assert.Nil(t, keys)
			assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
			for _, target := range tt.is {
				assert.ErrorIs(t, err, target)
			}
			var de *recstore.DocumentError
			require.ErrorAs(t, err, &de)
			if tt.pointer != "" {
				assert.Equal(t, tt.pointer, de.Pointer, "error: %v", err)
			}
			assert.NotEmpty(t, err.Error())
			requireUnchanged(t, s, before)

			// A Document holding the same resources fails alike, at the same
			// member, except for limits on JSON text that a Document has not.
			var doc recstore.Document
			if json.Unmarshal([]byte(tt.doc), &doc) != nil || tt.name == "too big" || strings.HasPrefix(tt.name, "too deep") {
				return
			}
			_, err = s.Push(&doc)
			require.Error(t, err, "as a Document")
			for _, target := range append(tt.is, recstore.ErrInvalidDocument) {
				assert.ErrorIs(t, err, target, "as a Document")
			}
			require.ErrorAs(t, err, &de)
			if tt.docPointer != "" {
				tt.pointer = tt.docPointer
			}
			if tt.pointer != "" {
				assert.Equal(t, tt.pointer, de.Pointer, "as a Document: %v", err)
			}
			requireUnchanged(t, s, before)
		})
	}
}

// Go values in a Document's attributes decode as their JSON would.
func TestPushDocumentValues(t *testing.T) {
	s, _, _, _, kinds := newStore(t, nil)
	ps := "p"
	doc := &recstore.Document{Data: []*recstore.Resource{{Type: "kinds", ID: "1", Attributes: map[string]any{
		"s": "str", "b": true, "i": 3, "i64": int64(-9), "u64": uint64(18446744073709551615), "f64": 1.25, "f32": float32(0.5),
		"t": "2024-05-06T07:08:09Z", "ps": &ps, "pi": json.Number("12"), "tags": []string{"a"}, "meta": map[string]any{"k": "v"},
		"nested": Point{X: 1}, "raw": json.RawMessage(`"3C"`), "u8": 200.0, "unknown": func() {},
	}, Relationships: map[string]*recstore.Relationship{
		"ref":  {Data: []recstore.Key{{Type: "album", ID: "9"}}},
		"refs": {Many: true, Data: []recstore.Key{{Type: "label", ID: "1"}}},
	}}}}
	_, err := s.Push(doc)
	require.NoError(t, err)
	k, _ := kinds.Peek("1")
	pi := 12
	assert.Equal(t, Kinds{ID: 1, S: "str", B: true, I: 3, I64: -9, U64: 18446744073709551615, F64: 1.25, F32: 0.5,
		T: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), PS: &ps, PI: &pi, Tags: []string{"a"}, Meta: map[string]any{"k": "v"},
		Nested: Point{X: 1}, Raw: 3, U8: 200, Ref: recstore.Key{Type: "album", ID: "9"}, Refs: []recstore.Key{{Type: "label", ID: "1"}}}, k)

	before := recstore.Dump(s)
	for name, v := range map[string]any{"NaN": math.NaN(), "fraction for int": 1.5, "chan": make(chan int), "string for int": "1"} {
		_, err := s.Push(&recstore.Document{Data: []*recstore.Resource{{Type: "kinds", ID: "1", Attributes: map[string]any{"i": v}}}})
		assert.ErrorIs(t, err, recstore.ErrInvalidAttribute, name)
		requireUnchanged(t, s, before)
	}
	_, err = s.Push(&recstore.Document{Data: []*recstore.Resource{nil}})
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
	_, err = s.Push(&recstore.Document{Data: []*recstore.Resource{{Type: "kinds", ID: "1"}, {Type: "kinds", ID: "2"}}})
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument, "two resources but not Many")
	_, err = s.Push(&recstore.Document{Data: []*recstore.Resource{{Type: "album", ID: "1", Relationships: map[string]*recstore.Relationship{"label": nil}}}})
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
	_, err = s.Push((*recstore.Document)(nil))
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
	requireUnchanged(t, s, before)
}

func TestPushErrorDetails(t *testing.T) {
	s, _, _, _, _ := newStore(t, &recstore.Options{MaxResources: 1})

	_, err := s.Push(`{"data": {"type": "kinds", "id": "4", "attributes": {"i8": 300}}}`)
	var ae *recstore.AttributeError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "kinds", ae.Type)
	assert.Equal(t, "4", ae.ID)
	assert.Equal(t, "i8", ae.Attr)
	assert.Equal(t, "300", ae.Value)
	assert.Equal(t, "int8", ae.GoType.String())

	_, err = s.Push(`{"data": [{"type": "album", "id": "1"}, {"type": "album", "id": "2"}]}`)
	var le *recstore.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "MaxResources", le.Limit)
	assert.Equal(t, 1, le.Max)

	_, err = s.Push("{\n  \"data\": nul}")
	var se *recstore.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Greater(t, se.Offset, int64(0))

	_, err = s.Push(nil)
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
	_, err = s.Push(func() {})
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
	_, err = s.Push(errReader{})
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
	assert.ErrorIs(t, err, errBoom)
}

var errBoom = errors.New("boom")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBoom }

// Every accepted form of a document pushes the same thing.
func TestPushInputForms(t *testing.T) {
	const text = `{"data": {"type": "album", "id": 1, "attributes": {"title": "T", "songCount": 2}}}`
	var doc recstore.Document
	require.NoError(t, json.Unmarshal([]byte(text), &doc))
	forms := map[string]any{
		"string":      text,
		"bytes":       []byte(text),
		"RawMessage":  json.RawMessage(text),
		"Reader":      strings.NewReader(text),
		"Buffer":      bytes.NewBufferString(text),
		"*Document":   &doc,
		"Document":    doc,
		"map literal": map[string]any{"data": map[string]any{"type": "album", "id": 1, "attributes": map[string]any{"title": "T", "songCount": 2}}},
		"struct": struct {
			Data any `json:"data"`
		}{map[string]any{"type": "album", "id": "1", "attributes": map[string]any{"title": "T", "songCount": 2}}},
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			s, albums, _, _, _ := newStore(t, nil)
			keys, err := s.Push(form)
			require.NoError(t, err)
			assert.Equal(t, []recstore.Key{{Type: "album", ID: "1"}}, keys)
			a, ok := albums.Peek("1")
			require.True(t, ok)
			assert.Equal(t, Album{ID: "1", Title: "T", SongCount: 2}, a)
		})
	}
}

// The store keeps no reference to the bytes it was given.
func TestPushDoesNotKeepInput(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	buf := []byte(`{"data": {"type": "album", "id": "abc", "attributes": {"title": "Title", "artist": "Artist"}}}`)
	_, err := s.Push(buf)
	require.NoError(t, err)
	for i := range buf {
		buf[i] = 'z'
	}
	a, ok := albums.Peek("abc")
	require.True(t, ok)
	assert.Equal(t, "Title", a.Title)
	assert.Equal(t, "Artist", a.Artist)
	assert.Equal(t, []recstore.Key{{Type: "album", ID: "abc"}}, s.Keys("album"))
}

func TestPushReturnsPrimaryKeysInOrder(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []recstore.Key
	}{
		{"null data", `{"data": null}`, []recstore.Key{}},
		{"empty array", `{"data": []}`, []recstore.Key{}},
		{"one", `{"data": {"type": "album", "id": "2"}}`, []recstore.Key{{"album", "2"}}},
		{"array in document order", `{"data": [{"type": "album", "id": "3"}, {"type": "label", "id": "1"}, {"type": "album", "id": 1}]}`,
			[]recstore.Key{{"album", "3"}, {"label", "1"}, {"album", "1"}}},
		{"included not returned", `{"data": [{"type": "album", "id": "3"}], "included": [{"type": "label", "id": "1"}]}`,
			[]recstore.Key{{"album", "3"}}},
		{"duplicates kept", `{"data": [{"type": "album", "id": "3"}, {"type": "album", "id": "3"}]}`,
			[]recstore.Key{{"album", "3"}, {"album", "3"}}},
		{"negative and big numeric ids", `{"data": [{"type": "album", "id": -4}, {"type": "album", "id": 18446744073709551616}]}`,
			[]recstore.Key{{"album", "-4"}, {"album", "18446744073709551616"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _, _ := newStore(t, nil)
			keys, err := s.Push(tt.doc)
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.want, keys)
			assert.Equal(t, len(tt.want), len(keys))
			if len(tt.want) > 0 {
				assert.Equal(t, tt.want, keys)
			}
			for _, k := range keys {
				assert.True(t, s.Has(k), k)
			}
		})
	}
}

// Merge rules for attributes, applied one push after another.
func TestPushMergesAttributes(t *testing.T) {
	tests := []struct {
		name   string
		pushes []string
		want   Album
	}{
		{
			name: "omitted attributes keep their values",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "A", "artist": "X", "songCount": 3}}}`,
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "B"}}}`,
			},
			want: Album{ID: "1", Title: "B", Artist: "X", SongCount: 3},
		},
		{
			name: "no attributes member changes nothing",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "A", "songCount": 3}}}`,
				`{"data": {"type": "album", "id": "1"}}`,
			},
			want: Album{ID: "1", Title: "A", SongCount: 3},
		},
		{
			name: "explicit null clears",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "A", "songCount": 3}}}`,
				`{"data": {"type": "album", "id": "1", "attributes": {"title": null, "songCount": null}}}`,
			},
			want: Album{ID: "1"},
		},
		{
			name: "unknown members are ignored",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "A", "genre": {"deep": [1, 2]}, "Title": "case matters"},
				  "relationships": {"producer": {"data": {"type": "nobody", "id": "1"}}}, "meta": {"x": 1}, "links": {"self": "/a/1"}, "extra": true}}`,
			},
			want: Album{ID: "1", Title: "A"},
		},
		{
			name: "later copies in one document merge over earlier ones",
			pushes: []string{
				`{"data": [{"type": "album", "id": "1", "attributes": {"title": "A", "artist": "X"}},
				           {"type": "album", "id": "1", "attributes": {"title": "B"}}]}`,
			},
			want: Album{ID: "1", Title: "B", Artist: "X"},
		},
		{
			name: "data wins over included",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "data"}},
				  "included": [{"type": "album", "id": "1", "attributes": {"title": "included", "artist": "Y"}}]}`,
			},
			want: Album{ID: "1", Title: "data", Artist: "Y"},
		},
		{
			name: "escapes and unicode",
			pushes: []string{
				`{"data": {"type": "album", "id": "1", "attributes": {"title": "a\"b\\c\u00e9\ud83c\udfb5\n", "artist": "Björk"}}}`,
			},
			want: Album{ID: "1", Title: "a\"b\\cé🎵\n", Artist: "Björk"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, albums, _, _, _ := newStore(t, nil)
			for _, p := range tt.pushes {
				_, err := s.Push(p)
				require.NoError(t, err)
			}
			got, ok := albums.Peek("1")
			require.True(t, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPushAttributeKinds(t *testing.T) {
	ps, pi := "p", 7
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	s, _, _, _, kinds := newStore(t, nil)
	_, err := s.Push(`{"data": {"type": "kinds", "id": 42, "attributes": {
		"s": "str", "b": true, "i": -1, "i8": -128, "i16": 32767, "i32": -2147483648, "i64": 9223372036854775807,
		"u": 1, "u8": 255, "u16": 65535, "u32": 4294967295, "u64": 18446744073709551615,
		"f32": 1.5, "f64": -2.25e10, "t": "2024-05-06T07:08:09Z", "ps": "p", "pi": 7, "pt": 1714979289,
		"tags": ["a", "b"], "meta": {"k": [1, "x"]}, "nested": {"X": 1, "Y": 2, "Tags": ["n"]}, "any": [true],
		"raw": "21.5C", "scores": {"a": 1}, "points": [{"X": 3}, null]}}}`)
	require.NoError(t, err)
	k, ok := kinds.Peek("42")
	require.True(t, ok)
	pt := time.Unix(1714979289, 0)
	assert.Equal(t, Kinds{
		ID: 42, S: "str", B: true, I: -1, I8: -128, I16: 32767, I32: -2147483648, I64: 9223372036854775807,
		U: 1, U8: 255, U16: 65535, U32: 4294967295, U64: 18446744073709551615,
		F32: 1.5, F64: -2.25e10, T: when, PS: &ps, PI: &pi,
		Tags: []string{"a", "b"}, Meta: map[string]any{"k": []any{1.0, "x"}}, Nested: Point{X: 1, Y: 2, Tags: []string{"n"}},
		Any: []any{true}, Raw: 21.5, Scores: map[string]int{"a": 1}, Points: []*Point{{X: 3}, nil},
	}, withoutPT(k))
	require.NotNil(t, k.PT)
	assert.True(t, pt.Equal(*k.PT), "%v", k.PT)

	// null clears every kind to its zero value.
	_, err = s.Push(`{"data": {"type": "kinds", "id": 42, "attributes": {
		"s": null, "b": null, "i": null, "u64": null, "f64": null, "t": null, "ps": null, "pi": null, "pt": null,
		"tags": null, "meta": null, "nested": null, "any": null, "scores": null, "points": null}}}`)
	require.NoError(t, err)
	k, _ = kinds.Peek("42")
	assert.Equal(t, Kinds{ID: 42, I8: -128, I16: 32767, I32: -2147483648, I64: 9223372036854775807,
		U: 1, U8: 255, U16: 65535, U32: 4294967295, F32: 1.5, Raw: 21.5}, k)
}

func withoutPT(k Kinds) Kinds { k.PT = nil; return k }

// A Document read with encoding/json sees member names exactly as a
// pushed text does: JSON:API names are case-sensitive.
func TestDocumentMemberNamesAreCaseSensitive(t *testing.T) {
	for _, text := range []string{
		`{"data": {"tYpe": "album", "id": "1"}}`,
		`{"Data": {"type": "album", "id": "1"}}`,
		`{"data": {"type": "album", "ID": "1"}}`,
		`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"TYPE": "label", "id": "1"}}}}}`,
	} {
		t.Run(text, func(t *testing.T) {
			s, _, _, _, _ := newStore(t, nil)
			_, err := s.Push(text)
			require.ErrorIs(t, err, recstore.ErrInvalidDocument, "as text")
			var doc recstore.Document
			if json.Unmarshal([]byte(text), &doc) == nil {
				_, err = s.Push(&doc)
				require.ErrorIs(t, err, recstore.ErrInvalidDocument, "as a Document")
			}
			assert.Zero(t, s.Len("album"))
		})
	}
}

// Document, Resource and Relationship write JSON:API whether they are
// marshaled as values or through pointers.
func TestDocumentMarshalsAsValue(t *testing.T) {
	doc := recstore.Document{Data: []*recstore.Resource{{Type: "album", ID: "1", Attributes: map[string]any{"title": "x"}}}}
	byValue, err := json.Marshal(doc)
	require.NoError(t, err)
	byPointer, err := json.Marshal(&doc)
	require.NoError(t, err)
	assert.JSONEq(t, string(byPointer), string(byValue))
	assert.JSONEq(t, `{"data": {"type": "album", "id": "1", "attributes": {"title": "x"}}}`, string(byValue))
	res, err := json.Marshal(*doc.Data[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"type": "album", "id": "1", "attributes": {"title": "x"}}`, string(res))
}
