package recstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The models of TestMemoryBoundUnloadFrees, their own so that no other
// test's registrations change what a Store holds: albums and tracks (to-one
// with a to-many inverse), posts and tags (many-to-many), and notes that
// name albums one way, by Key.

type ufAlbum struct {
	ID     string     `jsonapi:"primary,uf-album"`
	Title  string     `jsonapi:"attr,title"`
	Tracks []*ufTrack `jsonapi:"relation,tracks" recstore:"inverse=album"`
}

type ufTrack struct {
	ID    string   `jsonapi:"primary,uf-track"`
	Title string   `jsonapi:"attr,title"`
	Album *ufAlbum `jsonapi:"relation,album" recstore:"inverse=tracks"`
}

type ufPost struct {
	ID    string   `jsonapi:"primary,uf-post"`
	Title string   `jsonapi:"attr,title"`
	Tags  []*ufTag `jsonapi:"relation,tags" recstore:"inverse=posts"`
}

type ufTag struct {
	ID    string    `jsonapi:"primary,uf-tag"`
	Name  string    `jsonapi:"attr,name"`
	Posts []*ufPost `jsonapi:"relation,posts" recstore:"inverse=tags"`
}

type ufNote struct {
	ID    string         `jsonapi:"primary,uf-note"`
	Text  string         `jsonapi:"attr,text"`
	About recstore.Key   `jsonapi:"relation,about"`
	Refs  []recstore.Key `jsonapi:"relation,refs"`
}

// ufModels are a Store with the models above registered.
type ufModels struct {
	s      *recstore.Store
	albums *recstore.Model[ufAlbum]
	tracks *recstore.Model[ufTrack]
	posts  *recstore.Model[ufPost]
	tags   *recstore.Model[ufTag]
	notes  *recstore.Model[ufNote]
	// backend, if set, is the adapter saves go to (see ufBackend).
	backend *ufBackend
}

// ufBackend is the Store's adapter in the tests that save: a
// MemoryAdapter the test drops once the saves are done, so that what the
// backend stored is not counted as what the Store kept.
type ufBackend struct{ m *recstoretest.MemoryAdapter }

func (b *ufBackend) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return b.m.FindRecord(ctx, req)
}

func (b *ufBackend) CreateRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return b.m.CreateRecord(ctx, req)
}

// Sizes of the pushes: the records a push adds are a large multiple of
// the heap before it, so that 5% of that heap is well above the noise and
// well below what a leak of a structure per record keeps.
const (
	ufAlbums = 2_000
	ufTracks = 20_000
	ufSaves  = 2_000
)

// ufHeap is the live heap after two collections.
func ufHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// ufDoc is a document of n resources, elem(i) each. It is built and
// pushed inside ufPush, so that it is garbage by the next measure.
func ufDoc(n int, elem func(i int) string) string {
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(elem(i))
	}
	b.WriteString(`]}`)
	return b.String()
}

func ufPush(t *testing.T, s *recstore.Store, n int, elem func(i int) string) {
	t.Helper()
	_, err := s.Push(ufDoc(n, elem))
	require.NoError(t, err)
}

func ufAlbumDoc(i int) string {
	return `{"type":"uf-album","id":"a` + strconv.Itoa(i) + `","attributes":{"title":"album ` + strconv.Itoa(i) + `"}}`
}

func ufTrackDoc(i int) string {
	return `{"type":"uf-track","id":"t` + strconv.Itoa(i) + `","attributes":{"title":"track ` + strconv.Itoa(i) +
		`"},"relationships":{"album":{"data":{"type":"uf-album","id":"a` + strconv.Itoa(i%ufAlbums) + `"}}}}`
}

// ufAlbumWithTracks is album i with the ids of its tracks.
func ufAlbumWithTracks(i int) string {
	var tracks []string
	for j := i; j < ufTracks; j += ufAlbums {
		tracks = append(tracks, `{"type":"uf-track","id":"t`+strconv.Itoa(j)+`"}`)
	}
	return `{"type":"uf-album","id":"a` + strconv.Itoa(i) + `","attributes":{"title":"album ` + strconv.Itoa(i) +
		`"},"relationships":{"tracks":{"data":[` + strings.Join(tracks, ",") + `]}}}`
}

