package recstore_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference's polymorphic case: a user's handles are GitHub and
// Twitter handles, each pointing back to its user.

type Handle interface{ Handle() string }

type handleUser struct {
	ID      string   `jsonapi:"primary,user"`
	Name    string   `jsonapi:"attr,name"`
	Handles []Handle `jsonapi:"relation,handles" recstore:"inverse=user"`
	Main    Handle   `jsonapi:"relation,main"`
}

type ghHandle struct {
	ID       string      `jsonapi:"primary,github-handle"`
	Username string      `jsonapi:"attr,username"`
	User     *handleUser `jsonapi:"relation,user"`
}

func (h *ghHandle) Handle() string { return "github:" + h.Username }

// twHandle implements Handle with a value receiver: reads still give
// a *twHandle.
type twHandle struct {
	ID   string      `jsonapi:"primary,twitter-handle"`
	Nick string      `jsonapi:"attr,nick"`
	User *handleUser `jsonapi:"relation,user"`
}

func (h twHandle) Handle() string { return "@" + h.Nick }

func newHandleStore(t *testing.T) (*recstore.Store, *recstore.Model[handleUser]) {
	t.Helper()
	s := recstore.New(nil)
	users, err := recstore.Register[handleUser](s, nil)
	require.NoError(t, err)
	_, err = recstore.Register[ghHandle](s, nil)
	require.NoError(t, err)
	_, err = recstore.Register[twHandle](s, nil)
	require.NoError(t, err)
	recstore.MustRegister[Album](s, nil)
	return s, users
}

const userDoc = `{"data": {"type": "user", "id": "1", "attributes": {"name": "Ann"},
	"relationships": {
		"handles": {"data": [{"type": "github-handle", "id": "1"}, {"type": "twitter-handle", "id": "2"}]},
		"main": {"data": {"type": "twitter-handle", "id": "2"}}}},
	"included": [
		{"type": "github-handle", "id": "1", "attributes": {"username": "ann"}},
		{"type": "twitter-handle", "id": "2", "attributes": {"nick": "annie"}}]}`

func handleNames(hs []Handle) []string {
	var out []string
	for _, h := range hs {
		switch h := h.(type) {
		case *ghHandle:
			out = append(out, "gh "+h.ID+" "+h.Handle())
		case *twHandle:
			out = append(out, "tw "+h.ID+" "+h.Handle())
		default:
			out = append(out, fmt.Sprintf("%T", h))
		}
	}
	return out
}

func TestPolymorphic_Read(t *testing.T) {
	s, users := newHandleStore(t)
	_, err := s.Push(userDoc)
	require.NoError(t, err)

	u, ok := users.Peek("1")
	require.True(t, ok)
	assert.Equal(t, []string{"gh 1 github:ann", "tw 2 @annie"}, handleNames(u.Handles), "Peek fills []Handle with a *S per member, in order")
	require.IsType(t, &twHandle{}, u.Main, "a to-one interface field holds a *S")
	assert.Equal(t, "@annie", u.Main.Handle())
	assert.Nil(t, u.Handles[0].(*ghHandle).User, "reads fill one level deep")

	// Every read is the caller's own copy.
	u.Handles[0].(*ghHandle).Username = "changed"
	u.Main.(*twHandle).Nick = "changed"
	again, _ := users.Peek("1")
	assert.Equal(t, []string{"gh 1 github:ann", "tw 2 @annie"}, handleNames(again.Handles), "changing a read's members changed the store")
	assert.NotSame(t, again.Handles[1], again.Main, "one record related twice in a read is copied twice")

	// The type-erased reads and Related work as for any relation.
	v, ok := s.Peek(recstore.Key{Type: "user", ID: "1"})
	require.True(t, ok)
	assert.Equal(t, []string{"gh 1 github:ann", "tw 2 @annie"}, handleNames(v.(handleUser).Handles))
	rel, ok := s.Related(recstore.Key{Type: "user", ID: "1"}, "handles")
	require.True(t, ok)
	assert.Equal(t, []recstore.Key{{Type: "github-handle", ID: "1"}, {Type: "twitter-handle", ID: "2"}}, rel.Keys)
	assert.Equal(t, "user", rel.Inverse)
	assert.False(t, rel.InverseMany)

	// A member the store does not hold is left out of reads, and Related
	// names it.
	_, err = s.Push(`{"data": {"type": "user", "id": "1", "relationships": {"handles": {"data": [
		{"type": "github-handle", "id": "9"}, {"type": "github-handle", "id": "1"}]}}}}`)
	require.NoError(t, err)
	u, _ = users.Peek("1")
	assert.Equal(t, []string{"gh 1 github:ann"}, handleNames(u.Handles))
	rel, _ = users.Related("1", "handles")
	assert.Equal(t, []recstore.Key{{Type: "github-handle", ID: "9"}}, rel.NotLoaded)

	var all []string
	for _, u := range users.All() {
		all = append(all, handleNames(u.Handles)...)
	}
	assert.Equal(t, []string{"gh 1 github:ann"}, all)
	require.NoError(t, recstore.CheckInverses(s))
}

