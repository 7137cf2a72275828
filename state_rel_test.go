package recstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stRelFixtures is the backend of the relationship tests: authors a1..a3,
// posts p1 (by a1, comments c1 c2) and p2 (by a2, comment c3), comment c4
// on no post; owners o1 o2, tags g1..g3, tasks t1 (owner o1, tags g1 g2)
// and t2 (owner o2, tag g2).
var stRelFixtures = []string{
	`{"data": [
		{"type": "stauthor", "id": "a1", "attributes": {"name": "A1"}},
		{"type": "stauthor", "id": "a2", "attributes": {"name": "A2"}},
		{"type": "stauthor", "id": "a3", "attributes": {"name": "A3"}}]}`,
	`{"data": [
		{"type": "stpost", "id": "p1", "attributes": {"title": "P1"}, "relationships": {
			"author": {"data": {"type": "stauthor", "id": "a1"}},
			"comments": {"data": [{"type": "stcomment", "id": "c1"}, {"type": "stcomment", "id": "c2"}]}}},
		{"type": "stpost", "id": "p2", "attributes": {"title": "P2"}, "relationships": {
			"author": {"data": {"type": "stauthor", "id": "a2"}},
			"comments": {"data": [{"type": "stcomment", "id": "c3"}]}}}]}`,
	`{"data": [
		{"type": "stcomment", "id": "c1", "attributes": {"text": "C1"}, "relationships": {"post": {"data": {"type": "stpost", "id": "p1"}}}},
		{"type": "stcomment", "id": "c2", "attributes": {"text": "C2"}, "relationships": {"post": {"data": {"type": "stpost", "id": "p1"}}}},
		{"type": "stcomment", "id": "c3", "attributes": {"text": "C3"}, "relationships": {"post": {"data": {"type": "stpost", "id": "p2"}}}},
		{"type": "stcomment", "id": "c4", "attributes": {"text": "C4"}, "relationships": {"post": {"data": null}}}]}`,
	`{"data": [
		{"type": "stowner", "id": "o1", "attributes": {"name": "O1"}},
		{"type": "stowner", "id": "o2", "attributes": {"name": "O2"}},
		{"type": "sttag", "id": "g1", "attributes": {"label": "G1"}},
		{"type": "sttag", "id": "g2", "attributes": {"label": "G2"}},
		{"type": "sttag", "id": "g3", "attributes": {"label": "G3"}}]}`,
	`{"data": [
		{"type": "sttask", "id": "t1", "attributes": {"title": "T1"}, "relationships": {
			"owner": {"data": {"type": "stowner", "id": "o1"}},
			"tags": {"data": [{"type": "sttag", "id": "g1"}, {"type": "sttag", "id": "g2"}]}}},
		{"type": "sttask", "id": "t2", "attributes": {"title": "T2"}, "relationships": {
			"owner": {"data": {"type": "stowner", "id": "o2"}},
			"tags": {"data": [{"type": "sttag", "id": "g2"}]}}}]}`,
}

// newSTRel returns a Store holding the relationship fixtures, pushed in
// full, and the backend holding them too.
func newSTRel(t testing.TB) (stModels, *recstoretest.MemoryAdapter, *stAdapter) {
	t.Helper()
	m := recstoretest.NewMemoryAdapter(stRelFixtures...)
	ad := &stAdapter{MemoryAdapter: m}
	ms := newSTModels(t, ad)
	for _, doc := range stRelFixtures {
		_, err := ms.s.Push(doc)
		require.NoError(t, err)
	}
	return ms, m, ad
}

func stK(typ, id string) recstore.Key { return recstore.Key{Type: typ, ID: id} }

