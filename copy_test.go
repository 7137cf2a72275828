package recstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyRec has an attribute of every kind that holds memory: math/big
// values (unexported slices), a user type with unexported state and a
// Clone method, slices, maps and JSON values, and pointer relations whose
// records hold the same.
type copyRec struct {
	ID     string           `jsonapi:"primary,copyrec"`
	Big    big.Int          `jsonapi:"attr,big"`
	BigP   *big.Int         `jsonapi:"attr,bigp"`
	Float  big.Float        `jsonapi:"attr,float"`
	Rat    *big.Rat         `jsonapi:"attr,rat"`
	Bigs   []*big.Int       `jsonapi:"attr,bigs"`
	Vec    vec              `jsonapi:"attr,vec"`
	Tags   []string         `jsonapi:"attr,tags"`
	Meta   map[string]any   `jsonapi:"attr,meta"`
	Any    any              `jsonapi:"attr,any"`
	Nested copyNested       `jsonapi:"attr,nested"`
	When   time.Time        `jsonapi:"attr,when"`
	Addr   netip.Addr       `jsonapi:"attr,addr"`
	Owner  *copyOwner       `jsonapi:"relation,owner"`
	Parts  []*copyOwner     `jsonapi:"relation,parts"`
	Ref    recstore.Key     `jsonapi:"relation,ref"`
	Refs   []recstore.Key   `jsonapi:"relation,refs"`
	ByName map[string][]int `jsonapi:"attr,byName"`
}

type copyNested struct {
	N    *big.Int
	List []map[string]*big.Int
}

type copyOwner struct {
	ID   string   `jsonapi:"primary,copyowner"`
	Big  *big.Int `jsonapi:"attr,big"`
	Tags []string `jsonapi:"attr,tags"`
}

// vec keeps its numbers unexported, as math/big does, and copies them in
// Clone.
type vec struct{ xs []int }

func (v *vec) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &v.xs) }
func (v vec) Clone() vec                    { return vec{slices.Clone(v.xs)} }
func (v vec) set(i, x int)                  { v.xs[i] = x }

const copyDoc = `{"data":{"type":"copyrec","id":"1","attributes":{
	"big":123456789012345678901234567890,"bigp":-98765432109876543210987654321,
	"float":"1.5","rat":"1/3","bigs":[1,22222222222222222222222],"vec":[1,2,3],
	"tags":["a","b"],"meta":{"n":{"a":1},"l":[1,[2]]},"any":[{"a":[1]},"s"],
	"nested":{"N":7,"List":[{"x":8}]},"when":"2020-01-02T03:04:05+02:00",
	"addr":"fe80::1%eth0","byName":{"a":[1,2]}},
	"relationships":{"owner":{"data":{"type":"copyowner","id":"o"}},
	"parts":{"data":[{"type":"copyowner","id":"o"}]},
	"ref":{"data":{"type":"copyowner","id":"o"}},"refs":{"data":[{"type":"copyowner","id":"o"}]}}},
	"included":[{"type":"copyowner","id":"o","attributes":{"big":5,"tags":["t"]}}]}`

// mutate changes everything r holds, in place where it can: math/big
// values through their setters, which reuse the words they hold.
func mutate(t *testing.T, r *copyRec) {
	t.Helper()
	require.NotNil(t, r.BigP)
	require.NotNil(t, r.Rat)
	require.NotNil(t, r.Owner, "the owner relation is filled")
	require.Len(t, r.Parts, 1)
	require.Len(t, r.Bigs, 2)
	require.Len(t, r.Refs, 1)
	r.Big.SetInt64(-1)
	r.BigP.SetInt64(-2)
	r.Float.SetInt64(-3)
	r.Rat.SetInt64(-4)
	r.Bigs[0].SetInt64(-5)
	r.Bigs[1].SetInt64(-6)
	r.Vec.set(0, -7)
	r.Tags[0] = "changed"
	r.Meta["n"].(map[string]any)["a"] = "changed"
	r.Meta["l"].([]any)[1].([]any)[0] = "changed"
	r.Meta["new"] = 1
	r.Any.([]any)[0].(map[string]any)["a"].([]any)[0] = "changed"
	r.Nested.N.SetInt64(-8)
	r.Nested.List[0]["x"].SetInt64(-9)
	r.Nested.List[0]["y"] = big.NewInt(1)
	r.ByName["a"][0] = -10
	r.Owner.Big.SetInt64(-11)
	r.Owner.Tags[0] = "changed"
	r.Parts[0].Big.SetInt64(-12)
	r.Parts[0].Tags[0] = "changed"
	r.Refs[0].ID = "changed"
}

