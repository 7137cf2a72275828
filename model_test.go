package recstore_test

import (
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type (
	noPrimary  struct{ Name string }
	twoPrimary struct {
		A string `jsonapi:"primary,x"`
		B string `jsonapi:"primary,y"`
	}
	floatPrimary struct {
		ID float64 `jsonapi:"primary,x"`
	}
	chanAttr struct {
		ID string   `jsonapi:"primary,x"`
		C  chan int `jsonapi:"attr,c"`
	}
	funcAttr struct {
		ID string `jsonapi:"primary,x"`
		F  func() `jsonapi:"attr,f"`
	}
	unknownAnnotation struct {
		ID string `jsonapi:"primary,x"`
		A  string `jsonapi:"attribute,a"`
	}
	noName struct {
		ID string `jsonapi:"primary,x"`
		A  string `jsonapi:"attr"`
	}
	dupMember struct {
		ID string `jsonapi:"primary,x"`
		A  string `jsonapi:"attr,a"`
		B  int    `jsonapi:"attr,a"`
	}
	relToNonStruct struct {
		ID string `jsonapi:"primary,x"`
		R  *int   `jsonapi:"relation,r"`
	}
	relNotPointer struct {
		ID string `jsonapi:"primary,x"`
		R  Label  `jsonapi:"relation,r"`
	}
	unexported struct {
		ID string `jsonapi:"primary,x"`
		a  string `jsonapi:"attr,a"`
	}
	badInverseTag struct {
		ID string `jsonapi:"primary,x"`
		R  *Label `jsonapi:"relation,r" recstore:"inverse"`
	}
	inverseMissing struct {
		ID string `jsonapi:"primary,x"`
		R  *Label `jsonapi:"relation,r" recstore:"inverse=nothing"`
	}
	otherAlbum struct {
		ID string `jsonapi:"primary,album"`
	}
	emptyType struct {
		ID string `jsonapi:"primary,"`
	}
	// person and pet name each other as inverses through ModelOptions.
	person struct {
		ID   string `jsonapi:"primary,person"`
		Name string `jsonapi:"attr,name"`
		Pets []*pet `jsonapi:"relation,pets"`
	}
	pet struct {
		ID    string  `jsonapi:"primary,pet"`
		Owner *person `jsonapi:"relation,owner"`
	}
	// tree relates to itself.
	tree struct {
		ID       string  `jsonapi:"primary,tree"`
		Parent   *tree   `jsonapi:"relation,parent"`
		Children []*tree `jsonapi:"relation,children" recstore:"inverse=parent"`
	}
	unsupported struct {
		ID  uint16      `jsonapi:"primary,u"`
		At  time.Time   `jsonapi:"attr,at,iso8601,omitempty"`
		Opt *bool       `jsonapi:"attr,opt,omitempty"`
		C   complex128  `jsonapi:"attr,c"`
		Arr [2]string   `jsonapi:"attr,arr"`
		Ifc interface{} `jsonapi:"attr,ifc"`
	}
)

func TestRegisterRejectsBadModels(t *testing.T) {
	tests := []struct {
		name     string
		register func(*recstore.Store) error
		field    string
	}{
		{"not a struct", func(s *recstore.Store) error { _, err := recstore.Register[string](s, nil); return err }, ""},
		{"pointer to struct", func(s *recstore.Store) error { _, err := recstore.Register[*Album](s, nil); return err }, ""},
		{"no primary", func(s *recstore.Store) error { _, err := recstore.Register[noPrimary](s, nil); return err }, ""},
		{"two primaries", func(s *recstore.Store) error { _, err := recstore.Register[twoPrimary](s, nil); return err }, "B"},
		{"float primary", func(s *recstore.Store) error { _, err := recstore.Register[floatPrimary](s, nil); return err }, "ID"},
		{"empty type name", func(s *recstore.Store) error { _, err := recstore.Register[emptyType](s, nil); return err }, "ID"},
		{"chan attribute", func(s *recstore.Store) error { _, err := recstore.Register[chanAttr](s, nil); return err }, "C"},
		{"func attribute", func(s *recstore.Store) error { _, err := recstore.Register[funcAttr](s, nil); return err }, "F"},
		{"unknown annotation", func(s *recstore.Store) error { _, err := recstore.Register[unknownAnnotation](s, nil); return err }, "A"},
		{"attr without a name", func(s *recstore.Store) error { _, err := recstore.Register[noName](s, nil); return err }, "A"},
		{"duplicate member name", func(s *recstore.Store) error { _, err := recstore.Register[dupMember](s, nil); return err }, "B"},
		{"relation to a non-struct", func(s *recstore.Store) error { _, err := recstore.Register[relToNonStruct](s, nil); return err }, "R"},
		{"relation by value", func(s *recstore.Store) error { _, err := recstore.Register[relNotPointer](s, nil); return err }, "R"},
		{"tag on an unexported field", func(s *recstore.Store) error { _, err := recstore.Register[unexported](s, nil); return err }, "a"},
		{"malformed inverse tag", func(s *recstore.Store) error { _, err := recstore.Register[badInverseTag](s, nil); return err }, "R"},
		{"inverse that does not exist", func(s *recstore.Store) error { _, err := recstore.Register[inverseMissing](s, nil); return err }, "R"},
		{"inverse option on no relationship", func(s *recstore.Store) error {
			_, err := recstore.Register[person](s, &recstore.ModelOptions{Inverses: map[string]string{"name": "owner"}})
			return err
		}, ""},
		{"duplicate type name", func(s *recstore.Store) error { _, err := recstore.Register[otherAlbum](s, nil); return err }, ""},
		{"Go type registered twice", func(s *recstore.Store) error { _, err := recstore.Register[Album](s, nil); return err }, ""},
		{"complex attribute", func(s *recstore.Store) error { _, err := recstore.Register[unsupported](s, nil); return err }, "C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _, _ := newStore(t, nil)
			before := s.Types()
			err := tt.register(s)
			require.Error(t, err)
			assert.ErrorIs(t, err, recstore.ErrInvalidModel)
			var me *recstore.ModelError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.field, me.Field, "%v", err)
			assert.Equal(t, before, s.Types(), "a failed Register changes nothing")
		})
	}
	assert.Panics(t, func() { recstore.MustRegister[noPrimary](recstore.New(nil), nil) })
}