var (
	stA1, stA2, stA3 = stK("stauthor", "a1"), stK("stauthor", "a2"), stK("stauthor", "a3")
	stP1, stP2       = stK("stpost", "p1"), stK("stpost", "p2")
	stC1, stC2       = stK("stcomment", "c1"), stK("stcomment", "c2")
	stC3, stC4       = stK("stcomment", "c3"), stK("stcomment", "c4")
	stO1, stO2       = stK("stowner", "o1"), stK("stowner", "o2")
	stG1, stG2, stG3 = stK("sttag", "g1"), stK("sttag", "g2"), stK("sttag", "g3")
	stT1, stT2       = stK("sttask", "t1"), stK("sttask", "t2")
	stNone           = []recstore.Key{}
	stKs             = func(ks ...recstore.Key) []recstore.Key { return ks }
	stRelPairs       = []stRelPair{{"stpost", "author", "stauthor", "posts"}, {"stpost", "comments", "stcomment", "post"}, {"sttask", "owner", "stowner", "owned"}, {"sttask", "tags", "sttag", "tagged"}}
)

// stRelPair is a relationship and its inverse.
type stRelPair struct{ typ, rel, invType, inv string }

// stRef names one relationship of one record.
type stRef struct {
	k   recstore.Key
	rel string
}

func (r stRef) String() string { return r.k.Type + ":" + r.k.ID + "." + r.rel }

// stFieldKeys returns the members the relation field rel of the record k
// holds as Peek reads it.
func stFieldKeys(t testing.TB, ms stModels, k recstore.Key, rel string) []recstore.Key {
	t.Helper()
	out := []recstore.Key{}
	ptrs := func(typ string, ids ...string) {
		for _, id := range ids {
			out = append(out, stK(typ, id))
		}
	}
	switch k.Type {
	case "stpost":
		p, ok := ms.posts.Peek(k.ID)
		require.True(t, ok, "%v", k)
		switch rel {
		case "author":
			if p.Author != nil {
				ptrs("stauthor", p.Author.ID)
			}
		case "comments":
			for _, c := range p.Comments {
				ptrs("stcomment", c.ID)
			}
		}
	case "stauthor":
		a, ok := ms.authors.Peek(k.ID)
		require.True(t, ok, "%v", k)
		for _, p := range a.Posts {
			ptrs("stpost", p.ID)
		}
	case "stcomment":
		c, ok := ms.comments.Peek(k.ID)
		require.True(t, ok, "%v", k)
		if c.Post != nil {
			ptrs("stpost", c.Post.ID)
		}
	case "sttask":
		x, ok := ms.tasks.Peek(k.ID)
		require.True(t, ok, "%v", k)
		switch rel {
		case "owner":
			if !x.Owner.IsZero() {
				out = append(out, x.Owner)
			}
		case "tags":
			out = append(out, x.Tags...)
		}
	case "stowner":
		o, ok := ms.owners.Peek(k.ID)
		require.True(t, ok, "%v", k)
		out = append(out, o.Owned...)
	case "sttag":
		g, ok := ms.tags.Peek(k.ID)
		require.True(t, ok, "%v", k)
		out = append(out, g.Tagged...)
	default:
		t.Fatalf("no model %q", k.Type)
	}
	return out
}

// stMembers returns the current members of r, as Related says, checking
// that Peek's relation field says the same.
func stMembers(t testing.TB, ms stModels, r stRef) []recstore.Key {
	t.Helper()
	rel, ok := ms.s.Related(r.k, r.rel)
	require.True(t, ok, "%v", r)
	keys := rel.Keys
	if keys == nil {
		keys = stNone
	}
	assert.Equal(t, keys, stFieldKeys(t, ms, r.k, r.rel), "%v: Peek's field and Related", r)
	return keys
}

