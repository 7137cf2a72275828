package recstore_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/recstore/recstore"
)

// Dump writes the whole Store, local changes included, and Restore reads
// it into a new Store with the same models: how a service warms up from
// disk after a restart (write to a file instead of a bytes.Buffer).
func ExampleStore_Dump() {
	type Track struct {
		ID    string `jsonapi:"primary,track"`
		Title string `jsonapi:"attr,title"`
	}
	type Album struct {
		ID     string   `jsonapi:"primary,album"`
		Title  string   `jsonapi:"attr,title"`
		Tracks []*Track `jsonapi:"relation,tracks"`
	}
	open := func() (*recstore.Store, *recstore.Model[Album]) {
		s := recstore.New(nil)
		recstore.MustRegister[Track](s, nil)
		return s, recstore.MustRegister[Album](s, nil)
	}

	store, albums := open()
	_, err := store.Push([]byte(`{"data": {"type": "album", "id": "1", "attributes": {"title": "Blue"},
	  "relationships": {"tracks": {"data": [{"type": "track", "id": "t1"}]}}},
	 "included": [{"type": "track", "id": "t1", "attributes": {"title": "All I Want"}}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := albums.Edit("1", func(a *Album) { a.Title = "Blue (remastered)" }); err != nil {
		fmt.Println(err)
		return
	}
	var snapshot bytes.Buffer
	if err := store.Dump(context.Background(), &snapshot); err != nil {
		fmt.Println(err)
		return
	}

	restarted, albums := open()
	if err := restarted.Restore(context.Background(), &snapshot); err != nil {
		fmt.Println(err)
		return
	}
	a, _ := albums.Peek("1")
	fmt.Println(a.Title, "/", a.Tracks[0].Title)
	fmt.Println(albums.State("1").Name())
	printChanges(albums.ChangedAttributes("1"))

	// A Store that holds records takes no snapshot.
	fmt.Println(store.Restore(context.Background(), bytes.NewReader(nil)))
	// Output:
	// Blue (remastered) / All I Want
	// root.loaded.updated.uncommitted
	//   title: Blue -> Blue (remastered)
	// recstore: store is not empty: type "album" holds 1 records or references
}
