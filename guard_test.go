package recstore_test

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type Ledger struct {
	ID     string       `jsonapi:"primary,ledger"`
	Total  big.Int      `jsonapi:"attr,total"`
	Rate   *big.Rat     `jsonapi:"attr,rate"`
	Floats []*big.Float `jsonapi:"attr,floats"`
	Bigs   []big.Int    `jsonapi:"attr,bigs"`
	Lines  []struct {
		Name   string
		Amount *big.Int
	} `jsonapi:"attr,lines"`
}

// math/big parses in time quadratic in a number's length, and a big.Rat
// spells its exponent out in digits: a number longer than
// MaxBigNumberBytes, or a Rat exponent past 100 + 4 per byte, is an
// attribute error, so that a document costs time and memory linear in its
// size. Numbers within the limits, and long strings that are not numbers,
// are taken.
func TestBigNumbersAreBounded(t *testing.T) {
	digits := func(n int) string { return "1" + strings.Repeat("7", n-1) }
	for _, tc := range []struct {
		name, attrs string
		ok          bool
	}{
		{"int at the limit", `"total": ` + digits(recstore.MaxBigNumberBytes), true},
		{"int past the limit", `"total": ` + digits(recstore.MaxBigNumberBytes+1), false},
		{"rat with a small exponent", `"rate": "1e-100"`, true},
		{"rat as a fraction", `"rate": "` + digits(400) + `/3"`, true},
		{"rat with a huge exponent", `"rate": "1e1000000"`, false},
		{"rat just past its exponent bound", `"rate": "1e121"`, false},
		{"long rat", `"rate": "` + digits(recstore.MaxBigNumberBytes+1) + `"`, false},
		{"float with a big exponent", `"floats": ["1e400"]`, true},
		{"long float", `"floats": ["1", "` + digits(recstore.MaxBigNumberBytes+1) + `"]`, false},
		{"inside a struct", `"lines": [{"Name": "` + strings.Repeat("x", 5000) + `", "Amount": ` + digits(recstore.MaxBigNumberBytes+1) + `}]`, false},
		{"long names are not numbers", `"lines": [{"Name": "` + strings.Repeat("x", 5000) + `", "Amount": 12}]`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, payload := range []bool{false, true} {
				s := recstore.New(nil)
				ledgers := recstore.MustRegister[Ledger](s, nil)
				before := recstore.Dump(s)
				doc := `{"data": {"type": "ledger", "id": "1", "attributes": {` + tc.attrs + `}}}`
				var err error
				if payload {
					_, err = s.PushPayload("ledger", `{"data": {"type": "ledgers", "id": "1", "attributes": {`+tc.attrs+`}}}`)
				} else {
					_, err = s.Push(doc)
				}
				if tc.ok {
					require.NoError(t, err, "payload=%v", payload)
					assert.True(t, ledgers.Has("1"))
					continue
				}
				require.ErrorIs(t, err, recstore.ErrInvalidAttribute, "payload=%v", payload)
				var de *recstore.DocumentError
				require.ErrorAs(t, err, &de)
				assert.True(t, strings.HasPrefix(de.Pointer, "/data/attributes/"), de.Pointer)
				requireUnchanged(t, s, before)
			}
		})
	}
}

// sneaky's UnmarshalJSON puts a value with hidden state into an interface
// field, which Register cannot see; plain, a JSON value.
type sneaky struct{ V any }

type hiddenBox struct{ xs []int }

func (s *sneaky) UnmarshalJSON(b []byte) error {
	if string(b) == `"hidden"` {
		s.V = &hiddenBox{xs: []int{1}}
		return nil
	}
	var v any
	err := json.Unmarshal(b, &v)
	s.V = v
	return err
}

type Sneaky struct {
	ID string `jsonapi:"primary,sneaky"`
	S  sneaky `jsonapi:"attr,s"`
}

// A value a type's own UnmarshalJSON puts into an interface field is
// copied on every read like any other; one the Store could not copy is an
// attribute error when pushed, not memory shared with every reader.
func TestUnmarshalerCannotSmuggleSharedState(t *testing.T) {
	s := recstore.New(nil)
	m := recstore.MustRegister[Sneaky](s, nil)
	_, err := s.Push(`{"data": {"type": "sneaky", "id": "1", "attributes": {"s": {"a": [1, 2]}}}}`)
	require.NoError(t, err)
	got, _ := m.Peek("1")
	got.S.V.(map[string]any)["a"].([]any)[0] = 99.0
	again, _ := m.Peek("1")
	assert.Equal(t, 1.0, again.S.V.(map[string]any)["a"].([]any)[0])

	before := recstore.Dump(s)
	_, err = s.Push(`{"data": {"type": "sneaky", "id": "1", "attributes": {"s": "hidden"}}}`)
	require.ErrorIs(t, err, recstore.ErrInvalidAttribute)
	assert.Contains(t, err.Error(), "holds a value of type *recstore_test.hiddenBox", "the message reads right for any type name")
	requireUnchanged(t, s, before)
}