func TestPolymorphic_PushErrors(t *testing.T) {
	tests := []struct {
		name, doc   string
		wantErr     error
		wantPointer string
	}{
		{
			name:        "a registered model that does not implement the interface",
			doc:         `{"data": {"type": "user", "id": "1", "relationships": {"handles": {"data": [{"type": "github-handle", "id": "1"}, {"type": "album", "id": "1"}]}}}}`,
			wantErr:     recstore.ErrInvalidDocument,
			wantPointer: "/data/relationships/handles/data/1/type",
		},
		{
			name:        "to-one",
			doc:         `{"data": {"type": "user", "id": "1", "relationships": {"main": {"data": {"type": "user", "id": "2"}}}}}`,
			wantErr:     recstore.ErrInvalidDocument,
			wantPointer: "/data/relationships/main/data/type",
		},
		{
			name:        "in included",
			doc:         `{"data": null, "included": [{"type": "github-handle", "id": "1"}, {"type": "user", "id": "1", "relationships": {"handles": {"data": [{"type": "album", "id": "1"}]}}}]}`,
			wantErr:     recstore.ErrInvalidDocument,
			wantPointer: "/included/1/relationships/handles/data/0/type",
		},
		{
			name:        "an unknown type",
			doc:         `{"data": {"type": "user", "id": "1", "relationships": {"handles": {"data": [{"type": "mastodon-handle", "id": "1"}]}}}}`,
			wantErr:     recstore.ErrUnknownType,
			wantPointer: "/data/relationships/handles/data/0/type",
		},
		{
			name:        "a concrete side pointing at a non-user",
			doc:         `{"data": {"type": "github-handle", "id": "1", "relationships": {"user": {"data": {"type": "twitter-handle", "id": "2"}}}}}`,
			wantErr:     recstore.ErrInvalidDocument,
			wantPointer: "/data/relationships/user/data/type",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newHandleStore(t)
			_, err := s.Push(userDoc)
			require.NoError(t, err)
			before := recstore.Dump(s)
			_, err = s.Push(tt.doc)
			require.ErrorIs(t, err, tt.wantErr, "push %s", tt.doc)
			var de *recstore.DocumentError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.wantPointer, de.Pointer)
			requireUnchanged(t, s, before)

			// The same document as a Document value fails the same way.
			doc, err := (&recstore.JSONAPISerializer{}).Normalize(s, "", []byte(tt.doc))
			if err != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			_, err = s.Push(doc)
			require.ErrorIs(t, err, tt.wantErr)
			requireUnchanged(t, s, before)
		})
	}
}

