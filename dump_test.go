package recstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The models of the Dump and Restore tests: an album with attributes of
// every codec, a to-one label (no inverse), tracks (one-to-many, inverse
// dmptrack.album), genres (many-to-many, inverse dmpgenre.albums), and
// one-way Key relations.

type dmpAlbum struct {
	ID       string         `jsonapi:"primary,dmpalbum"`
	Title    string         `jsonapi:"attr,title"`
	Year     int            `jsonapi:"attr,year"`
	Rating   float64        `jsonapi:"attr,rating"`
	Small    int8           `jsonapi:"attr,small"`
	Count    uint32         `jsonapi:"attr,count"`
	Ratio    float32        `jsonapi:"attr,ratio"`
	Live     bool           `jsonapi:"attr,live"`
	Released time.Time      `jsonapi:"attr,released"`
	Remaster *time.Time     `jsonapi:"attr,remaster"`
	Note     *string        `jsonapi:"attr,note"`
	Plays    *int64         `jsonapi:"attr,plays"`
	Tags     []string       `jsonapi:"attr,tags"`
	Extra    map[string]any `jsonapi:"attr,extra"`
	Any      any            `jsonapi:"attr,any"`
	Point    dmpPoint       `jsonapi:"attr,point"`
	Label    *dmpLabel      `jsonapi:"relation,label"`
	Tracks   []*dmpTrack    `jsonapi:"relation,tracks" recstore:"inverse=album"`
	Genres   []*dmpGenre    `jsonapi:"relation,genres" recstore:"inverse=albums"`
	Related  []recstore.Key `jsonapi:"relation,related"`
	Cover    recstore.Key   `jsonapi:"relation,cover"`
}

type dmpPoint struct {
	X, Y int
	Name string
}

type dmpTrack struct {
	ID     string    `jsonapi:"primary,dmptrack"`
	Title  string    `jsonapi:"attr,title"`
	Length uint16    `jsonapi:"attr,length"`
	Album  *dmpAlbum `jsonapi:"relation,album" recstore:"inverse=tracks"`
}

type dmpGenre struct {
	ID     int64       `jsonapi:"primary,dmpgenre"`
	Name   string      `jsonapi:"attr,name"`
	Albums []*dmpAlbum `jsonapi:"relation,albums" recstore:"inverse=genres"`
}

type dmpLabel struct {
	ID   string `jsonapi:"primary,dmplabel"`
	Name string `jsonapi:"attr,name"`
}

var dmpTypes = []string{"dmpalbum", "dmpgenre", "dmplabel", "dmptrack"}

// dmpM is a Store with the dmp models.
type dmpM struct {
	s      *recstore.Store
	albums *recstore.Model[dmpAlbum]
	tracks *recstore.Model[dmpTrack]
	genres *recstore.Model[dmpGenre]
	labels *recstore.Model[dmpLabel]
}

// dmpNow is the time on the clock of the dmp Stores, so that two Stores
// that load the same records stamp them alike.
var dmpNow = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

// dmpNew returns a Store with the dmp models, and ad as its Adapter.
func dmpNew(ad recstore.Adapter) *dmpM {
	return dmpNewWith(&recstore.Options{Adapter: ad})
}

// dmpNewWith returns a Store with the dmp models and opts, on dmpNow's
// clock unless opts has one.
func dmpNewWith(opts *recstore.Options) *dmpM {
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return dmpNow }
	}
	s := recstore.New(opts)
	return &dmpM{
		s:      s,
		albums: recstore.MustRegister[dmpAlbum](s, nil),
		tracks: recstore.MustRegister[dmpTrack](s, nil),
		genres: recstore.MustRegister[dmpGenre](s, nil),
		labels: recstore.MustRegister[dmpLabel](s, nil),
	}
}

// dmpStore returns the Store of dmpNew.
func dmpStore(_ testing.TB, ad recstore.Adapter) *recstore.Store { return dmpNew(ad).s }

// dmpDoc is what the rich store loads: two albums with every attribute
// kind, links and meta; a genre (2) and records (dmplabel l9, dmptrack t9)
// known only by reference.
const dmpDoc = `{
 "data": [
  {"type": "dmpalbum", "id": "a1",
   "attributes": {"title": "Blue", "year": 1971, "rating": 4.75, "small": -8, "count": 4000000000,
     "ratio": 0.5, "live": true, "released": "1971-06-22T10:11:12.123456789+02:00",
     "remaster": "2021-01-02T03:04:05Z", "note": "a note", "plays": 9007199254740993,
     "tags": ["folk", "pop"], "extra": {"n": 1.5, "s": "x", "nested": {"a": [1, "two", null]}},
     "any": [1, {"b": true}], "point": {"X": 1, "Y": -2, "Name": "p"}},
   "relationships": {
     "label": {"data": {"type": "dmplabel", "id": "l1"}, "links": {"related": "/albums/a1/label"}},
     "tracks": {"data": [{"type": "dmptrack", "id": "t1"}, {"type": "dmptrack", "id": "t2"}]},
     "genres": {"data": [{"type": "dmpgenre", "id": "1"}, {"type": "dmpgenre", "id": "2"}], "meta": {"count": 2}},
     "related": {"data": [{"type": "dmplabel", "id": "l9"}, {"type": "dmpalbum", "id": "a2"}]},
     "cover": {"data": {"type": "dmptrack", "id": "t9"}}},
   "links": {"self": "/albums/a1"}, "meta": {"etag": "abc", "big": 12345678901234567890}},
  {"type": "dmpalbum", "id": "a2",
   "attributes": {"title": "Court and Spark", "year": 1974, "released": "1974-01-01T00:00:00Z"},
   "relationships": {
     "label": {"data": {"type": "dmplabel", "id": "l1"}},
     "tracks": {"data": [{"type": "dmptrack", "id": "t3"}]},
     "genres": {"data": [{"type": "dmpgenre", "id": "1"}]}}}
 ],
 "included": [
  {"type": "dmplabel", "id": "l1", "attributes": {"name": "Reprise"}},
  {"type": "dmptrack", "id": "t1", "attributes": {"title": "All I Want", "length": 214}},
  {"type": "dmptrack", "id": "t2", "attributes": {"title": "My Old Man", "length": 215}},
  {"type": "dmptrack", "id": "t3", "attributes": {"title": "Help Me", "length": 222}},
  {"type": "dmptrack", "id": "t4", "attributes": {"title": "Single"}, "relationships": {"album": {"data": null}}},
  {"type": "dmpgenre", "id": "1", "attributes": {"name": "Folk"}}
 ]
}`