// stCheckInverses checks that, in the current view, every relationship
// and its inverse agree: x.rel holds y iff y.inv holds x, for every
// loaded x and y.
func stCheckInverses(t testing.TB, ms stModels) {
	t.Helper()
	for _, p := range stRelPairs {
		for _, x := range ms.s.Keys(p.typ) {
			rx, _ := ms.s.Related(x, p.rel)
			for _, y := range rx.Keys {
				if !ms.s.Has(y) || ms.s.State(y).Status == recstore.StatusDeletedSaved {
					continue
				}
				ry, _ := ms.s.Related(y, p.inv)
				assert.Contains(t, ry.Keys, x, "%v.%s holds %v, but %v.%s does not hold it back", x, p.rel, y, y, p.inv)
			}
		}
		for _, y := range ms.s.Keys(p.invType) {
			ry, _ := ms.s.Related(y, p.inv)
			for _, x := range ry.Keys {
				if !ms.s.Has(x) || ms.s.State(x).Status == recstore.StatusDeletedSaved {
					continue
				}
				rx, _ := ms.s.Related(x, p.rel)
				assert.Contains(t, rx.Keys, y, "%v.%s holds %v, but %v.%s does not hold it back", y, p.inv, x, x, p.rel)
			}
		}
	}
}

// stNorm returns changes with nil member lists made empty, so that a
// relationship emptied compares equal however it is held.
func stNorm(changes map[string]recstore.Change) map[string]recstore.Change {
	norm := func(v any) any {
		if ks, ok := v.([]recstore.Key); ok && ks == nil {
			return stNone
		}
		return v
	}
	for name, c := range changes {
		changes[name] = recstore.Change{Old: norm(c.Old), New: norm(c.New)}
	}
	return changes
}

// stRelChange is what a row expects of one relationship after its edit:
// its members, and its backend members if it differs from them (old nil:
// unchanged).
type stRelChange struct {
	ref      stRef
	old, new []recstore.Key
}

func stCh(k recstore.Key, rel string, old, new []recstore.Key) stRelChange {
	return stRelChange{stRef{k, rel}, old, new}
}

func stSame(k recstore.Key, rel string, members []recstore.Key) stRelChange {
	return stRelChange{stRef{k, rel}, nil, members}
}

// stEditPost edits the post id, and so on for the other models.
func stEditPost(ms stModels, id string, f func(*stPost)) error {
	_, err := ms.posts.Edit(id, f)
	return err
}

func stEditComment(ms stModels, id string, f func(*stComment)) error {
	_, err := ms.comments.Edit(id, f)
	return err
}

func stEditTask(ms stModels, id string, f func(*stTask)) error {
	_, err := ms.tasks.Edit(id, f)
	return err
}

func stEditOwner(ms stModels, id string, f func(*stOwner)) error {
	_, err := ms.owners.Edit(id, f)
	return err
}