func ufPushAlbums(t *testing.T, u *ufModels) { ufPush(t, u.s, ufAlbums, ufAlbumDoc) }
func ufPushTracks(t *testing.T, u *ufModels) { ufPush(t, u.s, ufTracks, ufTrackDoc) }

func ufUnload(types ...string) func(t *testing.T, u *ufModels) {
	return func(t *testing.T, u *ufModels) {
		require.NoError(t, u.s.UnloadAll(types...))
		for _, typ := range types {
			require.Zero(t, u.s.Len(typ), typ)
		}
	}
}

// TestMemoryBoundUnloadFrees checks that unloading gives the memory back:
// after UnloadAll of what a push added, relationships and inverses
// included, the live heap is within 5% of what it was before the push
// (Ember Data's emberjs/data#4938 is the counter-example: unloaded
// records stayed reachable from their relationships). Each case starts
// from a fresh Store; before is the heap once its models are registered
// and what the case keeps (setup) is loaded.
func TestMemoryBoundUnloadFrees(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation; CI runs this test without -race")
	}
	// The heap after the unload may exceed the heap before the push by
	// 5%. A fresh Store is a heap of about 0.2 MiB, so 5% is 11 KiB: with
	// the idMap leak fixed (an experiment), the cases it alone failed left
	// 0.0-0.4 KiB, and a leak of a pointer per unloaded record is 160 KiB.
	const slack = 0.05
	// RECSTORE_UNLOAD_PROFILE=dir writes heap profiles of every case to
	// dir, before the push and after the unload, every allocation
	// sampled: go tool pprof -top -lines -diff_base=dir/CASE-before.prof
	// dir/CASE-after.prof names what an unload left.
	profiles := os.Getenv("RECSTORE_UNLOAD_PROFILE")
	if profiles != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	profile := func(t *testing.T, name string) {
		if profiles == "" {
			return
		}
		f, err := os.Create(filepath.Join(profiles, ufFileName(t.Name())+"-"+name+".prof"))
		require.NoError(t, err)
		defer f.Close()
		require.NoError(t, pprof.WriteHeapProfile(f))
	}
	// The runtime makes what it needs on first use: an OS thread for a P
	// (an M is 5.6 KiB of heap), GC workers' state. One cycle of push
	// and unload on a Store thrown away makes them before the first
	// measure, which saw them half the time (+5.6 KiB of a 11 KiB slack).
	func() {
		w := ufNew(t)
		ufPushTracks(t, w)
		ufPushAlbums(t, w)
		ufUnload("uf-album", "uf-track")(t, w)
		ufHeap()
	}()
	for _, tc := range []struct {
		name   string
		bug    string // non-empty: a known leak, see the report of issue 12 item 7
		setup  func(t *testing.T, u *ufModels)
		push   func(t *testing.T, u *ufModels)
		unload func(t *testing.T, u *ufModels)
		// ref, if set, is what the Store should hold after the unload:
		// the heap is compared with before plus what ref adds to a fresh
		// Store.
		ref func(t *testing.T, u *ufModels)
	}{
		{
			name: "a: tracks with a to-one album and the albums, both unloaded",
			push: func(t *testing.T, u *ufModels) {
				ufPushTracks(t, u)
				ufPushAlbums(t, u)
			},
			unload: ufUnload("uf-album", "uf-track"),
		},
		{
			name:   "b: tracks of albums kept, tracks unloaded",
			setup:  ufPushAlbums,
			push:   ufPushTracks,
			unload: ufUnload("uf-track"),
		},
		{
			name: "b: tracks of albums kept whose tracks were known, tracks unloaded",
			setup: func(t *testing.T, u *ufModels) {
				ufPush(t, u.s, ufAlbums, func(i int) string {
					return `{"type":"uf-album","id":"a` + strconv.Itoa(i) + `","attributes":{"title":"album"},"relationships":{"tracks":{"data":[]}}}`
				})
			},
			push:   ufPushTracks,
			unload: ufUnload("uf-track"),
		},
		{
			// The backend sent the albums' track lists: once the
			// tracks are unloaded, the lists are known and empty, as
			// those of albums pushed again with empty lists (an album
			// whose list only the tracks' inverses made known forgets
			// it instead: the case above).
			name: "b: albums pushed again with their track lists, tracks unloaded",
			push: func(t *testing.T, u *ufModels) {
				ufPushAlbums(t, u)
				ufPushTracks(t, u)
				ufPush(t, u.s, ufAlbums, ufAlbumWithTracks)
			},
			unload: ufUnload("uf-track"),
			ref: func(t *testing.T, u *ufModels) {
				ufPushAlbums(t, u)
				ufPush(t, u.s, ufAlbums, func(i int) string {
					return `{"type":"uf-album","id":"a` + strconv.Itoa(i) + `","attributes":{"title":"album ` + strconv.Itoa(i) +
						`"},"relationships":{"tracks":{"data":[]}}}`
				})
			},
		},
		{
			// The albums' first versions hold the lists of the tracks:
			// once the tracks are unloaded, nothing of those lists may
			// stay. The heap is compared with a Store that loaded the
			// same albums with empty lists.
			name: "b: albums loaded with their track lists, tracks unloaded",
			push: func(t *testing.T, u *ufModels) {
				ufPush(t, u.s, ufAlbums, ufAlbumWithTracks)
				ufPushTracks(t, u)
			},
			unload: ufUnload("uf-track"),
			ref: func(t *testing.T, u *ufModels) {
				ufPush(t, u.s, ufAlbums, func(i int) string {
					return `{"type":"uf-album","id":"a` + strconv.Itoa(i) + `","attributes":{"title":"album ` + strconv.Itoa(i) +
						`"},"relationships":{"tracks":{"data":[]}}}`
				})
			},
		},
		{
			name: "c: posts of tags kept, many-to-many, posts unloaded",
			setup: func(t *testing.T, u *ufModels) {
				ufPush(t, u.s, ufAlbums, func(i int) string {
					return `{"type":"uf-tag","id":"g` + strconv.Itoa(i) + `","attributes":{"name":"tag ` + strconv.Itoa(i) + `"}}`
				})
			},
			push: func(t *testing.T, u *ufModels) {
				ufPush(t, u.s, ufTracks, func(i int) string {
					var tags []string
					for j := range 3 {
						tags = append(tags, `{"type":"uf-tag","id":"g`+strconv.Itoa((i+j*(ufAlbums/3+1))%ufAlbums)+`"}`)
					}
					return `{"type":"uf-post","id":"p` + strconv.Itoa(i) + `","attributes":{"title":"post"},"relationships":{"tags":{"data":[` +
						strings.Join(tags, ",") + `]}}}`
				})
			},
			unload: ufUnload("uf-post"),
		},
		{
			name:  "c: notes naming albums one way, by Key, notes unloaded",
			setup: ufPushAlbums,
			push: func(t *testing.T, u *ufModels) {
				ufPush(t, u.s, ufTracks, func(i int) string {
					a := func(j int) string { return `{"type":"uf-album","id":"a` + strconv.Itoa(j%ufAlbums) + `"}` }
					return `{"type":"uf-note","id":"n` + strconv.Itoa(i) + `","attributes":{"text":"note"},"relationships":{"about":{"data":` +
						a(i) + `},"refs":{"data":[` + a(i+1) + `,` + a(i+2) + `]}}}`
				})
			},
			unload: ufUnload("uf-note"),
		},
		{
			name:  "c: notes naming notes one way, notes unloaded",
			setup: ufPushAlbums,
			push: func(t *testing.T, u *ufModels) {
				// Each note names the next one, which may not be
				// loaded yet: a one-way key makes no entry for it.
				ufPush(t, u.s, ufTracks, func(i int) string {
					return `{"type":"uf-note","id":"m` + strconv.Itoa(i) + `","relationships":{"refs":{"data":[{"type":"uf-note","id":"m` +
						strconv.Itoa((i+1)%ufTracks) + `"}]}}}`
				})
			},
			unload: ufUnload("uf-note"),
		},
		{
			name: "d: records with links and meta, relationship links",
			push: func(t *testing.T, u *ufModels) {
				ufPush(t, u.s, ufTracks, func(i int) string {
					id := strconv.Itoa(i)
					return `{"type":"uf-track","id":"t` + id + `","attributes":{"title":"t"},` +
						`"links":{"self":"/uf-tracks/t` + id + `"},"meta":{"rev":` + id + `},` +
						`"relationships":{"album":{"data":{"type":"uf-album","id":"a` + strconv.Itoa(i%ufAlbums) + `"},` +
						`"links":{"related":"/uf-tracks/t` + id + `/album","self":"/uf-tracks/t` + id + `/relationships/album"},"meta":{"n":1}}}}`
				})
				ufPush(t, u.s, ufAlbums, func(i int) string {
					id := strconv.Itoa(i)
					return `{"type":"uf-album","id":"a` + id + `","links":{"self":"/uf-albums/a` + id + `"},"meta":{"rev":1},` +
						`"relationships":{"tracks":{"links":{"related":"/uf-albums/a` + id + `/tracks"}}}}`
				})
			},
			unload: ufUnload("uf-album", "uf-track"),
		},
		{
			name:  "d: records created locally with Model.Create, related to albums kept",
			setup: ufPushAlbums,
			push: func(t *testing.T, u *ufModels) {
				for i := range ufTracks / 2 {
					a, ok := u.albums.Peek("a" + strconv.Itoa(i%ufAlbums))
					require.True(t, ok)
					_, err := u.tracks.Create(ufTrack{Title: "new " + strconv.Itoa(i), Album: &a})
					require.NoError(t, err)
				}
			},
			unload: ufUnload("uf-track"),
		},
		{
			name:  "d: records created locally and saved (lid aliases), related to albums kept",
			setup: ufPushAlbums,
			push: func(t *testing.T, u *ufModels) {
				ctx := context.Background()
				for i := range ufSaves {
					a, ok := u.albums.Peek("a" + strconv.Itoa(i%ufAlbums))
					require.True(t, ok)
					k, err := u.tracks.Create(ufTrack{Title: "saved " + strconv.Itoa(i), Album: &a})
					require.NoError(t, err)
					nk, err := u.s.Save(ctx, k)
					require.NoError(t, err)
					require.NotEqual(t, k, nk, "the save gave the record an id")
				}
				u.backend.m = nil // what the backend stored is not the Store's
			},
			unload: ufUnload("uf-track"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, pushed, after uint64
			// An OS thread the runtime starts meanwhile is 5.6 KiB of
			// heap that stays (its M), half the slack of the smallest
			// Store: a measure during which one started is taken again.
			for attempt := 1; ; attempt++ {
				threads := pprof.Lookup("threadcreate").Count()
				var extra uint64
				if tc.ref != nil {
					r := ufNew(t)
					b := ufHeap()
					tc.ref(t, r)
					extra = ufHeap() - b
					runtime.KeepAlive(r)
				}
				u := ufNew(t)
				if tc.setup != nil {
					tc.setup(t, u)
				}
				before = ufHeap() + extra // extra: what should stay (ref)
				profile(t, "before")
				tc.push(t, u)
				pushed = ufHeap()
				tc.unload(t, u)
				after = ufHeap()
				profile(t, "after")
				runtime.KeepAlive(u)
				t.Logf("%s", ufFigures(before, pushed, after))
				started := pprof.Lookup("threadcreate").Count() - threads
				if started == 0 || attempt == 3 {
					break
				}
				t.Logf("the runtime started %d OS threads meanwhile: measuring again", started)
			}
			if tc.bug != "" {
				t.Skip("BUG: " + tc.bug)
			}
			assert.LessOrEqual(t, float64(after), float64(before)*(1+slack),
				"the heap after UnloadAll is within 5%% of the heap before the push: %s", ufFigures(before, pushed, after))
		})
	}

	// e: push and unload again and again: the heap after each unload
	// stays within 5% of the first one's.
	t.Run("e: five cycles of push and UnloadAll", func(t *testing.T) {
		u := ufNew(t)
		before := ufHeap()
		var afters []uint64
		for cycle := range 5 {
			ufPushTracks(t, u)
			ufPushAlbums(t, u)
			pushed := ufHeap()
			ufUnload("uf-album", "uf-track")(t, u)
			afters = append(afters, ufHeap())
			t.Logf("cycle %d: %s", cycle+1, ufFigures(before, pushed, afters[cycle]))
		}
		runtime.KeepAlive(u)
		for cycle, after := range afters[1:] {
			assert.LessOrEqual(t, float64(after), float64(afters[0])*(1+slack),
				"cycle %d: the heap after UnloadAll is within 5%% of the first cycle's (%d)", cycle+2, afters[0])
		}
	})
}

