package recstore_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A member name repeated in any object of a document makes the document
// invalid, with a pointer to the repeated member, whichever way it comes
// in: Push, PushPayload through a JSONAPISerializer, or a Document decoded
// with encoding/json. The Store is left as it was.
func TestRepeatedMembers(t *testing.T) {
	const seed = `{"data": [
		{"type": "album", "id": "1", "attributes": {"title": "old"}},
		{"type": "album", "id": "3", "attributes": {"title": "three"}, "relationships": {"tracks": {"data": [{"type": "track", "id": "7"}]}}}
	]}`
	for _, tc := range []struct {
		name, doc, ptr string
	}{
		{"type after attributes", `{"data":{"type":"album","id":"1","attributes":{"title":"NEW"},"type":"album"}}`, "/data/type"},
		{"type of another model", `{"data":[{"type":"album","id":"1","attributes":{"title":"x"}},{"type":"album","id":"3","relationships":{"tracks":{"data":[]}},"type":"track"}]}`, "/data/1/type"},
		{"id", `{"data":{"type":"album","id":"1","id":"2"}}`, "/data/id"},
		{"two attributes objects", `{"data":{"type":"album","id":"1","attributes":{"title":"a"},"attributes":{"artist":"b"}}}`, "/data/attributes"},
		{"two relationships objects", `{"data":{"type":"album","id":"3","relationships":{},"relationships":{}}}`, "/data/relationships"},
		{"two data arrays", `{"data":[{"type":"album","id":"1"}],"data":[{"type":"album","id":"2"}]}`, "/data"},
		{"two included arrays", `{"data":null,"included":[],"included":[]}`, "/included"},
		{"attribute", `{"data":{"type":"album","id":"1","attributes":{"title":"a","title":"b"}}}`, "/data/attributes/title"},
		{"escaped attribute", `{"data":{"type":"album","id":"1","attributes":{"title":"a","\u0074itle":"b"}}}`, "/data/attributes/title"},
		{"unknown attribute", `{"data":{"type":"album","id":"1","attributes":{"x":1,"x":2}}}`, "/data/attributes/x"},
		{"relationship", `{"data":{"type":"album","id":"3","relationships":{"tracks":{"data":[]},"tracks":{"data":[]}}}}`, "/data/relationships/tracks"},
		{"relationship data", `{"data":{"type":"album","id":"3","relationships":{"tracks":{"data":[],"data":[]}}}}`, "/data/relationships/tracks/data"},
		{"identifier id", `{"data":{"type":"album","id":"3","relationships":{"tracks":{"data":[{"type":"track","id":"1","id":"2"}]}}}}`, "/data/relationships/tracks/data/0/id"},
		{"in included", `{"data":null,"included":[{"type":"label","id":"1","type":"label"}]}`, "/included/0/type"},
		{"in meta", `{"data":null,"meta":{"a":[{"b":1},{"b":1,"b":2}]}}`, "/meta/a/1/b"},
		{"in links of a resource", `{"data":{"type":"album","id":"1","links":{"self":"x","self":"y"}}}`, "/data/links/self"},
		{"in an attribute value", `{"data":{"type":"kinds","id":"1","attributes":{"meta":{"k":1,"k":2}}}}`, "/data/attributes/meta/k"},
		{"empty name at the top", `{"":0,"":1,"data":null}`, "/"},
		{"repeat in a truncated document", `{"data":null,"meta":{"a":1,"a":`, "/meta/a"},
		{"in an any attribute", `{"data":{"type":"kinds","id":"1","attributes":{"any":[{"k":1},{"j":{"k":1,"k":2}}]}}}`, "/data/attributes/any/1/j/k"},
		{"in a nested struct attribute", `{"data":{"type":"kinds","id":"1","attributes":{"nested":{"X":1,"X":2}}}}`, "/data/attributes/nested/X"},
		{"many members", `{"data":{"type":"album","id":"1","attributes":{` + manyMembers(100) + `,"m50":0}}}`, "/data/attributes/m50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _, _, _ := newStore(t, nil)
			_, err := s.Push(seed)
			require.NoError(t, err)
			before := recstore.Dump(s)

			check := func(how string, err error) {
				t.Helper()
				require.Error(t, err, how)
				assert.ErrorIs(t, err, recstore.ErrDuplicateMember, how)
				assert.ErrorIs(t, err, recstore.ErrInvalidDocument, how)
				assert.ErrorIs(t, err, recstore.ErrSyntax, how)
				var de *recstore.DocumentError
				if assert.ErrorAs(t, err, &de, how) {
					assert.Equal(t, tc.ptr, de.Pointer, how)
				}
				requireUnchanged(t, s, before)
			}
			_, err = s.Push(tc.doc)
			check("Push", err)
			_, err = s.PushPayload("", tc.doc)
			check("PushPayload", err)
			if json.Valid([]byte(tc.doc)) {
				// (encoding/json rejects bad syntax before UnmarshalJSON runs.)
				var d recstore.Document
				check("Document.UnmarshalJSON", json.Unmarshal([]byte(tc.doc), &d))
			}

			// The store still takes pushes to the records the document named.
			_, err = s.Push(`{"data":{"type":"album","id":"3","attributes":{"title":"after"},"relationships":{"tracks":{"data":[]}}}}`)
			require.NoError(t, err)
			require.NoError(t, recstore.CheckInverses(s))
		})
	}
}