// Relationship edits are tracked as attributes are (issue 10 item 7, which
// Ember Data never shipped): Edit of a to-one or to-many, *S, []*S, Key
// or []Key, changes both sides, and ChangedRelationships reports both;
// Rollback puts both sides back; setting the backend's members back makes
// both clean; a Save makes the edit the backend's on both sides; a push
// of the relationship under the edit keeps the local members and updates
// Old, and a push of the local members makes it clean.
func TestLifecycle_relationships(t *testing.T) {
	rows := []struct {
		name    string
		src     recstore.Key // the record edited (Rollback, Save)
		edit    func(ms stModels) error
		want    []stRelChange // after the edit
		setBack func(ms stModels) error
		push    string      // a push of the source's relationship underneath the edit
		pushed  stRelChange // what the source's relationship is then
		local   string      // a push of the source's relationship as edited
		// saves are the records whose Save sends the edit (default src):
		// the JSONAPISerializer, as Ember's, writes a to-many only when
		// its inverse is a to-many too, so a one-to-many is saved from
		// its to-one side.
		saves []recstore.Key
	}{
		{
			name: "to-one *S", src: stP1,
			edit: func(ms stModels) error {
				return stEditPost(ms, "p1", func(p *stPost) { p.Author = &stAuthor{ID: "a2"} })
			},
			want: []stRelChange{
				stCh(stP1, "author", stKs(stA1), stKs(stA2)),
				stCh(stA1, "posts", stKs(stP1), stNone),
				stCh(stA2, "posts", stKs(stP2), stKs(stP2, stP1)),
				stSame(stA3, "posts", stNone),
			},
			setBack: func(ms stModels) error {
				return stEditPost(ms, "p1", func(p *stPost) { p.Author = &stAuthor{ID: "a1"} })
			},
			push:   `{"data": {"type": "stpost", "id": "p1", "relationships": {"author": {"data": {"type": "stauthor", "id": "a3"}}}}}`,
			pushed: stCh(stP1, "author", stKs(stA3), stKs(stA2)),
			local:  `{"data": {"type": "stpost", "id": "p1", "relationships": {"author": {"data": {"type": "stauthor", "id": "a2"}}}}}`,
		},
		{
			name: "to-one *S to nil", src: stP1,
			edit: func(ms stModels) error {
				return stEditPost(ms, "p1", func(p *stPost) { p.Author = nil })
			},
			want: []stRelChange{
				stCh(stP1, "author", stKs(stA1), stNone),
				stCh(stA1, "posts", stKs(stP1), stNone),
			},
			setBack: func(ms stModels) error {
				return stEditPost(ms, "p1", func(p *stPost) { p.Author = &stAuthor{ID: "a1"} })
			},
			push:   `{"data": {"type": "stpost", "id": "p1", "relationships": {"author": {"data": {"type": "stauthor", "id": "a2"}}}}}`,
			pushed: stCh(stP1, "author", stKs(stA2), stNone),
			local:  `{"data": {"type": "stpost", "id": "p1", "relationships": {"author": {"data": null}}}}`,
		},
		{
			name: "to-one *S from the many side", src: stC3,
			edit: func(ms stModels) error {
				return stEditComment(ms, "c3", func(c *stComment) { c.Post = &stPost{ID: "p1"} })
			},
			want: []stRelChange{
				stCh(stC3, "post", stKs(stP2), stKs(stP1)),
				stCh(stP2, "comments", stKs(stC3), stNone),
				stCh(stP1, "comments", stKs(stC1, stC2), stKs(stC1, stC2, stC3)),
			},
			setBack: func(ms stModels) error {
				return stEditComment(ms, "c3", func(c *stComment) { c.Post = &stPost{ID: "p2"} })
			},
			push:   `{"data": {"type": "stcomment", "id": "c3", "relationships": {"post": {"data": null}}}}`,
			pushed: stCh(stC3, "post", stNone, stKs(stP1)),
			local:  `{"data": {"type": "stcomment", "id": "c3", "relationships": {"post": {"data": {"type": "stpost", "id": "p1"}}}}}`,
		},
		{
			name: "to-many []*S", src: stP1,
			edit: func(ms stModels) error {
				return stEditPost(ms, "p1", func(p *stPost) { p.Comments = []*stComment{p.Comments[0], {ID: "c4"}} })
			},
			want: []stRelChange{
				stCh(stP1, "comments", stKs(stC1, stC2), stKs(stC1, stC4)),
				stSame(stC1, "post", stKs(stP1)),
				stCh(stC2, "post", stKs(stP1), stNone),
				stCh(stC4, "post", stNone, stKs(stP1)),
			},
			setBack: func(ms stModels) error {
				return stEditPost(ms, "p1", func(p *stPost) { p.Comments = []*stComment{{ID: "c1"}, {ID: "c2"}} })
			},
			push:   `{"data": {"type": "stpost", "id": "p1", "relationships": {"comments": {"data": [{"type": "stcomment", "id": "c1"}]}}}}`,
			pushed: stCh(stP1, "comments", stKs(stC1), stKs(stC1, stC4)),
			saves:  stKs(stC2, stC4),
			local:  `{"data": {"type": "stpost", "id": "p1", "relationships": {"comments": {"data": [{"type": "stcomment", "id": "c1"}, {"type": "stcomment", "id": "c4"}]}}}}`,
		},
		{
			// The member taken from p2 is set back from its own side.
			name: "to-many []*S taking a member", src: stP1,
			edit: func(ms stModels) error {
				return stEditPost(ms, "p1", func(p *stPost) { p.Comments = append(p.Comments, &stComment{ID: "c3"}) })
			},
			want: []stRelChange{
				stCh(stP1, "comments", stKs(stC1, stC2), stKs(stC1, stC2, stC3)),
				stCh(stC3, "post", stKs(stP2), stKs(stP1)),
				stCh(stP2, "comments", stKs(stC3), stNone),
			},
			setBack: func(ms stModels) error {
				return stEditComment(ms, "c3", func(c *stComment) { c.Post = &stPost{ID: "p2"} })
			},
			push:   `{"data": {"type": "stpost", "id": "p1", "relationships": {"comments": {"data": [{"type": "stcomment", "id": "c2"}]}}}}`,
			pushed: stCh(stP1, "comments", stKs(stC2), stKs(stC1, stC2, stC3)),
			saves:  stKs(stC3),
			local:  `{"data": {"type": "stpost", "id": "p1", "relationships": {"comments": {"data": [{"type": "stcomment", "id": "c1"}, {"type": "stcomment", "id": "c2"}, {"type": "stcomment", "id": "c3"}]}}}}`,
		},
		{
			name: "to-one Key", src: stT1,
			edit: func(ms stModels) error {
				return stEditTask(ms, "t1", func(x *stTask) { x.Owner = stO2 })
			},
			want: []stRelChange{
				stCh(stT1, "owner", stKs(stO1), stKs(stO2)),
				stCh(stO1, "owned", stKs(stT1), stNone),
				stCh(stO2, "owned", stKs(stT2), stKs(stT2, stT1)),
			},
			setBack: func(ms stModels) error {
				return stEditTask(ms, "t1", func(x *stTask) { x.Owner = stO1 })
			},
			push:   `{"data": {"type": "sttask", "id": "t1", "relationships": {"owner": {"data": null}}}}`,
			pushed: stCh(stT1, "owner", stNone, stKs(stO2)),
			local:  `{"data": {"type": "sttask", "id": "t1", "relationships": {"owner": {"data": {"type": "stowner", "id": "o2"}}}}}`,
		},
		{
			name: "to-one Key by SetRelated", src: stT1,
			edit: func(ms stModels) error { return ms.s.SetRelated(stT1, "owner", stO2) },
			want: []stRelChange{
				stCh(stT1, "owner", stKs(stO1), stKs(stO2)),
				stCh(stO1, "owned", stKs(stT1), stNone),
				stCh(stO2, "owned", stKs(stT2), stKs(stT2, stT1)),
			},
			setBack: func(ms stModels) error { return ms.s.SetRelated(stT1, "owner", stO1) },
			push:    `{"data": {"type": "sttask", "id": "t1", "relationships": {"owner": {"data": null}}}}`,
			pushed:  stCh(stT1, "owner", stNone, stKs(stO2)),
			local:   `{"data": {"type": "sttask", "id": "t1", "relationships": {"owner": {"data": {"type": "stowner", "id": "o2"}}}}}`,
		},
		{
			name: "many-to-many []Key", src: stT1,
			edit: func(ms stModels) error {
				return stEditTask(ms, "t1", func(x *stTask) { x.Tags = stKs(stG2, stG3) })
			},
			want: []stRelChange{
				stCh(stT1, "tags", stKs(stG1, stG2), stKs(stG2, stG3)),
				stCh(stG1, "tagged", stKs(stT1), stNone),
				stSame(stG2, "tagged", stKs(stT1, stT2)),
				stCh(stG3, "tagged", stNone, stKs(stT1)),
			},
			setBack: func(ms stModels) error {
				return stEditTask(ms, "t1", func(x *stTask) { x.Tags = stKs(stG1, stG2) })
			},
			push:   `{"data": {"type": "sttask", "id": "t1", "relationships": {"tags": {"data": [{"type": "sttag", "id": "g1"}]}}}}`,
			pushed: stCh(stT1, "tags", stKs(stG1), stKs(stG2, stG3)),
			local:  `{"data": {"type": "sttask", "id": "t1", "relationships": {"tags": {"data": [{"type": "sttag", "id": "g2"}, {"type": "sttag", "id": "g3"}]}}}}`,
		},
		{
			name: "to-many []Key from the one side", src: stO1,
			edit: func(ms stModels) error {
				return stEditOwner(ms, "o1", func(o *stOwner) { o.Owned = nil })
			},
			want: []stRelChange{
				stCh(stO1, "owned", stKs(stT1), stNone),
				stCh(stT1, "owner", stKs(stO1), stNone),
			},
			setBack: func(ms stModels) error {
				return stEditOwner(ms, "o1", func(o *stOwner) { o.Owned = stKs(stT1) })
			},
			local: `{"data": {"type": "stowner", "id": "o1", "relationships": {"owned": {"data": []}}}}`,
			saves: stKs(stT1),
		},
	}

	for _, r := range rows {
		// The refs a row names, and their backend members, read before
		// the edit.
		server := func(t *testing.T, ms stModels) map[stRef][]recstore.Key {
			out := map[stRef][]recstore.Key{}
			for _, w := range r.want {
				out[w.ref] = stMembers(t, ms, w.ref)
			}
			return out
		}
		edited := func(t *testing.T, scenario string) (stModels, *recstoretest.MemoryAdapter, map[stRef][]recstore.Key) {
			t.Parallel()
			ms, m, _ := newSTRel(t)
			srv := server(t, ms)
			require.NoError(t, r.edit(ms))
			return ms, m, srv
		}
		// clean checks that every ref holds members, that inverses agree,
		// and that no record the row names has a change left.
		clean := func(t *testing.T, scenario string, ms stModels, members func(stRelChange) []recstore.Key) {
			t.Helper()
			for _, w := range r.want {
				assert.Equal(t, members(w), stMembers(t, ms, w.ref), "%v", w.ref)
			}
			stCheckInverses(t, ms)
			t.Run("no change left", func(t *testing.T) {
				for _, w := range r.want {
					assert.Empty(t, ms.s.ChangedRelationships(w.ref.k), "%v", w.ref.k)
					st := ms.s.State(w.ref.k)
					assert.Equal(t, recstore.StatusLoaded, st.Status, "%v: %v", w.ref.k, st.Name())
				}
			})
		}

		t.Run(r.name+"/edit", func(t *testing.T) {
			ms, _, _ := edited(t, "edit")
			for _, w := range r.want {
				assert.Equal(t, w.new, stMembers(t, ms, w.ref), "%v", w.ref)
				changed := stNorm(ms.s.ChangedRelationships(w.ref.k))
				st := ms.s.State(w.ref.k)
				if w.old == nil {
					assert.NotContains(t, changed, w.ref.rel, "%v", w.ref)
					continue
				}
				assert.Equal(t, recstore.Change{Old: w.old, New: w.new}, changed[w.ref.rel], "%v", w.ref)
				assert.Equal(t, recstore.StatusUpdated, st.Status, "%v", w.ref)
				assert.Equal(t, "root.loaded.updated.uncommitted", st.Name(), "%v", w.ref)
				assert.True(t, st.IsDirty(), "%v", w.ref)
				assert.Empty(t, ms.s.ChangedAttributes(w.ref.k), "%v: only a relationship changed", w.ref)
				// The typed form says the same.
				switch w.ref.k.Type {
				case "stpost":
					assert.Equal(t, changed, stNorm(ms.posts.ChangedRelationships(w.ref.k.ID)))
				case "sttask":
					assert.Equal(t, changed, stNorm(ms.tasks.ChangedRelationships(w.ref.k.ID)))
				}
			}
			stCheckInverses(t, ms)
		})

		t.Run(r.name+"/rollback", func(t *testing.T) {
			ms, _, srv := edited(t, "rollback")
			require.NoError(t, ms.s.Rollback(r.src))
			clean(t, "rollback", ms, func(w stRelChange) []recstore.Key { return srv[w.ref] })
		})

		t.Run(r.name+"/set back", func(t *testing.T) {
			ms, _, srv := edited(t, "set back")
			require.NoError(t, r.setBack(ms))
			clean(t, "set back", ms, func(w stRelChange) []recstore.Key { return srv[w.ref] })
		})

		t.Run(r.name+"/save", func(t *testing.T) {
			ms, m, _ := edited(t, "save")
			saves := r.saves
			if saves == nil {
				saves = []recstore.Key{r.src}
			}
			for _, k := range saves {
				_, err := ms.s.Save(context.Background(), k)
				require.NoError(t, err, "%v", k)
			}
			assert.Equal(t, len(saves), m.Calls("UpdateRecord"))
			clean(t, "save", ms, func(w stRelChange) []recstore.Key { return w.new })
			// A later rollback has nothing to undo.
			require.NoError(t, ms.s.Rollback(r.src))
			for _, w := range r.want {
				assert.Equal(t, w.new, stMembers(t, ms, w.ref), "after a rollback: %v", w.ref)
			}
		})

		if r.push != "" {
			t.Run(r.name+"/push under the edit", func(t *testing.T) {
				ms, _, _ := edited(t, "push")
				_, err := ms.s.Push(r.push)
				require.NoError(t, err)
				w := r.pushed
				assert.Equal(t, w.new, stMembers(t, ms, w.ref), "the local members stay")
				assert.Equal(t, recstore.Change{Old: w.old, New: w.new}, stNorm(ms.s.ChangedRelationships(w.ref.k))[w.ref.rel], "Old is the pushed members")
				t.Run("inverses", func(t *testing.T) {
					stCheckInverses(t, ms)
				})
				// Rollback now goes back to what was pushed.
				require.NoError(t, ms.s.Rollback(r.src))
				assert.Equal(t, w.old, stMembers(t, ms, w.ref), "rolled back to the pushed members")
				assert.Empty(t, ms.s.ChangedRelationships(r.src))
			})
		}

		t.Run(r.name+"/push of the local members", func(t *testing.T) {
			ms, _, _ := edited(t, "push local")
			_, err := ms.s.Push(r.local)
			require.NoError(t, err)
			clean(t, "push local", ms, func(w stRelChange) []recstore.Key { return w.new })
		})
	}
}