func TestPolymorphic_Inverses(t *testing.T) {
	// The inverse declared on the owner (the user's tag), on the concrete side
	// (a tag there), or through ModelOptions.Inverses on either.
	tests := []struct {
		name     string
		register []func(*recstore.Store) error
	}{
		{"owner's tag", []func(*recstore.Store) error{regWith[handleUser](nil), regWith[ghHandle](nil), regWith[twHandle](nil)}},
		{"owner's tag, implementers first", []func(*recstore.Store) error{regWith[twHandle](nil), regWith[ghHandle](nil), regWith[handleUser](nil)}},
		{"owner's ModelOptions", []func(*recstore.Store) error{
			regWith[plainOwner](&recstore.ModelOptions{Inverses: map[string]string{"handles": "user"}}), regWith[plainGH](nil), regWith[plainTW](nil)}},
		{"concrete sides' ModelOptions", []func(*recstore.Store) error{
			regWith[plainGH](backOpts), regWith[plainOwner](nil), regWith[plainTW](backOpts)}},
		{"one concrete side's tag implies the rest", []func(*recstore.Store) error{
			regWith[plainOwner](nil), regWith[taggedGH](nil), regWith[plainTW](nil)}},
		{"one concrete side's tag, registered last", []func(*recstore.Store) error{
			regWith[plainOwner](nil), regWith[plainTW](nil), regWith[taggedGH](nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := recstore.New(nil)
			require.NoError(t, registerInOrder(s, tt.register...))
			user := recstore.Key{Type: "user", ID: "1"}
			gh := recstore.Key{Type: "github-handle", ID: "1"}
			tw := recstore.Key{Type: "twitter-handle", ID: "2"}

			_, err := s.Push(`{"data": {"type": "user", "id": "1", "relationships": {"handles": {"data": [
				{"type": "github-handle", "id": "1"}, {"type": "twitter-handle", "id": "2"}]}}},
				"included": [{"type": "github-handle", "id": "1"}, {"type": "twitter-handle", "id": "2"}]}`)
			require.NoError(t, err)
			for _, k := range []recstore.Key{gh, tw} {
				rel, ok := s.Related(k, "user")
				require.True(t, ok)
				assert.Equal(t, []recstore.Key{user}, rel.Keys, "%v's user after pushing the user's handles", k)
				assert.Equal(t, "handles", rel.Inverse)
				assert.True(t, rel.InverseMany)
			}
			rel, _ := s.Related(user, "handles")
			assert.Equal(t, "user", rel.Inverse)

			// The concrete side moves a handle to another user.
			_, err = s.Push(`{"data": {"type": "twitter-handle", "id": "2", "relationships": {"user": {"data": {"type": "user", "id": "2"}}}}}`)
			require.NoError(t, err)
			rel, _ = s.Related(user, "handles")
			assert.Equal(t, []recstore.Key{gh}, rel.Keys, "user 1 keeps only the handle that did not move")
			_, err = s.Push(`{"data": {"type": "user", "id": "2"}}`)
			require.NoError(t, err)
			rel, _ = s.Related(recstore.Key{Type: "user", ID: "2"}, "handles")
			assert.Equal(t, []recstore.Key{tw}, rel.Keys, "user 2 gains the handle that moved")

			assert.NoError(t, s.Unload(gh))
			rel, _ = s.Related(user, "handles")
			assert.Empty(t, rel.Keys, "unloading a handle leaves its user's handles")
			require.NoError(t, recstore.CheckInverses(s))
		})
	}
}

var backOpts = &recstore.ModelOptions{Inverses: map[string]string{"user": "handles"}}

// Models of the reference's case with no inverse tags, for ModelOptions.

type plainOwner struct {
	ID      string   `jsonapi:"primary,user"`
	Handles []Handle `jsonapi:"relation,handles"`
}

type plainGH struct {
	ID   string      `jsonapi:"primary,github-handle"`
	User *plainOwner `jsonapi:"relation,user"`
}

func (h *plainGH) Handle() string { return "gh" }

type taggedGH struct {
	ID   string      `jsonapi:"primary,github-handle"`
	User *plainOwner `jsonapi:"relation,user" recstore:"inverse=handles"`
}

func (h *taggedGH) Handle() string { return "gh" }

type plainTW struct {
	ID   string      `jsonapi:"primary,twitter-handle"`
	User *plainOwner `jsonapi:"relation,user"`
}

func (h *plainTW) Handle() string { return "tw" }

func TestPolymorphic_ImplementerRegisteredLater(t *testing.T) {
	s := recstore.New(nil)
	users := recstore.MustRegister[handleUser](s, nil)
	before := recstore.Dump(s)
	// As for a *S field whose S has no model yet: the push names a type
	// the Store does not know, so it fails and changes nothing.
	_, err := s.Push(userDoc)
	require.ErrorIs(t, err, recstore.ErrUnknownType)
	requireUnchanged(t, s, before)

	recstore.MustRegister[ghHandle](s, nil)
	recstore.MustRegister[twHandle](s, nil)
	_, err = s.Push(userDoc)
	require.NoError(t, err)
	u, _ := users.Peek("1")
	assert.Equal(t, []string{"gh 1 github:ann", "tw 2 @annie"}, handleNames(u.Handles))
	require.NoError(t, recstore.CheckInverses(s))
}

func TestPolymorphic_RegisterErrors(t *testing.T) {
	type AnyRel struct {
		ID   string `jsonapi:"primary,any-rel"`
		Rels []any  `jsonapi:"relation,rels"`
	}
	tests := []struct {
		name      string
		register  []func(*recstore.Store) error
		wantField string
	}{
		{"empty interface", []func(*recstore.Store) error{regWith[AnyRel](nil)}, "Rels"},
		{"implementer without the inverse, registered last", []func(*recstore.Store) error{regWith[handleUser](nil), regWith[noBack](nil)}, "Handles"},
		{"implementer without the inverse, registered first", []func(*recstore.Store) error{regWith[noBack](nil), regWith[handleUser](nil)}, "Handles"},
		{"inverse relating to another model", []func(*recstore.Store) error{regWith[Album](nil), regWith[wrongBack](nil), regWith[handleUser](nil)}, "Handles"},
		{"inverse naming another inverse", []func(*recstore.Store) error{regWith[handleUser](nil), regWith[otherInverse](nil)}, "Handles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := recstore.New(nil)
			var err error
			for _, r := range tt.register {
				if err = r(s); err != nil {
					break
				}
			}
			require.ErrorIs(t, err, recstore.ErrInvalidModel)
			var me *recstore.ModelError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.wantField, me.Field, "error: %v", err)
		})
	}
}