// TestUnloadForgetsImpliedRelationships checks what UnloadAll leaves of
// the relationships the unloaded records were in: a relationship that only
// their inverses made known is unknown again, and its slot is gone; one
// the backend sent stays known, and empty; the id map gives the slots it
// grew for them back, and still finds the records kept.
func TestUnloadForgetsImpliedRelationships(t *testing.T) {
	u := ufNew(t)
	ufPush(t, u.s, 4, ufAlbumDoc) // a0-a3: no tracks relationship
	ufPush(t, u.s, 2, func(i int) string {
		return `{"type":"uf-album","id":"b` + strconv.Itoa(i) + `","relationships":{"tracks":{"data":[]}}}`
	})
	small := recstore.IDMapSlots(u.s, "uf-track")
	ufPush(t, u.s, 1000, func(i int) string {
		a := "a" + strconv.Itoa(i%4)
		if i%10 == 0 {
			a = "b" + strconv.Itoa(i%20/10)
		}
		return `{"type":"uf-track","id":"t` + strconv.Itoa(i) + `","relationships":{"album":{"data":{"type":"uf-album","id":"` + a + `"}}}}`
	})
	grown := recstore.IDMapSlots(u.s, "uf-track")
	require.Greater(t, grown, 1000)
	r, ok := u.albums.Related("a1", "tracks")
	require.True(t, ok)
	assert.True(t, r.Known, "the tracks' inverses made it known")
	assert.Len(t, r.Keys, 250)

	// Unload all tracks but two, then those.
	var keep []recstore.Key
	for i := range 1000 {
		if i == 1 || i == 10 {
			keep = append(keep, recstore.Key{Type: "uf-track", ID: "t" + strconv.Itoa(i)})
			continue
		}
		require.NoError(t, u.tracks.Unload("t"+strconv.Itoa(i)))
	}
	assert.Less(t, recstore.IDMapSlots(u.s, "uf-track"), grown/8, "a mostly empty id map shrinks")
	for _, k := range keep {
		_, ok := u.s.Peek(k)
		assert.True(t, ok, "%v is still found", k)
	}
	r, _ = u.albums.Related("a1", "tracks")
	assert.True(t, r.Known)
	assert.Equal(t, keep[:1], r.Keys)
	r, _ = u.albums.Related("a2", "tracks")
	assert.False(t, r.Known, "only inverses made it known, and they left")
	assert.Empty(t, r.Keys)

	require.NoError(t, u.s.UnloadAll("uf-track"))
	assert.Equal(t, small, recstore.IDMapSlots(u.s, "uf-track"))
	for _, id := range []string{"a0", "a1", "a2", "a3"} {
		r, _ := u.albums.Related(id, "tracks")
		assert.False(t, r.Known, id)
		known, keys, slots := recstore.RelState(u.s, recstore.Key{Type: "uf-album", ID: id}, "tracks")
		assert.False(t, known, id)
		assert.Empty(t, keys, id)
		assert.Zero(t, slots, "%s keeps no slot for it", id)
	}
	for _, id := range []string{"b0", "b1"} {
		r, _ := u.albums.Related(id, "tracks")
		assert.True(t, r.Known, "%s: the backend sent it", id)
		assert.Empty(t, r.Keys, id)
		_, keys, _ := recstore.RelState(u.s, recstore.Key{Type: "uf-album", ID: id}, "tracks")
		assert.Nil(t, keys, "%s: an empty list is nil, as a push leaves it", id)
	}

	// A push of the album itself makes it the backend's: it stays known.
	ufPush(t, u.s, 10, ufTrackDoc)
	_, err := u.s.Push(`{"data":{"type":"uf-album","id":"a0","relationships":{"tracks":{"data":[{"type":"uf-track","id":"t0"}]}}}}`)
	require.NoError(t, err)
	require.NoError(t, u.s.UnloadAll("uf-track"))
	r, _ = u.albums.Related("a0", "tracks")
	assert.True(t, r.Known, "a push of a0 set it")
	assert.Empty(t, r.Keys)
}

