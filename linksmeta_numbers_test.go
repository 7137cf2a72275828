package recstore_test

import (
	"encoding/json"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Numbers in links and meta read back as float64 when every literal of
// the object reads back the same from a float64, and all as json.Number
// otherwise: nothing is lost, by Push and PushPayload alike, in a
// resource's meta and in a relationship's.
func TestStore_MetaNumbers(t *testing.T) {
	tests := []struct {
		name   string
		meta   string
		want   map[string]any
		reason string
	}{
		{name: "2^53+1", meta: `{"n": 9007199254740993, "m": 1}`,
			want:   map[string]any{"n": json.Number("9007199254740993"), "m": json.Number("1")},
			reason: "a float64 reads 2^53+1 as 2^53: every number of the object is a json.Number"},
		{name: "2^53", meta: `{"n": 9007199254740992}`, want: map[string]any{"n": 9007199254740992.0},
			reason: "16 digits that a float64 holds exactly"},
		{name: "negative 2^53+1", meta: `{"n": -9007199254740993}`, want: map[string]any{"n": json.Number("-9007199254740993")}},
		{name: "int64 max", meta: `{"n": 9223372036854775807}`, want: map[string]any{"n": json.Number("9223372036854775807")}},
		{name: "15 digits", meta: `{"n": 123456789012345}`, want: map[string]any{"n": 123456789012345.0}},
		{name: "1e20 written out", meta: `{"n": 100000000000000000000}`, want: map[string]any{"n": 1e20},
			reason: "21 digits, but one significant"},
		{name: "decimals", meta: `{"a": 0.1, "b": 1.50, "c": -2.5e-3, "d": 1E+2}`, want: map[string]any{"a": 0.1, "b": 1.5, "c": -0.0025, "d": 100.0},
			reason: "decimals a float64 formats back to the same value"},
		{name: "long decimal", meta: `{"a": 0.12345678901234567891, "b": 2}`, want: map[string]any{"a": json.Number("0.12345678901234567891"), "b": json.Number("2")},
			reason: "20 significant digits do not fit a float64"},
		{name: "17 digits lost", meta: `{"a": 0.30000000000000001}`, want: map[string]any{"a": json.Number("0.30000000000000001")},
			reason: "a float64 formats it back as 0.3"},
		{name: "17 digits kept", meta: `{"a": 0.30000000000000004}`, want: map[string]any{"a": 0.30000000000000004}},
		{name: "too large", meta: `{"a": 1e400}`, want: map[string]any{"a": json.Number("1e400")}},
		{name: "too small", meta: `{"a": 1e-400}`, want: map[string]any{"a": json.Number("1e-400")}, reason: "a float64 reads it as 0"},
		{name: "smallest subnormal", meta: `{"a": 5e-324}`, want: map[string]any{"a": 5e-324}},
		{name: "nested", meta: `{"a": [1, {"b": 9007199254740993}]}`,
			want: map[string]any{"a": []any{json.Number("1"), map[string]any{"b": json.Number("9007199254740993")}}}},
		{name: "digits in strings", meta: `{"s": "9007199254740993", "t": "x\"9007199254740993\\", "n": 1}`,
			want: map[string]any{"s": "9007199254740993", "t": "x\"9007199254740993\\", "n": 1.0}, reason: "strings are not numbers"},
		{name: "zeros", meta: `{"a": 0, "b": 0.000e999999999999}`, want: map[string]any{"a": 0.0, "b": 0.0}},
	}
	for _, tt := range tests {
		for _, via := range []string{"text", "payload"} {
			t.Run(tt.name+"/"+via, func(t *testing.T) {
				t.Parallel()
				s, albums, _, _, _ := newStore(t, nil)
				require.NoError(t, pushVia(t, s, via, `{"data": {"type": "album", "id": "1", "meta": `+tt.meta+`,
					"relationships": {"tracks": {"meta": `+tt.meta+`}}}}`))
				assert.Equal(t, tt.want, s.Meta(recstore.Key{Type: "album", ID: "1"}), "meta %s: %s", tt.meta, tt.reason)
				r, _ := albums.Related("1", "tracks")
				assert.Equal(t, tt.want, r.Meta, "relationship meta %s: %s", tt.meta, tt.reason)
			})
		}
	}
}