func TestInversesDeclaredByOptions(t *testing.T) {
	s := recstore.New(nil)
	people := recstore.MustRegister[person](s, &recstore.ModelOptions{Inverses: map[string]string{"pets": "owner"}})
	pets := recstore.MustRegister[pet](s, nil)
	_, err := s.Push(`{"data": [{"type": "pet", "id": "p1", "relationships": {"owner": {"data": {"type": "person", "id": "1"}}}},
		{"type": "pet", "id": "p2", "relationships": {"owner": {"data": {"type": "person", "id": "1"}}}}],
		"included": [{"type": "person", "id": "1", "attributes": {"name": "Ann"}}]}`)
	require.NoError(t, err)
	ann, _ := people.Peek("1")
	require.Len(t, ann.Pets, 2)
	assert.Equal(t, "p1", ann.Pets[0].ID)
	p, _ := pets.Peek("p2")
	assert.Equal(t, "Ann", p.Owner.Name)

	// Registration order does not matter: the inverse links when the
	// second model arrives, whichever it is.
	s2 := recstore.New(nil)
	pets2 := recstore.MustRegister[pet](s2, nil)
	recstore.MustRegister[person](s2, &recstore.ModelOptions{Inverses: map[string]string{"pets": "owner"}})
	_, err = s2.Push(`{"data": {"type": "person", "id": "1", "relationships": {"pets": {"data": [{"type": "pet", "id": "p1"}]}}}, "included": [{"type": "pet", "id": "p1"}]}`)
	require.NoError(t, err)
	p, _ = pets2.Peek("p1")
	require.NotNil(t, p.Owner)
	assert.Equal(t, "1", p.Owner.ID)
}

