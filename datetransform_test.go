package recstore_test

import (
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Dated has a date attribute of each form: a value and a pointer.
type Dated struct {
	ID    string     `jsonapi:"primary,dated"`
	At    time.Time  `jsonapi:"attr,at"`
	Maybe *time.Time `jsonapi:"attr,maybe"`
}

// Ember Data's date transform turns a value of any JSON type but a string,
// a number or null into null; so do the serializers, clearing the field
// (zero time.Time, nil *time.Time) instead of failing the payload. A plain
// Push runs no transform and keeps its strict AttributeError.
func TestSerializer_dateOfAnotherType(t *testing.T) {
	was := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		ser     recstore.Serializer
		payload func(v string) string // the payload setting both dates of record 1 to v
	}{
		{"JSON", &recstore.JSONSerializer{}, func(v string) string { return `{"id": 1, "at": ` + v + `, "maybe": ` + v + `}` }},
		{"REST", &recstore.RESTSerializer{}, func(v string) string { return `{"dated": {"id": 1, "at": ` + v + `, "maybe": ` + v + `}}` }},
		{"JSON:API", &recstore.JSONAPISerializer{}, func(v string) string {
			return `{"data": {"type": "dateds", "id": 1, "attributes": {"at": ` + v + `, "maybe": ` + v + `}}}`
		}},
	}
	for _, tt := range tests {
		for _, v := range []string{`{}`, `{"a": 1}`, `[]`, `["2020-01-02"]`, `true`, `false`, `null`} {
			t.Run(tt.name+" "+v, func(t *testing.T) {
				t.Parallel()
				s := recstore.New(&recstore.Options{Serializer: tt.ser})
				dated := recstore.MustRegister[Dated](s, nil)
				_, err := s.Push(`{"data": {"type": "dated", "id": "1", "attributes": {"at": "2020-01-02T03:04:05Z", "maybe": "2020-01-02T03:04:05Z"}}}`)
				require.NoError(t, err)
				got, err := dated.PushPayload(tt.payload(v))
				require.NoError(t, err, "a date of %s is null, not an error", v)
				require.Len(t, got, 1)
				assert.True(t, got[0].At.IsZero(), "at %s: got %v, want the zero time", v, got[0].At)
				assert.Nil(t, got[0].Maybe, "maybe %s: want nil", v)

				// Normalize of the hash gives the null a Document would hold
				// (null itself stays as its JSON text).
				if tt.name == "JSON" && v != `null` {
					doc, err := s.Normalize("dated", tt.payload(v))
					require.NoError(t, err)
					require.Len(t, doc.Data, 1)
					assert.Nil(t, doc.Data[0].Attributes["at"], "at %s", v)
				}

				// A plain Push of the same value is refused, and changes nothing.
				_, err = s.Push(`{"data": {"type": "dated", "id": "1", "attributes": {"at": "2020-01-02T03:04:05Z"}}}`)
				require.NoError(t, err)
				before := recstore.Dump(s)
				_, err = s.Push(`{"data": {"type": "dated", "id": "1", "attributes": {"at": ` + v + `}}}`)
				if v == `null` {
					require.NoError(t, err, "null clears")
					return
				}
				var ae *recstore.AttributeError
				require.ErrorAs(t, err, &ae, "Push runs no transform: %s", v)
				assert.Equal(t, "at", ae.Attr)
				requireUnchanged(t, s, before)
				d, _ := dated.Peek("1")
				assert.True(t, was.Equal(d.At), "unchanged: %v", d.At)
			})
		}
	}
}

// A string that is no date still fails, as it would make an Invalid Date
// in Ember rather than null.
func TestSerializer_dateStringStillChecked(t *testing.T) {
	s := recstore.New(&recstore.Options{Serializer: &recstore.JSONSerializer{}})
	dated := recstore.MustRegister[Dated](s, nil)
	_, err := dated.PushPayload(`{"id": 1, "at": "yesterday"}`)
	var ae *recstore.AttributeError
	require.ErrorAs(t, err, &ae)
	var de *recstore.DocumentError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "/at", de.Pointer)
	assert.Equal(t, 0, s.Len("dated"))
}
