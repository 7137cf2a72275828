package recstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The concurrent test works on a fixed set of records. Every push writes
// all of them, stamped with the push's generation g, and assigns track j to
// album (j+g) mod raceAlbums, so tracks move between albums on every push.
const (
	raceAlbums = 4
	raceTracks = 8
	raceLabels = 2
)

func raceAlbumID(i int) string { return "a" + strconv.Itoa(i) }
func raceTrackID(j int) string { return "t" + strconv.Itoa(j) }
func raceLabelID(i int) string { return "l" + strconv.Itoa(i) }
func raceTitle(g int) string   { return "g" + strconv.Itoa(g) }

// raceAlbumOf is the index of the album that generation g gives track j.
func raceAlbumOf(g, j int) int { return (j + g) % raceAlbums }

// raceLabelOf is the index of the label that generation g gives album i.
func raceLabelOf(g, i int) int { return (g + i) % raceLabels }

// raceIndex parses the number after an id's one-letter prefix.
func raceIndex(id string) int {
	n, err := strconv.Atoi(id[1:])
	if err != nil {
		return -1
	}
	return n
}

// raceGeneration parses a raceTitle.
func raceGeneration(title string) (int, bool) {
	if !strings.HasPrefix(title, "g") {
		return 0, false
	}
	g, err := strconv.Atoi(title[1:])
	return g, err == nil
}

// raceDoc is the document of generation g. Even generations set the
// album side of album↔tracks and odd ones the track side, so that both
// directions of the inverse are exercised.
func raceDoc(g int) *recstore.Document {
	title := raceTitle(g)
	doc := &recstore.Document{Many: true}
	var albums, tracks []*recstore.Resource
	for i := range raceAlbums {
		a := &recstore.Resource{Type: "album", ID: raceAlbumID(i),
			Attributes: map[string]any{"title": title, "songCount": g},
			Relationships: map[string]*recstore.Relationship{
				"label": {Data: []recstore.Key{{Type: "label", ID: raceLabelID(raceLabelOf(g, i))}}},
			}}
		if g%2 == 0 {
			rel := &recstore.Relationship{Many: true, Data: []recstore.Key{}}
			for j := range raceTracks {
				if raceAlbumOf(g, j) == i {
					rel.Data = append(rel.Data, recstore.Key{Type: "track", ID: raceTrackID(j)})
				}
			}
			a.Relationships["tracks"] = rel
		}
		albums = append(albums, a)
	}
	for j := range raceTracks {
		tr := &recstore.Resource{Type: "track", ID: raceTrackID(j), Attributes: map[string]any{"title": title}}
		if g%2 == 1 {
			tr.Relationships = map[string]*recstore.Relationship{
				"album": {Data: []recstore.Key{{Type: "album", ID: raceAlbumID(raceAlbumOf(g, j))}}},
			}
		}
		tracks = append(tracks, tr)
	}
	var labels []*recstore.Resource
	for i := range raceLabels {
		labels = append(labels, &recstore.Resource{Type: "label", ID: raceLabelID(i), Attributes: map[string]any{"name": title}})
	}
	kinds := &recstore.Resource{Type: "kinds", ID: "1",
		Attributes: map[string]any{"s": title, "i": g, "ps": title, "tags": []string{title, title}, "meta": map[string]any{"g": g}},
		Relationships: map[string]*recstore.Relationship{
			"ref":  {Data: []recstore.Key{{Type: "album", ID: raceAlbumID(g % raceAlbums)}}},
			"refs": {Many: true, Data: []recstore.Key{{Type: "label", ID: raceLabelID(g % raceLabels)}}},
		}}
	if g%2 == 0 {
		doc.Data, doc.Included = albums, append(append(tracks, labels...), kinds)
	} else {
		doc.Data, doc.Included = tracks, append(append(albums, labels...), kinds)
	}
	return doc
}

// raceForm gives generation g's document in one of the forms Push takes,
// so that every path is raced.
func raceForm(t *testing.T, g int) any {
	doc := raceDoc(g)
	text, err := json.Marshal(doc)
	if !assert.NoError(t, err) {
		return doc
	}
	switch g % 5 {
	case 0:
		return doc
	case 1:
		return text
	case 2:
		return string(text)
	case 3:
		return bytes.NewReader(text)
	default:
		var m map[string]any
		assert.NoError(t, json.Unmarshal(text, &m))
		return m
	}
}

