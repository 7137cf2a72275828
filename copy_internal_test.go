package recstore

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPush_StoredSlicesHaveNoSpareCapacity: what a push keeps for good is
// sized exactly, for JSON values the Store decodes itself and for slices
// encoding/json grows by appending.
func TestPush_StoredSlicesHaveNoSpareCapacity(t *testing.T) {
	type rec struct {
		ID   string           `jsonapi:"primary,rec"`
		Ints []int            `jsonapi:"attr,ints"`
		Maps []map[string]int `jsonapi:"attr,maps"`
		Any  []any            `jsonapi:"attr,any"`
		Val  any              `jsonapi:"attr,val"`
	}
	s := New(nil)
	MustRegister[rec](s, nil)
	ints := "[" + strings.Repeat("1,", 999) + "1]"
	maps := "[" + strings.Repeat("{},", 999) + "{}]"
	_, err := s.Push(`{"data":{"type":"rec","id":"1","attributes":{"ints":` + ints + `,"maps":` + maps +
		`,"any":` + maps + `,"val":[` + ints + `]}}}`)
	require.NoError(t, err)
	r := (*rec)(s.lookupType("rec").loaded("1").val)
	for name, c := range map[string][2]int{
		"ints": {len(r.Ints), cap(r.Ints)},
		"maps": {len(r.Maps), cap(r.Maps)},
		"any":  {len(r.Any), cap(r.Any)},
		"val":  {len(r.Val.([]any)[0].([]any)), cap(r.Val.([]any)[0].([]any))},
	} {
		assert.Equal(t, 1000, c[0], "%s: length", name)
		assert.Equal(t, c[0], c[1], "%s: the stored slice has spare capacity", name)
	}
}