type noBack struct {
	ID string `jsonapi:"primary,no-back"`
}

func (noBack) Handle() string { return "" }

type wrongBack struct {
	ID   string `jsonapi:"primary,wrong-back"`
	User *Album `jsonapi:"relation,user"`
}

func (*wrongBack) Handle() string { return "" }

type otherInverse struct {
	ID   string      `jsonapi:"primary,other-inverse"`
	User *handleUser `jsonapi:"relation,user" recstore:"inverse=main"`
}

func (*otherInverse) Handle() string { return "" }

func TestPolymorphic_Serializers(t *testing.T) {
	s := recstore.New(&recstore.Options{Serializer: &recstore.RESTSerializer{}})
	users := recstore.MustRegister[handleUser](s, nil)
	recstore.MustRegister[ghHandle](s, nil)
	recstore.MustRegister[twHandle](s, nil)
	recstore.MustRegister[Album](s, nil)
	_, err := s.PushPayload("user", `{"user": {"id": 1, "name": "Ann",
		"handles": [{"id": 1, "type": "githubHandle"}, {"id": 2, "type": "twitterHandle"}],
		"main": 2, "mainType": "twitterHandle"},
		"githubHandles": [{"id": 1, "username": "ann"}],
		"twitterHandles": [{"id": 2, "nick": "annie"}]}`)
	require.NoError(t, err)
	u, _ := users.Peek("1")
	assert.Equal(t, []string{"gh 1 github:ann", "tw 2 @annie"}, handleNames(u.Handles))
	assert.Equal(t, "@annie", u.Main.Handle())

	out, err := s.Serialize(recstore.Key{Type: "user", ID: "1"}, &recstore.SerializeOptions{IncludeID: true})
	require.NoError(t, err)
	assert.Contains(t, string(out), `"main":{"id":"2","type":"twitter-handle"}`, "a polymorphic to-one names its type")
	before := recstore.Dump(s)
	_, err = s.PushPayload("user", out)
	require.NoError(t, err, "what Serialize wrote reads back: %s", out)
	requireUnchanged(t, s, before)

	for _, payload := range []string{
		`{"user": {"id": 1, "handles": [{"id": 1, "type": "album"}]}}`,
		`{"user": {"id": 1, "main": 1, "mainType": "album"}}`,
	} {
		_, err = s.PushPayload("user", payload)
		require.ErrorIs(t, err, recstore.ErrInvalidDocument, "payload %s", payload)
		requireUnchanged(t, s, before)
	}
}