func newCopyStore(t *testing.T) (*recstore.Store, *recstore.Model[copyRec]) {
	t.Helper()
	s := recstore.New(nil)
	m, err := recstore.Register[copyRec](s, nil)
	require.NoError(t, err)
	recstore.MustRegister[copyOwner](s, nil)
	_, err = s.Push(copyDoc)
	require.NoError(t, err)
	return s, m
}

// TestModel_ReadsAreCopies mutates what each read path returns, math/big
// internals included, and checks that the Store did not change.
func TestModel_ReadsAreCopies(t *testing.T) {
	_, pristine := newCopyStore(t)
	want, ok := pristine.Peek("1")
	require.True(t, ok)
	require.Equal(t, "123456789012345678901234567890", want.Big.String())

	tests := []struct {
		name string
		read func(t *testing.T, s *recstore.Store, m *recstore.Model[copyRec]) copyRec
	}{
		{"Model.Peek", func(t *testing.T, _ *recstore.Store, m *recstore.Model[copyRec]) copyRec {
			r, ok := m.Peek("1")
			require.True(t, ok)
			return r
		}},
		{"Store.Peek", func(t *testing.T, s *recstore.Store, _ *recstore.Model[copyRec]) copyRec {
			r, ok := s.Peek(recstore.Key{Type: "copyrec", ID: "1"})
			require.True(t, ok)
			return r.(copyRec)
		}},
		{"Model.Push", func(t *testing.T, _ *recstore.Store, m *recstore.Model[copyRec]) copyRec {
			rs, err := m.Push(copyDoc)
			require.NoError(t, err)
			require.Len(t, rs, 1)
			return rs[0]
		}},
		{"Model.PushPayload", func(t *testing.T, _ *recstore.Store, m *recstore.Model[copyRec]) copyRec {
			rs, err := m.PushPayload(copyDoc)
			require.NoError(t, err)
			require.Len(t, rs, 1)
			return rs[0]
		}},
		{"Store.Snapshot", func(t *testing.T, s *recstore.Store, m *recstore.Model[copyRec]) copyRec {
			snap, ok := s.Snapshot(recstore.Key{Type: "copyrec", ID: "1"})
			require.True(t, ok)
			r := snap.Value().(copyRec)
			// A Snapshot leaves pointer relations nil: fill them from
			// another read so that mutate finds them.
			other, _ := m.Peek("1")
			r.Owner, r.Parts = other.Owner, other.Parts
			return r
		}},
		{"Model.All", func(t *testing.T, _ *recstore.Store, m *recstore.Model[copyRec]) copyRec {
			for _, r := range m.All() {
				return r
			}
			t.Fatal("All yielded nothing")
			return copyRec{}
		}},
		{"Model.Find", func(t *testing.T, _ *recstore.Store, m *recstore.Model[copyRec]) copyRec {
			r, err := m.Find(context.Background(), "1", nil)
			require.NoError(t, err)
			return r
		}},
		{"Store.Find", func(t *testing.T, s *recstore.Store, _ *recstore.Model[copyRec]) copyRec {
			r, err := s.Find(context.Background(), recstore.Key{Type: "copyrec", ID: "1"}, nil)
			require.NoError(t, err)
			return r.(copyRec)
		}},
		{"Model.FindAll", func(t *testing.T, _ *recstore.Store, m *recstore.Model[copyRec]) copyRec {
			rs, err := m.FindAll(context.Background(), nil)
			require.NoError(t, err)
			require.Len(t, rs, 1)
			return rs[0]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, m := newCopyStore(t)
			before := recstore.Dump(s)
			got := tt.read(t, s, m)
			require.Equal(t, want, got, "%s returned something else than the record pushed", tt.name)
			mutate(t, &got)
			now, ok := m.Peek("1")
			require.True(t, ok)
			assert.Equal(t, want, now, "changing what %s returned changed the Store", tt.name)
			assert.Equal(t, before, recstore.Dump(s), "changing what %s returned changed the Store", tt.name)
		})
	}
}

