package recstore_test

import (
	"encoding/json"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A panic at any point of a commit (injected through the test hook, as a
// library bug or a user's Clone method would raise one) reaches the
// caller, and leaves the Store exactly as it was, unlocked and with no
// draft left behind: the next push to the same records lands.
func TestPanicInCommitLeavesStoreUsable(t *testing.T) {
	const seed = `{"data": [
		{"type": "album", "id": "1", "attributes": {"title": "one"}, "relationships": {"tracks": {"data": [{"type": "track", "id": "1"}]}}},
		{"type": "album", "id": "2", "attributes": {"title": "two"}}
	], "included": [{"type": "track", "id": "1", "attributes": {"title": "t1"}}]}`
	const doc = `{"data": [
		{"type": "album", "id": "1", "attributes": {"title": "ONE"}, "relationships": {"label": {"data": {"type": "label", "id": "9"}}, "tracks": {"data": [{"type": "track", "id": "2"}, {"type": "track", "id": "3"}]}}},
		{"type": "album", "id": "2", "attributes": {"title": "TWO"}, "relationships": {"tracks": {"data": [{"type": "track", "id": "1"}]}}},
		{"type": "album", "id": "5", "attributes": {"title": "FIVE"}}
	], "included": [{"type": "track", "id": "2", "attributes": {"title": "t2"}}, {"type": "label", "id": "9"}]}`

	// Count how often each point is reached by one push of doc.
	counts := map[string]int{}
	{
		s, albums, _, _, _ := newStore(t, nil)
		_, err := s.Push(seed)
		require.NoError(t, err)
		recstore.SetTestHook(s, func(p string) { counts[p]++ })
		_, err = albums.Push(doc)
		require.NoError(t, err)
	}
	require.NotZero(t, counts["apply"])
	require.NotZero(t, counts["linkInverse"])
	require.NotZero(t, counts["publish"])
	require.NotZero(t, counts["read"])

	points := 0
	for point, n := range counts {
		for nth := 1; nth <= n; nth++ {
			points++
			s, albums, _, tracks, _ := newStore(t, nil)
			_, err := s.Push(seed)
			require.NoError(t, err)
			before := recstore.Dump(s)

			calls := 0
			recstore.SetTestHook(s, func(p string) {
				if p == point {
					if calls++; calls == nth {
						panic("injected at " + point)
					}
				}
			})
			require.PanicsWithValue(t, "injected at "+point, func() { _, _ = albums.Push(doc) }, "%s #%d", point, nth)
			recstore.SetTestHook(s, nil)
			if point != "read" {
				// Before publish: nothing of the push is left.
				requireUnchanged(t, s, before)
			}
			require.NoError(t, recstore.CheckInverses(s))

			// The Store is unlocked and takes the same push again.
			got, err := albums.Push(doc)
			require.NoError(t, err, "%s #%d", point, nth)
			require.Len(t, got, 3)
			assert.Equal(t, "ONE", got[0].Title)
			a, _ := albums.Peek("1")
			assert.Equal(t, "ONE", a.Title)
			tr, _ := tracks.Peek("1")
			require.NotNil(t, tr.Album)
			assert.Equal(t, "2", tr.Album.ID)
			require.NoError(t, recstore.CheckInverses(s))
		}
	}
	t.Logf("%d injection points, each recovered", points)

	// Unload and UnloadAll commit too.
	for _, unloadAll := range []bool{false, true} {
		s, albums, _, _, _ := newStore(t, nil)
		_, err := s.Push(seed)
		require.NoError(t, err)
		before := recstore.Dump(s)
		recstore.SetTestHook(s, func(p string) { panic(p) })
		require.Panics(t, func() {
			if unloadAll {
				_ = s.UnloadAll()
			} else {
				s.Unload(recstore.Key{Type: "album", ID: "1"})
			}
		})
		recstore.SetTestHook(s, nil)
		requireUnchanged(t, s, before)
		assert.NoError(t, albums.Unload("1"))
		require.NoError(t, recstore.CheckInverses(s))
	}
}

// Exploding is an attribute type whose decoder panics on "boom", as a
// faulty json.Unmarshaler would.
type Exploding string

func (e *Exploding) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "boom" {
		panic("unmarshaler panicked")
	}
	*e = Exploding(s)
	return nil
}

type Fragile struct {
	ID    string    `jsonapi:"primary,fragile"`
	Name  string    `jsonapi:"attr,name"`
	Fuse  Exploding `jsonapi:"attr,fuse"`
	Count int       `jsonapi:"attr,count" recstore:"transform=count"`
}

// User code that runs on the caller's goroutine during a push (a
// json.Unmarshaler, a serializer hook, a transform) panics through to the
// caller as any panic does, and the Store is left as it was and usable.
func TestPanicInUserCodeDuringPush(t *testing.T) {
	hooks := func(which string) *recstore.JSONAPISerializer {
		return &recstore.JSONAPISerializer{
			NormalizeHash: func(typ string, h *recstore.Hash) error {
				if which == "NormalizeHash" {
					panic(which)
				}
				return nil
			},
			KeyForAttribute: func(name string) string {
				if which == "KeyForAttribute" {
					panic(which)
				}
				return name
			},
			Transforms: map[string]recstore.Transform{"count": recstore.TransformFuncs{
				DeserializeFunc: func(v any) (any, error) {
					if which == "Transform" {
						panic(which)
					}
					return v, nil
				},
			}},
		}
	}
	for _, which := range []string{"UnmarshalJSON", "NormalizeHash", "KeyForAttribute", "Transform"} {
		t.Run(which, func(t *testing.T) {
			s := recstore.New(&recstore.Options{Serializer: hooks(which)})
			frags := recstore.MustRegister[Fragile](s, nil)
			_, err := s.Push(`{"data": {"type": "fragile", "id": "1", "attributes": {"name": "before"}}}`)
			require.NoError(t, err)
			before := recstore.Dump(s)

			fuse := "lit"
			if which == "UnmarshalJSON" {
				fuse = "boom"
			}
			doc := `{"data": [{"type": "fragile", "id": "1", "attributes": {"name": "after", "count": 2, "fuse": "` + fuse + `"}},
				{"type": "fragile", "id": "2", "attributes": {"name": "new"}}]}`
			require.Panics(t, func() { _, _ = s.PushPayload("fragile", doc) })
			requireUnchanged(t, s, before)
			if which == "UnmarshalJSON" {
				require.Panics(t, func() { _, _ = s.Push(doc) })
				requireUnchanged(t, s, before)
			}

			_, err = s.Push(`{"data": {"type": "fragile", "id": "1", "attributes": {"name": "later"}}}`)
			require.NoError(t, err)
			f, _ := frags.Peek("1")
			assert.Equal(t, "later", f.Name)
		})
	}
}
