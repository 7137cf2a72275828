package recstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

type evAlbum struct {
	ID     string     `jsonapi:"primary,ev-albums"`
	Title  string     `jsonapi:"attr,title"`
	Tracks []*evTrack `jsonapi:"relation,tracks" recstore:"inverse=album"`
}

type evTrack struct {
	ID    string   `jsonapi:"primary,ev-tracks"`
	Title string   `jsonapi:"attr,title"`
	Album *evAlbum `jsonapi:"relation,album"`
}

func evStore(t *testing.T, opts *recstore.Options, albumOpts, trackOpts *recstore.ModelOptions) (*recstore.Store, *recstore.Model[evAlbum], *recstore.Model[evTrack]) {
	t.Helper()
	s := recstore.New(opts)
	t.Cleanup(func() { s.Close() })
	return s, recstore.MustRegister[evAlbum](s, albumOpts), recstore.MustRegister[evTrack](s, trackOpts)
}

func evPushTrack(t *testing.T, tracks *recstore.Model[evTrack], id int, album string) {
	t.Helper()
	rel := ""
	if album != "" {
		rel = fmt.Sprintf(`,"relationships":{"album":{"data":{"type":"ev-albums","id":%q}}}`, album)
	}
	_, err := tracks.Push([]byte(fmt.Sprintf(`{"data":{"type":"ev-tracks","id":"%d","attributes":{"title":"t%d"}%s}}`, id, id, rel)))
	require.NoError(t, err)
}

// TestEvict_maxRecords keeps the Store within its bound after every push,
// and counts what it evicted.
func TestEvict_maxRecords(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        *recstore.Options
		trackOpts   *recstore.ModelOptions
		bound       int
		storeCauses bool
	}{
		{"Store bound", &recstore.Options{MaxRecords: 10}, nil, 10, true},
		{"type bound", nil, &recstore.ModelOptions{MaxRecords: 10}, 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, tracks := evStore(t, tc.opts, nil, tc.trackOpts)
			for i := range 100 {
				evPushTrack(t, tracks, i, "")
				require.LessOrEqual(t, tracks.Len(), tc.bound, "after push %d", i)
			}
			st := s.Stats()
			assert.Equal(t, int64(tc.bound), st.Records)
			if tc.storeCauses {
				assert.Equal(t, int64(90), st.Evictions.StoreRecords)
			} else {
				assert.Equal(t, int64(90), st.Evictions.TypeRecords)
				assert.Equal(t, int64(90), st.Types["ev-tracks"].Evictions.Total())
			}
			// FIFO for records never read: the last ten stay.
			for i := 90; i < 100; i++ {
				assert.True(t, tracks.Has(strconv.Itoa(i)), i)
			}
		})
	}
}

// TestEvict_keepsWhatIsRead: records read since they came survive a scan
// of records read once (S3-FIFO's point).
func TestEvict_keepsWhatIsRead(t *testing.T) {
	_, _, tracks := evStore(t, &recstore.Options{MaxRecords: 50}, nil, nil)
	for i := range 20 {
		evPushTrack(t, tracks, i, "")
	}
	for i := range 20 {
		_, ok := tracks.Peek(strconv.Itoa(i))
		require.True(t, ok)
	}
	for i := 1000; i < 1200; i++ { // a scan: each record pushed once, never read
		evPushTrack(t, tracks, i, "")
	}
	for i := range 20 {
		assert.True(t, tracks.Has(strconv.Itoa(i)), "hot record %d evicted", i)
	}
	assert.LessOrEqual(t, tracks.Len(), 50)
}

// TestEvict_neverLocalLife: new, changed, saving, deleted and retained
// records are never evicted; the others make room.
func TestEvict_neverLocalLife(t *testing.T) {
	ad := recstoretest.NewMemoryAdapter(`{"data":{"type":"ev-tracks","id":"1"}}`)
	s, _, tracks := evStore(t, &recstore.Options{MaxRecords: 5, Adapter: ad}, nil, nil)
	newKey, err := tracks.Create(evTrack{Title: "new"})
	require.NoError(t, err)
	evPushTrack(t, tracks, 1, "")
	_, err = tracks.Edit("1", func(tr *evTrack) { tr.Title = "changed" })
	require.NoError(t, err)
	evPushTrack(t, tracks, 2, "")
	require.NoError(t, tracks.Delete("2"))
	evPushTrack(t, tracks, 3, "")
	pin := tracks.Retain("3", "4")
	defer pin.Release()
	for i := 4; i < 40; i++ {
		evPushTrack(t, tracks, i, "")
	}
	assert.True(t, s.Has(newKey), "new")
	assert.True(t, tracks.Has("1"), "changed")
	assert.True(t, tracks.Has("2"), "deleted, not saved")
	assert.True(t, tracks.Has("3"), "retained")
	assert.True(t, tracks.Has("4"), "retained before it was loaded")
	assert.True(t, tracks.Has("39"), "the last push's own record is spared once")
	assert.Equal(t, 6, tracks.Len())

	// Released, they make room again. (Spared records went to the main
	// queue, which records read once never displace: the newcomers are
	// read, so that they reach it.)
	pin.Release()
	pin.Release() // twice is fine
	pushRead := func(from, to int) {
		for i := from; i < to; i++ {
			evPushTrack(t, tracks, i, "")
			_, ok := tracks.Peek(strconv.Itoa(i))
			require.True(t, ok)
		}
	}
	pushRead(40, 60)
	assert.False(t, tracks.Has("3"))
	assert.False(t, tracks.Has("4"))
	assert.True(t, tracks.Has("1"), "still changed")
	// Saved, a record is evictable like any other.
	_, err = tracks.Save(context.Background(), "1")
	require.NoError(t, err)
	pushRead(60, 80)
	assert.False(t, tracks.Has("1"))
}