func TestPolymorphic_ConcurrentRegister(t *testing.T) {
	s := recstore.New(nil)
	users := recstore.MustRegister[handleUser](s, nil)
	recstore.MustRegister[ghHandle](s, nil)
	_, err := s.Push(`{"data": {"type": "user", "id": "1", "relationships": {"handles": {"data": [{"type": "github-handle", "id": "1"}]}}},
		"included": [{"type": "github-handle", "id": "1", "attributes": {"username": "ann"}}]}`)
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		recstore.MustRegister[twHandle](s, nil)
		_, err := s.Push(userDoc)
		assert.NoError(t, err)
	}()
	go func() {
		defer wg.Done()
		for range 200 {
			u, ok := users.Peek("1")
			if assert.True(t, ok) && assert.NotEmpty(t, u.Handles) {
				assert.Equal(t, "gh 1 github:ann", handleNames(u.Handles)[0])
			}
		}
	}()
	wg.Wait()
}

// regWith returns a function registering T with opts, for tables of
// registration orders.
func regWith[T any](opts *recstore.ModelOptions) func(*recstore.Store) error {
	return func(s *recstore.Store) error {
		_, err := recstore.Register[T](s, opts)
		return err
	}
}

func registerInOrder(s *recstore.Store, regs ...func(*recstore.Store) error) error {
	for _, r := range regs {
		if err := r(s); err != nil {
			return err
		}
	}
	return nil
}