// Names that differ, however many, are not repeats; a name may repeat in
// different objects.
func TestRepeatedNamesInDifferentObjects(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	_, err := s.Push(`{"data":{"type":"album","id":"1","attributes":{"title":"t",` + manyMembers(1000) + `},
		"meta":{"title":1,"a":{"title":2}}},"meta":{"title":3}}`)
	require.NoError(t, err)
	a, _ := albums.Peek("1")
	assert.Equal(t, "t", a.Title)
}

func manyMembers(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"m` + strconv.Itoa(i) + `":0`)
	}
	return b.String()
}

// MaxIDBytes bounds the id as stored: escapes and invalid bytes are
// resolved first, so 1,000 bytes of \xff (3,000 once each becomes U+FFFD)
// do not fit 1,024, while an escaped id that shrinks to fit does.
func TestMaxIDBytesBoundsStoredID(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	before := recstore.Dump(s)
	for _, doc := range []string{
		`{"data":{"type":"album","id":"` + strings.Repeat("\xff", 1000) + `"}}`,
		`{"data":{"type":"album","id":"1","relationships":{"tracks":{"data":[{"type":"track","id":"` + strings.Repeat("\xff", 1000) + `"}]}}}}`,
		`{"data":{"type":"album","id":"` + strings.Repeat(`\u00e9`, 600) + `"}}`,
	} {
		_, err := s.Push(doc)
		var le *recstore.LimitError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, "MaxIDBytes", le.Limit)
		requireUnchanged(t, s, before)
	}
	long := strings.Repeat(`\u0041`, 1024) // 6 KiB of text, 1 KiB of id
	_, err := s.Push(`{"data":{"type":"album","id":"` + long + `"}}`)
	require.NoError(t, err)
	assert.True(t, albums.Has(strings.Repeat("A", 1024)))
}

// MaxDepth cannot be set past MaxDepthCeiling: a document nested deeper
// is refused with a LimitError, not a stack overflow.
func TestMaxDepthCeiling(t *testing.T) {
	s, _, _, _, _ := newStore(t, &recstore.Options{MaxDepth: 1 << 30, MaxDocumentBytes: 64 << 20})
	deep := strings.Repeat("[", recstore.MaxDepthCeiling+1) + strings.Repeat("]", recstore.MaxDepthCeiling+1)
	_, err := s.Push(`{"data":null,"meta":` + deep + `}`)
	var le *recstore.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, recstore.MaxDepthCeiling, le.Max)
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	_, err = s.Push(`{"data":null,"meta":` + ok + `}`)
	require.NoError(t, err)
}

// MaxLinkages counts every resource identifier in relationship data, in
// JSON text and in a Document alike.
func TestMaxLinkages(t *testing.T) {
	s, _, _, _, _ := newStore(t, &recstore.Options{MaxLinkages: 3})
	before := recstore.Dump(s)
	four := `{"data":[{"type":"album","id":"1","relationships":{"tracks":{"data":[{"type":"track","id":"1"},{"type":"track","id":"2"}]}}},
		{"type":"album","id":"2","relationships":{"label":{"data":{"type":"label","id":"1"}},"tracks":{"data":[{"type":"track","id":"3"}]}}}]}`
	_, err := s.Push(four)
	var le *recstore.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "MaxLinkages", le.Limit)
	var de *recstore.DocumentError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "/data/1/relationships/tracks/data/0", de.Pointer)
	requireUnchanged(t, s, before)

	var d recstore.Document
	require.NoError(t, json.Unmarshal([]byte(four), &d))
	_, err = s.Push(&d)
	require.True(t, errors.As(err, &le), "%v", err)
	requireUnchanged(t, s, before)

	_, err = s.Push(`{"data":{"type":"album","id":"1","relationships":{"tracks":{"data":[{"type":"track","id":"1"},{"type":"track","id":"2"},{"type":"track","id":"3"}]}}}}`)
	require.NoError(t, err)
}

// An attribute error quotes at most a short piece of the value, and of
// its cause, however long the value is.
func TestAttributeErrorStaysShort(t *testing.T) {
	s, _, _, _, _ := newStore(t, nil)
	for _, attrs := range []string{
		`"raw": "` + strings.Repeat("9", 4<<20) + `"`, // Celsius's own UnmarshalJSON fails, quoting it
		`"i": ` + strings.Repeat("9", 4<<20),
	} {
		_, err := s.Push(`{"data": {"type": "kinds", "id": "1", "attributes": {` + attrs + `}}}`)
		require.ErrorIs(t, err, recstore.ErrInvalidAttribute)
		assert.Less(t, len(err.Error()), 2048)
	}
}

// MaxDepth counts an attribute value's nesting from the same place in a
// Document as in the JSON text it came from.
func TestMaxDepthSameForDocument(t *testing.T) {
	s, _, _, _, _ := newStore(t, &recstore.Options{MaxDepth: 16})
	for depth := 10; depth <= 16; depth++ {
		for _, many := range []bool{false, true} {
			value := strings.Repeat("[", depth) + strings.Repeat("]", depth)
			res := `{"type": "kinds", "id": "1", "attributes": {"any": ` + value + `}}`
			doc := `{"data": ` + res + `}`
			if many {
				doc = `{"data": [` + res + `]}`
			}
			_, textErr := s.Push(doc)
			var d recstore.Document
			require.NoError(t, json.Unmarshal([]byte(doc), &d))
			_, docErr := s.Push(&d)
			assert.Equal(t, textErr == nil, docErr == nil, "depth %d, many %v: text %v, Document %v", depth, many, textErr, docErr)
		}
	}
}
