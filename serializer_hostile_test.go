package recstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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

// recordingHandler keeps every log record it is given.
type recordingHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

// attrs returns a record's attributes by key.
func attrs(r slog.Record) map[string]slog.Value {
	m := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value; return true })
	return m
}

// A payload with thousands of skipped resources of distinct unknown types
// logs a bounded number of records: one per type for the first 16, then
// one for the rest, whose counts add up to every skip.
func TestPushPayload_SkipsLoggedOncePerReason(t *testing.T) {
	const n = 5000
	var rest, jsonapi strings.Builder
	rest.WriteString(`{"posts": [{"id": 1}]`)
	jsonapi.WriteString(`{"data": {"type": "posts", "id": "1"}, "included": [`)
	for i := range n {
		fmt.Fprintf(&rest, `, "unicorn%d": [{"id": 1}]`, i)
		if i > 0 {
			jsonapi.WriteString(",")
		}
		fmt.Fprintf(&jsonapi, `{"type": "unicorn%d", "id": "1"}`, i)
	}
	rest.WriteString(`}`)
	jsonapi.WriteString(`]}`)
	tests := []struct {
		name, payload string
		ser           recstore.Serializer
		pointer       string
	}{
		{"REST unknown root keys", rest.String(), &recstore.RESTSerializer{}, `/unicorn0`},
		{"JSON:API included resources of unknown types", jsonapi.String(), &recstore.JSONAPISerializer{}, `/included/0/type`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h recordingHandler
			s := newSerializerStore(t, &recstore.Options{Serializer: tt.ser, Logger: slog.New(&h), MaxDocumentBytes: 8 << 20, MaxResources: 2 * n})
			keys, err := s.PushPayload("post", tt.payload)
			require.NoError(t, err)
			assert.Equal(t, []recstore.Key{{Type: "post", ID: "1"}}, keys)
			require.Len(t, h.records, 17, "16 types and the rest, not one record per skipped resource")
			total := int64(0)
			for _, r := range h.records {
				assert.Equal(t, slog.LevelWarn, r.Level)
				assert.Equal(t, "recstore: resource of unknown type skipped", r.Message)
				a := attrs(r)
				assert.Equal(t, "unknown-type", a["kind"].String())
				total += a["count"].Int64()
			}
			assert.Equal(t, int64(n), total, "the counts add up to every skip")
			first := attrs(h.records[0])
			assert.Equal(t, "unicorn0", first["type"].String())
			assert.Equal(t, tt.pointer, first["pointer"].String())
			rest := attrs(h.records[16])
			assert.Equal(t, int64(n-16), rest["count"].Int64())
			_, hasType := rest["type"]
			assert.False(t, hasType, "the rest merges many types")

			// Normalize still lists every skip for its caller.
			doc, err := tt.ser.Normalize(s, "post", []byte(tt.payload))
			require.NoError(t, err)
			assert.Len(t, doc.Skipped, n)
		})
	}
}
