package recstore_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/recstore/recstore"
)

// The quick start: register a model, push a document, peek a record.
func Example() {
	type Album struct {
		ID        string `jsonapi:"primary,album"`
		Title     string `jsonapi:"attr,title"`
		SongCount int    `jsonapi:"attr,songCount"`
	}

	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, nil)
	_, err := store.Push(`{"data": {"type": "album", "id": 1,
		"attributes": {"title": "Fewer Moving Parts", "songCount": 10}}}`)
	a, ok := albums.Peek("1")
	fmt.Printf("%+v %v %v\n", a, ok, err)
	// Output: {ID:1 Title:Fewer Moving Parts SongCount:10} true <nil>
}

// Pushes merge: attributes a document omits keep their values.
func ExampleStore_Push() {
	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, nil)
	keys, err := store.Push(map[string]any{
		"data": []any{
			map[string]any{"id": 1, "type": "album", "attributes": map[string]any{
				"title": "Fewer Moving Parts", "artist": "David Bazan", "songCount": 10}},
			map[string]any{"id": 2, "type": "album", "attributes": map[string]any{
				"title": "Calgary", "artist": "Bon Iver", "songCount": 2}},
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(keys)

	// Only the title changes; the artist and song count stay.
	if _, err := store.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "Fewer Moving Parts (Live)"}}}`); err != nil {
		panic(err)
	}
	a, _ := albums.Peek("1")
	fmt.Println(a.Title, "/", a.Artist, "/", a.SongCount)
	// Output:
	// [album:1 album:2]
	// Fewer Moving Parts (Live) / David Bazan / 10
}

// Model.Push returns the typed primary records, with relations filled.
func ExampleModel_Push() {
	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, nil)
	recstore.MustRegister[Label](store, nil)
	recstore.MustRegister[Track](store, nil)

	pushed, err := albums.Push(`{
		"data": {"type": "album", "id": "1", "attributes": {"title": "Hospice"},
			"relationships": {"label": {"data": {"type": "label", "id": "7"}}}},
		"included": [{"type": "label", "id": "7", "attributes": {"name": "Frenchkiss"}}]}`)
	if err != nil {
		panic(err)
	}
	fmt.Println(pushed[0].Title, "on", pushed[0].Label.Name)
	// Output: Hospice on Frenchkiss
}

// Inverses stay in step: moving a track to another album takes it off the
// first one.
func ExampleStore_Related() {
	store := recstore.New(nil)
	recstore.MustRegister[Album](store, nil)
	recstore.MustRegister[Label](store, nil)
	tracks := recstore.MustRegister[Track](store, nil)

	_, err := store.Push(`{"data": [
		{"type": "album", "id": "1", "relationships": {"tracks": {"data": [
			{"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}}},
		{"type": "album", "id": "2"}]}`)
	if err != nil {
		panic(err)
	}
	if _, err := tracks.Push(`{"data": {"type": "track", "id": "a",
		"relationships": {"album": {"data": {"type": "album", "id": "2"}}}}}`); err != nil {
		panic(err)
	}
	for _, id := range []string{"1", "2"} {
		rel, _ := store.Related(recstore.Key{Type: "album", ID: id}, "tracks")
		fmt.Println("album", id, "tracks", rel.Keys, "not loaded", rel.NotLoaded)
	}
	// Output:
	// album 1 tracks [track:b] not loaded [track:b]
	// album 2 tracks [track:a] not loaded []
}

// A failed push says where the document is wrong, and changes nothing.
func ExampleDocumentError() {
	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, nil)

	_, err := store.Push(`{"data": [
		{"type": "album", "id": "1", "attributes": {"title": "ok"}},
		{"type": "album", "id": "2", "attributes": {"songCount": "ten"}}]}`)

	var de *recstore.DocumentError
	if errors.As(err, &de) {
		fmt.Println("pointer:", de.Pointer)
	}
	var ae *recstore.AttributeError
	if errors.As(err, &ae) {
		fmt.Println("attribute:", ae.Attr, "value:", ae.Value, "go type:", ae.GoType)
	}
	fmt.Println("invalid document:", errors.Is(err, recstore.ErrInvalidDocument))
	fmt.Println("albums stored:", albums.Len())
	// Output:
	// pointer: /data/1/attributes/songCount
	// attribute: songCount value: "ten" go type: int
	// invalid document: true
	// albums stored: 0
}

// Unloading a record clears the inverse side of its relationships.
func ExampleStore_Unload() {
	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, nil)
	recstore.MustRegister[Label](store, nil)
	recstore.MustRegister[Track](store, nil)

	_, err := store.Push(strings.NewReader(`{"data": {"type": "album", "id": "1",
		"relationships": {"tracks": {"data": [{"type": "track", "id": "a"}]}}},
		"included": [{"type": "track", "id": "a", "attributes": {"title": "Bear Tracks"}}]}`))
	if err != nil {
		panic(err)
	}
	a, _ := albums.Peek("1")
	fmt.Println("tracks before:", len(a.Tracks), a.Tracks[0].Title)

	store.Unload(recstore.Key{Type: "track", ID: "a"})
	a, _ = albums.Peek("1")
	fmt.Println("tracks after:", len(a.Tracks))
	// Output:
	// tracks before: 1 Bear Tracks
	// tracks after: 0
}