// BenchmarkUnloadAllFromLocalList unloads n tracks from the tracks list
// of an album changed locally (SetRelated), which each track leaves in
// both layers (removeEverywhere). The list is copied once per commit,
// not once per track (measured on 2 loaded cores: 1,000 tracks 80 ms
// before, 1.4 ms after; 4,000 tracks 1.2 s before, 15 ms after). What
// is left superlinear is each removal's search and shift in the list.
func BenchmarkUnloadAllFromLocalList(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run("tracks="+strconv.Itoa(n), func(b *testing.B) {
			tracks := ufDoc(n, func(i int) string {
				return `{"type":"uf-track","id":"t` + strconv.Itoa(i) + `","relationships":{"album":{"data":{"type":"uf-album","id":"a0"}}}}`
			})
			keys := make([]recstore.Key, 0, n)
			for i := 1; i < n; i++ {
				keys = append(keys, recstore.Key{Type: "uf-track", ID: "t" + strconv.Itoa(i)})
			}
			for b.Loop() {
				b.StopTimer()
				u := ufNew(b)
				_, err := u.s.Push(ufDoc(1, ufAlbumDoc))
				require.NoError(b, err)
				_, err = u.s.Push(tracks)
				require.NoError(b, err)
				require.NoError(b, u.s.SetRelated(recstore.Key{Type: "uf-album", ID: "a0"}, "tracks", keys...))
				b.StartTimer()
				require.NoError(b, u.s.UnloadAll("uf-track"))
			}
		})
	}
}

