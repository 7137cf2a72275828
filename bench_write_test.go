package recstore_test

// Benchmarks of the write side. The target is a ratio measured in
// the same run: a local edit of one attribute must not cost more than a
// push of the same record (BenchmarkPushSameRecord, the baseline), the
// record as the backend would send it back with the same change.
//
//	go test -run '^$' -bench 'Edit|PushSameRecord|SaveRoundTrip' -benchmem
//
// Each benchmark runs on three shapes of one album: attributes only; with
// its label as a recstore.Key; with its label as a filled *WBLabel.

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/require"
)

// WBAlbum is an album with attributes only.
type WBAlbum struct {
	ID        string `jsonapi:"primary,album"`
	Title     string `jsonapi:"attr,title"`
	Artist    string `jsonapi:"attr,artist"`
	SongCount int    `jsonapi:"attr,songCount"`
}

// WBKeyAlbum holds its label as a Key.
type WBKeyAlbum struct {
	ID        string       `jsonapi:"primary,album"`
	Title     string       `jsonapi:"attr,title"`
	Artist    string       `jsonapi:"attr,artist"`
	SongCount int          `jsonapi:"attr,songCount"`
	Label     recstore.Key `jsonapi:"relation,label"`
}

// WBPtrAlbum holds its label as a filled pointer.
type WBPtrAlbum struct {
	ID        string   `jsonapi:"primary,album"`
	Title     string   `jsonapi:"attr,title"`
	Artist    string   `jsonapi:"attr,artist"`
	SongCount int      `jsonapi:"attr,songCount"`
	Label     *WBLabel `jsonapi:"relation,label"`
}

// WBLabel is the albums' label.
type WBLabel struct {
	ID   string `jsonapi:"primary,label"`
	Name string `jsonapi:"attr,name"`
}

// wbTitles are the titles the timed loops alternate between; the backend
// has "Title 0", so every edit and every push changes the title.
var wbTitles = [2]string{"Title 1", "Title 2"}

// wbDoc writes album 1 as a JSON:API document with title, and with its
// label (a relationship, and the label included) if label.
func wbDoc(title string, label bool) []byte {
	attrs := fmt.Sprintf(`"attributes":{"title":%q,"artist":"David Bazan","songCount":10}`, title)
	if !label {
		return []byte(`{"data":{"type":"album","id":"1",` + attrs + `}}`)
	}
	return []byte(`{"data":{"type":"album","id":"1",` + attrs +
		`,"relationships":{"label":{"data":{"type":"label","id":"1"}}}},` +
		`"included":[{"type":"label","id":"1","attributes":{"name":"Barsuk"}}]}`)
}

// wbShape runs fn as one sub-benchmark per album shape, each with a
// store, made by wbStore, that holds album 1.
func wbShape(b *testing.B, opts *recstore.Options, fn func(b *testing.B, s *recstore.Store, e editor)) {
	b.Run("shape=attrs", func(b *testing.B) {
		s, m := wbStore[WBAlbum](b, opts, false)
		fn(b, s, typedEditor[WBAlbum]{m, func(a *WBAlbum, t string) { a.Title = t }, false})
	})
	b.Run("shape=label-key", func(b *testing.B) {
		s, m := wbStore[WBKeyAlbum](b, opts, true)
		fn(b, s, typedEditor[WBKeyAlbum]{m, func(a *WBKeyAlbum, t string) { a.Title = t }, true})
	})
	b.Run("shape=label-pointer", func(b *testing.B) {
		s, m := wbStore[WBPtrAlbum](b, opts, true)
		fn(b, s, typedEditor[WBPtrAlbum]{m, func(a *WBPtrAlbum, t string) { a.Title = t }, true})
	})
}

// wbStore returns a store, and its model T, holding album 1 with the
// title "Title 0".
func wbStore[T any](b *testing.B, opts *recstore.Options, label bool) (*recstore.Store, *recstore.Model[T]) {
	s := recstore.New(opts)
	b.Cleanup(func() { s.Close() })
	m := recstore.MustRegister[T](s, nil)
	recstore.MustRegister[WBLabel](s, nil)
	_, err := s.Push(wbDoc("Title 0", label))
	require.NoError(b, err)
	return s, m
}