// Every push writes every record, so in each state the Store publishes,
// all loaded records carry the generation of the last push; unloads remove
// records but change none. The checks below hold for one atomic read (a
// Peek, one record of All, one Related), which is all the package
// promises: two reads may see different pushes.

// raceCheckAlbum checks one album as one read returned it.
func raceCheckAlbum(t *testing.T, a Album) bool {
	g, ok := raceGeneration(a.Title)
	if !assert.True(t, ok, "album %s has title %q", a.ID, a.Title) ||
		!assert.Equal(t, g, a.SongCount, "album %s: title and songCount from different pushes", a.ID) {
		return false
	}
	i := raceIndex(a.ID)
	if a.Label != nil {
		if !assert.Equal(t, raceLabelID(raceLabelOf(g, i)), a.Label.ID, "album %s of %s has another push's label", a.ID, a.Title) ||
			!assert.Equal(t, a.Title, a.Label.Name, "album %s and its label from different pushes", a.ID) {
			return false
		}
	}
	for _, tr := range a.Tracks {
		if !assert.Equal(t, a.Title, tr.Title, "album %s and its track %s from different pushes", a.ID, tr.ID) ||
			!assert.Equal(t, i, raceAlbumOf(g, raceIndex(tr.ID)), "album %s of %s lists track %s of another push", a.ID, a.Title, tr.ID) ||
			!assert.Nil(t, tr.Album, "filled one level deep") {
			return false
		}
	}
	return true
}

// raceCheckTrack checks one track as one read returned it.
func raceCheckTrack(t *testing.T, tr Track) bool {
	g, ok := raceGeneration(tr.Title)
	if !assert.True(t, ok, "track %s has title %q", tr.ID, tr.Title) {
		return false
	}
	if tr.Album == nil {
		return true
	}
	return assert.Equal(t, raceAlbumID(raceAlbumOf(g, raceIndex(tr.ID))), tr.Album.ID, "track %s of %s in another push's album", tr.ID, tr.Title) &&
		assert.Equal(t, tr.Title, tr.Album.Title, "track %s and its album from different pushes", tr.ID) &&
		assert.Nil(t, tr.Album.Tracks, "filled one level deep")
}

// raceCheckKinds checks the record with slices, maps, pointers and keys.
func raceCheckKinds(t *testing.T, k Kinds) bool {
	g, ok := raceGeneration(k.S)
	return assert.True(t, ok, "kinds has s %q", k.S) &&
		assert.Equal(t, g, k.I) &&
		assert.Equal(t, []string{k.S, k.S}, k.Tags) &&
		assert.Equal(t, map[string]any{"g": float64(g)}, k.Meta) &&
		assert.NotNil(t, k.PS) && assert.Equal(t, k.S, *k.PS) &&
		assert.Equal(t, recstore.Key{Type: "album", ID: raceAlbumID(g % raceAlbums)}, k.Ref) &&
		assert.Equal(t, []recstore.Key{{Type: "label", ID: raceLabelID(g % raceLabels)}}, k.Refs)
}

// raceCheckAlbumTracks checks an album's tracks relationship as Related gives
// it: all from one push, so every track index is the same mod raceAlbums.
func raceCheckAlbumTracks(t *testing.T, r recstore.Related) bool {
	seen := map[recstore.Key]bool{}
	for _, k := range r.Keys {
		if !assert.Equal(t, "track", k.Type) ||
			!assert.False(t, seen[k], "track %s listed twice", k.ID) ||
			!assert.Equal(t, raceIndex(r.Keys[0].ID)%raceAlbums, raceIndex(k.ID)%raceAlbums, "tracks %v from different pushes", r.Keys) {
			return false
		}
		seen[k] = true
	}
	return true
}

// scribble overwrites everything a read returned, reachable through
// slices, maps and pointers. If any of it were the Store's memory, or
// another read's, the race detector or another reader's checks would
// catch it.
func raceScribbleAlbum(a *Album) {
	a.Title, a.SongCount = "scribbled", -1
	if a.Label != nil {
		a.Label.Name = "scribbled"
	}
	for i, tr := range a.Tracks {
		tr.Title = "scribbled"
		tr.Album = a
		a.Tracks[i] = nil
	}
	a.Tracks = append(a.Tracks, &Track{ID: "scribbled"})
}