// TestStore_PushInputNotShared changes what was pushed, after the push:
// JSON text and a Document holding Go values.
func TestStore_PushInputNotShared(t *testing.T) {
	_, pristine := newCopyStore(t)
	want, _ := pristine.Peek("1")

	t.Run("bytes", func(t *testing.T) {
		s, m := newCopyStore(t)
		doc := []byte(copyDoc)
		_, err := s.Push(doc)
		require.NoError(t, err)
		for i := range doc {
			doc[i] = '0'
		}
		now, _ := m.Peek("1")
		assert.Equal(t, want, now, "changing the pushed bytes changed the Store")
	})
	t.Run("Document", func(t *testing.T) {
		s, m := newCopyStore(t)
		bigp := big.NewInt(-3)
		meta := map[string]any{"n": map[string]any{"a": 1.0}}
		bigs := []*big.Int{big.NewInt(1)}
		_, err := s.Push(&recstore.Document{Data: []*recstore.Resource{{
			Type: "copyrec", ID: "1",
			Attributes: map[string]any{"bigp": bigp, "meta": meta, "bigs": bigs},
		}}})
		require.NoError(t, err)
		before, _ := m.Peek("1")
		bigp.SetInt64(100)
		meta["n"].(map[string]any)["a"] = "changed"
		bigs[0].SetInt64(100)
		now, _ := m.Peek("1")
		assert.Equal(t, before, now, "changing the pushed Document changed the Store")
		assert.Equal(t, "-3", now.BigP.String())
	})
}

// Attribute types for TestRegister_HiddenState.
type (
	hiddenSlice struct{ xs []int }
	hiddenMap   struct{ m map[string]int }
	hiddenAny   struct{ v any }
	hiddenPtr   struct {
		Shown int
		p     *int
	}
	// valueOnly has unexported state, but none that a copy would share.
	valueOnly struct {
		n    int
		name string
		arr  [2]float64
	}
	// embeddedShown reaches its slice through an embedded struct's
	// exported field, as encoding/json decodes it.
	embeddedShown struct{ shown }
	shown         struct{ Xs []int }
	withHidden    struct {
		Inner hiddenSlice
	}
	hiddenWithClone struct{ xs []int }
	hiddenPtrClone  struct{ xs []int }
	hiddenWithCopy  struct{ xs []int } // as decimal types spell Clone
)

func (h *hiddenSlice) UnmarshalJSON(b []byte) error     { return json.Unmarshal(b, &h.xs) }
func (h *hiddenMap) UnmarshalJSON(b []byte) error       { return json.Unmarshal(b, &h.m) }
func (h *hiddenAny) UnmarshalJSON(b []byte) error       { return json.Unmarshal(b, &h.v) }
func (h *hiddenPtr) UnmarshalJSON([]byte) error         { return nil }
func (v *valueOnly) UnmarshalJSON([]byte) error         { return nil }
func (h *hiddenWithClone) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &h.xs) }
func (h hiddenWithClone) Clone() hiddenWithClone        { return hiddenWithClone{slices.Clone(h.xs)} }
func (h *hiddenPtrClone) UnmarshalJSON(b []byte) error  { return json.Unmarshal(b, &h.xs) }
func (h *hiddenPtrClone) Clone() *hiddenPtrClone        { return &hiddenPtrClone{slices.Clone(h.xs)} }
func (h *hiddenWithCopy) UnmarshalJSON(b []byte) error  { return json.Unmarshal(b, &h.xs) }
func (h hiddenWithCopy) Copy() hiddenWithCopy           { return hiddenWithCopy{slices.Clone(h.xs)} }

type hiddenModel[A any] struct {
	ID string `jsonapi:"primary,hidden"`
	A  A      `jsonapi:"attr,a"`
}