// A relationship edit and an attribute edit on one record: Rollback
// drops both, a Save makes both the backend's, and what the backend got
// is the edit.
func TestLifecycle_relationshipsAndAttributes(t *testing.T) {
	ms, m, ad := newSTRel(t)
	var bodies []string
	ad.before = func(op string, req *recstore.Request) { bodies = append(bodies, string(req.Body)) }
	_, err := ms.tasks.Edit("t1", func(x *stTask) { x.Title = "Renamed"; x.Owner = stO2; x.Tags = stKs(stG3) })
	require.NoError(t, err)
	assert.Equal(t, map[string]recstore.Change{"title": {Old: "T1", New: "Renamed"}}, ms.tasks.ChangedAttributes("t1"))
	assert.Equal(t, map[string]recstore.Change{
		"owner": {Old: stKs(stO1), New: stKs(stO2)},
		"tags":  {Old: stKs(stG1, stG2), New: stKs(stG3)},
	}, ms.tasks.ChangedRelationships("t1"))

	_, err = ms.tasks.Save(context.Background(), "t1")
	require.NoError(t, err)
	require.Len(t, bodies, 1)
	assert.Contains(t, bodies[0], `"Renamed"`)
	assert.Contains(t, bodies[0], `"o2"`)
	assert.Contains(t, bodies[0], `"g3"`)
	assert.NotContains(t, bodies[0], `"g1"`)
	for _, k := range []recstore.Key{stT1, stO1, stO2, stG1, stG2, stG3} {
		assert.Equal(t, recstore.StatusLoaded, ms.s.State(k).Status, "%v", k)
		assert.Empty(t, ms.s.ChangedRelationships(k), "%v", k)
	}
	stCheckInverses(t, ms)

	// The backend has it: a reload changes nothing.
	_, err = ms.tasks.Find(context.Background(), "t1", &recstore.FindOptions{Reload: recstore.ReloadAlways})
	require.NoError(t, err)
	x, _ := ms.tasks.Peek("t1")
	assert.Equal(t, stTask{ID: "t1", Title: "Renamed", Owner: stO2, Tags: stKs(stG3)}, x)
	assert.Equal(t, recstore.StatusLoaded, ms.s.State(stT1).Status)
	assert.True(t, m.Has("sttask", "t1"))
}