func raceScribbleTrack(tr *Track) {
	tr.Title = "scribbled"
	if tr.Album != nil {
		tr.Album.Title = "scribbled"
		tr.Album.Tracks = append(tr.Album.Tracks, tr)
	}
}

func raceScribbleKinds(k *Kinds) {
	k.S = "scribbled"
	for i := range k.Tags {
		k.Tags[i] = "scribbled"
	}
	k.Tags = append(k.Tags, "scribbled")
	k.Meta["g"] = "scribbled"
	k.Meta["new"] = 1
	if k.PS != nil {
		*k.PS = "scribbled"
	}
	for i := range k.Refs {
		k.Refs[i].ID = "scribbled"
	}
}

// Writers push whole generations (as Store.Push and Model.Push, in every
// input form), an unloader unloads records and types, and readers read
// through every API, checking what each atomic read returns and then
// scribbling over it.
func TestConcurrentPushPeekUnload(t *testing.T) {
	const (
		writers = 2
		pushes  = 150 // per writer
		readers = 5
	)
	s, albums, labels, tracks, kinds := newStore(t, nil)
	_, err := s.Push(raceDoc(0))
	require.NoError(t, err)

	var (
		gen     atomic.Int64
		writing sync.WaitGroup
		others  sync.WaitGroup
		done    = make(chan struct{})
	)
	stopped := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}

	for w := range writers {
		writing.Add(1)
		go func() {
			defer writing.Done()
			for range pushes {
				g := int(gen.Add(1))
				var err error
				switch {
				case w == 0:
					_, err = s.Push(raceForm(t, g))
				case g%2 == 0:
					var got []Album
					got, err = albums.Push(raceForm(t, g))
					for _, a := range got {
						if !raceCheckAlbum(t, a) {
							return
						}
					}
				default:
					var got []Track
					got, err = tracks.Push(raceForm(t, g))
					for _, tr := range got {
						if !raceCheckTrack(t, tr) {
							return
						}
					}
				}
				if !assert.NoError(t, err, "push of generation %d", g) {
					return
				}
			}
		}()
	}

	others.Add(1)
	go func() {
		defer others.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		for !stopped() {
			switch n := rng.IntN(20); {
			case n < 6:
				albums.Unload(raceAlbumID(rng.IntN(raceAlbums)))
			case n < 14:
				tracks.Unload(raceTrackID(rng.IntN(raceTracks)))
			case n < 17:
				labels.Unload(raceLabelID(rng.IntN(raceLabels)))
			case n < 18:
				kinds.Unload("1")
			case n < 19:
				assert.NoError(t, s.UnloadAll("track", "label"))
			default:
				assert.NoError(t, s.UnloadAll())
			}
		}
	}()

	for r := range readers {
		others.Add(1)
		go func() {
			defer others.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 3))
			// Read at least a little even if the writers finish first.
			for n := 0; n < 50 || !stopped(); n++ {
				switch rng.IntN(7) {
				case 0:
					if a, ok := albums.Peek(raceAlbumID(rng.IntN(raceAlbums))); ok {
						if !raceCheckAlbum(t, a) {
							return
						}
						raceScribbleAlbum(&a)
					}
				case 1:
					if tr, ok := tracks.Peek(raceTrackID(rng.IntN(raceTracks))); ok {
						if !raceCheckTrack(t, tr) {
							return
						}
						raceScribbleTrack(&tr)
					}
				case 2:
					for id, a := range albums.All() {
						if !assert.Equal(t, id, a.ID) || !raceCheckAlbum(t, a) {
							return
						}
						raceScribbleAlbum(&a)
					}
				case 3:
					for _, tr := range tracks.All() {
						if !raceCheckTrack(t, tr) {
							return
						}
						raceScribbleTrack(&tr)
					}
				case 4:
					if k, ok := kinds.Peek("1"); ok {
						if !raceCheckKinds(t, k) {
							return
						}
						raceScribbleKinds(&k)
					}
				case 5:
					if r, ok := s.Related(recstore.Key{Type: "album", ID: raceAlbumID(rng.IntN(raceAlbums))}, "tracks"); ok {
						if !raceCheckAlbumTracks(t, r) {
							return
						}
						for i := range r.Keys {
							r.Keys[i].ID = "scribbled"
						}
					}
				default:
					if v, ok := s.Peek(recstore.Key{Type: "album", ID: raceAlbumID(rng.IntN(raceAlbums))}); ok {
						a, isAlbum := v.(Album)
						if !assert.True(t, isAlbum, "Store.Peek returned a %T", v) || !raceCheckAlbum(t, a) {
							return
						}
						raceScribbleAlbum(&a)
					}
					if l, ok := labels.Peek(raceLabelID(rng.IntN(raceLabels))); ok {
						_, isGen := raceGeneration(l.Name)
						if !assert.True(t, isGen, "label %s has name %q", l.ID, l.Name) {
							return
						}
						l.Name = "scribbled"
					}
				}
			}
		}()
	}

	writing.Wait()
	close(done)
	others.Wait()
	if t.Failed() {
		return
	}

	// Quiet now: one last push must leave every record in place, with
	// both sides of every inverse agreeing, and no change half applied.
	g := int(gen.Add(1))
	_, err = s.Push(raceDoc(g))
	require.NoError(t, err)
	dump := recstore.Dump(s)
	assert.NotContains(t, dump, "LEFTOVER DRAFT")
	assert.NoError(t, recstore.CheckInverses(s))
	assert.NotContains(t, dump, "<nil version>")
	for i := range raceAlbums {
		a, ok := albums.Peek(raceAlbumID(i))
		require.True(t, ok)
		require.True(t, raceCheckAlbum(t, a))
		assert.Equal(t, raceTitle(g), a.Title)
		var want []string
		for j := range raceTracks {
			if raceAlbumOf(g, j) == i {
				want = append(want, raceTrackID(j))
			}
		}
		var got []string
		for _, tr := range a.Tracks {
			got = append(got, tr.ID)
		}
		assert.ElementsMatch(t, want, got, "album %s's tracks", a.ID)
	}
	for j := range raceTracks {
		r, ok := tracks.Related(raceTrackID(j), "album")
		require.True(t, ok)
		assert.Equal(t, []recstore.Key{{Type: "album", ID: raceAlbumID(raceAlbumOf(g, j))}}, r.Keys, "track %d's album", j)
	}
	assert.Equal(t, raceAlbums, albums.Len())
	assert.Equal(t, raceTracks, tracks.Len())
	assert.Equal(t, raceLabels, labels.Len())
}

