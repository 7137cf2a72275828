package recstore_test

import (
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Strings of megabytes coerce in time linear in their length. The old
// code read "0o777…" through math/big, which took seconds per MiB
// (BenchmarkCoercion shows the scaling); here the results are checked.
func TestCoercion_MultiMiBStrings(t *testing.T) {
	const size = 3 << 20
	tests := []struct {
		name, attrs string
		check       func(t *testing.T, c Coerced)
	}{
		{"octal past float64 is Infinity, stored as null", `"f": "0o` + strings.Repeat("7", size) + `"`,
			func(t *testing.T, c Coerced) { assert.Zero(t, c.F) }},
		{"hex with megabytes of leading zeros", `"f": "0x` + strings.Repeat("0", size) + `ff"`,
			func(t *testing.T, c Coerced) { assert.Equal(t, 255.0, c.F) }},
		{"binary past 2^64 stays finite", `"f": "0b1` + strings.Repeat("0", 900) + `1"`,
			func(t *testing.T, c Coerced) { assert.Equal(t, 0x1p901, c.F, "2^901 + 1 rounds to 2^901") }},
		{"decimal", `"f": "` + strings.Repeat("1", size) + `"`,
			func(t *testing.T, c Coerced) { assert.Zero(t, c.F, "beyond float64 is Infinity, stored as null") }},
		{"boolean", `"b": "` + strings.Repeat("t", size) + `"`,
			func(t *testing.T, c Coerced) { assert.False(t, c.B) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := recstore.New(&recstore.Options{Serializer: &recstore.JSONSerializer{}, MaxDocumentBytes: 8 << 20})
			m := recstore.MustRegister[Coerced](s, nil)
			_, err := m.PushPayload(`{"id": 1, "f": 5, "b": true}`)
			require.NoError(t, err)
			got, err := m.PushPayload(`{"id": 1, ` + tt.attrs + `}`)
			require.NoError(t, err)
			require.Len(t, got, 1)
			tt.check(t, got[0])
		})
	}

	s := recstore.New(&recstore.Options{Serializer: &recstore.JSONSerializer{}, MaxDocumentBytes: 8 << 20})
	m := recstore.MustRegister[Coerced](s, nil)
	before := recstore.Dump(s)
	_, err := m.PushPayload(`{"id": 1, "t": "2020-01-02T` + strings.Repeat("0", size) + `"}`)
	require.ErrorIs(t, err, recstore.ErrInvalidAttribute, "a date of megabytes is no ISO 8601 date")
	requireUnchanged(t, s, before)
}