// dmpRich is a Store holding every kind of state Dump writes, and the
// keys of the records the tests look at besides those Keys lists.
type dmpRich struct {
	*dmpM
	backend *recstoretest.MemoryAdapter
	extra   []recstore.Key // records not listed (saved deletions), local identifiers
	newLID  recstore.Key   // a label created without an id, not saved
	oldLID  recstore.Key   // a label created without an id, saved since
	lidTrk  recstore.Key   // a track created without an id, on album a2
}

func newDmpRich(t testing.TB) *dmpRich {
	t.Helper()
	m := recstoretest.NewMemoryAdapter(dmpDoc)
	r := &dmpRich{dmpM: dmpNew(m), backend: m}
	s := r.s
	_, err := s.Push([]byte(dmpDoc))
	require.NoError(t, err)
	ctx := context.Background()

	// Created here: with an id, without one (saved or not), and one on a
	// relationship with an inverse.
	_, err = r.genres.Create(dmpGenre{ID: 99, Name: "Jazz"})
	require.NoError(t, err)
	r.newLID, err = r.labels.Create(dmpLabel{Name: "Unsaved"})
	require.NoError(t, err)
	r.oldLID, err = r.labels.Create(dmpLabel{Name: "Asylum"})
	require.NoError(t, err)
	_, err = s.Save(ctx, r.oldLID)
	require.NoError(t, err)
	r.lidTrk, err = r.tracks.Create(dmpTrack{Title: "Free Man", Album: &dmpAlbum{ID: "a2"}})
	require.NoError(t, err)

	// Local changes of attributes and relationships (a1's genres lose 2,
	// which is known only by reference).
	_, err = r.albums.Edit("a1", func(a *dmpAlbum) {
		a.Title = "Blue (edited)"
		note := "edited note"
		a.Note = &note
		a.Tags = append(a.Tags, "edited")
		a.Plays = nil
	})
	require.NoError(t, err)
	require.NoError(t, s.SetRelated(recstore.Key{Type: "dmpalbum", ID: "a1"}, "genres", recstore.Key{Type: "dmpgenre", ID: "1"}))

	// Deleted, not saved; and deleted and saved.
	require.NoError(t, r.tracks.Delete("t2"))
	require.NoError(t, r.tracks.Delete("t3"))
	_, err = s.Save(ctx, recstore.Key{Type: "dmptrack", ID: "t3"})
	require.NoError(t, err)

	// A save refused as invalid, and one that failed.
	_, err = r.labels.Edit("l1", func(l *dmpLabel) { l.Name = "" })
	require.NoError(t, err)
	m.FailNext("UpdateRecord", recstoretest.Invalid("/data/attributes/name", "can't be blank"))
	_, err = s.Save(ctx, recstore.Key{Type: "dmplabel", ID: "l1"})
	require.ErrorIs(t, err, recstore.ErrInvalid)
	_, err = r.albums.Edit("a2", func(a *dmpAlbum) { a.Year = 1975 })
	require.NoError(t, err)
	m.FailNext("UpdateRecord", &recstore.BackendError{Status: 500})
	_, err = s.Save(ctx, recstore.Key{Type: "dmpalbum", ID: "a2"})
	require.ErrorIs(t, err, recstore.ErrServer)

	r.extra = []recstore.Key{
		{Type: "dmptrack", ID: "t3"}, r.newLID, r.oldLID, r.lidTrk,
		{Type: "dmpgenre", ID: "2"}, {Type: "dmplabel", ID: "l9"}, {Type: "dmptrack", ID: "t9"},
	}
	// What the setup should have made, so that the round trip tests it.
	require.Equal(t, recstore.StatusUpdated, s.State(recstore.Key{Type: "dmpalbum", ID: "a1"}).Status)
	require.NotEmpty(t, s.ChangedRelationships(recstore.Key{Type: "dmpalbum", ID: "a1"}))
	require.Equal(t, recstore.StatusDeleted, s.State(recstore.Key{Type: "dmptrack", ID: "t2"}).Status)
	require.Equal(t, recstore.StatusDeletedSaved, s.State(recstore.Key{Type: "dmptrack", ID: "t3"}).Status)
	require.NotEmpty(t, s.State(recstore.Key{Type: "dmplabel", ID: "l1"}).Errors)
	require.Error(t, s.State(recstore.Key{Type: "dmpalbum", ID: "a2"}).Err)
	require.NotEqual(t, r.oldLID, s.Resolve(r.oldLID))
	require.Equal(t, r.newLID, s.Resolve(r.newLID))
	require.Equal(t, recstore.StatusCreated, s.State(r.lidTrk).Status)
	return r
}

// dump returns s's snapshot.
func dmpDump(t testing.TB, s *recstore.Store) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, s.Dump(context.Background(), &b))
	return b.Bytes()
}

// dmpSameStore checks that got holds what want does, as every read
// shows it: records in order, values, states, changes, relationships,
// links and meta; and that both dump the same bytes.
func dmpSameStore(t *testing.T, want, got *recstore.Store, extra ...recstore.Key) {
	t.Helper()
	for _, typ := range want.Types() {
		require.Equal(t, want.Keys(typ), got.Keys(typ), typ)
		require.Equal(t, want.Len(typ), got.Len(typ), typ)
		for _, k := range append(want.Keys(typ), extra...) {
			if k.Type != typ {
				continue
			}
			dmpSameRecord(t, want, got, k)
		}
	}
	require.Equal(t, dmpDump(t, want), dmpDump(t, got), "the dumps differ")
}

func dmpSameRecord(t *testing.T, want, got *recstore.Store, k recstore.Key) {
	t.Helper()
	require.Equal(t, want.Has(k), got.Has(k), k)
	require.Equal(t, want.Resolve(k), got.Resolve(k), k)
	wv, wok := want.Peek(k)
	gv, gok := got.Peek(k)
	require.Equal(t, wok, gok, k)
	require.Equal(t, wv, gv, k)
	ws, gs := want.State(k), got.State(k)
	require.Equal(t, dmpErrText(ws.Err), dmpErrText(gs.Err), k)
	ws.Err, gs.Err = nil, nil
	require.Equal(t, ws, gs, k)
	require.Equal(t, want.ChangedAttributes(k), got.ChangedAttributes(k), k)
	require.Equal(t, want.ChangedRelationships(k), got.ChangedRelationships(k), k)
	require.Equal(t, want.Links(k), got.Links(k), k)
	require.Equal(t, want.Meta(k), got.Meta(k), k)
	if snap, ok := want.Snapshot(k); ok {
		for r := range snap.Relationships() {
			wr, _ := want.Related(k, r.Name)
			gr, _ := got.Related(k, r.Name)
			require.Equal(t, wr, gr, "%v %s", k, r.Name)
		}
	}
}

func dmpErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// restore restores snap into a new dmp Store with adapter ad.
func dmpRestore(t *testing.T, snap []byte, ad recstore.Adapter) *dmpM {
	t.Helper()
	m := dmpNew(ad)
	require.NoError(t, m.s.Restore(context.Background(), bytes.NewReader(snap)))
	return m
}

func TestDumpRestoreRoundTrip(t *testing.T) {
	r := newDmpRich(t)
	snap := dmpDump(t, r.s)
	gm := dmpRestore(t, snap, r.backend) // the same backend, after a restart
	got := gm.s
	dmpSameStore(t, r.s, got, r.extra...)

	a1 := recstore.Key{Type: "dmpalbum", ID: "a1"}
	require.Equal(t, map[string]recstore.Change{
		"genres": {Old: []recstore.Key{{Type: "dmpgenre", ID: "1"}, {Type: "dmpgenre", ID: "2"}}, New: []recstore.Key{{Type: "dmpgenre", ID: "1"}}},
	}, got.ChangedRelationships(a1))
	require.Contains(t, got.ChangedAttributes(a1), "title")
	require.Equal(t, "Reprise", got.ChangedAttributes(recstore.Key{Type: "dmplabel", ID: "l1"})["name"].Old)
	assert.Equal(t, map[string][]string{"name": {"can't be blank"}}, got.State(recstore.Key{Type: "dmplabel", ID: "l1"}).Errors)
	a, ok := gm.albums.Peek("a1")
	require.True(t, ok)
	assert.Equal(t, "1971-06-22T10:11:12.123456789+02:00", a.Released.Format(time.RFC3339Nano))
	assert.Equal(t, "", a.Label.Name, "as edited")

	// The restored Store goes on as the original does.
	steps := []struct {
		name string
		do   func(s *recstore.Store) error
	}{
		{"rollback a1", func(s *recstore.Store) error { return s.Rollback(a1) }},
		{"rollback the new track", func(s *recstore.Store) error { return s.Rollback(r.lidTrk) }},
		{"rollback l1", func(s *recstore.Store) error { return s.Rollback(recstore.Key{Type: "dmplabel", ID: "l1"}) }},
		{"push genre 2", func(s *recstore.Store) error {
			_, err := s.Push([]byte(`{"data": {"type": "dmpgenre", "id": "2", "attributes": {"name": "Pop"}}}`))
			return err
		}},
		{"edit a label by its old lid", func(s *recstore.Store) error {
			return s.SetAttr(r.oldLID, "name", "Asylum Records")
		}},
		{"unload a2", func(s *recstore.Store) error { return s.Unload(recstore.Key{Type: "dmpalbum", ID: "a2"}) }},
		{"create a label", func(s *recstore.Store) error {
			_, err := s.Create(dmpLabel{Name: "Geffen"})
			return err
		}},
	}
	for _, step := range steps {
		require.NoError(t, step.do(r.s), step.name)
		require.NoError(t, step.do(got), step.name)
		dmpSameStore(t, r.s, got, r.extra...)
	}
	g2, ok := gm.genres.Related("2", "albums")
	require.True(t, ok)
	assert.Equal(t, []recstore.Key{a1}, g2.Keys, "genre 2 kept, by reference, the album that rolled back to it")

	// A record created here and restored is saved as one created here.
	k, err := got.Save(context.Background(), r.newLID)
	require.NoError(t, err)
	assert.NotEqual(t, r.newLID, k)
	assert.Equal(t, k, got.Resolve(r.newLID))
	assert.Equal(t, recstore.StatusLoaded, got.State(k).Status)
}

func TestRestoreEmptyStore(t *testing.T) {
	empty := dmpDump(t, dmpStore(t, nil))
	s := dmpRestore(t, empty, nil).s
	for _, typ := range dmpTypes {
		assert.Zero(t, s.Len(typ))
	}
	assert.Equal(t, empty, dmpDump(t, s))
	// An empty snapshot restores into a Store with other models too.
	other := recstore.New(nil)
	recstore.MustRegister[Album](other, nil)
	require.NoError(t, other.Restore(context.Background(), bytes.NewReader(empty)))
}

// dmpSmall is a small snapshot with a bit of everything: for the tests
// that try every byte of one.
func dmpSmall(t testing.TB) []byte {
	t.Helper()
	m := dmpNew(nil)
	s := m.s
	_, err := s.Push([]byte(`{"data": {"type": "dmpalbum", "id": "a1",
	  "attributes": {"title": "Blue", "released": "1971-06-22T10:11:12+02:00", "tags": ["folk"]},
	  "relationships": {"tracks": {"data": [{"type": "dmptrack", "id": "t1"}]},
	    "genres": {"data": [{"type": "dmpgenre", "id": "1"}], "links": {"related": "/g"}}},
	  "meta": {"m": 1}},
	 "included": [{"type": "dmptrack", "id": "t1", "attributes": {"title": "All I Want"}}]}`))
	require.NoError(t, err)
	_, err = m.labels.Create(dmpLabel{Name: "New"})
	require.NoError(t, err)
	_, err = m.albums.Edit("a1", func(a *dmpAlbum) { a.Title = "Edited" })
	require.NoError(t, err)
	return dmpDump(t, s)
}

// dmpRequireEmpty checks that s holds nothing: no type has records, and a
// snapshot restores into it.
func dmpRequireEmpty(t *testing.T, s *recstore.Store, what string) {
	t.Helper()
	for _, typ := range s.Types() {
		require.Zero(t, s.Len(typ), "%s: %s", what, typ)
	}
	_, ok := s.Peek(recstore.Key{Type: "dmpalbum", ID: "a1"})
	require.False(t, ok, what)
	require.Equal(t, dmpDump(t, dmpStore(t, nil)), dmpDump(t, s), what)
}