// Mutating anything a read returns, through its slices, maps and
// pointers, leaves the Store as it was.
func TestMutatingReadsDoesNotChangeStore(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, s *recstore.Store, albums *recstore.Model[Album], tracks *recstore.Model[Track], kinds *recstore.Model[Kinds])
	}{
		{"Model.Peek of an album", func(t *testing.T, _ *recstore.Store, albums *recstore.Model[Album], _ *recstore.Model[Track], _ *recstore.Model[Kinds]) {
			a, ok := albums.Peek(raceAlbumID(0))
			require.True(t, ok)
			require.NotNil(t, a.Label)
			require.NotEmpty(t, a.Tracks)
			raceScribbleAlbum(&a)
		}},
		{"Model.Peek of a track", func(t *testing.T, _ *recstore.Store, _ *recstore.Model[Album], tracks *recstore.Model[Track], _ *recstore.Model[Kinds]) {
			tr, ok := tracks.Peek(raceTrackID(0))
			require.True(t, ok)
			require.NotNil(t, tr.Album)
			raceScribbleTrack(&tr)
		}},
		{"Model.Peek of attributes with slices, maps and pointers", func(t *testing.T, _ *recstore.Store, _ *recstore.Model[Album], _ *recstore.Model[Track], kinds *recstore.Model[Kinds]) {
			k, ok := kinds.Peek("2")
			require.True(t, ok)
			k.Meta["k"].([]any)[0] = "scribbled"
			k.Meta["k"].([]any)[1].(map[string]any)["x"] = "scribbled"
			k.Nested.Tags[0] = "scribbled"
			k.Any.([]any)[0] = "scribbled"
			k.Scores["a"] = -1
			k.Points[0].X, k.Points[0].Tags[0] = -1, "scribbled"
			*k.PI, *k.PT = -1, k.PT.AddDate(1, 0, 0)
			k.Refs[0].ID = "scribbled"
			raceScribbleKinds(&k)
		}},
		{"Store.Peek", func(t *testing.T, s *recstore.Store, _ *recstore.Model[Album], _ *recstore.Model[Track], _ *recstore.Model[Kinds]) {
			v, ok := s.Peek(recstore.Key{Type: "album", ID: raceAlbumID(1)})
			require.True(t, ok)
			a := v.(Album)
			raceScribbleAlbum(&a)
			v, ok = s.Peek(recstore.Key{Type: "kinds", ID: "1"})
			require.True(t, ok)
			k := v.(Kinds)
			raceScribbleKinds(&k)
		}},
		{"Model.All", func(t *testing.T, _ *recstore.Store, albums *recstore.Model[Album], tracks *recstore.Model[Track], kinds *recstore.Model[Kinds]) {
			for _, a := range albums.All() {
				raceScribbleAlbum(&a)
			}
			for _, tr := range tracks.All() {
				raceScribbleTrack(&tr)
			}
			for _, k := range kinds.All() {
				raceScribbleKinds(&k)
			}
		}},
		{"Model.Push results", func(t *testing.T, _ *recstore.Store, albums *recstore.Model[Album], _ *recstore.Model[Track], kinds *recstore.Model[Kinds]) {
			// Pushing generation 0's album again changes nothing by itself.
			got, err := albums.Push(`{"data": [{"type": "album", "id": "a0", "attributes": {"title": "g0"}}]}`)
			require.NoError(t, err)
			require.Len(t, got, 1)
			raceScribbleAlbum(&got[0])
			ks, err := kinds.Push(`{"data": {"type": "kinds", "id": "1"}}`)
			require.NoError(t, err)
			require.Len(t, ks, 1)
			raceScribbleKinds(&ks[0])
		}},
		{"Related and Keys", func(t *testing.T, s *recstore.Store, _ *recstore.Model[Album], _ *recstore.Model[Track], _ *recstore.Model[Kinds]) {
			r, ok := s.Related(recstore.Key{Type: "album", ID: raceAlbumID(0)}, "tracks")
			require.True(t, ok)
			require.NotEmpty(t, r.Keys)
			r.Keys[0].ID = "scribbled"
			r, ok = s.Related(recstore.Key{Type: "kinds", ID: "2"}, "refs")
			require.True(t, ok)
			require.NotEmpty(t, r.NotLoaded)
			r.NotLoaded[0].ID = "scribbled"
			keys := s.Keys("album")
			require.NotEmpty(t, keys)
			keys[0].ID = "scribbled"
			types := s.Types()
			types[0] = "scribbled"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, albums, _, tracks, kinds := newStore(t, nil)
			_, err := s.Push(raceDoc(0))
			require.NoError(t, err)
			_, err = s.Push(`{"data": {"type": "kinds", "id": 2, "attributes": {"pi": 7, "pt": "2024-05-06T07:08:09Z",
				"meta": {"k": [1, {"x": 1}]}, "nested": {"Tags": ["n"]}, "any": ["a"], "scores": {"a": 1}, "points": [{"X": 1, "Tags": ["p"]}]},
				"relationships": {"refs": {"data": [{"type": "album", "id": "nowhere"}]}}}}`)
			require.NoError(t, err)
			before, records := storeState(s)
			dump := recstore.Dump(s)

			tt.mutate(t, s, albums, tracks, kinds)

			// A push (Model.Push) may publish equal values at new
			// addresses, so compare values, and the exact dump otherwise.
			after, recordsAfter := storeState(s)
			assert.Equal(t, before, after)
			assert.Equal(t, records, recordsAfter)
			if !strings.Contains(tt.name, "Push") {
				assert.Equal(t, dump, recstore.Dump(s))
			}
		})
	}
}