// Relationship edits made while a save is in flight stay local changes
// on top of it; the ones being sent become the backend's.
func TestLifecycle_relationshipEditDuringSave(t *testing.T) {
	ms, _, ad := newSTRel(t)
	h := newSTHold()
	ad.after = h.after
	require.NoError(t, ms.s.SetRelated(stT1, "owner", stO2))
	h.armed.Store(true)
	done := make(chan error, 1)
	go func() { _, err := ms.s.Save(context.Background(), stT1); done <- err }()
	stWait(t, h.entered, "the save")

	require.NoError(t, ms.s.SetRelated(stT1, "tags", stG3))
	st := ms.s.State(stT1)
	assert.True(t, st.Saving)
	assert.Equal(t, "root.loaded.updated.inFlight", st.Name())
	changed := ms.s.ChangedRelationships(stT1)
	assert.Contains(t, changed, "owner", "the change being saved is reported until it succeeds")
	assert.Contains(t, changed, "tags")
	stCheckInverses(t, ms)

	close(h.release)
	require.NoError(t, stWait(t, done, "the save"))
	assert.Equal(t, map[string]recstore.Change{"tags": {Old: stKs(stG1, stG2), New: stKs(stG3)}}, ms.s.ChangedRelationships(stT1),
		"the owner is the backend's; the tags edit made meanwhile is still a change")
	assert.Empty(t, ms.s.ChangedRelationships(stO2), "the saved side is canonical")
	assert.Equal(t, map[string]recstore.Change{"tagged": {Old: stKs(stT1), New: stNone}}, stNorm(ms.s.ChangedRelationships(stG1)))
	stCheckInverses(t, ms)
}

