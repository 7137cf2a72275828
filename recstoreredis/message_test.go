package recstoreredis

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMessage_roundTrip: what the publish script writes (its head plus
// tail()) decodes to the message.
func TestMessage_roundTrip(t *testing.T) {
	for _, m := range []message{
		{From: "a"},
		{From: "a", Changed: identifiers([]recstore.Key{{Type: "albums", ID: "1"}, {Type: "tracks", ID: `"quoted"\n`}})},
		{Deleted: identifiers([]recstore.Key{{Type: "albums", ID: "2"}}), Types: []string{"tracks"}},
	} {
		tail, err := m.tail()
		require.NoError(t, err)
		head := `{"v":1,"ver":42`
		if string(tail) != "}" {
			head += ","
		}
		got, err := decodeMessage([]byte(head + string(tail)))
		require.NoError(t, err)
		m.V, m.Ver = 1, 42
		assert.Equal(t, m, *got)
	}
	_, err := decodeMessage([]byte(`{"v":1,"ver":1,"changed":[` + strings.Repeat(`{"type":"a","id":"1"},`, MaxMessageBytes/20) + `]}`))
	require.ErrorIs(t, err, ErrBadMessage, "too long")
}

// FuzzDecodeMessage: any bytes on the channel give a message or an
// ErrBadMessage, never a panic, and a message decoded has a version and
// only records with a type and an id.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{`{"v":1,"ver":1,"changed":[{"type":"a","id":"1"}]}`, `{"v":1,"ver":2,"types":["a"]}`, `{}`, `[`, `{"v":1,"ver":1e99}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			require.ErrorIs(t, err, ErrBadMessage)
			return
		}
		require.NotZero(t, m.Ver)
		for _, id := range append(m.Changed, m.Deleted...) {
			require.NotEmpty(t, id.Type)
			require.NotEmpty(t, id.ID)
		}
		_, err = json.Marshal(m)
		require.NoError(t, err)
	})
}