// Mutating what was pushed, after Push returns, leaves the Store as it
// was: the Store keeps no reference to a document or its bytes.
func TestMutatingPushedInputDoesNotChangeStore(t *testing.T) {
	const text = `{"data": {"type": "kinds", "id": 1, "attributes": {"s": "str", "tags": ["a", "b"], "meta": {"k": [1, "x"]},
		"nested": {"X": 1, "Tags": ["n"]}, "any": ["v"], "scores": {"a": 1}, "points": [{"X": 3}]},
		"relationships": {"refs": {"data": [{"type": "album", "id": "9"}]}}},
		"included": [{"type": "album", "id": "9", "attributes": {"title": "T"}, "relationships": {"tracks": {"data": [{"type": "track", "id": "t"}]}}}]}`
	scribbleBytes := func(b []byte) {
		for i := range b {
			b[i] = ' '
		}
	}
	// scribbleValue overwrites every string, slice element and map value
	// reachable from a decoded JSON value.
	var scribbleValue func(v any)
	scribbleValue = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				scribbleValue(e)
				switch e.(type) {
				case map[string]any, []any:
				default:
					v[k] = "scribbled"
				}
			}
			v["added"] = "scribbled"
		case []any:
			for i, e := range v {
				scribbleValue(e)
				switch e.(type) {
				case map[string]any, []any:
				default:
					v[i] = "scribbled"
				}
			}
		}
	}
	tests := []struct {
		name string
		// input returns the value to push and a function that mutates it
		// afterwards.
		input func(t *testing.T) (any, func())
		// payload pushes through PushPayload with a REST serializer.
		payload bool
	}{
		{"bytes", func(*testing.T) (any, func()) {
			b := []byte(text)
			return b, func() { scribbleBytes(b) }
		}, false},
		{"RawMessage", func(*testing.T) (any, func()) {
			b := json.RawMessage(text)
			return b, func() { scribbleBytes(b) }
		}, false},
		{"Reader", func(*testing.T) (any, func()) {
			b := []byte(text)
			return bytes.NewReader(b), func() { scribbleBytes(b) }
		}, false},
		{"map literal", func(t *testing.T) (any, func()) {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(text), &m))
			return m, func() { scribbleValue(m) }
		}, false},
		{"Go values in a Document", func(*testing.T) (any, func()) {
			tags, meta, ps := []string{"a", "b"}, map[string]any{"k": []any{1.0, "x"}}, "p"
			refs := []recstore.Key{{Type: "album", ID: "9"}}
			raw := json.RawMessage(`{"a": 1}`)
			d := &recstore.Document{Data: []*recstore.Resource{{Type: "kinds", ID: "1",
				Attributes:    map[string]any{"s": "str", "tags": tags, "meta": meta, "ps": &ps, "scores": raw},
				Relationships: map[string]*recstore.Relationship{"refs": {Many: true, Data: refs}}}}}
			return d, func() {
				tags[0], meta["k"].([]any)[1], ps, refs[0].ID = "scribbled", "scribbled", "scribbled", "scribbled"
				scribbleBytes(raw)
				d.Data[0].Attributes["s"] = "scribbled"
				d.Data[0].ID = "2"
			}
		}, false},
		{"Document from JSON", func(t *testing.T) (any, func()) {
			var d recstore.Document
			require.NoError(t, json.Unmarshal([]byte(text), &d))
			return &d, func() {
				for _, r := range append(d.Data, d.Included...) {
					for k, v := range r.Attributes {
						if raw, ok := v.(json.RawMessage); ok {
							scribbleBytes(raw)
						}
						r.Attributes[k] = "scribbled"
					}
					for _, rel := range r.Relationships {
						for i := range rel.Data {
							rel.Data[i].ID = "scribbled"
						}
					}
				}
			}
		}, false},
		{"REST payload bytes", func(*testing.T) (any, func()) {
			b := []byte(`{"albums": [{"id": 9, "title": "T", "label": 7, "tracks": [{"id": "t", "title": "embedded"}]}],
				"labels": [{"id": 7, "name": "L"}]}`)
			return b, func() { scribbleBytes(b) }
		}, true},
		{"REST payload map", func(t *testing.T) (any, func()) {
			m := map[string]any{
				"albums": []any{map[string]any{"id": 9, "title": "T", "label": 7, "tracks": []any{map[string]any{"id": "t", "title": "embedded"}}}},
				"labels": []any{map[string]any{"id": 7, "name": "L"}},
			}
			return m, func() { scribbleValue(m) }
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _, _ := newStore(t, &recstore.Options{Serializer: &recstore.RESTSerializer{}})
			doc, mutate := tt.input(t)
			var err error
			if tt.payload {
				_, err = s.PushPayload("album", doc)
			} else {
				_, err = s.Push(doc)
			}
			require.NoError(t, err)
			dump := recstore.Dump(s)
			_, records := storeState(s)
			mutate()
			assert.Equal(t, dump, recstore.Dump(s))
			_, recordsAfter := storeState(s)
			assert.Equal(t, records, recordsAfter, "a record's value changed")
		})
	}
}