// ufNew returns a fresh Store with the uf models registered, saving to a
// MemoryAdapter.
func ufNew(t testing.TB) *ufModels {
	t.Helper()
	b := &ufBackend{m: recstoretest.NewMemoryAdapter()}
	s := recstore.New(&recstore.Options{MaxResources: 1 << 20, Adapter: b, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { s.Close() })
	return &ufModels{
		s:       s,
		albums:  recstore.MustRegister[ufAlbum](s, nil),
		tracks:  recstore.MustRegister[ufTrack](s, nil),
		posts:   recstore.MustRegister[ufPost](s, nil),
		tags:    recstore.MustRegister[ufTag](s, nil),
		notes:   recstore.MustRegister[ufNote](s, nil),
		backend: b,
	}
}

// ufFigures reports the heap before a push, after it and after the
// unload, and what the unload left of the push.
func ufFigures(before, pushed, after uint64) string {
	mib := func(n uint64) float64 { return float64(n) / (1 << 20) }
	left := int64(after) - int64(before)
	return fmt.Sprintf("heap before %6.2f MiB, pushed %6.2f MiB (+%6.2f), after unload %6.2f MiB: %+8.1f KiB left, %+6.1f%% of before, %5.1f%% of the push",
		mib(before), mib(pushed), mib(pushed)-mib(before), mib(after), float64(left)/1024,
		100*float64(left)/float64(before), 100*float64(left)/float64(int64(pushed)-int64(before)))
}

// ufFileName makes a test's name a file name: letters, digits and dashes.
func ufFileName(name string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, name), "_")
}