func TestRestoreTruncated(t *testing.T) {
	snap := dmpSmall(t)
	s := dmpStore(t, nil) // one Store for every try: each must leave it empty
	for n := range len(snap) {
		err := s.Restore(context.Background(), bytes.NewReader(snap[:n]))
		require.ErrorIs(t, err, recstore.ErrBadSnapshot, "cut at %d", n)
		var se *recstore.SnapshotError
		require.ErrorAs(t, err, &se)
		require.LessOrEqual(t, se.Offset, int64(n), "cut at %d", n)
		if n >= 10 { // past the header, every cut is at a frame's end or inside one
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", n)
		}
		for _, typ := range dmpTypes {
			require.Zero(t, s.Len(typ), "cut at %d", n)
		}
	}
	dmpRequireEmpty(t, s, "after every cut")
	require.NoError(t, s.Restore(context.Background(), bytes.NewReader(snap)))
	assert.Equal(t, snap, dmpDump(t, s))
}

func TestRestoreCorrupt(t *testing.T) {
	snap := dmpSmall(t)
	s := dmpStore(t, nil)
	for i := range snap {
		for _, bit := range []byte{0x01, 0x80} {
			bad := slices.Clone(snap)
			bad[i] ^= bit
			err := s.Restore(context.Background(), bytes.NewReader(bad))
			require.ErrorIs(t, err, recstore.ErrBadSnapshot, "byte %d ^ %#x", i, bit)
			for _, typ := range dmpTypes {
				require.Zero(t, s.Len(typ), "byte %d ^ %#x", i, bit)
			}
		}
	}
	dmpRequireEmpty(t, s, "after every flip")
}

func TestRestoreRejects(t *testing.T) {
	snap := dmpSmall(t)
	version := slices.Clone(snap)
	binary.BigEndian.PutUint16(version[8:], 2)
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty input", nil, "truncated"},
		{"not a snapshot", []byte(`{"data": []}`), "not a recstore snapshot"},
		{"a header only", slices.Clone(snap[:10]), "ends before its end frame"},
		{"other magic", append([]byte("RSDUMP\x00\x00\x00\x01"), snap[10:]...), "not a recstore snapshot"},
		{"format version 2", version, "format version 2"},
		{"data after the end", append(slices.Clone(snap), 0), "data after the end"},
		{"a second snapshot after the end", append(slices.Clone(snap), snap...), "data after the end"},
		{"an end frame that miscounts", dmpSnap(dmpFrame('E', 3, 4, 0)), "end frame counts"},
		{"an unknown frame", dmpSnap(dmpFrame('X')), "unknown frame kind"},
		{"a frame length past 64 bits", append(slices.Clone(snap[:10]), 'R', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), "malformed frame length"},
		{"a frame length past 2 GiB", append(slices.Clone(snap[:10]), 'R', 0x80, 0x80, 0x80, 0x80, 0x10), "frame of 4294967296 bytes"},
		{"records before a type", dmpSnap(dmpFrame('R', 1, 2, 'a', 'b')), "records before any type"},
		{"a type twice", dmpSnap(dmpLabelFrame(0), dmpLabelFrame(0)), "appears twice"},
		{"more records than announced", dmpSnap(dmpLabelFrame(0), dmpFrame('R', 1, 2, 'l', '1', 0, 0)), "more records"},
		{"fewer records than announced", dmpSnap(dmpLabelFrame(2), dmpFrame('R', 1, 2, 'l', '1', 0, 0), dmpFrame('E', 1, 1, 0)), "announced 2"},
		{"unknown record flags", dmpSnap(dmpLabelFrame(1), dmpFrame('R', 0x80, 0x01, 2, 'l', '1', 0, 0)), "unknown record flags"},
		{"a record with no id", dmpSnap(dmpLabelFrame(1), dmpFrame('R', 1, 0, 0, 0)), "no id"},
		{"a count past the frame", dmpSnap(dmpLabelFrame(1), dmpFrame('R', 1, 9, 'l')), "past the end of its frame"},
		{"a frame left over", dmpSnap(dmpLabelFrame(1), dmpFrame('R', 1, 2, 'l', '1', 0, 0, 7)), "more records"},
		{"an id twice", dmpSnap(dmpLabelFrame(2), dmpFrame('R', 1, 2, 'l', '1', 0, 0, 1, 2, 'l', '1', 0, 0), dmpFrame('E', 2, 1, 0)), "appears twice"},
		{"a lid without its prefix", dmpSnap(dmpLabelFrame(1), dmpFrame('R', 3, 2, 'l', '1', 2, 'l', '1', 0, 0)), "lacks the prefix"},
		{"a bad codec", dmpSnap(dmpFrame('M', 8, 'd', 'm', 'p', 'l', 'a', 'b', 'e', 'l', 1, 4, 'n', 'a', 'm', 'e', 99, 0, 0)), "unknown codec"},
		{"a bad key type", dmpSnap(dmpTrackFrame(1), dmpFrame('R', 0, 2, 't', '1', 1, 0, 1, 5, 1, 'x')), "key type 5 of 0"},
		{"a zero key in a to-many", dmpSnap(dmpAlbumRelsFrame(1), dmpFrame('R', 0, 2, 'a', '1', 1, 0, 1, 2, 0)), "zero key"},
		{"a relationship twice", dmpSnap(dmpAlbumRelsFrame(1), dmpFrame('R', 0, 2, 'a', '1', 2, 0, 1, 1, 0, 1, 1)), "appears twice"},
		{"links that are not an object", dmpSnap(dmpLabelFrame(1), dmpFrame('R', 1|16, 2, 'l', '1', 0, 0, 2, '[', ']', 0, 0)), "not a JSON object"},
		{"a loaded record's state without values", dmpSnap(dmpLabelFrame(1), dmpFrame('R', 1|8, 2, 'l', '1', 0, 0, 0, 0, 0, 0, 0)), "no backend values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dmpStore(t, nil)
			err := s.Restore(context.Background(), bytes.NewReader(tt.input))
			require.ErrorIs(t, err, recstore.ErrBadSnapshot)
			require.ErrorContains(t, err, tt.want)
			dmpRequireEmpty(t, s, tt.name)
		})
	}
}