// Model.Push and Model.PushPayload return the records as their own push
// left them, related records included, even while other pushes change
// those related records at once.
func TestModelPushReturnsItsOwnState(t *testing.T) {
	s, _, _, tracks, _ := newStore(t, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": "1", "attributes": {"title": "other %d"}}}`, i))
			if err != nil {
				panic(err)
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	const doc = `{"data": {"type": "track", "id": "t", "attributes": {"title": "mine"},
		"relationships": {"album": {"data": {"type": "album", "id": "1"}}}},
		"included": [{"type": "album", "id": "1", "attributes": {"title": "mine"}}]}`
	for i := range 1000 {
		got, err := tracks.Push(doc)
		require.NoError(t, err)
		require.NotNil(t, got[0].Album)
		require.Equal(t, "mine", got[0].Album.Title, "Model.Push, iteration %d", i)

		got, err = tracks.PushPayload(doc)
		require.NoError(t, err)
		require.NotNil(t, got[0].Album)
		require.Equal(t, "mine", got[0].Album.Title, "Model.PushPayload, iteration %d", i)
	}
}

// Concurrent PushPayloads share pooled normalizers; each must still push
// exactly its own payload.
func TestConcurrentPushPayload(t *testing.T) {
	s := recstore.New(&recstore.Options{Serializer: &recstore.RESTSerializer{}})
	albums := recstore.MustRegister[Album](s, nil)
	recstore.MustRegister[Label](s, nil)
	recstore.MustRegister[Track](s, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				id := fmt.Sprintf("g%d-%d", g, i%20)
				title := fmt.Sprintf("title %d/%d", g, i)
				payload := fmt.Sprintf(`{"albums": [{"id": %q, "title": %q, "songCount": %d, "label": "l%d"}], "labels": [{"id": "l%d", "name": "n%d"}]}`,
					id, title, i, g, g, g)
				got, err := albums.PushPayload(payload)
				if !assert.NoError(t, err) || !assert.Len(t, got, 1) {
					return
				}
				assert.Equal(t, Album{ID: id, Title: title, SongCount: i, Label: &Label{ID: fmt.Sprintf("l%d", g), Name: fmt.Sprintf("n%d", g)}}, got[0])
			}
		})
	}
	wg.Wait()
}