func TestSelfRelationship(t *testing.T) {
	s := recstore.New(nil)
	trees := recstore.MustRegister[tree](s, nil)
	_, err := s.Push(`{"data": [{"type": "tree", "id": "root"},
		{"type": "tree", "id": "a", "relationships": {"parent": {"data": {"type": "tree", "id": "root"}}}},
		{"type": "tree", "id": "b", "relationships": {"parent": {"data": {"type": "tree", "id": "root"}}}},
		{"type": "tree", "id": "self", "relationships": {"parent": {"data": {"type": "tree", "id": "self"}}}}]}`)
	require.NoError(t, err)
	root, _ := trees.Peek("root")
	require.Len(t, root.Children, 2)
	assert.Equal(t, "a", root.Children[0].ID)
	assert.Nil(t, root.Children[0].Parent, "one level deep")
	self, _ := trees.Peek("self")
	require.NotNil(t, self.Parent)
	require.Len(t, self.Children, 1)
	assert.Equal(t, "self", self.Children[0].ID)

	require.NoError(t, trees.Unload("root"))
	a, _ := trees.Peek("a")
	assert.Nil(t, a.Parent)
	rel, _ := trees.Related("a", "parent")
	assert.True(t, rel.Empty())
}

type tagged struct {
	ID  uint16     `jsonapi:"primary,u"`
	At  time.Time  `jsonapi:"attr,at,iso8601,omitempty"`
	Opt *bool      `jsonapi:"attr,opt,omitempty"`
	Arr [2]string  `jsonapi:"attr,arr"`
	Ifc any        `jsonapi:"attr,ifc"`
	PT  *time.Time `jsonapi:"attr,pt,rfc3339"`
	CID string     `jsonapi:"client-id"`
	Not string     // untagged fields are left alone
}

func TestModelAcceptsTagOptions(t *testing.T) {
	s := recstore.New(nil)
	tags := recstore.MustRegister[tagged](s, nil)
	_, err := s.Push(`{"data": {"type": "u", "id": 65535, "attributes": {"at": "2020-01-02T03:04:05+01:00", "opt": false,
		"arr": ["a", "b"], "ifc": 1, "Not": "x", "CID": "y"}}}`)
	require.NoError(t, err)
	v, ok := tags.Peek("65535")
	require.True(t, ok)
	assert.Equal(t, uint16(65535), v.ID)
	assert.True(t, v.At.Equal(time.Date(2020, 1, 2, 2, 4, 5, 0, time.UTC)))
	require.NotNil(t, v.Opt)
	assert.False(t, *v.Opt)
	assert.Equal(t, [2]string{"a", "b"}, v.Arr)
	assert.Equal(t, 1.0, v.Ifc)
	assert.Nil(t, v.PT)
	assert.Empty(t, v.Not)
	assert.Empty(t, v.CID)

	_, err = s.Push(`{"data": {"type": "u", "id": 65536}}`)
	assert.ErrorIs(t, err, recstore.ErrInvalidDocument, "the id overflows uint16")
}

// A Key relation's inverse must be declared on both sides, whichever model
// is registered first: otherwise links would stay in step one way only.
func TestRegisterKeyInverseBothSides(t *testing.T) {
	for _, ownerFirst := range []bool{true, false} {
		s := recstore.New(nil)
		var err error
		if ownerFirst {
			recstore.MustRegister[keyOwner](s, nil)
			_, err = recstore.Register[keyOwned](s, nil)
		} else {
			recstore.MustRegister[keyOwned](s, nil)
			_, err = recstore.Register[keyOwner](s, nil)
		}
		var me *recstore.ModelError
		require.ErrorAs(t, err, &me, "owner first: %v", ownerFirst)
		assert.ErrorIs(t, err, recstore.ErrInvalidModel)
		assert.Equal(t, "Bs", me.Field)
		assert.Len(t, s.Types(), 1, "the failed model is not registered")
	}
}

// keyOwner declares an inverse on a Key relation; keyOwned's side is a Key
// relation that does not name it back, which Register must refuse.
type keyOwner struct {
	ID string         `jsonapi:"primary,key-owner"`
	Bs []recstore.Key `jsonapi:"relation,bs" recstore:"inverse=owner"`
}

type keyOwned struct {
	ID    string       `jsonapi:"primary,key-owned"`
	Owner recstore.Key `jsonapi:"relation,owner"`
}