// TestRegister_HiddenState: a type whose unexported fields hold memory a
// copy would share is refused with a *ModelError naming the field, unless
// it has a Clone method; math/big, time and netip types are accepted.
func TestRegister_HiddenState(t *testing.T) {
	tests := []struct {
		name     string
		register func(*recstore.Store) error
		wantErr  bool
		reason   string
	}{
		{"slice", reg[hiddenModel[hiddenSlice]], true, "unexported slice"},
		{"map", reg[hiddenModel[hiddenMap]], true, "unexported map"},
		{"interface", reg[hiddenModel[hiddenAny]], true, "unexported interface"},
		{"pointer", reg[hiddenModel[hiddenPtr]], true, "unexported pointer next to an exported field"},
		{"nested", reg[hiddenModel[withHidden]], true, "hidden state in an exported field's type"},
		{"slice of", reg[hiddenModel[[]hiddenSlice]], true, "elements with hidden state"},
		{"pointer to", reg[hiddenModel[*hiddenSlice]], true, "pointer to hidden state"},
		{"map of", reg[hiddenModel[map[string]hiddenMap]], true, "map values with hidden state"},
		{"value only", reg[hiddenModel[valueOnly]], false, "unexported fields without pointers copy by value"},
		{"embedded", reg[hiddenModel[embeddedShown]], false, "an embedded struct's exported fields are copied"},
		{"Clone", reg[hiddenModel[hiddenWithClone]], false, "Clone() T copies it"},
		{"pointer Clone", reg[hiddenModel[[]*hiddenPtrClone]], false, "Clone() *T copies it"},
		{"Copy", reg[hiddenModel[hiddenWithCopy]], false, "Copy() T copies it"},
		{"type met twice", reg[hiddenModel[stringThenMap]], false, "string as a field, then as a map key"},
		{"big.Int", reg[hiddenModel[big.Int]], false, "known type"},
		{"*big.Float", reg[hiddenModel[*big.Float]], false, "known type"},
		{"[]big.Rat", reg[hiddenModel[[]big.Rat]], false, "known type"},
		{"time.Time", reg[hiddenModel[time.Time]], false, "immutable"},
		{"netip.Prefix", reg[hiddenModel[netip.Prefix]], false, "immutable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.register(recstore.New(nil))
			if !tt.wantErr {
				require.NoError(t, err, tt.reason)
				return
			}
			require.ErrorIs(t, err, recstore.ErrInvalidModel, tt.reason)
			var me *recstore.ModelError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, "A", me.Field, "the error names the attribute's field")
			assert.Contains(t, me.Msg, "Clone", "the error says how to fix it")
		})
	}
}

func reg[T any](s *recstore.Store) error {
	_, err := recstore.Register[T](s, nil)
	return err
}

// TestModel_CloneMethod checks that a type's own Clone makes the copies:
// a Clone() *T on a pointer element, and a Clone() T.
func TestModel_CloneMethod(t *testing.T) {
	s := recstore.New(nil)
	m := recstore.MustRegister[hiddenModel[[]*hiddenPtrClone]](s, nil)
	_, err := s.Push(`{"data":{"type":"hidden","id":"1","attributes":{"a":[[1,2],null]}}}`)
	require.NoError(t, err)
	got, _ := m.Peek("1")
	require.Len(t, got.A, 2)
	assert.Nil(t, got.A[1], "a nil element stays nil")
	got.A[0].xs[0] = -1
	again, _ := m.Peek("1")
	assert.Equal(t, []int{1, 2}, again.A[0].xs, "changing a Clone()d copy changed the Store")

	c := recstore.MustRegister[hiddenModel[hiddenWithCopy]](recstore.New(nil), nil)
	_, err = c.Push(`{"data":{"type":"hidden","id":"1","attributes":{"a":[1,2]}}}`)
	require.NoError(t, err)
	v, _ := c.Peek("1")
	v.A.xs[0] = -1
	v, _ = c.Peek("1")
	assert.Equal(t, []int{1, 2}, v.A.xs, "changing a Copy()d copy changed the Store")
}

type jsonValues struct {
	ID  string         `jsonapi:"primary,jv"`
	Any any            `jsonapi:"attr,any"`
	Arr []any          `jsonapi:"attr,arr"`
	Obj map[string]any `jsonapi:"attr,obj"`
}

var jsonValueSeeds = []string{
	`null`, `true`, `false`, `0`, `-0`, `1.5e3`, `-12345678901234567890`, `1e400`, `1e-400`,
	`""`, `"a\"b\\c\u00e9\ud83d\ude00"`, "\"\xff\"", `"\ud800"`,
	`[]`, `{}`, `[{}]`, `[[],[[]],{"a":[]}]`, ` [ 1 , "x" , null , true , { "k" : [ 2 ] } ] `,
	`{"a":1,"a":2}`, `{"a":{"b":{"c":[1,{"d":null}]}},"e":[{"f":"g"},[]]}`, `[1,[2,[3,[4]]],{"x":[5,{"y":6}]}]`,
	`{"":0,"\u0000":1}`,
}

// pushJSONValue pushes v as each of jsonValues' attributes and returns what
// they read back, or the push's error for each.
func pushJSONValue(t *testing.T, v string) (got [3]any, errs [3]error) {
	s := recstore.New(nil)
	m := recstore.MustRegister[jsonValues](s, nil)
	for i, attr := range []string{"any", "arr", "obj"} {
		_, errs[i] = s.Push(`{"data":{"type":"jv","id":"1","attributes":{"` + attr + `":` + v + `}}}`)
		if errs[i] != nil {
			continue
		}
		r, _ := m.Peek("1")
		got[i] = []any{r.Any, r.Arr, r.Obj}[i]
	}
	return got, errs
}

