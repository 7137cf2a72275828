package recstore_test

import (
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type optsStamp struct{ Created string }

type optsBase struct {
	optsStamp
	Owner string
}

// optsPromoted embeds a struct by value and one by pointer; optsBase
// embeds another in turn.
type optsPromoted struct {
	optsBase
	*optsStamp2
	SKU   string
	Cents int
}

type optsStamp2 struct{ Updated string }

// With several faults in ModelOptions.Tags, Register reports the same one
// on every run: the first name in sorted order.
func TestModelOptions_Tags_ErrorOrder(t *testing.T) {
	tests := []struct {
		name      string
		tags      map[string]string
		wantField string
		wantMsg   string
		reason    string
	}{
		{name: "unknown names", tags: map[string]string{"SKU": `jsonapi:"primary,price"`, "Nope3": `x`, "Nope1": `y`, "Nope2": `z`},
			wantField: "Nope1", wantMsg: `the struct has no field "Nope1"`},
		{name: "unknown name and malformed tag", tags: map[string]string{"SKU": `jsonapi:"primary,price"`, "Cents": `jsonapi:attr`, "Zed": `jsonapi:"attr,zed"`},
			wantField: "Cents", wantMsg: "malformed tag", reason: "Cents sorts before Zed"},
		{name: "promoted and unknown", tags: map[string]string{"SKU": `jsonapi:"primary,price"`, "Owner": `jsonapi:"attr,owner"`, "Alpha": `jsonapi:"attr,alpha"`},
			wantField: "Alpha", wantMsg: `the struct has no field "Alpha"`},
		{name: "several promoted", tags: map[string]string{"SKU": `jsonapi:"primary,price"`, "Updated": `jsonapi:"attr,u"`, "Owner": `jsonapi:"attr,o"`, "Created": `jsonapi:"attr,c"`},
			wantField: "Created", wantMsg: `"Created" is promoted from the embedded field optsBase:`,
			reason: "two levels down, named by the embedded field of the struct itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for run := range 20 {
				s := recstore.New(nil)
				_, err := recstore.Register[optsPromoted](s, &recstore.ModelOptions{Tags: tt.tags})
				var me *recstore.ModelError
				require.ErrorAs(t, err, &me)
				require.Equal(t, tt.wantField, me.Field, "run %d: error %v: %s", run, err, tt.reason)
				require.Contains(t, me.Msg, tt.wantMsg, "run %d", run)
			}
		})
	}
}

type OptsStamp struct{ Updated string }

// optsPublic embeds an exported struct, which may be tagged itself.
type optsPublic struct {
	OptsStamp
	ID string
}

// A field promoted from an embedded struct cannot be tagged through
// ModelOptions.Tags: the error names the embedded field of the struct
// itself, however deep the field and whether embedded by value or pointer,
// and offers tagging that field when it is exported.
func TestModelOptions_Tags_Promoted(t *testing.T) {
	own := func(emb, field string) string {
		return "ModelOptions.Tags: " + `"` + field + `" is promoted from the embedded field ` + emb +
			": Register reads the struct's own fields only, so declare " + field + " in the struct"
	}
	tests := []struct {
		name     string
		register func(*recstore.Store) error
		field    string
		wantMsg  string
	}{
		{"by value", regWith[optsPromoted](&recstore.ModelOptions{Tags: map[string]string{
			"SKU": `jsonapi:"primary,price"`, "Owner": `jsonapi:"attr,x"`}}), "Owner", own("optsBase", "Owner")},
		{"two levels down", regWith[optsPromoted](&recstore.ModelOptions{Tags: map[string]string{
			"SKU": `jsonapi:"primary,price"`, "Created": `jsonapi:"attr,x"`}}), "Created", own("optsBase", "Created")},
		{"by pointer", regWith[optsPromoted](&recstore.ModelOptions{Tags: map[string]string{
			"SKU": `jsonapi:"primary,price"`, "Updated": `jsonapi:"attr,x"`}}), "Updated", own("optsStamp2", "Updated")},
		{"exported embedded field", regWith[optsPublic](&recstore.ModelOptions{Tags: map[string]string{
			"ID": `jsonapi:"primary,public"`, "Updated": `jsonapi:"attr,x"`}}), "Updated",
			`ModelOptions.Tags: "Updated" is promoted from the embedded field OptsStamp: Register reads the struct's own fields only, ` +
				"so tag OptsStamp (one attribute holding the whole struct) or declare Updated in the struct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := recstore.New(nil)
			err := tt.register(s)
			require.ErrorIs(t, err, recstore.ErrInvalidModel)
			var me *recstore.ModelError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.field, me.Field)
			assert.Equal(t, tt.wantMsg, me.Msg)
			assert.Empty(t, s.Types())
		})
	}

	// What the message offers works: the exported embedded field, tagged,
	// is one attribute.
	s := recstore.New(nil)
	pub, err := recstore.Register[optsPublic](s, &recstore.ModelOptions{Tags: map[string]string{
		"ID": `jsonapi:"primary,public"`, "OptsStamp": `jsonapi:"attr,stamp"`}})
	require.NoError(t, err)
	_, err = s.Push(`{"data": {"type": "public", "id": "1", "attributes": {"stamp": {"Updated": "today"}}}}`)
	require.NoError(t, err)
	p, ok := pub.Peek("1")
	require.True(t, ok)
	assert.Equal(t, "today", p.Updated)
}
