package recstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

// printChanges prints a record's changed attributes, sorted by name.
func printChanges(changes map[string]recstore.Change) {
	if len(changes) == 0 {
		fmt.Println("  no changes")
	}
	for _, name := range slices.Sorted(maps.Keys(changes)) {
		c := changes[name]
		fmt.Printf("  %s: %v -> %v\n", name, c.Old, c.New)
	}
}

// Create adds a record the backend does not have yet. Without an id it
// goes by a local identifier, which Save swaps for the id the backend
// gives it; the key Create returned goes on naming the record.
func ExampleModel_Create() {
	type Album struct {
		ID        string `jsonapi:"primary,album"`
		Title     string `jsonapi:"attr,title"`
		SongCount int    `jsonapi:"attr,songCount"`
	}
	backend := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "41", "attributes": {"title": "Hospice"}}}`)
	store := recstore.New(&recstore.Options{Adapter: backend})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)

	k, err := albums.Create(Album{Title: "Fewer Moving Parts", SongCount: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.ID, albums.State(k.ID).Name())
	printChanges(albums.ChangedAttributes(k.ID))

	saved, err := albums.Save(context.Background(), k.ID)
	fmt.Printf("%+v %v\n", saved, err)
	fmt.Println(store.Resolve(k), store.State(k).Name(), backend.Has("album", saved.ID))
	a, ok := albums.Peek(k.ID) // the local identifier still names it
	fmt.Println(a.ID, ok)
	// Output:
	// @lid:album-1 root.loaded.created.uncommitted
	//   songCount: <nil> -> 10
	//   title: <nil> -> Fewer Moving Parts
	// {ID:42 Title:Fewer Moving Parts SongCount:10} <nil>
	// album:42 root.loaded.saved true
	// 42 true
}

// Edit changes a record locally; ChangedAttributes reports what differs
// from the backend's values, and Rollback puts them back.
func ExampleModel_Edit() {
	type Album struct {
		ID        string `jsonapi:"primary,album"`
		Title     string `jsonapi:"attr,title"`
		SongCount int    `jsonapi:"attr,songCount"`
	}
	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, nil)
	_, err := albums.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "Hospice", "songCount": 10}}}`)
	if err != nil {
		fmt.Println(err)
		return
	}

	a, err := albums.Edit("1", func(a *Album) {
		a.Title = "Hospice (Deluxe)"
		a.SongCount = 12
	})
	fmt.Printf("%+v %v %s\n", a, err, albums.State("1").Name())
	printChanges(albums.ChangedAttributes("1"))

	// Setting an attribute back to the backend's value makes it clean.
	_, _ = albums.Edit("1", func(a *Album) { a.SongCount = 10 })
	printChanges(albums.ChangedAttributes("1"))

	_ = albums.Rollback("1")
	a, _ = albums.Peek("1")
	fmt.Printf("%+v %s\n", a, albums.State("1").Name())
	printChanges(albums.ChangedAttributes("1"))
	// Output:
	// {ID:1 Title:Hospice (Deluxe) SongCount:12} <nil> root.loaded.updated.uncommitted
	//   songCount: 10 -> 12
	//   title: Hospice -> Hospice (Deluxe)
	//   title: Hospice -> Hospice (Deluxe)
	// {ID:1 Title:Hospice SongCount:10} root.loaded.saved
	//   no changes
}

// A save the backend refuses as invalid (a 422) keeps the changes, and
// State.Errors holds the backend's messages by attribute name. Fixing the
// attribute clears its errors; the next Save succeeds.
func ExampleState() {
	type Album struct {
		ID    string `jsonapi:"primary,album"`
		Title string `jsonapi:"attr,title"`
	}
	backend := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "Hospice"}}}`)
	backend.OnSave = func(op string, req *recstore.Request, res map[string]any) error {
		if res["attributes"].(map[string]any)["title"] == "" {
			return recstoretest.Invalid("/data/attributes/title", "can't be blank")
		}
		return nil
	}
	store := recstore.New(&recstore.Options{Adapter: backend})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)
	ctx := context.Background()
	if _, err := albums.Find(ctx, "1", &recstore.FindOptions{BackgroundReload: recstore.ReloadNever}); err != nil {
		fmt.Println(err)
		return
	}

	_, _ = albums.Edit("1", func(a *Album) { a.Title = "" })
	_, err := albums.Save(ctx, "1")
	st := albums.State("1")
	fmt.Println(err)
	fmt.Println(st.Name(), st.IsValid(), st.Errors)

	_, _ = albums.Edit("1", func(a *Album) { a.Title = "Hospice (Deluxe)" })
	st = albums.State("1")
	fmt.Println(st.Name(), st.IsValid())

	a, err := albums.Save(ctx, "1")
	fmt.Printf("%+v %v %s\n", a, err, albums.State("1").Name())
	// Output:
	// recstore: UpdateRecord album:1: backend returned 422: can't be blank
	// root.loaded.updated.invalid false map[title:[can't be blank]]
	// root.loaded.updated.uncommitted true
	// {ID:1 Title:Hospice (Deluxe)} <nil> root.loaded.saved
}

// SetAttr changes an attribute named at run time, as a form handler
// that gets field names from a request would; the value is converted to
// the attribute's Go type.
func ExampleStore_SetAttr() {
	type Album struct {
		ID        string `jsonapi:"primary,album"`
		Title     string `jsonapi:"attr,title"`
		SongCount int    `jsonapi:"attr,songCount"`
	}
	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, nil)
	_, err := store.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "Hospice", "songCount": 10}}}`)
	if err != nil {
		fmt.Println(err)
		return
	}

	k := recstore.Key{Type: "album", ID: "1"}
	form := map[string]any{"title": "Hospice (Deluxe)", "songCount": int64(12)}
	for _, name := range slices.Sorted(maps.Keys(form)) {
		if err := store.SetAttr(k, name, form[name]); err != nil {
			fmt.Println(err)
		}
	}
	err = store.SetAttr(k, "label", "Jagjaguwar")
	fmt.Println(errors.Is(err, recstore.ErrUnknownAttribute))
	var ae *recstore.AttributeError
	err = store.SetAttr(k, "songCount", "twelve")
	fmt.Println(errors.As(err, &ae) && errors.Is(err, recstore.ErrInvalidAttribute), ae.Attr, ae.GoType)

	a, _ := albums.Peek("1")
	fmt.Printf("%+v %s\n", a, store.State(k).Name())
	printChanges(store.ChangedAttributes(k))
	// Output:
	// true
	// true songCount int
	// {ID:1 Title:Hospice (Deluxe) SongCount:12} root.loaded.updated.uncommitted
	//   songCount: 10 -> 12
	//   title: Hospice -> Hospice (Deluxe)
}