// An editor edits, pushes and saves album 1 of one shape, so that one
// benchmark body serves every shape without an interface call inside
// Model's methods.
type editor interface {
	edit(title string) error
	push(doc []byte) error
	save(ctx context.Context) error
	label() bool
}

type typedEditor[T any] struct {
	m        *recstore.Model[T]
	setTitle func(*T, string)
	hasLabel bool
}

func (e typedEditor[T]) edit(title string) error {
	_, err := e.m.Edit("1", func(a *T) { e.setTitle(a, title) })
	return err
}

func (e typedEditor[T]) push(doc []byte) error {
	_, err := e.m.Push(doc)
	return err
}

func (e typedEditor[T]) save(ctx context.Context) error {
	_, err := e.m.Save(ctx, "1")
	return err
}

func (e typedEditor[T]) label() bool { return e.hasLabel }

// BenchmarkEdit edits one attribute of a loaded album with Model.Edit and
// reads its changes with Model.ChangedAttributes, as a form would.
func BenchmarkEdit(b *testing.B) {
	key := recstore.Key{Type: "album", ID: "1"}
	wbShape(b, nil, func(b *testing.B, s *recstore.Store, e editor) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := e.edit(wbTitles[i&1]); err != nil {
				b.Fatal(err)
			}
			if len(s.ChangedAttributes(key)) != 1 {
				b.Fatal("want one changed attribute")
			}
			i++
		}
	})
}

// BenchmarkEditOnly is BenchmarkEdit without ChangedAttributes.
func BenchmarkEditOnly(b *testing.B) {
	wbShape(b, nil, func(b *testing.B, s *recstore.Store, e editor) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := e.edit(wbTitles[i&1]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkPushSameRecord is the edits' baseline: a push of the same
// album, with the same attributes (and label), whose title changes as the
// edit's does, into the same kind of store. "store" is Store.Push (keys
// back); "model" is Model.Push (copies back, as Edit returns one).
func BenchmarkPushSameRecord(b *testing.B) {
	wbShape(b, nil, func(b *testing.B, s *recstore.Store, e editor) {
		docs := [2][]byte{wbDoc(wbTitles[0], e.label()), wbDoc(wbTitles[1], e.label())}
		b.Run("push=store", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.Push(docs[i&1]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("push=model", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := e.push(docs[i&1]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}

// nopUpdater is the least an Adapter that saves can do: it takes every
// update and answers nothing (a 204), so that a save's cost is the
// Store's and the Serializer's alone.
type nopUpdater struct{}

func (nopUpdater) FindRecord(context.Context, *recstore.Request) ([]byte, error) {
	return nil, errors.New("nopUpdater: not a finder")
}

func (nopUpdater) UpdateRecord(context.Context, *recstore.Request) ([]byte, error) { return nil, nil }

var _ recstore.Updater = nopUpdater{}

// BenchmarkSaveRoundTrip edits one attribute and saves the album with
// Model.Save: through nopUpdater, and through a recstoretest.MemoryAdapter
// (which decodes the body, merges it into the stored record, encodes that
// and answers it; the Store then merges the answer).
func BenchmarkSaveRoundTrip(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, s *recstore.Store, e editor) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := e.edit(wbTitles[i&1]); err != nil {
				b.Fatal(err)
			}
			if err := e.save(ctx); err != nil {
				b.Fatal(err)
			}
			i++
		}
		if st := s.State(recstore.Key{Type: "album", ID: "1"}); st.IsDirty() {
			b.Fatalf("state %s after the saves", st.Name())
		}
	}
	b.Run("adapter=nop", func(b *testing.B) {
		wbShape(b, &recstore.Options{Adapter: nopUpdater{}}, run)
	})
	b.Run("adapter=memory", func(b *testing.B) {
		// The backend's copy, as a JSON:API server writes it.
		backend := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "1",
			"attributes": {"title": "Title 0", "artist": "David Bazan", "song-count": 10},
			"relationships": {"label": {"data": {"type": "labels", "id": "1"}}}},
			"included": [{"type": "labels", "id": "1", "attributes": {"name": "Barsuk"}}]}`)
		wbShape(b, &recstore.Options{Adapter: backend}, run)
	})
}