// dmpFrame returns one frame of the snapshot format, as Dump writes it:
// kind, payload length, payload, CRC-32C.
func dmpFrame(kind byte, payload ...byte) []byte {
	b := binary.AppendUvarint([]byte{kind}, uint64(len(payload)))
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// dmpSnap returns a snapshot of the given frames: the header, the frames,
// and an end frame counting one type and its records if the last frame
// is not one.
func dmpSnap(frames ...[]byte) []byte {
	b := []byte("\x89RSDUMP\n\x00\x01")
	for _, f := range frames {
		b = append(b, f...)
	}
	if last := frames[len(frames)-1]; last[0] != 'E' {
		b = append(b, dmpFrame('E', 1, 1, 0)...)
	}
	return b
}

// dmpLabelFrame is the 'M' frame of dmplabel (attribute name, a string),
// announcing n records.
func dmpLabelFrame(n byte) []byte {
	return dmpFrame('M', 8, 'd', 'm', 'p', 'l', 'a', 'b', 'e', 'l', 1, 4, 'n', 'a', 'm', 'e', 1, 0, n)
}

// dmpTrackFrame is an 'M' frame of dmptrack with no attributes and its
// to-one album, announcing n records.
func dmpTrackFrame(n byte) []byte {
	return dmpFrame('M', 8, 'd', 'm', 'p', 't', 'r', 'a', 'c', 'k', 0, 1, 5, 'a', 'l', 'b', 'u', 'm', 0, n)
}

// dmpAlbumRelsFrame is an 'M' frame of dmpalbum with no attributes and
// its to-many tracks, announcing n records.
func dmpAlbumRelsFrame(n byte) []byte {
	return dmpFrame('M', 8, 'd', 'm', 'p', 'a', 'l', 'b', 'u', 'm', 0, 1, 6, 't', 'r', 'a', 'c', 'k', 's', 1, n)
}

func TestRestoreHandMade(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		check func(t *testing.T, m *dmpM)
	}{
		{"an empty snapshot", dmpSnap(dmpFrame('E', 0, 0, 0)), func(t *testing.T, m *dmpM) {}},
		{"a type with no model and no records", dmpSnap(dmpFrame('M', 4, 'n', 'o', 'n', 'e', 0, 0, 0), dmpFrame('E', 0, 1, 0)), func(t *testing.T, m *dmpM) {}},
		{"a record known only by reference", dmpSnap(dmpTrackFrame(1), dmpFrame('R', 0, 2, 't', '1', 1, 0, 1, 1, 8, 'd', 'm', 'p', 'a', 'l', 'b', 'u', 'm', 2, 'a', '1')), func(t *testing.T, m *dmpM) {
			assert.Zero(t, m.tracks.Len())
			_, err := m.s.Push([]byte(`{"data": {"type": "dmptrack", "id": "t1"}}`))
			require.NoError(t, err)
			tr, _ := m.tracks.Related("t1", "album")
			assert.Equal(t, []recstore.Key{{Type: "dmpalbum", ID: "a1"}}, tr.Keys)
		}},
		{"an attribute the model does not have", dmpSnap(dmpFrame('M', 8, 'd', 'm', 'p', 'l', 'a', 'b', 'e', 'l', 2, 3, 'o', 'l', 'd', 14, 4, 'n', 'a', 'm', 'e', 1, 0, 1),
			dmpFrame('R', 1, 2, 'l', '1', 3, '[', '1', ']', 1, 'N', 0)), func(t *testing.T, m *dmpM) {
			l, ok := m.labels.Peek("l1")
			require.True(t, ok)
			assert.Equal(t, dmpLabel{ID: "l1", Name: "N"}, l)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := dmpNew(nil)
			require.NoError(t, m.s.Restore(context.Background(), bytes.NewReader(tt.input)))
			tt.check(t, m)
		})
	}
}

// dmpErrReader fails after its data.
type dmpErrReader struct {
	r   io.Reader
	err error
}