// stDump is a compact view of every relationship of the fixtures, for
// failure messages.
func stDump(ms stModels) string {
	var b strings.Builder
	for _, p := range stRelPairs {
		for _, k := range ms.s.Keys(p.typ) {
			r, _ := ms.s.Related(k, p.rel)
			fmt.Fprintf(&b, "%s.%s=%v ", k.ID, p.rel, r.Keys)
		}
		for _, k := range ms.s.Keys(p.invType) {
			r, _ := ms.s.Related(k, p.inv)
			fmt.Fprintf(&b, "%s.%s=%v ", k.ID, p.inv, r.Keys)
		}
	}
	return b.String()
}

// A Save sends only what the serializer writes: a to-many whose inverse
// is a to-one is not written (as in Ember), so a success answered with
// no content (204) must not make that relationship's local change the
// backend's: the backend was never told.
func TestLifecycle_relationshipNotSent(t *testing.T) {
	ms, m, ad := newSTRel(t)
	m.NoContent = true
	var body string
	ad.before = func(op string, req *recstore.Request) { body = string(req.Body) }
	require.NoError(t, ms.s.SetRelated(stP1, "comments", stC1, stC4))
	_, err := ms.s.Save(context.Background(), stP1)
	require.NoError(t, err)
	require.NotContains(t, body, "comments", "the request carries no comments")
	assert.Equal(t, map[string]recstore.Change{"comments": {Old: stKs(stC1, stC2), New: stKs(stC1, stC4)}},
		stNorm(ms.s.ChangedRelationships(stP1)), "still a local change")
	assert.NotEmpty(t, ms.s.ChangedRelationships(stC4), "c4.post is still a local change")
}