// A Find that answers from the cache returns one state of the Store, as
// Peek does: an album's title and its label's name, pushed together, are
// always of one generation, never the album as one push left it with the
// label as the next left it.
func TestFindHitIsOneVersion(t *testing.T) {
	const pushes = 300
	s, albums, _, _, _ := newStore(t, nil)
	push := func(g int) {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": "1", "attributes": {"title": "g%d"},
			"relationships": {"label": {"data": {"type": "label", "id": "L"}}}},
			"included": [{"type": "label", "id": "L", "attributes": {"name": "g%d"}}]}`, g, g))
		require.NoError(t, err)
	}
	push(0)
	never := &recstore.FindOptions{Reload: recstore.ReloadNever, BackgroundReload: recstore.ReloadNever}
	done := make(chan struct{})
	var readers sync.WaitGroup
	var finds, mixed atomic.Int64
	check := func(how string, a Album) {
		finds.Add(1)
		if a.Label == nil || a.Label.Name != a.Title {
			if mixed.Add(1) == 1 {
				t.Errorf("%s returned title %q with label %+v: two generations mixed, want one", how, a.Title, a.Label)
			}
		}
	}
	for _, how := range []string{"Model.Find", "Model.Find never", "Store.Find"} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var a Album
				var err error
				switch how {
				case "Model.Find":
					a, err = albums.Find(context.Background(), "1", nil)
				case "Model.Find never":
					a, err = albums.Find(context.Background(), "1", never)
				default:
					var v any
					if v, err = s.Find(context.Background(), recstore.Key{Type: "album", ID: "1"}, nil); err == nil {
						a = v.(Album)
					}
				}
				if !assert.NoError(t, err, how) {
					return
				}
				check(how, a)
			}
		}()
	}
	for g := 1; g <= pushes; g++ {
		push(g)
	}
	close(done)
	readers.Wait()
	assert.Zero(t, mixed.Load(), "of %d Finds, %d mixed two generations", finds.Load(), mixed.Load())
}