func (e *dmpErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestRestoreReadError(t *testing.T) {
	snap := dmpSmall(t)
	boom := errors.New("disk on fire")
	s := dmpStore(t, nil)
	err := s.Restore(context.Background(), &dmpErrReader{bytes.NewReader(snap[:len(snap)/2]), boom})
	require.ErrorIs(t, err, boom)
	require.NotErrorIs(t, err, recstore.ErrBadSnapshot)
	dmpRequireEmpty(t, s, "read error")
}

func TestRestoreNotEmpty(t *testing.T) {
	snap := dmpSmall(t)
	tests := []struct {
		name string
		fill func(s *recstore.Store) error
	}{
		{"a record", func(s *recstore.Store) error {
			_, err := s.Push([]byte(`{"data": {"type": "dmplabel", "id": "x"}}`))
			return err
		}},
		{"a record created here", func(s *recstore.Store) error {
			_, err := s.Create(dmpLabel{Name: "x"})
			return err
		}},
		{"a restore", func(s *recstore.Store) error { return s.Restore(context.Background(), bytes.NewReader(snap)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dmpStore(t, nil)
			require.NoError(t, tt.fill(s))
			before := dmpDump(t, s)
			err := s.Restore(context.Background(), bytes.NewReader(snap))
			require.ErrorIs(t, err, recstore.ErrNotEmpty)
			assert.Equal(t, before, dmpDump(t, s), "a refused Restore changes nothing")
		})
	}
	// Unloaded records leave nothing behind: a Store emptied so takes a
	// snapshot.
	s := dmpStore(t, nil)
	_, err := s.Push([]byte(`{"data": {"type": "dmplabel", "id": "x"}}`))
	require.NoError(t, err)
	require.NoError(t, s.UnloadAll())
	require.NoError(t, s.Restore(context.Background(), bytes.NewReader(snap)))
	// So does a record known only by reference once its referrers leave.
	s = dmpStore(t, nil)
	_, err = s.Push([]byte(`{"data": {"type": "dmptrack", "id": "x", "relationships": {"album": {"data": {"type": "dmpalbum", "id": "zz"}}}}}`))
	require.NoError(t, err)
	require.NoError(t, s.Unload(recstore.Key{Type: "dmptrack", ID: "x"}))
	_, known := s.Related(recstore.Key{Type: "dmpalbum", ID: "zz"}, "tracks")
	assert.False(t, known, "forgotten")
	require.NoError(t, s.Restore(context.Background(), bytes.NewReader(snap)))
}

func TestDumpRestoreContext(t *testing.T) {
	r := newDmpRich(t)
	snap := dmpDump(t, r.s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	var b bytes.Buffer
	require.ErrorIs(t, r.s.Dump(ctx, &b), context.Canceled)

	s := dmpStore(t, nil)
	require.ErrorIs(t, s.Restore(ctx, bytes.NewReader(snap)), context.Canceled)
	dmpRequireEmpty(t, s, "cancelled before")

	// Cancelled while reading: a reader that cancels once half is read.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	half := &dmpCancelReader{r: bytes.NewReader(snap), after: len(snap) / 2, cancel: cancel}
	require.ErrorIs(t, s.Restore(ctx, half), context.Canceled)
	dmpRequireEmpty(t, s, "cancelled while reading")
}

// dmpCancelReader cancels a context once after bytes were read, and goes on
// reading.
type dmpCancelReader struct {
	r      io.Reader
	after  int
	read   int
	cancel func()
}

func (c *dmpCancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p[:min(len(p), 64)])
	if c.read += n; c.read >= c.after {
		c.cancel()
	}
	return n, err
}

func TestDumpWriteError(t *testing.T) {
	r := newDmpRich(t)
	boom := errors.New("disk full")
	err := r.s.Dump(context.Background(), dmpFailWriter{boom})
	require.ErrorIs(t, err, boom)
}

type dmpFailWriter struct{ err error }

func (f dmpFailWriter) Write([]byte) (int, error) { return 0, f.err }

// dmpHeld is a MemoryAdapter whose next write is held until release.
type dmpHeld struct {
	*recstoretest.MemoryAdapter
	entered, release chan struct{}
}

func (h *dmpHeld) UpdateRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	h.entered <- struct{}{}
	<-h.release
	return h.MemoryAdapter.UpdateRecord(ctx, req)
}

func (h *dmpHeld) DeleteRecord(ctx context.Context, req *recstore.Request) error {
	h.entered <- struct{}{}
	<-h.release
	return h.MemoryAdapter.DeleteRecord(ctx, req)
}

func TestDumpSaveInFlight(t *testing.T) {
	h := &dmpHeld{MemoryAdapter: recstoretest.NewMemoryAdapter(dmpDoc), entered: make(chan struct{}), release: make(chan struct{})}
	m := dmpNew(h)
	s := m.s
	_, err := s.Push([]byte(dmpDoc))
	require.NoError(t, err)
	a1 := recstore.Key{Type: "dmpalbum", ID: "a1"}
	t1 := recstore.Key{Type: "dmptrack", ID: "t1"}
	_, err = m.albums.Edit("a1", func(a *dmpAlbum) { a.Title = "Sent" })
	require.NoError(t, err)
	require.NoError(t, s.SetRelated(a1, "genres"))
	require.NoError(t, s.Delete(t1))

	var wg sync.WaitGroup
	for _, k := range []recstore.Key{a1, t1} {
		wg.Go(func() {
			_, err := s.Save(context.Background(), k)
			assert.NoError(t, err)
		})
		<-h.entered
	}
	// Edited while the save is in flight: a change on top of the one sent.
	_, err = m.albums.Edit("a1", func(a *dmpAlbum) { a.Year = 2000 })
	require.NoError(t, err)
	require.True(t, s.State(a1).Saving)
	changed, rels := s.ChangedAttributes(a1), s.ChangedRelationships(a1)

	gm := dmpRestore(t, dmpDump(t, s), nil)
	got := gm.s
	close(h.release)
	wg.Wait()

	assert.Equal(t, recstore.State{Status: recstore.StatusUpdated}, got.State(a1), "a save in flight restores as unsaved changes")
	assert.Equal(t, changed, got.ChangedAttributes(a1))
	assert.Equal(t, rels, got.ChangedRelationships(a1))
	assert.Equal(t, recstore.State{Status: recstore.StatusDeleted}, got.State(t1), "a deletion in flight restores as a deletion")
	require.NoError(t, got.Rollback(a1))
	a, _ := gm.albums.Peek("a1")
	assert.Equal(t, "Blue", a.Title)
	assert.Equal(t, 1971, a.Year)
}

// dmpAgeAdapter is a MemoryAdapter whose answers to FindRecord carry an
// expiry, as Cache-Control headers would.
type dmpAgeAdapter struct{ *recstoretest.MemoryAdapter }

func (a dmpAgeAdapter) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	req.SetMaxAge(10*time.Minute, time.Minute)
	return a.MemoryAdapter.FindRecord(ctx, req)
}

func TestDumpRestoreFreshness(t *testing.T) {
	now := dmpNow
	clock := func() time.Time { return now }
	opts := func() *recstore.Options {
		return &recstore.Options{
			Adapter: dmpAgeAdapter{recstoretest.NewMemoryAdapter(dmpDoc)},
			Expiry:  &recstore.Expiry{Soft: time.Hour, Hard: 2 * time.Hour, FromHeaders: true},
			Clock:   clock,
		}
	}
	m := dmpNewWith(opts())
	_, err := m.s.Push([]byte(`{"data": [{"type": "dmplabel", "id": "pushed"}, {"type": "dmplabel", "id": "invalid"}]}`))
	require.NoError(t, err)
	now = now.Add(time.Minute)
	_, err = m.labels.Find(context.Background(), "l1", nil)
	require.NoError(t, err)
	require.NoError(t, m.s.Invalidate(recstore.Key{Type: "dmplabel", ID: "invalid"}))
	created, err := m.labels.Create(dmpLabel{Name: "new"})
	require.NoError(t, err)
	now = now.Add(20 * time.Minute)

	got := dmpNewWith(opts())
	require.NoError(t, got.s.Restore(context.Background(), bytes.NewReader(dmpDump(t, m.s))))
	for _, k := range []recstore.Key{{Type: "dmplabel", ID: "pushed"}, {Type: "dmplabel", ID: "invalid"}, {Type: "dmplabel", ID: "l1"}, created} {
		want, ok := m.s.Freshness(k)
		require.True(t, ok, k)
		f, ok := got.s.Freshness(k)
		require.True(t, ok, k)
		assert.Equal(t, want, f, k)
	}
	f, _ := got.s.Freshness(recstore.Key{Type: "dmplabel", ID: "l1"})
	assert.True(t, dmpNow.Add(11*time.Minute).Equal(f.SoftExpires), "the expiry the answer gave, not the type's: %v", f.SoftExpires)
	assert.True(t, dmpNow.Add(12*time.Minute).Equal(f.HardExpires), f.HardExpires)
	assert.True(t, f.Expired)
	f, _ = got.s.Freshness(recstore.Key{Type: "dmplabel", ID: "invalid"})
	assert.True(t, f.Invalidated)
	f, _ = got.s.Freshness(created)
	assert.Zero(t, f.LoadedAt, "never loaded")
}