// FuzzPushPolymorphic holds pushes into interface relations, and their
// inverses, to the contract FuzzPush checks: all or nothing, and a
// repeated push changes nothing more.
func FuzzPushPolymorphic(f *testing.F) {
	for _, seed := range []string{
		userDoc,
		`{"data": {"type": "user", "id": "1", "relationships": {"handles": {"data": [{"type": "github-handle", "id": "1"}, {"type": "album", "id": "1"}]}}}}`,
		`{"data": {"type": "user", "id": "2", "relationships": {"handles": {"data": [{"type": "twitter-handle", "id": "2"}, {"type": "github-handle", "id": "1"}, {"type": "twitter-handle", "id": "2"}]}, "main": {"data": null}}}}`,
		`{"data": [{"type": "twitter-handle", "id": "2", "relationships": {"user": {"data": {"type": "user", "id": "3"}}}}, {"type": "github-handle", "id": "1", "relationships": {"user": {"data": null}}}]}`,
		`{"data": {"type": "user", "id": "1", "relationships": {"main": {"data": {"type": "user", "id": "1"}}}}}`,
		`{"data": {"type": "user", "id": "1", "relationships": {"handles": {"data": [{"type": "mastodon-handle", "id": "1"}]}}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, _ := newHandleStore(t)
		_, err := s.Push(userDoc)
		require.NoError(t, err)
		checkPushContract(t, s, func() ([]recstore.Key, error) { return s.Push(doc) }, recstore.ErrInvalidDocument)
	})
}

// ptrUser is handleUser with a []*ghHandle, to compare a polymorphic read
// with an ordinary one.
type ptrUser struct {
	ID      string      `jsonapi:"primary,ptr-user"`
	Name    string      `jsonapi:"attr,name"`
	Handles []*ghHandle `jsonapi:"relation,handles"`
}

// BenchmarkPeekPolymorphic reads a record with ten related records through
// a []Handle field and through a []*S field.
func BenchmarkPeekPolymorphic(b *testing.B) {
	s := recstore.New(nil)
	users := recstore.MustRegister[handleUser](s, nil)
	ptrs := recstore.MustRegister[ptrUser](s, nil)
	recstore.MustRegister[ghHandle](s, nil)
	var links, included string
	for i := range 10 {
		if i > 0 {
			links += ","
		}
		links += fmt.Sprintf(`{"type": "github-handle", "id": "%d"}`, i)
		included += fmt.Sprintf(`,{"type": "github-handle", "id": "%d", "attributes": {"username": "u%d"}}`, i, i)
	}
	_, err := s.Push(`{"data": [{"type": "user", "id": "1", "relationships": {"handles": {"data": [` + links + `]}}},
		{"type": "ptr-user", "id": "1", "relationships": {"handles": {"data": [` + links + `]}}}` + included + `]}`)
	require.NoError(b, err)
	b.Run("interface", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if u, _ := users.Peek("1"); len(u.Handles) != 10 {
				b.Fatal(len(u.Handles))
			}
		}
	})
	b.Run("pointer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if u, _ := ptrs.Peek("1"); len(u.Handles) != 10 {
				b.Fatal(len(u.Handles))
			}
		}
	})
}

// Ember's other polymorphic case: a comment belongs to a post or a photo,
// each of which has many comments.

type Commentable interface{ Caption() string }

type pComment struct {
	ID     string      `jsonapi:"primary,comment"`
	Body   string      `jsonapi:"attr,body"`
	Target Commentable `jsonapi:"relation,target" recstore:"inverse=comments"`
}

type pPost struct {
	ID       string      `jsonapi:"primary,post"`
	Title    string      `jsonapi:"attr,title"`
	Comments []*pComment `jsonapi:"relation,comments"`
}

func (p *pPost) Caption() string { return p.Title }

type pPhoto struct {
	ID       string      `jsonapi:"primary,photo"`
	URL      string      `jsonapi:"attr,url"`
	Comments []*pComment `jsonapi:"relation,comments"`
}

func (p *pPhoto) Caption() string { return p.URL }

// keyBack implements Commentable with a Key relation back, which must name
// its inverse itself.
type keyBack struct {
	ID       string         `jsonapi:"primary,key-back"`
	Comments []recstore.Key `jsonapi:"relation,comments"`
}

func (*keyBack) Caption() string { return "" }

func TestPolymorphic_BelongsTo(t *testing.T) {
	s := recstore.New(nil)
	comments := recstore.MustRegister[pComment](s, nil)
	posts := recstore.MustRegister[pPost](s, nil)
	recstore.MustRegister[pPhoto](s, nil)
	_, err := s.Push(`{"data": {"type": "comment", "id": "1", "attributes": {"body": "nice"},
		"relationships": {"target": {"data": {"type": "post", "id": "1"}}}},
		"included": [{"type": "post", "id": "1", "attributes": {"title": "Hello"}}, {"type": "photo", "id": "1", "attributes": {"url": "x.png"}}]}`)
	require.NoError(t, err)
	c, _ := comments.Peek("1")
	require.IsType(t, &pPost{}, c.Target)
	assert.Equal(t, "Hello", c.Target.Caption())
	p, _ := posts.Peek("1")
	require.Len(t, p.Comments, 1, "the post gains the comment through the inverse")

	// The photo takes the comment from its side: the comment's target moves
	// and the post loses it.
	_, err = s.Push(`{"data": {"type": "photo", "id": "1", "relationships": {"comments": {"data": [{"type": "comment", "id": "1"}]}}}}`)
	require.NoError(t, err)
	c, _ = comments.Peek("1")
	require.IsType(t, &pPhoto{}, c.Target)
	p, _ = posts.Peek("1")
	assert.Empty(t, p.Comments)

	// And back from the comment's side.
	_, err = s.Push(`{"data": {"type": "comment", "id": "1", "relationships": {"target": {"data": {"type": "post", "id": "1"}}}}}`)
	require.NoError(t, err)
	rel, _ := s.Related(recstore.Key{Type: "photo", ID: "1"}, "comments")
	assert.Empty(t, rel.Keys)
	rel, _ = s.Related(recstore.Key{Type: "comment", ID: "1"}, "target")
	assert.Equal(t, "comments", rel.Inverse)
	assert.True(t, rel.InverseMany)
	require.NoError(t, recstore.CheckInverses(s))

	// A Key relation back must declare the inverse itself.
	_, err = recstore.Register[keyBack](s, nil)
	require.ErrorIs(t, err, recstore.ErrInvalidModel)
	assert.Contains(t, err.Error(), "is a Key relation")
	_, err = recstore.Register[keyBack](s, &recstore.ModelOptions{Inverses: map[string]string{"comments": "target"}})
	require.NoError(t, err)
	_, err = s.Push(`{"data": {"type": "comment", "id": "1", "relationships": {"target": {"data": {"type": "key-back", "id": "1"}}}},
		"included": [{"type": "key-back", "id": "1"}]}`)
	require.NoError(t, err)
	rel, _ = s.Related(recstore.Key{Type: "key-back", ID: "1"}, "comments")
	assert.Equal(t, []recstore.Key{{Type: "comment", ID: "1"}}, rel.Keys)
	require.NoError(t, recstore.CheckInverses(s))
}