// checkJSONValue compares what the Store decodes into any, []any and
// map[string]any with what encoding/json does.
func checkJSONValue(t *testing.T, v string) {
	got, errs := pushJSONValue(t, v)
	var want [3]any
	var wantErrs [3]error
	var a any
	var arr []any
	var obj map[string]any
	wantErrs[0] = json.Unmarshal([]byte(v), &a)
	wantErrs[1] = json.Unmarshal([]byte(v), &arr)
	wantErrs[2] = json.Unmarshal([]byte(v), &obj)
	want[0], want[1], want[2] = a, arr, obj
	for i := range want {
		if errs[i] != nil {
			if errors.Is(errs[i], recstore.ErrDuplicateMember) || errors.As(errs[i], new(*recstore.LimitError)) {
				continue // the Store's own rules, stricter than encoding/json's
			}
			assert.Error(t, wantErrs[i], "%s into attribute %d: the Store failed (%v), encoding/json did not", v, i, errs[i])
			continue
		}
		if assert.NoError(t, wantErrs[i], "%s into attribute %d: encoding/json failed, the Store did not", v, i) {
			assert.Equal(t, want[i], got[i], "%s into attribute %d", v, i)
		}
	}
}

// TestPush_JSONValuesAsEncodingJSON: any, []any and map[string]any decode
// as encoding/json decodes them, though the Store has its own decoder.
func TestPush_JSONValuesAsEncodingJSON(t *testing.T) {
	for _, v := range jsonValueSeeds {
		checkJSONValue(t, v)
	}
}

func FuzzJSONValues(f *testing.F) {
	for _, v := range jsonValueSeeds {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !json.Valid([]byte(v)) {
			return
		}
		checkJSONValue(t, v)
	})
}

// stringThenMap meets string twice while its cloner is built: as a field
// and as a map key.
type stringThenMap struct {
	A string
	M map[string]int
}

// jsonTree reaches itself through a slice and a pointer.
type jsonTree struct {
	Name string
	Big  *big.Int
	Kids []jsonTree
	Next *jsonTree
}

// TestModel_RecursiveAttributeCopied: a recursive attribute type is
// copied to every depth.
func TestModel_RecursiveAttributeCopied(t *testing.T) {
	s := recstore.New(nil)
	m := recstore.MustRegister[hiddenModel[jsonTree]](s, nil)
	_, err := s.Push(`{"data":{"type":"hidden","id":"1","attributes":{"a":
		{"Name":"root","Big":1,"Kids":[{"Name":"kid","Big":2,"Kids":[{"Name":"grandkid","Big":3}]}],
		 "Next":{"Name":"next","Next":{"Name":"last","Big":4}}}}}}`)
	require.NoError(t, err)
	want, _ := m.Peek("1")
	got, _ := m.Peek("1")
	require.Len(t, got.A.Kids, 1)
	require.Len(t, got.A.Kids[0].Kids, 1)
	require.NotNil(t, got.A.Next)
	require.NotNil(t, got.A.Next.Next)
	got.A.Kids[0].Kids[0].Big.SetInt64(-1)
	got.A.Kids[0].Kids[0].Name = "changed"
	got.A.Next.Next.Big.SetInt64(-1)
	got.A.Next.Next.Name = "changed"
	now, _ := m.Peek("1")
	assert.Equal(t, want, now, "changing a deep copy changed the Store")
	assert.Equal(t, "3", now.A.Kids[0].Kids[0].Big.String())
	assert.Equal(t, "grandkid", now.A.Kids[0].Kids[0].Name)
	assert.Equal(t, "4", now.A.Next.Next.Big.String())
	assert.Equal(t, "last", now.A.Next.Next.Name)
}

// TestModel_ZeroBigValuesCopyEqual: an attribute a push never set reads
// back equal to its zero value (big.Rat's Set would give it a denominator).
func TestModel_ZeroBigValuesCopyEqual(t *testing.T) {
	type zeros struct {
		ID    string    `jsonapi:"primary,zeros"`
		Rat   big.Rat   `jsonapi:"attr,rat"`
		Int   big.Int   `jsonapi:"attr,int"`
		Float big.Float `jsonapi:"attr,float"`
	}
	s := recstore.New(nil)
	m := recstore.MustRegister[zeros](s, nil)
	_, err := s.Push(`{"data":{"type":"zeros","id":"1"}}`)
	require.NoError(t, err)
	got, _ := m.Peek("1")
	assert.Equal(t, zeros{ID: "1"}, got)
}