func TestDumpExactScalars(t *testing.T) {
	m := dmpNew(nil)
	s := m.s
	_, err := s.Push([]byte(`{"data": {"type": "dmpalbum", "id": "a1"}}`))
	require.NoError(t, err)
	zone := time.FixedZone("CEST", 2*3600)
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456789, zone)
	plays := int64(math.MinInt64)
	_, err = m.albums.Edit("a1", func(a *dmpAlbum) {
		a.Title = "bad \xff utf-8"
		a.Rating = math.NaN()
		a.Ratio = float32(math.Inf(-1))
		a.Small = math.MinInt8
		a.Count = math.MaxUint32
		a.Released = when
		local := when.Local()
		a.Remaster = &local
		a.Plays = &plays
	})
	require.NoError(t, err)

	gm := dmpRestore(t, dmpDump(t, s), nil)
	got := gm.s
	a, ok := gm.albums.Peek("a1")
	require.True(t, ok)
	assert.Equal(t, "bad \xff utf-8", a.Title)
	assert.True(t, math.IsNaN(a.Rating))
	assert.True(t, math.IsInf(float64(a.Ratio), -1))
	assert.Equal(t, int8(math.MinInt8), a.Small)
	assert.Equal(t, uint32(math.MaxUint32), a.Count)
	assert.True(t, when.Equal(a.Released))
	assert.Equal(t, "CEST", a.Released.Location().String())
	assert.Equal(t, time.Local, a.Remaster.Location())
	assert.Equal(t, plays, *a.Plays)
	// NaN is not a change from NaN: the restored record's changes are the
	// original's.
	assert.Equal(t, dmpKeysOf(s.ChangedAttributes(recstore.Key{Type: "dmpalbum", ID: "a1"})),
		dmpKeysOf(got.ChangedAttributes(recstore.Key{Type: "dmpalbum", ID: "a1"})))
}

func dmpKeysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestDumpUnencodable(t *testing.T) {
	m := dmpNew(nil)
	s := m.s
	_, err := s.Push([]byte(`{"data": {"type": "dmpalbum", "id": "a1"}}`))
	require.NoError(t, err)
	_, err = m.albums.Edit("a1", func(a *dmpAlbum) { a.Extra = map[string]any{"x": math.Inf(1)} })
	require.NoError(t, err)
	err = s.Dump(context.Background(), io.Discard)
	var je *json.UnsupportedValueError
	require.ErrorAs(t, err, &je)
	require.ErrorContains(t, err, `dmpalbum "a1": attribute extra`)
}

// The models of a later version of the program, under the same type
// names.

type dmpAlbumV2 struct { // year and note gone, an attribute and a relationship added
	ID       string         `jsonapi:"primary,dmpalbum"`
	Title    string         `jsonapi:"attr,title"`
	Rating   float64        `jsonapi:"attr,rating"`
	Small    int8           `jsonapi:"attr,small"`
	Count    uint32         `jsonapi:"attr,count"`
	Ratio    float32        `jsonapi:"attr,ratio"`
	Live     bool           `jsonapi:"attr,live"`
	Released time.Time      `jsonapi:"attr,released"`
	Remaster *time.Time     `jsonapi:"attr,remaster"`
	Plays    *int64         `jsonapi:"attr,plays"`
	Tags     []string       `jsonapi:"attr,tags"`
	Extra    map[string]any `jsonapi:"attr,extra"`
	Any      any            `jsonapi:"attr,any"`
	Point    dmpPoint       `jsonapi:"attr,point"`
	Added    string         `jsonapi:"attr,added"`
	Cover    recstore.Key   `jsonapi:"relation,cover"` // moved up: relationships in another order
	Label    *dmpLabel      `jsonapi:"relation,label"`
	Tracks   []*dmpTrackV2  `jsonapi:"relation,tracks" recstore:"inverse=album"`
	Genres   []*dmpGenreV2  `jsonapi:"relation,genres" recstore:"inverse=albums"`
	Producer recstore.Key   `jsonapi:"relation,producer"`
}

type dmpTrackV2 struct {
	ID     string      `jsonapi:"primary,dmptrack"`
	Title  string      `jsonapi:"attr,title"`
	Length uint16      `jsonapi:"attr,length"`
	Album  *dmpAlbumV2 `jsonapi:"relation,album" recstore:"inverse=tracks"`
}

type dmpGenreV2 struct {
	ID     int64         `jsonapi:"primary,dmpgenre"`
	Name   string        `jsonapi:"attr,name"`
	Albums []*dmpAlbumV2 `jsonapi:"relation,albums" recstore:"inverse=genres"`
}

type dmpAlbumYearString struct {
	ID    string `jsonapi:"primary,dmpalbum"`
	Title string `jsonapi:"attr,title"`
	Year  string `jsonapi:"attr,year"`
}

type dmpAlbumTagsMap struct {
	ID   string         `jsonapi:"primary,dmpalbum"`
	Tags map[string]int `jsonapi:"attr,tags"`
}

type dmpAlbumOneGenre struct {
	ID     string       `jsonapi:"primary,dmpalbum"`
	Genres recstore.Key `jsonapi:"relation,genres"`
}

type dmpTrackIntID struct {
	ID    int    `jsonapi:"primary,dmptrack"`
	Title string `jsonapi:"attr,title"`
}