// TestEvict_inverses: an evicted record leaves its inverses, as Unload
// does, and subscribers see it removed.
func TestEvict_inverses(t *testing.T) {
	s, albums, tracks := evStore(t, nil, nil, &recstore.ModelOptions{MaxRecords: 3})
	_, err := albums.Push([]byte(`{"data":{"type":"ev-albums","id":"a"}}`))
	require.NoError(t, err)
	var mu sync.Mutex
	var removed []string
	sub := tracks.Subscribe(func(evs []recstore.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			if ev.Kind == recstore.EventRemoved {
				removed = append(removed, ev.Key.ID)
			}
		}
	})
	defer sub.Close()
	for i := range 5 {
		evPushTrack(t, tracks, i, "a")
	}
	a, ok := albums.Peek("a")
	require.True(t, ok)
	var ids []string
	for _, tr := range a.Tracks {
		ids = append(ids, tr.ID)
	}
	assert.Equal(t, []string{"2", "3", "4"}, ids)
	rel, _ := s.Related(recstore.Key{Type: "ev-albums", ID: "a"}, "tracks")
	assert.Len(t, rel.Keys, 3)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(removed) == 2 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []string{"0", "1"}, removed)
}

// TestEvict_maxBytes keeps the estimated size within the bound.
func TestEvict_maxBytes(t *testing.T) {
	s, _, tracks := evStore(t, &recstore.Options{MaxBytes: 64 << 10}, nil, nil)
	big := strings.Repeat("x", 1000)
	for i := range 300 {
		_, err := tracks.Push([]byte(fmt.Sprintf(`{"data":{"type":"ev-tracks","id":"%d","attributes":{"title":%q}}}`, i, big)))
		require.NoError(t, err)
		require.LessOrEqual(t, s.Stats().Bytes, int64(64<<10)+2000, "after push %d", i) // the push's own record is spared once
	}
	st := s.Stats()
	assert.Positive(t, st.Evictions.StoreBytes)
	assert.Greater(t, st.Bytes, int64(50<<10), "about full")
	assert.Greater(t, st.Bytes/st.Records, int64(1000), "a record's estimate holds its title")
}

// TestEvict_findReloads: a Find of an evicted record asks the backend
// again; a big answer is not evicted before Find reads it.
func TestEvict_findReloads(t *testing.T) {
	ad := recstoretest.NewMemoryAdapter(`{"data":[` + strings.Join(func() []string {
		var out []string
		for i := range 20 {
			out = append(out, fmt.Sprintf(`{"type":"ev-tracks","id":"%d"}`, i))
		}
		return out
	}(), ",") + `]}`)
	s, _, tracks := evStore(t, &recstore.Options{Adapter: ad, MaxRecords: 5}, nil, nil)
	ctx := context.Background()
	got, err := tracks.FindAll(ctx, &recstore.FindOptions{BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	assert.Len(t, got, 20, "the answer is read whole")
	assert.Equal(t, 20, tracks.Len(), "spared until the next change")
	evPushTrack(t, tracks, 100, "")
	assert.Equal(t, 5, tracks.Len(), "the next change makes room")
	assert.False(t, tracks.Has("0"), "the oldest, never read since")
	_, err = tracks.Find(ctx, "0", &recstore.FindOptions{BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	assert.LessOrEqual(t, tracks.Len(), 5)
	assert.Equal(t, 1, ad.Calls("FindRecord"), "evicted, so loaded again")
	assert.Equal(t, int64(1), s.Stats().Misses)
}

// TestEvict_boundsAfterRegister: a model registered with a bound after
// records were loaded bounds them too.
func TestEvict_boundsAfterRegister(t *testing.T) {
	s := recstore.New(nil)
	tracks := recstore.MustRegister[evTrack](s, nil)
	for i := range 20 {
		evPushTrack(t, tracks, i, "")
	}
	type evOther struct {
		ID string `jsonapi:"primary,ev-others"`
	}
	recstore.MustRegister[evOther](s, &recstore.ModelOptions{MaxRecords: 1})
	assert.Equal(t, int64(20), s.Stats().Records, "the new model's bound is its own")
	assert.Positive(t, s.Stats().Bytes, "sizes known once bounds are on")
}
