package recstore_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type Admin struct {
	ID   string `jsonapi:"primary,admin"`
	Kind string `jsonapi:"attr,kind"`
}

// A Key relationship's embedded record must name its type; one whose own
// serializer writes a member as "type" is named, not embedded, so that no
// object holds "type" twice and the output reads back.
func TestSerializeEmbeddedKeyRecordWithATypeMember(t *testing.T) {
	ser := &recstore.JSONSerializer{Embedded: map[string]bool{"owner": true}}
	adminSer := &recstore.JSONSerializer{Attrs: map[string]string{"kind": "type"}}
	s := newSerializerStore(t, &recstore.Options{Serializer: ser})
	recstore.MustRegister[Admin](s, &recstore.ModelOptions{Serializer: adminSer})
	_, err := s.Push(`{"data":[{"type":"admin","id":"1","attributes":{"kind":"super"}},
		{"type":"github-handle","id":"h1","relationships":{"owner":{"data":{"type":"admin","id":"1"}}}}]}`)
	require.NoError(t, err)
	out, err := s.Serialize(recstore.Key{Type: "github-handle", ID: "h1"}, &recstore.SerializeOptions{IncludeID: true})
	require.NoError(t, err)
	var owner map[string]json.RawMessage
	var h struct{ Owner json.RawMessage }
	require.NoError(t, json.Unmarshal(out, &h))
	require.NoError(t, json.Unmarshal(h.Owner, &owner))
	assert.Equal(t, 1, strings.Count(string(h.Owner), `"type":`), "one type member")

	s2 := newSerializerStore(t, &recstore.Options{Serializer: ser})
	recstore.MustRegister[Admin](s2, &recstore.ModelOptions{Serializer: adminSer})
	_, err = s2.PushPayload("github-handle", out)
	require.NoError(t, err)
	h2, _ := s2.Peek(recstore.Key{Type: "github-handle", ID: "h1"})
	assert.Equal(t, recstore.Key{Type: "admin", ID: "1"}, h2.(GithubHandle).Owner)
}

// A 0x/0o/0b integer beyond uint64 is the nearest float64, as Number()
// gives it (Number("0x10000000000000000") === 18446744073709552000).
func TestNumberTransformBigHex(t *testing.T) {
	s := recstore.New(&recstore.Options{Serializer: &recstore.JSONSerializer{}})
	recstore.MustRegister[Coerced](s, nil)
	_, err := s.PushPayload("coerced", `{"id": 1, "f": "0x10000000000000000"}`)
	require.NoError(t, err)
	c, _ := s.Peek(recstore.Key{Type: "coerced", ID: "1"})
	assert.Equal(t, 18446744073709551616.0, c.(Coerced).F)
}

// Ember reads a polymorphic type from keyForRelationship(name)+"Type",
// not from the Attrs-renamed key: with {owner: "user"} it is "ownerType".
func TestPolymorphicTypeKeyIgnoresAttrs(t *testing.T) {
	ser := &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{Attrs: map[string]string{"owner": "user"}}}
	s := newSerializerStore(t, &recstore.Options{Serializer: ser})
	_, err := s.PushPayload("", `{"githubHandles": [{"id": "h1", "user": 1, "ownerType": "person"}]}`)
	require.NoError(t, err)
	h, _ := s.Peek(recstore.Key{Type: "github-handle", ID: "h1"})
	assert.Equal(t, recstore.Key{Type: "person", ID: "1"}, h.(GithubHandle).Owner)
}

// Error messages that name a model type read right whatever the type's
// first letter: "the album hash", never "a album hash".
func TestSerializer_messagesNameTheType(t *testing.T) {
	hookErr := errors.New("no thanks")
	refuse := func(string, *recstore.Hash) error { return hookErr }
	tests := []struct {
		name, typ, payload string
		ser                recstore.Serializer
		want               string
	}{
		{name: "JSON hash without id", typ: "album", ser: &recstore.JSONSerializer{},
			payload: `{"title": "x"}`, want: `the album hash has no "id" member`},
		{name: "REST hash without its primary key", typ: "album", ser: &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{PrimaryKey: "_id"}},
			payload: `{"albums": [{"id": 1}]}`, want: `the album hash has no "_id" member`},
		{name: "JSON NormalizeHash error", typ: "album", ser: &recstore.JSONSerializer{NormalizeHash: refuse},
			payload: `{"id": 1}`, want: "normalizing the album hash: no thanks"},
		{name: "JSON:API NormalizeHash error", typ: "album", ser: &recstore.JSONAPISerializer{NormalizeHash: refuse},
			payload: `{"data": {"type": "albums", "id": "1"}}`, want: "normalizing the album resource: no thanks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSerializerStore(t, &recstore.Options{Serializer: tt.ser})
			_, err := s.PushPayload(tt.typ, tt.payload)
			require.ErrorIs(t, err, recstore.ErrInvalidDocument, "%s", tt.payload)
			assert.Contains(t, err.Error(), tt.want, "%s", tt.payload)
			assert.NotContains(t, err.Error(), "a album", "%s", tt.payload)
		})
	}
}