func TestRestoreChangedModels(t *testing.T) {
	r := newDmpRich(t)
	snap := dmpDump(t, r.s)

	s := recstore.New(nil)
	albums := recstore.MustRegister[dmpAlbumV2](s, nil)
	recstore.MustRegister[dmpTrackV2](s, nil)
	recstore.MustRegister[dmpGenreV2](s, nil)
	recstore.MustRegister[dmpLabel](s, nil)
	require.NoError(t, s.Restore(context.Background(), bytes.NewReader(snap)))
	a, ok := albums.Peek("a1")
	require.True(t, ok)
	assert.Equal(t, "Blue (edited)", a.Title)
	assert.Equal(t, "", a.Added)
	assert.Equal(t, recstore.Key{Type: "dmptrack", ID: "t9"}, a.Cover)
	assert.Equal(t, "", a.Label.Name)
	producer, ok := albums.Related("a1", "producer")
	require.True(t, ok)
	assert.False(t, producer.Known)
	ch := s.ChangedAttributes(recstore.Key{Type: "dmpalbum", ID: "a1"})
	assert.Equal(t, []string{"plays", "tags", "title"}, dmpKeysOf(ch), "note's change went with the attribute")
	assert.Equal(t, "Blue", ch["title"].Old)
	a2 := recstore.Key{Type: "dmpalbum", ID: "a2"}
	assert.Nil(t, s.ChangedAttributes(a2), "a2's only attribute change was to year, which is gone")
	assert.NotNil(t, s.ChangedRelationships(a2), "the track created on it")
	require.NoError(t, s.Rollback(recstore.Key{Type: "dmpalbum", ID: "a1"}))
	a, _ = albums.Peek("a1")
	assert.Len(t, a.Genres, 1, "genre 2 is known only by reference")
	g2 := recstore.Key{Type: "dmpgenre", ID: "2"}
	_, err := s.Push([]byte(`{"data": {"type": "dmpgenre", "id": "2"}}`))
	require.NoError(t, err)
	rel, _ := s.Related(g2, "albums")
	assert.Equal(t, []recstore.Key{{Type: "dmpalbum", ID: "a1"}}, rel.Keys)

	tests := []struct {
		name     string
		register func(s *recstore.Store)
		want     []error
		msg      string
	}{
		{"a type with no model", func(s *recstore.Store) {
			recstore.MustRegister[dmpAlbum](s, nil)
			recstore.MustRegister[dmpTrack](s, nil)
			recstore.MustRegister[dmpLabel](s, nil)
		}, []error{recstore.ErrSnapshotMismatch, recstore.ErrUnknownType}, `"dmpgenre"`},
		{"an attribute of another kind", func(s *recstore.Store) {
			recstore.MustRegister[dmpAlbumYearString](s, nil)
			recstore.MustRegister[dmpTrack](s, nil)
			recstore.MustRegister[dmpGenre](s, nil)
			recstore.MustRegister[dmpLabel](s, nil)
		}, []error{recstore.ErrSnapshotMismatch}, "dmpalbum.year"},
		{"a JSON attribute of another type", func(s *recstore.Store) {
			recstore.MustRegister[dmpAlbumTagsMap](s, nil)
			recstore.MustRegister[dmpTrack](s, nil)
			recstore.MustRegister[dmpGenre](s, nil)
			recstore.MustRegister[dmpLabel](s, nil)
		}, []error{recstore.ErrSnapshotMismatch, recstore.ErrInvalidAttribute}, "tags"},
		{"a to-many now to-one", func(s *recstore.Store) {
			recstore.MustRegister[dmpAlbumOneGenre](s, nil)
			recstore.MustRegister[dmpTrack](s, nil)
			recstore.MustRegister[dmpGenre](s, nil)
			recstore.MustRegister[dmpLabel](s, nil)
		}, []error{recstore.ErrSnapshotMismatch}, "dmpalbum.genres"},
		{"an id that no longer fits", func(s *recstore.Store) {
			recstore.MustRegister[dmpAlbum](s, nil)
			recstore.MustRegister[dmpTrackIntID](s, nil)
			recstore.MustRegister[dmpGenre](s, nil)
			recstore.MustRegister[dmpLabel](s, nil)
		}, []error{recstore.ErrSnapshotMismatch}, `"t1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := recstore.New(nil)
			tt.register(s)
			err := s.Restore(context.Background(), bytes.NewReader(snap))
			for _, want := range tt.want {
				require.ErrorIs(t, err, want)
			}
			require.NotErrorIs(t, err, recstore.ErrBadSnapshot)
			require.ErrorContains(t, err, tt.msg)
			for _, typ := range s.Types() {
				require.Zero(t, s.Len(typ))
			}
		})
	}
}

func TestRestoreEvents(t *testing.T) {
	r := newDmpRich(t)
	snap := dmpDump(t, r.s)
	s := dmpStore(t, nil)
	var mu sync.Mutex
	var got []recstore.Event
	done := make(chan struct{}, 16)
	sub := s.Subscribe(&recstore.SubscribeOptions{Type: "dmpalbum"}, func(evs []recstore.Event) {
		mu.Lock()
		got = append(got, evs...)
		mu.Unlock()
		done <- struct{}{}
	})
	defer sub.Close()
	require.NoError(t, s.Restore(context.Background(), bytes.NewReader(snap)))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no events")
	}
	mu.Lock()
	defer mu.Unlock()
	var keys []recstore.Key
	for _, ev := range got {
		assert.Equal(t, recstore.EventAdded, ev.Kind)
		keys = append(keys, ev.Key)
	}
	assert.Equal(t, r.s.Keys("dmpalbum"), keys, "one batch of additions, in the order Keys lists")
}

func TestRestoreView(t *testing.T) {
	r := newDmpRich(t)
	snap := dmpDump(t, r.s)
	m := dmpNew(nil)
	s := m.s
	v := m.tracks.View(func(tr *dmpTrack) bool { return strings.HasPrefix(tr.Title, "A") })
	defer v.Close()
	require.NoError(t, s.Restore(context.Background(), bytes.NewReader(snap)))
	assert.Equal(t, 1, v.Len())
}

func TestDumpConcurrentPushes(t *testing.T) {
	s := dmpStore(t, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			doc := `{"data": {"type": "dmptrack", "id": "t` + string(rune('a'+i%26)) + `", "attributes": {"title": "x"},
			  "relationships": {"album": {"data": {"type": "dmpalbum", "id": "a` + string(rune('a'+i%7)) + `"}}}}}`
			if _, err := s.Push([]byte(doc)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 50 {
		snap := dmpDump(t, s)
		got := dmpRestore(t, snap, nil)
		require.Equal(t, snap, dmpDump(t, got.s))
	}
	close(stop)
	wg.Wait()
}

func TestRestoreBounded(t *testing.T) {
	r := newDmpRich(t)
	snap := dmpDump(t, r.s)
	m := dmpNewWith(&recstore.Options{MaxRecords: 4})
	require.NoError(t, m.s.Restore(context.Background(), bytes.NewReader(snap)))
	// As a push of them: the restore's own records are spared until the
	// next change, which evicts down to the bound (records with local
	// changes are never evicted).
	_, err := m.s.Push([]byte(`{"data": {"type": "dmplabel", "id": "late"}}`))
	require.NoError(t, err)
	total, clean := 0, 0
	for _, typ := range dmpTypes {
		total += m.s.Len(typ)
		for _, k := range m.s.Keys(typ) {
			if m.s.State(k).Status == recstore.StatusLoaded {
				clean++
			}
		}
	}
	assert.Less(t, total, r.s.Len("dmpalbum")+r.s.Len("dmptrack")+r.s.Len("dmpgenre")+r.s.Len("dmplabel")+1)
	assert.LessOrEqual(t, clean, 4)
}
